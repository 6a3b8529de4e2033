"""The parameter schema: frozen dataclasses, their validation, and the loader.

Every number the model uses lives here, with its unit in its name. ``load_config`` composes
the YAML in ``configs/`` with Hydra's compose API (the same files the ``casesim`` command
reads) and converts it, strictly, into a :class:`SimConfig`: an unknown key, a wrong type or a
value out of range raises :class:`ConfigError` naming the key path, the value and what is
allowed, before any simulation starts.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence

GRADES: tuple[str, ...] = ("VH", "H", "M", "L")
"""Risk grades, most urgent first; the index is the SimPy priority (lower = served first)."""

SOURCES: tuple[str, ...] = ("nca", "direct")
BACKLOG_STAGES: tuple[str, ...] = ("research", "assessment", "allocation")
DIST_KINDS: tuple[str, ...] = ("fixed", "exponential", "uniform", "triangular", "lognormal", "gamma")
MAX_CASES_PER_REPLICATION = 2_000_000
"""A guard against a typo (a rate per year given per month, an extra zero) exhausting memory."""
EIGHTEEN_MONTHS_DAYS = 548.0
"""HMICFRS's worst delay (A6), 18 months, in days."""

def _config_dir() -> Path:
    """``configs/`` beside the package in a source checkout, else the copy installed in it."""
    here = Path(__file__).resolve().parent
    source = here.parent / "configs"
    return source if (source / "config.yaml").is_file() else here / "configs"


CONFIG_DIR = _config_dir()


class ConfigError(ValueError):
    """Bad input: names the key path, the value given and what is allowed."""

    def __init__(self, key: str, value: Any, allowed: str):
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"{key}={value!r}: {allowed}")


def _check(ok: bool, key: str, value: Any, allowed: str) -> None:
    if not ok:
        raise ConfigError(key, value, allowed)


def _probability(key: str, value: float) -> None:
    _check(0.0 <= value <= 1.0, key, value, "a probability must lie in [0, 1]")


def _non_negative(key: str, value: float) -> None:
    _check(value >= 0, key, value, "must be >= 0")


# --------------------------------------------------------------------------- building blocks


@dataclass(frozen=True)
class Dist:
    """A distribution of a duration or effort; the unit is in the name of the key holding it.

    ``fixed``: value. ``exponential``: mean. ``uniform``: low, high. ``triangular``: low,
    mode, high. ``lognormal`` and ``gamma``: mean and cv (coefficient of variation).
    """

    dist: str = "fixed"
    value: float | None = None
    mean: float | None = None
    cv: float | None = None
    low: float | None = None
    mode: float | None = None
    high: float | None = None

    _NEEDS = {
        "fixed": ("value",),
        "exponential": ("mean",),
        "uniform": ("low", "high"),
        "triangular": ("low", "mode", "high"),
        "lognormal": ("mean", "cv"),
        "gamma": ("mean", "cv"),
    }

    def validate(self, key: str) -> None:
        _check(self.dist in DIST_KINDS, f"{key}.dist", self.dist, f"one of {', '.join(DIST_KINDS)}")
        needs = self._NEEDS[self.dist]
        for name in ("value", "mean", "cv", "low", "mode", "high"):
            v = getattr(self, name)
            if name in needs:
                _check(v is not None, f"{key}.{name}", v, f"required for dist={self.dist}")
                _non_negative(f"{key}.{name}", v)
            else:
                _check(v is None, f"{key}.{name}", v, f"not used by dist={self.dist} (it takes {', '.join(needs)})")
        if self.dist in ("uniform", "triangular"):
            _check(self.low <= self.high, f"{key}.high", self.high, f"must be >= low ({self.low})")
        if self.dist == "triangular":
            _check(self.low <= self.mode <= self.high, f"{key}.mode", self.mode, f"must lie in [low, high] = [{self.low}, {self.high}]")
        if self.dist in ("exponential", "lognormal", "gamma"):
            _check(self.mean > 0, f"{key}.mean", self.mean, "must be > 0")
        if self.dist in ("lognormal", "gamma"):
            _check(self.cv > 0, f"{key}.cv", self.cv, "must be > 0")

    def without_unused(self) -> "Dist":
        """A copy with the parameters its kind does not take cleared. YAML and overrides
        merge key by key, so a distribution that replaces another (a triangular by an
        exponential, say) arrives carrying the old one's parameters."""
        needs = self._NEEDS.get(self.dist)
        if needs is None:
            return self
        return dataclasses.replace(self, **{k: None for k in ("value", "mean", "cv", "low", "mode", "high") if k not in needs})

    @property
    def mean_value(self) -> float:
        """The distribution's mean, in the unit of the key holding it."""
        if self.dist == "fixed":
            return float(self.value)
        if self.dist == "uniform":
            return (self.low + self.high) / 2
        if self.dist == "triangular":
            return (self.low + self.mode + self.high) / 3
        return float(self.mean)

    @property
    def is_zero(self) -> bool:
        return self.dist == "fixed" and self.value == 0


def fixed(value: float) -> Dist:
    return Dist("fixed", value=value)


def tri(low: float, mode: float, high: float) -> Dist:
    return Dist("triangular", low=low, mode=mode, high=high)


@dataclass(frozen=True)
class ByGrade:
    """One number per risk grade (VH, H, M, L)."""

    VH: float = 0.0
    H: float = 0.0
    M: float = 0.0
    L: float = 0.0

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.VH, self.H, self.M, self.L)


