"""The nation's headline table (``sim.results.national.national_table``) as text a planner
reads: one row per area and grade, each value rounded with its 95 % interval in brackets, or
a dash where it does not exist. The console and the run's report show it through this, so
both show the same figures.

>>> import pandas as pd, numpy as np
>>> row = {"level": "nation", "area": "nation", "grade": "H", "target_days": 7.0, "referrals": 9559.5,
...        "median_days": 15.08, "median_days_low": 14.2, "median_days_high": 15.96,
...        "p90_days": 41.6, "p90_days_low": 38.8, "p90_days_high": 44.5,
...        "share_within_target": 0.0055, "share_within_target_low": 0.0006, "share_within_target_high": 0.0103,
...        "past_18_months_per_year": 0.0, "past_18_months_per_year_low": 0.0, "past_18_months_per_year_high": 0.0,
...        "share_past_18_months": np.nan, "share_past_18_months_low": np.nan, "share_past_18_months_high": np.nan,
...        "replications": 2, "note": ""}
>>> cells = national_cells(pd.DataFrame([row])).iloc[0]
>>> cells[["Area", "Grade", "Target (days)", "Referrals", "Median days"]].tolist()
['England and Wales', 'H', '7', '9,560', '15.1 (14.2–16.0)']
>>> cells[["Within target (%)", "Past 18 months a year", "Past 18 months (%)"]].tolist()
['0.5 (0.1–1.0)', '0 (0–0)', '—']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .region_grid import read_region_grid

NATION_WORDS = "England and Wales"
"""What the nation's rows are called."""
HEADINGS: dict[str, str] = {
    "area": "Area", "grade": "Grade", "target_days": "Target (days)", "referrals": "Referrals",
    "median_days": "Median days", "p90_days": "90th percentile (days)", "share_within_target": "Within target (%)",
    "past_18_months_per_year": "Past 18 months a year", "share_past_18_months": "Past 18 months (%)",
}
"""The columns shown, in order, and their headings."""
SHORT_HEADINGS: dict[str, str] = {
    "Area": "area", "Grade": "grade", "Target (days)": "target", "Referrals": "referrals",
    "Median days": "median days", "90th percentile (days)": "90th pct days", "Within target (%)": "in target %",
    "Past 18 months a year": "past 18 mo/yr", "Past 18 months (%)": "past 18 mo %",
}
"""The headings as the console prints them, narrower."""


def region_words(region: str) -> str:
    """A region as written: its name in ``sim/data/region_grid.csv`` (``North East``), or
    for a region of the user's own its key with spaces."""
    block = read_region_grid().get(region)
    return block.name if block is not None else region.replace("_", " ")


def area_words(row: pd.Series) -> str:
    """An area as written: the nation, or a region's name."""
    return NATION_WORDS if row["level"] == "nation" else region_words(str(row["area"]))


def national_cells(table: pd.DataFrame) -> pd.DataFrame:
    """``table``'s rows as text under ``HEADINGS``: days to 1 decimal below 100, shares as
    percentages to 1 decimal, counts whole, intervals in brackets, dashes where missing."""
    out = {HEADINGS["area"]: [area_words(row) for _, row in table.iterrows()],
           HEADINGS["grade"]: ["All" if grade == "all" else str(grade) for grade in table["grade"]]}
    for column, heading in list(HEADINGS.items())[2:]:
        factor = 100.0 if column.startswith("share") else 1.0
        digits = 0 if column in ("target_days", "referrals", "past_18_months_per_year") else 1
        texts = []
        for _, row in table.iterrows():
            value = row[column] * factor
            text = _number(value, digits)
            if f"{column}_low" in row.index and np.isfinite(value):
                low, high = row[f"{column}_low"] * factor, row[f"{column}_high"] * factor
                if np.isfinite(low) and np.isfinite(high):
                    text += f" ({_number(low, digits)}–{_number(high, digits)})"
            texts.append(text)
        out[heading] = texts
    return pd.DataFrame(out)


def _number(value: float, digits: int) -> str:
    if not np.isfinite(value):
        return "—"
    if digits == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"
