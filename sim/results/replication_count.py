"""How many replications are enough: the replications algorithm of Hoad, Robinson & Davies.

Each replication of the model gives one value of every output (a median time to arrest, the
backlog at the end, ...); the estimate is their mean over replications, with a Student-t
confidence interval. More replications narrow the interval. **Precision** here is the
relative half-width of that interval after ``n`` replications,

    d_n = t(1 - alpha/2, n - 1) * s_n / (sqrt(n) * |mean_n|),

the half-width as a share of the mean: ``precision=0.05`` asks for a 95 % interval of
+/- 5 % of the estimate. ``replication_trajectory`` follows ``mean_n``, ``s_n`` and ``d_n``
for n = 2, 3, ... N over the first n replications (in replication order), as if they had
been run one by one.

``recommend_replications`` gives, per output, the smallest n that meets the precision and
keeps meeting it: d_j <= precision for every j from n to n + k(n), with the look-ahead
k(n) = floor(k_limit * max(n, 100) / 100), i.e. ``k_limit`` (default 5) further replications
up to n = 100 and k_limit % of n beyond. An early interval can be narrow by chance (two or
three similar replications), so a precision met only momentarily is rejected. Hoad et al.
start from 3 replications (``min_replications``). An n whose look-ahead would need more
replications than were run is not confirmed: the recommendation is then missing, with a
note. Every row also has the **projected** number, from the mean and standard deviation of
all N replications: the smallest n with t(1 - alpha/2, n - 1) * s_N / (sqrt(n) |mean_N|)
<= precision, the usual estimate of how many replications to run when N were too few.

A relative precision needs a mean away from zero: an output whose mean is zero (no case
waiting 18 months in a short run, say) has no relative half-width, and its rows say so. A
replication in which a quantile was never reached (NaN) leaves the mean undefined from that
replication on, as in ``summarise_metrics``. Either way an output undefined after all N
replications gets no recommendation, whatever its first few replications gave.

``check_precision`` is the stopping rule of a sweep whose replications are chosen per point
(``run.replications=auto``): after N replications, the outputs whose relative half-width
after N is defined **decide**, and the precision is reached when at least one output decides
and every deciding output has a confirmed recommendation. An output that cannot decide (its
mean zero, or some replication without a value) is ignored, with a note: more replications
cannot give a quantile a value it lacks in a replication already run, and a mean that is zero
so far is an event too rare to be measured to a relative precision.

Reference: Hoad K, Robinson S, Davies R (2010). Automated selection of the number of
replications for a discrete-event simulation. Journal of the Operational Research Society
61(11): 1632-1644. doi:10.1057/jors.2009.121
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .catalogue import KEY_COLUMNS, REPLICATION_KEYS, ROW_COLUMNS, MetricKey, regions_by_force
from .summary import t_quantile

StudyKey = MetricKey | tuple[str, str, str, str]
"""(metric, by, grade) for the total, or (metric, by, grade, force)."""

DEFAULT_KEYS = REPLICATION_KEYS
"""The outputs a study follows unless told otherwise (``sim.results.catalogue.REPLICATION_KEYS``)."""

TRAJECTORY_COLUMNS = [*ROW_COLUMNS, "replications", "mean", "sd", "half_width", "relative_half_width", "level", "note"]
RECOMMENDATION_COLUMNS = [*ROW_COLUMNS, "replications_run", "mean", "relative_half_width", "precision", "look_ahead",
                          "recommended_replications", "projected_replications", "note"]

ZERO_MEAN_NOTE = "mean is zero: relative half-width undefined"


def look_ahead(n: int, k_limit: int = 5) -> int:
    """Further replications that must also meet the precision before ``n`` is accepted:
    ``k_limit`` up to n = 100, ``k_limit`` % of n beyond (Hoad et al. 2010)."""
    return int(k_limit * max(n, 100) // 100)


def _resolve_keys(per_rep: pd.DataFrame, keys: Sequence[StudyKey],
                  force: str | None) -> list[tuple[str, str, str, str]]:
    """Each key as (force, metric, by, grade), in the order of ``KEY_COLUMNS``."""
    if force is None:
        # replication_metrics writes the total's rows first in every replication.
        force = str(per_rep["force"].iloc[0]) if len(per_rep) else ""
    out = []
    for key in keys:
        if len(key) not in (3, 4):
            raise ValueError(f"metric key {key!r}: give (metric, by, grade) or (metric, by, grade, force)")
        metric, by, grade = key[:3]
        out.append((key[3] if len(key) == 4 else force, metric, by, grade))
    return out


def _values(groups: dict, key: tuple[str, str, str, str]) -> np.ndarray:
    """The key's value in each replication, in replication order."""
    rows = groups.get(key)
    if rows is None:
        force, metric, by, grade = key
        raise ValueError(f"no rows for metric={metric!r}, by={by!r}, grade={grade!r}, force={force!r} in the "
                         "replication metrics; choose a (metric, by, grade) that replication_metrics produces")
    if rows["replication"].duplicated().any():
        raise ValueError(f"{key}: more than one row per replication (several scenarios in one frame?)")
    return rows.sort_values("replication")["value"].to_numpy(dtype=float)


