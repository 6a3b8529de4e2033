"""Global sensitivity of a sweep's metrics to its sampled parameters: regression indices.

A sampled sweep (``sweep.sample`` in ``configs/sweep/NAME.yaml``: a Latin hypercube or
Sobol design) runs the model at many points spread over the ranges of the parameters that
are estimates, not sourced. ``regression_indices`` fits, for each metric, a linear regression
of the metric's estimate at each design point (its mean over the point's replications) on
the parameters, and reports two kinds of index per parameter:

- **SRC**, the standardised regression coefficient: the slope after the metric and every
  parameter are scaled to mean 0 and standard deviation 1 over the design points. It is the
  change in the metric, in standard deviations, for one standard deviation of the
  parameter with the others held fixed, so parameters in different units compare directly.
  When the parameters are uncorrelated (a Latin hypercube nearly is) ``SRC**2`` is the share
  of the metric's variance over the design that the parameter explains, and the squares sum
  to R^2. That reading is valid only when the linear fit explains most of the variance:
  **R^2 is reported with every coefficient so a reader can judge** (as a rule of thumb,
  R^2 >= 0.7). A low R^2 means the effects are non-linear, interact, or are buried in
  replication noise (the estimate of a point is a mean of few replications).
- **SRRC**, the standardised rank regression coefficient: the same fit on the ranks of the
  metric and of the parameters. It captures effects that are monotone but not linear
  (a queue that explodes as capacity falls below demand), usually with a higher R^2; it
  ranks parameters but is no longer a decomposition of the metric's own variance.

The interval of each coefficient is a percentile bootstrap over design points: the points
are resampled with replacement and both fits are redone on each resample, so it covers the
sampling of the design and the replication noise in each point's estimate (not the
model-form error). Resampling uses its own ``numpy.random.Generator`` from a fixed seed:
the same table and arguments give the same intervals.

Points whose metric has no value (NaN: e.g. a 99th percentile of time to arrest that the
survival curve never reaches within the run in some replication) are dropped, and counted in
``n_dropped``. Such points are not missing at random: they are usually the most congested,
so a large ``n_dropped`` means the fit describes the better-performing part of the design
and understates the parameters that drive congestion.

This module is in the results layer: it works on the tidy sweep table (``sweep.parquet``,
``sim.collect``) and never runs the model or reads files.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..config import REGION

TAIL_METRICS: tuple[tuple[str, str, str], ...] = (
    ("time_to_arrest_p99_days", "all", "all"),
    ("cases_past_18_months", "all", "all"),
    ("share_past_target", "true_risk", "H"),
)
"""The tail of the time-to-arrest distribution as (metric, by, grade) keys of the summary:
the 99th percentile of days to arrest, the referrals waiting past 18 months, and the share
of truly high-risk referrals not arrested within their 7-day target."""

KINDS = ("src", "srrc")
"""Index kinds: standardised (rank) regression coefficients."""

INDEX_COLUMNS = ["force", "metric", "by", "grade", "kind", "parameter", "coefficient", "ci_low", "ci_high",
                 "r_squared", "n_points", "n_dropped", "note"]


def total_force(table: pd.DataFrame) -> str:
    """The label of the whole region's rows in a sweep table: the single force's name when
    only one force is present, else ``region`` (``SimConfig.total_name``)."""
    rows = table[(table["metric"] == "cases") & (table["by"] == "all") & (table["grade"] == "all")]
    forces = list(pd.unique(rows["force"].dropna()))
    if len(forces) == 1:
        return str(forces[0])
    if REGION in forces:
        return REGION
    raise ValueError(f"cannot tell the region's total label from the forces {forces}: pass force=")


def _standardised_fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Coefficients of the least-squares fit of standardised ``y`` on standardised columns
    of ``x`` (n points x p parameters), and its R^2. A constant column gets NaN (it
    explains nothing and cannot be scaled); a constant ``y`` gives NaN throughout."""
    n, p = x.shape
    coef = np.full(p, np.nan)
    sy = y.std(ddof=1) if n > 1 else 0.0
    sx = x.std(axis=0, ddof=1) if n > 1 else np.zeros(p)
    varies = sx > 0
    # An intercept is implicit (everything is centred), so a fit needs more points than
    # varying parameters + 1 to leave a residual to judge it by.
    if sy == 0 or not np.isfinite(sy) or n <= varies.sum() + 1:
        return coef, np.nan
    z = (x[:, varies] - x[:, varies].mean(axis=0)) / sx[varies]
    w = (y - y.mean()) / sy
    beta, *_ = np.linalg.lstsq(z, w, rcond=None)
    coef[varies] = beta
    resid = w - z @ beta
    return coef, float(1.0 - resid @ resid / (w @ w))


