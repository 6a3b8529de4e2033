"""Record buffers -> tidy pandas tables: one row per case x replication, a long daily time
series, and one row per staff pool x replication."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from ..config.schema import SimConfig
from ..domain import GRADES, OUTCOMES, SOURCES, STAGES, TIMED_STAGES, TIMESTAMP_COLUMNS, Stage
from ..model.replication import ReplicationOutput
from .summary import summarise

GRADE_DTYPE = pd.CategoricalDtype(list(GRADES), ordered=True)


@dataclass
class Results:
    """The tables of one scenario's run: ``cases``, ``timeseries`` and ``pools``; ``summary()``
    gives every metric with its confidence interval."""

    config: SimConfig
    cases: pd.DataFrame
    timeseries: pd.DataFrame
    pools: pd.DataFrame

    @property
    def measured(self) -> pd.DataFrame:
        """Cases outside the warm-up: the ones metrics use."""
        return self.cases[~self.cases["in_warmup"]]

    @property
    def referrals(self) -> pd.DataFrame:
        """Measured cases referred during the run (not the initial backlog, which is seen
        only part-way through its wait): the cohort time-to-arrest distributions describe."""
        measured = self.measured
        return measured[~measured["backlog"]]

    _summaries: dict[float, pd.DataFrame] = field(default_factory=dict, init=False, repr=False, compare=False)

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Tidy summary with confidence intervals at ``level`` (``sim.results.summary.summarise``).
        Computed once per level (a run's figures and findings ask for it again; the tables
        are not changed after they are built): each call returns a copy."""
        if level not in self._summaries:
            self._summaries[level] = summarise(self, level)
        return self._summaries[level].copy()


def case_table(cfg: SimConfig, output: ReplicationOutput) -> pd.DataFrame:
    """The cases of one replication as a tidy frame (one row per case)."""
    records = output.cases
    n_cases = len(records["arrival_day"])
    horizon_days, warmup_days = cfg.run.horizon_days, cfg.run.warmup_days
    graded = (records["start_stage"] > Stage.ASSESSMENT) | ~np.isnan(records["assessment_end_day"])
    assigned = np.where(graded, records["assigned_grade"], -1)
    cases = pd.DataFrame({
        "replication": np.full(n_cases, output.replication, dtype=np.int32),
        "scenario": cfg.scenario,
        "force": pd.Categorical.from_codes(records["force"], categories=list(output.force_names)),
        # each force's region ("" where forces have none)
        "region": pd.Categorical(np.asarray([cfg.region_of.get(name, "") for name in output.force_names],
                                            dtype=object)[records["force"]]),
        "case_id": np.arange(n_cases, dtype=np.int32),
        "package_id": records["package_id"],
        "backlog": records["backlog"],
        "source": pd.Categorical.from_codes(records["source"], categories=list(SOURCES)),
        "true_risk": pd.Categorical.from_codes(records["true_risk"], dtype=GRADE_DTYPE),
        "assigned_grade": pd.Categorical.from_codes(assigned, dtype=GRADE_DTYPE),
        "trained_assessor": records["trained_assessor"] & graded,
        "nonspecialist": records["nonspecialist"],
        "child_in_household": records["child"],
        "arrival_day": records["arrival_day"],
    })
    for column in TIMESTAMP_COLUMNS:
        cases[column] = records[column]
    safeguarding_day = records["safeguarding_day"]
    # A safeguarding referral due after the horizon was not yet made.
    cases["safeguarding_day"] = np.where(safeguarding_day <= horizon_days, safeguarding_day, np.nan)
    cases["warrant_applications"] = records["warrant_applications"]
    cases["outcome"] = pd.Categorical.from_codes(records["outcome"], categories=list(OUTCOMES))
    cases["arrest_day"] = records["arrest_day"]
    cases["exit_day"] = records["exit_day"]
    cases["slot_start_day"] = records["slot_start_day"]
    cases["slot_release_day"] = records["slot_release_day"]
    cases["misgraded"] = graded & (records["assigned_grade"] != records["true_risk"])
    cases["reviewed_day"] = records["reviewed_day"]
    cases["escalated_day"] = records["escalated_day"]
    cases["final_grade"] = pd.Categorical.from_codes(np.where(graded, records["final_grade"], -1), dtype=GRADE_DTYPE)
    cases["investigated_by"] = pd.Categorical.from_codes(records["investigated_by"], categories=list(output.owners))
    cases["handoff_days"] = records["handoff_days"]
    cases["censored"] = np.isnan(records["arrest_day"])
    # Follow-up ends at the arrest, else when the case left, else at the horizon.
    left_day = np.where(np.isnan(records["exit_day"]), horizon_days, records["exit_day"])
    end_day = np.where(~cases["censored"], records["arrest_day"], left_day)
    cases["followup_days"] = end_day - records["arrival_day"]
    cases["time_to_arrest_days"] = records["arrest_day"] - records["arrival_day"]
    cases["in_warmup"] = np.where(records["backlog"], warmup_days > 0, records["arrival_day"] < warmup_days)
    cases["stage_at_end"] = _stage_at_end(records)
    return cases