def _prefix_statistics(values: np.ndarray, level: float) -> dict[str, np.ndarray]:
    """Mean, sd, t half-width and relative half-width of values[:n] for n = 2..len(values)."""
    n = np.arange(1, len(values) + 1, dtype=float)
    finite = values[np.isfinite(values)]
    # Shifting by a typical value keeps the running sums of squares from cancelling.
    shift = finite[0] if len(finite) else 0.0
    shifted = values - shift
    # A NaN stays in every later prefix, as it should.
    running_sum, running_squares = np.cumsum(shifted), np.cumsum(shifted * shifted)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = shift + running_sum / n
        variance = np.clip((running_squares - running_sum * running_sum / n) / (n - 1), 0.0, None)
        sd = np.sqrt(variance)
        half_width = stats.t.ppf(0.5 + level / 2, n - 1) * sd / np.sqrt(n)
        # A mean that is zero up to rounding of the values has no relative precision.
        scale = np.fmax.accumulate(np.abs(values))
        zero = np.abs(mean) <= 1e-12 * scale
        relative = np.where(zero, np.nan, half_width / np.abs(mean))
    missing = np.cumsum(~np.isfinite(values))
    keep = slice(1, None)
    return {"replications": n[keep].astype(int), "mean": mean[keep], "sd": sd[keep], "half_width": half_width[keep],
            "relative_half_width": relative[keep], "zero": zero[keep], "missing": missing[keep]}


def replication_trajectory(per_rep: pd.DataFrame, keys: Sequence[StudyKey] = DEFAULT_KEYS, level: float = 0.95,
                           force: str | None = None) -> pd.DataFrame:
    """The confidence interval after the first n replications, n = 2..N, for each key.

    ``per_rep`` is a ``replication_metrics`` frame of one scenario (one row per replication
    and key). A key is (metric, by, grade), read for ``force`` (default: the frame's first
    row's force, the total's label, which ``replication_metrics`` writes first), or
    (metric, by, grade, force). Columns: force, region (the force's, as ``per_rep`` gives
    it: ``catalogue.regions_by_force``), metric, by, grade, replications (n), mean, sd
    (standard deviation over the n replications, in the metric's own unit), half_width (of
    the Student-t interval at ``level``, same unit), relative_half_width (half-width /
    |mean|, a fraction; NaN when the mean is zero or undefined), level, note."""
    if not 0 < level < 1:
        raise ValueError(f"level={level!r}: a confidence level in (0, 1)")
    frames = []
    groups = {key: rows for key, rows in per_rep.groupby(KEY_COLUMNS, sort=False)}
    region_of = regions_by_force(per_rep)
    for key in _resolve_keys(per_rep, keys, force):
        statistics = _prefix_statistics(_values(groups, key), level)
        note = np.where(statistics["missing"] > 0,
                        [f"no value in {missing} of {n} replications"
                         for missing, n in zip(statistics["missing"], statistics["replications"])],
                        np.where(statistics["zero"], ZERO_MEAN_NOTE, ""))
        frame = pd.DataFrame({column: statistics[column]
                              for column in ("replications", "mean", "sd", "half_width", "relative_half_width")})
        force, metric, by, grade = key
        labels = (force, region_of.get(force, ""), metric, by, grade)
        for position, (column, value) in enumerate(zip(ROW_COLUMNS, labels)):
            frame.insert(position, column, value)
        frame["level"] = level
        frame["note"] = note
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=TRAJECTORY_COLUMNS)
    return pd.concat(frames, ignore_index=True)[TRAJECTORY_COLUMNS]


