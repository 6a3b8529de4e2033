"""A region: its forces' models in one SimPy environment, joined by the collaboration policy.

A single force is a region of one. Each force draws its own cases from streams named for it
(none prefixed in a region of one), so a force sees the same cases whatever the region's
collaboration: scenarios that change only capacity or routing keep common random numbers.
The policy (``policy.CollaborationPolicy``) is built from the config by
``policy.build_policy`` unless another factory is given.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from itertools import chain

import simpy

from ..config.schema import SimConfig
from ..core.calendar import Calendar
from ..core.rng import Streams
from ..domain import STAGES, SURGE, WIP_GRADES
from .demand import CaseTable, draw_cases
from .engine import Environment
from .force import ForceModel
from .policy import CollaborationPolicy, PolicyFactory, build_policy
from .staff import Pool, Team


# The collector's youngest generation is examined every 700 container allocations by default;
# a run allocates events, heap entries and requests by the hundred thousand, nearly all freed
# by reference counting within a step, so those examinations find next to nothing while
# costing some 5% of a replication. While a region runs, it is examined every
# YOUNG_COLLECTION_ALLOCATIONS allocations instead (cyclic garbage is still collected, a
# little later); the threshold the process had is put back when the last run in it ends.
YOUNG_COLLECTION_ALLOCATIONS = 10_000
_collector_lock = threading.Lock()
_runs_in_process = 0
_saved_thresholds: tuple[int, ...] = ()


@contextmanager
def fewer_young_collections():
    """Raise the collector's first threshold (never lower it) for the span of a run; runs
    in several threads of one process share the change, undone when the last ends."""
    global _runs_in_process, _saved_thresholds
    with _collector_lock:
        if _runs_in_process == 0:
            _saved_thresholds = gc.get_threshold()
            first, *rest = _saved_thresholds
            if first:  # 0: automatic collection is off, left so
                gc.set_threshold(max(first, YOUNG_COLLECTION_ALLOCATIONS), *rest)
        _runs_in_process += 1
    try:
        yield
    finally:
        with _collector_lock:
            _runs_in_process -= 1
            if _runs_in_process == 0:
                gc.set_threshold(*_saved_thresholds)


class RegionModel:
    """The SimPy model of a region over one replication. ``policy_factory`` builds the
    collaboration policy from (config, forces, environment, calendar); the default,
    ``build_policy``, follows ``cfg.collaboration``."""

    def __init__(self, cfg: SimConfig, replication: int, env: simpy.Environment | None = None,
                 policy_factory: PolicyFactory | None = None):
        self.cfg = cfg
        self.env = env if env is not None else Environment()
        self.cal = Calendar(cfg.calendar)
        self.cases: list[CaseTable] = []
        self.forces: list[ForceModel] = []
        for force_cfg in cfg.force_configs():
            prefix = f"{force_cfg.force}/" if cfg.forces else ""
            cases = draw_cases(force_cfg, Streams(cfg.run.seed, replication, prefix))
            self.cases.append(cases)
            self.forces.append(ForceModel(force_cfg, cases, self.env, self.cal))
        self.policy = (policy_factory or build_policy)(cfg, self.forces, self.env, self.cal)
        if not isinstance(self.policy, CollaborationPolicy):
            raise TypeError(f"{type(self.policy).__name__} lacks a method of CollaborationPolicy")
        for force in self.forces:
            force.policy = self.policy
        self.units = self.policy.staffed_units()
        self.snapshot_days: list[float] = []
        self.snapshots: list[list[int]] = []

    @property
    def owners(self) -> tuple[str, ...]:
        """Who may investigate a case: the forces, then the surge unit."""
        return (*self.cfg.force_names, SURGE)

    def series_labels(self) -> list[tuple[str, str, str, str]]:
        """(series, force, name, grade) of each column of a monitor snapshot."""
        labels = [("wip", force.name, stage, grade)
                  for force in self.forces for stage in STAGES for grade in WIP_GRADES]
        for unit in self.units:
            labels.append(("busy", unit.owner, unit.name, "all"))
            if isinstance(unit, Team):
                labels.append(("busy", unit.owner, "caseload", "all"))
        return labels

    def run(self) -> None:
        """Run from day 0 to the horizon."""
        env = self.env
        for unit in self.units:
            unit.apply(unit.steps[0])
            if len(unit.steps) > 1:
                env.process(self._workforce(unit))
        for force in self.forces:
            force.start_arrivals()
        env.process(self._monitor(self.cfg.run.monitor_interval_days))
        for force in self.forces:
            force.start_reviews()
        with fewer_young_collections():
            env.run(until=self.cfg.run.horizon_days)

    def _workforce(self, unit: Pool | Team):
        """Change a unit's headcount and pace on its schedule."""
        for step in unit.steps[1:]:
            yield self.env.timeout(step.day - self.env.now)
            unit.apply(step)

    def _monitor(self, interval_days: float):
        """Every ``interval_days``, sample each force's work in progress and each unit's staff
        (and caseload slots) busy, in ``series_labels`` order."""
        env, forces = self.env, self.forces
        # Each unit's staff busy (Pool.working) and a team's slots holding cases (Team.working):
        # the resource's users less the servers its blocker holds, read here without the
        # properties, as this runs every day of the run.
        busy = []
        for unit in self.units:
            pool = unit.pool if isinstance(unit, Team) else unit
            busy.append((pool.res.users, pool.blocker))
            if isinstance(unit, Team):
                busy.append((unit.caseload.users, unit.blocker))
        yield env.timeout(0)  # let day 0's cases (the backlog) join their stages first
        wip_counts = [force.wip.counts for force in forces]
        while True:
            self.snapshot_days.append(env.now)
            row = list(chain.from_iterable(chain.from_iterable(wip_counts)))  # as Wip.snapshot, force by force
            row += [len(users) - (blocker.in_use if blocker.held else 0) for users, blocker in busy]
            self.snapshots.append(row)
            yield env.timeout(interval_days)

    def pool_rows(self) -> list[dict]:
        """Use of every unit inside the measurement window, one dict a unit and resource."""
        run = self.cfg.run
        rows = [row for unit in self.units for row in unit.report()]
        for book in self.policy.day_books():
            rows += book.report(run.warmup_days, run.horizon_days)
        return rows