def _stage_at_end(records: dict[str, np.ndarray]) -> pd.Categorical:
    """For a case still open at the horizon, the stage it is in; else missing."""
    stage = np.full(len(records["arrival_day"]), -1)
    for code, name in enumerate(TIMED_STAGES):
        stage = np.where(~np.isnan(records[f"{name}_queue_day"]), code, stage)
    in_post = (records["outcome"] != 0) & np.isnan(records["exit_day"])  # enforced, post-arrest work unfinished
    stage = np.where(in_post, len(TIMED_STAGES), stage)
    still_open = np.isnan(records["exit_day"])
    return pd.Categorical.from_codes(np.where(still_open, stage, -1), categories=list(STAGES))


def timeseries_table(cfg: SimConfig, output: ReplicationOutput) -> pd.DataFrame:
    """Daily samples: work in progress by force, stage and grade, and staff busy by unit;
    ``region`` is the force's, or the region a shared unit serves (``SimConfig.region_of_owner``)."""
    days, labels = output.snapshot_days, output.series_labels
    n_days, n_series = len(days), len(labels)

    def label_column(position: int, label_of=lambda label: label) -> pd.Categorical:
        # the day's labels made categorical once, their codes repeated for every day
        one_day = pd.Categorical([label_of(label[position]) for label in labels])
        return pd.Categorical.from_codes(np.tile(one_day.codes, n_days), dtype=one_day.dtype)

    return pd.DataFrame({
        "replication": np.full(n_days * n_series, output.replication, dtype=np.int32),
        "scenario": cfg.scenario,
        "force": label_column(1),
        "region": label_column(1, cfg.region_of_owner),
        "day": np.repeat(days, n_series),
        "series": label_column(0),
        "name": label_column(2),
        "grade": label_column(3),
        "value": output.snapshots.reshape(-1).astype(np.int32),
    })


def pool_table(cfg: SimConfig, output: ReplicationOutput) -> pd.DataFrame:
    """Use of every capacity inside the measurement window, by the force (or ``region``,
    ``surge``) owning it, with its region (``SimConfig.region_of_owner``): staff pools in
    contracted hours, investigators' caseload slots in slot-days, court slots and search-team
    executions in places booked (urgent bookings may exceed the daily capacity)."""
    pools = pd.DataFrame(output.pools)
    if "force" in pools.columns:  # no column at all where the replication has no pools
        region_of = {owner: cfg.region_of_owner(owner) for owner in pd.unique(pools["force"])}  # once an owner
        pools.insert(pools.columns.get_loc("force") + 1, "region", pools["force"].map(region_of))
    pools["utilisation"] = pools["busy"] / pools["available"]
    pools.insert(0, "scenario", cfg.scenario)
    pools.insert(0, "replication", output.replication)
    return pools


def build_results(cfg: SimConfig, outputs: Sequence[ReplicationOutput]) -> Results:
    """Assemble the tables of all replications, in replication order."""
    outputs = sorted(outputs, key=lambda output: output.replication)
    return Results(
        config=cfg,
        cases=pd.concat([case_table(cfg, output) for output in outputs], ignore_index=True),
        timeseries=pd.concat([timeseries_table(cfg, output) for output in outputs], ignore_index=True),
        pools=pd.concat([pool_table(cfg, output) for output in outputs], ignore_index=True),
    )
