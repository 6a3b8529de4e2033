"""A case log's open cases at its extract date, as the initial backlog the model starts from.

Each case still open (no outcome) is placed at the stage its latest date shows: not yet
graded, it waits for research (the work done on it so far is not recorded, so it is counted
as not started); graded, it waits for an investigator; allocated, it is being planned; a
warrant applied for and not decided, at the warrant; a warrant granted and not executed,
waiting for its execution; a warrant executed with no outcome yet, in its post-arrest work.

A log closes a case at its enforcement, but the investigator goes on working it (interviews,
devices, the file) and it holds a caseload slot meanwhile. So a case enforced within
``post_arrest_days`` of the extract date is in the backlog too, in its post-arrest work. By
Little's law, taking those enforced within the mean time post-arrest work takes gives, on
average, as many as are in it.

Its age is the days since its referral. A case the model cannot restart is left out and
counted: a refused warrant the log has not closed (the model closes a case at refusal) and a
case past grading with no grade recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config.backlog import BACKLOG_CSV_COLUMNS


@dataclass(frozen=True)
class OpenCases:
    """The backlog (``table``: the initial-backlog CSV's columns, one row a case) and the open
    cases left out of it, by reason."""

    table: pd.DataFrame
    left_out: dict[str, int]


def open_cases(cases: pd.DataFrame, as_of: pd.Timestamp, post_arrest_days: float = 0.0) -> OpenCases:
    """The open cases of a case log (``CaseLog.cases``) at ``as_of``, and those enforced
    within ``post_arrest_days`` before it, as a backlog."""
    as_of = pd.Timestamp(as_of)
    still_open = cases["outcome"].isna().to_numpy()
    has = {column: cases[column].notna().to_numpy() for column in (
        "allocated_date", "warrant_applied_date", "warrant_decision_date", "enforcement_date")}
    graded = cases["grade"].notna().to_numpy()
    decision = cases["warrant_decision"].astype(object).to_numpy()
    executed = has["enforcement_date"]
    refused = decision == "refused"
    granted = (decision == "granted") | (has["warrant_decision_date"] & ~refused)
    applied = has["warrant_applied_date"] | granted
    allocated = has["allocated_date"] | applied
    stage = np.select([executed, granted, applied, allocated, graded],
                      ["post_arrest", "execution", "warrant", "planning", "allocation"], "research")
    since_enforcement = ((as_of - cases["enforcement_date"]) / pd.Timedelta(days=1)).to_numpy()
    recently_enforced = (cases["outcome"].isin(["arrest", "voluntary_interview"]).to_numpy()
                         & (since_enforcement < post_arrest_days))
    # a case the log shows past grading but with no grade cannot be queued by grade
    ungraded_later = ~graded & allocated
    wanted = (still_open & ~(refused & ~executed)) | recently_enforced
    kept = wanted & ~ungraded_later
    age_days = ((as_of - cases["referral_date"]) / pd.Timedelta(days=1)).to_numpy()
    child = cases["child_in_household"].astype(object).to_numpy()
    table = pd.DataFrame({
        "age_days": age_days[kept],
        "stage": stage[kept],
        "assigned_grade": cases["grade"].astype(object).where(cases["grade"].notna(), "").to_numpy()[kept],
        "true_risk": "",
        "child_in_household": np.array(["" if v is None or v is pd.NA else str(bool(v)).lower() for v in child])[kept],
    }, columns=list(BACKLOG_CSV_COLUMNS))
    table = table.sort_values("age_days", ascending=False, kind="stable").reset_index(drop=True)
    left_out = {"warrant refused, case not closed": int(np.sum(still_open & refused & ~executed)),
                "past grading with no grade recorded": int(np.sum(wanted & ungraded_later))}
    return OpenCases(table, {reason: n for reason, n in left_out.items() if n})
