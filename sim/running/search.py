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
    ref = results.referrals
    ref = ref[ref["true_risk"].isin(target.risks)]
    shares, past = [], []
    horizon = results.config.run.horizon_days
    for _, rep in ref.groupby("replication"):
        d, arrested = rep["followup_days"].to_numpy(), ~rep["censored"].to_numpy()
        observable = horizon - rep["arrival_day"].min()
        shares.append(km_share_waiting_past(d, arrested, target.within_days, observable)[0])
        past.append(int((d > EIGHTEEN_MONTHS_DAYS).sum()))
    s = np.asarray(shares, dtype=float)
    n = len(s)
    if n < 2 or np.isnan(s).any():
        upper = np.nan
    else:
        upper = s.mean() + stats.t.ppf(target.confidence, n - 1) * s.std(ddof=1) / np.sqrt(n)
    meets = bool(np.isfinite(upper) and upper < target.max_share_late and max(past) <= target.max_cases_past_18_months)
    return {"share_late": float(s.mean()) if n else np.nan, "share_late_upper": float(upper),
            "worst_cases_past_18_months": max(past) if past else 0, "replications": n, "meets_target": meets}


def _with(cfg: SimConfig, changes: Mapping[str, float]) -> SimConfig:
    """``cfg`` with numeric dotted keys (``staffing.investigators``) set; validated."""
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


def _run(cfg: SimConfig, changes: Mapping[str, float], target: Target, runs: list, progress: bool) -> dict:
    row = {**changes, **assess(simulate(_with(cfg, changes), progress=progress), target)}
    runs.append(row)
    return row


def search_investigators(cfg: SimConfig, target: Target = Target(), low: int | None = None, high: int = 60,
                         progress: bool = False) -> SearchResult:
    """The fewest investigators in [low, high] (default low: today's) meeting ``target``."""
    low = cfg.staffing.investigators if low is None else low
    _with(cfg, {})  # a config the search cannot vary fails here, before any run
    if not 1 <= low <= high:
        raise ConfigError("investigators range", f"{low}..{high}", "need 1 <= low <= high")
    runs: list[dict] = []
    key = "staffing.investigators"
    if not _run(cfg, {key: high}, target, runs, progress)["meets_target"]:
        return SearchResult(None, pd.DataFrame(runs), target)
    lo, hi = low - 1, high  # invariant: hi meets the target; lo does not (or is below the range)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _run(cfg, {key: mid}, target, runs, progress)["meets_target"]:
            hi = mid
        else:
            lo = mid
    answer = next(r for r in runs if r[key] == hi)
    return SearchResult(answer, pd.DataFrame(runs).sort_values(key).reset_index(drop=True), target)


def search_mix(cfg: SimConfig, grid: Mapping[str, Sequence[float]], costs: Mapping[str, float],
               target: Target = Target(), progress: bool = False) -> SearchResult:
    """The cheapest combination in ``grid`` (dotted key -> values) meeting ``target``; the
    cost of a combination is the sum of value x cost per unit over the keys in ``costs``
    (e.g. cost per post, or the cost of training the whole team for a trained share)."""
    unknown = [k for k in costs if k not in grid]
    if unknown:
        raise ConfigError("costs", unknown, f"every costed key must be in the grid: {', '.join(grid)}")
    uncosted = [k for k in grid if k not in costs]
    if uncosted:
        raise ConfigError("grid", uncosted, "give every grid key a cost per unit (--cost KEY=VALUE)")
    _with(cfg, {})
    keys = list(grid)
    combos = [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]
    combos.sort(key=lambda c: sum(c[k] * costs.get(k, 0.0) for k in keys))
    runs: list[dict] = []
    for combo in combos:
        row = _run(cfg, combo, target, runs, progress)
        row["cost"] = sum(combo[k] * costs.get(k, 0.0) for k in keys)
        if row["meets_target"]:
            return SearchResult(row, pd.DataFrame(runs), target)
    return SearchResult(None, pd.DataFrame(runs), target)
