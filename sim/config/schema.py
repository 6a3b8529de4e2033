"""The parameter schema: frozen dataclasses for every section and their validation.

Every number the model uses lives here, with its unit in its name. A field's bound is
declared with the field (``probability(0.07)``, see :mod:`sim.config.checks`); each section's
``validate(key)`` checks those, its distributions and the bounds that relate several fields,
and raises :class:`ConfigError` naming the key path, the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from ..core.distributions import Distribution, Fixed, Triangular, Uniform
from ..domain import BACKLOG_STAGES, DAYS_PER_MONTH, DAYS_PER_YEAR, GRADED_BACKLOG_STAGES, GRADES, NATION, REGION, SURGE
from ..errors import ConfigError, check, check_probability
from . import limits
from .checks import (at_least_one, bounded, check_declared, delay_in_days, effort_in_hours, grade_list, non_negative,
                     positive, probability)
from .limits import MAX_CASES_PER_REPLICATION
from .memory import cases_driver, check_memory


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


SCHEDULER_ADDRESS = re.compile(r"(tcp|tls|ucx|ws|wss)://(\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+):[0-9]{1,5}")
"""A Dask scheduler's address as the configuration accepts it (Dask itself checks it again
when connecting, before anything runs)."""


@dataclass(frozen=True)
class RunConfig:
    """Run control: replications, seed, horizon and warm-up (days), and where replications
    run: local workers, or a Dask cluster (a scheduler's address, or a local cluster of
    ``local_cluster`` workers). Where they run never changes a result."""

    replications: int = at_least_one(10, at_most=limits.REPLICATIONS)
    seed: int = non_negative(20230405, at_most=limits.SEED)
    horizon_days: float = positive(1460.0, at_most=limits.HORIZON_DAYS)
    warmup_days: float = 0.0
    workers: int = at_least_one(1, at_most=limits.WORKERS)
    progress: bool = True
    monitor_interval_days: float = positive(1.0, at_least=limits.INTERVAL_DAYS, at_most=limits.DAYS)
    scheduler: str = ""  # a Dask scheduler, tcp://HOST:8786 ("": none)
    local_cluster: int = non_negative(0, at_most=limits.WORKERS)  # workers of a Dask LocalCluster (0: none)

    def validate(self, key: str) -> None:
        check_declared(self, key)
        check(0 <= self.warmup_days < self.horizon_days, f"{key}.warmup_days", self.warmup_days,
               f"must be >= 0 and < run.horizon_days ({self.horizon_days})")
        check(not self.scheduler or SCHEDULER_ADDRESS.fullmatch(self.scheduler) is not None, f"{key}.scheduler",
              self.scheduler, "PROTOCOL://HOST:PORT with PROTOCOL one of tcp, tls, ucx, ws, wss, e.g. tcp://HOST:8786")
        check(not (self.scheduler and self.local_cluster), f"{key}.local_cluster", self.local_cluster,
              f"0 when {key}.scheduler is given ({self.scheduler}): replications run on one cluster or the other")

    def on_dask(self) -> bool:
        """Whether replications run on a Dask cluster rather than local processes."""
        return bool(self.scheduler or self.local_cluster)

    def results_only(self) -> "RunConfig":
        """This run control with how it is run (workers, cluster, progress bar) set to its
        defaults: what the results depend on, for hashing and comparing configurations."""
        return dataclasses.replace(self, workers=1, progress=False, scheduler="", local_cluster=0)


@dataclass(frozen=True)
class CalendarConfig:
    """Office time. Day 0 is a Monday at midnight; staff and courts work the first
    ``working_days_per_week`` days of each week from ``day_start_hour`` for ``hours_per_day``.
    Disabled, work runs round the clock (the queueing-theory reductions use this)."""

    enabled: bool = True
    working_days_per_week: int = 5
    day_start_hour: float = 8.0
    hours_per_day: float = bounded(7.5, limits.WORKING_DAY_HOURS)

    def validate(self, key: str) -> None:
        check(1 <= self.working_days_per_week <= 7, f"{key}.working_days_per_week", self.working_days_per_week, "an integer from 1 to 7")
        check(0 <= self.day_start_hour < 24, f"{key}.day_start_hour", self.day_start_hour, "must lie in [0, 24)")
        check(0 < self.hours_per_day <= 24 - self.day_start_hour, f"{key}.hours_per_day", self.hours_per_day,
               f"must be > 0 and end by midnight (<= {24 - self.day_start_hour})")
        check_declared(self, key)


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
    max_age_days: float = non_negative(540.0, at_most=limits.DAYS)
    stage: str = "allocation"
    csv: str | None = None
    cases: tuple[BacklogCase, ...] = ()

    def validate(self, key: str) -> None:
        check_declared(self, key)
        for g, v in zip(GRADES, self.counts.as_tuple()):
            check(v >= 0 and float(v).is_integer(), f"{key}.counts.{g}", v, "a whole number >= 0")
            limits.CASES.check(f"{key}.counts.{g}", v)
        check(self.size <= MAX_CASES_PER_REPLICATION, f"{key}.counts", dict(zip(GRADES, self.counts.as_tuple())),
              f"at most {MAX_CASES_PER_REPLICATION:,} cases in all")
        check(self.stage in BACKLOG_STAGES, f"{key}.stage", self.stage, f"one of {', '.join(BACKLOG_STAGES)}")
        for k, c in enumerate(self.cases):
            where = f"{key}.cases[{k}]"
            check(math.isfinite(c.age_days) and 0 <= c.age_days <= limits.DAYS.value, f"{where}.age_days", c.age_days,
                  f"a number of days from 0 to {limits.DAYS.value:,} ({limits.DAYS.why})")
            check(c.stage in BACKLOG_STAGES, f"{where}.stage", c.stage, f"one of {', '.join(BACKLOG_STAGES)}")
            for name in ("assigned_grade", "true_risk"):
                g = getattr(c, name)
                check(g is None or g in GRADES, f"{where}.{name}", g, f"one of {', '.join(GRADES)} or null")
            check(c.stage not in GRADED_BACKLOG_STAGES or c.assigned_grade is not None, f"{where}.assigned_grade",
                  None, f"required for a case at {c.stage} (it has been graded)")

    @property
    def size(self) -> int:
        """Cases in the backlog."""
        return len(self.cases) if self.cases else int(sum(self.counts.as_tuple()))


def check_referral_schedule(key: str, referrals_by_month: tuple[float, ...]) -> None:
    """Raise ConfigError naming ``key[k]`` unless every month's expected referrals is a
    finite number from 0 to ``limits.REFERRALS_PER_MONTH`` and the schedule lists at most
    ``limits.REFERRAL_SCHEDULE_MONTHS`` months."""
    most = int(limits.REFERRAL_SCHEDULE_MONTHS.value)
    if len(referrals_by_month) > most:  # named by its first month too many: the list may be long
        raise ConfigError(f"{key}[{most}]", referrals_by_month[most],
                          f"a schedule lists at most {most:,} months ({limits.REFERRAL_SCHEDULE_MONTHS.why}); "
                          f"this one lists {len(referrals_by_month):,}")
    for k, referrals in enumerate(referrals_by_month):
        check(isinstance(referrals, (int, float)) and math.isfinite(referrals) and referrals >= 0, f"{key}[{k}]",
              referrals, "expected referrals in the month: a finite number >= 0")
        limits.REFERRALS_PER_MONTH.check(f"{key}[{k}]", referrals)


def _referrals_at_growing_rate(rate_per_day: float, growth_per_year: float, days: float) -> float:
    """Expected referrals over ``days`` from a rate of ``rate_per_day`` growing continuously
    at ``growth_per_year``."""
    if growth_per_year == 0:
        return rate_per_day * days
    k = math.log1p(growth_per_year) / 365.0
    return rate_per_day * math.expm1(k * days) / k


@dataclass(frozen=True)
class DemandConfig:
    """Referrals reaching the force: Poisson with a yearly growth, direct reports, bulk
    packages, the true-risk mix, children in the household, and the initial backlog.

    The Poisson rate is ``referrals_per_month`` at day 0, growing continuously at
    ``growth_per_year``; or, when ``referrals_by_month`` lists a schedule, its ``m``-th value
    over month ``m`` of the run (days ``[m, m + 1) * DAYS_PER_MONTH``) and, after its last
    month, that month's rate growing at ``growth_per_year``: ``referrals_per_month`` is then
    not used."""

    referrals_per_month: float = non_negative(50.0)  # bounded by the cases it brings (below)
    growth_per_year: float = 0.19
    referrals_by_month: tuple[float, ...] = ()  # bounded by limits.REFERRALS_PER_MONTH, checked below
    direct_report_share: float = probability(0.12)
    bulk_package_probability: float = probability(0.02)
    bulk_extra_suspects_mean: float = non_negative(3.0, at_most=limits.SUSPECTS_PER_PACKAGE)
    risk_mix: ByGrade = field(default_factory=lambda: ByGrade(0.07, 0.20, 0.33, 0.40))
    child_in_household_probability: float = probability(0.28)
    initial_backlog: BacklogConfig = field(default_factory=BacklogConfig)

    def suspects_per_referral(self) -> float:
        """Expected suspects a referral brings: one, and a bulk package's extra ones."""
        return 1 + self.bulk_package_probability * self.bulk_extra_suspects_mean

    def referrals_per_month_at(self, day: float) -> float:
        """The Poisson rate at ``day`` (>= 0), in expected referrals a month of
        ``DAYS_PER_MONTH`` days: the schedule's month, or past its end (or without one) the
        rate grown at ``growth_per_year``.

        >>> DemandConfig(referrals_by_month=(40.0, 60.0), growth_per_year=0.5).referrals_per_month_at(45.0)
        60.0
        >>> round(DemandConfig(referrals_by_month=(40.0, 60.0), growth_per_year=0.5).referrals_per_month_at(
        ...     2 * DAYS_PER_MONTH + 365.0), 6)
        90.0
        """
        schedule = self.referrals_by_month
        if not schedule:
            return self.referrals_per_month * (1 + self.growth_per_year) ** (day / DAYS_PER_YEAR)
        month = int(day // DAYS_PER_MONTH)
        if month < len(schedule):
            return schedule[month]
        return schedule[-1] * (1 + self.growth_per_year) ** ((day - len(schedule) * DAYS_PER_MONTH) / DAYS_PER_YEAR)

    def expected_referrals_until(self, day: float) -> float:
        """Expected referrals over days ``[0, day)``: the integral of the rate
        (``referrals_per_month_at``).

        >>> DemandConfig(referrals_by_month=(40.0, 60.0)).expected_referrals_until(1.5 * DAYS_PER_MONTH)
        70.0
        """
        schedule = self.referrals_by_month
        if not schedule:
            return _referrals_at_growing_rate(self.referrals_per_month * 12.0 / 365.0, self.growth_per_year, day)
        whole_months = min(int(day // DAYS_PER_MONTH), len(schedule))
        # Summed in order, as the arrivals' inverse sums them, so the two agree to the last bit.
        before = list(itertools.accumulate(schedule[:whole_months], initial=0.0))[-1]
        if whole_months < len(schedule):
            return before + schedule[whole_months] * (day / DAYS_PER_MONTH - whole_months)
        return before + _referrals_at_growing_rate(schedule[-1] / DAYS_PER_MONTH, self.growth_per_year,
                                                   day - len(schedule) * DAYS_PER_MONTH)

    def validate(self, key: str) -> None:
        check_declared(self, key)
        check_referral_schedule(f"{key}.referrals_by_month", self.referrals_by_month)
        check(self.growth_per_year > -1, f"{key}.growth_per_year", self.growth_per_year, "must be > -1")
        limits.GROWTH_PER_YEAR.check(f"{key}.growth_per_year", self.growth_per_year)
        # A growth this small changes no arrival, and its rate per day would round to 0.
        check(self.growth_per_year == 0 or abs(self.growth_per_year) >= 1e-9, f"{key}.growth_per_year",
              self.growth_per_year, "must be 0 or at least 1e-9 in size (smaller is no growth: write 0)")
        for g, v in zip(GRADES, self.risk_mix.as_tuple()):
            check_probability(f"{key}.risk_mix.{g}", v)
        total = sum(self.risk_mix.as_tuple())
        check(abs(total - 1) < 1e-9, f"{key}.risk_mix", dict(zip(GRADES, self.risk_mix.as_tuple())),
               f"shares must sum to 1 (they sum to {total:g})")


@dataclass(frozen=True)
class RecruitmentConfig:
    """New posts filled over time: advertised on ``start_day``, the recruits start after
    ``lead_time_days``, work at ``learning_productivity`` of an experienced colleague for
    ``learning_days``, and leave at ``attrition_per_year`` (exponentially) once in post."""

    investigators: int = bounded(0, limits.HEADCOUNT)
    researchers: int = bounded(0, limits.HEADCOUNT)
    start_day: float = non_negative(0.0, at_most=limits.DAYS)
    lead_time_days: float = non_negative(120.0, at_most=limits.DAYS)
    learning_days: float = non_negative(180.0, at_most=limits.DAYS)
    learning_productivity: float = 0.5
    attrition_per_year: float = non_negative(0.0, at_most=limits.ATTRITION_PER_YEAR)

    def validate(self, key: str) -> None:
        check_declared(self, key)
        for name in ("investigators", "researchers"):
            check(getattr(self, name) >= 0, f"{key}.{name}", getattr(self, name), "posts to fill must be >= 0")
        check(0 < self.learning_productivity <= 1, f"{key}.learning_productivity", self.learning_productivity,
               "must lie in (0, 1]")


@dataclass(frozen=True)
class StaffingConfig:
    """Headcount per pool, the share of contracted hours actually available for casework
    (abstraction, court, welfare), the investigators' caseload limit, and recruitment."""

    intake_researchers: int = bounded(1, limits.HEADCOUNT)
    researchers: int = bounded(4, limits.HEADCOUNT)
    assessors: int = bounded(2, limits.HEADCOUNT)
    investigators: int = bounded(20, limits.HEADCOUNT)
    caseload_limit: int = at_least_one(8, at_most=limits.CASELOAD)
    search_teams: int = bounded(2, limits.HEADCOUNT)
    availability: float = bounded(0.65, limits.AVAILABILITY)
    recruitment: RecruitmentConfig = field(default_factory=RecruitmentConfig)

    def validate(self, key: str) -> None:
        for name in ("intake_researchers", "researchers", "assessors", "investigators", "search_teams"):
            v = getattr(self, name)
            check(v >= 1, f"{key}.{name}", v, "headcount must be >= 1")
        check(0 < self.availability <= 1, f"{key}.availability", self.availability, "must lie in (0, 1]")
        check_declared(self, key)


TRAINED_POOLS = {"assessors": "assessment", "researchers": "research", "investigators": "investigators"}
"""Trained-share keys (``<role>_trained_share``) and the staff pool each describes."""


@dataclass(frozen=True)
class TrainingProgrammeConfig:
    """A training programme from ``start_day`` for ``duration_days`` (0: none): each trained
    share given here rises linearly to it over the programme (null: unchanged), and every
    person trained is away on a course for ``course_days`` working days, so the pool loses
    that time while the programme runs."""

    start_day: float = non_negative(0.0, at_most=limits.DAYS)
    duration_days: float = non_negative(0.0, at_most=limits.DAYS)
    assessors_trained_share: float | None = probability(None)
    researchers_trained_share: float | None = probability(None)
    investigators_trained_share: float | None = probability(None)
    course_days: float = non_negative(10.0, at_most=limits.DAYS)


@dataclass(frozen=True)
class TrainingConfig:
    """Who is trained, and what training changes: grading errors, effort, defective warrants."""

    assessors_trained_share: float = probability(0.5)
    researchers_trained_share: float = probability(0.5)
    investigators_trained_share: float = probability(0.6)
    direct_to_nonspecialist_share: float = probability(0.4)
    under_grade_probability_trained: float = probability(0.03)
    under_grade_probability_untrained: float = probability(0.25)
    under_grade_to_low_share: float = probability(0.5)
    over_grade_probability_trained: float = probability(0.05)
    over_grade_probability_untrained: float = probability(0.10)
    untrained_research_effort_multiplier: float = positive(1.5, at_most=limits.EFFORT_MULTIPLIER)
    programme: TrainingProgrammeConfig = field(default_factory=TrainingProgrammeConfig)

    def validate(self, key: str) -> None:
        check_declared(self, key)
        p, k = self.programme, f"{key}.programme"
        for role in TRAINED_POOLS:
            target, today = getattr(p, f"{role}_trained_share"), getattr(self, f"{role}_trained_share")
            if target is not None:
                check(target >= today, f"{k}.{role}_trained_share", target,
                       f"a programme raises the trained share: must be >= {key}.{role}_trained_share ({today})")


@dataclass(frozen=True)
class IntakeConfig:
    effort_hours: Distribution = effort_in_hours(Triangular(0.5, 1.0, 2.0))
    duplicate_probability: float = probability(0.07)


@dataclass(frozen=True)
class ResearchConfig:
    """Research and enrichment; communications data is authorised outside the force, fast
    when the package's own evidence shows a risk in ``comms_data_urgent_risks`` (by true
    risk: the case is not graded yet)."""

    effort_hours: Distribution = effort_in_hours(Triangular(2.0, 4.0, 8.0))
    comms_data_days: Distribution = delay_in_days(Triangular(1.0, 4.0, 10.0))
    comms_data_urgent_days: Distribution = delay_in_days(Uniform(0.1, 0.5))
    comms_data_urgent_risks: tuple[str, ...] = grade_list(("VH", "H"))
    untraceable_probability: float = probability(0.10)


@dataclass(frozen=True)
class AssessmentConfig:
    effort_hours_trained: Distribution = effort_in_hours(Triangular(0.5, 1.0, 1.5))
    effort_hours_untrained: Distribution = effort_in_hours(Triangular(0.75, 1.25, 2.0))


@dataclass(frozen=True)
class SafeguardingConfig:
    """Police delay from the risk assessment to the safeguarding referral (parallel branch)."""

    urgent_grades: tuple[str, ...] = grade_list(("VH", "H"))
    delay_days_urgent: Distribution = delay_in_days(Uniform(0.0, 1.0))
    delay_days_routine: Distribution = delay_in_days(Triangular(0.0, 7.0, 30.0))


@dataclass(frozen=True)
class PlanningConfig:
    """Enforcement planning: investigator effort, then an elapsed lag (briefings, teams);
    cases of ``urgent_grades`` take the urgent lag."""

    effort_hours: Distribution = effort_in_hours(Triangular(5.0, 10.0, 20.0))
    lag_days: Distribution = delay_in_days(Uniform(1.0, 7.0))
    urgent_grades: tuple[str, ...] = grade_list(("VH", "H"))
    urgent_lag_days: Distribution = delay_in_days(Fixed(0.0))


@dataclass(frozen=True)
class WarrantConfig:
    """Application (investigator effort), the court's slots on sitting days with a same-day
    route for urgent grades (``out_of_hours_grades``: a remote panel hears them at any hour),
    defects (rework), refusal that rises with the intelligence's age, and the warrant's
    validity."""

    effort_hours: Distribution = effort_in_hours(Uniform(2.0, 4.0))
    rework_effort_hours: Distribution = effort_in_hours(Uniform(1.0, 3.0))
    slots_per_sitting_day: int = at_least_one(3, at_most=limits.DAILY_PLACES)
    same_day_grades: tuple[str, ...] = grade_list(("VH",))
    out_of_hours_grades: tuple[str, ...] = grade_list(())
    defective_probability_trained: float = probability(0.05)
    defective_probability_untrained: float = probability(0.10)
    refusal_probability: float = probability(0.02)
    refusal_probability_per_year_of_age: float = probability(0.05)
    validity_days: float = positive(91.0, at_most=limits.DAYS)
    max_applications: int = at_least_one(3, at_most=limits.APPLICATIONS)


@dataclass(frozen=True)
class ExecutionConfig:
    """Warrant execution by search teams, each able to execute a number of warrants a working
    day; outcome shares among executions (the rest: no trace)."""

    warrants_per_team_per_day: int = at_least_one(1, at_most=limits.DAILY_PLACES)
    lag_days: Distribution = delay_in_days(Uniform(1.0, 5.0))
    urgent_grades: tuple[str, ...] = grade_list(("VH", "H"))
    urgent_lag_days: Distribution = delay_in_days(Fixed(0.0))
    arrest_probability: float = probability(0.48)
    voluntary_interview_probability: float = probability(0.45)


@dataclass(frozen=True)
class PostArrestConfig:
    """Investigator work after the arrest (interviews, files); it holds a caseload slot."""

    effort_hours: Distribution = effort_in_hours(Triangular(20.0, 30.0, 40.0))


@dataclass(frozen=True)
class ReviewConfig:
    """Re-review of cases waiting for an investigator. Analysts (the Dyfed-Powys practice)
    look at the ``analyst_cases_per_review`` longest-waiting cases of ``analyst_grades``
    every ``analyst_interval_days`` (0 cases: no analyst); under ``minimum_standards`` every
    case whose wait passes its grade's target is reviewed. A review finds a case graded below
    its true risk with ``detection_probability``: it is regraded, moves up the queue, and its
    safeguarding referral is made at once."""

    analyst_cases_per_review: int = non_negative(0, at_most=limits.CASES)
    analyst_interval_days: float = positive(7.0, at_least=limits.INTERVAL_DAYS, at_most=limits.DAYS)
    analyst_grades: tuple[str, ...] = grade_list(("M", "L"))
    minimum_standards: bool = False
    detection_probability: float = probability(0.8)


@dataclass(frozen=True)
class StagesConfig:
    """Every stage's efforts and delays. Cases assigned a grade in ``round_the_clock_grades``
    (and, before grading, packages flagging immediate risk) are worked straight through, on
    call, by ``round_the_clock_speedup`` people at once: their effort is not spread over
    office hours and abstraction. ``allocation_rule`` orders the queue for an investigator:
    ``grade`` serves it strictly by grade, oldest first within a grade; ``due_date`` serves
    very high and high risk first, then medium and low risk together by due date (referral
    plus the grade's target), as a team working to its targets does."""

    round_the_clock_grades: tuple[str, ...] = grade_list(("VH",))
    round_the_clock_speedup: float = bounded(3.0, limits.SPEEDUP)
    allocation_rule: Literal["grade", "due_date"] = "grade"
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
        # The sections below have no validate of their own: their distributions and declared
        # bounds are checked by walking into them.
        check_declared(self, key)
        check(self.round_the_clock_speedup >= 1, f"{key}.round_the_clock_speedup", self.round_the_clock_speedup,
               "must be >= 1 (people working an urgent case at once)")
        e = self.execution
        total = e.arrest_probability + e.voluntary_interview_probability
        check(total <= 1 + 1e-12, f"{key}.execution.voluntary_interview_probability", e.voluntary_interview_probability,
               f"arrest + voluntary interview probabilities must not exceed 1 (they sum to {total:g})")


FORCE_SECTIONS = ("demand", "staffing", "training", "stages")
"""The sections a force of a region has of its own."""

@dataclass(frozen=True)
class ForceConfig:
    """One force of a region, with its own demand, staffing, training and stages (its court's
    sitting slots, say). In YAML an entry of ``forces`` lists only where the force differs
    from the top-level ``demand``, ``staffing``, ``training`` and ``stages``: the loader starts
    each force from those, so a scenario that changes a top-level key changes it in every
    force that does not set it itself. ``region`` names the region it belongs to (its
    regional organised crime unit's, say); see ``CollaborationConfig.scope``."""

    name: str = "force"
    demand: DemandConfig = field(default_factory=DemandConfig)
    staffing: StaffingConfig = field(default_factory=StaffingConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    stages: StagesConfig = field(default_factory=StagesConfig)
    region: str = ""  # last: a force built by position keeps its sections


@dataclass(frozen=True)
class PoolingConfig:
    """Forces lending each other capacity. Pooled investigators are one queue for the region's
    cases: a case is worked by its own force's investigators while one of their caseload
    slots is free, else by another force's after ``handoff_days`` (briefing, travel). Pooled
    search teams execute a warrant in another force's area, ``handoff_days`` later, when the
    home teams are booked that day."""

    investigators: bool = False
    search_teams: bool = False
    handoff_days: Distribution = delay_in_days(Uniform(1.0, 5.0))


@dataclass(frozen=True)
class TriageHubConfig:
    """One regional team assesses every referral of every force (no local non-specialist
    grading), with ``assessors`` staff (null: the forces' assessors together) of whom
    ``trained_share`` are trained; a referral reaches it ``handoff_days`` after research."""

    enabled: bool = False
    assessors: int | None = bounded(None, limits.HEADCOUNT)
    trained_share: float = probability(1.0)
    handoff_days: Distribution = delay_in_days(Uniform(0.0, 1.0))


@dataclass(frozen=True)
class SurgeConfig:
    """A regional surge unit (ROCU) of ``investigators`` (0: none). A case of ``grades``
    reaching allocation while ``queue_threshold`` or more of its force's cases already wait
    for an investigator is taken by the unit if it has a free caseload slot, after
    ``handoff_days``."""

    investigators: int = bounded(0, limits.HEADCOUNT)
    caseload_limit: int = at_least_one(8, at_most=limits.CASELOAD)
    availability: float = bounded(0.65, limits.AVAILABILITY)
    queue_threshold: int = bounded(30, limits.CASES)
    grades: tuple[str, ...] = grade_list(("H", "M"))
    handoff_days: Distribution = delay_in_days(Uniform(1.0, 5.0))


COSTED_POOLS: dict[str, str] = {
    "intake": "intake_researcher_gbp_per_year", "research": "researcher_gbp_per_year",
    "assessment": "assessor_gbp_per_year", "investigators": "investigator_gbp_per_year",
    "search_teams": "search_team_gbp_per_day", "court": "warrant_hearing_gbp",
}
"""The capacity (a pool of ``pools.csv``) each price of ``CostsConfig`` pays for."""


POST_PRICES: dict[str, str] = {
    "staffing.intake_researchers": "intake_researcher_gbp_per_year", "staffing.researchers": "researcher_gbp_per_year",
    "staffing.assessors": "assessor_gbp_per_year", "staffing.investigators": "investigator_gbp_per_year",
}
"""The headcount keys whose one more post ``CostsConfig`` prices a year."""


def post_cost_per_year(cfg: "SimConfig", key: str) -> float | None:
    """What one more unit of the headcount ``key`` costs a year at ``cfg.costs``' prices (a
    search team: its price a day over the calendar's working days a year); None for a key
    with no price (a trained share, say)."""
    if key in POST_PRICES:
        return getattr(cfg.costs, POST_PRICES[key])
    if key == "staffing.search_teams":
        return cfg.costs.search_team_gbp_per_day * cfg.calendar.working_days_per_week * DAYS_PER_YEAR / 7
    return None


@dataclass(frozen=True)
class CostsConfig:
    """What the force pays, in pounds, so that every run reports its staffing cost and every
    comparison what a lever costs: a post a year for each role (pay with the employer's
    pension and National Insurance), a search team's working day, and a warrant hearing (the
    officer's time to prepare and attend). Estimates [E] with their basis in docs/sources.md
    ('cost'); set your force's own. Costs only report: they change no result."""

    intake_researcher_gbp_per_year: float = non_negative(45_000.0, limits.PRICE)
    researcher_gbp_per_year: float = non_negative(45_000.0, limits.PRICE)
    assessor_gbp_per_year: float = non_negative(45_000.0, limits.PRICE)
    investigator_gbp_per_year: float = non_negative(65_000.0, limits.PRICE)
    search_team_gbp_per_day: float = non_negative(2_000.0, limits.PRICE)
    warrant_hearing_gbp: float = non_negative(150.0, limits.PRICE)

    def validate(self, key: str) -> None:
        check_declared(self, key)


SCOPES = ("region", "nation")
"""Where the collaboration policies act: within each region, or across every force listed."""


@dataclass(frozen=True)
class CollaborationConfig:
    """How the forces of a region work together: the parameters of the collaboration policy
    (``sim.model.policy``) that decides which unit serves a case at each stage."""

    pooling: PoolingConfig = field(default_factory=PoolingConfig)
    triage_hub: TriageHubConfig = field(default_factory=TriageHubConfig)
    surge: SurgeConfig = field(default_factory=SurgeConfig)
    scope: str = "region"
    """``region``: the policies act within each region of the forces listed (each its own
    pool, hub and surge unit), and regions share nothing, so each is simulated on its own;
    ``nation``: every force listed is one region, whatever its ``region``."""

    def validate(self, key: str, n_forces: int) -> None:
        p, h, s = self.pooling, self.triage_hub, self.surge
        check(self.scope in SCOPES, f"{key}.scope", self.scope, f"one of {', '.join(SCOPES)}")
        check(h.assessors is None or h.assessors >= 1, f"{key}.triage_hub.assessors", h.assessors,
              "headcount must be >= 1 (or null: the forces' assessors together)")
        check(s.investigators >= 0, f"{key}.surge.investigators", s.investigators, "headcount must be >= 0 (0: no surge unit)")
        check(s.queue_threshold >= 0, f"{key}.surge.queue_threshold", s.queue_threshold,
              "cases waiting for an investigator: must be >= 0")
        check(0 < s.availability <= 1, f"{key}.surge.availability", s.availability, "must lie in (0, 1]")
        check_declared(self, key)
        for name in ("investigators", "search_teams"):
            on = getattr(p, name)
            check(not on or n_forces >= 2, f"{key}.pooling.{name}", on,
                   f"pooling needs a region of two forces or more, and this region has {n_forces} "
                   "(list them under `forces`, e.g. forces=three_forces)")


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
    costs: CostsConfig = field(default_factory=CostsConfig)

    def validate(self) -> "SimConfig":
        """Check every value; raise ConfigError on the first bad one. Returns self."""
        for g, v in zip(GRADES, self.targets_days.as_tuple()):
            check(v > 0, f"targets_days.{g}", v, "must be > 0")
            limits.DAYS.check(f"targets_days.{g}", v)
        limits.FORCES.check("forces", len(self.forces))
        for name in ("run", "calendar", "costs"):
            getattr(self, name).validate(name)
        names = [f.name for f in self.forces]
        for k, name in enumerate(names):
            check(bool(name.strip()) and name not in (REGION, SURGE, NATION), f"forces[{k}].name", name,
                   f"a non-empty name other than {REGION!r}, {SURGE!r} and {NATION!r} (they label totals and the "
                   "surge unit)")
            check(names.count(name) == 1, f"forces[{k}].name", name, "each force's name must be different")
        labelled = [bool(f.region) for f in self.forces]
        for k, force in enumerate(self.forces):
            check(bool(force.region) or not any(labelled), f"forces[{k}].region", force.region,
                  "every force needs a region once one force has one")
            check(force.region not in (REGION, SURGE), f"forces[{k}].region", force.region,
                  f"a name other than {REGION!r} and {SURGE!r} (they label totals and the surge unit)")
        for members in self.regions().values():
            self.collaboration.validate("collaboration", max(len(members), 1))
        caseload_limits = {f.staffing.caseload_limit for f in self.forces}
        check(not self.collaboration.pooling.investigators or len(caseload_limits) <= 1, "collaboration.pooling.investigators",
               True, f"pooled investigators need one caseload limit, and the forces' differ ({sorted(caseload_limits)})")
        rules = {f.stages.allocation_rule for f in self.force_configs()}
        shared = self.collaboration.pooling.investigators or self.collaboration.surge.investigators > 0
        check(not shared or len(rules) <= 1, "stages.allocation_rule", ", ".join(sorted(rules)),
               "one rule for every force when investigators are pooled or a surge unit takes cases (they share a queue)")
        for prefix, fc in zip(self._force_prefixes(), self.force_configs()):
            fc._validate_force(prefix)
        check_memory(self)
        return self

    def _validate_force(self, prefix: str) -> None:
        """Check one force's demand, staffing, training and stages (keys under ``prefix``)."""
        for name in FORCE_SECTIONS:
            getattr(self, name).validate(prefix + name)
        for role, pool in TRAINED_POOLS.items():
            away = course_away_fraction(self, role)
            check(away < 0.9, f"{prefix}training.programme.{role}_trained_share",
                   getattr(self.training.programme, f"{role}_trained_share"),
                   f"trains so many {role} that {away:.0%} of their time goes on courses; lengthen "
                   "training.programme.duration_days or shorten course_days")
        d = self.demand
        expected = self.expected_suspects()
        rate_key, rate = ((f"{prefix}demand.referrals_by_month", d.referrals_by_month) if d.referrals_by_month
                          else (f"{prefix}demand.referrals_per_month", d.referrals_per_month))
        check(self.expected_cases() > 0, rate_key, rate,
              "no referrals and no initial backlog: there is nothing to simulate")
        if expected > MAX_CASES_PER_REPLICATION:
            key, value = cases_driver(self, prefix)
            raise ConfigError(key, value, f"expects {expected:,.0f} cases a replication over {self.run.horizon_days:g} "
                                          f"days; at most {MAX_CASES_PER_REPLICATION:,} are allowed")

    def _force_prefixes(self) -> list[str]:
        return [f"forces[{k}]." for k in range(len(self.forces))] if self.forces else [""]

    def regions(self) -> dict[str, tuple[int, ...]]:
        """The forces' indices by region, regions in the order their first force is listed;
        one region (named ``""``) for forces without regions, for a single force, and when
        ``collaboration.scope`` is ``nation``."""
        if not self.forces or self.collaboration.scope == "nation":
            return {"": tuple(range(max(len(self.forces), 1)))}
        out: dict[str, list[int]] = {}
        for k, force in enumerate(self.forces):
            out.setdefault(force.region, []).append(k)
        return {region: tuple(members) for region, members in out.items()}

    def region_configs(self) -> tuple[tuple[str, "SimConfig"], ...]:
        """Each region (see :meth:`regions`) as a config of its own forces, which share
        nothing with another region's: each can be simulated alone. A single region is this
        config itself."""
        regions = self.regions()
        if len(regions) == 1:
            return ((next(iter(regions)), self),)
        return tuple((region, dataclasses.replace(self, forces=tuple(self.forces[k] for k in members)))
                     for region, members in regions.items())

    @property
    def region_of(self) -> dict[str, str]:
        """Each force's region by its name (``""`` where forces have none)."""
        return {f.name: f.region for f in self.forces} if self.forces else {self.force: ""}

    def region_of_owner(self, owner: str) -> str:
        """The region of a ``force`` label of any table: a force's region (``region_of``),
        the region a shared unit or a region's total belongs to (``region NAME``,
        ``surge NAME``; in a run of one region, ``region`` and ``surge`` are that region's),
        else ``""`` (the nation's total, forces without regions).

        >>> from sim.config.load import load_config
        >>> cfg = load_config(["forces=england_and_wales"])
        >>> [cfg.region_of_owner(owner) for owner in ("kent", "region south_west", "surge eastern", "nation")]
        ['eastern', 'south_west', 'eastern', '']
        """
        region_of = self.region_of
        if owner in region_of:
            return region_of[owner]
        regions = self.regions()
        if owner in (REGION, SURGE):
            return next(iter(regions)) if len(regions) == 1 else ""
        kind, _, name = owner.partition(" ")
        return name if kind in (REGION, SURGE) and name in regions else ""

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
        one, ``nation`` for forces of several regions, else ``region``."""
        if not self.forces:
            return self.force
        return NATION if len(self.regions()) > 1 else REGION

    def expected_referrals(self) -> float:
        """Expected referrals a replication over the horizon (the schedule and growth
        included; see ``DemandConfig``)."""
        return self.demand.expected_referrals_until(self.run.horizon_days)

    def expected_suspects(self) -> float:
        """Expected suspects referred a replication: the referrals and the extra suspects
        of bulk packages (growth included; the initial backlog not)."""
        return self.expected_referrals() * self.demand.suspects_per_referral()

    def expected_cases(self) -> float:
        """Expected cases a replication of a force (this config of one force): its
        referred suspects and its initial backlog."""
        return self.expected_suspects() + self.demand.initial_backlog.size

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

