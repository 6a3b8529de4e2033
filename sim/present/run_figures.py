"""Figures for planners: how long referrals wait for an arrest, where the work piles up and
where the time goes.

Every function takes a :class:`sim.results.Results`, draws with matplotlib's object API and
returns the :class:`~matplotlib.figure.Figure` (it never calls ``plt.show()``), so the same
code serves notebooks, the report and headless runs. Nothing here computes a metric of its
own: survival curves come from :func:`sim.results.kaplan_meier`, stage times from
:meth:`Results.summary`, work in progress from ``Results.timeseries``.

>>> import sim, sim.plots
>>> res = sim.simulate(sim.load_config(["run.replications=2", "run.horizon_days=200", "run.progress=false"]))
>>> fig = sim.plots.survival_figure(res)
>>> [path.name for path in sim.plots.save_all(res, "figures")]
['survival.png', 'wip.png', 'where_the_time_goes.png']
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..domain import GRADES, STAGES
from ..results import Results
from ..results.catalogue import HIGH_RISK_GRADES, STAGE_TIME
from .style import (
    BY_LABELS,
    DPI,
    GRADE_COLOURS,
    GRADE_NAMES,
    MISGRADED_COLOUR,
    STAGE_LABELS,
    TARGET_LABEL,
    UNGRADED_COLOUR,
    draw_km,
    eighteen_months_line,
    format_days_axis,
    format_months_axis,
    legend_below,
    legend_right,
    new_axes,
    stage_order,
    target_handle,
    target_line,
    targets_by_grade,
)


def _survival_legend(ax: Axes) -> None:
    """The curves, the 18-month line and the targets, under the panel, off the curves."""
    handles, labels = ax.get_legend_handles_labels()
    legend_below(ax, [*handles, target_handle()], [*labels, TARGET_LABEL])


_SURVIVAL_COLUMNS = ["true_risk", "assigned_grade", "misgraded", "followup_days", "censored", "time_to_arrest_days"]
"""The columns of ``Results.referrals`` the survival figures read."""


def _referrals(results: Results) -> pd.DataFrame:
    """``results.referrals`` (cases outside the warm-up, not the initial backlog), only the
    columns the survival figures read: a national run's million rows are not copied whole."""
    cases = results.cases
    chosen = ~cases["in_warmup"].to_numpy(dtype=bool) & ~cases["backlog"].to_numpy(dtype=bool)
    return cases.loc[chosen, _SURVIVAL_COLUMNS]


def survival_by_grade(results: Results, by: str = "true_risk", ax: Axes | None = None) -> Figure:
    """Kaplan-Meier curves of the time to arrest, one per grade: the share of referrals still
    without an arrest (y) against the days since the referral reached the force (x, log scale,
    weeks and months marked), pooled over replications, warm-up excluded. Cases not arrested
    by the end of the run are counted as still waiting up to the end of their follow-up
    (right-censored), not dropped.

    ``by`` is ``"true_risk"`` (what the case really is) or ``"assigned_grade"`` (what the
    assessment said; cases not yet graded at the end are left out). Each grade's target is a
    dotted line in its colour; the dashed red line marks 18 months, the worst waits HMICFRS
    found. The legend sits under the axes, off the curves. Draws into ``ax`` if given and
    returns its figure.
    """
    if by not in BY_LABELS:
        raise ValueError(f"by={by!r}: use one of {', '.join(BY_LABELS)}")
    fig, ax = new_axes(ax, figsize=(8, 6.5))
    referrals = _referrals(results)
    targets = targets_by_grade(results)
    for grade in GRADES:
        of_grade = referrals[referrals[by] == grade]
        label = f"{grade} ({GRADE_NAMES[grade]}), n={len(of_grade):,}, target {targets[grade]:g} d"
        draw_km(ax, of_grade, GRADE_COLOURS[grade], label, gid=f"km_{grade}")
        target_line(ax, targets[grade], grade)
    eighteen_months_line(ax)
    format_days_axis(ax, referrals)
    ax.set_title(f"Referrals still waiting for an arrest, by {BY_LABELS[by]}")
    _survival_legend(ax)
    return fig