# --------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class RunConfig:
    """Run control: replications, seed, horizon and warm-up (days), local workers."""

    replications: int = 10
    seed: int = 20230405
    horizon_days: float = 1460.0
    warmup_days: float = 0.0
    workers: int = 1
    progress: bool = True
    monitor_interval_days: float = 1.0

    def validate(self, key: str) -> None:
        _check(self.replications >= 1, f"{key}.replications", self.replications, "must be >= 1")
        _check(self.seed >= 0, f"{key}.seed", self.seed, "must be >= 0")
        _check(self.horizon_days > 0, f"{key}.horizon_days", self.horizon_days, "must be > 0")
        _check(0 <= self.warmup_days < self.horizon_days, f"{key}.warmup_days", self.warmup_days,
               f"must be >= 0 and < run.horizon_days ({self.horizon_days})")
        _check(self.workers >= 1, f"{key}.workers", self.workers, "must be >= 1")
        _check(self.monitor_interval_days > 0, f"{key}.monitor_interval_days", self.monitor_interval_days, "must be > 0")


@dataclass(frozen=True)
class CalendarConfig:
    """Office time. Day 0 is a Monday at midnight; staff and courts work the first
    ``working_days_per_week`` days of each week from ``day_start_hour`` for ``hours_per_day``.
    Disabled, work runs round the clock (the queueing-theory reductions use this)."""

    enabled: bool = True
    working_days_per_week: int = 5
    day_start_hour: float = 8.0
    hours_per_day: float = 7.5

    def validate(self, key: str) -> None:
        _check(1 <= self.working_days_per_week <= 7, f"{key}.working_days_per_week", self.working_days_per_week, "an integer from 1 to 7")
        _check(0 <= self.day_start_hour < 24, f"{key}.day_start_hour", self.day_start_hour, "must lie in [0, 24)")
        _check(0 < self.hours_per_day <= 24 - self.day_start_hour, f"{key}.hours_per_day", self.hours_per_day,
               f"must be > 0 and end by midnight (<= {24 - self.day_start_hour})")


@dataclass(frozen=True)
class BacklogCase:
    """One case already waiting at t=0, as read from an initial-backlog CSV."""

    age_days: float
    stage: str = "allocation"
    assigned_grade: str | None = None
    true_risk: str | None = None
    child_in_household: bool | None = None


@dataclass(frozen=True)
class BacklogConfig:
    """Cases already waiting at t=0. Either ``counts`` by assigned grade with ages uniform in
    [0, ``max_age_days``] waiting at ``stage``, or a CSV (``csv``) that lists them one a row;
    the loader reads the CSV into ``cases``. True risk of a case not given it is drawn from the
    posterior of the demand's risk mix and the grading error rates."""

    counts: ByGrade = field(default_factory=lambda: ByGrade(0, 4, 30, 80))
    max_age_days: float = 540.0
    stage: str = "allocation"
    csv: str | None = None
    cases: tuple[BacklogCase, ...] = ()

    def validate(self, key: str) -> None:
        for g, v in zip(GRADES, self.counts.as_tuple()):
            _check(v >= 0 and float(v).is_integer(), f"{key}.counts.{g}", v, "a whole number >= 0")
        _non_negative(f"{key}.max_age_days", self.max_age_days)
        _check(self.stage in BACKLOG_STAGES, f"{key}.stage", self.stage, f"one of {', '.join(BACKLOG_STAGES)}")
        for k, c in enumerate(self.cases):
            where = f"{key}.cases[{k}]"
            _check(math.isfinite(c.age_days) and c.age_days >= 0, f"{where}.age_days", c.age_days, "a number of days >= 0")
            _check(c.stage in BACKLOG_STAGES, f"{where}.stage", c.stage, f"one of {', '.join(BACKLOG_STAGES)}")
            for name in ("assigned_grade", "true_risk"):
                g = getattr(c, name)
                _check(g is None or g in GRADES, f"{where}.{name}", g, f"one of {', '.join(GRADES)} or null")
            _check(c.stage != "allocation" or c.assigned_grade is not None, f"{where}.assigned_grade", None,
                   "required for a case waiting at allocation")

    @property
    def size(self) -> int:
        """Cases in the backlog."""
        return len(self.cases) if self.cases else int(sum(self.counts.as_tuple()))


@dataclass(frozen=True)
class DemandConfig:
    """Referrals reaching the force: Poisson with a yearly growth, direct reports, bulk
    packages, the true-risk mix, children in the household, and the initial backlog."""

    referrals_per_month: float = 50.0
    growth_per_year: float = 0.19
    direct_report_share: float = 0.12
    bulk_package_probability: float = 0.02
    bulk_extra_suspects_mean: float = 3.0
    risk_mix: ByGrade = field(default_factory=lambda: ByGrade(0.07, 0.20, 0.33, 0.40))
    child_in_household_probability: float = 0.28
    initial_backlog: BacklogConfig = field(default_factory=BacklogConfig)

    def validate(self, key: str) -> None:
        _non_negative(f"{key}.referrals_per_month", self.referrals_per_month)
        _check(self.growth_per_year > -1, f"{key}.growth_per_year", self.growth_per_year, "must be > -1")
        _probability(f"{key}.direct_report_share", self.direct_report_share)
        _probability(f"{key}.bulk_package_probability", self.bulk_package_probability)
        _non_negative(f"{key}.bulk_extra_suspects_mean", self.bulk_extra_suspects_mean)
        for g, v in zip(GRADES, self.risk_mix.as_tuple()):
            _probability(f"{key}.risk_mix.{g}", v)
        total = sum(self.risk_mix.as_tuple())
        _check(abs(total - 1) < 1e-9, f"{key}.risk_mix", dict(zip(GRADES, self.risk_mix.as_tuple())),
               f"shares must sum to 1 (they sum to {total:g})")
        _probability(f"{key}.child_in_household_probability", self.child_in_household_probability)
        self.initial_backlog.validate(f"{key}.initial_backlog")


