"""The initial-backlog CSV: a force's queue of cases at day 0, one case a row."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from ..domain import BACKLOG_STAGES, GRADES
from ..errors import ConfigError, check
from .schema import BacklogCase

BACKLOG_CSV_COLUMNS = ("age_days", "stage", "assigned_grade", "true_risk", "child_in_household")


def read_backlog_csv(path: str | Path) -> tuple[BacklogCase, ...]:
    """Read an initial-backlog CSV: one case a row. ``age_days`` is required; ``stage``
    (research/assessment/allocation, default allocation), ``assigned_grade`` (required at
    allocation), ``true_risk`` and ``child_in_household`` (true/false/1/0) are optional.
    A bad row raises ConfigError naming the file, the row number and the column."""
    path = Path(path)
    key = "demand.initial_backlog.csv"
    if not path.is_file():
        raise ConfigError(key, str(path), "no such file")
    cases = []
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        unknown = [c for c in (reader.fieldnames or []) if c not in BACKLOG_CSV_COLUMNS]
        check("age_days" in (reader.fieldnames or []), key, str(path), "the CSV needs an 'age_days' column")
        check(not unknown, key, str(path), f"unknown column(s) {unknown}; allowed: {', '.join(BACKLOG_CSV_COLUMNS)}")
        for row_no, row in enumerate(reader, start=2):  # row 1 is the header

            def where(col: str) -> str:
                return f"{path.name} row {row_no} column {col}"

            raw = (row.get("age_days") or "").strip()
            try:
                age = float(raw)
            except ValueError:
                raise ConfigError(where("age_days"), raw, "a number of days >= 0") from None
            check(math.isfinite(age) and age >= 0, where("age_days"), raw, "a number of days >= 0")
            stage = (row.get("stage") or "").strip() or "allocation"
            check(stage in BACKLOG_STAGES, where("stage"), stage, f"one of {', '.join(BACKLOG_STAGES)}")
            grades = {}
            for col in ("assigned_grade", "true_risk"):
                g = (row.get(col) or "").strip() or None
                check(g is None or g in GRADES, where(col), g, f"one of {', '.join(GRADES)} or empty")
                grades[col] = g
            check(stage != "allocation" or grades["assigned_grade"] is not None, where("assigned_grade"), None,
                   "required for a case waiting at allocation (it has been graded)")
            child_raw = (row.get("child_in_household") or "").strip().lower()
            truth = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False, "": None}
            check(child_raw in truth, where("child_in_household"), child_raw, "true/false, 1/0, yes/no or empty")
            cases.append(BacklogCase(age, stage, grades["assigned_grade"], grades["true_risk"], truth[child_raw]))
    return tuple(cases)


# --------------------------------------------------------------------------- loading
