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
  Always ``R^2 = SRC' C SRC`` (C: the parameters' correlations over the design); when the
  parameters are uncorrelated ``SRC**2`` is therefore the share of the metric's variance
  over the design that the parameter explains, and the squares sum to R^2. A plain Latin
  hypercube is only nearly uncorrelated (chance correlations of order 1/sqrt(points), about
  0.1 for 64 points), so the decomposition is approximate. It is valid only when the linear
  fit explains most of the variance:
  **R^2 is reported with every coefficient so a reader can judge** (as a rule of thumb,
  R^2 >= 0.7). A low R^2 means the effects are non-linear, interact, or are buried in
  replication noise (the estimate of a point is a mean of few replications). With many
  parameters and few points R^2 is flattering: each parameter adds about 1/points by chance.
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
and understates the parameters that drive congestion. In a congested force the 99th
percentile is often never reached (the low-risk queue does not clear within the run), and
a summary estimate needs it in every replication: prefer a share (``share_past_18_months``)
or a count (``cases_past_18_months``), defined at every point, when many points drop.

This module is in the results layer: it works on the tidy sweep table (``sweep.parquet``,
``sim.io.collect``) and never runs the model or reads files.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..domain import REGION

TAIL_METRICS: tuple[tuple[str, str, str], ...] = (
    ("time_to_arrest_p99_days", "all", "all"),
    ("cases_past_18_months", "all", "all"),
    ("share_past_target", "true_risk", "H"),
    ("share_past_18_months", "all", "all"),
    ("time_to_arrest_p90_days", "true_risk", "H"),
)
"""The tail of the time-to-arrest distribution as (metric, by, grade) keys of the summary:
the 99th percentile of days to arrest, the referrals waiting past 18 months, and the share
of truly high-risk referrals not arrested within their 7-day target; then two that a
congested design still defines at every point. Where more than 1 % of referrals are never
arrested within follow-up the 99th percentile does not exist (most points of the preset
around the stressed baseline), and the high-risk share past 7 days sits near 1; the
Kaplan-Meier share past 18 months measures the same tail, and the high-risk 90th
percentile its high-risk part."""

KINDS = ("src", "srrc")
"""Index kinds: standardised (rank) regression coefficients."""

_BLOCK_VALUES = 4_000_000  # parameter values of resamples fitted at once (32 MB of floats)

INDEX_COLUMNS = ["force", "metric", "by", "grade", "kind", "parameter", "coefficient", "ci_low", "ci_high",
                 "r_squared", "n_points", "n_dropped", "note"]


def total_force(table: pd.DataFrame) -> str:
    """The label of the whole region's rows in a sweep table: the single force's name when
    only one force is present, else ``region`` (``SimConfig.total_name``)."""
    rows = table[(table["metric"] == "cases") & (table["by"] == "all") & (table["grade"] == "all")]
    forces = list(pd.unique((rows if len(rows) else table)["force"].dropna()))
    if len(forces) == 1:
        return str(forces[0])
    if REGION in forces:
        return REGION
    raise ValueError(f"cannot tell the region's total label from the forces {forces}: pass force=")


def _distinct(row_ids: np.ndarray) -> np.ndarray:
    """Distinct values in each row of ``row_ids`` (resamples x points)."""
    s = np.sort(row_ids, axis=-1)
    return 1 + (np.diff(s, axis=-1) != 0).sum(axis=-1)