@dataclass(frozen=True)
class RecruitmentConfig:
    """New posts filled over time: advertised on ``start_day``, the recruits start after
    ``lead_time_days``, work at ``learning_productivity`` of an experienced colleague for
    ``learning_days``, and leave at ``attrition_per_year`` (exponentially) once in post."""

    investigators: int = 0
    researchers: int = 0
    start_day: float = 0.0
    lead_time_days: float = 120.0
    learning_days: float = 180.0
    learning_productivity: float = 0.5
    attrition_per_year: float = 0.0

    def validate(self, key: str) -> None:
        for name in ("investigators", "researchers"):
            _check(getattr(self, name) >= 0, f"{key}.{name}", getattr(self, name), "posts to fill must be >= 0")
        for name in ("start_day", "lead_time_days", "learning_days", "attrition_per_year"):
            _non_negative(f"{key}.{name}", getattr(self, name))
        _check(0 < self.learning_productivity <= 1, f"{key}.learning_productivity", self.learning_productivity,
               "must lie in (0, 1]")


@dataclass(frozen=True)
class StaffingConfig:
    """Headcount per pool, the share of contracted hours actually available for casework
    (abstraction, court, welfare), the investigators' caseload limit, and recruitment."""

    intake_researchers: int = 1
    researchers: int = 4
    assessors: int = 2
    investigators: int = 20
    caseload_limit: int = 8
    search_teams: int = 2
    availability: float = 0.65
    recruitment: RecruitmentConfig = field(default_factory=RecruitmentConfig)

    def validate(self, key: str) -> None:
        for name in ("intake_researchers", "researchers", "assessors", "investigators", "search_teams"):
            v = getattr(self, name)
            _check(v >= 1, f"{key}.{name}", v, "headcount must be >= 1")
        _check(self.caseload_limit >= 1, f"{key}.caseload_limit", self.caseload_limit, "must be >= 1")
        _check(0 < self.availability <= 1, f"{key}.availability", self.availability, "must lie in (0, 1]")
        self.recruitment.validate(f"{key}.recruitment")


TRAINED_POOLS = {"assessors": "assessment", "researchers": "research", "investigators": "investigators"}
"""Trained-share keys (``<role>_trained_share``) and the staff pool each describes."""


@dataclass(frozen=True)
class TrainingProgrammeConfig:
    """A training programme from ``start_day`` for ``duration_days`` (0: none): each trained
    share given here rises linearly to it over the programme (null: unchanged), and every
    person trained is away on a course for ``course_days`` working days, so the pool loses
    that time while the programme runs."""

    start_day: float = 0.0
    duration_days: float = 0.0
    assessors_trained_share: float | None = None
    researchers_trained_share: float | None = None
    investigators_trained_share: float | None = None
    course_days: float = 10.0


@dataclass(frozen=True)
class TrainingConfig:
    """Who is trained, and what training changes: grading errors, effort, defective warrants."""

    assessors_trained_share: float = 0.5
    researchers_trained_share: float = 0.5
    investigators_trained_share: float = 0.6
    direct_to_nonspecialist_share: float = 0.4
    under_grade_probability_trained: float = 0.03
    under_grade_probability_untrained: float = 0.25
    under_grade_to_low_share: float = 0.5
    over_grade_probability_trained: float = 0.05
    over_grade_probability_untrained: float = 0.10
    untrained_research_effort_multiplier: float = 1.5
    programme: TrainingProgrammeConfig = field(default_factory=TrainingProgrammeConfig)

    def validate(self, key: str) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name == "programme":
                continue
            if f.name.endswith("multiplier"):
                _check(v > 0, f"{key}.{f.name}", v, "must be > 0")
            else:
                _probability(f"{key}.{f.name}", v)
        p, k = self.programme, f"{key}.programme"
        for name in ("start_day", "duration_days", "course_days"):
            _non_negative(f"{k}.{name}", getattr(p, name))
        for role in TRAINED_POOLS:
            target, today = getattr(p, f"{role}_trained_share"), getattr(self, f"{role}_trained_share")
            if target is not None:
                _probability(f"{k}.{role}_trained_share", target)
                _check(target >= today, f"{k}.{role}_trained_share", target,
                       f"a programme raises the trained share: must be >= {key}.{role}_trained_share ({today})")


@dataclass(frozen=True)
class IntakeConfig:
    effort_hours: Dist = field(default_factory=lambda: tri(0.5, 1.0, 2.0))
    duplicate_probability: float = 0.07


@dataclass(frozen=True)
class ResearchConfig:
    """Research and enrichment; communications data is authorised outside the force, fast
    when the package's own evidence shows a risk in ``comms_data_urgent_risks`` (by true
    risk: the case is not graded yet)."""

    effort_hours: Dist = field(default_factory=lambda: tri(2.0, 4.0, 8.0))
    comms_data_days: Dist = field(default_factory=lambda: tri(1.0, 4.0, 10.0))
    comms_data_urgent_days: Dist = field(default_factory=lambda: Dist("uniform", low=0.1, high=0.5))
    comms_data_urgent_risks: tuple[str, ...] = ("VH", "H")
    untraceable_probability: float = 0.10


@dataclass(frozen=True)
class AssessmentConfig:
    effort_hours_trained: Dist = field(default_factory=lambda: tri(0.5, 1.0, 1.5))
    effort_hours_untrained: Dist = field(default_factory=lambda: tri(0.75, 1.25, 2.0))