def _ranked(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Ties (whole-number parameters, counts of cases) share their mean rank, so a
    # parameter with few levels is not given a spurious order within a level.
    return stats.rankdata(x, axis=0), stats.rankdata(y)


def _fit(kind: str, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    if kind == "srrc":
        x, y = _ranked(x, y)
    return _standardised_fit(x, y)


def _metric_values(table: pd.DataFrame, points: pd.Index, key: tuple[str, str, str], force: str | None) -> np.ndarray:
    """The metric's estimate at each of ``points`` (NaN where the point has no such row)."""
    metric, by, grade = key
    sel = (table["metric"] == metric) & (table["by"] == by) & (table["grade"] == grade)
    if force is not None and "force" in table.columns:
        sel &= table["force"] == force
    rows = table.loc[sel, ["point", "estimate"]]
    if rows["point"].duplicated().any():
        raise ValueError(f"{key} has several rows for one design point: filter the table to one force "
                         f"(force=) or one scenario")
    return rows.set_index("point")["estimate"].reindex(points).to_numpy(dtype=float)


def regression_indices(table: pd.DataFrame, params: Sequence[str],
                       metrics: Sequence[tuple[str, str, str]] = TAIL_METRICS, *, force: str | None = None,
                       kinds: Sequence[str] = KINDS, resamples: int = 1000, level: float = 0.95,
                       seed: int = 1) -> pd.DataFrame:
    """Standardised regression (SRC) and rank regression (SRRC) coefficients of each metric
    on each parameter over the design points of a sweep, with bootstrap intervals.

    ``table`` is a sweep table (``sweep.parquet``): columns ``point``, the parameters,
    ``metric``, ``by``, ``grade``, ``estimate`` and, if present, ``status`` (only ``ok``
    points are used) and ``force`` (only the rows of ``force`` are used; default: the
    region's total, see ``total_force``). ``params`` names the parameter columns (the
    sampled design's dotted config keys, in their own units). ``metrics`` are
    (metric, by, grade) keys of the summary (default ``TAIL_METRICS``).

    Returns one row per metric x kind x parameter, columns ``INDEX_COLUMNS``:
    ``coefficient`` (dimensionless: standard deviations of the metric, or of its rank, per
    standard deviation of the parameter), ``ci_low``/``ci_high`` (``level`` percentile
    bootstrap over ``resamples`` resamples of the points, from ``seed``), ``r_squared`` (of
    the whole fit, the same on each of its rows), ``n_points`` (points fitted),
    ``n_dropped`` (points without a value of the metric) and ``note`` (why a value is
    missing, or what was dropped). A parameter constant over the design, or a metric
    constant over the points, has no coefficient.
    """
    params = list(params)
    kinds = list(kinds)
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise ValueError(f"kinds={bad}: use {', '.join(KINDS)}")
    missing = [p for p in params if p not in table.columns]
    if missing:
        raise ValueError(f"parameter column(s) {missing} not in the table; its columns: {list(table.columns)}")
    if not params:
        raise ValueError("params: name at least one parameter column")
    ok = table[table["status"] == "ok"] if "status" in table.columns else table
    if force is None and "force" in ok.columns and len(ok):
        force = total_force(ok)
    design = ok.drop_duplicates("point").set_index("point")[params]
    x_all = design.to_numpy(dtype=float)
    if np.isnan(x_all).any():
        col = params[int(np.where(np.isnan(x_all).any(axis=0))[0][0])]
        raise ValueError(f"parameter {col!r} has no value at some ok design point: was it sampled at every point?")
    rows: list[tuple] = []
    for key in metrics:
        y_all = _metric_values(ok, design.index, tuple(key), force)
        keep = ~np.isnan(y_all)
        x, y = x_all[keep], y_all[keep]
        n, dropped = int(keep.sum()), int((~keep).sum())
        base_note = f"{dropped} of {len(keep)} points without a value dropped" if dropped else ""
        # A fresh generator per metric: a metric's intervals do not depend on which other
        # metrics were asked for, and SRC and SRRC see the same resamples (paired).
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, n, size=(resamples, n)) if n else np.zeros((resamples, 0), dtype=int)
        for kind in kinds:
            coef, r2 = _fit(kind, x, y)
            boot = np.full((resamples, len(params)), np.nan)
            if np.isfinite(r2):
                for b, idx in enumerate(draws):
                    boot[b] = _fit(kind, x[idx], y[idx])[0]
            with np.errstate(all="ignore"):
                usable = np.isfinite(boot).sum(axis=0)
            lo_q, hi_q = 50 * (1 - level), 50 * (1 + level)
            for j, name in enumerate(params):
                note = base_note
                if not np.isfinite(r2):
                    why = ("metric constant over the points" if n > 1 and np.nanstd(y) == 0
                           else f"too few points ({n}) for {len(params)} parameters")
                    note = "; ".join(filter(None, [note, f"no fit: {why}"]))
                elif not np.isfinite(coef[j]):
                    note = "; ".join(filter(None, [note, "parameter constant over the points"]))
                if np.isfinite(coef[j]) and usable[j] >= 2:
                    lo, hi = np.nanpercentile(boot[:, j], [lo_q, hi_q])
                    if usable[j] < resamples:  # a resample where the parameter did not vary
                        note = "; ".join(filter(None, [note, f"interval from {usable[j]} of {resamples} resamples"]))
                else:
                    lo = hi = np.nan
                rows.append((force, *key, kind, name, float(coef[j]), float(lo), float(hi), r2, n, dropped, note))
    return pd.DataFrame(rows, columns=INDEX_COLUMNS)
