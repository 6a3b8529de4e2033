"""One replication: draw the cases, run the region, hand back numpy columns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import simpy

from ..config.schema import SimConfig
from .region import RegionModel

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


def run_replication(cfg: SimConfig, replication: int, env: simpy.Environment | None = None) -> ReplicationOutput:
    """Simulate replication ``replication`` of ``cfg`` (validated) from day 0 to the horizon."""
    model = RegionModel(cfg, replication, env)
    model.run()
    owners = model.owners
    code = {name: k for k, name in enumerate(owners)}
    parts = []
    for k, (force, cases) in enumerate(zip(model.forces, model.cases)):
        cols = {name: getattr(cases, name) for name in CASE_ATTRIBUTES}
        cols.update(force.rec.columns())
        cols["final_grade"] = np.asarray(force.grade, dtype=np.int8)
        cols["force"] = np.full(cases.n, k, dtype=np.int16)
        cols["investigated_by"] = np.asarray([-1 if o is None else code[o] for o in force.rec.investigated_by],
                                             dtype=np.int16)
        parts.append(cols)
    combined = parts[0] if len(parts) == 1 else {c: np.concatenate([p[c] for p in parts]) for c in parts[0]}
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
