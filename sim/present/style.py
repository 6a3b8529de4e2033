"""The figures' shared look: one colour per grade and per scenario, the baseline's, the
targets' and the 18-month line's styles, stage labels, the days and months axes, legends
kept off the data, the Kaplan-Meier curve as drawn, and a metric's row in words."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, MultipleLocator, NullFormatter, PercentFormatter
from matplotlib.transforms import offset_copy

from ..domain import DAYS_PER_MONTH, EIGHTEEN_MONTHS_DAYS, GRADES
from ..results import Results, kaplan_meier
from ..results.catalogue import (
    OUTCOME_SHARE,
    QUANTILE_WORDS,
    RESTRICTED_MEAN_TIME_TO_ARREST,
    SHARE_WAITING_PAST,
    TIME_TO_ARREST,
    UTILISATION,
    metric,
)

#: One colour per grade, the same in every figure: the higher the risk, the hotter.
GRADE_COLOURS: dict[str, str] = {"VH": "#8b0000", "H": "#e66c00", "M": "#c9a100", "L": "#5a7fa6"}
GRADE_NAMES: dict[str, str] = {"VH": "very high", "H": "high", "M": "medium", "L": "low"}
UNGRADED_COLOUR = "#9a9a9a"
MISGRADED_COLOUR = "#6a1b9a"

BASELINE_COLOUR = "#404040"
"""The baseline of a comparison, in every figure: a neutral dark grey, drawn solid and wider
than the scenarios, beneath them, so a scenario that matches the baseline shows as its
colour inside a grey edge."""
BASELINE_LINE: dict = {"color": BASELINE_COLOUR, "lw": 3.2, "ls": "-", "zorder": 2}
SCENARIO_LINE: dict = {"lw": 1.7, "ls": "-", "zorder": 3}
SCENARIO_COLOURS: tuple[str, ...] = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#8c564b",
                                     "#7b3294", "#a6a000", "#17becf", "#d55e00")
"""The scenarios' colours, in the order a comparison lists its scenarios (colour-blind-safe
first; after ten they repeat). None is grey (the baseline's) or the 18-month line's red."""

TARGET_LINE: dict = {"ls": ":", "lw": 1.6}
"""A grade's target: a dotted vertical line in the grade's colour."""
EIGHTEEN_MONTHS_COLOUR = "#d62728"
EIGHTEEN_MONTHS_LABEL = "18 months, 548 days (HMICFRS worst case)"
TARGET_LABEL = "target of the grade (dotted, in its colour)"

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
"""The breakdowns a survival figure can be drawn by, in words."""

_X_MIN_DAYS = 1 / 12  # two hours: very-high-risk arrests can come within the first shift
# Days, with the weeks and months a planner counts in beside them; 548 d is the labelled
# 18-month line, too close to 1 yr on a log axis for a tick label of its own.
_X_TICKS_DAYS = (1 / 12, 0.25, 0.5, 1, 2, 7, 14, 30, 91, 182, 365)
_X_TICK_LABELS = {1 / 12: "2 h", 0.25: "6 h", 0.5: "12 h", 1: "1 d", 2: "2 d", 7: "7 d\n1 wk", 14: "14 d\n2 wk",
                  30: "30 d\n1 mo", 91: "91 d\n3 mo", 182: "182 d\n6 mo", 365: "365 d\n1 yr"}
DPI = 120
LEGEND_FONT_SIZE = 8


def scenario_colours(scenarios: Sequence[str], baseline: str | None = None) -> dict[str, str]:
    """The colour of each scenario in every figure of one comparison: ``baseline`` (if given)
    ``BASELINE_COLOUR``, the others ``SCENARIO_COLOURS`` in the order given. Pass the
    comparison's own order (``Comparison.scenarios``, the order of its table) so that the
    survival curves, the forest plot and the report agree."""
    colours = {} if baseline is None else {baseline: BASELINE_COLOUR}
    for name in scenarios:
        if name not in colours:
            colours[name] = SCENARIO_COLOURS[(len(colours) - (baseline is not None)) % len(SCENARIO_COLOURS)]
    return colours


def metric_label(metric: str, by: str = "all", grade: str = "all", force: str = "all") -> str:
    """A metric's row in words, for axis labels and titles: its name with spaces, then the
    cases it covers (force, breakdown and grade; ``all`` and ``pool`` add nothing), e.g.
    ``time to arrest p90 days (true risk H)``."""
    where = " ".join(word for word in (force, BY_LABELS.get(by, by.replace("_", " ")), grade)
                     if word not in ("all", "pool"))
    return metric.replace("_", " ") + (f" ({where})" if where else "")


_METRIC_WORDS = {  # the unit in the words: a count's is the thing counted
    "share_past_target": "Share past target (%)",
    "share_past_18_months": "Share waiting past 18 months (%)",
    RESTRICTED_MEAN_TIME_TO_ARREST: "Restricted mean days to arrest (each wait cut at 548 days)",
    "longest_wait_days": "Longest wait (days)",
    "time_to_arrest_max_days": "Longest time to arrest (days)",
    "cases_past_18_months": "Cases waiting past 18 months",
    "child_days_at_risk_per_year": "Child-days at risk a year",
    "backlog_at_end": "Cases open at the end",
    "arrests_per_month": "Arrests a month",
    "voluntary_interviews_per_month": "Voluntary interviews a month",
    "enforcements_per_month": "Arrests and voluntary interviews a month",
    "cases": "Cases",
}
_POOL_WORDS = {"intake": "Intake staff", "research": "Researchers", "assessment": "Assessors",
               "investigators": "Investigators' hands-on time", "caseload": "Investigators' caseload slots",
               "court": "Warrant hearing slots", "search_teams": "Search teams"}
_SHARE_UNITS = ("share", "share of capacity")


PARAMETER_WORDS: dict[str, str] = {
    "demand.referrals_per_month": "referrals a month at day 0",
    "demand.growth_per_year": "yearly growth of referrals (share)",
    "staffing.intake_researchers": "intake researchers (people)",
    "staffing.researchers": "researchers (people)",
    "staffing.assessors": "risk assessors (people)",
    "staffing.investigators": "investigators (people)",
    "staffing.caseload_limit": "cases an investigator holds (cases)",
    "staffing.search_teams": "search teams (teams)",
    "staffing.availability": "share of hours on casework",
    "training.assessors_trained_share": "trained risk assessors (share)",
    "training.researchers_trained_share": "trained researchers (share)",
    "training.investigators_trained_share": "trained investigators (share)",
    "training.direct_to_nonspecialist_share": "direct reports graded by non-specialists (share)",
    "training.under_grade_probability_untrained": "under-grading by the untrained (probability)",
    "stages.planning.effort_hours.mode": "planning effort, mode (hours)",
    "stages.warrant.slots_per_sitting_day": "warrant hearings a sitting day",
    "stages.warrant.refusal_probability_per_year_of_age": "warrant refusal per year of age (probability)",
}
"""A sampled parameter's dotted key in words, with its unit, for the sensitivity figures."""


def parameter_label(key: str) -> str:
    """A design parameter in words with its unit (``PARAMETER_WORDS``); a key without words of
    its own becomes its last two parts with spaces.

    >>> parameter_label("staffing.investigators")
    'investigators (people)'
    >>> parameter_label("stages.warrant.refusal_probability")
    'warrant refusal probability'
    """
    if key in PARAMETER_WORDS:
        return PARAMETER_WORDS[key]
    return " ".join(key.split(".")[-2:]).replace("_", " ")


def display_unit(unit: str) -> tuple[float, str]:
    """How a catalogue unit is shown: (factor to multiply values by, unit as written). Shares
    are shown as percentages."""
    if unit in _SHARE_UNITS:
        return 100.0, "%" if unit == "share" else "% of capacity"
    return 1.0, unit


def difference_unit(unit: str) -> str:
    """The unit of a difference between two values of a metric in ``unit``, as written:
    shares differ by percentage points."""
    return "percentage points" if unit in _SHARE_UNITS else unit


def metric_title(name: str, by: str = "all", grade: str = "all") -> str:
    """A metric's row in a planner's words with its unit, for a panel's title, e.g.
    ``Median days to arrest, truly H (high)`` or ``Share past target (%), graded VH (very
    high)``; a metric without words of its own falls back to ``metric_label``."""
    try:
        entry = metric(name)
    except KeyError:
        return metric_label(name, by, grade)
    quantile = TIME_TO_ARREST.member_of(name)
    pool = UTILISATION.member_of(name)
    outcome = OUTCOME_SHARE.member_of(name)
    waited_days = SHARE_WAITING_PAST.member_of(name)
    _, unit = display_unit(entry.unit)
    if outcome:
        what = ("Share still open at the end" if outcome == "open"
                else f"Share ending in {outcome.replace('_', ' ')}") + f" ({unit})"
    elif quantile:
        what = f"{QUANTILE_WORDS[quantile].capitalize()} days to arrest"
    elif waited_days:
        what = f"Share waiting past {waited_days} days ({unit})"
    elif pool:
        what = f"{_POOL_WORDS.get(pool, pool)} used ({unit})"
    elif name in _METRIC_WORDS:
        what = _METRIC_WORDS[name]
    else:
        return metric_label(name, by, grade)
    grade_words = f"{grade} ({GRADE_NAMES[grade]})" if grade in GRADE_NAMES else grade
    who = {"true_risk": f"truly {grade_words}", "assigned_grade": f"graded {grade_words}",
           "misgraded_high_risk": "misgraded VH/H", "initial_backlog": "day-0 backlog"}.get(by, "")
    return f"{what}, {who}" if who else what


def rows_of_key(frame: pd.DataFrame, key: tuple[str, str, str]) -> pd.DataFrame:
    """The rows of ``frame`` (a summary, comparison or indices table) whose (metric, by,
    grade) is ``key``."""
    metric_name, by, grade = key
    return frame[(frame["metric"] == metric_name) & (frame["by"] == by) & (frame["grade"] == grade)]


def targets_by_grade(results: Results) -> dict[str, float]:
    """Each grade's target, in days."""
    return dict(zip(GRADES, results.config.targets_days.as_tuple()))


def stage_order(results: Results, series: str = "wip") -> list[str]:
    """The stages in the order a case meets them (the order ``Results.timeseries`` lists them)."""
    timeseries = results.timeseries
    # the distinct names first, then as text: the same list as the other way round, without
    # turning millions of a national run's labels into text
    return list(pd.unique(timeseries.loc[timeseries["series"] == series, "name"]).astype(str))


# --------------------------------------------------------------------------- legends


def legend_below(ax: Axes, handles=None, labels=None, ncols: int = 2, below_points: float = 44.0) -> Legend:
    """``ax``'s legend under its x-axis label, off the data: ``below_points`` points under
    the axes' bottom edge (room for two-line tick labels and the axis label), centred.
    Constrained layout makes room for it."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    anchor = offset_copy(ax.transAxes, fig=ax.figure, y=-below_points, units="points")
    return ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=anchor,
                     ncols=ncols, fontsize=LEGEND_FONT_SIZE, frameon=False)


def legend_right(ax: Axes, **legend_kw) -> Legend:
    """``ax``'s legend outside its right edge, top-aligned."""
    legend_kw.setdefault("fontsize", LEGEND_FONT_SIZE)
    return ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), **legend_kw)


