"""The collaboration policy: which unit serves a case at each stage.

A force's stage processes never decide for themselves who does the work: at each decision
they ask the region's policy (``CollaborationPolicy``), which answers with the unit (a staff
pool, an investigator team, a search diary) and the hand-off delay in days the case spends
reaching it. The delays are drawn with the case at arrival (``demand.draw_cases``); a policy
knows which of them applies, the force does not.

Today's behaviours are small policies that compose. ``OwnUnits`` is a region without
collaboration: every force's own units at every stage. Each other one is a ``PolicyLayer``
over the policy beneath it, changing one decision and passing the rest on:

- ``TriageHub``: a regional hub grades every force's referrals;
- ``PooledInvestigators``: the forces' investigators are one team;
- ``PooledSearchTeams``: a force's routine warrants may use another force's search teams;
- ``SurgeUnit``: a regional unit takes eligible overflow at allocation.

``build_policy`` stacks them as ``cfg.collaboration`` switches them on. A new policy is a
layer (or any class with the protocol's methods) and, if a configuration switches it on, a
line in ``build_policy``; ``RegionModel`` and ``run_replication`` also take a factory for one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Protocol, Sequence, runtime_checkable

import simpy

from ..config.schema import SimConfig
from ..core.calendar import Calendar
from ..domain import GRADES, REGION, SURGE
from .staff import DayBook, Pool, PooledDayBook, PooledTeam, Team
from .workforce import Step, pooled_schedule

if TYPE_CHECKING:
    from .force import ForceModel

SearchDiary = DayBook | PooledDayBook


@runtime_checkable
class CollaborationPolicy(Protocol):
    """What a force asks at each decision, and what the region reports. ``force`` is the
    asking force's model, ``i`` its case number; delays are in days."""

    def assessors(self, force: ForceModel, i: int) -> tuple[Pool, float]:
        """The pool that grades case ``i`` (not one assessed by a local non-specialist), and
        the hand-off delay (days) before it joins that pool's queue."""
        ...

    def home_team(self, force: ForceModel) -> Team:
        """The investigators a force's cases belong to, who take a case worked round the clock."""
        ...

    def team_for(self, force: ForceModel, i: int) -> Team:
        """The team whose caseload queue case ``i`` joins at allocation. Whoever its slots
        are held by (``Team.take``) must be one of the region's owners: a force or the surge unit."""
        ...

    def investigator_handoff_days(self, force: ForceModel, i: int, team: Team, holder: str) -> float:
        """The delay (days) between case ``i`` taking a slot of ``team`` held by ``holder``
        (another force, or a regional unit) and its investigators starting on it."""
        ...

    def search_book(self, force: ForceModel) -> SearchDiary:
        """The search diary a force's routine warrants are booked into."""
        ...

    def search_handoff_days(self, force: ForceModel, i: int, book: SearchDiary, day: int) -> float:
        """The delay (days) before the warrant of case ``i``, booked into ``book`` on ``day``,
        can be executed (another force's team must be briefed and travel)."""
        ...

    def staffed_units(self) -> list[Pool | Team]:
        """Every staff pool and investigator team in service, forces' own first: the region
        schedules their headcounts, samples and reports them in this order."""
        ...

    def day_books(self) -> list[DayBook]:
        """The day books whose use the region reports (court and search, by force)."""
        ...


_DECISIONS = ("assessors", "home_team", "team_for", "investigator_handoff_days", "search_book", "search_handoff_days")

PolicyFactory = Callable[[SimConfig, Sequence["ForceModel"], simpy.Environment, Calendar], CollaborationPolicy]
"""Builds a region's policy from its config, its forces' models, the environment and calendar."""


def handoff_delays(forces: Sequence[ForceModel], column: str) -> dict[ForceModel, list[float]]:
    """Each force's pre-drawn hand-off delays (days, by case) from the case column ``column``."""
    return {force: getattr(force.cases, column).tolist() for force in forces}