def projected_replications(mean: float, sd: float, precision: float, level: float = 0.95) -> float:
    """The smallest n with t(1 - alpha/2, n - 1) * sd / (sqrt(n) |mean|) <= precision: the
    replications needed if ``mean`` and ``sd`` were the output's true mean and standard
    deviation. NaN when the mean is zero or either is undefined."""
    if not (np.isfinite(mean) and np.isfinite(sd)) or mean == 0:
        return math.nan
    spread = sd / (precision * abs(mean))

    def enough(n: int) -> bool:
        return t_quantile(0.5 + level / 2, n - 1) * spread <= math.sqrt(n)

    # The normal quantile is below every t quantile, so the z-based n is a lower bound; the
    # condition is monotone in n, so double to a sufficient n and bisect.
    too_few = max(2, math.ceil((stats.norm.ppf(0.5 + level / 2) * spread) ** 2))
    if enough(too_few):
        return float(too_few)
    sufficient = too_few * 2
    while not enough(sufficient):
        too_few, sufficient = sufficient, sufficient * 2
    while sufficient - too_few > 1:
        middle = (too_few + sufficient) // 2
        too_few, sufficient = (too_few, middle) if enough(middle) else (middle, sufficient)
    return float(sufficient)


def _recommend_one(trajectory: pd.DataFrame, precision: float, k_limit: int,
                   min_replications: int) -> tuple[float, str]:
    """(recommended n or NaN, note) for one key's trajectory rows."""
    last = trajectory.iloc[-1]
    if not np.isfinite(last["relative_half_width"]):
        # An output undefined over all the replications run (a quantile some replication
        # never reached, a zero mean) has no precision to meet, whatever its first few did.
        return math.nan, str(last["note"]) or "relative half-width undefined"
    n = trajectory["replications"].to_numpy()
    relative = trajectory["relative_half_width"].to_numpy()
    met = dict(zip(n, np.isfinite(relative) & (relative <= precision)))
    n_run = int(n.max())
    for candidate in n[n >= min_replications]:
        k = look_ahead(int(candidate), k_limit)
        if not met[candidate]:
            continue
        if not all(met[j] for j in range(candidate, min(candidate + k, n_run) + 1)):
            continue
        if candidate + k <= n_run:
            return float(candidate), ""
        # Met from here to the last replication run, but the look-ahead is not complete.
        return math.nan, (f"precision met from n={candidate} on, but only {n_run - candidate} of its {k} look-ahead "
                          "replications were run: run more")
    return math.nan, f"precision not reached in {n_run} replications"


def recommend_replications(trajectory: pd.DataFrame, precision: float = 0.05, k_limit: int = 5,
                           min_replications: int = 3) -> pd.DataFrame:
    """Per key of a ``replication_trajectory`` frame, the replications needed for a relative
    half-width of at most ``precision`` (a fraction of the mean), with Hoad et al.'s
    look-ahead (see the module's docstring).

    Columns: force, region (as the trajectory gives it), metric, by, grade; replications_run
    (N); mean and relative_half_width after all N; precision; look_ahead (the k of the
    recommended n, or of N when there is none); recommended_replications (missing if not
    reached and confirmed within N); projected_replications (from the mean and sd of all N;
    missing when the mean is zero or undefined); note (why a recommendation is missing)."""
    if not precision > 0:
        raise ValueError(f"precision={precision!r}: a relative half-width > 0, e.g. 0.05 for +/- 5 %")
    if k_limit < 0 or min_replications < 2:
        raise ValueError(f"k_limit={k_limit!r}, min_replications={min_replications!r}: need k_limit >= 0 and "
                         "min_replications >= 2")
    rows = []
    region_of = regions_by_force(trajectory)
    for (force, *metric_key), rows_of_key in trajectory.groupby(KEY_COLUMNS, sort=False):
        rows_of_key = rows_of_key.sort_values("replications")
        last = rows_of_key.iloc[-1]
        recommended, note = _recommend_one(rows_of_key, precision, k_limit, min_replications)
        k = look_ahead(int(recommended) if np.isfinite(recommended) else int(last["replications"]), k_limit)
        projected = projected_replications(last["mean"], last["sd"], precision, float(last["level"]))
        rows.append((force, region_of.get(force, ""), *metric_key, int(last["replications"]), last["mean"],
                     last["relative_half_width"], precision, k, recommended, projected, note))
    out = pd.DataFrame(rows, columns=RECOMMENDATION_COLUMNS)
    for column in ("recommended_replications", "projected_replications"):
        out[column] = out[column].astype("Int64")  # whole replications, missing where there is none
    return out


