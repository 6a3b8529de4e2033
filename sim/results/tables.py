"""Record buffers -> tidy pandas tables: one row per case x replication, a long daily time
series, and one row per staff pool x replication."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from ..config.schema import SimConfig
from ..domain import GRADES, OUTCOMES, SOURCES, STAGES, TIMED_STAGES, TIMESTAMP_COLUMNS, Stage
from ..model.replication import ReplicationOutput

GRADE_DTYPE = pd.CategoricalDtype(list(GRADES), ordered=True)


@dataclass
class Results:
    """The tables of one scenario's run: ``cases``, ``timeseries`` and ``pools``."""

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
        m = self.measured
        return m[~m["backlog"]]

    def summary(self) -> pd.DataFrame:
        """Tidy summary with confidence intervals (see ``sim.results.summary``)."""
        from .summary import summarise

        return summarise(self)


def case_table(cfg: SimConfig, out: ReplicationOutput) -> pd.DataFrame:
    """The cases of one replication as a tidy frame (one row per case)."""
    c = out.cases
    n = len(c["arrival_day"])
    horizon, warmup = cfg.run.horizon_days, cfg.run.warmup_days
    graded = (c["start_stage"] > Stage.ASSESSMENT) | ~np.isnan(c["assessment_end_day"])
    assigned = np.where(graded, c["assigned_grade"], -1)
    df = pd.DataFrame({
        "replication": np.full(n, out.replication, dtype=np.int32),
        "scenario": cfg.scenario,
        "force": pd.Categorical.from_codes(c["force"], categories=list(out.force_names)),
        "case_id": np.arange(n, dtype=np.int32),
        "package_id": c["package_id"],
        "backlog": c["backlog"],
        "source": pd.Categorical.from_codes(c["source"], categories=list(SOURCES)),
        "true_risk": pd.Categorical.from_codes(c["true_risk"], dtype=GRADE_DTYPE),
        "assigned_grade": pd.Categorical.from_codes(assigned, dtype=GRADE_DTYPE),
        "trained_assessor": c["trained_assessor"] & graded,
        "nonspecialist": c["nonspecialist"],
        "child_in_household": c["child"],
        "arrival_day": c["arrival_day"],
    })
    for col in TIMESTAMP_COLUMNS:
        df[col] = c[col]
    sg = c["safeguarding_day"]
    df["safeguarding_day"] = np.where(sg <= horizon, sg, np.nan)  # not yet made at the horizon
    df["warrant_applications"] = c["warrant_applications"]
    df["outcome"] = pd.Categorical.from_codes(c["outcome"], categories=list(OUTCOMES))
    df["arrest_day"] = c["arrest_day"]
    df["exit_day"] = c["exit_day"]
    df["slot_start_day"] = c["slot_start_day"]
    df["slot_release_day"] = c["slot_release_day"]
    df["misgraded"] = graded & (c["assigned_grade"] != c["true_risk"])
    df["reviewed_day"] = c["reviewed_day"]
    df["escalated_day"] = c["escalated_day"]
    df["final_grade"] = pd.Categorical.from_codes(np.where(graded, c["final_grade"], -1), dtype=GRADE_DTYPE)
    df["investigated_by"] = pd.Categorical.from_codes(c["investigated_by"], categories=list(out.owners))
    df["handoff_days"] = c["handoff_days"]
    df["censored"] = np.isnan(c["arrest_day"])
    # Follow-up ends at the arrest, else when the case left, else at the horizon.
    end = np.where(~df["censored"], c["arrest_day"], np.where(np.isnan(c["exit_day"]), horizon, c["exit_day"]))
    df["followup_days"] = end - c["arrival_day"]
    df["time_to_arrest_days"] = c["arrest_day"] - c["arrival_day"]
    df["in_warmup"] = np.where(c["backlog"], warmup > 0, c["arrival_day"] < warmup)
    df["stage_at_end"] = _stage_at_end(c)
    return df


def _stage_at_end(c: dict[str, np.ndarray]) -> pd.Categorical:
    """For a case still open at the horizon, the stage it is in; else missing."""
    stage = np.full(len(c["arrival_day"]), -1)
    for k, s in enumerate(TIMED_STAGES):
        stage = np.where(~np.isnan(c[f"{s}_queue_day"]), k, stage)
    in_post = (c["outcome"] != 0) & np.isnan(c["exit_day"])  # enforced, post-arrest work unfinished
    stage = np.where(in_post, len(TIMED_STAGES), stage)
    still_open = np.isnan(c["exit_day"])
    return pd.Categorical.from_codes(np.where(still_open, stage, -1), categories=list(STAGES))


def timeseries_table(cfg: SimConfig, out: ReplicationOutput) -> pd.DataFrame:
    """Daily samples: work in progress by force, stage and grade, and staff busy by unit."""
    days, snaps, labels = out.snapshot_days, out.snapshots, out.series_labels
    t, k = len(days), len(labels)

    def column(j: int) -> pd.Categorical:
        return pd.Categorical(np.tile([lab[j] for lab in labels], t))

    return pd.DataFrame({
        "replication": np.full(t * k, out.replication, dtype=np.int32),
        "scenario": cfg.scenario,
        "force": column(1),
        "day": np.repeat(days, k),
        "series": column(0),
        "name": column(2),
        "grade": column(3),
        "value": snaps.reshape(-1).astype(np.int32),
    })


def pool_table(cfg: SimConfig, out: ReplicationOutput) -> pd.DataFrame:
    """Use of every capacity inside the measurement window, by the force (or ``region``,
    ``surge``) owning it: staff pools in contracted hours, investigators' caseload slots in
    slot-days, court slots and search-team executions in places booked (urgent bookings may
    exceed the daily capacity)."""
    df = pd.DataFrame(out.pools)
    df["utilisation"] = df["busy"] / df["available"]
    df.insert(0, "scenario", cfg.scenario)
    df.insert(0, "replication", out.replication)
    return df


def build_results(cfg: SimConfig, outputs: Sequence[ReplicationOutput]) -> Results:
    """Assemble the tables of all replications, in replication order."""
    outputs = sorted(outputs, key=lambda o: o.replication)
    return Results(
        config=cfg,
        cases=pd.concat([case_table(cfg, o) for o in outputs], ignore_index=True),
        timeseries=pd.concat([timeseries_table(cfg, o) for o in outputs], ignore_index=True),
        pools=pd.concat([pool_table(cfg, o) for o in outputs], ignore_index=True),
    )
