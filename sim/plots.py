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

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, PercentFormatter

from .config import EIGHTEEN_MONTHS_DAYS, GRADES
from .results import kaplan_meier

if TYPE_CHECKING:
    from .results import Results

#: One colour per grade, the same in every figure: the higher the risk, the hotter.
GRADE_COLOURS: dict[str, str] = {"VH": "#8b0000", "H": "#e66c00", "M": "#c9a100", "L": "#5a7fa6"}
GRADE_NAMES: dict[str, str] = {"VH": "very high", "H": "high", "M": "medium", "L": "low"}
UNGRADED_COLOUR = "#9a9a9a"
MISGRADED_COLOUR = "#6a1b9a"
EIGHTEEN_MONTHS_LABEL = "18 months (HMICFRS worst case)"
STAGE_LABELS: dict[str, str] = {
    "intake": "intake & de-confliction",
    "research": "research & enrichment",
    "assessment": "risk assessment",
    "allocation": "waiting for an investigator",
    "planning": "enforcement planning",
    "warrant": "warrant application",
    "execution": "warrant execution",
    "post_arrest": "post-arrest work",
}
BY_LABELS = {"true_risk": "true risk", "assigned_grade": "assigned grade"}

_X_MIN_DAYS = 1 / 12  # two hours: very-high-risk arrests can come within the first shift
_X_TICKS_DAYS = (1 / 12, 0.25, 0.5, 1, 2, 7, 14, 30, 91, 182, 365)  # 548 d is the labelled 18-month line
_X_TICK_LABELS = {1 / 12: "2 h", 0.25: "6 h", 0.5: "12 h", 1: "1 d", 2: "2 d", 7: "1 wk", 14: "2 wk",
                  30: "1 mo", 91: "3 mo", 182: "6 mo", 365: "1 yr", 548: "18 mo"}
DPI = 120


def _targets(results: "Results") -> dict[str, float]:
    return dict(zip(GRADES, results.config.targets_days.as_tuple()))


def _stage_order(results: "Results", series: str = "wip") -> list[str]:
    """The stages in the order a case meets them (the order ``Results.timeseries`` lists them)."""
    ts = results.timeseries
    return list(pd.unique(ts.loc[ts["series"] == series, "name"].astype(str)))


# --------------------------------------------------------------------------- survival curves


def _km_curve(cases: pd.DataFrame):
    """Step coordinates (days, share not yet arrested) and the pointwise 95 % band of the
    Kaplan-Meier curve of ``cases``; ``None`` if there are none. The curve starts at 1 and
    runs flat to the longest follow-up (the last censored case), where the estimate ends."""
    d = cases["followup_days"].to_numpy(dtype=float)
    sf = kaplan_meier(d, ~cases["censored"].to_numpy(dtype=bool))
    if sf is None:
        return None
    t, p = np.asarray(sf.quantiles, dtype=float), np.asarray(sf.probabilities, dtype=float)
    x0 = min(_X_MIN_DAYS, float(t.min())) if t.size else _X_MIN_DAYS
    end = max(float(d.max()), float(t.max()) if t.size else 0.0)
    x = np.r_[x0, np.maximum(t, x0), end]
    y = np.r_[1.0, p, p[-1] if p.size else 1.0]
    lo = hi = None
    if t.size:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # undefined where survival hits 0
            ci = sf.confidence_interval(0.95)
            lo = np.r_[1.0, np.asarray(ci.low.evaluate(t), dtype=float), np.nan]
            hi = np.r_[1.0, np.asarray(ci.high.evaluate(t), dtype=float), np.nan]
        lo[-1], hi[-1] = lo[-2], hi[-2]
        lo, hi = np.nan_to_num(lo, nan=0.0), np.nan_to_num(hi, nan=1.0)
    return x, y, lo, hi


def _draw_km(ax: Axes, cases: pd.DataFrame, colour: str, label: str, band: bool = True, **line_kw):
    curve = _km_curve(cases)
    if curve is None:
        return None
    x, y, lo, hi = curve
    (line,) = ax.step(x, y, where="post", color=colour, lw=2, label=label, **line_kw)
    if band and lo is not None:
        ax.fill_between(x, lo, hi, step="post", color=colour, alpha=0.15, lw=0)
    return line