@dataclass(frozen=True)
class SafeguardingConfig:
    """Police delay from the risk assessment to the safeguarding referral (parallel branch)."""

    urgent_grades: tuple[str, ...] = ("VH", "H")
    delay_days_urgent: Dist = field(default_factory=lambda: Dist("uniform", low=0.0, high=1.0))
    delay_days_routine: Dist = field(default_factory=lambda: tri(0.0, 7.0, 30.0))


@dataclass(frozen=True)
class PlanningConfig:
    """Enforcement planning: investigator effort, then an elapsed lag (briefings, teams);
    cases of ``urgent_grades`` take the urgent lag."""

    effort_hours: Dist = field(default_factory=lambda: tri(5.0, 10.0, 20.0))
    lag_days: Dist = field(default_factory=lambda: Dist("uniform", low=1.0, high=7.0))
    urgent_grades: tuple[str, ...] = ("VH", "H")
    urgent_lag_days: Dist = field(default_factory=lambda: fixed(0.0))


@dataclass(frozen=True)
class WarrantConfig:
    """Application (investigator effort), the court's slots on sitting days with a same-day
    route for urgent grades (``out_of_hours_grades``: a remote panel hears them at any hour),
    defects (rework), refusal that rises with the intelligence's age, and the warrant's
    validity."""

    effort_hours: Dist = field(default_factory=lambda: Dist("uniform", low=2.0, high=4.0))
    rework_effort_hours: Dist = field(default_factory=lambda: Dist("uniform", low=1.0, high=3.0))
    slots_per_sitting_day: int = 3
    same_day_grades: tuple[str, ...] = ("VH",)
    out_of_hours_grades: tuple[str, ...] = ()
    defective_probability_trained: float = 0.05
    defective_probability_untrained: float = 0.10
    refusal_probability: float = 0.02
    refusal_probability_per_year_of_age: float = 0.05
    validity_days: float = 91.0
    max_applications: int = 3


@dataclass(frozen=True)
class ExecutionConfig:
    """Warrant execution by search teams, each able to execute a number of warrants a working
    day; outcome shares among executions (the rest: no trace)."""

    warrants_per_team_per_day: int = 1
    lag_days: Dist = field(default_factory=lambda: Dist("uniform", low=1.0, high=5.0))
    urgent_grades: tuple[str, ...] = ("VH", "H")
    urgent_lag_days: Dist = field(default_factory=lambda: fixed(0.0))
    arrest_probability: float = 0.48
    voluntary_interview_probability: float = 0.45


@dataclass(frozen=True)
class PostArrestConfig:
    """Investigator work after the arrest (interviews, files); it holds a caseload slot."""

    effort_hours: Dist = field(default_factory=lambda: tri(20.0, 30.0, 40.0))


@dataclass(frozen=True)
class ReviewConfig:
    """Re-review of cases waiting for an investigator. Analysts (the Dyfed-Powys practice)
    look at the ``analyst_cases_per_review`` longest-waiting cases of ``analyst_grades``
    every ``analyst_interval_days`` (0 cases: no analyst); under ``minimum_standards`` every
    case whose wait passes its grade's target is reviewed. A review finds a case graded below
    its true risk with ``detection_probability``: it is regraded, moves up the queue, and its
    safeguarding referral is made at once."""

    analyst_cases_per_review: int = 0
    analyst_interval_days: float = 7.0
    analyst_grades: tuple[str, ...] = ("M", "L")
    minimum_standards: bool = False
    detection_probability: float = 0.8


@dataclass(frozen=True)
class StagesConfig:
    """Every stage's efforts and delays. Cases assigned a grade in ``round_the_clock_grades``
    (and, before grading, packages flagging immediate risk) are worked straight through, on
    call, by ``round_the_clock_speedup`` people at once: their effort is not spread over
    office hours and abstraction."""

    round_the_clock_grades: tuple[str, ...] = ("VH",)
    round_the_clock_speedup: float = 3.0
    intake: IntakeConfig = field(default_factory=IntakeConfig)
    research: ResearchConfig = field(default_factory=ResearchConfig)
    assessment: AssessmentConfig = field(default_factory=AssessmentConfig)
    safeguarding: SafeguardingConfig = field(default_factory=SafeguardingConfig)
    planning: PlanningConfig = field(default_factory=PlanningConfig)
    warrant: WarrantConfig = field(default_factory=WarrantConfig)
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
    post_arrest: PostArrestConfig = field(default_factory=PostArrestConfig)
    review: ReviewConfig = field(default_factory=ReviewConfig)

    def validate(self, key: str) -> None:
        # Every Dist and probability anywhere below is checked by walking the tree.
        _check(self.round_the_clock_speedup >= 1, f"{key}.round_the_clock_speedup", self.round_the_clock_speedup,
               "must be >= 1 (people working an urgent case at once)")
        for g in self.round_the_clock_grades:
            _check(g in GRADES, f"{key}.round_the_clock_grades", list(self.round_the_clock_grades),
                   f"unknown grade {g!r}; grades are {', '.join(GRADES)}")
        for sect in dataclasses.fields(self):
            obj = getattr(self, sect.name)
            if not dataclasses.is_dataclass(obj):
                continue
            for f in dataclasses.fields(obj):
                v = getattr(obj, f.name)
                k = f"{key}.{sect.name}.{f.name}"
                if isinstance(v, Dist):
                    v.validate(k)
                elif f.name.endswith("probability") or "_probability_" in f.name or f.name.endswith(("_trained", "_untrained")):
                    _probability(k, v)
                elif f.name.endswith(("grades", "risks")):
                    for g in v:
                        _check(g in GRADES, k, list(v), f"unknown grade {g!r}; grades are {', '.join(GRADES)}")
        w = self.warrant
        _check(w.slots_per_sitting_day >= 1, f"{key}.warrant.slots_per_sitting_day", w.slots_per_sitting_day, "must be >= 1")
        _check(w.validity_days > 0, f"{key}.warrant.validity_days", w.validity_days, "must be > 0")
        _check(w.max_applications >= 1, f"{key}.warrant.max_applications", w.max_applications, "must be >= 1")
        r = self.review
        _check(r.analyst_cases_per_review >= 0, f"{key}.review.analyst_cases_per_review", r.analyst_cases_per_review,
               "must be >= 0")
        _check(r.analyst_interval_days > 0, f"{key}.review.analyst_interval_days", r.analyst_interval_days, "must be > 0")
        e = self.execution
        _check(e.warrants_per_team_per_day >= 1, f"{key}.execution.warrants_per_team_per_day", e.warrants_per_team_per_day, "must be >= 1")
        total = e.arrest_probability + e.voluntary_interview_probability
        _check(total <= 1 + 1e-12, f"{key}.execution.voluntary_interview_probability", e.voluntary_interview_probability,
               f"arrest + voluntary interview probabilities must not exceed 1 (they sum to {total:g})")


