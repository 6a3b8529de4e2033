"""Demand: the cases of one replication, with every intrinsic attribute drawn at arrival.

All cases (referrals within the horizon and the initial backlog) are drawn before the clock
starts, column by column, each column from its own named stream. Case ``i`` of a
replication therefore has the same arrival draw, true risk, grading-error draw, efforts and
outcome draws in every scenario: a scenario that changes only capacity sees the same cases
(common random numbers), and only a change to demand itself moves them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..config.schema import SimConfig
from ..core.distributions import Distribution
from ..core.rng import Streams
from ..domain import DAYS_PER_MONTH, GRADES, Grade, Source, Stage
from .workforce import trained_share_at

# Plain ints for numpy's where() and comparisons on whole columns.
VH, H, M, L = (int(g) for g in Grade)
NCA, DIRECT = (int(s) for s in Source)


@dataclass
class CaseTable:
    """One row per case; numpy columns. Times in days, efforts in hours (before availability)."""

    arrival_day: np.ndarray
    package_id: np.ndarray
    backlog: np.ndarray
    start_stage: np.ndarray
    source: np.ndarray
    true_risk: np.ndarray
    assigned_grade: np.ndarray
    trained_assessor: np.ndarray
    urgent: np.ndarray  # the package flags immediate risk: worked round the clock before grading
    nonspecialist: np.ndarray
    child: np.ndarray
    intake_hours: np.ndarray
    duplicate: np.ndarray
    research_hours: np.ndarray
    comms_days: np.ndarray
    untraceable: np.ndarray
    assessment_hours: np.ndarray
    safeguarding_delay_days: np.ndarray
    planning_hours: np.ndarray
    planning_lag_days: np.ndarray
    warrant_hours: np.ndarray
    rework_hours: np.ndarray
    defective: np.ndarray  # (n, max_applications) bool
    refusal_u: np.ndarray  # (n, max_applications) uniforms, compared with an age-dependent probability
    execution_lag_days: np.ndarray
    outcome_u: np.ndarray
    post_arrest_hours: np.ndarray
    review_u: np.ndarray  # compared with a review's detection probability
    pooling_handoff_days: np.ndarray  # the delays if the case is handed to another force, the
    hub_handoff_days: np.ndarray  # triage hub or the surge unit (one draw: how much there is
    surge_handoff_days: np.ndarray  # to hand over)

    @property
    def n(self) -> int:
        return len(self.arrival_day)


def inverse_cumulative_intensity(x: np.ndarray, rate_per_day: float, growth_per_year: float) -> np.ndarray:
    """The time at which the expected number of referrals reaches ``x`` (the inverse of
    ``SimConfig.expected_referrals`` as a function of the horizon)."""
    if growth_per_year == 0:
        return x / rate_per_day
    k = math.log1p(growth_per_year) / 365.0
    return np.log1p(k * x / rate_per_day) / k


def scheduled_inverse_cumulative_intensity(x: np.ndarray, referrals_by_month: tuple[float, ...],
                                           growth_per_year: float) -> np.ndarray:
    """The time (day) at which the expected number of referrals reaches each of ``x``
    (ascending) under a monthly schedule: within month ``m`` the rate is the schedule's
    ``m``-th value (referrals a month of ``DAYS_PER_MONTH`` days); after the schedule, the
    last month's rate growing at ``growth_per_year`` (the inverse of
    ``DemandConfig.expected_referrals_until``).

    >>> scheduled_inverse_cumulative_intensity(np.array([20.0, 70.0]), (40.0, 60.0), 0.0) / DAYS_PER_MONTH
    array([0.5, 1.5])
    """
    schedule = np.asarray(referrals_by_month, dtype=float)
    before_month = np.concatenate([[0.0], np.cumsum(schedule)])  # expected referrals before each month
    days = np.empty(len(x))
    within = x < before_month[-1]
    # The month whose span of expected referrals holds each point: a month with none has an
    # empty span, so no point falls in it.
    month = np.searchsorted(before_month, x[within], side="right") - 1
    days[within] = (month + (x[within] - before_month[month]) / schedule[month]) * DAYS_PER_MONTH
    after = ~within
    if after.any():
        days[after] = len(schedule) * DAYS_PER_MONTH + inverse_cumulative_intensity(
            x[after] - before_month[-1], schedule[-1] / DAYS_PER_MONTH, growth_per_year)
    return days


def referral_times(cfg: SimConfig, streams: Streams) -> np.ndarray:
    """Arrival days of referrals in [0, horizon): a non-homogeneous Poisson process, made by
    mapping a unit-rate process through the inverse cumulative intensity (of the referral
    schedule, if the config has one)."""
    d = cfg.demand
    total = cfg.expected_referrals()
    if total == 0:
        return np.empty(0)
    gen = streams["arrivals"]
    gaps = gen.standard_exponential(int(total + 10 * math.sqrt(total) + 20))
    points = np.cumsum(gaps)
    while points[-1] < total:  # rare: draw on from the same stream
        points = np.concatenate([points, points[-1] + np.cumsum(gen.standard_exponential(len(points)))])
    points = points[points < total]
    if not d.referrals_by_month:
        return inverse_cumulative_intensity(points, d.referrals_per_month / DAYS_PER_MONTH, d.growth_per_year)
    days = scheduled_inverse_cumulative_intensity(points, d.referrals_by_month, d.growth_per_year)
    return days[days < cfg.run.horizon_days]  # a point at the very end may round onto the horizon


def grading_matrix(cfg: SimConfig, trained: bool) -> np.ndarray:
    """P(assigned grade | true risk) for a trained or untrained assessor (rows: true)."""
    t = cfg.training
    under = t.under_grade_probability_trained if trained else t.under_grade_probability_untrained
    over = t.over_grade_probability_trained if trained else t.over_grade_probability_untrained
    low = t.under_grade_to_low_share
    m = np.zeros((4, 4))
    for true in (VH, H):
        m[true, true] = 1 - under
        m[true, M] += under * (1 - low)
        m[true, L] += under * low
    for true in (M, L):
        m[true, true] = 1 - over
        m[true, H] += over
    return m


def assign_grades(cfg: SimConfig, true_risk: np.ndarray, trained: np.ndarray, u_err: np.ndarray,
                  u_dest: np.ndarray) -> np.ndarray:
    """The grade a case is given: its true risk unless the grading-error draw ``u_err`` falls
    below the assessor's error probability. Truly VH/H cases are then under-graded to M or L
    (``u_dest``); truly M/L cases over-graded to H."""
    t = cfg.training
    under = np.where(trained, t.under_grade_probability_trained, t.under_grade_probability_untrained)
    over = np.where(trained, t.over_grade_probability_trained, t.over_grade_probability_untrained)
    high = true_risk <= H
    err = u_err < np.where(high, under, over)
    wrong = np.where(high, np.where(u_dest < t.under_grade_to_low_share, L, M), H)
    return np.where(err, wrong, true_risk).astype(np.int8)


class _Uniforms:
    """Uniforms in [0, 1) from named streams, one per case (a row of ``columns`` if asked)."""

    def __init__(self, streams: Streams, n_cases: int):
        self.streams, self.n_cases = streams, n_cases

    def __call__(self, stream_name: str, columns: int | None = None) -> np.ndarray:
        return self.streams.uniforms(stream_name, self.n_cases, columns)


@dataclass(frozen=True)
class _Suspects:
    """The referrals within the horizon, one row per suspect (a bulk package brings several)."""

    arrival_day: np.ndarray
    package_id: np.ndarray
    source: np.ndarray


def _referral_suspects(cfg: SimConfig, streams: Streams) -> _Suspects:
    """Referrals, each bringing one suspect or (a bulk package) several linked ones."""
    d = cfg.demand
    times = referral_times(cfg, streams)
    n_referrals = len(times)
    bulk = streams.uniforms("bulk", n_referrals) < d.bulk_package_probability
    extra = streams["bulk_size"].poisson(d.bulk_extra_suspects_mean, n_referrals) if n_referrals else np.zeros(0, int)
    suspects = 1 + np.where(bulk, extra, 0)
    source = np.where(streams.uniforms("source", n_referrals) < d.direct_report_share, DIRECT, NCA)
    return _Suspects(arrival_day=np.repeat(times, suspects), package_id=np.repeat(np.arange(n_referrals), suspects),
                     source=np.repeat(source, suspects))


@dataclass(frozen=True)
class _BacklogRows:
    """The initial backlog, oldest first. Grades and risks are codes; -1 where the input
    leaves the assigned grade, the true risk or the child flag unsaid."""

    age_days: np.ndarray
    start_stage: np.ndarray
    assigned_grade: np.ndarray
    true_risk: np.ndarray
    child: np.ndarray


def _backlog_rows(cfg: SimConfig, streams: Streams) -> _BacklogRows:
    """Ages, stages, grades and child flags of the initial backlog (counts or CSV)."""
    backlog = cfg.demand.initial_backlog
    if backlog.cases:
        cases = backlog.cases
        age_days = np.array([c.age_days for c in cases], dtype=float)
        start_stage = np.array([int(Stage[c.stage.upper()]) for c in cases])
        assigned_grade = np.array([-1 if c.assigned_grade is None else GRADES.index(c.assigned_grade) for c in cases])
        true_risk = np.array([-1 if c.true_risk is None else GRADES.index(c.true_risk) for c in cases])
        child = np.array([-1 if c.child_in_household is None else int(c.child_in_household) for c in cases])
    else:
        counts = [int(v) for v in backlog.counts.as_tuple()]
        assigned_grade = np.repeat(np.arange(4), counts)
        n_cases = len(assigned_grade)
        age_days = backlog.max_age_days * streams.uniforms("backlog_age", n_cases)
        start_stage = np.full(n_cases, int(Stage[backlog.stage.upper()]))
        assigned_grade = np.where(start_stage >= Stage.ALLOCATION, assigned_grade, -1)
        true_risk = np.full(n_cases, -1)
        child = np.full(n_cases, -1)
    # Oldest first: they all join their queue at day 0, where order of arrival breaks ties,
    # so the oldest case must arrive first to be served first within its grade. Cases
    # allocated before day 0 come before all others, so they take back their caseload slots
    # before any case queueing for one at day 0 asks.
    order = np.lexsort((-age_days, start_stage <= Stage.ALLOCATION))
    columns = (age_days, start_stage, assigned_grade, true_risk, child)
    return _BacklogRows(*(np.asarray(column)[order] for column in columns))


@dataclass
class _Grading:
    """Who grades each case and the grade given; the grading-error draws are kept for the
    backlog, whose given grades override them."""

    nonspecialist: np.ndarray
    trained_assessor: np.ndarray
    error_u: np.ndarray  # the grading-error draw (see assign_grades)
    destination_u: np.ndarray  # the draw of the grade an error gives
    assigned_grade: np.ndarray


def _grading(cfg: SimConfig, uniforms: _Uniforms, source: np.ndarray, arrived_day: np.ndarray,
             true_risk: np.ndarray) -> _Grading:
    """Who assesses each case (the regional hub, or a trained or untrained assessor, or a
    non-specialist for some direct reports) and the grade given."""
    hub = cfg.collaboration.triage_hub
    if hub.enabled:  # the regional hub grades every referral
        nonspecialist = np.zeros(len(source), dtype=bool)
        trained_assessor = uniforms("assessor_trained") < hub.trained_share
    else:
        nonspecialist = (source == DIRECT) & (uniforms("nonspecialist") < cfg.training.direct_to_nonspecialist_share)
        trained_share = trained_share_at(cfg, "assessors", arrived_day)
        trained_assessor = ~nonspecialist & (uniforms("assessor_trained") < trained_share)
    error_u, destination_u = uniforms("grading_error"), uniforms("grading_error_destination")
    assigned = assign_grades(cfg, true_risk, trained_assessor, error_u, destination_u)
    return _Grading(nonspecialist, trained_assessor, error_u, destination_u, assigned)


def _backlog_as_given(cfg: SimConfig, backlog: _BacklogRows, uniforms: _Uniforms, true_risk: np.ndarray,
                      child: np.ndarray, grading: _Grading) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The backlog cases' true risk, assigned grade and child flag: what the input says of a
    case is kept; what it leaves unsaid is drawn (a true risk given only the grade, from the
    posterior of the risk mix and the grading errors)."""
    n_backlog = len(backlog.age_days)
    given_true, given_grade = backlog.true_risk >= 0, backlog.assigned_grade >= 0
    cumulative = np.cumsum(_true_risk_given_grade(cfg), axis=1)
    posterior_u = uniforms("backlog_true_risk")[:n_backlog]
    # Inverse transform on each case's row: how many cumulative shares lie at or below its draw.
    drawn_true = (cumulative[np.maximum(backlog.assigned_grade, 0)] <= posterior_u[:, None]).sum(axis=1)
    backlog_true = np.where(given_true, backlog.true_risk,
                            np.where(given_grade, np.minimum(drawn_true, 3), true_risk[:n_backlog]))
    drawn_grade = assign_grades(cfg, backlog_true, grading.trained_assessor[:n_backlog], grading.error_u[:n_backlog],
                                grading.destination_u[:n_backlog])
    backlog_grade = np.where(given_grade, backlog.assigned_grade, drawn_grade)
    backlog_child = np.where(backlog.child >= 0, backlog.child == 1, child[:n_backlog])
    return backlog_true, backlog_grade, backlog_child