def target_handle() -> Line2D:
    """A legend entry for the grades' targets (drawn in each grade's colour)."""
    return Line2D([], [], color="dimgrey", label=TARGET_LABEL, **TARGET_LINE)


# --------------------------------------------------------------------------- survival curves


def km_curve(cases: pd.DataFrame):
    """Step coordinates (days, share not yet arrested) and the pointwise 95 % band of the
    Kaplan-Meier curve of ``cases``; ``None`` if there are none. The curve starts at 1 and
    runs flat to the longest follow-up (the last censored case), where the estimate ends."""
    followup = cases["followup_days"].to_numpy(dtype=float)
    survival = kaplan_meier(followup, ~cases["censored"].to_numpy(dtype=bool))
    if survival is None:
        return None
    times = np.asarray(survival.quantiles, dtype=float)
    still_waiting = np.asarray(survival.probabilities, dtype=float)
    first_day = min(_X_MIN_DAYS, float(times.min())) if times.size else _X_MIN_DAYS
    end_day = max(float(followup.max()), float(times.max()) if times.size else 0.0)
    x = np.r_[first_day, np.maximum(times, first_day), end_day]
    y = np.r_[1.0, still_waiting, still_waiting[-1] if still_waiting.size else 1.0]
    band_low = band_high = None
    if times.size:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # undefined where survival hits 0
            interval = survival.confidence_interval(0.95)
            band_low = np.r_[1.0, np.asarray(interval.low.evaluate(times), dtype=float), np.nan]
            band_high = np.r_[1.0, np.asarray(interval.high.evaluate(times), dtype=float), np.nan]
        band_low[-1], band_high[-1] = band_low[-2], band_high[-2]
        band_low, band_high = np.nan_to_num(band_low, nan=0.0), np.nan_to_num(band_high, nan=1.0)
    return x, y, band_low, band_high


