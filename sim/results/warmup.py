"""Choosing a warm-up period from the model's own output: Welch's graphical method and MSER-5.

A run that starts from an empty force (no referrals open on day 0) spends its first weeks
filling up: queues are shorter and waits quicker than they will be once the force is in
its steady state, so metrics over the whole run are biased towards good news. The usual
remedy is a **warm-up**: the referrals arriving before ``run.warmup_days`` are flagged and
left out of the metrics (``Results.measured``). This module helps choose that period from
a pilot run's daily time series (``Results.timeseries``).

**Welch's method** (Welch 1983; Law & Kelton, *Simulation Modeling and Analysis*, ch. 9):

1. average the output over replications day by day (``replication_average``): the
   replications share the transient but their noise averages out;
2. smooth that average with a centred moving average of window ``w`` (``welch``):
   each point is the mean of the ``w`` samples either side of it (``2w + 1`` in all); near
   the start, where there are fewer than ``w`` samples before a point, the window shrinks
   to the ``i`` samples either side of the ``i``-th (so the first point is itself, the
   second the mean of the first three...); the last ``w`` points have no full window and are
   left undefined (NaN);
3. plot it (``sim.plots.warmup_plot``) for a few windows, take the smallest window whose
   curve is reasonably smooth, and read off the day after which the curve has levelled
   out. That day is the warm-up. Law & Kelton suggest ``w <= m / 4`` for ``m`` samples.

Welch's method needs judgement. **MSER-5** (White 1997; Franklin & White 2008) is a simple
rule that *suggests* a warm-up from the same replication-averaged series: cut the series
into batches of 5 consecutive samples and take the batch means ``Z_1..Z_k``; for each
number ``d`` of leading batches deleted, compute

    MSER(d) = sum_{j > d} (Z_j - mean(Z_{d+1..k}))**2 / (k - d)**2,

the squared standard error of the mean of what is kept (up to a constant), and choose the
``d`` that minimises it, searching only the first half of the run: deleting a transient
removes a bias that inflates the spread, deleting steady-state data only costs sample
size. The warm-up is ``5 d`` samples. A minimum at the very end of the search (the
``at_limit`` flag) means no steady state was found within the first half: the run is too
short, or the output is not stationary (a demand that keeps growing never settles, and
then no warm-up is right).

MSER assumes that what follows the transient is steady. A series that keeps growing, and
faster towards the end (a queue under rising demand), has its largest spread late in the
run, so deleting early data never helps and MSER answers d = 0 without complaint.
``suggest_warmup`` therefore also fits a straight line to the batch means it keeps and
reports its R^2 (``trend_r_squared``): the share of their variation a steady rise or fall
explains. It is small for a stationary series (slow random wandering gives up to about
0.1) and large for a trend (about 0.8 for the baseline's four years of growing demand);
above ``max_trend_r_squared`` (default 0.5) the series is called ``trending`` and no
warm-up is suggested. This is a heuristic guard, not a statistical test: a trend that is
not monotone (a fall, then a rise) escapes it, so look at Welch's plot first.

Everything here works on tidy frames with pandas and numpy; it never runs the model.

>>> import sim, sim.plots
>>> res = sim.simulate(sim.load_config(["run.replications=2", "run.horizon_days=200", "run.progress=false"]))
>>> ave = welch(res.timeseries, windows_days=(7, 30))     # WIP over every stage and grade
>>> ave["window_days"].unique().tolist()
[7.0, 30.0]
>>> s = suggest_warmup(ave)
>>> s.warmup_days >= 0 or s.note != ""    # a warm-up in days, or NaN and the reason there is none
True
>>> fig = sim.plots.warmup_plot(ave, s.warmup_days)

References: Welch PD (1983), The statistical analysis of simulation results, in Lavenberg
(ed.) *The Computer Performance Modeling Handbook*, Academic Press, 268-328. Law AM (2015),
*Simulation Modeling and Analysis*, 5th ed., McGraw-Hill, section 9.5.1. White KP Jr
(1997), An effective truncation heuristic for bias reduction in simulation output,
*Simulation* 69(6): 323-334. Franklin WW, White KP Jr (2008), Stationarity tests and
MSER-5: exploring the intuition behind mean-squared-error-reduction in warm-up period
determination, *Proceedings of the 2008 Winter Simulation Conference*, 541-546.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

AVERAGE_COLUMNS = ["quantity", "day", "replication_mean", "replications"]
WELCH_COLUMNS = ["quantity", "window_days", "day", "replication_mean", "moving_average", "replications"]
MSER_COLUMNS = ["truncated_batches", "warmup_days", "mser", "kept_mean"]


def _as_list(names: str | Sequence[str] | None) -> list[str] | None:
    """One name or several as a list; None stays None (no selection)."""
    return None if names is None else [names] if isinstance(names, str) else list(names)


def _describe(series: str, name: list[str] | None, grade: list[str] | None, force: list[str] | None) -> str:
    """The selection in words, for titles and the ``quantity`` column."""
    what = {"wip": "referrals open", "busy": "staff busy"}.get(series, series)
    parts = [", ".join(name) if name else ("every stage" if series == "wip" else "every pool")]
    if grade:
        parts.append("grade " + ", ".join(grade))
    if force:
        parts.append(", ".join(force))
    return f"{what} ({'; '.join(parts)})"


def replication_average(timeseries: pd.DataFrame, series: str = "wip", name: str | Sequence[str] | None = None,
                        grade: str | Sequence[str] | None = None,
                        force: str | Sequence[str] | None = None) -> pd.DataFrame:
    """The day-by-day mean over replications of one quantity of a time series.

    ``timeseries`` has the columns of ``Results.timeseries``: ``replication``, ``day``
    (days from the start of the run), ``series``, ``name``, ``grade``, ``value`` and
    optionally ``force``. The quantity is the sum of ``value`` over the rows of ``series``
    (``wip``: referrals open, a count of cases; ``busy``: staff occupied) whose ``name``
    (stage or pool), ``grade`` and ``force`` are among those given (None: all of them), per
    replication and day; it is then averaged over replications.

    Returns one row per day: ``quantity`` (a text describing the selection), ``day``
    (days), ``replication_mean`` (in the series' unit: cases or staff) and ``replications``
    (replications averaged). Raises ValueError if the selection matches no row."""
    names, grades, forces = _as_list(name), _as_list(grade), _as_list(force)
    chosen = timeseries["series"] == series
    for column, values in (("name", names), ("grade", grades), ("force", forces)):
        if values is not None:
            if column not in timeseries.columns:
                raise ValueError(f"{column}={values}: the time series has no {column!r} column")
            chosen &= timeseries[column].isin(values)
    rows = timeseries[chosen]
    if rows.empty:
        known = {column: sorted(map(str, pd.unique(timeseries[column])))
                 for column in ("series", "name", "grade", "force") if column in timeseries.columns}
        raise ValueError(f"no rows of series={series!r}, name={names}, grade={grades}, force={forces}; "
                         f"the time series has {known}")
    per_rep = rows.groupby(["replication", "day"], observed=True)["value"].sum().unstack("day", fill_value=0)
    out = pd.DataFrame({
        "quantity": _describe(series, names, grades, forces),
        "day": per_rep.columns.to_numpy(dtype=float),
        "replication_mean": per_rep.mean(axis=0).to_numpy(dtype=float),
        "replications": len(per_rep),
    })
    return out[AVERAGE_COLUMNS]


def welch_moving_average(values: np.ndarray | Sequence[float], window: int) -> np.ndarray:
    """Welch's moving average of ``values`` with window ``window`` (w, in samples).

    Point i (0-based) is the mean of ``values[i - w : i + w + 1]`` (2w + 1 samples) for
    w <= i < m - w; for i < w the window shrinks to the i samples either side,
    ``values[0 : 2i + 1]``; the last w points are NaN (no full window). ``window=0``
    returns the values. A straight line is reproduced exactly where defined, a constant too."""
    y = np.asarray(values, dtype=float)
    w = int(window)
    if w < 0 or w != window:
        raise ValueError(f"window={window!r}: a whole number of samples >= 0")
    m = len(y)
    out = np.full(m, np.nan)
    if 2 * w + 1 > m:
        raise ValueError(f"window={w} needs at least {2 * w + 1} samples, the series has {m}: use a smaller window "
                         f"(Law & Kelton suggest at most a quarter of the run)")
    if w == 0:
        return y.copy()
    # Full windows: a convolution (exact sums, no drift of cumulative sums over a long run).
    out[w: m - w] = np.convolve(y, np.full(2 * w + 1, 1.0 / (2 * w + 1)), mode="valid")
    # The first w points: the window shrinks to the i samples either side of point i.
    cumulative = np.cumsum(y[: 2 * w - 1])
    i = np.arange(w)
    out[:w] = cumulative[2 * i] / (2 * i + 1)
    return out


def _sample_interval(days: np.ndarray) -> float:
    """Days between samples; ValueError unless the days are increasing and equally spaced."""
    steps = np.diff(days)
    if len(steps) == 0 or not np.all(steps > 0):
        raise ValueError("the series needs at least two days, in increasing order")
    step = float(np.median(steps))
    if not np.allclose(steps, step, rtol=1e-6, atol=1e-9):
        raise ValueError("the days are not equally spaced (monitor interval): a moving average needs a regular series")
    return step


def welch(data: pd.DataFrame, windows_days: float | Sequence[float] = (7.0, 30.0), series: str = "wip",
          name: str | Sequence[str] | None = None, grade: str | Sequence[str] | None = None,
          force: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Welch's method: the replication average of a quantity and its moving averages.

    ``data`` is either a time series (``Results.timeseries``; the quantity is chosen by
    ``series``, ``name``, ``grade`` and ``force`` as in ``replication_average``, default
    every referral open) or a ``replication_average`` frame already. ``windows_days`` are
    Welch's windows w in days, each converted to samples at the series' sampling interval
    (``run.monitor_interval_days``) and rounded: a point's moving average spans the w days
    either side of it.

    Returns a tidy frame, one row per window x day, columns ``WELCH_COLUMNS``:
    ``quantity``; ``window_days`` (w as asked, days); ``day`` (days from the start);
    ``replication_mean`` (the mean over replications, the same for every window);
    ``moving_average`` (NaN over the last w days); ``replications``."""
    average = data if "replication_mean" in data.columns else replication_average(data, series, name, grade, force)
    average = average.sort_values("day")
    days = average["day"].to_numpy(dtype=float)
    step = _sample_interval(days)
    windows = [windows_days] if np.isscalar(windows_days) else list(windows_days)
    if not windows:
        raise ValueError("windows_days: give at least one window")
    frames = []
    for window_days in windows:
        if not (np.isfinite(window_days) and window_days >= 0):
            raise ValueError(f"windows_days: {window_days!r} is not a number of days >= 0")
        moving_average = welch_moving_average(average["replication_mean"].to_numpy(dtype=float),
                                              int(round(window_days / step)))
        frames.append(average.assign(window_days=float(window_days), moving_average=moving_average))
    return pd.concat(frames, ignore_index=True)[WELCH_COLUMNS]


@dataclass(frozen=True)
class Mser:
    """MSER on one series. ``truncation``: samples to delete (``batch_size * batches``);
    ``batches``: batches deleted (the minimising d); ``statistic``: MSER(d) for
    d = 0..``max_batches``; ``kept_mean``: the mean of the batch means kept, per d;
    ``at_limit``: the minimum is at the largest d searched (no steady state found)."""

    truncation: int
    batches: int
    statistic: np.ndarray
    kept_mean: np.ndarray
    batch_size: int
    max_batches: int
    at_limit: bool


def mser(values: np.ndarray | Sequence[float], batch_size: int = 5, max_fraction: float = 0.5) -> Mser:
    """The MSER truncation of ``values`` (MSER-5 with the default ``batch_size``).

    The series is cut into k = len(values) // batch_size batches from its start (the last
    ``len(values) % batch_size`` samples are left out) and d, the leading batches to delete,
    is searched over 0..floor(``max_fraction`` * k) (keeping at least two batches) for the
    smallest MSER(d) = sum_{j>d} (Z_j - Zbar_d)**2 / (k - d)**2; ties go to the smaller d."""
    y = np.asarray(values, dtype=float)
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r}: a whole number of samples >= 1")
    if not 0 <= max_fraction < 1:
        raise ValueError(f"max_fraction={max_fraction!r}: a share of the run in [0, 1)")
    if not np.all(np.isfinite(y)):
        raise ValueError("values must be finite (no NaN): MSER needs every sample")
    k = len(y) // batch_size
    if k < 4:
        raise ValueError(f"{len(y)} samples make {k} batches of {batch_size}: MSER needs at least 4")
    z = y[: k * batch_size].reshape(k, batch_size).mean(axis=1)
    d_max = min(int(np.floor(max_fraction * k)), k - 2)
    d = np.arange(d_max + 1)
    kept = k - d
    # Sums over the batches kept (d+1..k), from the reversed cumulative sums.
    centred = z - z.mean()  # centred first: the sums of squares stay accurate for large values
    kept_sum = np.cumsum(centred[::-1])[::-1][d]
    kept_squares = np.cumsum(centred[::-1] ** 2)[::-1][d]
    squared_deviations = np.maximum(kept_squares - kept_sum ** 2 / kept, 0.0)
    statistic = squared_deviations / kept ** 2
    best = int(np.argmin(statistic))
    return Mser(best * batch_size, best, statistic, z.mean() + kept_sum / kept, int(batch_size), int(d_max),
                best == d_max and d_max > 0)


