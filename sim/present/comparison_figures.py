"""Figures of a scenario comparison: survival curves overlaid, and the forest plot of paired
differences."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..domain import GRADES
from ..results import Results
from ..results.catalogue import KEY_COLUMNS
from ..results.comparison import headline_differences
from .style import (
    BY_LABELS,
    GRADE_COLOURS,
    GRADE_NAMES,
    draw_km,
    eighteen_months_line,
    format_days_axis,
    metric_label,
    rows_of_key,
    targets_by_grade,
)

SCENARIO_STYLES = ("-", "--", ":", "-.")


def survival_comparison(results_by_scenario: dict[str, Results], by: str = "true_risk") -> Figure:
    """One panel per grade: the Kaplan-Meier time-to-arrest curve of every scenario overlaid
    (the first is the baseline, solid black), with the grade's target and the 18-month line."""
    if by not in BY_LABELS:
        raise ValueError(f"by={by!r}: use one of {', '.join(BY_LABELS)}")
    fig, axes = plt.subplots(1, len(GRADES), figsize=(5.2 * len(GRADES), 4.8), sharey=True, layout="constrained")
    names = list(results_by_scenario)
    palette = plt.get_cmap("tab10")
    baseline = results_by_scenario[names[0]]
    targets = targets_by_grade(baseline)
    for ax, grade in zip(axes, GRADES):
        for k, name in enumerate(names):
            referrals = results_by_scenario[name].referrals
            colour = "black" if k == 0 else palette((k - 1) % 10)
            draw_km(ax, referrals[referrals[by] == grade], colour, name, band=False,
                    ls=SCENARIO_STYLES[k % len(SCENARIO_STYLES)], gid=f"km_{name}")
        ax.axvline(targets[grade], color=GRADE_COLOURS[grade], ls="--", lw=1.2)
        eighteen_months_line(ax)
        format_days_axis(ax, baseline.referrals)
        ax.set_title(f"{grade} ({GRADE_NAMES[grade]}) by {BY_LABELS[by]}, target {targets[grade]:g} d")
        if ax is not axes[0]:
            ax.set_ylabel("")
    axes[0].legend(loc="lower left", fontsize=8, framealpha=0.9)
    fig.suptitle("Time to arrest: scenarios against the baseline (same referrals in every scenario)")
    return fig


def forest_plot(table: pd.DataFrame, force: str) -> Figure:
    """Paired differences from the baseline with their confidence intervals, one panel per
    metric (rows of ``sim.results.comparison.headline_differences`` for ``force``, the
    region's total label), one line per scenario. Left of zero is shorter / fewer, except for
    utilisation, where it is less used."""
    headline = headline_differences(table, force)
    keys = list(dict.fromkeys(headline[KEY_COLUMNS[1:]].itertuples(index=False, name=None)))
    scenarios = list(dict.fromkeys(headline["scenario"]))
    fig, axes = plt.subplots(len(keys), 1, figsize=(9, 0.55 * len(keys) * max(1, len(scenarios)) + 1.5),
                             layout="constrained", squeeze=False)
    palette = plt.get_cmap("tab10")
    for ax, key in zip(axes[:, 0], keys):
        rows = rows_of_key(headline, key)
        for k, name in enumerate(scenarios):
            row = rows[rows["scenario"] == name]
            if row.empty or not np.isfinite(row["difference"].iloc[0]):
                continue
            difference, low, high = row[["difference", "ci_low", "ci_high"]].iloc[0]
            whiskers = [[difference - low], [high - difference]] if np.isfinite(low) else None
            ax.errorbar([difference], [k], xerr=whiskers, fmt="o", color=palette(k % 10), capsize=3, label=name)
        ax.axvline(0, color="black", lw=1)
        ax.set_yticks([])
        ax.set_ylabel(metric_label(*key), rotation=0, ha="right", va="center", fontsize=8)
        ax.set_ylim(-0.8, len(scenarios) - 0.2)
        ax.grid(True, axis="x", alpha=0.3)
    axes[0, 0].legend(loc="upper right", fontsize=8, ncols=min(4, len(scenarios)))
    axes[0, 0].set_title("Difference from the baseline (scenario - baseline), paired 95 % CIs")
    return fig
