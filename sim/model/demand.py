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
from ..core.distributions import quantile
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


def referral_times(cfg: SimConfig, streams: Streams) -> np.ndarray:
    """Arrival days of referrals in [0, horizon): a non-homogeneous Poisson process, made by
    mapping a unit-rate process through the inverse cumulative intensity."""
    d = cfg.demand
    rate = d.referrals_per_month / DAYS_PER_MONTH
    if rate == 0:
        return np.empty(0)
    total = cfg.expected_referrals()
    gen = streams["arrivals"]
    gaps = gen.standard_exponential(int(total + 10 * math.sqrt(total) + 20))
    points = np.cumsum(gaps)
    while points[-1] < total:  # rare: draw on from the same stream
        points = np.concatenate([points, points[-1] + np.cumsum(gen.standard_exponential(len(points)))])
    points = points[points < total]
    return inverse_cumulative_intensity(points, rate, d.growth_per_year)


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


def _backlog_rows(cfg: SimConfig, streams: Streams) -> dict[str, np.ndarray]:
    """Ages, stages, grades and child flags of the initial backlog (counts or CSV)."""
    b = cfg.demand.initial_backlog
    if b.cases:
        age = np.array([c.age_days for c in b.cases], dtype=float)
        stage = np.array([int(Stage[c.stage.upper()]) for c in b.cases])
        grade = np.array([-1 if c.assigned_grade is None else GRADES.index(c.assigned_grade) for c in b.cases])
        true = np.array([-1 if c.true_risk is None else GRADES.index(c.true_risk) for c in b.cases])
        child = np.array([-1 if c.child_in_household is None else int(c.child_in_household) for c in b.cases])
    else:
        counts = [int(v) for v in b.counts.as_tuple()]
        grade = np.repeat(np.arange(4), counts)
        n = len(grade)
        age = b.max_age_days * streams.uniforms("backlog_age", n)
        stage = np.full(n, int(Stage[b.stage.upper()]))
        grade = np.where(stage >= Stage.ALLOCATION, grade, -1)
        true = np.full(n, -1)
        child = np.full(n, -1)
    # Oldest first: they all join their queue at day 0, where order of arrival breaks ties,
    # so the oldest case must arrive first to be served first within its grade.
    order = np.argsort(-age, kind="stable")
    rows = {"age": age, "stage": stage, "grade": grade, "true": true, "child": child}
    return {k: np.asarray(v)[order] for k, v in rows.items()}


