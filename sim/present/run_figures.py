"""Figures for planners: how long referrals wait for an arrest, where the work piles up and
where the time goes.

Every function takes a :class:`sim.results.Results`, draws with matplotlib's object API and
returns the :class:`~matplotlib.figure.Figure` (it never calls ``plt.show()``), so the same
code serves notebooks, the report and headless runs. Nothing here computes a metric of its
own: survival curves come from :func:`sim.results.kaplan_meier`, stage times from
:meth:`Results.summary`, work in progress from ``Results.timeseries``.

>>> import sim, sim.plots
>>> res = sim.simulate(sim.load_config(["run.replications=2"]))
>>> fig = sim.plots.survival_figure(res)
>>> sim.plots.save_all(res, "figures")
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..domain import GRADES

if TYPE_CHECKING:
    from ..results import Results
from .style import (
    BY_LABELS,
    DPI,
    GRADE_COLOURS,
    GRADE_NAMES,
    MISGRADED_COLOUR,
    STAGE_LABELS,
    UNGRADED_COLOUR,
    draw_km,
    eighteen_months_line,
    format_days_axis,
    new_axes,
    stage_order,
    targets_by_grade,
)


def survival_by_grade(results: "Results", by: str = "true_risk", ax: Axes | None = None) -> Figure:
    """Kaplan-Meier curves of the time to arrest, one per grade: the share of referrals still
    without an arrest (y) against the days since the referral reached the force (x, log scale),
    pooled over replications, warm-up excluded. Cases not arrested by the end of the run are
    counted as still waiting up to the end of their follow-up (right-censored), not dropped.

    ``by`` is ``"true_risk"`` (what the case really is) or ``"assigned_grade"`` (what the
    assessment said; cases not yet graded at the end are left out). Each grade's target is a
    dashed line in its colour; the black line marks 18 months, the worst waits HMICFRS found.
    Draws into ``ax`` if given and returns its figure.
    """
    if by not in BY_LABELS:
        raise ValueError(f"by={by!r}: use one of {', '.join(BY_LABELS)}")
    fig, ax = new_axes(ax)
    m = results.referrals
    targets = targets_by_grade(results)
    for g in GRADES:
        sub = m[m[by] == g]
        label = f"{g} ({GRADE_NAMES[g]}), n={len(sub)}, target {targets[g]:g} d"
        draw_km(ax, sub, GRADE_COLOURS[g], label, gid=f"km_{g}")
        ax.axvline(targets[g], color=GRADE_COLOURS[g], ls="--", lw=1.2, gid=f"target_{g}")
    eighteen_months_line(ax)
    format_days_axis(ax, m)
    ax.set_title(f"Referrals still waiting for an arrest, by {BY_LABELS[by]}")
    ax.legend(loc="lower left", fontsize=8, framealpha=0.9)
    return fig


def survival_misgraded(results: "Results", ax: Axes | None = None) -> Figure:
    """Truly very-high and high-risk referrals: those the assessment graded correctly against
    those it misgraded (the same selection as the summary's ``misgraded_high_risk`` rows).
    The gap between the curves is the delay misgrading costs."""
    fig, ax = new_axes(ax)
    m = results.referrals
    high = m[m["true_risk"].isin(["VH", "H"]) & m["assigned_grade"].notna()]
    right, wrong = high[~high["misgraded"]], high[high["misgraded"]]
    draw_km(ax, right, GRADE_COLOURS["H"], f"graded correctly, n={len(right)}", gid="km_correct")
    draw_km(ax, wrong, MISGRADED_COLOUR, f"misgraded (graded lower), n={len(wrong)}", gid="km_misgraded")
    targets = targets_by_grade(results)
    for g in ("VH", "H"):
        ax.axvline(targets[g], color=GRADE_COLOURS[g], ls="--", lw=1.2, gid=f"target_{g}")
    eighteen_months_line(ax)
    format_days_axis(ax, m)
    ax.set_title("Truly very-high/high-risk referrals: graded right vs misgraded")
    ax.legend(loc="lower left", fontsize=8, framealpha=0.9)
    return fig


def survival_figure(results: "Results") -> Figure:
    """Three panels of time to arrest: by true risk, by assigned grade, and truly high-risk
    referrals graded correctly against misgraded. Misgrading shows as the difference between
    the first two panels and as the gap in the third."""
    fig, axes = plt.subplots(1, 3, figsize=(19, 6), sharey=True, layout="constrained")
    survival_by_grade(results, "true_risk", ax=axes[0])
    survival_by_grade(results, "assigned_grade", ax=axes[1])
    survival_misgraded(results, ax=axes[2])
    for ax in axes[1:]:
        ax.set_ylabel("")
    cfg = results.config
    fig.suptitle(f"How long referrals wait for an arrest ({cfg.force}, {cfg.run.replications} replications "
                 f"pooled, shaded: 95 % band; dashed: target per grade)", fontsize=12)
    return fig


# --------------------------------------------------------------------------- work in progress


def _mean_wip(ts: pd.DataFrame, by: str) -> pd.DataFrame:
    """Mean over replications of the daily work in progress in ``ts`` (rows of
    ``Results.timeseries``); columns are the values of ``by`` (``name`` = stage or
    ``grade``), summed over the other."""
    w = ts[ts["series"] == "wip"]
    per_rep = w.groupby(["replication", "day", by], observed=True)["value"].sum()
    return per_rep.groupby(["day", by], observed=True).mean().unstack(by).fillna(0.0)


def _stage_colours(stages: list[str]) -> dict[str, tuple]:
    cmap = plt.get_cmap("viridis")
    return {s: cmap(v) for s, v in zip(stages, np.linspace(0.05, 0.95, len(stages)))}


def _warmup_shade(ax: Axes, results: "Results") -> None:
    w = results.config.run.warmup_days
    if w > 0:
        ax.axvspan(ax.get_xlim()[0], w, color="grey", alpha=0.12, lw=0)
        ax.text(w, ax.get_ylim()[1], " warm-up ends", va="top", fontsize=8, color="dimgrey")
        ax.axvline(w, color="grey", lw=1)


def wip_over_time(results: "Results", queue_stages: tuple[str, ...] = ("allocation", "planning")) -> Figure:
    """Referrals in the system over the run, mean over replications: stacked by stage (top),
    and the referrals waiting for or in ``queue_stages`` (default: waiting for an investigator
    and enforcement planning) stacked by assigned grade (bottom)."""
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 8.5), sharex=True, layout="constrained")
    stages = stage_order(results)
    by_stage = _mean_wip(results.timeseries, "name")
    stages = [s for s in stages if s in by_stage.columns]
    colours = _stage_colours(stages)
    days = by_stage.index.to_numpy(dtype=float)
    if len(days):
        ax1.stackplot(days, *[by_stage[s].to_numpy() for s in stages], colors=[colours[s] for s in stages],
                      labels=[STAGE_LABELS.get(s, s) for s in stages], alpha=0.9)
    handles, labels = ax1.get_legend_handles_labels()
    ax1.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8,
               title="stage (top of stack = last stage)", title_fontsize=8)
    ax1.set_ylabel("referrals open (mean over replications)")
    ax1.set_title("Referrals open in the force, by stage")
    ax1.grid(True, alpha=0.3)

    ts = results.timeseries
    by_grade = _mean_wip(ts[ts["name"].isin(queue_stages)], "grade")
    grades = [g for g in (*GRADES, "ungraded") if g in by_grade.columns and by_grade[g].any()]
    if len(by_grade):
        ax2.stackplot(by_grade.index.to_numpy(dtype=float), *[by_grade[g].to_numpy() for g in grades],
                      colors=[GRADE_COLOURS.get(g, UNGRADED_COLOUR) for g in grades],
                      labels=[f"{g} ({GRADE_NAMES[g]})" if g in GRADE_NAMES else g for g in grades], alpha=0.9)
    handles, labels = ax2.get_legend_handles_labels()
    ax2.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8,
               title="assigned grade", title_fontsize=8)
    names = " + ".join(STAGE_LABELS.get(s, s) for s in queue_stages)
    ax2.set_title(f"Of which {names}, by assigned grade")
    ax2.set_ylabel("referrals (mean over replications)")
    ax2.set_xlabel("simulated day (day 0 = start of the run, backlog already in place)")
    ax2.grid(True, alpha=0.3)
    for ax in (ax1, ax2):
        ax.set_xlim(days.min() if len(days) else 0, days.max() if len(days) else 1)
        ax.set_ylim(bottom=0)
        _warmup_shade(ax, results)
    cfg = results.config
    fig.suptitle(f"Work in progress over time ({cfg.force}, mean of {cfg.run.replications} replications)",
                 fontsize=12)
    return fig


# --------------------------------------------------------------------------- where the time goes


def where_the_time_goes(results: "Results") -> Figure:
    """Stacked horizontal bars, one per assigned grade: the mean days a referral of that grade
    spends in each stage (queueing and being worked), from ``Results.summary()`` rows
    ``mean_time_days_{stage}``. Each stage's mean is over the referrals that entered it (one
    still there at the end counts its time so far), so the bar is the typical journey of a
    referral that goes all the way, not the mean time to arrest. The grade's target
    is the black tick on its bar."""
    s = results.summary()
    s = s[s["force"] == results.config.total_name]
    rows = s[s["metric"].str.startswith("mean_time_days_") & (s["by"] == "assigned_grade")]
    stages = list(dict.fromkeys(rows["metric"].str.removeprefix("mean_time_days_")))
    table = (rows.assign(stage=rows["metric"].str.removeprefix("mean_time_days_"))
             .pivot(index="grade", columns="stage", values="estimate")
             .reindex(index=list(GRADES), columns=stages))
    table = table.fillna(0.0)
    colours = _stage_colours(stages)
    targets = targets_by_grade(results)
    fig, ax = plt.subplots(figsize=(11, 5), layout="constrained")
    y = np.arange(len(GRADES))[::-1]  # VH on top
    left = np.zeros(len(GRADES))
    for st in stages:
        v = table[st].to_numpy(dtype=float)
        ax.barh(y, v, left=left, color=colours[st], label=STAGE_LABELS.get(st, st), height=0.6,
                edgecolor="white", lw=0.5)
        left += v
    for k, g in enumerate(GRADES):
        ax.plot([targets[g]] * 2, [y[k] - 0.38, y[k] + 0.38], color="black", lw=2.5,
                label="target" if k == 0 else None, gid=f"target_{g}")
        ax.text(left[k], y[k], f"  {left[k]:.0f} d", va="center", fontsize=9)
    ax.set_yticks(y, [f"{g} ({GRADE_NAMES[g]})\ntarget {targets[g]:g} d" for g in GRADES])
    for tick, g in zip(ax.get_yticklabels(), GRADES):
        tick.set_color(GRADE_COLOURS[g])
        tick.set_fontweight("bold")
    ax.set_xlim(0, max(float(left.max()), max(targets.values())) * 1.12 + 1)
    ax.set_xlabel("mean days in each stage, waiting and being worked (days)")
    ax.set_ylabel("assigned grade")
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, title="stage", title_fontsize=8)
    cfg = results.config
    ax.set_title(f"Where the time goes: mean days per stage by assigned grade ({cfg.force}, "
                 f"{cfg.run.replications} replications)")
    fig.get_layout_engine().set(rect=(0, 0.06, 1, 0.94))
    fig.text(0.01, 0.01, "Each stage is averaged over the referrals of that grade that entered it; one still in a "
             "stage when the run ends counts its time there so far,\nso where a queue is growing the bar is a "
             "lower bound.", fontsize=8, color="dimgrey", ha="left", va="bottom")
    return fig


# --------------------------------------------------------------------------- all at once


def save_all(results: "Results", folder: str | Path) -> list[Path]:
    """Write ``survival.png``, ``wip.png`` and ``where_the_time_goes.png`` into ``folder``
    (created if missing), close the figures and return the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, make in (("survival.png", survival_figure), ("wip.png", wip_over_time),
                       ("where_the_time_goes.png", where_the_time_goes)):
        fig = make(results)
        try:
            path = folder / name
            fig.savefig(path, dpi=DPI)
            paths.append(path)
        finally:
            plt.close(fig)
    return paths
