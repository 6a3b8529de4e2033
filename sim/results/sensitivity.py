"""Global sensitivity of a sweep's metrics to its sampled parameters: regression indices on a
space-filling design, Sobol' indices on a Saltelli design, Morris elementary effects on
Morris trajectories.

A sampled sweep (``sweep.sample`` in ``configs/sweep/NAME.yaml``) runs the model at many
points spread over the ranges of the parameters that are estimates, not sourced. Each
metric's value at a point is its estimate there (the mean over the point's replications).
Which analysis a design supports follows from how it was drawn (``ANALYSIS_OF_DESIGN``),
and ``sensitivity_indices`` chooses it:

- **regression** (``lhs``, ``sobol`` designs; ``regression_indices``): a linear regression
  of the metric on the parameters, two kinds of index per parameter.
  **SRC**, the standardised regression coefficient: the slope after the metric and every
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
  **SRRC**, the standardised rank regression coefficient: the same fit on the ranks of the
  metric and of the parameters. It captures effects that are monotone but not linear
  (a queue that explodes as capacity falls below demand), usually with a higher R^2; it
  ranks parameters but is no longer a decomposition of the metric's own variance.
  The interval of each coefficient is a percentile bootstrap over design points: the points
  are resampled with replacement and both fits are redone on each resample, so it covers the
  sampling of the design and the replication noise in each point's estimate (not the
  model-form error). Points whose metric has no value are dropped, and counted in
  ``n_undefined``. Such points are not missing at random: they are usually the most
  congested, so a large ``n_undefined`` means the fit describes the better-performing part of
  the design and understates the parameters that drive congestion.
- **sobol** (``saltelli`` designs; ``sobol_indices``): Sobol' variance-based indices with no
  model assumed (Saltelli et al. 2010, the estimators of ``SALib.analyze.sobol``). **S1**,
  the first-order index: the share of the metric's variance over the ranges that the
  parameter explains alone, ``Var(E[Y | X_i]) / Var(Y)``; **ST**, the total index: the share
  left unexplained when every other parameter is known, ``E[Var(Y | X_~i)] / Var(Y)``, its
  effect alone and in all its interactions. ``ST - S1`` is the parameter's interactions;
  the S1 sum to at most 1, and ``1 - sum(S1)`` is the variance due to interactions (and to
  replication noise, which adds to every ST). A parameter with ST near 0 can be fixed
  anywhere in its range. Intervals: SALib's bootstrap over the base samples (``resamples``
  resamples), ``value +- z * sd`` at ``level``.
- **morris** (``morris`` designs; ``morris_indices``): Morris' elementary effects (Morris
  1991; Campolongo et al. 2007; ``SALib.analyze.morris``). Each trajectory moves one
  parameter at a time by a step of ``levels / (2 (levels - 1))`` of its range; the
  elementary effect is the metric's change over that step divided by the step's share of
  the range, so it is in the metric's own units **per whole range of the parameter** (a
  linear effect ``y = c x`` over [low, high] gives ``c (high - low)`` at every step).
  **mu_star**, the mean of their absolute values: the parameter's overall influence, the
  screening measure; **sigma**, their standard deviation: how much the effect depends on
  where it is measured (non-linearity or interactions; 0 for a linear, additive effect);
  **mu**, their mean (signed: effects of both signs cancel in it). The interval of mu_star
  is SALib's bootstrap over the effects, ``value +- z * sd``.

Variance-based indices need the metric at every row of their design: the estimators pair
rows (A with AB_i, each step of a trajectory). A metric without a value at some point (a
99th percentile the survival curve never reaches within the run) has no Sobol' or Morris
index; its rows say so in ``note``, with how many points were undefined. Prefer a metric
defined at every point (the catalogue's ``TAIL_METRICS`` lead with such metrics). A design
point whose configuration equals another's (two rows that round to the same whole numbers)
runs once; its result stands for both rows, found by the rows' parameter values.

The metrics a congested design still defines at every point are the restricted mean
(``restricted_mean_time_to_arrest_548_days``), the Kaplan-Meier shares at fixed days
(``share_past_18_months``, ``share_waiting_past_365_days``) and the counts
(``cases_past_18_months``); the default metrics (``TAIL_METRICS``) lead with these and keep
the 99th percentile last, as an extra.

Resampling is seeded (``seed``; numpy's global generator, which some SALib releases reseed,
is restored afterwards): the same table and arguments give the same intervals.

This module is in the results layer: it works on the tidy sweep table (``sweep.parquet``,
``sim.io.collect``) and the design's ``SampleSpec``, and never runs the model or reads files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..config.design import SampleSpec, numpy_global_random_kept, rows_of, salib_problem, unit_sample
from ..domain import REGION
from .catalogue import ROW_COLUMNS, TAIL_METRICS, MetricKey, regions_by_force

KINDS = ("src", "srrc")
"""Index kinds of the regression: standardised (rank) regression coefficients."""

METHOD_INDICES: dict[str, tuple[str, ...]] = {"regression": KINDS, "sobol": ("S1", "ST"),
                                              "morris": ("mu_star", "sigma", "mu")}
"""The indices each analysis method gives (the ``index`` column), by method (the ``method``
column)."""

ANALYSIS_OF_DESIGN: dict[str, str] = {"lhs": "regression", "sobol": "regression", "saltelli": "sobol",
                                      "morris": "morris"}
"""The analysis a sampled design supports, by the design's ``sweep.sample.method``."""

