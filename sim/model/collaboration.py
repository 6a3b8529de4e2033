"""The collaboration policy: which unit serves a case at each stage.

A force's stage processes ask the policy, never decide for themselves, whether a referral is
graded by the force's own assessors or a regional triage hub, which investigators' queue it
joins (its own force's, the region's pooled team, or a surge unit taking overflow) and
whose search teams it may book. A region of one with no collaboration gets the force's own
units at every stage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import simpy

from ..config.schema import SimConfig
from ..core.calendar import Calendar
from ..domain import GRADES, REGION, SURGE
from .staff import DayBook, Pool, PooledDayBook, PooledTeam, Team
from .workforce import Step, pooled_schedule

if TYPE_CHECKING:
    from .force import ForceModel


class Collaboration:
    """The region's shared units and the rules that route cases to them."""

    def __init__(self, cfg: SimConfig, forces: Sequence["ForceModel"], env: simpy.Environment, cal: Calendar):
        c, run = cfg.collaboration, cfg.run
        self.forces = list(forces)
        window = (run.warmup_days, run.horizon_days)

        self.hub: Pool | None = None
        if c.triage_hub.enabled:
            n = c.triage_hub.assessors or sum(f.cfg.staffing.assessors for f in forces)
            self.hub = Pool(env, "assessment", [Step(0.0, n, 1.0)], cal, *window, REGION,
                            _mean_availability(forces, "assessors"))

        self.pooled: PooledTeam | None = None
        if c.pooling.investigators:
            teams = [f.team for f in forces]
            pool = Pool(env, "investigators", pooled_schedule([t.steps for t in teams]), cal, *window, REGION,
                        _mean_availability(forces, "investigators"))
            slots = {f.name: f.team.caseload.capacity for f in forces}
            self.pooled = PooledTeam(env, pool, forces[0].team.caseload_limit, slots, "pooling_handoff_days")

        self.surge: Team | None = None
        s = c.surge
        if s.investigators > 0:
            pool = Pool(env, "investigators", [Step(0.0, s.investigators, 1.0)], cal, *window, SURGE, s.availability)
            self.surge = Team(env, pool, s.caseload_limit, "surge_handoff_days")
        self.surge_grades = [g in s.grades for g in GRADES]
        self.surge_threshold = s.queue_threshold

        self.search: PooledDayBook | None = None
        if c.pooling.search_teams:
            self.search = PooledDayBook({f.name: f.search for f in forces})

    # ------------------------------------------------------------------ routing

    def assessors(self, force: "ForceModel") -> tuple[Pool, str | None]:
        """Who grades a referral, and the case column holding its hand-off delay (or None)."""
        if self.hub is not None:
            return self.hub, "hub_handoff_days"
        return force.assessment, None

    def home_team(self, force: "ForceModel") -> Team:
        """The investigators a force's cases belong to: its own, or the region's pool."""
        return self.pooled if self.pooled is not None else force.team

    def team_for(self, force: "ForceModel", i: int) -> Team:
        """The team case ``i`` queues for at allocation: the surge unit if its grade is
        eligible, its home queue is at the threshold and the unit has a free slot; else home."""
        home = self.home_team(force)
        surge = self.surge
        if (surge is not None and self.surge_grades[force.grade[i]] and home.waiting >= self.surge_threshold
                and surge.has_free_slot()):
            return surge
        return home

    def search_book(self, force: "ForceModel") -> DayBook | PooledDayBook:
        """The search-team days a force's routine warrants are booked into."""
        return self.search if self.search is not None else force.search

    # ------------------------------------------------------------------ units

    def staffed_units(self) -> list[Pool | Team]:
        """Every staff pool and investigator team in service, forces' first."""
        units: list[Pool | Team] = []
        for f in self.forces:
            units += [f.intake, f.research]
            if self.hub is None:
                units.append(f.assessment)
            if self.pooled is None:
                units.append(f.team)
        units += [u for u in (self.hub, self.pooled, self.surge) if u is not None]
        return units

    def day_books(self) -> list[DayBook]:
        return [b for f in self.forces for b in (f.court, f.search)]


def _mean_availability(forces: Sequence["ForceModel"], role: str) -> float:
    """The forces' share of hours available for casework, weighted by their ``role`` staff."""
    heads = [getattr(f.cfg.staffing, role) for f in forces]
    return sum(f.cfg.staffing.availability * n for f, n in zip(forces, heads)) / sum(heads)
