"""How a force's work moves month by month, from its milestones: enforcements in each month,
cases open at each month's end by grade, and the share of a cohort still waiting for
enforcement at each day. A backtest sets these, computed alike from the log and from each
simulated replication, side by side."""

from __future__ import annotations

import numpy as np

from ..domain import DAYS_PER_MONTH, GRADES
from ..results.metrics import km_share_waiting_past
from .milestones import Milestones
from .summaries import Step, step_durations

OPEN_GROUPS = ("ungraded",) + GRADES
"""Open cases are counted by the grade known at the time, ungraded first."""

TO_ENFORCEMENT = Step("referral_to_enforced", "referral", "enforced", 0.0, enforced_only=True)


def month_ends(months: int) -> np.ndarray:
    """The last day of each of ``months`` months (days from day 0, months of DAYS_PER_MONTH)."""
    return (np.arange(months) + 1) * DAYS_PER_MONTH


def monthly_enforcements(m: Milestones, months: int) -> np.ndarray:
    """Cases enforced (arrest or voluntary interview) in each month from day 0."""
    day = m.days["enforced"][m.enforced]
    month = np.floor(day[day >= 0] / DAYS_PER_MONTH).astype(int)
    return np.bincount(month[month < months], minlength=months).astype(float)


def closing_day(m: Milestones) -> np.ndarray:
    """The day each case closed: enforced, its enforcement; closed otherwise, its close (or its
    latest recorded day, if the close is not dated); open, infinity."""
    closed_day = np.where(np.isnan(m.days["closed"]), m.last_recorded_day(), m.days["closed"])
    by_enforcement = m.enforced | (m.closed & ~np.isnan(m.days["enforced"]))
    return np.where(by_enforcement, m.days["enforced"], np.where(m.closed, closed_day, np.inf))


def open_by_grade(m: Milestones, days: np.ndarray) -> np.ndarray:
    """Cases open at each of ``days`` (rows) by the grade known then (columns: OPEN_GROUPS):
    referred by that day and not closed. A grade counts from its grading day; a case with a
    grade but no grading day (a starting backlog's) counts as graded throughout."""
    end = closing_day(m)
    graded_from = np.where(np.isnan(m.days["graded"]), np.where(m.grade >= 0, -np.inf, np.inf), m.days["graded"])
    out = np.zeros((len(days), len(OPEN_GROUPS)))
    for k, day in enumerate(days):
        open_now = (m.days["referral"] <= day) & (end > day)
        graded = open_now & (graded_from <= day) & (m.grade >= 0)
        out[k, 0] = np.sum(open_now & ~graded)
        out[k, 1:] = np.bincount(m.grade[graded], minlength=len(GRADES))[: len(GRADES)]
    return out


def still_waiting(m: Milestones, grade: int, days: np.ndarray) -> np.ndarray:
    """The Kaplan-Meier share of the cases of ``grade`` referred from day 0 still waiting for
    enforcement at each of ``days`` (since referral); NaN past the longest follow-up, even
    where every case has been enforced (a backtest compares only days a case was seen), or
    with no such case."""
    durations, ended = step_durations(m, TO_ENFORCEMENT, (m.grade == grade) & (m.days["referral"] >= 0))
    if not len(durations):
        return np.full(len(days), np.nan)
    return np.where(days <= durations.max(), km_share_waiting_past(durations, ended, days), np.nan)
