"""A case log's open cases at its extract date, as the initial backlog the model starts from.

Each case still open (no outcome) is placed at the stage its latest date shows: not yet
graded, it waits for research (the work done on it so far is not recorded, so it is counted
as not started); graded, it waits for an investigator; allocated, it is being planned; a
warrant applied for and not decided, at the warrant; a warrant granted and not executed,
waiting for its execution. Its age is the days since its referral. An open case the model
cannot restart is left out and counted: a refused warrant the log has not closed (the model
closes a case at refusal) and a warrant executed without an outcome recorded (the arrest is
made; what remains is post-arrest work).
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


def open_cases(cases: pd.DataFrame, as_of: pd.Timestamp) -> OpenCases:
    """The open cases of a case log (``CaseLog.cases``) at ``as_of``, as a backlog."""
    open_rows = cases[cases["outcome"].isna()]
    has = {column: open_rows[column].notna().to_numpy() for column in (
        "graded_date", "allocated_date", "warrant_applied_date", "warrant_decision_date", "enforcement_date")}
    graded = open_rows["grade"].notna().to_numpy()
    decision = open_rows["warrant_decision"].astype(object).to_numpy()
    executed = has["enforcement_date"]
    refused = decision == "refused"
    granted = (decision == "granted") | (has["warrant_decision_date"] & ~refused)
    applied = has["warrant_applied_date"] | granted
    allocated = has["allocated_date"] | applied
    stage = np.select([granted, applied, allocated, graded], ["execution", "warrant", "planning", "allocation"],
                      "research")
    kept = ~executed & ~refused & (graded | (stage == "research"))
    # a case the log shows past grading but with no grade cannot be queued by grade
    ungraded_later = ~graded & allocated & ~executed & ~refused
    kept &= ~ungraded_later
    age_days = ((pd.Timestamp(as_of) - open_rows["referral_date"]) / pd.Timedelta(days=1)).to_numpy()
    child = open_rows["child_in_household"].astype(object).to_numpy()
    table = pd.DataFrame({
        "age_days": age_days[kept],
        "stage": stage[kept],
        "assigned_grade": open_rows["grade"].astype(object).where(open_rows["grade"].notna(), "").to_numpy()[kept],
        "true_risk": "",
        "child_in_household": np.array(["" if v is None or v is pd.NA else str(bool(v)).lower() for v in child])[kept],
    }, columns=list(BACKLOG_CSV_COLUMNS))
    table = table.sort_values("age_days", ascending=False, kind="stable").reset_index(drop=True)
    left_out = {"warrant refused, case not closed": int(np.sum(refused & ~executed)),
                "warrant executed, outcome not recorded": int(np.sum(executed)),
                "past grading with no grade recorded": int(np.sum(ungraded_later))}
    return OpenCases(table, {reason: n for reason, n in left_out.items() if n})
