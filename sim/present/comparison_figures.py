"""Figures of a scenario comparison: survival curves overlaid, and the forest plot of paired
differences. Both colour each scenario alike (``style.scenario_colours``, in the
comparison's order); the baseline is always the same dark grey."""

from __future__ import annotations

import math
from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..domain import GRADES
from ..results import Results
from ..results.catalogue import HEADLINE, HIGHER, KEY_COLUMNS, LOWER, metric
from ..results.comparison import headline_differences
from .style import (
    BASELINE_LINE,
    BY_LABELS,
    GRADE_NAMES,
    LEGEND_FONT_SIZE,
    SCENARIO_LINE,
    TARGET_LINE,
    difference_unit,
    display_unit,
    draw_km,
    eighteen_months_line,
    format_days_axis,
    metric_title,
    rows_of_key,
    scenario_colours,
    target_line,
    targets_by_grade,
)

FOREST_COLUMNS = 4
"""Panels a row of the forest plot: the headline's metrics come in fours (a quantity for each
grade), so each row reads VH to L."""
BETTER_COLOUR = "#2e7d32"


def survival_comparison(results_by_scenario: dict[str, Results], by: str = "true_risk",
                        colours: Mapping[str, str] | None = None) -> Figure:
    """One panel per grade: the Kaplan-Meier time-to-arrest curve of every scenario overlaid
    (the first is the baseline: solid dark grey, wider, beneath the others), with the
    grade's target (dotted, in its colour) and the 18-month line (dashed red). One legend
    for the figure, under the panels. ``colours`` (scenario -> colour) overrides
    ``scenario_colours`` in the order given, e.g. to match a figure of a larger comparison."""
    if by not in BY_LABELS:
        raise ValueError(f"by={by!r}: use one of {', '.join(BY_LABELS)}")
    fig, axes = plt.subplots(1, len(GRADES), figsize=(5.2 * len(GRADES), 5.6), sharey=True, layout="constrained")
    names = list(results_by_scenario)
    colours = {**scenario_colours(names[1:], baseline=names[0]), **(colours or {})}
    baseline = results_by_scenario[names[0]]
    targets = targets_by_grade(baseline)
    for ax, grade in zip(axes, GRADES):
        for k, name in enumerate(names):
            referrals = results_by_scenario[name].referrals
            style = dict(BASELINE_LINE) if k == 0 else {**SCENARIO_LINE, "color": colours[name]}
            draw_km(ax, referrals[referrals[by] == grade], style.pop("color"), name, band=False, gid=f"km_{name}",
                    **style)
        target_line(ax, targets[grade], grade)
        eighteen_months_line(ax)
        format_days_axis(ax, baseline.referrals)
        ax.set_title(f"{grade} ({GRADE_NAMES[grade]}) by {BY_LABELS[by]}, target {targets[grade]:g} d")
        if ax is not axes[0]:
            ax.set_ylabel("")
    handles = [Line2D([], [], label=name if k or "baseline" in name else f"{name} (baseline)",
                      **(BASELINE_LINE if k == 0 else {**SCENARIO_LINE, "color": colours[name]}))
               for k, name in enumerate(names)]
    handles += [Line2D([], [], color="dimgrey", label="the panel's target (dotted, in the grade's colour)",
                       **TARGET_LINE),
                axes[0].get_legend_handles_labels()[0][-1]]  # the 18-month line
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4), fontsize=LEGEND_FONT_SIZE + 1,
               frameon=False)
    fig.suptitle("Time to arrest: scenarios against the baseline (same referrals in every scenario)", fontsize=13)
    return fig


