"""Record buffers the model fills as cases move: per-case timestamps and outcomes, and the
work-in-progress counters a monitor samples (each staff pool keeps its own busy time).
Plain Python lists while running (the cheapest thing to write to from a SimPy process),
numpy columns when handed on."""

from __future__ import annotations

import math
from itertools import chain

import numpy as np

from ..domain import STAGES, TIMESTAMP_COLUMNS, UNGRADED, Outcome

NAN = math.nan


class CaseRecords:
    """Per-case columns, indexed by case number."""

    def __init__(self, n: int):
        self.n = n
        self.times = {name: [NAN] * n for name in TIMESTAMP_COLUMNS}
        self.safeguarding_day = [NAN] * n
        self.arrest_day = [NAN] * n
        self.exit_day = [NAN] * n
        self.slot_start_day = [NAN] * n
        self.slot_release_day = [NAN] * n
        self.outcome = [int(Outcome.OPEN)] * n
        self.reviewed_day = [NAN] * n
        self.escalated_day = [NAN] * n
        self.warrant_applications = [0] * n
        self.handoff_days = [0.0] * n  # delays handing the case between forces and regional units
        self.investigated_by: list[str | None] = [None] * n  # whose investigators held it (a force, or surge)

    def columns(self) -> dict[str, np.ndarray]:
        """Every column as a numpy array, by name."""
        out = {name: np.asarray(values, dtype=float) for name, values in self.times.items()}
        out["safeguarding_day"] = np.asarray(self.safeguarding_day, dtype=float)
        out["arrest_day"] = np.asarray(self.arrest_day, dtype=float)
        out["exit_day"] = np.asarray(self.exit_day, dtype=float)
        out["slot_start_day"] = np.asarray(self.slot_start_day, dtype=float)
        out["slot_release_day"] = np.asarray(self.slot_release_day, dtype=float)
        out["outcome"] = np.asarray(self.outcome, dtype=np.int8)
        out["reviewed_day"] = np.asarray(self.reviewed_day, dtype=float)
        out["escalated_day"] = np.asarray(self.escalated_day, dtype=float)
        out["warrant_applications"] = np.asarray(self.warrant_applications, dtype=np.int16)
        out["handoff_days"] = np.asarray(self.handoff_days, dtype=float)
        return out


class Wip:
    """Cases in each stage (queueing or in service) by assigned grade, ungraded last."""

    def __init__(self):
        self.counts = [[0] * (UNGRADED + 1) for _ in STAGES]

    def snapshot(self) -> list[int]:
        """The counts, stage by stage (grades within a stage)."""
        return list(chain.from_iterable(self.counts))
