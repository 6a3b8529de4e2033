"""Paired comparison of scenarios against the baseline.

Scenarios run with the same seed and replication numbers share their random numbers
(common random numbers), so replication r of a scenario and replication r of the baseline
see the same cases. The difference is therefore taken within each replication and its
confidence interval comes from the spread of those paired differences, which is far
tighter than comparing two independent means.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .summary import t_interval
from .tables import Results

KEYS = ["force", "metric", "by", "grade"]
COMPARISON_COLUMNS = ["scenario", "force", "metric", "by", "grade", "baseline", "value", "difference", "ci_low", "ci_high",
                      "relative_difference", "n_pairs", "note"]

# The metrics a planner reads first (the forest plot's rows), as (metric, by, grade).
HEADLINE = [
    *[(f"time_to_arrest_{q}_days", "true_risk", g) for g in ("VH", "H", "M", "L") for q in ("p50", "p90")],
    *[("share_past_target", "assigned_grade", g) for g in ("VH", "H", "M", "L")],
    ("longest_wait_days", "misgraded_high_risk", "all"),
    ("cases_past_18_months", "all", "all"),
    ("child_days_at_risk_per_year", "all", "all"),
    ("backlog_at_end", "all", "all"),
    ("utilisation_investigators", "pool", "all"),
]


def paired_differences(baseline: pd.DataFrame, scenario: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Scenario minus baseline for every metric, paired by replication.

    Both frames are ``replication_metrics`` output over the same replications (else
    ValueError). A metric missing (NaN, or absent) in either run of a replication drops that
    pair; the note says how many pairs were dropped."""
    if set(baseline["replication"]) != set(scenario["replication"]):
        raise ValueError("paired comparison needs the same replications in both runs")
    merged = baseline.merge(scenario, on=["replication", *KEYS], suffixes=("_base", "_scen"), how="outer",
                            validate="one_to_one")
    name = scenario["scenario"].iloc[0] if len(scenario) else ""
    rows = []
    for key, grp in merged.groupby(KEYS, sort=False):
        b, s = grp["value_base"].to_numpy(), grp["value_scen"].to_numpy()
        ok = ~np.isnan(b) & ~np.isnan(s)
        note = "" if ok.all() else f"{int((~ok).sum())} of {len(ok)} pairs without a value"
        if ok.sum() == 0:
            rows.append((name, *key, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, 0, note or "no pairs"))
            continue
        d = s[ok] - b[ok]
        mean_d, lo, hi = t_interval(d, level)
        base_mean = float(b[ok].mean())
        rel = mean_d / base_mean if base_mean else np.nan
        rows.append((name, *key, base_mean, float(s[ok].mean()), mean_d, lo, hi, rel, int(ok.sum()), note))
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


def headline_differences(comparison: pd.DataFrame, force: str) -> pd.DataFrame:
    """The rows of ``HEADLINE`` for ``force`` (the total's label, ``SimConfig.total_name``,
    for the whole region), in its order, for every scenario."""
    comparison = comparison[comparison["force"] == force]
    keys = KEYS[1:]
    order = {k: i for i, k in enumerate(HEADLINE)}
    out = comparison[[tuple(r) in order for r in comparison[keys].itertuples(index=False)]].copy()
    out["_order"] = [order[tuple(r)] for r in out[keys].itertuples(index=False)]
    return out.sort_values(["scenario", "_order"]).drop(columns="_order").reset_index(drop=True)


@dataclass
class Comparison:
    """The baseline's and each scenario's results, and the paired differences."""

    baseline: Results
    scenarios: dict[str, Results]
    table: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def total_name(self) -> str:
        """The ``force`` label of the region's totals."""
        return self.baseline.config.total_name

    @property
    def all_results(self) -> dict[str, Results]:
        return {self.baseline.config.scenario: self.baseline, **self.scenarios}
