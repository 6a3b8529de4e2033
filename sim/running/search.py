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
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..config.convert import leaves, replace_path
from ..config.schema import SimConfig
from ..domain import EIGHTEEN_MONTHS_DAYS
from ..errors import ConfigError
from ..results import Results
from ..results.metrics import km_share_waiting_past
from .runner import simulate


@dataclass(frozen=True)
class Target:
    """The service target a staffing level must meet."""

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
    if n < 2 or np.isnan(share_late).any():
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
    ConfigError for a region of several forces (the search sizes one force) or a key that
    is not a number."""
    if cfg.forces:
        raise ConfigError("forces", ", ".join(cfg.force_names),
                          "the staffing search sizes one force: run it on a region of one (no `forces` list)")
    params = leaves(cfg)
    for key, value in changes.items():
        old = params.get(key, "")
        if isinstance(old, bool) or not (old is None or isinstance(old, (int, float))):
            raise ConfigError(key, value, "not a numeric configuration key")
        if isinstance(old, int) and float(value) != int(value):
            raise ConfigError(key, value, "a whole number")
        cfg = replace_path(cfg, key, int(value) if isinstance(old, int) else float(value))
    return cfg.validate()


def _run_level(cfg: SimConfig, changes: Mapping[str, float], target: Target, runs: list[dict], progress: bool) -> dict:
    """Run ``cfg`` with ``changes`` (one staffing level), assess it against ``target`` and
    add its row (the changes and the assessment) to ``runs``."""
    row = {**changes, **assess(simulate(_config_with(cfg, changes), progress=progress), target)}
    runs.append(row)
    return row


def search_investigators(cfg: SimConfig, target: Target = Target(), low: int | None = None, high: int = 60,
                         progress: bool = False) -> SearchResult:
    """The fewest investigators in [low, high] (default low: today's) meeting ``target``."""
    low = cfg.staffing.investigators if low is None else low
    _config_with(cfg, {})  # a config the search cannot vary fails here, before any run
    if not 1 <= low <= high:
        raise ConfigError("investigators range", f"{low}..{high}", "need 1 <= low <= high")
    runs: list[dict] = []
    key = "staffing.investigators"
    if not _run_level(cfg, {key: high}, target, runs, progress)["meets_target"]:
        return SearchResult(None, pd.DataFrame(runs), target)
    # Invariant: ``passing`` meets the target; ``failing`` does not (or is below the range).
    failing, passing = low - 1, high
    while passing - failing > 1:
        middle = (failing + passing) // 2
        if _run_level(cfg, {key: middle}, target, runs, progress)["meets_target"]:
            passing = middle
        else:
            failing = middle
    answer = next(row for row in runs if row[key] == passing)
    return SearchResult(answer, pd.DataFrame(runs).sort_values(key).reset_index(drop=True), target)


def search_mix(cfg: SimConfig, grid: Mapping[str, Sequence[float]], costs: Mapping[str, float],
               target: Target = Target(), progress: bool = False) -> SearchResult:
    """The cheapest combination in ``grid`` (dotted key -> values) meeting ``target``; the
    cost of a combination is the sum of value x cost per unit over the keys in ``costs``
    (e.g. cost per post, or the cost of training the whole team for a trained share)."""
    unknown = [key for key in costs if key not in grid]
    if unknown:
        raise ConfigError("costs", unknown, f"every costed key must be in the grid: {', '.join(grid)}")
    uncosted = [key for key in grid if key not in costs]
    if uncosted:
        raise ConfigError("grid", uncosted, "give every grid key a cost per unit (--cost KEY=VALUE)")
    _config_with(cfg, {})
    keys = list(grid)

    def cost_of(combination: Mapping[str, float]) -> float:
        return sum(combination[key] * costs.get(key, 0.0) for key in keys)

    combinations = [dict(zip(keys, values)) for values in itertools.product(*(grid[key] for key in keys))]
    combinations.sort(key=cost_of)
    runs: list[dict] = []
    for combination in combinations:
        row = _run_level(cfg, combination, target, runs, progress)
        row["cost"] = cost_of(combination)
        if row["meets_target"]:
            return SearchResult(row, pd.DataFrame(runs), target)
    return SearchResult(None, pd.DataFrame(runs), target)