class OwnUnits:
    """No collaboration: each force's own assessors, investigators and search teams."""

    def __init__(self, forces: Sequence[ForceModel]):
        self.forces = list(forces)

    def assessors(self, force: ForceModel, i: int) -> tuple[Pool, float]:
        return force.assessment, 0.0

    def home_team(self, force: ForceModel) -> Team:
        return force.team

    def team_for(self, force: ForceModel, i: int) -> Team:
        return force.team

    def investigator_handoff_days(self, force: ForceModel, i: int, team: Team, holder: str) -> float:
        return 0.0

    def search_book(self, force: ForceModel) -> SearchDiary:
        return force.search

    def search_handoff_days(self, force: ForceModel, i: int, book: SearchDiary, day: int) -> float:
        return 0.0

    def staffed_units(self) -> list[Pool | Team]:
        return [unit for force in self.forces for unit in (force.intake, force.research, force.assessment, force.team)]

    def day_books(self) -> list[DayBook]:
        return [book for force in self.forces for book in (force.court, force.search)]


class PolicyLayer:
    """A policy that changes some decisions of the policy beneath it (``inner``) and passes
    every other one on unchanged. Subclasses override only what they change."""

    def __init__(self, inner: CollaborationPolicy):
        self.inner = inner
        # A decision this layer leaves alone is answered by the inner policy's own method,
        # bound here, rather than by a call down the stack one layer at a time on every case.
        for name in _DECISIONS:
            if getattr(type(self), name) is getattr(PolicyLayer, name):
                setattr(self, name, getattr(inner, name))

    def assessors(self, force: ForceModel, i: int) -> tuple[Pool, float]:
        return self.inner.assessors(force, i)

    def home_team(self, force: ForceModel) -> Team:
        return self.inner.home_team(force)

    def team_for(self, force: ForceModel, i: int) -> Team:
        return self.inner.team_for(force, i)

    def investigator_handoff_days(self, force: ForceModel, i: int, team: Team, holder: str) -> float:
        return self.inner.investigator_handoff_days(force, i, team, holder)

    def search_book(self, force: ForceModel) -> SearchDiary:
        return self.inner.search_book(force)

    def search_handoff_days(self, force: ForceModel, i: int, book: SearchDiary, day: int) -> float:
        return self.inner.search_handoff_days(force, i, book, day)

    def staffed_units(self) -> list[Pool | Team]:
        return self.inner.staffed_units()

    def day_books(self) -> list[DayBook]:
        return self.inner.day_books()


class TriageHub(PolicyLayer):
    """One regional team grades every force's referrals, each reaching it after its
    hand-off (``collaboration.triage_hub``); its staff are the forces' assessors moved to it
    unless a headcount is given."""

    def __init__(self, inner: CollaborationPolicy, cfg: SimConfig, forces: Sequence[ForceModel],
                 env: simpy.Environment, cal: Calendar):
        super().__init__(inner)
        hub = cfg.collaboration.triage_hub
        headcount = hub.assessors or sum(force.cfg.staffing.assessors for force in forces)
        self.pool = Pool(env, "assessment", [Step(0.0, headcount, 1.0)], cal, cfg.run.warmup_days,
                         cfg.run.horizon_days, REGION, _mean_availability(forces, "assessors"))
        self.replaced = {force.assessment for force in forces}
        self.delays = handoff_delays(forces, "hub_handoff_days")

    def assessors(self, force: ForceModel, i: int) -> tuple[Pool, float]:
        return self.pool, self.delays[force][i]

    def staffed_units(self) -> list[Pool | Team]:
        return [unit for unit in self.inner.staffed_units() if unit not in self.replaced] + [self.pool]


class PooledInvestigators(PolicyLayer):
    """The forces' investigators as one team (``collaboration.pooling.investigators``): a
    case takes a slot of its own force while one is free, else another force's, whose
    investigators start on it after the pooling hand-off."""

    def __init__(self, inner: CollaborationPolicy, cfg: SimConfig, forces: Sequence[ForceModel],
                 env: simpy.Environment, cal: Calendar):
        super().__init__(inner)
        steps = pooled_schedule([force.team.steps for force in forces])
        pool = Pool(env, "investigators", steps, cal, cfg.run.warmup_days, cfg.run.horizon_days, REGION,
                    _mean_availability(forces, "investigators"))
        slots = {force.name: force.team.caseload.capacity for force in forces}
        self.team = PooledTeam(env, pool, forces[0].team.caseload_limit, slots)
        self.replaced = {force.team for force in forces}
        self.delays = handoff_delays(forces, "pooling_handoff_days")

    def home_team(self, force: ForceModel) -> Team:
        return self.team

    def team_for(self, force: ForceModel, i: int) -> Team:
        return self.team

    def investigator_handoff_days(self, force: ForceModel, i: int, team: Team, holder: str) -> float:
        if team is self.team:
            return self.delays[force][i]
        return self.inner.investigator_handoff_days(force, i, team, holder)

    def staffed_units(self) -> list[Pool | Team]:
        return [unit for unit in self.inner.staffed_units() if unit not in self.replaced] + [self.team]