def survival_misgraded(results: Results, ax: Axes | None = None) -> Figure:
    """Truly very-high and high-risk referrals: those the assessment graded correctly against
    those it misgraded (the same selection as the summary's ``misgraded_high_risk`` rows).
    The gap between the curves is the delay misgrading costs."""
    fig, ax = new_axes(ax, figsize=(8, 6.5))
    referrals = _referrals(results)
    high = referrals[referrals["true_risk"].isin(list(HIGH_RISK_GRADES)) & referrals["assigned_grade"].notna()]
    right, wrong = high[~high["misgraded"]], high[high["misgraded"]]
    draw_km(ax, right, GRADE_COLOURS["H"], f"graded correctly, n={len(right):,}", gid="km_correct")
    draw_km(ax, wrong, MISGRADED_COLOUR, f"misgraded (graded M or L), n={len(wrong):,}", gid="km_misgraded")
    targets = targets_by_grade(results)
    for grade in HIGH_RISK_GRADES:
        target_line(ax, targets[grade], grade)
    eighteen_months_line(ax)
    format_days_axis(ax, referrals)
    ax.set_title("Truly very-high/high-risk referrals: graded right vs misgraded")
    _survival_legend(ax)
    return fig


def survival_figure(results: Results) -> Figure:
    """Three panels of time to arrest: by true risk, by assigned grade, and truly high-risk
    referrals graded correctly against misgraded. Misgrading shows as the difference between
    the first two panels and as the gap in the third."""
    fig, axes = plt.subplots(1, 3, figsize=(19, 7), sharey=True, layout="constrained")
    survival_by_grade(results, "true_risk", ax=axes[0])
    survival_by_grade(results, "assigned_grade", ax=axes[1])
    survival_misgraded(results, ax=axes[2])
    for ax in axes[1:]:
        ax.set_ylabel("")
    cfg = results.config
    fig.suptitle(f"How long referrals wait for an arrest or voluntary interview ({_forces_named(cfg)}, "
                 f"{cfg.run.replications} replications pooled; shaded: 95 % band; a referral closed without one "
                 f"counts as waiting until it closes)", fontsize=12)
    return fig


# --------------------------------------------------------------------------- work in progress


def _mean_wip(timeseries: pd.DataFrame, by: str) -> pd.DataFrame:
    """Mean over replications of the daily work in progress in ``timeseries`` (rows of
    ``Results.timeseries``); columns are the values of ``by`` (``name`` = stage or
    ``grade``), summed over the other."""
    # only the columns needed, so that a national run's millions of rows are not copied whole
    wip = timeseries.loc[timeseries["series"] == "wip", ["replication", "day", by, "value"]]
    per_rep = wip.groupby(["replication", "day", by], observed=True)["value"].sum()
    return per_rep.groupby(["day", by], observed=True).mean().unstack(by).fillna(0.0)


def _stage_colours(stages: list[str]) -> dict[str, tuple]:
    """Each stage's colour, fixed by its place among all the stages (``sim.domain.STAGES``)
    so that it is the same in every figure; a stage not among them takes the next shades."""
    order = [*STAGES, *(stage for stage in stages if stage not in STAGES)]
    shades = plt.get_cmap("viridis")(np.linspace(0.05, 0.95, len(order)))
    return {stage: tuple(shades[order.index(stage)]) for stage in stages}


def _warmup_shade(ax: Axes, results: Results) -> None:
    warmup_days = results.config.run.warmup_days
    if warmup_days > 0:
        ax.axvspan(ax.get_xlim()[0], warmup_days, color="grey", alpha=0.12, lw=0)
        ax.text(warmup_days, ax.get_ylim()[1], " warm-up ends", va="top", fontsize=8, color="dimgrey")
        ax.axvline(warmup_days, color="grey", lw=1)