def _days_range(cases: pd.DataFrame) -> tuple[float, float]:
    """Axis range for ``cases``: from the tick at or before the first arrest (at most 12 h,
    at least 2 h) to past the longest follow-up and the 18-month line."""
    first = cases["time_to_arrest_days"].min() if len(cases) else np.nan
    first = 0.5 if not np.isfinite(first) else min(float(first), 0.5)
    lo = max([t for t in _X_TICKS_DAYS if t <= first] or [_X_MIN_DAYS])
    hi = float(cases["followup_days"].max()) if len(cases) else EIGHTEEN_MONTHS_DAYS
    return lo, max(hi * 1.15, EIGHTEEN_MONTHS_DAYS * 1.2)


def _format_days_axis(ax: Axes, cases: pd.DataFrame) -> None:
    ax.set_xscale("log")
    ax.set_xlim(*_days_range(cases))
    ticks = [t for t in _X_TICKS_DAYS if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _X_TICK_LABELS.get(v, f"{v:g} d")))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("time since the referral reached the force (days, log scale)")
    ax.set_ylabel("share of referrals with no arrest yet")
    ax.grid(True, which="major", alpha=0.3)


def _eighteen_months_line(ax: Axes) -> None:
    ax.axvline(EIGHTEEN_MONTHS_DAYS, color="black", lw=1.5, ls="-", label=EIGHTEEN_MONTHS_LABEL,
               gid="eighteen_months")
    ax.text(EIGHTEEN_MONTHS_DAYS * 0.96, 0.98, EIGHTEEN_MONTHS_LABEL, rotation=90, ha="right",
            va="top", fontsize=8)


def _new_axes(ax: Axes | None, figsize=(8, 5.5)) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


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
    fig, ax = _new_axes(ax)
    m = results.referrals
    targets = _targets(results)
    for g in GRADES:
        sub = m[m[by] == g]
        label = f"{g} ({GRADE_NAMES[g]}), n={len(sub)}, target {targets[g]:g} d"
        _draw_km(ax, sub, GRADE_COLOURS[g], label, gid=f"km_{g}")
        ax.axvline(targets[g], color=GRADE_COLOURS[g], ls="--", lw=1.2, gid=f"target_{g}")
    _eighteen_months_line(ax)
    _format_days_axis(ax, m)
    ax.set_title(f"Referrals still waiting for an arrest, by {BY_LABELS[by]}")
    ax.legend(loc="lower left", fontsize=8, framealpha=0.9)
    return fig


def survival_misgraded(results: "Results", ax: Axes | None = None) -> Figure:
    """Truly very-high and high-risk referrals: those the assessment graded correctly against
    those it misgraded (the same selection as the summary's ``misgraded_high_risk`` rows).
    The gap between the curves is the delay misgrading costs."""
    fig, ax = _new_axes(ax)
    m = results.referrals
    high = m[m["true_risk"].isin(["VH", "H"]) & m["assigned_grade"].notna()]
    right, wrong = high[~high["misgraded"]], high[high["misgraded"]]
    _draw_km(ax, right, GRADE_COLOURS["H"], f"graded correctly, n={len(right)}", gid="km_correct")
    _draw_km(ax, wrong, MISGRADED_COLOUR, f"misgraded (graded lower), n={len(wrong)}", gid="km_misgraded")
    targets = _targets(results)
    for g in ("VH", "H"):
        ax.axvline(targets[g], color=GRADE_COLOURS[g], ls="--", lw=1.2, gid=f"target_{g}")
    _eighteen_months_line(ax)
    _format_days_axis(ax, m)
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
    stages = _stage_order(results)
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
    targets = _targets(results)
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


# --------------------------------------------------------------------------- scenario comparison

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
            _draw_km(ax, sub, colour, name, band=False, ls=SCENARIO_STYLES[k % len(SCENARIO_STYLES)], gid=f"km_{name}")
        first = results_by_scenario[names[0]]
        ax.axvline(_targets(first)[g], color=GRADE_COLOURS[g], ls="--", lw=1.2)
        _eighteen_months_line(ax)
        _format_days_axis(ax, first.referrals)
        ax.set_title(f"{g} ({GRADE_NAMES[g]}) by {BY_LABELS[by]}, target {_targets(first)[g]:g} d")
        if ax is not axes[0]:
            ax.set_ylabel("")
    axes[0].legend(loc="lower left", fontsize=8, framealpha=0.9)
    fig.suptitle("Time to arrest: scenarios against the baseline (same referrals in every scenario)")
    return fig