@dataclass(frozen=True)
class PrecisionCheck:
    """Whether the outputs followed reach a precision after ``replications`` (N)
    replications: ``reached`` when at least one output decides (its relative half-width
    after N is defined) and every deciding output has a confirmed recommendation;
    ``deciding`` how many decide; ``recommended`` the largest recommended number of
    replications over them (None unless reached); ``note`` which outputs fall short, or
    reached it, and which were ignored and why."""

    replications: int
    precision: float
    reached: bool
    deciding: int
    recommended: int | None
    note: str


def check_precision(per_rep: pd.DataFrame, precision: float, keys: Sequence[StudyKey] = DEFAULT_KEYS,
                    level: float = 0.95, k_limit: int = 5, min_replications: int = 3,
                    force: str | None = None) -> PrecisionCheck:
    """The sequential stopping rule over the replications of ``per_rep`` (a
    ``replication_metrics`` frame of one configuration, replications 0..N-1): whether the
    outputs ``keys`` (read for ``force``, as in ``replication_trajectory``) reach a relative
    half-width of at most ``precision`` at confidence ``level``, each confirmed over Hoad et
    al.'s look-ahead (``recommend_replications``). Outputs whose mean is zero or undefined
    after N cannot decide and are ignored (see the module's notes).

    >>> import pandas as pd
    >>> values = [10.0, 10.2, 9.9, 10.1, 10.0, 9.8, 10.1, 10.0]
    >>> per_rep = pd.DataFrame({"replication": range(8), "force": "all", "region": "",
    ...                         "metric": "m", "by": "all", "grade": "all", "value": values})
    >>> check = check_precision(per_rep, 0.05, keys=[("m", "all", "all")])
    >>> check.reached, check.recommended, check.deciding
    (True, 3, 1)
    >>> check_precision(per_rep.assign(value=0.0), 0.05, keys=[("m", "all", "all")]).note
    'no output decides; ignored: m/all/all (mean is zero: relative half-width undefined)'
    """
    trajectory = replication_trajectory(per_rep, keys, level, force)
    recommendation = recommend_replications(trajectory, precision, k_limit, min_replications)
    replications = int(per_rep["replication"].nunique())
    # one recommendation row per key, in the keys' order (a key's force named where it was given)
    names = [f"{row.metric}/{row.by}/{row.grade}" + ("" if len(key) == 3 else f" ({row.force})")
             for row, key in zip(recommendation.itertuples(index=False), keys)]
    deciding = np.isfinite(recommendation["relative_half_width"].to_numpy(dtype=float))
    recommended = recommendation["recommended_replications"]
    ignored = [f"{name} ({note})" for name, note, decides in zip(names, recommendation["note"], deciding)
               if not decides]
    confirmed = recommended.notna()
    short = [f"{name} ({relative:.3g})" for name, relative, decides, found
             in zip(names, recommendation["relative_half_width"], deciding, confirmed) if decides and not found]
    reached = bool(deciding.any()) and not short
    if not deciding.any():
        parts = ["no output decides"]
    elif reached:
        parts = [f"reached by {int(deciding.sum())} of {len(names)} outputs"]
    else:
        parts = [f"not reached in {replications} replications by " + ", ".join(short)]
    if ignored:
        parts.append("ignored: " + ", ".join(ignored))
    largest = int(recommended[deciding].max()) if reached else None
    return PrecisionCheck(replications, precision, reached, int(deciding.sum()), largest, "; ".join(parts))