def _in_grades(codes: np.ndarray, grades: tuple[str, ...]) -> np.ndarray:
    """Whether each grade (or risk) code is one of ``grades``."""
    return np.isin(codes, [GRADES.index(g) for g in grades])


def _quantile_where(condition: np.ndarray, if_true: Distribution, if_false: Distribution,
                    uniform: np.ndarray) -> np.ndarray:
    """Samples of ``if_true`` where ``condition`` holds, else of ``if_false``, from one
    uniform per case (so a case keeps its place in either distribution)."""
    return np.where(condition, if_true.quantile(uniform), if_false.quantile(uniform))


def _efforts_and_delays(cfg: SimConfig, uniforms: _Uniforms, true_risk: np.ndarray, grading: _Grading,
                        arrived_day: np.ndarray) -> dict[str, np.ndarray]:
    """Each stage's hands-on effort (hours) and elapsed delays (days), by CaseTable column."""
    stages = cfg.stages
    research, assessment, safeguarding = stages.research, stages.assessment, stages.safeguarding
    planning, warrant, execution = stages.planning, stages.warrant, stages.execution
    assigned = grading.assigned_grade
    trained_researcher = uniforms("researcher_trained") < trained_share_at(cfg, "researchers", arrived_day)
    research_multiplier = np.where(trained_researcher, 1.0, cfg.training.untrained_research_effort_multiplier)
    return {
        "intake_hours": stages.intake.effort_hours.quantile(uniforms("intake_effort")),
        "research_hours": research.effort_hours.quantile(uniforms("research_effort")) * research_multiplier,
        "comms_days": _quantile_where(_in_grades(true_risk, research.comms_data_urgent_risks),
                                      research.comms_data_urgent_days, research.comms_data_days,
                                      uniforms("comms_data")),
        "assessment_hours": _quantile_where(grading.trained_assessor, assessment.effort_hours_trained,
                                            assessment.effort_hours_untrained, uniforms("assessment_effort")),
        "safeguarding_delay_days": _quantile_where(_in_grades(assigned, safeguarding.urgent_grades),
                                                   safeguarding.delay_days_urgent, safeguarding.delay_days_routine,
                                                   uniforms("safeguarding_delay")),
        "planning_hours": planning.effort_hours.quantile(uniforms("planning_effort")),
        "planning_lag_days": _quantile_where(_in_grades(assigned, planning.urgent_grades), planning.urgent_lag_days,
                                             planning.lag_days, uniforms("planning_lag")),
        "warrant_hours": warrant.effort_hours.quantile(uniforms("warrant_effort")),
        "rework_hours": warrant.rework_effort_hours.quantile(uniforms("warrant_rework")),
        "execution_lag_days": _quantile_where(_in_grades(assigned, execution.urgent_grades), execution.urgent_lag_days,
                                              execution.lag_days, uniforms("execution_lag")),
        "post_arrest_hours": stages.post_arrest.effort_hours.quantile(uniforms("post_arrest_effort")),
    }