def trend_r_squared(values: np.ndarray | Sequence[float]) -> float:
    """R^2 of a least-squares straight line through ``values`` against their position: the
    share of their variance a steady rise or fall explains (0 for a constant series)."""
    y = np.asarray(values, dtype=float)
    if len(y) < 3 or np.ptp(y) == 0:
        return 0.0
    correlation = np.corrcoef(np.arange(len(y), dtype=float), y)[0, 1]
    return float(correlation * correlation)


@dataclass(frozen=True)
class WarmupSuggestion:
    """What ``suggest_warmup`` found.

    ``warmup_days``: the suggested ``run.warmup_days`` (the day of the first sample kept;
    NaN when ``at_limit`` or ``trending``); ``truncated_samples``: the samples MSER would
    delete; ``batch_size``: samples a batch; ``at_limit``: the MSER minimum is at the end of
    its search, no steady state within the first part of the run; ``trend_r_squared``: R^2
    of a straight line through the batch means kept; ``trending``: it exceeds the limit, so
    the part kept is not steady; ``table``: one row per candidate truncation, columns
    ``MSER_COLUMNS`` (``truncated_batches``, its ``warmup_days``, ``mser`` and the
    ``kept_mean`` of the batch means kept, in the quantity's unit); ``quantity``: what the
    series measures; ``note``: why no warm-up is suggested, or empty."""

    warmup_days: float
    truncated_samples: int
    batch_size: int
    at_limit: bool
    trend_r_squared: float
    trending: bool
    table: pd.DataFrame
    quantity: str
    note: str


