"""Staffing search: the least staffing that meets a service target with stated confidence.

The target (the inspectorate's question): with confidence ``confidence``, fewer than
``max_share_late`` of high-risk referrals (by true risk) wait more than ``within_days`` for an
arrest, and none waits past 18 months. For one staffing level:

- each replication gives the Kaplan–Meier share of those referrals not arrested by
  ``within_days``; the level passes the share test if the one-sided upper confidence bound
  of the mean over replications (Student t) is below ``max_share_late``;
- it passes the tail test if no replication has a high-risk referral waiting past 18 months.

Every level runs the same replications and seeds (common random numbers), so levels differ
only by staffing. ``search_investigators`` bisects on the number of investigators, relying on
more investigators never making these waits worse (checked in the tests); every level it
ran is returned. ``search_mix`` walks a grid of staffing mixes from the cheapest up and stops
at the first that passes, so the answer is the cheapest mix in the grid.

Everything a search is given is checked by :func:`check_search` before the first level
runs, and each level is handed to ``on_level`` as it finishes, so a caller can keep the
levels already run should the search be stopped part way.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..config.convert import leaves, replace_path
from ..config.schema import SimConfig
from ..domain import EIGHTEEN_MONTHS_DAYS, GRADES
from ..errors import ConfigError
from ..model import ReplicationOutput
from ..results import Results
from ..results.metrics import km_share_waiting_past
from .runner import simulate

INVESTIGATORS_KEY = "staffing.investigators"
MAX_INVESTIGATORS = 1000
"""The most investigators a search may try: far above any force's team, low enough that a
typing slip (an extra zero or three) is refused instead of simulated."""
HIGHEST_TRIED = 60
"""The most investigators the bisection tries unless told otherwise."""
MAX_COMBINATIONS = 10_000
"""The most staffing mixes a grid may hold (each is a full simulation)."""
MIN_REPLICATIONS = 2
"""The fewest replications that give the share late an upper confidence bound: the Student
t bound has n - 1 degrees of freedom, so one replication has none and can never pass."""


@dataclass(frozen=True)
class Target:
    """The service target a staffing level must meet: with ``confidence``, fewer than
    ``max_share_late`` (a fraction) of referrals of true risk ``risks`` wait more than
    ``within_days`` for an arrest, and no more than ``max_cases_past_18_months`` of them in
    any replication wait past 18 months."""

    risks: tuple[str, ...] = ("VH", "H")
    within_days: float = 7.0
    max_share_late: float = 0.01
    max_cases_past_18_months: int = 0
    confidence: float = 0.9


@dataclass
class SearchResult:
    """The answer (``None`` if nothing searched passes) and every level run."""

    answer: dict | None
    runs: pd.DataFrame = field(default_factory=pd.DataFrame)
    target: Target = field(default_factory=Target)


LevelCallback = Callable[[pd.DataFrame], None]
"""Called with every level run so far (a ``SearchResult.runs`` table) after each level."""


def check_search(cfg: SimConfig, target: Target, grid: Mapping[str, Sequence[float]] | None = None,
                 costs: Mapping[str, float] | None = None, low: int | None = None, high: int | None = None,
                 names: Mapping[str, str] | None = None) -> None:
    """Raise ConfigError unless a search of ``cfg`` for ``target`` can run and give an
    answer: one force, at least ``MIN_REPLICATIONS`` replications, a target the run can
    observe, and either a grid of numeric configuration keys whose every level (and every
    mix) is a valid configuration, with a cost for each key, or a range of investigators
    ``low`` (default today's) to ``high``, at most ``MAX_INVESTIGATORS``. Errors name
    ``target.FIELD``, ``grid``, ``costs``, ``low`` and ``high``, or what ``names`` maps those
    to (a command's options).

    >>> import sim
    >>> cfg = sim.load_config(["run.replications=1"])
    >>> check_search(cfg, Target())
    Traceback (most recent call last):
    ...
    sim.errors.ConfigError: run.replications=1: the search needs at least 2: ...
    """
    names = names or {}
    _config_with(cfg, {})  # a region, which the search cannot size, fails here
    if cfg.run.replications < MIN_REPLICATIONS:
        raise ConfigError("run.replications", cfg.run.replications,
                          f"the search needs at least {MIN_REPLICATIONS}: the upper confidence bound on the "
                          "share late (Student t, n - 1 degrees of freedom) does not exist for one, so no level "
                          "could meet the target")
    _check_target(target, cfg.run.horizon_days, names)
    if grid:
        _check_grid(cfg, grid, names.get("grid", "grid"))
        _check_costs(grid, costs or {}, names.get("grid", "grid"), names.get("costs", "costs"))
    elif high is not None:
        today = cfg.staffing.investigators
        if low is None:
            low, lowest = today, f"today's {today} ({INVESTIGATORS_KEY})"
        else:
            lowest = f"low ({low})"
            if not _is_whole(low) or low < 1:
                raise ConfigError(names.get("low", "low"), low, "a whole number of investigators >= 1")
        if not _is_whole(high) or not low <= high <= MAX_INVESTIGATORS:
            raise ConfigError(names.get("high", "high"), high,
                              f"a whole number of investigators from {lowest} to {MAX_INVESTIGATORS}")
        _config_with(cfg, {INVESTIGATORS_KEY: high})


def _check_target(target: Target, horizon_days: float, names: Mapping[str, str]) -> None:
    """Raise ConfigError unless every field of ``target`` is usable on a run of
    ``horizon_days``."""
    def name(field_name: str) -> str:
        return names.get(field_name, f"target.{field_name}")

    if not target.risks or any(risk not in GRADES for risk in target.risks):
        raise ConfigError(name("risks"), ",".join(target.risks), "grades from VH, H, M, L, comma-separated")
    if not (math.isfinite(target.within_days) and 0 < target.within_days < horizon_days):
        raise ConfigError(name("within_days"), target.within_days,
                          f"a finite number of days > 0 and below run.horizon_days ({horizon_days:g}), "
                          "which the run can observe")
    for field_name in ("max_share_late", "confidence"):
        value = getattr(target, field_name)
        if not 0 < value < 1:  # NaN fails too
            raise ConfigError(name(field_name), value, "a fraction in (0, 1), e.g. 0.9")
    cases = target.max_cases_past_18_months
    if not _is_whole(cases) or cases < 0:
        raise ConfigError(name("max_cases_past_18_months"), cases, "a whole number of cases >= 0")


def _check_grid(cfg: SimConfig, grid: Mapping[str, Sequence[float]], name: str) -> None:
    """Raise ConfigError (named ``name``, then the key) unless every key of ``grid`` is a
    numeric parameter of the model, every level a finite number giving a valid
    configuration, and the mixes few enough to run."""
    for key, levels in grid.items():
        if key.split(".", 1)[0] == "run":
            raise ConfigError(name, key, "the search varies the model, not the run (seed, replications, "
                                         "horizon): every level must run the same replications")
        if not _is_numeric(leaves(cfg).get(key, "")):
            raise ConfigError(name, key, f"not a numeric configuration key, e.g. {INVESTIGATORS_KEY}")
        if not levels:
            raise ConfigError(name, key, "give at least one level")
        for level in levels:
            try:
                _config_with(cfg, {key: level})
            except ConfigError as exc:
                allowed = exc.allowed if exc.key == key else str(exc)
                raise ConfigError(f"{name} {key}", level, allowed) from None
    mixes = math.prod(len(levels) for levels in grid.values())
    if mixes > MAX_COMBINATIONS:
        raise ConfigError(name, f"{mixes} mixes", f"at most {MAX_COMBINATIONS} mixes (each is a full simulation)")
    for combination in _combinations(grid):
        try:
            _config_with(cfg, combination)
        except ConfigError as exc:
            mix = ", ".join(f"{key}={value:g}" for key, value in combination.items())
            raise ConfigError(name, mix, f"this mix is not a valid configuration: {exc}") from None


def _check_costs(grid: Mapping[str, Sequence[float]], costs: Mapping[str, float], grid_name: str,
                 name: str) -> None:
    """Raise ConfigError unless every key of ``grid``, and no other, has a finite cost per
    unit >= 0."""
    for key, cost in costs.items():
        if key not in grid:
            raise ConfigError(name, key, f"not a {grid_name} key; cost the keys of {grid_name}: {', '.join(grid)}")
        if not (math.isfinite(cost) and cost >= 0):
            raise ConfigError(f"{name} {key}", cost, "a finite cost per unit >= 0")
    for key in grid:
        if key not in costs:
            raise ConfigError(grid_name, key, f"give every {grid_name} key a cost per unit ({name})")


def _is_whole(value: object) -> bool:
    """Whether ``value`` is an int (and not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_numeric(value: object) -> bool:
    """Whether a configuration value is a number (or an optional number not set)."""
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def assess(results: Results, target: Target) -> dict:
    """Whether ``results`` meets ``target``: the share late (mean and upper bound over
    replications), the worst replication's count past 18 months, and the verdict."""
    referrals = results.referrals
    referrals = referrals[referrals["true_risk"].isin(target.risks)]
    shares_late, past_18_months = [], []
    horizon_days = results.config.run.horizon_days
    for _, replication in referrals.groupby("replication"):
        followup, arrested = replication["followup_days"].to_numpy(), ~replication["censored"].to_numpy()
        observable_days = horizon_days - replication["arrival_day"].min()
        shares_late.append(km_share_waiting_past(followup, arrested, target.within_days, observable_days)[0])
        past_18_months.append(int((followup > EIGHTEEN_MONTHS_DAYS).sum()))
    share_late = np.asarray(shares_late, dtype=float)
    n = len(share_late)
    if n < MIN_REPLICATIONS or np.isnan(share_late).any():
        upper = np.nan
    else:
        upper = share_late.mean() + stats.t.ppf(target.confidence, n - 1) * share_late.std(ddof=1) / np.sqrt(n)
    meets = bool(np.isfinite(upper) and upper < target.max_share_late
                 and max(past_18_months) <= target.max_cases_past_18_months)
    return {"share_late": float(share_late.mean()) if n else np.nan, "share_late_upper": float(upper),
            "worst_cases_past_18_months": max(past_18_months) if past_18_months else 0, "replications": n,
            "meets_target": meets}


def _config_with(cfg: SimConfig, changes: Mapping[str, float]) -> SimConfig:
    """``cfg`` with numeric dotted keys (``staffing.investigators``) set; validated. Raises
    ConfigError for a region of several forces (the search sizes one force), a key that
    is not a number, or a value that is not finite."""
    if cfg.forces:
        raise ConfigError("forces", ", ".join(cfg.force_names),
                          "the staffing search sizes one force: run it on a region of one (no `forces` list)")
    params = leaves(cfg)
    for key, value in changes.items():
        old = params.get(key, "")
        if not _is_numeric(old):
            raise ConfigError(key, value, "not a numeric configuration key")
        if not math.isfinite(value):
            raise ConfigError(key, value, "a finite number")
        if isinstance(old, int) and float(value) != int(value):
            raise ConfigError(key, value, "a whole number")
        cfg = replace_path(cfg, key, int(value) if isinstance(old, int) else float(value))
    return cfg.validate()


def _combinations(grid: Mapping[str, Sequence[float]]) -> list[dict[str, float]]:
    """Every mix of the grid's levels, as {key: level}."""
    keys = list(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[key] for key in keys))]


def _run_level(cfg: SimConfig, changes: Mapping[str, float], target: Target, runs: list[dict], progress: bool,
               on_level: LevelCallback | None, cost: float | None = None,
               on_replication: Callable[[ReplicationOutput], None] | None = None) -> dict:
    """Run ``cfg`` with ``changes`` (one staffing level), assess it against ``target``, add
    its row (the changes, its ``cost`` if given, and the assessment) to ``runs`` and hand
    the runs so far to ``on_level``."""
    costed = {} if cost is None else {"cost": cost}
    results = simulate(_config_with(cfg, changes), progress=progress, on_finished=on_replication)
    row = {**changes, **assess(results, target), **costed}
    runs.append(row)
    if on_level is not None:
        on_level(pd.DataFrame(runs))
    return row


def search_levels(low: int, high: int) -> int:
    """The most levels ``search_investigators`` runs on [low, high]: ``high`` first, then a
    bisection of the ``high - low + 1`` candidates.

    >>> search_levels(20, 60)
    7
    """
    return 1 + math.ceil(math.log2(high - low + 1))


def search_investigators(cfg: SimConfig, target: Target = Target(), low: int | None = None, high: int = HIGHEST_TRIED,
                         progress: bool = False, on_level: LevelCallback | None = None,
                         on_replication: Callable[[ReplicationOutput], None] | None = None) -> SearchResult:
    """The fewest investigators in [low, high] (default low: today's) meeting ``target``;
    ``on_level`` (optional) sees the levels run so far after each one, ``on_replication``
    each replication as it finishes (at most ``search_levels(low, high)`` levels are run)."""
    check_search(cfg, target, low=low, high=high)
    low = cfg.staffing.investigators if low is None else low
    runs: list[dict] = []
    key = INVESTIGATORS_KEY
    if not _run_level(cfg, {key: high}, target, runs, progress, on_level, None, on_replication)["meets_target"]:
        return SearchResult(None, pd.DataFrame(runs), target)
    # Invariant: ``passing`` meets the target; ``failing`` does not (or is below the range).
    failing, passing = low - 1, high
    while passing - failing > 1:
        middle = (failing + passing) // 2
        if _run_level(cfg, {key: middle}, target, runs, progress, on_level, None, on_replication)["meets_target"]:
            passing = middle
        else:
            failing = middle
    answer = next(row for row in runs if row[key] == passing)
    return SearchResult(answer, pd.DataFrame(runs).sort_values(key).reset_index(drop=True), target)


def search_mix(cfg: SimConfig, grid: Mapping[str, Sequence[float]], costs: Mapping[str, float],
               target: Target = Target(), progress: bool = False,
               on_level: LevelCallback | None = None,
               on_replication: Callable[[ReplicationOutput], None] | None = None) -> SearchResult:
    """The cheapest combination in ``grid`` (dotted key -> values) meeting ``target``; the
    cost of a combination is the sum of value x cost per unit over the keys in ``costs``
    (e.g. cost per post, or the cost of training the whole team for a trained share).
    ``on_level`` (optional) sees the mixes run so far after each one, ``on_replication``
    each replication as it finishes."""
    if not grid:
        raise ConfigError("grid", dict(grid), "at least one key with its levels")
    check_search(cfg, target, grid, costs)

    def cost_of(combination: Mapping[str, float]) -> float:
        return sum(combination[key] * costs[key] for key in grid)

    runs: list[dict] = []
    for combination in sorted(_combinations(grid), key=cost_of):
        row = _run_level(cfg, combination, target, runs, progress, on_level, cost_of(combination), on_replication)
        if row["meets_target"]:
            return SearchResult(row, pd.DataFrame(runs), target)
    return SearchResult(None, pd.DataFrame(runs), target)
