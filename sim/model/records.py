"""Record buffers the model fills as cases move: per-case timestamps and outcomes, and the
work-in-progress counters a monitor samples (each staff pool keeps its own busy time).
Typed arrays while running (as cheap to write to from a SimPy process as lists), numpy
columns when handed on."""

from __future__ import annotations

import math
from array import array
from itertools import chain

import numpy as np

from ..domain import STAGES, TIMESTAMP_COLUMNS, UNGRADED, Outcome

NAN = math.nan


class CaseRecords:
    """Per-case columns, indexed by case number. Typed arrays (``array.array``), not lists:
    as cheap to write from a process, handed on as numpy without a copy element by element,
    and holding no Python objects, so the collector has nothing in them to examine (a list
    of a float a case is examined again at every collection that reaches it)."""

    def __init__(self, n: int):
        self.n = n
        self.times = {name: _days(n) for name in TIMESTAMP_COLUMNS}
        self.safeguarding_day = _days(n)
        self.arrest_day = _days(n)
        self.exit_day = _days(n)
        self.slot_start_day = _days(n)
        self.slot_release_day = _days(n)
        self.outcome = array("b", [int(Outcome.OPEN)]) * n
        self.reviewed_day = _days(n)
        self.escalated_day = _days(n)
        self.warrant_applications = array("h", [0]) * n
        self.handoff_days = array("d", [0.0]) * n  # delays handing the case between forces and regional units
        self.investigated_by: list[str | None] = [None] * n  # whose investigators held it (a force, or surge)

    def columns(self) -> dict[str, np.ndarray]:
        """Every column as a numpy array (float days, int8 outcome, int16 applications), by name."""
        out = {name: np.array(values) for name, values in self.times.items()}
        for name in ("safeguarding_day", "arrest_day", "exit_day", "slot_start_day", "slot_release_day", "outcome",
                     "reviewed_day", "escalated_day", "warrant_applications", "handoff_days"):
            out[name] = np.array(getattr(self, name))
        return out


def _days(n: int) -> array:
    """A column of ``n`` days, none known yet (NaN)."""
    return array("d", [NAN]) * n


class Wip:
    """Cases in each stage (queueing or in service) by assigned grade, ungraded last."""

    def __init__(self):
        self.counts = [[0] * (UNGRADED + 1) for _ in STAGES]

    def snapshot(self) -> list[int]:
        """The counts, stage by stage (grades within a stage)."""
        return list(chain.from_iterable(self.counts))
