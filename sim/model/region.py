"""A region: its forces' models in one SimPy environment, joined by the collaboration policy.

A single force is a region of one. Each force draws its own cases from streams named for it
(none prefixed in a region of one), so a force sees the same cases whatever the region's
collaboration: scenarios that change only capacity or routing keep common random numbers.
"""

from __future__ import annotations

import simpy

from ..config.schema import SimConfig
from ..core.calendar import Calendar
from ..core.rng import Streams
from ..domain import STAGES, SURGE, WIP_GRADES
from .collaboration import Collaboration
from .demand import CaseTable, draw_cases
from .force import ForceModel
from .staff import Team


class RegionModel:
    """The SimPy model of a region over one replication."""

    def __init__(self, cfg: SimConfig, replication: int, env: simpy.Environment | None = None):
        self.cfg = cfg
        self.env = env if env is not None else simpy.Environment()
        self.cal = Calendar(cfg.calendar)
        self.cases: list[CaseTable] = []
        self.forces: list[ForceModel] = []
        for fc in cfg.force_configs():
            prefix = f"{fc.force}/" if cfg.forces else ""
            cases = draw_cases(fc, Streams(cfg.run.seed, replication, prefix))
            self.cases.append(cases)
            self.forces.append(ForceModel(fc, cases, self.env, self.cal))
        self.policy = Collaboration(cfg, self.forces, self.env, self.cal)
        for f in self.forces:
            f.policy = self.policy
        self.units = self.policy.staffed_units()
        self.snapshot_days: list[float] = []
        self.snapshots: list[list[int]] = []

    @property
    def owners(self) -> tuple[str, ...]:
        """Who may investigate a case: the forces, then the surge unit."""
        return (*self.cfg.force_names, SURGE)

    def series_labels(self) -> list[tuple[str, str, str, str]]:
        """(series, force, name, grade) of each column of a monitor snapshot."""
        labels = [("wip", f.name, s, g) for f in self.forces for s in STAGES for g in WIP_GRADES]
        for u in self.units:
            labels.append(("busy", u.owner, u.name, "all"))
            if isinstance(u, Team):
                labels.append(("busy", u.owner, "caseload", "all"))
        return labels

    def run(self) -> None:
        """Run from day 0 to the horizon."""
        env = self.env
        for unit in self.units:
            unit.apply(unit.steps[0])
            if len(unit.steps) > 1:
                env.process(self._workforce(unit))
        for f in self.forces:
            f.start_arrivals()
        env.process(self._monitor(self.cfg.run.monitor_interval_days))
        for f in self.forces:
            f.start_reviews()
        env.run(until=self.cfg.run.horizon_days)

    def _workforce(self, unit):
        """Change a pool's headcount and pace on its schedule."""
        for step in unit.steps[1:]:
            yield self.env.timeout(step.day - self.env.now)
            unit.apply(step)

    def _monitor(self, interval: float):
        env, forces = self.env, self.forces
        readers = []
        for u in self.units:
            readers.append(lambda p=(u.pool if isinstance(u, Team) else u): p.working)
            if isinstance(u, Team):
                readers.append(lambda t=u: t.working)
        yield env.timeout(0)  # let day 0's cases (the backlog) join their stages first
        while True:
            self.snapshot_days.append(env.now)
            row = [c for f in forces for c in f.wip.snapshot()]
            row += [read() for read in readers]
            self.snapshots.append(row)
            yield env.timeout(interval)

    def pool_rows(self) -> list[dict]:
        """Use of every unit inside the measurement window, one dict a unit and resource."""
        run = self.cfg.run
        rows = [r for u in self.units for r in u.report()]
        return rows + [r for b in self.policy.day_books() for r in b.report(run.warmup_days, run.horizon_days)]