def forest_plot(table: pd.DataFrame, force: str, colours: Mapping[str, str] | None = None) -> Figure:
    """Paired differences from the baseline (scenario − baseline) with their 95 % intervals,
    as one compact small multiple: a panel per headline metric
    (``sim.results.catalogue.HEADLINE``, rows of ``headline_differences`` for ``force``, the
    region's total label), a row per scenario, each panel on its own scale.

    Each panel is titled with the metric in words, its unit (shares as %, their differences
    in percentage points) and the baseline's value; the side of zero that is better is
    shaded green and named under the axis (none for a utilisation, where neither is). A
    filled marker is a difference whose interval excludes zero, a hollow one is not.
    ``colours`` (scenario -> colour) overrides ``scenario_colours`` in the table's order,
    e.g. for a part of a comparison drawn in the whole comparison's colours."""
    headline = headline_differences(table, force)
    present = set(headline[KEY_COLUMNS[1:]].itertuples(index=False, name=None))
    keys = [key for key in HEADLINE if key in present]
    # The comparison's own order, as survival_comparison and the report list the scenarios.
    scenarios = list(dict.fromkeys(table.loc[table["force"] == force, "scenario"]))
    colours = {**scenario_colours(scenarios), **(colours or {})}
    n_cols = max(1, min(FOREST_COLUMNS, len(keys)))
    n_rows = max(1, math.ceil(len(keys) / n_cols))
    panel_height = 0.8 + 0.19 * max(1, len(scenarios))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(3.4 * n_cols + 1.6, panel_height * n_rows + 0.8),
                             sharey=True, layout="constrained", squeeze=False)
    y = -np.arange(len(scenarios), dtype=float)  # the first scenario on top
    for ax, key in zip(axes.flat, keys):
        _forest_panel(ax, rows_of_key(headline, key), key, scenarios, colours, y)
    spare = list(axes.flat[len(keys):])
    for ax in spare:
        ax.set_axis_off()
    for ax in axes[:, 0]:
        ax.set_yticks(y, scenarios, fontsize=8)
        for label, name in zip(ax.get_yticklabels(), scenarios):
            label.set_color(colours[name])
    ax0 = axes.flat[0]
    ax0.set_ylim(y.min() - 0.7, 0.7)
    key_handles = [Line2D([], [], ls="", marker="o", color="dimgrey", label="interval excludes zero"),
                   Line2D([], [], ls="", marker="o", color="dimgrey", markerfacecolor="white",
                          label="interval includes zero"),
                   plt.Rectangle((0, 0), 1, 1, color=BETTER_COLOUR, alpha=0.12, label="the better side of zero")]
    if spare:  # an empty panel's place holds the key, away from every point
        spare[0].legend(handles=key_handles, loc="center", fontsize=LEGEND_FONT_SIZE, frameon=False,
                        title="how to read", title_fontsize=LEGEND_FONT_SIZE)
    else:
        fig.legend(handles=key_handles, loc="outside lower center", ncols=3, fontsize=LEGEND_FONT_SIZE,
                   frameon=False)
    fig.suptitle(f"Difference from the baseline (scenario − baseline), paired 95 % intervals — {force}",
                 fontsize=12)
    return fig


def _forest_panel(ax: Axes, rows: pd.DataFrame, key: tuple[str, str, str], scenarios: list[str],
                  colours: dict[str, str], y: np.ndarray) -> None:
    """One metric's panel: a point and interval per scenario, zero, the better side."""
    entry = metric(key[0])
    factor, unit = display_unit(entry.unit)
    reach = [0.0]
    baseline_value = np.nan
    for position, name in zip(y, scenarios):
        row = rows[rows["scenario"] == name]
        if row.empty or not np.isfinite(row["difference"].iloc[0]):
            continue
        difference, low, high, base = (row[["difference", "ci_low", "ci_high", "baseline"]].iloc[0] * factor)
        baseline_value = base if np.isfinite(base) else baseline_value
        interval = np.isfinite(low) and np.isfinite(high)
        clear = interval and (low > 0 or high < 0)
        whiskers = [[difference - low], [high - difference]] if interval else None
        drawn = ax.errorbar([difference], [position], xerr=whiskers, fmt="o", color=colours[name], capsize=2.5, ms=5,
                            mfc=colours[name] if clear else "white", mew=1.5, lw=1.5)
        drawn.lines[0].set_gid(f"difference_{name}")  # the point itself, not its caps
        reach += [abs(v) for v in (difference, low, high) if np.isfinite(v)]
    if len(reach) == 1:
        ax.text(0.5, 0.5, "no value in any scenario", transform=ax.transAxes, ha="center", va="center", fontsize=8,
                color="dimgrey")
    span = max(reach) * 1.12 or 1.0
    ax.set_xlim(-span, span)
    ax.axvline(0, color="black", lw=0.9, zorder=1)
    unit_words = difference_unit(entry.unit)
    if entry.better == LOWER:
        ax.axvspan(-span, 0, color=BETTER_COLOUR, alpha=0.12, lw=0, zorder=0, gid="better_lower")
        ax.set_xlabel(f"◀ better (lower)   {unit_words}", fontsize=8, color=BETTER_COLOUR)
    elif entry.better == HIGHER:
        ax.axvspan(0, span, color=BETTER_COLOUR, alpha=0.12, lw=0, zorder=0, gid="better_higher")
        ax.set_xlabel(f"{unit_words}   better (higher) ▶", fontsize=8, color=BETTER_COLOUR)
    else:
        ax.set_xlabel(f"{unit_words} (neither side is better)", fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(True, axis="x", alpha=0.3)
    base_text = _value_text(baseline_value, unit)
    ax.set_title(f"{metric_title(*key)}\nbaseline {base_text}", fontsize=8.5)


def _value_text(value: float, unit: str) -> str:
    """A value in ``unit`` as a planner reads it (already scaled: a share in %)."""
    if not np.isfinite(value):
        return "n/a"
    if unit.startswith("%"):
        return f"{value:.0f} {unit}" if abs(value) >= 10 else f"{value:.1f} {unit}"
    if unit == "days":
        return f"{value:.1f} days" if abs(value) < 100 else f"{value:,.0f} days"
    return f"{value:,.0f}" if abs(value) >= 10 or value == round(value) else f"{value:.1f}"