class PooledSearchTeams(PolicyLayer):
    """The forces' search teams lent to each other (``collaboration.pooling.search_teams``):
    a routine warrant uses its own force's team while one is free that day, else another
    force's, after the pooling hand-off."""

    def __init__(self, inner: CollaborationPolicy, cfg: SimConfig, forces: Sequence[ForceModel],
                 env: simpy.Environment, cal: Calendar):
        super().__init__(inner)
        self.book = PooledDayBook({force.name: force.search for force in forces})
        self.delays = handoff_delays(forces, "pooling_handoff_days")

    def search_book(self, force: ForceModel) -> SearchDiary:
        return self.book

    def search_handoff_days(self, force: ForceModel, i: int, book: SearchDiary, day: int) -> float:
        if book is self.book:
            return self.delays[force][i] if book.would_borrow(day, force.name) else 0.0
        return self.inner.search_handoff_days(force, i, book, day)


class SurgeUnit(PolicyLayer):
    """A regional surge unit (``collaboration.surge``): a case of an eligible grade reaching
    allocation while the queue it would join holds the threshold or more is taken by the
    unit if it has a free caseload slot, after the surge hand-off."""

    def __init__(self, inner: CollaborationPolicy, cfg: SimConfig, forces: Sequence[ForceModel],
                 env: simpy.Environment, cal: Calendar):
        super().__init__(inner)
        surge = cfg.collaboration.surge
        pool = Pool(env, "investigators", [Step(0.0, surge.investigators, 1.0)], cal, cfg.run.warmup_days,
                    cfg.run.horizon_days, SURGE, surge.availability)
        self.team = Team(env, pool, surge.caseload_limit)
        self.takes_grade = [grade in surge.grades for grade in GRADES]
        self.queue_threshold = surge.queue_threshold
        self.delays = handoff_delays(forces, "surge_handoff_days")

    def team_for(self, force: ForceModel, i: int) -> Team:
        usual = self.inner.team_for(force, i)
        if (self.takes_grade[force.grade[i]] and usual.waiting >= self.queue_threshold
                and self.team.has_free_slot()):
            return self.team
        return usual

    def investigator_handoff_days(self, force: ForceModel, i: int, team: Team, holder: str) -> float:
        if team is self.team:
            return self.delays[force][i]
        return self.inner.investigator_handoff_days(force, i, team, holder)

    def staffed_units(self) -> list[Pool | Team]:
        return self.inner.staffed_units() + [self.team]


def build_policy(cfg: SimConfig, forces: Sequence[ForceModel], env: simpy.Environment,
                 cal: Calendar) -> CollaborationPolicy:
    """The region's policy as ``cfg.collaboration`` switches its parts on: the forces' own
    units, under the triage hub, pooled investigators, pooled search teams and the surge
    unit, in that order (the surge unit watches the queue a case would otherwise join)."""
    collaboration = cfg.collaboration
    policy: CollaborationPolicy = OwnUnits(forces)
    layers = ((TriageHub, collaboration.triage_hub.enabled),
              (PooledInvestigators, collaboration.pooling.investigators),
              (PooledSearchTeams, collaboration.pooling.search_teams),
              (SurgeUnit, collaboration.surge.investigators > 0))
    for layer, enabled in layers:
        if enabled:
            policy = layer(policy, cfg, forces, env, cal)
    return policy


def _mean_availability(forces: Sequence[ForceModel], role: str) -> float:
    """The forces' share of hours available for casework, weighted by their ``role`` staff."""
    heads = [getattr(force.cfg.staffing, role) for force in forces]
    return sum(force.cfg.staffing.availability * n for force, n in zip(forces, heads)) / sum(heads)
