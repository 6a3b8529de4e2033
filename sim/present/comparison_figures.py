"""Figures of a scenario comparison: survival curves overlaid, and the forest plot of paired
differences."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..domain import GRADES

if TYPE_CHECKING:
    from ..results import Results
from .style import (
    BY_LABELS,
    GRADE_COLOURS,
    GRADE_NAMES,
    draw_km,
    eighteen_months_line,
    format_days_axis,
    targets_by_grade,
)

SCENARIO_STYLES = ("-", "--", ":", "-.")


def survival_comparison(results_by_scenario: dict[str, "Results"], by: str = "true_risk") -> Figure:
    """One panel per grade: the Kaplan-Meier time-to-arrest curve of every scenario overlaid
    (the first is the baseline, solid black), with the grade's target and the 18-month line."""
    if by not in BY_LABELS:
        raise ValueError(f"by={by!r}: use one of {', '.join(BY_LABELS)}")
    fig, axes = plt.subplots(1, len(GRADES), figsize=(5.2 * len(GRADES), 4.8), sharey=True, layout="constrained")
    names = list(results_by_scenario)
    palette = plt.get_cmap("tab10")
    for ax, g in zip(axes, GRADES):
        for k, name in enumerate(names):
            res = results_by_scenario[name]
            sub = res.referrals[res.referrals[by] == g]
            colour = "black" if k == 0 else palette((k - 1) % 10)
            draw_km(ax, sub, colour, name, band=False, ls=SCENARIO_STYLES[k % len(SCENARIO_STYLES)], gid=f"km_{name}")
        first = results_by_scenario[names[0]]
        ax.axvline(targets_by_grade(first)[g], color=GRADE_COLOURS[g], ls="--", lw=1.2)
        eighteen_months_line(ax)
        format_days_axis(ax, first.referrals)
        ax.set_title(f"{g} ({GRADE_NAMES[g]}) by {BY_LABELS[by]}, target {targets_by_grade(first)[g]:g} d")
        if ax is not axes[0]:
            ax.set_ylabel("")
    axes[0].legend(loc="lower left", fontsize=8, framealpha=0.9)
    fig.suptitle("Time to arrest: scenarios against the baseline (same referrals in every scenario)")
    return fig


def forest_plot(table: pd.DataFrame, force: str) -> Figure:
    """Paired differences from the baseline with their confidence intervals, one panel per
    metric (rows of ``sim.results.comparison.headline_differences`` for ``force``, the region's total label),
    one line per scenario. Left of zero is shorter / fewer, except for utilisation, where it
    is less used."""
    from ..results.comparison import headline_differences

    h = headline_differences(table, force)
    keys = list(dict.fromkeys(zip(h["metric"], h["by"], h["grade"])))
    scenarios = list(dict.fromkeys(h["scenario"]))
    fig, axes = plt.subplots(len(keys), 1, figsize=(9, 0.55 * len(keys) * max(1, len(scenarios)) + 1.5),
                             layout="constrained", squeeze=False)
    palette = plt.get_cmap("tab10")
    for ax, key in zip(axes[:, 0], keys):
        rows = h[(h["metric"] == key[0]) & (h["by"] == key[1]) & (h["grade"] == key[2])]
        for k, name in enumerate(scenarios):
            r = rows[rows["scenario"] == name]
            if r.empty or not np.isfinite(r["difference"].iloc[0]):
                continue
            d, lo, hi = r[["difference", "ci_low", "ci_high"]].iloc[0]
            err = [[d - lo], [hi - d]] if np.isfinite(lo) else None
            ax.errorbar([d], [k], xerr=err, fmt="o", color=palette(k % 10), capsize=3, label=name)
        ax.axvline(0, color="black", lw=1)
        ax.set_yticks([])
        where = " ".join(w for w in (key[1].replace("_", " "), key[2]) if w not in ("all", "pool"))
        label = key[0].replace("_", " ") + (f" ({where})" if where else "")
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
        ax.set_ylim(-0.8, len(scenarios) - 0.2)
        ax.grid(True, axis="x", alpha=0.3)
    axes[0, 0].legend(loc="upper right", fontsize=8, ncols=min(4, len(scenarios)))
    axes[0, 0].set_title("Difference from the baseline (scenario - baseline), paired 95 % CIs")
    return fig