_BLOCK_VALUES = 4_000_000  # parameter values of resamples fitted at once (32 MB of floats)

INDEX_COLUMNS = ["method", *ROW_COLUMNS, "parameter", "index", "value", "ci_low", "ci_high", "r_squared", "n_points",
                 "n_undefined", "note"]
"""The columns of a sensitivity table (``sensitivity.csv``): one row per method x metric x
parameter x index, the same for every method."""


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
    ordered = np.sort(row_ids, axis=-1)
    return 1 + (np.diff(ordered, axis=-1) != 0).sum(axis=-1)


def _standardised_fits(x: np.ndarray, y: np.ndarray, distinct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares fits of standardised ``y`` on the standardised columns of ``x``, many at
    once: ``x`` is (fits, points, parameters), ``y`` (fits, points), ``distinct`` the number
    of distinct design points in each fit. Returns the coefficients (fits, parameters) and
    R^2 (fits); NaN for a fit that cannot be made (a constant metric or parameter, too few
    distinct points, parameters collinear)."""
    n_fits, n_points, n_params = x.shape
    coefficients = np.full((n_fits, n_params), np.nan)
    r_squared = np.full(n_fits, np.nan)
    if n_points < 2 or n_params == 0:
        return coefficients, r_squared
    x_sd, y_sd = x.std(axis=1, ddof=1), y.std(axis=1, ddof=1)
    # An intercept is implicit (everything is centred), so a fit needs more distinct points
    # than parameters + 1 to leave a residual that R^2 can be judged by.
    fittable = (y_sd > 0) & (x_sd > 0).all(axis=1) & (distinct > n_params + 1)
    if not fittable.any():
        return coefficients, r_squared
    # z and w: x and y scaled to mean 0 and standard deviation 1 within each fit.
    z = (x[fittable] - x[fittable].mean(axis=1, keepdims=True)) / x_sd[fittable][:, None, :]
    w = (y[fittable] - y[fittable].mean(axis=1, keepdims=True)) / y_sd[fittable][:, None]
    # Normal equations on standardised columns are the parameters' correlation matrix,
    # well conditioned for a space-filling design; a resample that repeats few points can
    # make it singular, and is then left out rather than given arbitrary coefficients.
    ztz = np.einsum("bni,bnj->bij", z, z)
    solvable = np.linalg.cond(ztz) < 1e10
    beta = np.full((len(z), n_params), np.nan)
    if solvable.any():
        ztw = np.einsum("bni,bn->bi", z[solvable], w[solvable])
        beta[solvable] = np.linalg.solve(ztz[solvable], ztw[..., None])[..., 0]
    residuals = w - np.einsum("bni,bi->bn", z, np.nan_to_num(beta))
    fit_r_squared = 1.0 - (residuals ** 2).sum(axis=1) / (w ** 2).sum(axis=1)
    coefficients[fittable] = beta
    r_squared[fittable] = np.where(solvable, fit_r_squared, np.nan)
    return coefficients, r_squared


def _fits(kind: str, x: np.ndarray, y: np.ndarray, distinct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``_standardised_fits`` of the values (``src``) or of their ranks (``srrc``)."""
    if kind == "srrc":
        # Ties (whole-number parameters, counts of cases) share their mean rank, so a
        # parameter with few levels is not given a spurious order within a level.
        x, y = stats.rankdata(x, axis=1), stats.rankdata(y, axis=1)
    return _standardised_fits(x, y, distinct)


def _join(note: str, more: str) -> str:
    """``note`` and ``more`` as one note."""
    return f"{note}; {more}" if note else more


def _metric_values(table: pd.DataFrame, points: pd.Index, key: MetricKey, force: str | None) -> np.ndarray:
    """The metric's estimate at each of ``points`` (NaN where the point has no such row)."""
    metric, by, grade = key
    chosen = (table["metric"] == metric) & (table["by"] == by) & (table["grade"] == grade)
    if force is not None and "force" in table.columns:
        chosen &= table["force"] == force
    rows = table.loc[chosen, ["point", "estimate"]]
    if rows["point"].duplicated().any():
        raise ValueError(f"{key} has several rows for one design point: filter the table to one force "
                         f"(force=) or one scenario")
    return rows.set_index("point")["estimate"].reindex(points).to_numpy(dtype=float)


def regression_indices(table: pd.DataFrame, params: Sequence[str], metrics: Sequence[MetricKey] = TAIL_METRICS, *,
                       force: str | None = None, kinds: Sequence[str] = KINDS, resamples: int = 1000,
                       level: float = 0.95, seed: int = 1) -> pd.DataFrame:
    """Standardised regression (SRC) and rank regression (SRRC) coefficients of each metric
    on each parameter over the design points of a sweep, with bootstrap intervals.

    ``table`` is a sweep table (``sweep.parquet``): columns ``point``, the parameters,
    ``metric``, ``by``, ``grade``, ``estimate`` and, if present, ``status`` (only ``ok``
    points are used) and ``force`` (only the rows of ``force`` are used; default: the
    region's total, see ``total_force``). ``params`` names the parameter columns (the
    sampled design's dotted config keys, in their own units). ``metrics`` are
    (metric, by, grade) keys of the summary (default ``TAIL_METRICS``).

    Returns one row per metric x kind x parameter, columns ``INDEX_COLUMNS``: ``method``
    ``regression``, the row regressed (``force`` and its ``region`` as the table gives it,
    ``""`` if it gives none), ``index`` (the kind: ``src`` or ``srrc``), ``value`` (the
    coefficient, dimensionless: standard deviations of the metric, or of its rank, per
    standard deviation of the parameter), ``ci_low``/``ci_high`` (``level`` percentile
    bootstrap over ``resamples`` resamples of the points, from ``seed``), ``r_squared`` (of
    the whole fit, the same on each of its rows), ``n_points`` (points fitted),
    ``n_undefined`` (points without a value of the metric, dropped) and ``note`` (why a
    value is missing, or what was dropped). A parameter constant over the design, or a
    metric constant over the points, has no coefficient.
    """
    params, kinds = list(params), list(kinds)
    _check_arguments(table, params, kinds)
    ok_rows = table[table["status"] == "ok"] if "status" in table.columns else table
    if force is None and "force" in ok_rows.columns and len(ok_rows):
        force = total_force(ok_rows)
    design = _design(ok_rows, params)
    x_all = design.to_numpy(dtype=float)
    bootstrap = _Bootstrap(resamples, level, seed)
    region = regions_by_force(ok_rows).get(force, "") if "force" in ok_rows.columns else ""
    rows: list[tuple] = []
    for key in metrics:
        values = _metric_values(ok_rows, design.index, tuple(key), force)
        for kind, fit in _metric_fits(x_all, values, kinds, bootstrap):
            rows += [("regression", force, region, *key, name, kind, *fit.row(j, bootstrap))
                     for j, name in enumerate(params)]
    return pd.DataFrame(rows, columns=INDEX_COLUMNS)


def sensitivity_indices(table: pd.DataFrame, spec: SampleSpec, metrics: Sequence[MetricKey] = TAIL_METRICS, *,
                        force: str | None = None, resamples: int = 1000, level: float = 0.95,
                        seed: int = 1) -> pd.DataFrame:
    """The indices the sweep's design ``spec`` supports (``ANALYSIS_OF_DESIGN``): regression
    indices of an ``lhs`` or ``sobol`` design, Sobol' indices of a ``saltelli`` design, Morris
    elementary effects of a ``morris`` design; arguments and columns as
    ``regression_indices``."""
    method = ANALYSIS_OF_DESIGN[spec.method]
    if method == "regression":
        return regression_indices(table, spec.names, metrics, force=force, resamples=resamples, level=level,
                                  seed=seed)
    analyse = sobol_indices if method == "sobol" else morris_indices
    return analyse(table, spec, metrics, force=force, resamples=resamples, level=level, seed=seed)


def sobol_indices(table: pd.DataFrame, spec: SampleSpec, metrics: Sequence[MetricKey] = TAIL_METRICS, *,
                  force: str | None = None, resamples: int = 1000, level: float = 0.95,
                  seed: int = 1) -> pd.DataFrame:
    """Sobol' first-order (``S1``) and total (``ST``) indices of each metric for each
    parameter of a ``saltelli`` design ``spec``, from the sweep table run on it
    (``SALib.analyze.sobol``, without second-order indices).

    ``table`` as for ``regression_indices``; the design's rows are drawn again from
    ``spec`` and each is paired with the ``ok`` point whose parameter values it gives.
    Returns one row per metric x index x parameter, columns ``INDEX_COLUMNS``: ``method``
    ``sobol``, ``value`` (a share of the metric's variance over the ranges, dimensionless;
    an estimate, so a small one can fall below 0), ``ci_low``/``ci_high`` (``value`` minus
    and plus the normal quantile at ``level`` times the standard deviation over
    ``resamples`` bootstrap resamples of the base samples, from ``seed``), ``r_squared``
    missing, ``n_points`` (design points with a value), ``n_undefined`` (points without
    one: then every value is missing and ``note`` says why).
    """
    if spec.method != "saltelli":
        raise ValueError(f"Sobol' indices need a saltelli design, not {spec.method!r}: see ANALYSIS_OF_DESIGN")

    def analyse(problem, unit, y):
        from SALib.analyze import sobol

        result = sobol.analyze(problem, y, calc_second_order=False, num_resamples=resamples, conf_level=level,
                               print_to_console=False, seed=seed)
        return {index: (result[index], result[index] - result[f"{index}_conf"], result[index] + result[f"{index}_conf"])
                for index in ("S1", "ST")}

    return _paired_design_indices("sobol", analyse, table, spec, metrics, force, resamples, seed)


def morris_indices(table: pd.DataFrame, spec: SampleSpec, metrics: Sequence[MetricKey] = TAIL_METRICS, *,
                   force: str | None = None, resamples: int = 1000, level: float = 0.95,
                   seed: int = 1) -> pd.DataFrame:
    """Morris elementary-effect measures ``mu_star``, ``sigma`` and ``mu`` of each metric for
    each parameter of a ``morris`` design ``spec``, from the sweep table run on it
    (``SALib.analyze.morris``).

    ``table`` as for ``regression_indices``; the design's rows are drawn again from
    ``spec`` and each is paired with the ``ok`` point whose parameter values it gives.
    Returns one row per metric x index x parameter, columns ``INDEX_COLUMNS``: ``method``
    ``morris``, ``value`` in the metric's own unit per whole range of the parameter (see
    the module's notes), ``ci_low``/``ci_high`` for ``mu_star`` only (``value`` minus and
    plus the normal quantile at ``level`` times the standard deviation of ``resamples``
    bootstrap resamples of the elementary effects, from ``seed``; cut at 0), ``r_squared`` missing,
    ``n_points`` and ``n_undefined`` as for ``sobol_indices``.
    """
    if spec.method != "morris":
        raise ValueError(f"Morris measures need a morris design, not {spec.method!r}: see ANALYSIS_OF_DESIGN")

    def analyse(problem, unit, y):
        from SALib.analyze import morris

        result = morris.analyze(problem, unit, y, num_resamples=resamples, conf_level=level, print_to_console=False,
                                num_levels=spec.levels, seed=seed)
        mu_star, conf = np.asarray(result["mu_star"], dtype=float), np.asarray(result["mu_star_conf"], dtype=float)
        nothing = np.full(len(mu_star), np.nan)
        # mu* is a mean of absolute values: an interval below 0 says no more than one from 0.
        return {"mu_star": (mu_star, np.maximum(mu_star - conf, 0.0), mu_star + conf),
                "sigma": (np.asarray(result["sigma"], dtype=float), nothing, nothing),
                "mu": (np.asarray(result["mu"], dtype=float), nothing, nothing)}

    return _paired_design_indices("morris", analyse, table, spec, metrics, force, resamples, seed)


def _paired_design_indices(method: str, analyse, table: pd.DataFrame, spec: SampleSpec,
                           metrics: Sequence[MetricKey], force: str | None, resamples: int,
                           seed: int) -> pd.DataFrame:
    """Each metric's indices from ``analyse(problem, unit_rows, y_rows)`` (index -> value,
    low, high arrays over the parameters), given the metric at every row of the design;
    missing values, with a note, for a metric that lacks one at some row."""
    if not (isinstance(seed, int) and seed >= 1):
        # SALib's Sobol' analysis takes a seed of 0 as none: the intervals would differ each time.
        raise ValueError(f"seed={seed!r}: a whole number >= 1")
    if resamples < 2:
        raise ValueError(f"resamples={resamples!r}: at least 2 bootstrap resamples")
    params = spec.names
    _check_arguments(table, params, list(KINDS))
    ok_rows = table[table["status"] == "ok"] if "status" in table.columns else table
    if force is None and "force" in ok_rows.columns and len(ok_rows):
        force = total_force(ok_rows)
    region = regions_by_force(ok_rows).get(force, "") if "force" in ok_rows.columns else ""
    design = _design(ok_rows, params)
    unit, row_point = _rows_to_points(spec, design)
    problem = salib_problem(spec)
    unmatched = int((row_point < 0).sum())
    rows: list[tuple] = []
    for key in metrics:
        at_points = _metric_values(ok_rows, design.index, tuple(key), force)
        used = np.unique(row_point[row_point >= 0])
        n_undefined = int(np.isnan(at_points[used]).sum())
        n_points = len(used) - n_undefined
        y = np.full(len(row_point), np.nan)
        y[row_point >= 0] = at_points[row_point[row_point >= 0]]
        note = _why_not_analysed(method, unmatched, len(row_point), n_undefined, len(used), y)
        if note:
            results = {index: (np.full(len(params), np.nan),) * 3 for index in METHOD_INDICES[method]}
        else:
            with numpy_global_random_kept(), np.errstate(all="ignore"):
                results = analyse(problem, unit, y)
        for index in METHOD_INDICES[method]:
            value, low, high = (np.asarray(a, dtype=float) for a in results[index])
            rows += [(method, force, region, *key, name, index, float(value[j]), float(low[j]), float(high[j]),
                      math.nan, n_points, n_undefined, note) for j, name in enumerate(params)]
    return pd.DataFrame(rows, columns=INDEX_COLUMNS)


MATCH_TOLERANCE = 1e-9
"""How far (as a share of each parameter's range) a point's values may lie from a design
row's and still be the point run for it: values that went through a file (JSON, Parquet)
and back, or were printed and parsed, differ from the design's by far less."""


def _rows_to_points(spec: SampleSpec, design: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The design drawn again from ``spec`` (rows on the unit hypercube, in SALib's order)
    and, for each row, the position in ``design`` (the ``ok`` points' parameters) of the
    point run for it: the point whose values are the row's in the parameters' units (within
    ``MATCH_TOLERANCE``; of equal points, the first), -1 if there is none (a failed or
    missing point). Matched by values rather than by position, because rows that round to
    one configuration run as one point."""
    from scipy.spatial import cKDTree

    unit = unit_sample(spec)
    planned = np.array([[row[name] for name in spec.names] for row in rows_of(spec, unit)], dtype=float)
    where = np.full(len(planned), -1, dtype=int)
    values = design[spec.names].to_numpy(dtype=float)
    if not len(values):
        return unit, where
    low = np.array([lo for _, lo, _, _ in spec.ranges])
    width = np.array([hi - lo for _, lo, hi, _ in spec.ranges])
    distinct, first = np.unique(values, axis=0, return_index=True)
    distance, nearest = cKDTree((distinct - low) / width).query((planned - low) / width, p=np.inf)
    close = distance <= MATCH_TOLERANCE
    where[close] = first[nearest[close]]
    return unit, where


def _why_not_analysed(method: str, unmatched: int, n_rows: int, n_undefined: int, n_used: int,
                      y: np.ndarray) -> str:
    """Why a metric has no indices of ``method`` (empty if it can be analysed)."""
    needs = "the Sobol' estimators need" if method == "sobol" else "Morris' elementary effects need"
    if unmatched:
        return (f"{unmatched} of {n_rows} design rows have no finished point (failed or not run): "
                f"{needs} every row")
    if n_undefined:
        return (f"undefined at {n_undefined} of {n_used} design points (no value of the metric): {needs} every "
                "point; use a metric defined at every point")
    if method == "sobol" and np.ptp(y) == 0:  # no variance to share out (Morris: no effect, 0)
        return "metric constant over the points"
    return ""


def _check_arguments(table: pd.DataFrame, params: list[str], kinds: list[str]) -> None:
    """ValueError unless every kind is known and every parameter is a column of ``table``."""
    unknown_kinds = [k for k in kinds if k not in KINDS]
    if unknown_kinds:
        raise ValueError(f"kinds={unknown_kinds}: use {', '.join(KINDS)}")
    missing = [p for p in params if p not in table.columns]
    if missing:
        raise ValueError(f"parameter column(s) {missing} not in the table; its columns: {list(table.columns)}")
    if not params:
        raise ValueError("params: name at least one parameter column")


def _design(ok_rows: pd.DataFrame, params: list[str]) -> pd.DataFrame:
    """The parameters' values at each design point (rows indexed by point); ValueError if a
    parameter is not a number or has no value at some point."""
    design = ok_rows.drop_duplicates("point").set_index("point")[params]
    text = [p for p in params if not pd.api.types.is_numeric_dtype(design[p])]
    if text:
        raise ValueError(f"parameter column(s) {text} are not numbers (a config-group choice?): regress on numeric "
                         f"parameters, one analysis per choice")
    unset = np.isnan(design.to_numpy(dtype=float)).any(axis=0)
    if unset.any():
        parameter = params[int(np.where(unset)[0][0])]
        raise ValueError(f"parameter {parameter!r} has no value at some ok design point: was it sampled at every "
                         "point?")
    return design


@dataclass(frozen=True)
class _Bootstrap:
    """How the intervals are drawn: ``resamples`` resamples of the points from ``seed``, a
    ``level`` percentile interval."""

    resamples: int
    level: float
    seed: int

    @property
    def percentiles(self) -> tuple[float, float]:
        return 50 * (1 - self.level), 50 * (1 + self.level)


@dataclass(frozen=True)
class _Fit:
    """One metric's fit of one kind: a coefficient per parameter (NaN for one left out),
    R^2, the bootstrap coefficients (resamples x parameters), and what the notes need."""

    coefficients: np.ndarray
    r_squared: float
    resampled: np.ndarray
    varies: np.ndarray
    n_points: int
    n_dropped: int
    why_no_fit: str

    def row(self, j: int, bootstrap: _Bootstrap) -> tuple:
        """(coefficient, ci_low, ci_high, r_squared, n_points, n_dropped, note) of parameter ``j``."""
        note = (f"{self.n_dropped} of {self.n_points + self.n_dropped} points without a value dropped"
                if self.n_dropped else "")
        if not self.varies[j]:
            note = _join(note, "parameter constant over the points")
        elif not np.isfinite(self.r_squared):
            note = _join(note, f"no fit: {self.why_no_fit}")
        usable = int(np.isfinite(self.resampled[:, j]).sum())
        if np.isfinite(self.coefficients[j]) and usable >= 2:
            low, high = np.nanpercentile(self.resampled[:, j], bootstrap.percentiles)
            if usable < bootstrap.resamples:
                note = _join(note, f"interval from {usable} of {bootstrap.resamples} resamples (others degenerate)")
        else:
            low = high = np.nan
        return (float(self.coefficients[j]), float(low), float(high), self.r_squared, self.n_points, self.n_dropped,
                note)


def _metric_fits(x_all: np.ndarray, y_all: np.ndarray, kinds: list[str],
                 bootstrap: _Bootstrap) -> list[tuple[str, _Fit]]:
    """Each kind's fit of one metric (``y_all``, NaN where a point has no value) on the
    parameters (``x_all``, points x parameters), with its bootstrap."""
    keep = ~np.isnan(y_all)
    x, y = x_all[keep], y_all[keep]
    n_points, n_dropped = int(keep.sum()), int((~keep).sum())
    # A parameter constant over the points explains nothing and cannot be scaled: it is
    # left out of the fit rather than making every fit impossible.
    varies = x.std(axis=0, ddof=1) > 0 if n_points > 1 else np.zeros(x_all.shape[1], dtype=bool)
    x_varying = x[:, varies]
    point_ids = (np.unique(x_varying, axis=0, return_inverse=True)[1].reshape(-1) if n_points
                 else np.zeros(0, dtype=int))
    # A fresh generator per metric: a metric's intervals do not depend on which other
    # metrics were asked for, and SRC and SRRC see the same resamples (paired).
    rng = np.random.default_rng(bootstrap.seed)
    draws = (rng.integers(0, n_points, size=(bootstrap.resamples, n_points)) if n_points
             else np.zeros((bootstrap.resamples, 0), dtype=int))
    fits = []
    for kind in kinds:
        coefficients = np.full(x_all.shape[1], np.nan)
        fit, r_squared = _fits(kind, x_varying[None], y[None], _distinct(point_ids[None]))
        coefficients[varies], r_squared = fit[0], float(r_squared[0])
        resampled = np.full((bootstrap.resamples, x_all.shape[1]), np.nan)
        if np.isfinite(r_squared) and bootstrap.resamples:
            resampled[:, varies] = _resampled_fits(kind, x_varying, y, point_ids, draws)
        fits.append((kind, _Fit(coefficients, r_squared, resampled, varies, n_points, n_dropped,
                                _why_no_fit(y, varies, n_points))))
    return fits


def _resampled_fits(kind: str, x: np.ndarray, y: np.ndarray, point_ids: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """The coefficients fitted on each resample of the points (``draws``: resamples x
    points), in blocks so that a large design does not hold every resample at once."""
    out = np.empty((len(draws), x.shape[1]))
    step = max(1, _BLOCK_VALUES // max(1, len(y) * x.shape[1]))
    for first in range(0, len(draws), step):
        block = draws[first:first + step]
        out[first:first + step] = _fits(kind, x[block], y[block], _distinct(point_ids[block]))[0]
    return out


def _why_no_fit(y: np.ndarray, varies: np.ndarray, n_points: int) -> str:
    """Why a metric has no fit (said only when it has none)."""
    if n_points > 1 and np.std(y) == 0:
        return "metric constant over the points"
    if not varies.any():
        return "no parameter varies over the points"
    return f"too few distinct points ({n_points}) for {int(varies.sum())} parameters, or collinear"