def wip_over_time(results: Results, queue_stages: tuple[str, ...] = ("allocation", "planning")) -> Figure:
    """Referrals in the system over the run, mean over replications, on a calendar axis
    (months from the start of the run): stacked by stage (top), and the referrals waiting for
    or in ``queue_stages`` (default: waiting for an investigator and enforcement planning)
    stacked by assigned grade (bottom). Legends sit outside, right of the panels."""
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 8.5), sharex=True, layout="constrained")
    stages = stage_order(results)
    by_stage = _mean_wip(results.timeseries, "name")
    stages = [stage for stage in stages if stage in by_stage.columns]
    colours = _stage_colours(stages)
    days = by_stage.index.to_numpy(dtype=float)
    if len(days):
        ax1.stackplot(days, *[by_stage[stage].to_numpy() for stage in stages],
                      colors=[colours[stage] for stage in stages],
                      labels=[STAGE_LABELS.get(stage, stage) for stage in stages], alpha=0.9)
    handles, labels = ax1.get_legend_handles_labels()
    legend_right(ax1, handles=handles[::-1], labels=labels[::-1], title="stage (top of stack = last stage)",
                 title_fontsize=8)
    ax1.set_ylabel("referrals open (mean over replications)")
    ax1.set_title("Referrals open in the force, by stage")

    timeseries = results.timeseries
    queues = timeseries.loc[timeseries["name"].isin(queue_stages), ["replication", "day", "series", "grade", "value"]]
    by_grade = _mean_wip(queues, "grade")
    grades = [grade for grade in (*GRADES, "ungraded") if grade in by_grade.columns and by_grade[grade].any()]
    if len(by_grade):
        ax2.stackplot(by_grade.index.to_numpy(dtype=float), *[by_grade[grade].to_numpy() for grade in grades],
                      colors=[GRADE_COLOURS.get(grade, UNGRADED_COLOUR) for grade in grades],
                      labels=[f"{grade} ({GRADE_NAMES[grade]})" if grade in GRADE_NAMES else grade
                              for grade in grades], alpha=0.9)
    handles, labels = ax2.get_legend_handles_labels()
    legend_right(ax2, handles=handles[::-1], labels=labels[::-1], title="assigned grade", title_fontsize=8)
    names = " + ".join(STAGE_LABELS.get(stage, stage) for stage in queue_stages)
    ax2.set_title(f"Of which {names}, by assigned grade")
    ax2.set_ylabel("referrals (mean over replications)")
    ax2.set_xlabel("months from the start of the run (month 0: the day-0 backlog already in place)")
    cfg = results.config
    for ax in (ax1, ax2):
        ax.set_xlim(days.min() if len(days) else 0, days.max() if len(days) else 1)
        ax.set_ylim(bottom=0)
        format_months_axis(ax, cfg.run.horizon_days)
        _warmup_shade(ax, results)
    fig.suptitle(f"Work in progress over time ({_forces_named(cfg)}, mean of {cfg.run.replications} replications)",
                 fontsize=12)
    return fig


# --------------------------------------------------------------------------- where the time goes


def _stage_days(results: Results) -> pd.DataFrame:
    """Mean days per stage (columns, in the order a case meets them) by assigned grade (rows,
    VH..L), from the summary's ``mean_time_days_{stage}`` rows of the whole run."""
    summary = results.summary()
    region = summary[summary["force"] == results.config.total_name]
    stage_of_row = region["metric"].map(STAGE_TIME.member_of)
    rows = region[stage_of_row.notna() & (region["by"] == "assigned_grade")].assign(stage=stage_of_row)
    stages = list(dict.fromkeys(rows["stage"]))
    return (rows.pivot(index="grade", columns="stage", values="estimate")
            .reindex(index=list(GRADES), columns=stages)
            .fillna(0.0))