def _standardised_fits(x: np.ndarray, y: np.ndarray, distinct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares fits of standardised ``y`` on the standardised columns of ``x``, many at
    once: ``x`` is (fits, points, parameters), ``y`` (fits, points), ``distinct`` the number
    of distinct design points in each fit. Returns the coefficients (fits, parameters) and
    R^2 (fits); NaN for a fit that cannot be made (a constant metric or parameter, too few
    distinct points, parameters collinear)."""
    b, n, p = x.shape
    coef = np.full((b, p), np.nan)
    r2 = np.full(b, np.nan)
    if n < 2 or p == 0:
        return coef, r2
    sx, sy = x.std(axis=1, ddof=1), y.std(axis=1, ddof=1)
    # An intercept is implicit (everything is centred), so a fit needs more distinct points
    # than parameters + 1 to leave a residual that R^2 can be judged by.
    ok = (sy > 0) & (sx > 0).all(axis=1) & (distinct > p + 1)
    if not ok.any():
        return coef, r2
    z = (x[ok] - x[ok].mean(axis=1, keepdims=True)) / sx[ok][:, None, :]
    w = (y[ok] - y[ok].mean(axis=1, keepdims=True)) / sy[ok][:, None]
    # Normal equations on standardised columns are the parameters' correlation matrix,
    # well conditioned for a space-filling design; a resample that repeats few points can
    # make it singular, and is then left out rather than given arbitrary coefficients.
    ztz = np.einsum("bni,bnj->bij", z, z)
    solvable = np.linalg.cond(ztz) < 1e10
    beta = np.full((len(z), p), np.nan)
    if solvable.any():
        ztw = np.einsum("bni,bn->bi", z[solvable], w[solvable])
        beta[solvable] = np.linalg.solve(ztz[solvable], ztw[..., None])[..., 0]
    resid = w - np.einsum("bni,bi->bn", z, np.nan_to_num(beta))
    fit_r2 = 1.0 - (resid ** 2).sum(axis=1) / (w ** 2).sum(axis=1)
    coef[ok] = beta
    r2[ok] = np.where(solvable, fit_r2, np.nan)
    return coef, r2


def _fits(kind: str, x: np.ndarray, y: np.ndarray, distinct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if kind == "srrc":
        # Ties (whole-number parameters, counts of cases) share their mean rank, so a
        # parameter with few levels is not given a spurious order within a level.
        x, y = stats.rankdata(x, axis=1), stats.rankdata(y, axis=1)
    return _standardised_fits(x, y, distinct)


def _join(note: str, more: str) -> str:
    return f"{note}; {more}" if note else more


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
    text = [p for p in params if not pd.api.types.is_numeric_dtype(design[p])]
    if text:
        raise ValueError(f"parameter column(s) {text} are not numbers (a config-group choice?): regress on numeric "
                         f"parameters, one analysis per choice")
    x_all = design.to_numpy(dtype=float)
    if np.isnan(x_all).any():
        col = params[int(np.where(np.isnan(x_all).any(axis=0))[0][0])]
        raise ValueError(f"parameter {col!r} has no value at some ok design point: was it sampled at every point?")
    rows: list[tuple] = []
    lo_q, hi_q = 50 * (1 - level), 50 * (1 + level)
    for key in metrics:
        y_all = _metric_values(ok, design.index, tuple(key), force)
        keep = ~np.isnan(y_all)
        x, y = x_all[keep], y_all[keep]
        n, dropped = int(keep.sum()), int((~keep).sum())
        base_note = f"{dropped} of {len(keep)} points without a value dropped" if dropped else ""
        # A parameter constant over the points explains nothing and cannot be scaled: it is
        # left out of the fit rather than making every fit impossible.
        varies = x.std(axis=0, ddof=1) > 0 if n > 1 else np.zeros(len(params), dtype=bool)
        xv = x[:, varies]
        row_id = np.unique(xv, axis=0, return_inverse=True)[1].reshape(-1) if n else np.zeros(0, dtype=int)
        # A fresh generator per metric: a metric's intervals do not depend on which other
        # metrics were asked for, and SRC and SRRC see the same resamples (paired).
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, n, size=(resamples, n)) if n else np.zeros((resamples, 0), dtype=int)
        for kind in kinds:
            coef = np.full(len(params), np.nan)
            fit, r2 = _fits(kind, xv[None], y[None], _distinct(row_id[None]))
            coef[varies], r2 = fit[0], float(r2[0])
            boot = np.full((resamples, len(params)), np.nan)
            if np.isfinite(r2) and resamples:
                # In blocks, so that a large design does not hold every resample at once.
                step = max(1, _BLOCK_VALUES // max(1, n * xv.shape[1]))
                for s0 in range(0, resamples, step):
                    d = draws[s0:s0 + step]
                    boot[s0:s0 + step, varies] = _fits(kind, xv[d], y[d], _distinct(row_id[d]))[0]
            usable = np.isfinite(boot).sum(axis=0)
            for j, name in enumerate(params):
                note = base_note
                if not varies[j]:
                    note = _join(note, "parameter constant over the points")
                elif not np.isfinite(r2):
                    if n > 1 and np.std(y) == 0:
                        why = "metric constant over the points"
                    elif not varies.any():
                        why = "no parameter varies over the points"
                    else:
                        why = f"too few distinct points ({n}) for {int(varies.sum())} parameters, or collinear"
                    note = _join(note, f"no fit: {why}")
                if np.isfinite(coef[j]) and usable[j] >= 2:
                    lo, hi = np.nanpercentile(boot[:, j], [lo_q, hi_q])
                    if usable[j] < resamples:
                        note = _join(note, f"interval from {usable[j]} of {resamples} resamples (others degenerate)")
                else:
                    lo = hi = np.nan
                rows.append((force, *key, kind, name, float(coef[j]), float(lo), float(hi), r2, n, dropped, note))
    return pd.DataFrame(rows, columns=INDEX_COLUMNS)