def forest_plot(table: pd.DataFrame, force: str) -> Figure:
    """Paired differences from the baseline with their confidence intervals, one panel per
    metric (rows of ``sim.results.compare.headline`` for ``force``, the region's total label),
    one line per scenario. Left of zero is shorter / fewer, except for utilisation, where it
    is less used."""
    from .results.compare import headline

    h = headline(table, force)
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


# --------------------------------------------------------------------------- sensitivity

SENSITIVITY_KIND_LABELS = {"src": "standardised regression coefficient (SRC)",
                           "srrc": "standardised rank regression coefficient (SRRC)"}
INCREASES_COLOUR = "#b2182b"  # raising the parameter raises the metric (for the tail: worse)
DECREASES_COLOUR = "#2166ac"


def tornado_plot(indices: pd.DataFrame, kind: str = "src") -> Figure:
    """One panel per metric of ``indices`` (``sim.results.sensitivity.regression_indices``):
    a horizontal bar per parameter, its standardised coefficient of kind ``kind`` (``src``
    or ``srrc``) with the bootstrap interval as whiskers, the largest in magnitude on top.
    Red bars raise the metric as the parameter rises, blue bars lower it. The panel title
    gives R^2 of the fit, the share of the metric's variance over the design the linear (or
    rank) model explains: with a low R^2 the bars do not tell the whole story."""
    if kind not in SENSITIVITY_KIND_LABELS:
        raise ValueError(f"kind={kind!r}: use one of {', '.join(SENSITIVITY_KIND_LABELS)}")
    rows = indices[indices["kind"] == kind]
    if rows.empty:
        raise ValueError(f"no {kind} rows in the indices table")
    keys = list(dict.fromkeys(zip(rows["metric"], rows["by"], rows["grade"])))
    n_params = rows.groupby(["metric", "by", "grade"], sort=False).size().max()
    fig, axes = plt.subplots(len(keys), 1, figsize=(9, len(keys) * (0.32 * n_params + 1.3) + 0.6),
                             layout="constrained", squeeze=False)
    lim = 1.0
    for ax, key in zip(axes[:, 0], keys):
        r = rows[(rows["metric"] == key[0]) & (rows["by"] == key[1]) & (rows["grade"] == key[2])]
        # Largest |coefficient| on top; parameters without one (constant, no fit) at the bottom.
        r = r.assign(_size=r["coefficient"].abs().fillna(-1.0)).sort_values("_size", ascending=False, kind="stable")
        y = np.arange(len(r))[::-1]
        c = r["coefficient"].to_numpy(dtype=float)
        lo, hi = r["ci_low"].to_numpy(dtype=float), r["ci_high"].to_numpy(dtype=float)
        width = np.nan_to_num(c)
        colours = [INCREASES_COLOUR if v >= 0 else DECREASES_COLOUR for v in width]
        bars = ax.barh(y, width, color=colours, height=0.65)
        for bar, name in zip(bars, r["parameter"]):
            bar.set_gid(f"bar_{name}")
        has_ci = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(c)
        if has_ci.any():
            err = np.vstack([c[has_ci] - lo[has_ci], hi[has_ci] - c[has_ci]])
            ax.errorbar(c[has_ci], y[has_ci], xerr=err, fmt="none", ecolor="black", capsize=3, lw=1, gid="ci")
            lim = max(lim, float(np.nanmax(np.abs(np.r_[lo[has_ci], hi[has_ci]]))))
        ax.axvline(0, color="black", lw=1)
        ax.set_yticks(y, list(r["parameter"]), fontsize=8)
        ax.grid(True, axis="x", alpha=0.3)
        label = key[0].replace("_", " ") + ("" if key[2] == "all" else f" ({BY_LABELS.get(key[1], key[1])} {key[2]})")
        first = r.iloc[0]
        r2 = first["r_squared"]
        fit = f"R² = {r2:.2f}" if np.isfinite(r2) else "no fit"
        dropped = f", {int(first['n_dropped'])} dropped (no value)" if first["n_dropped"] else ""
        ax.set_title(f"{label}: {fit}, {int(first['n_points'])} points{dropped}", fontsize=10)
        if not np.isfinite(c).any():  # say why the panel is empty rather than leave it blank
            why = next((n for n in r["note"] if n), "no coefficient")
            ax.text(0.5, 0.5, why.replace("; ", "\n"), transform=ax.transAxes, ha="center", va="center", fontsize=9,
                    color="dimgrey", bbox={"facecolor": "white", "edgecolor": "none"}, gid="no_fit")
    for ax in axes[:, 0]:
        ax.set_xlim(-lim * 1.05, lim * 1.05)
    unit = "metric's" if kind == "src" else "metric's rank's"
    axes[-1, 0].set_xlabel(f"{SENSITIVITY_KIND_LABELS[kind]}\n(the {unit} standard deviations per standard deviation "
                           f"of the parameter)", fontsize=8)
    fig.suptitle(f"Sensitivity of the metrics to the parameters ({kind.upper()})\nwhiskers: bootstrap interval; "
                 f"red: raising the parameter raises the metric, blue: lowers it", fontsize=11)
    return fig


