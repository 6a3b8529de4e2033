"""The statistics of a period's cases that a calibrated model must reproduce: how long each
step takes, by grade where the grade matters, how many cases are enforced each half-year, and
how many wait at the end.

Each step's wait is summarised by Kaplan-Meier, so a case still waiting at the end (or gone
another way) counts as censored, never dropped: its restricted mean wait up to a horizon tau
(Royston & Parmar 2013), defined however many still wait, and a single number per wait, so
that the fit compares few, informative statistics.
A case whose step's end date is missing although a later step is recorded is left out of that
step (it ended, on an unknown day). The same function summarises a force's log and a
simulated run (both as :class:`~sim.calibration.milestones.Milestones`), so the two differ
only through their cases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..domain import DAYS_PER_MONTH, GRADES
from ..results.metrics import km_restricted_mean
from .milestones import MILESTONES, Milestones

DAYS_PER_HALF_YEAR = 6 * DAYS_PER_MONTH


@dataclass(frozen=True)
class Step:
    """A wait from milestone ``start`` to milestone ``end``, summarised up to ``tau_days``
    (each grade on its own if ``by_grade``). ``only_granted``: the cohort is cases whose
    warrant was granted. ``enforced_only``: only an arrest or voluntary interview ends the
    wait (a suspect not found, or a close, censors it)."""

    name: str
    start: str
    end: str
    tau_days: float
    by_grade: bool = False
    only_granted: bool = False
    enforced_only: bool = False


STEPS = (
    Step("referral_to_graded", "referral", "graded", 60.0),
    Step("graded_to_allocated", "graded", "allocated", 365.0, by_grade=True),
    Step("allocated_to_applied", "allocated", "applied", 180.0),
    Step("applied_to_decided", "applied", "decided", 60.0),
    Step("granted_to_enforced", "decided", "enforced", 90.0, only_granted=True),
    Step("referral_to_enforced", "referral", "enforced", 548.0, by_grade=True, enforced_only=True),
)
"""The waits the fit compares (tau: about the wait's target scale, at most half the period)."""

MIN_CASES = 20
"""Fewer cases than this in a step's cohort and its statistics are not computed: too few to
say anything (a grade nobody is given, a step the log never records)."""


def step_durations(m: Milestones, step: Step, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each case's wait (days) through ``step`` among ``rows`` (boolean), and whether it ended
    (else censored: at the case's close, or at the end of observation)."""
    start, end = m.days[step.start], m.days[step.end]
    later = [m.days[name] for name in MILESTONES[MILESTONES.index(step.end) + 1:] if name != "closed"]
    reached_later = np.any([~np.isnan(day) for day in later], axis=0) if later else np.zeros(m.n, bool)
    ended = ~np.isnan(end)
    if step.enforced_only:
        ended &= m.enforced
    cohort = rows & ~np.isnan(start) & (ended | ~reached_later | step.enforced_only)
    if step.only_granted:
        cohort &= m.granted
    closed_day = np.where(np.isnan(m.days["closed"]), m.last_recorded_day(), m.days["closed"])
    # Gone without this step's end: censored where it went (enforced by a suspect not found,
    # closed), else at the end of observation.
    stop = np.where(~np.isnan(end), end, np.where(m.closed, closed_day, m.end_day))
    durations = np.where(ended, end, np.minimum(stop, m.end_day)) - start
    return np.maximum(durations[cohort], 0.0), ended[cohort]


def summarise_milestones(m: Milestones, period_days: float) -> dict[str, float]:
    """The statistics, by name: for each step (and grade) its restricted mean wait (days) up
    to tau; enforcements in each whole half-year of the period; cases open at its end waiting
    for grading, for an investigator by grade, and with an investigator.
    NaN where a cohort is under ``MIN_CASES``. Only cases referred from day 0 count: a log
    holds the referrals of its period alone (cases referred before it, a simulated warm-up's
    or a starting backlog's, are not in it)."""
    out: dict[str, float] = {}
    in_period = m.days["referral"] >= 0
    for step in STEPS:
        tau = min(step.tau_days, period_days / 2)
        groups = [(g, m.grade == k) for k, g in enumerate(GRADES)] if step.by_grade else [("", np.ones(m.n, bool))]
        for grade, rows in groups:
            durations, ended = step_durations(m, step, in_period & rows)
            name = f"{step.name}{'_' + grade if grade else ''}"
            enough = len(durations) >= MIN_CASES
            out[f"{name}_mean_days_to_{tau:g}"] = km_restricted_mean(durations, ended, tau, period_days) if enough else math.nan
    enforced_day = np.where(m.enforced & in_period, m.days["enforced"], np.nan)
    for half in range(int(period_days // DAYS_PER_HALF_YEAR)):
        low = half * DAYS_PER_HALF_YEAR
        out[f"enforced_in_half_year_{half + 1}"] = float(np.sum((enforced_day >= low) & (enforced_day < low + DAYS_PER_HALF_YEAR)))
    open_at_end = in_period & ~m.enforced & ~m.closed & np.isnan(m.days["enforced"])
    allocated = ~np.isnan(m.days["allocated"])
    out["open_ungraded"] = float(np.sum(open_at_end & (m.grade < 0)))
    for k, grade in enumerate(GRADES):
        out[f"open_waiting_for_investigator_{grade}"] = float(np.sum(open_at_end & (m.grade == k) & ~allocated))
    out["open_with_investigator"] = float(np.sum(open_at_end & allocated))
    return out


def steps_observed(m: Milestones, min_cases: int = MIN_CASES) -> tuple[str, ...]:
    """The steps at least ``min_cases`` of the period's cases are seen to complete: the waits a
    log can tell a simulation about."""
    in_period = m.days["referral"] >= 0
    return tuple(step.name for step in STEPS if step_durations(m, step, in_period)[1].sum() >= min_cases)