def draw_km(ax: Axes, cases: pd.DataFrame, colour: str, label: str, band: bool = True, **line_kw):
    """Draw the Kaplan-Meier curve of ``cases`` (and its 95 % band, if ``band``) into ``ax``;
    the line, or None if there are no cases."""
    curve = km_curve(cases)
    if curve is None:
        return None
    x, y, band_low, band_high = curve
    line_kw.setdefault("lw", 2)
    (line,) = ax.step(x, y, where="post", color=colour, label=label, **line_kw)
    if band and band_low is not None:
        ax.fill_between(x, band_low, band_high, step="post", color=colour, alpha=0.15, lw=0)
    return line


def days_range(cases: pd.DataFrame) -> tuple[float, float]:
    """Axis range for ``cases``: from the tick at or before the first arrest (at most 12 h,
    at least 2 h) to past the longest follow-up and the 18-month line."""
    first = cases["time_to_arrest_days"].min() if len(cases) else np.nan
    first = 0.5 if not np.isfinite(first) else min(float(first), 0.5)
    start = max([tick for tick in _X_TICKS_DAYS if tick <= first] or [_X_MIN_DAYS])
    longest = float(cases["followup_days"].max()) if len(cases) else EIGHTEEN_MONTHS_DAYS
    return start, max(longest * 1.15, EIGHTEEN_MONTHS_DAYS * 1.2)