def _outcome_draws(cfg: SimConfig, uniforms: _Uniforms, arrived_day: np.ndarray) -> dict[str, np.ndarray]:
    """What befalls each case along the way, by CaseTable column: flags drawn now, and
    uniforms the model compares with a probability known only later."""
    stages = cfg.stages
    warrant = stages.warrant
    trained_investigator = uniforms("investigator_trained") < trained_share_at(cfg, "investigators", arrived_day)
    defective_probability = np.where(trained_investigator, warrant.defective_probability_trained,
                                     warrant.defective_probability_untrained)
    return {
        "duplicate": uniforms("duplicate") < stages.intake.duplicate_probability,
        "untraceable": uniforms("untraceable") < stages.research.untraceable_probability,
        "defective": uniforms("warrant_defect", warrant.max_applications) < defective_probability[:, None],
        "refusal_u": uniforms("warrant_refusal", warrant.max_applications),
        "outcome_u": uniforms("execution_outcome"),
        "review_u": uniforms("review_detection"),
    }


def _handoff_delays(cfg: SimConfig, uniforms: _Uniforms) -> dict[str, np.ndarray]:
    """The delays (days) if the case is handed to another force, the triage hub or the
    surge unit, by CaseTable column: one draw, how much there is to hand over."""
    collaboration, handoff_u = cfg.collaboration, uniforms("handoff")
    return {
        "pooling_handoff_days": collaboration.pooling.handoff_days.quantile(handoff_u),
        "hub_handoff_days": collaboration.triage_hub.handoff_days.quantile(handoff_u),
        "surge_handoff_days": collaboration.surge.handoff_days.quantile(handoff_u),
    }


