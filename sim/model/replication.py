"""One replication: draw the cases, run the region, hand back numpy columns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import simpy

from ..config.schema import SimConfig
from .policy import PolicyFactory
from .region import RegionModel, fewer_young_collections

CASE_ATTRIBUTES = ("arrival_day", "package_id", "backlog", "start_stage", "source", "true_risk", "assigned_grade",
                   "trained_assessor", "nonspecialist", "child")


@dataclass
class ReplicationOutput:
    """What one replication produced, as plain numpy data (cheap to pickle between processes).
    ``cases["force"]`` indexes ``force_names``; ``cases["investigated_by"]`` indexes
    ``owners`` (-1: never investigated)."""

    replication: int
    cases: dict[str, np.ndarray]
    snapshot_days: np.ndarray
    snapshots: np.ndarray  # (days, columns labelled by series_labels)
    series_labels: list[tuple[str, str, str, str]] = field(default_factory=list)
    pools: list[dict] = field(default_factory=list)
    force_names: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()


def run_replication(cfg: SimConfig, replication: int, env: simpy.Environment | None = None,
                    policy_factory: PolicyFactory | None = None) -> ReplicationOutput:
    """Simulate replication ``replication`` of ``cfg`` (validated) from day 0 to the horizon.
    ``policy_factory`` replaces the collaboration policy ``cfg.collaboration`` describes
    (see ``RegionModel``).

    >>> import sim
    >>> cfg = sim.load_config(["run.horizon_days=60", "run.progress=false"])
    >>> out = run_replication(cfg, 0)
    >>> out.force_names, len(out.cases["exit_day"]) == len(out.cases["arrival_day"])
    (('medium_force',), True)
    """
    # The model ends as garbage in reference cycles (processes and their events, resources
    # and their requests), which only the collector frees. Dropped before the collector's
    # usual threshold is back, the next young collection finds it unreachable and frees it;
    # left alive then, it would be moved to an older generation, and freed, ten
    # replications' worth at a time, by a collection that costs several times more.
    with fewer_young_collections():
        model = RegionModel(cfg, replication, env, policy_factory)
        model.run()
        output = _output_of(cfg, replication, model)
        del model
    return output


def _output_of(cfg: SimConfig, replication: int, model: RegionModel) -> ReplicationOutput:
    """The run ``model``'s cases, monitor snapshots and pool rows as numpy data."""
    owners = model.owners
    owner_code = {name: code for code, name in enumerate(owners)}
    parts = []
    for force_code, (force, cases) in enumerate(zip(model.forces, model.cases)):
        columns = {name: getattr(cases, name) for name in CASE_ATTRIBUTES}
        columns.update(force.records.columns())
        columns["final_grade"] = np.asarray(force.grade, dtype=np.int8)
        columns["force"] = np.full(cases.n, force_code, dtype=np.int16)
        columns["investigated_by"] = np.asarray(
            [-1 if holder is None else owner_code[holder] for holder in force.records.investigated_by], dtype=np.int16)
        parts.append(columns)
    if len(parts) == 1:
        combined = parts[0]
    else:
        combined = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    return ReplicationOutput(
        replication=replication,
        cases=combined,
        snapshot_days=np.asarray(model.snapshot_days),
        snapshots=np.asarray(model.snapshots, dtype=np.int32),
        series_labels=model.series_labels(),
        pools=model.pool_rows(),
        force_names=cfg.force_names,
        owners=owners,
    )
