"""A headline table's cell as text: a value rounded for its column, with its 95 % interval in
brackets, or a dash where the value does not exist. The console and the reports write the
headline sheets (``sim.results.headline``) through these, so both show the same figures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..results.headline import MEASURES


def cell_text(row: pd.Series, heading: str) -> str:
    """One value with its interval, unit-free (the header names it); a dash where it does not exist."""
    value = row[heading]
    if pd.isna(value):
        return "—"
    measure = next((m for m in MEASURES if m.heading == heading), None)
    if measure is None or measure.interval is None:
        return number_text(value, heading)
    low, high = (row[h] for h in measure.interval_headings())
    if pd.isna(low) or pd.isna(high):
        return number_text(value, heading)
    return f"{number_text(value, heading)} ({number_text(low, heading)}–{number_text(high, heading)})"


def number_text(value: float, heading: str) -> str:
    """``value`` rounded for the column ``heading``: counts and targets whole, percentages
    whole, days to 1 decimal below 100 and whole from there."""
    if heading == "Target (days)" or heading.startswith("Cases"):
        return f"{value:,.0f}"
    if "%" in heading:
        return f"{value:.0f}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}" if np.isfinite(value) else "—"