FORCE_SECTIONS = ("demand", "staffing", "training", "stages")
"""The sections a force of a region has of its own."""

REGION = "region"
"""The ``force`` label of region totals and of units the forces share."""
SURGE = "surge"
"""The ``force`` label of the regional surge unit (ROCU)."""


@dataclass(frozen=True)
class ForceConfig:
    """One force of a region, with its own demand, staffing, training and stages (its court's
    sitting slots, say). In YAML an entry of ``forces`` lists only where the force differs
    from the top-level ``demand``, ``staffing``, ``training`` and ``stages``: the loader starts
    each force from those, so a scenario that changes a top-level key changes it in every
    force that does not set it itself."""

    name: str = "force"
    demand: DemandConfig = field(default_factory=DemandConfig)
    staffing: StaffingConfig = field(default_factory=StaffingConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    stages: StagesConfig = field(default_factory=StagesConfig)


@dataclass(frozen=True)
class PoolingConfig:
    """Forces lending each other capacity. Pooled investigators are one queue for the region's
    cases: a case is worked by its own force's investigators while one of their caseload
    slots is free, else by another force's after ``handoff_days`` (briefing, travel). Pooled
    search teams execute a warrant in another force's area, ``handoff_days`` later, when the
    home teams are booked that day."""

    investigators: bool = False
    search_teams: bool = False
    handoff_days: Dist = field(default_factory=lambda: Dist("uniform", low=1.0, high=5.0))


@dataclass(frozen=True)
class TriageHubConfig:
    """One regional team assesses every referral of every force (no local non-specialist
    grading), with ``assessors`` staff (null: the forces' assessors together) of whom
    ``trained_share`` are trained; a referral reaches it ``handoff_days`` after research."""

    enabled: bool = False
    assessors: int | None = None
    trained_share: float = 1.0
    handoff_days: Dist = field(default_factory=lambda: Dist("uniform", low=0.0, high=1.0))


@dataclass(frozen=True)
class SurgeConfig:
    """A regional surge unit (ROCU) of ``investigators`` (0: none). A case of ``grades``
    reaching allocation while ``queue_threshold`` or more of its force's cases already wait
    for an investigator is taken by the unit if it has a free caseload slot, after
    ``handoff_days``."""

    investigators: int = 0
    caseload_limit: int = 8
    availability: float = 0.65
    queue_threshold: int = 30
    grades: tuple[str, ...] = ("H", "M")
    handoff_days: Dist = field(default_factory=lambda: Dist("uniform", low=1.0, high=5.0))


@dataclass(frozen=True)
class CollaborationConfig:
    """How the forces of a region work together: the parameters of the collaboration policy
    (``sim.model.collaboration``) that decides which unit serves a case at each stage."""

    pooling: PoolingConfig = field(default_factory=PoolingConfig)
    triage_hub: TriageHubConfig = field(default_factory=TriageHubConfig)
    surge: SurgeConfig = field(default_factory=SurgeConfig)

    def validate(self, key: str, n_forces: int) -> None:
        p, h, s = self.pooling, self.triage_hub, self.surge
        for name in ("investigators", "search_teams"):
            on = getattr(p, name)
            _check(not on or n_forces >= 2, f"{key}.pooling.{name}", on,
                   f"pooling needs a region of two forces or more, and this region has {n_forces} "
                   "(list them under `forces`, e.g. forces=three_forces)")
        for k, d in ((f"{key}.pooling.handoff_days", p.handoff_days), (f"{key}.triage_hub.handoff_days", h.handoff_days),
                     (f"{key}.surge.handoff_days", s.handoff_days)):
            d.validate(k)
        _check(h.assessors is None or h.assessors >= 1, f"{key}.triage_hub.assessors", h.assessors,
               "headcount must be >= 1 (or null: the forces' assessors together)")
        _probability(f"{key}.triage_hub.trained_share", h.trained_share)
        _check(s.investigators >= 0, f"{key}.surge.investigators", s.investigators, "headcount must be >= 0 (0: no surge unit)")
        _check(s.caseload_limit >= 1, f"{key}.surge.caseload_limit", s.caseload_limit, "must be >= 1")
        _check(0 < s.availability <= 1, f"{key}.surge.availability", s.availability, "must lie in (0, 1]")
        _check(s.queue_threshold >= 0, f"{key}.surge.queue_threshold", s.queue_threshold,
               "cases waiting for an investigator: must be >= 0")
        for g in s.grades:
            _check(g in GRADES, f"{key}.surge.grades", list(s.grades), f"unknown grade {g!r}; grades are {', '.join(GRADES)}")


@dataclass(frozen=True)
class SimConfig:
    """Everything one scenario needs. Build it with :func:`load_config` or directly."""

    scenario: str = "baseline"
    force: str = "medium_force"
    targets_days: ByGrade = field(default_factory=lambda: ByGrade(1.0, 7.0, 14.0, 30.0))
    run: RunConfig = field(default_factory=RunConfig)
    calendar: CalendarConfig = field(default_factory=CalendarConfig)
    demand: DemandConfig = field(default_factory=DemandConfig)
    staffing: StaffingConfig = field(default_factory=StaffingConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    stages: StagesConfig = field(default_factory=StagesConfig)
    forces: tuple[ForceConfig, ...] = ()
    collaboration: CollaborationConfig = field(default_factory=CollaborationConfig)

    def validate(self) -> "SimConfig":
        """Check every value; raise ConfigError on the first bad one. Returns self."""
        for g, v in zip(GRADES, self.targets_days.as_tuple()):
            _check(v > 0, f"targets_days.{g}", v, "must be > 0")
        for name in ("run", "calendar"):
            getattr(self, name).validate(name)
        names = [f.name for f in self.forces]
        for k, name in enumerate(names):
            _check(bool(name.strip()) and name not in (REGION, SURGE), f"forces[{k}].name", name,
                   f"a non-empty name other than {REGION!r} and {SURGE!r} (they label region totals and the surge unit)")
            _check(names.count(name) == 1, f"forces[{k}].name", name, "each force's name must be different")
        self.collaboration.validate("collaboration", max(len(self.forces), 1))
        limits = {f.staffing.caseload_limit for f in self.forces}
        _check(not self.collaboration.pooling.investigators or len(limits) <= 1, "collaboration.pooling.investigators",
               True, f"pooled investigators need one caseload limit, and the forces' differ ({sorted(limits)})")
        for prefix, fc in zip(self._force_prefixes(), self.force_configs()):
            fc._validate_force(prefix)
        return self

    def _validate_force(self, prefix: str) -> None:
        """Check one force's demand, staffing, training and stages (keys under ``prefix``)."""
        for name in FORCE_SECTIONS:
            getattr(self, name).validate(prefix + name)
        for role, pool in TRAINED_POOLS.items():
            away = course_away_fraction(self, role)
            _check(away < 0.9, f"{prefix}training.programme.{role}_trained_share",
                   getattr(self.training.programme, f"{role}_trained_share"),
                   f"trains so many {role} that {away:.0%} of their time goes on courses; lengthen "
                   "training.programme.duration_days or shorten course_days")
        d = self.demand
        expected = self.expected_referrals() * (1 + d.bulk_package_probability * d.bulk_extra_suspects_mean)
        _check(expected + d.initial_backlog.size > 0, f"{prefix}demand.referrals_per_month", d.referrals_per_month,
               "no referrals and no initial backlog: there is nothing to simulate")
        _check(expected <= MAX_CASES_PER_REPLICATION, f"{prefix}demand.referrals_per_month", d.referrals_per_month,
               f"expects {expected:,.0f} cases a replication over {self.run.horizon_days:g} days; "
               f"at most {MAX_CASES_PER_REPLICATION:,} are allowed")

    def _force_prefixes(self) -> list[str]:
        return [f"forces[{k}]." for k in range(len(self.forces))] if self.forces else [""]

    def force_configs(self) -> tuple["SimConfig", ...]:
        """One config per force of the region, each with that force's demand, staffing,
        training and stages and an empty ``forces`` list; a region of one is this config itself."""
        if not self.forces:
            return (self,)
        return tuple(dataclasses.replace(self, force=f.name, demand=f.demand, staffing=f.staffing,
                                         training=f.training, stages=f.stages, forces=()) for f in self.forces)

    @property
    def force_names(self) -> tuple[str, ...]:
        """The forces' names, in the order listed."""
        return tuple(f.name for f in self.forces) if self.forces else (self.force,)

    @property
    def total_name(self) -> str:
        """The ``force`` label of totals in every table: the force's own name in a region of
        one, else ``region``."""
        return self.force if not self.forces else REGION

    def expected_referrals(self) -> float:
        """Expected referrals a replication over the horizon (growth included)."""
        d = self.demand
        rate = d.referrals_per_month * 12.0 / 365.0
        if d.growth_per_year == 0:
            return rate * self.run.horizon_days
        k = math.log1p(d.growth_per_year) / 365.0
        return rate * math.expm1(k * self.run.horizon_days) / k

    def replace(self, **changes: Any) -> "SimConfig":
        """A validated copy with top-level sections replaced."""
        return dataclasses.replace(self, **changes).validate()


def course_away_fraction(cfg: SimConfig, role: str) -> float:
    """Share of a role's working time spent on courses while the training programme runs."""
    t, p = cfg.training, cfg.training.programme
    target = getattr(p, f"{role}_trained_share")
    if target is None or p.duration_days <= 0:
        return 0.0
    working_days = p.duration_days * cfg.calendar.working_days_per_week / 7.0
    return (target - getattr(t, f"{role}_trained_share")) * p.course_days / working_days


# --------------------------------------------------------------------------- strict conversion

_Scalar = (int, float, str, bool)


def _type_name(tp: Any) -> str:
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(tp, str(tp))


def _convert(tp: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _convert(args[0], value, key)
    if origin is tuple:
        (inner, _) = typing.get_args(tp)
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise ConfigError(key, value, "a list")
        return tuple(_convert(inner, v, f"{key}[{i}]") for i, v in enumerate(value))
    if origin is Literal:
        allowed = typing.get_args(tp)
        _check(value in allowed, key, value, f"one of {', '.join(map(str, allowed))}")
        return value
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(key, value, "a mapping of keys")
        built = from_mapping(tp, value, key)
        return built.without_unused() if isinstance(built, Dist) else built
    if tp is bool:
        _check(isinstance(value, bool), key, value, "true or false")
        return value
    if tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool) or (isinstance(value, float) and value.is_integer())
        _check(ok, key, value, _type_name(int))
        return int(value)
    if tp is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        _check(ok, key, value, "a finite number")
        return float(value)
    if tp is str:
        _check(isinstance(value, str), key, value, "a string")
        return value
    raise TypeError(f"unsupported type {tp} at {key}")  # a schema bug, not user input


@functools.lru_cache(maxsize=None)
def _type_hints(cls: type) -> dict[str, Any]:
    # Resolving the annotations is the slowest step of building a config; a sweep builds thousands.
    return typing.get_type_hints(cls)


def from_mapping(cls: type, data: Mapping[str, Any], key: str = "") -> Any:
    """Build dataclass ``cls`` from a plain mapping, rejecting unknown keys and wrong types."""
    hints = _type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if not f.name.startswith("_")]
    kwargs = {}
    for k, v in data.items():
        path = f"{key}.{k}" if key else str(k)
        if k not in names:
            raise ConfigError(path, v, f"unknown key; allowed here: {', '.join(names)}")
        kwargs[k] = _convert(hints[k], v, path)
    return cls(**kwargs)


def leaves(cfg: Any, prefix: str = "") -> dict[str, Any]:
    """Every parameter of a config by dotted key; a distribution or a per-grade set counts
    as one parameter, and each force of a region has its own keys (``forces[0].demand...``)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cfg):
        if f.name.startswith("_"):
            continue
        v = getattr(cfg, f.name)
        if dataclasses.is_dataclass(v) and not isinstance(v, (Dist, ByGrade)):
            out.update(leaves(v, f"{prefix}{f.name}."))
        elif isinstance(v, tuple) and v and all(isinstance(x, ForceConfig) for x in v):
            for k, item in enumerate(v):
                out.update(leaves(item, f"{prefix}{f.name}[{k}]."))
        else:
            out[f"{prefix}{f.name}"] = v
    return out


def replace_path(cfg: Any, key: str, value: Any) -> Any:
    """A copy of ``cfg`` with dotted ``key`` set to ``value`` (not validated)."""
    head, _, rest = key.partition(".")
    inner = replace_path(getattr(cfg, head), rest, value) if rest else value
    return dataclasses.replace(cfg, **{head: inner})


def _schema_has(path: str) -> bool:
    """Whether dotted ``path`` (two parts or more) names a field of the schema."""
    parts = path.split(".")
    return len(parts) > 1 and parts[-1] in _allowed_keys(path) and all(
        p in _allowed_keys(".".join(parts[: k + 1])) for k, p in enumerate(parts[:-1]))


def normalise_overrides(overrides: Sequence[str]) -> list[str]:
    """Let a plain ``key=value`` set any schema field, even one the composed YAML does not
    hold (a distribution's parameter when its kind changes, say): Hydra wants ``++`` for
    that. Group choices (``demand=large_force``) and explicit prefixes are left alone."""
    out = []
    for o in overrides:
        key, eq, _ = o.partition("=")
        out.append(f"++{o}" if eq and not key.startswith(("+", "~")) and _schema_has(key) else o)
    return out


def _allowed_keys(path: str) -> list[str]:
    """The keys the schema allows beside the last part of a dotted ``path``."""
    cls: Any = SimConfig
    for part in path.split(".")[:-1]:
        hints = typing.get_type_hints(cls) if dataclasses.is_dataclass(cls) else {}
        if part not in hints or not dataclasses.is_dataclass(hints[part]):
            break
        cls = hints[part]
    return [f.name for f in dataclasses.fields(cls) if not f.name.startswith("_")]


# --------------------------------------------------------------------------- initial backlog CSV

BACKLOG_CSV_COLUMNS = ("age_days", "stage", "assigned_grade", "true_risk", "child_in_household")


def read_backlog_csv(path: str | Path) -> tuple[BacklogCase, ...]:
    """Read an initial-backlog CSV: one case a row. ``age_days`` is required; ``stage``
    (research/assessment/allocation, default allocation), ``assigned_grade`` (required at
    allocation), ``true_risk`` and ``child_in_household`` (true/false/1/0) are optional.
    A bad row raises ConfigError naming the file, the row number and the column."""
    path = Path(path)
    key = "demand.initial_backlog.csv"
    if not path.is_file():
        raise ConfigError(key, str(path), "no such file")
    cases = []
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        unknown = [c for c in (reader.fieldnames or []) if c not in BACKLOG_CSV_COLUMNS]
        _check("age_days" in (reader.fieldnames or []), key, str(path), "the CSV needs an 'age_days' column")
        _check(not unknown, key, str(path), f"unknown column(s) {unknown}; allowed: {', '.join(BACKLOG_CSV_COLUMNS)}")
        for row_no, row in enumerate(reader, start=2):  # row 1 is the header

            def where(col: str) -> str:
                return f"{path.name} row {row_no} column {col}"

            raw = (row.get("age_days") or "").strip()
            try:
                age = float(raw)
            except ValueError:
                raise ConfigError(where("age_days"), raw, "a number of days >= 0") from None
            _check(math.isfinite(age) and age >= 0, where("age_days"), raw, "a number of days >= 0")
            stage = (row.get("stage") or "").strip() or "allocation"
            _check(stage in BACKLOG_STAGES, where("stage"), stage, f"one of {', '.join(BACKLOG_STAGES)}")
            grades = {}
            for col in ("assigned_grade", "true_risk"):
                g = (row.get(col) or "").strip() or None
                _check(g is None or g in GRADES, where(col), g, f"one of {', '.join(GRADES)} or empty")
                grades[col] = g
            _check(stage != "allocation" or grades["assigned_grade"] is not None, where("assigned_grade"), None,
                   "required for a case waiting at allocation (it has been graded)")
            child_raw = (row.get("child_in_household") or "").strip().lower()
            truth = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False, "": None}
            _check(child_raw in truth, where("child_in_household"), child_raw, "true/false, 1/0, yes/no or empty")
            cases.append(BacklogCase(age, stage, grades["assigned_grade"], grades["true_risk"], truth[child_raw]))
    return tuple(cases)


# --------------------------------------------------------------------------- loading


def _merged(base: Any, changes: Any) -> Any:
    """``base`` with ``changes`` merged in, mapping by mapping (lists and values replace)."""
    if isinstance(base, Mapping) and isinstance(changes, Mapping):
        out = dict(base)
        for k, v in changes.items():
            out[k] = _merged(base[k], v) if k in base else v
        return out
    return changes


def _expand_forces(data: Mapping[str, Any]) -> dict[str, Any]:
    """Each entry of ``forces`` as a whole force: the top-level demand, staffing and training
    with the entry's own keys merged in."""
    data = dict(data)
    forces = data.get("forces")
    if not forces:
        return data
    if isinstance(forces, (str, bytes)) or not isinstance(forces, Sequence):
        raise ConfigError("forces", forces, "a list of forces, each a mapping with a name")
    out = []
    for k, entry in enumerate(forces):
        if not isinstance(entry, Mapping):
            raise ConfigError(f"forces[{k}]", entry, f"a mapping with name, and any of {', '.join(FORCE_SECTIONS)}")
        unknown = [x for x in entry if x not in ("name", *FORCE_SECTIONS)]
        if unknown:
            raise ConfigError(f"forces[{k}].{unknown[0]}", entry[unknown[0]],
                              f"unknown key; allowed here: name, {', '.join(FORCE_SECTIONS)}")
        if "name" not in entry:
            raise ConfigError(f"forces[{k}].name", None, "every force needs a name")
        if not isinstance(entry["name"], str):
            raise ConfigError(f"forces[{k}].name", entry["name"], "a string")
        whole = {"name": entry["name"]}
        for sect in FORCE_SECTIONS:
            whole[sect] = _merged(data.get(sect, {}), entry.get(sect) or {})
        out.append(whole)
    data["forces"] = out
    return data


def _read_backlog(demand: DemandConfig, base_dir: str | Path | None) -> DemandConfig:
    """``demand`` with its backlog CSV (if it names one) read into ``initial_backlog.cases``;
    a relative path is taken from ``base_dir``, else the working folder."""
    backlog = demand.initial_backlog
    if not backlog.csv:
        return demand
    p = Path(backlog.csv)
    if not p.is_absolute() and base_dir is not None:
        p = Path(base_dir) / p
    return dataclasses.replace(demand, initial_backlog=dataclasses.replace(backlog, cases=read_backlog_csv(p)))


def build_config(data: Mapping[str, Any], base_dir: str | Path | None = None) -> SimConfig:
    """Convert a plain mapping (composed YAML) into a validated SimConfig; reads each backlog
    CSV named (a relative path is taken from ``base_dir``, else the working folder)."""
    data = {k: v for k, v in data.items() if k != "sweep"}  # the sweep runner's own block (sim.design)
    cfg = from_mapping(SimConfig, _expand_forces(data))
    forces = tuple(dataclasses.replace(f, demand=_read_backlog(f.demand, base_dir)) for f in cfg.forces)
    cfg = dataclasses.replace(cfg, demand=_read_backlog(cfg.demand, base_dir), forces=forces)
    return cfg.validate()


def compose_mapping(overrides: Sequence[str] = (), config_name: str = "config",
                    config_dir: str | Path | None = None) -> dict[str, Any]:
    """Compose the YAML in ``configs/`` with Hydra and return it as a plain dict.
    Hydra's own errors (unknown group option, bad override syntax) become ConfigError."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    cdir = str(Path(config_dir or CONFIG_DIR).resolve())
    try:
        with initialize_config_dir(config_dir=cdir, version_base="1.3"):
            composed = compose(config_name=config_name, overrides=normalise_overrides(overrides))
        return OmegaConf.to_container(composed, resolve=True)  # type: ignore[return-value]
    except (HydraException, OmegaConfBaseException) as exc:
        msg = " ".join(str(exc).split()).split(" Config search path")[0]
        bad = next((o for o in overrides if o.split("=", 1)[0].lstrip("+~") in msg), " ".join(overrides))
        key, _, value = bad.partition("=")
        if "Could not override" in msg or "Key '" in msg and "not in struct" in msg:
            raise ConfigError(key.lstrip("+~"), value, f"unknown key; allowed here: {', '.join(_allowed_keys(key.lstrip('+~')))}") from None
        raise ConfigError(key or "overrides", value, msg) from None


def load_config(overrides: Sequence[str] = (), config_name: str = "config",
                config_dir: str | Path | None = None) -> SimConfig:
    """Compose ``configs/config.yaml`` with Hydra-style ``overrides`` (as on the command line,
    e.g. ``["staffing.investigators=20", "run.replications=5"]``) into a validated SimConfig."""
    data = compose_mapping(overrides, config_name, config_dir)
    return build_config(data)