def _days_text(days: float) -> str:
    return f"{days:.1f} d" if days < 10 else f"{days:,.0f} d"


def where_the_time_goes(results: Results) -> Figure:
    """One panel per assigned grade (VH on top), each a bar stacked by stage: the mean days a
    referral of that grade spends in each stage (queueing and being worked), from
    ``Results.summary()`` rows ``mean_time_days_{stage}``. Each stage's mean is over the
    referrals that entered it (one still there at the end counts its time so far), so the
    bar is the typical journey of a referral that goes all the way, not the mean time to
    arrest. Each panel has its own days scale, so a very-high-risk bar of a day shows as
    clearly as a low-risk one of months; the total is written after the bar, each wide
    enough stage's days inside it, and the grade's target is the dotted line in its colour."""
    table = _stage_days(results)
    stages = list(table.columns)
    colours = _stage_colours(stages)
    targets = targets_by_grade(results)
    fig, axes = plt.subplots(len(GRADES), 1, figsize=(11, 1.25 * len(GRADES) + 2.6), layout="constrained")
    for ax, grade in zip(axes, GRADES):
        days = table.loc[grade].to_numpy(dtype=float)
        total = float(days.sum())
        reach = max(total, targets[grade]) * 1.18 or 1.0
        left = 0.0
        for stage, stage_days in zip(stages, days):
            ax.barh(0, stage_days, left=left, color=colours[stage], label=STAGE_LABELS.get(stage, stage),
                    height=0.62, edgecolor="white", lw=0.5)
            if stage_days >= 0.07 * reach:  # wide enough for its number
                shade = colours[stage]
                ink = "white" if 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2] < 0.55 else "black"
                ax.text(left + stage_days / 2, 0, _days_text(stage_days), ha="center", va="center", fontsize=8,
                        color=ink)
            left += stage_days
        ax.plot([targets[grade]] * 2, [-0.45, 0.45], color=GRADE_COLOURS[grade], lw=2.2, ls=":",
                gid=f"target_{grade}")
        ax.text(targets[grade], 0.47, f"target {targets[grade]:g} d", ha="center", va="bottom", fontsize=8,
                color=GRADE_COLOURS[grade])
        ax.text(total, 0, f"  {_days_text(total)} in all", va="center", fontsize=9, fontweight="bold")
        ax.set_xlim(0, reach)
        ax.set_ylim(-0.5, 0.75)
        ax.set_yticks([0], [f"{grade} ({GRADE_NAMES[grade]})"])
        ax.get_yticklabels()[0].set_color(GRADE_COLOURS[grade])
        ax.get_yticklabels()[0].set_fontweight("bold")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g} d"))
        ax.grid(True, axis="x", alpha=0.3)
        ax.set_axisbelow(True)
    axes[-1].set_xlabel("mean days in each stage, waiting and being worked (each grade on its own scale)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=4, fontsize=8, frameon=False,
               title="stage, in the order a referral meets them", title_fontsize=8)
    cfg = results.config
    fig.suptitle(f"Where the time goes: mean days per stage by assigned grade ({_forces_named(cfg)}, "
                 f"{cfg.run.replications} replications)", fontsize=12)
    # Under the bottom panel's axis label, as part of that panel, so the layout makes room for it.
    axes[-1].annotate("Each stage is averaged over the referrals of that grade that entered it; one still in a stage "
                      "when the run ends counts its time there so far,\nso where a queue is growing the bar is a "
                      "lower bound.", xy=(0, 0), xycoords="axes fraction", xytext=(0, -34),
                      textcoords="offset points", ha="left", va="top", fontsize=8, color="dimgrey")
    return fig


# --------------------------------------------------------------------------- all at once


def save_all(results: Results, folder: str | Path) -> list[Path]:
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


def _forces_named(cfg) -> str:
    """The force a figure is about, or the region's forces."""
    return ", ".join(cfg.force_names) if cfg.forces else cfg.force

