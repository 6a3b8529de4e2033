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

from .catalogue import HEADLINE, KEY_COLUMNS, ROW_COLUMNS, regions_by_force
from .summary import t_interval
from .tables import Results

COMPARISON_COLUMNS = ["scenario", *ROW_COLUMNS, "baseline", "value", "difference", "ci_low", "ci_high",
                      "relative_difference", "n_pairs", "note"]


def paired_differences(baseline: pd.DataFrame, scenario: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Scenario minus baseline for every metric, paired by replication.

    Both frames are ``replication_metrics`` output over the same replications (else
    ValueError). A metric missing (NaN, or absent) in either run of a replication drops that
    pair; the note says how many pairs were dropped. ``region`` is the force's as the
    frames give it (``catalogue.regions_by_force``)."""
    if set(baseline["replication"]) != set(scenario["replication"]):
        raise ValueError("paired comparison needs the same replications in both runs")
    merged = baseline.merge(scenario, on=["replication", *KEY_COLUMNS], suffixes=("_base", "_scen"), how="outer",
                            validate="one_to_one")
    name = scenario["scenario"].iloc[0] if len(scenario) else ""
    region_of = {**regions_by_force(scenario), **regions_by_force(baseline)}
    rows = []
    for key, pairs in merged.groupby(KEY_COLUMNS, sort=False):
        force, *metric_key = key
        labels = (force, region_of.get(force, ""), *metric_key)
        base_values, scenario_values = pairs["value_base"].to_numpy(), pairs["value_scen"].to_numpy()
        paired = ~np.isnan(base_values) & ~np.isnan(scenario_values)
        note = "" if paired.all() else f"{int((~paired).sum())} of {len(paired)} pairs without a value"
        if paired.sum() == 0:
            rows.append((name, *labels, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, 0, note or "no pairs"))
            continue
        differences = scenario_values[paired] - base_values[paired]
        mean_difference, low, high = t_interval(differences, level)
        base_mean = float(base_values[paired].mean())
        relative = mean_difference / base_mean if base_mean else np.nan
        rows.append((name, *labels, base_mean, float(scenario_values[paired].mean()), mean_difference, low, high,
                     relative, int(paired.sum()), note))
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


def headline_differences(comparison: pd.DataFrame, force: str) -> pd.DataFrame:
    """The rows of ``sim.results.catalogue.HEADLINE`` for ``force`` (the total's label,
    ``SimConfig.total_name``, for the whole region), in its order, for every scenario in the
    order they were run."""
    comparison = comparison[comparison["force"] == force]
    row_key = KEY_COLUMNS[1:]  # (metric, by, grade)
    position = {key: k for k, key in enumerate(HEADLINE)}
    keys = [tuple(row) for row in comparison[row_key].itertuples(index=False)]
    out = comparison[[key in position for key in keys]].copy()
    out["_order"] = [position[key] for key in keys if key in position]
    # the scenarios in the order they were run (as asked for), not alphabetically
    out["_scenario"] = out["scenario"].map({name: k for k, name in enumerate(dict.fromkeys(comparison["scenario"]))})
    return out.sort_values(["_scenario", "_order"]).drop(columns=["_scenario", "_order"]).reset_index(drop=True)


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
