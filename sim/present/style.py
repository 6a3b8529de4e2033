"""The figures' shared look: one colour per grade, stage labels, the days axis, the 18-month
line, the Kaplan-Meier curve as drawn, and a metric's row in words."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, PercentFormatter

from ..domain import EIGHTEEN_MONTHS_DAYS, GRADES
from ..results import Results, kaplan_meier

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
"""The breakdowns a survival figure can be drawn by, in words."""

_X_MIN_DAYS = 1 / 12  # two hours: very-high-risk arrests can come within the first shift
_X_TICKS_DAYS = (1 / 12, 0.25, 0.5, 1, 2, 7, 14, 30, 91, 182, 365)  # 548 d is the labelled 18-month line
_X_TICK_LABELS = {1 / 12: "2 h", 0.25: "6 h", 0.5: "12 h", 1: "1 d", 2: "2 d", 7: "1 wk", 14: "2 wk",
                  30: "1 mo", 91: "3 mo", 182: "6 mo", 365: "1 yr", 548: "18 mo"}
DPI = 120


def metric_label(metric: str, by: str = "all", grade: str = "all", force: str = "all") -> str:
    """A metric's row in words, for axis labels and titles: its name with spaces, then the
    cases it covers (force, breakdown and grade; ``all`` and ``pool`` add nothing), e.g.
    ``time to arrest p90 days (true risk H)``."""
    where = " ".join(word for word in (force, BY_LABELS.get(by, by.replace("_", " ")), grade)
                     if word not in ("all", "pool"))
    return metric.replace("_", " ") + (f" ({where})" if where else "")


def rows_of_key(frame: pd.DataFrame, key: tuple[str, str, str]) -> pd.DataFrame:
    """The rows of ``frame`` (a summary, comparison or indices table) whose (metric, by,
    grade) is ``key``."""
    metric, by, grade = key
    return frame[(frame["metric"] == metric) & (frame["by"] == by) & (frame["grade"] == grade)]


def targets_by_grade(results: Results) -> dict[str, float]:
    """Each grade's target, in days."""
    return dict(zip(GRADES, results.config.targets_days.as_tuple()))


def stage_order(results: Results, series: str = "wip") -> list[str]:
    """The stages in the order a case meets them (the order ``Results.timeseries`` lists them)."""
    timeseries = results.timeseries
    return list(pd.unique(timeseries.loc[timeseries["series"] == series, "name"].astype(str)))


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
    (line,) = ax.step(x, y, where="post", color=colour, lw=2, label=label, **line_kw)
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
    """The survival figures' axes: days since the referral on a log scale, share waiting."""
    ax.set_xscale("log")
    ax.set_xlim(*days_range(cases))
    ticks = [t for t in _X_TICKS_DAYS if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _X_TICK_LABELS.get(v, f"{v:g} d")))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("time since the referral reached the force (days, log scale)")
    ax.set_ylabel("share of referrals with no arrest yet")
    ax.grid(True, which="major", alpha=0.3)


def eighteen_months_line(ax: Axes) -> None:
    """The labelled line at 18 months, the worst waits HMICFRS found."""
    ax.axvline(EIGHTEEN_MONTHS_DAYS, color="black", lw=1.5, ls="-", label=EIGHTEEN_MONTHS_LABEL,
               gid="eighteen_months")
    ax.text(EIGHTEEN_MONTHS_DAYS * 0.96, 0.98, EIGHTEEN_MONTHS_LABEL, rotation=90, ha="right",
            va="top", fontsize=8)


def new_axes(ax: Axes | None, figsize=(8, 5.5)) -> tuple[Figure, Axes]:
    """``ax`` and its figure, or a new figure's axes if ``ax`` is None."""
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax
