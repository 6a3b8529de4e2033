"""One replication: draw the cases, run the force, hand back numpy columns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import simpy

from ..config import SimConfig
from ..rng import Streams
from .demand import CaseTable, draw_cases
from .force import ForceModel

CASE_ATTRIBUTES = ("arrival_day", "package_id", "backlog", "start_stage", "source", "true_risk", "assigned_grade",
                   "trained_assessor", "nonspecialist", "child")


@dataclass
class ReplicationOutput:
    """What one replication produced, as plain numpy data (cheap to pickle between processes)."""

    replication: int
    cases: dict[str, np.ndarray]
    snapshot_days: np.ndarray
    snapshots: np.ndarray  # (days, wip cells + pools + caseload)
    pools: list[dict] = field(default_factory=list)
    caseload_slots: int = 0
    caseload_slot_days: float = 0.0  # slot-days in post inside the measurement window


def _slot_days(model: ForceModel) -> float:
    """Caseload slot-days offered inside the window, following the investigators in post."""
    return sum(n * model.caseload_limit * (b - a) for n, a, b in model.investigators.headcount_periods())


def run_replication(cfg: SimConfig, replication: int, env: simpy.Environment | None = None) -> ReplicationOutput:
    """Simulate replication ``replication`` of ``cfg`` (validated) from day 0 to the horizon."""
    cases: CaseTable = draw_cases(cfg, Streams(cfg.run.seed, replication))
    model = ForceModel(cfg, cases, env)
    model.run()
    cols = {name: getattr(cases, name) for name in CASE_ATTRIBUTES}
    cols.update(model.rec.columns())
    cols["final_grade"] = np.asarray(model.grade, dtype=np.int8)
    run = cfg.run
    pools = [{"pool": p.name, "capacity": p.capacity, "unit": "staff hours", "busy": p.busy_hours,
              "available": p.available_hours()} for p in model.pools]
    for book in (model.court, model.search):
        used, available = book.use(run.warmup_days, run.horizon_days)
        pools.append({"pool": book.name, "capacity": book.per_day, "unit": "places booked", "busy": used,
                      "available": available})
    return ReplicationOutput(
        replication=replication,
        cases=cols,
        snapshot_days=np.asarray(model.snapshot_days),
        snapshots=np.asarray(model.snapshots, dtype=np.int32),
        pools=pools,
        caseload_slots=model.caseload.capacity,
        caseload_slot_days=_slot_days(model),
    )