def suggest_warmup(data: pd.DataFrame, batch_size: int = 5, max_fraction: float = 0.5,
                   max_trend_r_squared: float = 0.5) -> WarmupSuggestion:
    """Suggest a warm-up by MSER (MSER-5 with the default ``batch_size``) applied to the
    replication-averaged series of ``data``: a ``replication_average`` or ``welch`` frame
    (columns ``day`` and ``replication_mean``; a ``welch`` frame's repeated windows are
    read once). The search covers the first ``max_fraction`` of the run (Franklin & White:
    at most half). ``warmup_days`` is the day of the first sample kept, 0 if none is
    deleted.

    No warm-up is suggested (``warmup_days`` NaN, ``note`` says why) when the MSER minimum
    lies at the end of the search (``at_limit``), or when a straight line through the batch
    means kept explains more than ``max_trend_r_squared`` of their variance (``trending``):
    either way the series has no steady state within the run."""
    if not 0 < max_trend_r_squared <= 1:
        raise ValueError(f"max_trend_r_squared={max_trend_r_squared!r}: a share of variance in (0, 1]")
    average = data.drop_duplicates("day").sort_values("day")
    days = average["day"].to_numpy(dtype=float)
    _sample_interval(days)
    values = average["replication_mean"].to_numpy(dtype=float)
    found = mser(values, batch_size, max_fraction)
    n_batches = len(values) // batch_size
    kept_batch_means = values[found.truncation: n_batches * batch_size].reshape(-1, batch_size).mean(axis=1)
    r_squared = trend_r_squared(kept_batch_means)
    trending = r_squared > max_trend_r_squared
    warmup = float(days[found.truncation]) if found.truncation else 0.0
    reasons = []
    if found.at_limit:
        reasons.append(f"the MSER minimum is at the end of its search ({max_fraction:.0%} of the run)")
    if trending:
        reasons.append(f"the part kept still trends (a straight line explains {r_squared:.0%} of its variation, "
                       f"more than {max_trend_r_squared:.0%})")
    note = ""
    if reasons:
        warmup = float("nan")
        note = ("; ".join(reasons) + ": no steady state found, the run is too short or the output is not "
                "stationary, so no warm-up is suggested")
    candidates = np.arange(found.max_batches + 1)
    table = pd.DataFrame({"truncated_batches": candidates, "warmup_days": days[candidates * batch_size],
                          "mser": found.statistic, "kept_mean": found.kept_mean})
    table.loc[0, "warmup_days"] = 0.0
    quantity = str(average["quantity"].iloc[0]) if "quantity" in average.columns and len(average) else ""
    return WarmupSuggestion(warmup, found.truncation, int(batch_size), found.at_limit, r_squared, trending,
                            table[MSER_COLUMNS], quantity, note)