def replications_plot(trajectory: pd.DataFrame, precision: float = 0.05) -> Figure:
    """The replications algorithm's trajectory (``sim.replications.replication_study``): the
    confidence interval's half-width as a share of the mean after n replications, one line
    per output, against the precision wanted (dashed). Log scale: two replications give
    intervals wider than the mean."""
    fig, ax = plt.subplots(figsize=(10, 5), layout="constrained")
    several = trajectory["force"].nunique() > 1
    for (force, metric, by, grade), t in trajectory.groupby(["force", "metric", "by", "grade"], sort=False):
        where = " ".join(w for w in (force if several else "all", BY_LABELS.get(by, by.replace("_", " ")), grade)
                         if w != "all")
        label = metric.replace("_", " ") + (f" ({where})" if where else "")
        ax.plot(t["replications"], t["relative_half_width"], marker=".", lw=1.2, label=label)
    level = trajectory["level"].iloc[0] if len(trajectory) else 0.95
    ax.axhline(precision, color="black", ls="--", lw=1, label=f"precision wanted (±{precision:.0%})")
    ax.set(yscale="log", xlabel="replications", ylabel=f"{level:.0%} CI half-width / mean")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


# --------------------------------------------------------------------------- warm-up


def warmup_plot(welch_frame: pd.DataFrame, warmup_days: float | None = None) -> Figure:
    """Welch's plot for choosing a warm-up (``sim.results.warmup.welch``): one panel per
    window w, each with the quantity's mean over replications day by day (grey) and its
    moving average (colour; undefined over the last w days). ``warmup_days`` (e.g.
    ``suggest_warmup(...).warmup_days``), if given and not NaN, is shaded and marked by a
    dashed line. Read it with the smallest window whose curve is smooth: the warm-up ends
    where that curve levels out."""
    windows = list(dict.fromkeys(welch_frame["window_days"]))
    if not windows:
        raise ValueError("the Welch frame has no rows")
    fig, axes = plt.subplots(len(windows), 1, figsize=(10, 2.4 * len(windows) + 1.2), sharex=True, sharey=True,
                             layout="constrained", squeeze=False)
    colours = plt.get_cmap("viridis")(np.linspace(0.15, 0.75, len(windows)))
    marked = warmup_days is not None and np.isfinite(warmup_days)
    low = min(0.0, float(np.nanmin(welch_frame["replication_mean"])))
    for ax, w, colour in zip(axes[:, 0], windows, colours):
        f = welch_frame[welch_frame["window_days"] == w].sort_values("day")
        day = f["day"].to_numpy(dtype=float)
        ax.plot(day, f["replication_mean"], color="0.65", lw=0.8, label="mean over replications", gid="mean")
        ax.plot(day, f["moving_average"], color=colour, lw=1.8, label=f"moving average, w = {w:g} days",
                gid=f"moving_average_{w:g}")
        if marked:
            ax.axvspan(day.min(), warmup_days, color="grey", alpha=0.12, lw=0)
            ax.axvline(warmup_days, color="black", ls="--", lw=1, label=f"warm-up: {warmup_days:g} days", gid="warmup")
        ax.set_ylim(bottom=low)
        ax.set_xlim(day.min(), day.max())
        ax.grid(True, alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    quantity = str(welch_frame["quantity"].iloc[0]) if "quantity" in welch_frame.columns else "value"
    reps = int(welch_frame["replications"].iloc[0]) if "replications" in welch_frame.columns else None
    axes[len(windows) // 2, 0].set_ylabel(quantity)
    axes[-1, 0].set_xlabel("simulated day (day 0 = start of the run)")
    fig.suptitle(f"Welch's method: {quantity}" + (f", mean of {reps} replications" if reps else ""), fontsize=11)
    return fig
