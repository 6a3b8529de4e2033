"""A simulated run written as a force's case log: what a case-management system would have
recorded of one replication's cases, in the file form ``casesim-calibrate`` reads.

It lets casesim check its own calibration (a log made by the model at known parameters must
give them back within their intervals) and lets a planner see a run as the records it would
leave. Dates are the model's days counted from ``start``, cut to whole days; a case still
open at the horizon has the dates it reached and a blank outcome, as an extract taken then.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..domain import GRADES, SOURCES, Outcome
from ..model.replication import ReplicationOutput
from .milestones import LOG_DATE_COLUMNS, LOG_OUTCOME_OF_CODE, milestones_from_run


def case_log_from_run(output: ReplicationOutput, horizon_days: float, start: str | pd.Timestamp,
                      with_reviews: bool = True) -> pd.DataFrame:
    """The case log of one replication (``output``, run to ``horizon_days``) whose day 0 is
    the date ``start``: one row a case, the columns of docs/caselog.md as text (ISO dates,
    blanks for what is not recorded). ``regraded_to`` holds a review's grade where a review
    looked at the case (``with_reviews``)."""
    cases = output.cases
    m = milestones_from_run(cases, horizon_days)
    start = pd.Timestamp(start).normalize()
    n = m.n
    frame = {"case_id": [f"C{k + 1:06d}" for k in range(n)]}
    for name, column in LOG_DATE_COLUMNS.items():
        dates = start + pd.to_timedelta(m.days[name], unit="D")
        frame[column] = pd.Series(dates).dt.strftime("%Y-%m-%d").fillna("").to_numpy()
    frame["source"] = np.asarray(SOURCES)[cases["source"]]
    grades = np.asarray(GRADES + ("",))
    frame["grade"] = grades[m.grade]
    outcome = np.asarray(cases["outcome"])
    decided = ~np.isnan(m.days["decided"])
    frame["warrant_decision"] = np.where(decided, np.where(outcome == Outcome.WARRANT_REFUSED, "refused", "granted"), "")
    frame["outcome"] = LOG_OUTCOME_OF_CODE[outcome]
    reviewed = with_reviews & ~np.isnan(cases["reviewed_day"]) & (m.grade >= 0)
    frame["regraded_to"] = np.where(reviewed, grades[np.asarray(cases["final_grade"])], "")
    frame["child_in_household"] = np.where(cases["child"], "true", "false")
    return pd.DataFrame(frame)
