"""How each staff pool's headcount and pace change over the run: recruits arriving after a
lead time, learning, leaving; staff away on a training programme's courses; trained shares
rising. Deterministic schedules (expected values, rounded to whole people), so scenarios
keep their common random numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..config.schema import TRAINED_POOLS, SimConfig, course_away_fraction

DAYS_PER_YEAR = 365.0
# Attrition is stepped monthly: a whole person leaves, not a fraction a day.
_ATTRITION_STEP_DAYS = 365.0 / 12.0


@dataclass(frozen=True)
class Step:
    """From ``day`` on, the pool has ``headcount`` staff, and an hour of effort takes
    ``pace`` times the contracted hours it would take at full strength and experience."""

    day: float
    headcount: int
    pace: float


def _recruits(cfg: SimConfig, pool: str) -> int:
    r = cfg.staffing.recruitment
    return {"investigators": r.investigators, "research": r.researchers}.get(pool, 0)


def base_headcount(cfg: SimConfig, pool: str) -> int:
    s = cfg.staffing
    return {"intake": s.intake_researchers, "research": s.researchers, "assessment": s.assessors,
            "investigators": s.investigators}[pool]


def max_headcount(cfg: SimConfig, pool: str) -> int:
    return base_headcount(cfg, pool) + _recruits(cfg, pool)


def schedule(cfg: SimConfig, pool: str) -> list[Step]:
    """The pool's steps over the run, first at day 0; only changes are listed."""
    r, p = cfg.staffing.recruitment, cfg.training.programme
    hired = _recruits(cfg, pool)
    arrive = r.start_day + r.lead_time_days
    role = next((k for k, v in TRAINED_POOLS.items() if v == pool), None)
    away = course_away_fraction(cfg, role) if role else 0.0
    times = {0.0, arrive, arrive + r.learning_days}
    if away:
        times |= {p.start_day, p.start_day + p.duration_days}
    if hired and r.attrition_per_year > 0:
        times |= set(np.arange(arrive, cfg.run.horizon_days, _ATTRITION_STEP_DAYS).tolist())
    steps: list[Step] = []
    for t in sorted(x for x in times if 0 <= x < cfg.run.horizon_days):
        staying = hired * math.exp(-r.attrition_per_year * (t - arrive) / DAYS_PER_YEAR) if t >= arrive else 0.0
        recruits = int(math.floor(staying + 0.5))
        headcount = base_headcount(cfg, pool) + recruits
        learners = recruits if t < arrive + r.learning_days else 0
        productivity = (headcount - learners * (1 - r.learning_productivity)) / headcount
        on_course = away if p.start_day <= t < p.start_day + p.duration_days else 0.0
        step = Step(t, headcount, 1.0 / (productivity * (1.0 - on_course)))
        if not steps or (step.headcount, step.pace) != (steps[-1].headcount, steps[-1].pace):
            steps.append(step)
    return steps


def trained_share_at(cfg: SimConfig, role: str, t_days: np.ndarray) -> np.ndarray:
    """Trained share of ``role`` at each time: today's, rising linearly over the training
    programme to its target."""
    today = getattr(cfg.training, f"{role}_trained_share")
    p = cfg.training.programme
    target = getattr(p, f"{role}_trained_share")
    t = np.asarray(t_days, dtype=float)
    if target is None or p.duration_days <= 0:
        return np.full(t.shape, today)
    progress = np.clip((t - p.start_day) / p.duration_days, 0.0, 1.0)
    return today + (target - today) * progress


def pooled_schedule(schedules: list[list[Step]]) -> list[Step]:
    """The steps of several pools working as one: headcounts add; the pace is the one at which
    the whole pool does the same work (headcount over the sum of headcount / pace)."""
    times = sorted({s.day for sch in schedules for s in sch})
    steps: list[Step] = []
    for t in times:
        now = [next(s for s in reversed(sch) if s.day <= t) for sch in schedules]
        headcount = sum(s.headcount for s in now)
        step = Step(t, headcount, headcount / sum(s.headcount / s.pace for s in now))
        if not steps or (step.headcount, step.pace) != (steps[-1].headcount, steps[-1].pace):
            steps.append(step)
    return steps