def format_days_axis(ax: Axes, cases: pd.DataFrame) -> None:
    """The survival figures' axes: days since the referral on a log scale, with the weeks and
    months they make marked under them, against the share still waiting (time to arrest ends
    at an arrest or a voluntary interview, as ``time_to_arrest_days`` does)."""
    ax.set_xscale("log")
    ax.set_xlim(*days_range(cases))
    ticks = [t for t in _X_TICKS_DAYS if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _X_TICK_LABELS.get(v, f"{v:g} d")))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.tick_params(axis="x", labelsize=8)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("days since the referral reached the force (log scale)")
    ax.set_ylabel("share not yet arrested or interviewed")
    ax.grid(True, which="major", alpha=0.3)


def eighteen_months_line(ax: Axes) -> Line2D:
    """The line at 18 months, the worst waits HMICFRS found: dashed red, labelled (in the
    legend)."""
    return ax.axvline(EIGHTEEN_MONTHS_DAYS, color=EIGHTEEN_MONTHS_COLOUR, lw=1.6, ls="--",
                      label=EIGHTEEN_MONTHS_LABEL, gid="eighteen_months", zorder=1.5)


def target_line(ax: Axes, target_days: float, grade: str, label: str | None = None) -> Line2D:
    """``grade``'s target at ``target_days``: dotted, in the grade's colour."""
    return ax.axvline(target_days, color=GRADE_COLOURS[grade], label=label, gid=f"target_{grade}", zorder=1.5,
                      **TARGET_LINE)


# --------------------------------------------------------------------------- calendar axis


def format_months_axis(ax: Axes, horizon_days: float) -> None:
    """A run's time axis (the data in simulated days) labelled in months from its start:
    a labelled tick every 1, 3, 6 or 12 months as the run is longer, a grid line each month.
    The configuration has no calendar date for day 0, so months from the start it is."""
    months = horizon_days / DAYS_PER_MONTH
    step = 1 if months <= 12 else 3 if months <= 30 else 6 if months <= 72 else 12
    ax.xaxis.set_major_locator(MultipleLocator(step * DAYS_PER_MONTH))
    ax.xaxis.set_minor_locator(MultipleLocator(DAYS_PER_MONTH))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / DAYS_PER_MONTH:.0f}"))
    ax.grid(True, which="major", alpha=0.35)
    ax.grid(True, which="minor", axis="x", alpha=0.12)


def new_axes(ax: Axes | None, figsize=(8, 5.5)) -> tuple[Figure, Axes]:
    """``ax`` and its figure, or a new figure's axes if ``ax`` is None."""
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax
