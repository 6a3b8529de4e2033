"""The load a configuration offers each unit on day 0, against what the unit can do.

A force's referrals bring work to every unit in turn: intake, research and assessment staff,
the investigators' hands-on hours and caseload slots, the court's warrant hearing slots and
the search teams' days. Dividing the work offered a calendar day by what the unit can do a
calendar day gives its starting utilisation, worked out from the config's means alone, in the
units the pools table measures (staff hours, slot days, places booked). Above 1 a unit's
queue grows without bound from the first day (and the referrals grow from there), whatever
the run's length: a configuration that mixes a large force's demand with a medium force's
staff, say.

The estimate is of an idle force: a caseload slot is counted as held for the case's own
work and lags, not for its waits for an investigator's time, so under load the slots'
measured use is higher. The initial backlog, a training programme's later courses and
recruits who have not yet arrived are left out (what starts on day 0 is what counts); so is
a regional surge unit, which takes only overflow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..config.schema import SimConfig
from ..core.calendar import Calendar
from ..domain import DAYS_PER_MONTH, GRADES, REGION
from .demand import grading_matrix
from .workforce import schedule, trained_share_at

STAFF_POOLS = {"intake": "intake_researchers", "research": "researchers", "assessment": "assessors",
               "investigators": "investigators"}
"""A staff pool of the model and the staffing key that sets its headcount."""

# How a warning names one of a unit's members, and what to add to it.
_WORDS = {"intake": ("intake researcher", "intake staff"), "research": ("researcher", "researchers"),
        "assessment": ("assessor", "assessors"), "investigators": ("investigator", "investigators"),
        "caseload": ("caseload slot", "investigators or a higher caseload limit"),
        "court": ("warrant hearing slot", "hearing slots"), "search_teams": ("search team", "search teams")}


@dataclass(frozen=True)
class PoolLoad:
    """One unit's day-0 load: work offered and capacity, both per calendar day, in ``unit``
    (contracted staff hours, slot days or places booked, as the pools table counts them).
    ``size`` is its headcount, caseload slots, or places a working day; ``key`` the config
    key that sets it; ``referrals_per_month`` the referrals a month at day 0 that bring the work."""

    force: str
    pool: str
    unit: str
    size: int
    offered_per_day: float
    capacity_per_day: float
    key: str
    referrals_per_month: float

    @property
    def utilisation(self) -> float:
        """Work offered over capacity: above 1 the unit's queue grows without bound."""
        return self.offered_per_day / self.capacity_per_day if self.capacity_per_day > 0 else math.inf


def start_load(cfg: SimConfig) -> tuple[PoolLoad, ...]:
    """Every unit's starting load (``PoolLoad``): by force, intake, research, assessment,
    investigators (hands-on hours), caseload, court and search_teams; units the region
    shares (a triage hub, pooled investigators or search teams) once, as the ``region``'s.

    >>> from sim.config.schema import SimConfig
    >>> [(load.pool, round(load.utilisation, 2)) for load in start_load(SimConfig())][:3]
    [('intake', 0.57), ('research', 0.66), ('assessment', 0.23)]
    """
    cal = Calendar(cfg.calendar)
    prefixes = [f"forces[{k}]." for k in range(len(cfg.forces))] if cfg.forces else [""]
    loads = [load for prefix, force in zip(prefixes, cfg.force_configs()) for load in _force_loads(force, cal, prefix)]
    collaboration = cfg.collaboration
    if collaboration.triage_hub.enabled:
        loads = [load for load in loads if load.pool != "assessment"] + [_hub_load(cfg, cal)]
    for pool, shared in (("investigators", collaboration.pooling.investigators),
                         ("caseload", collaboration.pooling.investigators),
                         ("search_teams", collaboration.pooling.search_teams)):
        if shared:
            loads = [load for load in loads if load.pool != pool] + [_shared(loads, pool)]
    return tuple(loads)


OVERLOAD_THRESHOLD = 1.2
"""The starting utilisation above which a unit is warned of: a fifth more work than it can
do is past any noise in the estimate, while the stressed baseline, whose search teams start
at 1.0, is not."""


def overload_warnings(cfg: SimConfig, threshold: float = OVERLOAD_THRESHOLD) -> list[str]:
    """One plain line for each unit whose starting utilisation (``start_load``) exceeds
    ``threshold``, naming the force, the unit, its size against the referrals, the
    utilisation and the key to change. Empty when every unit can keep up.

    >>> from sim.config.schema import SimConfig
    >>> overload_warnings(SimConfig())
    []
    """
    lines = []
    for load in start_load(cfg):
        u = load.utilisation
        if u <= threshold:
            continue
        one, more = _WORDS[load.pool]
        size = f"{load.size} {one}{'' if load.size == 1 else 's'}" + (" a sitting day" if load.pool == "court" else "")
        outlook = "waits will grow without bound" if u > 1 else "waits will be long"
        whole = "" if cfg.forces else ", or a whole-force preset whose staff match its demand (force=small, medium or large)"
        lines.append(f"{load.force} {load.pool}: {size} for {load.referrals_per_month:.0f} referrals a month, "
                     f"starting utilisation {u:.2f}; {outlook}: add {more} ({load.key}){whole}")
    return lines


# --------------------------------------------------------------------------- one force


@dataclass(frozen=True)
class _Flow:
    """A force's day-0 case flow: cases a calendar day reaching each stage, shares of them."""

    cases_per_day: float  # suspects reaching intake (a bulk package brings several)
    urgent_share: float  # worked round the clock before grading (true very high risk)
    researched_per_day: float
    allocated_per_day: float  # graded cases reaching allocation
    grade_mix: np.ndarray  # assigned grades VH..L of the graded cases


def _flow(cfg: SimConfig, trained_assessor_share: float) -> _Flow:
    d, stages = cfg.demand, cfg.stages
    cases = d.referrals_per_month_at(0.0) / DAYS_PER_MONTH * d.suspects_per_referral()
    researched = cases * (1 - stages.intake.duplicate_probability)
    allocated = researched * (1 - stages.research.untraceable_probability)
    confusion = (trained_assessor_share * grading_matrix(cfg, True)
                 + (1 - trained_assessor_share) * grading_matrix(cfg, False))
    grade_mix = np.asarray(d.risk_mix.as_tuple()) @ confusion
    urgent = d.risk_mix.VH if "VH" in stages.round_the_clock_grades else 0.0
    return _Flow(cases, urgent, researched, allocated, grade_mix)


def _nonspecialist_share(cfg: SimConfig) -> float:
    """Share of cases graded by a local non-specialist, not the assessors."""
    if cfg.collaboration.triage_hub.enabled:
        return 0.0
    return cfg.demand.direct_report_share * cfg.training.direct_to_nonspecialist_share


def _staff_hours(effort_hours: float, urgent_share: float, availability: float, pace: float = 1.0) -> float:
    """Contracted staff hours a case's ``effort_hours`` take: spread over the staff's
    ``availability`` and ``pace``, or worked straight through for a case worked round the
    clock (``urgent_share`` of them)."""
    return effort_hours * ((1 - urgent_share) * pace / availability + urgent_share)


def _hours_per_day(cal: Calendar) -> float:
    """Working hours one person has a calendar day."""
    return cal.week_hours / 7.0 if cal.enabled else 24.0


def _force_loads(cfg: SimConfig, cal: Calendar, prefix: str) -> list[PoolLoad]:
    stages, staffing, training = cfg.stages, cfg.staffing, cfg.training
    day0 = np.zeros(1)
    nonspecialist = _nonspecialist_share(cfg)
    trained_assessors = float(trained_share_at(cfg, "assessors", day0)[0])
    flow = _flow(cfg, (1 - nonspecialist) * trained_assessors)
    referrals, hours_a_day = cfg.demand.referrals_per_month_at(0.0), _hours_per_day(cal)

    def staff(pool: str, cases_per_day: float, effort_hours: float, urgent_share: float) -> PoolLoad:
        step = schedule(cfg, pool)[0]
        offered = cases_per_day * _staff_hours(effort_hours, urgent_share, staffing.availability, step.pace)
        return PoolLoad(cfg.force, pool, "staff hours", step.headcount, offered, step.headcount * hours_a_day,
                        f"{prefix}staffing.{STAFF_POOLS[pool]}", referrals)

    trained_researchers = float(trained_share_at(cfg, "researchers", day0)[0])
    research_hours = stages.research.effort_hours.mean_value * (
        trained_researchers + (1 - trained_researchers) * training.untrained_research_effort_multiplier)
    assessment_hours = (trained_assessors * stages.assessment.effort_hours_trained.mean_value
                        + (1 - trained_assessors) * stages.assessment.effort_hours_untrained.mean_value)
    on_call = _share(flow.grade_mix, stages.round_the_clock_grades)
    investigator_hours = _investigator_hours(cfg)
    loads = [
        staff("intake", flow.cases_per_day, stages.intake.effort_hours.mean_value, flow.urgent_share),
        staff("research", flow.researched_per_day, research_hours, flow.urgent_share),
        staff("assessment", flow.allocated_per_day * (1 - nonspecialist), assessment_hours, flow.urgent_share),
        staff("investigators", flow.allocated_per_day, investigator_hours, on_call),
    ]
    slots = loads[-1].size * staffing.caseload_limit
    held_days = sum(float(share) * _slot_days(cfg, cal, grade, investigator_hours)
                    for grade, share in zip(GRADES, flow.grade_mix)
                    if grade not in stages.round_the_clock_grades)
    loads.append(PoolLoad(cfg.force, "caseload", "slot days", slots, flow.allocated_per_day * held_days, float(slots),
                          f"{prefix}staffing.investigators", referrals))
    working_days = cal.days_per_week / 7.0 if cal.enabled else 1.0
    warrant = stages.warrant
    booked = _share(flow.grade_mix, tuple(g for g in GRADES if g not in warrant.same_day_grades + warrant.out_of_hours_grades))
    loads.append(PoolLoad(cfg.force, "court", "places booked", warrant.slots_per_sitting_day,
                          flow.allocated_per_day * booked, warrant.slots_per_sitting_day * working_days,
                          f"{prefix}stages.warrant.slots_per_sitting_day", referrals))
    places = staffing.search_teams * stages.execution.warrants_per_team_per_day
    loads.append(PoolLoad(cfg.force, "search_teams", "places booked", staffing.search_teams,
                          flow.allocated_per_day * (1 - warrant.refusal_probability), places * working_days,
                          f"{prefix}staffing.search_teams", referrals))
    return loads


def _share(grade_mix: np.ndarray, grades: tuple[str, ...]) -> float:
    return float(sum(share for grade, share in zip(GRADES, grade_mix) if grade in grades))


def _investigator_hours(cfg: SimConfig) -> float:
    """Mean hands-on hours an allocated case asks of an investigator: planning, the warrant
    (and its rework when defective), and the post-arrest work after an enforcement."""
    stages = cfg.stages
    warrant, execution = stages.warrant, stages.execution
    trained = float(trained_share_at(cfg, "investigators", np.zeros(1))[0])
    defective = trained * warrant.defective_probability_trained + (1 - trained) * warrant.defective_probability_untrained
    enforced = (1 - warrant.refusal_probability) * (execution.arrest_probability + execution.voluntary_interview_probability)
    return (stages.planning.effort_hours.mean_value + warrant.effort_hours.mean_value
            + defective * warrant.rework_effort_hours.mean_value + enforced * stages.post_arrest.effort_hours.mean_value)


def _slot_days(cfg: SimConfig, cal: Calendar, grade: str, investigator_hours: float) -> float:
    """Days a case of assigned ``grade`` holds a caseload slot at an idle force: its hands-on
    work (``investigator_hours``, see :func:`_investigator_hours`) spread over office time,
    the planning lag, the wait for a hearing, the execution lag to a working day."""
    stages = cfg.stages
    planning, warrant, execution = stages.planning, stages.warrant, stages.execution
    step = schedule(cfg, "investigators")[0]
    work_days = investigator_hours * step.pace / cfg.staffing.availability / _hours_per_day(cal)
    planning_lag = (planning.urgent_lag_days if grade in planning.urgent_grades else planning.lag_days).mean_value
    execution_lag = (execution.urgent_lag_days if grade in execution.urgent_grades else execution.lag_days).mean_value
    booked = grade not in warrant.same_day_grades + warrant.out_of_hours_grades
    waits = []
    for t in _office_times(cal):  # the work ends, and the warrant is asked for, in office hours
        heard = cal.opening(cal.next_working_day(math.floor(t) + 1)) + cal.hours / 48.0 if booked else t
        earliest = heard + execution_lag
        executed = max(cal.opening(cal.next_working_day(math.floor(earliest))), earliest)
        waits.append(executed - t)
    return work_days + planning_lag + float(np.mean(waits))


def _office_times(cal: Calendar, per_day: int = 16) -> list[float]:
    """Times spread evenly over the working hours of one week (days)."""
    start, length = (cal.start_h, cal.hours) if cal.enabled else (0.0, 24.0)
    return [day + (start + (k + 0.5) * length / per_day) / 24.0
            for day in range(7) if cal.is_working_day(day) for k in range(per_day)]


# --------------------------------------------------------------------------- shared units


def _hub_load(cfg: SimConfig, cal: Calendar) -> PoolLoad:
    """The regional triage hub's assessors, grading every force's cases."""
    hub = cfg.collaboration.triage_hub
    forces = cfg.force_configs()
    heads = [force.staffing.assessors for force in forces]
    availability = sum(f.staffing.availability * n for f, n in zip(forces, heads)) / sum(heads)
    hours = (hub.trained_share * cfg.stages.assessment.effort_hours_trained.mean_value
             + (1 - hub.trained_share) * cfg.stages.assessment.effort_hours_untrained.mean_value)
    offered = 0.0
    for force in forces:
        flow = _flow(force, hub.trained_share)
        offered += flow.allocated_per_day * _staff_hours(hours, flow.urgent_share, availability)
    size = hub.assessors or sum(heads)
    return PoolLoad(REGION, "assessment", "staff hours", size, offered, size * _hours_per_day(cal),
                    "collaboration.triage_hub.assessors", sum(f.demand.referrals_per_month_at(0.0) for f in forces))


def _shared(loads: list[PoolLoad], pool: str) -> PoolLoad:
    """The forces' ``pool`` as one unit of the region: their loads and capacities added."""
    mine = [load for load in loads if load.pool == pool]
    key = mine[0].key.split(".", 1)[1] if mine[0].key.startswith("forces[") else mine[0].key
    return PoolLoad(REGION, pool, mine[0].unit, sum(load.size for load in mine),
                    sum(load.offered_per_day for load in mine), sum(load.capacity_per_day for load in mine),
                    f"the forces' {key}", sum(load.referrals_per_month for load in mine))