def draw_cases(cfg: SimConfig, streams: Streams) -> CaseTable:
    """Every case of one replication: the initial backlog first, then the referrals.

    Each attribute comes from its own named stream, and a stream's numbers depend on its name
    alone, so the steps may draw in any order without changing a case."""
    referrals = _referral_suspects(cfg, streams)
    backlog = _backlog_rows(cfg, streams)
    n_backlog = len(backlog.age_days)
    n_referred = len(referrals.arrival_day)  # suspects: a bulk package brings several
    n_cases = n_backlog + n_referred
    uniforms = _Uniforms(streams, n_cases)

    arrival_day = np.concatenate([-backlog.age_days, referrals.arrival_day])
    source = np.concatenate([np.full(n_backlog, NCA), referrals.source]).astype(np.int8)
    risk_mix = np.cumsum(cfg.demand.risk_mix.as_tuple())
    true_risk = np.minimum(np.searchsorted(risk_mix, uniforms("true_risk"), side="right"), 3).astype(np.int8)
    child = uniforms("child") < cfg.demand.child_in_household_probability
    # Who does the work is drawn against the trained share when the case arrives (it rises
    # over a training programme; the backlog arrives at day 0); the draw stays the case's own.
    arrived_day = np.maximum(arrival_day, 0.0)
    grading = _grading(cfg, uniforms, source, arrived_day, true_risk)
    if n_backlog:
        true_risk[:n_backlog], grading.assigned_grade[:n_backlog], child[:n_backlog] = _backlog_as_given(
            cfg, backlog, uniforms, true_risk, child, grading)

    return CaseTable(
        arrival_day=arrival_day,
        package_id=np.concatenate([-1 - np.arange(n_backlog), referrals.package_id]),
        backlog=np.arange(n_cases) < n_backlog,
        start_stage=np.concatenate([backlog.start_stage, np.full(n_referred, int(Stage.INTAKE))]).astype(np.int8),
        source=source,
        true_risk=true_risk,
        assigned_grade=grading.assigned_grade,
        trained_assessor=grading.trained_assessor,
        # Before grading, a package showing immediate risk is worked round the clock if VH is.
        urgent=(true_risk == VH) & ("VH" in cfg.stages.round_the_clock_grades),
        nonspecialist=grading.nonspecialist,
        child=child,
        **_efforts_and_delays(cfg, uniforms, true_risk, grading, arrived_day),
        **_outcome_draws(cfg, uniforms, arrived_day),
        **_handoff_delays(cfg, uniforms),
    )


def _true_risk_given_grade(cfg: SimConfig) -> np.ndarray:
    """P(true risk | assigned grade) by Bayes, from the risk mix and the grading error rates
    averaged over the trained share (rows: assigned grade). A grade nobody is ever given
    maps to itself."""
    share = cfg.training.assessors_trained_share
    conf = share * grading_matrix(cfg, True) + (1 - share) * grading_matrix(cfg, False)
    joint = np.asarray(cfg.demand.risk_mix.as_tuple())[:, None] * conf  # [true, assigned]
    col = joint.sum(axis=0)
    post = np.where(col[None, :] > 0, joint / np.where(col > 0, col, 1)[None, :], np.eye(4))
    return post.T
