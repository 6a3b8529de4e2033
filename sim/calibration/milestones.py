"""Each case's milestones as whole days from a period's start: the one form in which a force's
case log and a simulated run are summarised alike.

A case log records dates; the model records times in days. Both become the day each case
reached each milestone a log records (referral, grading, allocation, the warrant's
application and decision, enforcement, or a close without enforcement), counted in whole
days from the same start, with NaN where the milestone is not (yet) reached or not recorded.
The summaries the simulation fit compares (:mod:`sim.calibration.summaries`) are computed
from this form only, so an observed and a simulated statistic can differ only through the
cases, never through how they were measured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..domain import GRADES, Outcome, Stage

MILESTONES = ("referral", "graded", "allocated", "applied", "decided", "enforced", "closed")
"""The milestones, in the order a case reaches them (``closed``: ended without enforcement)."""

LOG_DATE_COLUMNS = {
    "referral": "referral_date", "graded": "graded_date", "allocated": "allocated_date",
    "applied": "warrant_applied_date", "decided": "warrant_decision_date", "enforced": "enforcement_date",
    "closed": "closed_date"}
"""The case log's date column of each milestone (docs/caselog.md)."""

ENFORCED_OUTCOMES = ("arrest", "voluntary_interview")
"""The log's outcomes that end in the suspect dealt with: arrested, or interviewed voluntarily."""

# The model's outcome as a case log names it: a suspect not found at the warrant's execution
# and one who could not be traced at research are both 'untraceable' (the enforcement date
# tells them apart); a refused or lapsed warrant ends the case with no further action.
MODEL_OUTCOME_IN_LOG = {
    Outcome.OPEN: "", Outcome.ARREST: "arrest", Outcome.VOLUNTARY_INTERVIEW: "voluntary_interview",
    Outcome.NO_TRACE: "untraceable", Outcome.DUPLICATE: "duplicate", Outcome.UNTRACEABLE: "untraceable",
    Outcome.WARRANT_REFUSED: "no_further_action", Outcome.WARRANT_LAPSED: "no_further_action"}

LOG_OUTCOME_OF_CODE = np.array([MODEL_OUTCOME_IN_LOG[outcome] for outcome in Outcome])
"""The same, indexed by the model's outcome code (a run's ``outcome`` column)."""


@dataclass(frozen=True)
class Milestones:
    """Cases' milestone days (whole days from the period's start; NaN: not reached or not
    recorded), their assigned grades (codes into ``GRADES``; -1 ungraded) and how they ended
    (``enforced``: arrest or voluntary interview; ``closed``: any other end), observed up to
    ``end_day`` (the log's extract date, or the run's horizon)."""

    days: dict[str, np.ndarray]
    grade: np.ndarray
    granted: np.ndarray
    enforced: np.ndarray
    closed: np.ndarray
    end_day: float

    @property
    def n(self) -> int:
        return len(self.grade)

    def last_recorded_day(self) -> np.ndarray:
        """Each case's latest recorded milestone day (its referral day at least)."""
        return np.nanmax(np.column_stack([self.days[name] for name in MILESTONES]), axis=1)


def milestones_from_log(cases: pd.DataFrame, start: pd.Timestamp, as_of: pd.Timestamp) -> Milestones:
    """The milestones of a case log's cases (``CaseLog.cases``), in days from ``start``,
    observed up to ``as_of``."""
    start = pd.Timestamp(start).normalize()
    days = {name: ((cases[column] - start) / pd.Timedelta(days=1)).to_numpy(dtype=float)
            for name, column in LOG_DATE_COLUMNS.items()}
    grade = cases["grade"].map({g: k for k, g in enumerate(GRADES)}).astype(float).fillna(-1).to_numpy(np.int8)
    outcome = cases["outcome"].astype(object).fillna("").to_numpy(dtype=str)
    enforced = np.isin(outcome, ENFORCED_OUTCOMES)
    return Milestones(days, grade, granted=(cases["warrant_decision"].astype(object) == "granted").to_numpy(),
                      enforced=enforced, closed=(outcome != "") & ~enforced,
                      end_day=float((pd.Timestamp(as_of).normalize() - start) / pd.Timedelta(days=1)))


def milestones_from_run(cases: dict[str, np.ndarray], horizon_days: float, origin_day: float = 0.0) -> Milestones:
    """The milestones a case log would record of one replication's cases
    (``ReplicationOutput.cases``), in whole days from the run's day 0, observed up to the
    horizon: a case is graded when its assessment ends, allocated when an investigator takes
    it, applied for when the first application's work starts, decided when the court's last
    decision on it is made, enforced when the warrant is executed and closed when it leaves
    any other way."""
    outcome = np.asarray(cases["outcome"])
    in_log = LOG_OUTCOME_OF_CODE[outcome]
    enforced = np.isin(in_log, ENFORCED_OUTCOMES)
    closed = (in_log != "") & ~enforced
    decided = cases["warrant_end_day"]
    granted = ~np.isnan(cases["execution_queue_day"]) | (outcome == Outcome.WARRANT_LAPSED)
    executed = ~np.isnan(cases["execution_start_day"])
    graded = ~np.isnan(cases["assessment_end_day"])
    days = {
        "referral": cases["arrival_day"],
        "graded": cases["assessment_end_day"],
        "allocated": cases["allocation_start_day"],
        "applied": cases["warrant_start_day"],
        "decided": decided,
        # a suspect not found is enforcement's date too: the warrant was executed
        "enforced": np.where(executed, cases["execution_start_day"], np.nan),
        "closed": np.where(closed & ~executed, cases["exit_day"], np.nan),
    }
    whole_days = {name: np.floor(np.asarray(day, dtype=float)) - origin_day for name, day in days.items()}
    grade = np.where(graded | (np.asarray(cases["start_stage"]) > Stage.ASSESSMENT), cases["assigned_grade"], -1).astype(np.int8)
    # observed to the last whole day of the run, as a log extracted at the end of that day is
    return Milestones(whole_days, grade, granted & ~np.isnan(decided), enforced, closed,
                      float(math.ceil(horizon_days) - 1 - origin_day))