def draw_cases(cfg: SimConfig, streams: Streams) -> CaseTable:
    """Every case of one replication: the initial backlog first, then the referrals."""
    d, t, s = cfg.demand, cfg.training, cfg.stages
    # Referrals, each bringing one suspect or (a bulk package) several linked ones.
    times = referral_times(cfg, streams)
    n_ref = len(times)
    bulk = streams.uniforms("bulk", n_ref) < d.bulk_package_probability
    extra = streams["bulk_size"].poisson(d.bulk_extra_suspects_mean, n_ref) if n_ref else np.zeros(0, int)
    per_referral = 1 + np.where(bulk, extra, 0)
    ref_source = np.where(streams.uniforms("source", n_ref) < d.direct_report_share, DIRECT, NCA)
    ref_arrival = np.repeat(times, per_referral)
    ref_package = np.repeat(np.arange(n_ref), per_referral)
    ref_src = np.repeat(ref_source, per_referral)

    bl = _backlog_rows(cfg, streams)
    n_b = len(bl["age"])
    n = n_b + len(ref_arrival)

    def u(name: str, cols: int | None = None) -> np.ndarray:
        return streams.uniforms(name, n, cols)

    arrival = np.concatenate([-bl["age"], ref_arrival])
    package = np.concatenate([-1 - np.arange(n_b), ref_package])
    backlog = np.arange(n) < n_b
    start_stage = np.concatenate([bl["stage"], np.full(len(ref_arrival), int(Stage.INTAKE))]).astype(np.int8)
    source = np.concatenate([np.full(n_b, NCA), ref_src]).astype(np.int8)

    mix = np.cumsum(d.risk_mix.as_tuple())
    true_risk = np.minimum(np.searchsorted(mix, u("true_risk"), side="right"), 3).astype(np.int8)
    child = u("child") < d.child_in_household_probability

    # Who does the work is drawn against the trained share when the case arrives (it rises
    # over a training programme); the draw itself stays the case's own.
    at_arrival = np.maximum(arrival, 0.0)
    hub = cfg.collaboration.triage_hub
    if hub.enabled:  # the regional hub grades every referral
        nonspecialist = np.zeros(n, dtype=bool)
        trained_assessor = u("assessor_trained") < hub.trained_share
    else:
        nonspecialist = (source == DIRECT) & (u("nonspecialist") < t.direct_to_nonspecialist_share)
        trained_assessor = ~nonspecialist & (u("assessor_trained") < trained_share_at(cfg, "assessors", at_arrival))
    u_err, u_dest = u("grading_error"), u("grading_error_destination")
    assigned = assign_grades(cfg, true_risk, trained_assessor, u_err, u_dest)

    if n_b:
        # A backlog case keeps what the input says of it; what it leaves unsaid is drawn.
        given_true, given_grade = bl["true"] >= 0, bl["grade"] >= 0
        post = _true_risk_given_grade(cfg)
        u_post = u("backlog_true_risk")[:n_b]
        drawn_true = np.array([np.searchsorted(np.cumsum(post[max(g, 0)]), x, side="right") for g, x in zip(bl["grade"], u_post)])
        tr = np.where(given_true, bl["true"], np.where(given_grade, np.minimum(drawn_true, 3), true_risk[:n_b]))
        true_risk[:n_b] = tr
        gr = np.where(given_grade, bl["grade"], assign_grades(cfg, tr, trained_assessor[:n_b], u_err[:n_b], u_dest[:n_b]))
        assigned[:n_b] = gr
        child[:n_b] = np.where(bl["child"] >= 0, bl["child"] == 1, child[:n_b])

    researcher_trained = u("researcher_trained") < trained_share_at(cfg, "researchers", at_arrival)
    research_mult = np.where(researcher_trained, 1.0, t.untrained_research_effort_multiplier)
    comms_u = u("comms_data")
    urgent_comms = np.isin(true_risk, [GRADES.index(g) for g in s.research.comms_data_urgent_risks])
    # Before grading, a package showing immediate risk is worked round the clock if VH is.
    urgent = (true_risk == VH) & ("VH" in s.round_the_clock_grades)
    comms_days = np.where(urgent_comms, quantile(s.research.comms_data_urgent_days, comms_u),
                          quantile(s.research.comms_data_days, comms_u))
    a_u = u("assessment_effort")
    assess_hours = np.where(trained_assessor, quantile(s.assessment.effort_hours_trained, a_u),
                            quantile(s.assessment.effort_hours_untrained, a_u))
    sg_u = u("safeguarding_delay")
    urgent_sg = np.isin(assigned, [GRADES.index(g) for g in s.safeguarding.urgent_grades])
    sg_delay = np.where(urgent_sg, quantile(s.safeguarding.delay_days_urgent, sg_u),
                        quantile(s.safeguarding.delay_days_routine, sg_u))
    inv_trained = u("investigator_trained") < trained_share_at(cfg, "investigators", at_arrival)
    w = s.warrant
    p_defect = np.where(inv_trained, w.defective_probability_trained, w.defective_probability_untrained)
    defective = u("warrant_defect", w.max_applications) < p_defect[:, None]
    pl_u = u("planning_lag")
    ex_u = u("execution_lag")
    urgent_ex = np.isin(assigned, [GRADES.index(g) for g in s.execution.urgent_grades])
    ex_lag = np.where(urgent_ex, quantile(s.execution.urgent_lag_days, ex_u), quantile(s.execution.lag_days, ex_u))
    collab, handoff_u = cfg.collaboration, u("handoff")

    return CaseTable(
        arrival_day=arrival,
        package_id=package,
        backlog=backlog,
        start_stage=start_stage,
        source=source,
        true_risk=true_risk,
        assigned_grade=assigned,
        trained_assessor=trained_assessor,
        urgent=urgent,
        nonspecialist=nonspecialist,
        child=child,
        intake_hours=quantile(s.intake.effort_hours, u("intake_effort")),
        duplicate=u("duplicate") < s.intake.duplicate_probability,
        research_hours=quantile(s.research.effort_hours, u("research_effort")) * research_mult,
        comms_days=comms_days,
        untraceable=u("untraceable") < s.research.untraceable_probability,
        assessment_hours=assess_hours,
        safeguarding_delay_days=sg_delay,
        planning_hours=quantile(s.planning.effort_hours, u("planning_effort")),
        planning_lag_days=np.where(np.isin(assigned, [GRADES.index(g) for g in s.planning.urgent_grades]),
                                   quantile(s.planning.urgent_lag_days, pl_u), quantile(s.planning.lag_days, pl_u)),
        warrant_hours=quantile(w.effort_hours, u("warrant_effort")),
        rework_hours=quantile(w.rework_effort_hours, u("warrant_rework")),
        defective=defective,
        refusal_u=u("warrant_refusal", w.max_applications),
        execution_lag_days=ex_lag,
        outcome_u=u("execution_outcome"),
        post_arrest_hours=quantile(s.post_arrest.effort_hours, u("post_arrest_effort")),
        review_u=u("review_detection"),
        pooling_handoff_days=quantile(collab.pooling.handoff_days, handoff_u),
        hub_handoff_days=quantile(collab.triage_hub.handoff_days, handoff_u),
        surge_handoff_days=quantile(collab.surge.handoff_days, handoff_u),
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
