"""The initial-backlog CSV: a force's queue of cases at day 0, one case a row.

What a spreadsheet saves is taken as it is when that is safe, and refused in one line naming
the file when it is not: a UTF-8 byte-order mark (Excel's "CSV UTF-8") and spaces around the
header's names are accepted, and so is Windows-1252 (latin-1) text, since every value the
file may hold is plain ASCII and a letter outside it is reported as a bad value anyway.
Excel set to a locale whose decimal mark is a comma separates columns by ";" and writes
decimal commas: such a file is read so, its ages with a decimal comma (``12,5``), and an age
holding a point is refused there, since ``1.234`` may be a thousands separator's 1234. A file
separated by tabs is refused with the separator named.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from ..domain import BACKLOG_STAGES, GRADED_BACKLOG_STAGES, GRADES
from ..errors import ConfigError, check
from .limits import DAYS, MAX_CASES_PER_REPLICATION
from .schema import BacklogCase
from .text_file import csv_separator, read_text, shown

BACKLOG_CSV_COLUMNS = ("age_days", "stage", "assigned_grade", "true_risk", "child_in_household")

MAX_BACKLOG_CSV_BYTES = 256 * 2**20
"""A file larger than this (256 MiB, some 6 million rows) cannot be a force's queue."""

KEY = "demand.initial_backlog.csv"
TRUTH = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False, "": None}
SEPARATORS = {"\t": "tabs", "|": "'|'"}
"""Separators refused by name: a header of one name holding one was split by it."""


def read_backlog_csv(path: str | Path) -> tuple[BacklogCase, ...]:
    """Read an initial-backlog CSV: a header row naming the columns, then one case a row.

    ``age_days`` (days since the referral at day 0, from 0 to 36,525: 100 years) is
    required; ``stage`` (research, assessment, allocation, or for a case already allocated
    planning, warrant, execution or post_arrest; default allocation), ``assigned_grade``
    (required from allocation on), ``true_risk`` and ``child_in_household``
    (true/false/1/0/yes/no) are optional. Every row has as many fields as the header has names; blank rows are skipped.
    Columns are separated by commas, or by semicolons as Excel writes where the decimal mark
    is a comma: then an age takes a decimal comma (``12,5``), and one with a point is refused.

    A file that lists no case (a header alone) is refused, not read as "no backlog": an
    empty ``cases`` means "use ``counts``" to the model, so it would silently run the YAML's
    default backlog. To start with no backlog, leave ``csv`` null and set the counts to zero.

    Anything else that is not such a file (empty, binary, another text encoding, another
    separator, a repeated or unknown column, a bad value) raises ConfigError in one line
    naming the file, and the row and column when there is one.

    >>> _ = Path("queue.csv").write_text("age_days, stage ,assigned_grade\\n400,allocation,L\\n30,research,\\n")
    >>> [(case.age_days, case.stage) for case in read_backlog_csv("queue.csv")]
    [(400.0, 'allocation'), (30.0, 'research')]
    """
    path = Path(path)
    name = "".join(ch if ch.isprintable() else "?" for ch in shown(path.name))  # it starts a one-line message
    text = read_text(path, KEY, MAX_BACKLOG_CSV_BYTES, "a backlog CSV",
                     "it needs a header row naming the columns "
                     f"(age_days and any of {', '.join(BACKLOG_CSV_COLUMNS[1:])}) and one row a case")
    separator = csv_separator(text, name, BACKLOG_CSV_COLUMNS)
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    try:
        columns = _columns(next(rows, []), str(path))
        cases = []
        for row in rows:
            if not any(field.strip() for field in row):
                continue
            where = f"{name} row {rows.line_num}"
            check(len(row) == len(columns), where, shown(separator.join(row)),
                  f"has {len(row)} fields and the header names {len(columns)} columns ({', '.join(columns)})")
            check(len(cases) < MAX_CASES_PER_REPLICATION, KEY, str(path),
                  f"lists more than {MAX_CASES_PER_REPLICATION:,} cases")
            cases.append(_case(dict(zip(columns, (field.strip() for field in row))), where, separator))
    except csv.Error as exc:
        raise ConfigError(KEY, str(path), f"is not a readable CSV (line {rows.line_num}: {exc})") from None
    check(bool(cases), KEY, str(path),
          "lists no cases, only a header; to start with no backlog leave demand.initial_backlog.csv null "
          "and set demand.initial_backlog.counts={VH:0,H:0,M:0,L:0}")
    return tuple(cases)


def _columns(header: list[str], shown_path: str) -> list[str]:
    """The header's column names, checked: one separator, each name once and known, age_days among them."""
    names = [column.strip() for column in header]
    if len(names) == 1:
        separator = next((s for s in SEPARATORS if s in names[0]), None)
        check(separator is None, KEY, shown_path,
              f"columns separated by {SEPARATORS.get(separator or '')}; save it as comma-separated CSV")
    blank = [k + 1 for k, column in enumerate(names) if not column]
    check(not blank, KEY, shown_path, f"header column {blank[0] if blank else ''} has no name "
          f"(a stray comma?); allowed: {', '.join(BACKLOG_CSV_COLUMNS)}")
    repeated = next((column for k, column in enumerate(names) if column in names[:k]), None)
    check(repeated is None, KEY, shown_path, f"column {shown(repeated or '')!r} appears twice in the header")
    unknown = [shown(column) for column in names if column not in BACKLOG_CSV_COLUMNS]
    check(not unknown, KEY, shown_path,
          f"unknown column(s) {unknown[:5]}{' ...' if len(unknown) > 5 else ''}; allowed: {', '.join(BACKLOG_CSV_COLUMNS)}")
    check("age_days" in names, KEY, shown_path, "the CSV needs an 'age_days' column")
    return names


def _case(row: dict[str, str], where: str, separator: str = ",") -> BacklogCase:
    """One row's case; ``where`` names the file and row for a bad value; in a file separated
    by ``";"`` an age takes a decimal comma."""

    def at(column: str) -> str:
        return f"{where} column {column}"

    raw = row["age_days"]
    # The schema's limit on days: an age past a century is a typo (hours, a date read as a number).
    allowed_age = f"a number of days from 0 to {DAYS.value:,} ({DAYS.why})"
    if separator == ";":
        allowed_age += ", with a decimal comma (12,5) in a file separated by ';' (no point: 1.234 may mean 1234)"
    try:
        check(separator != ";" or "." not in raw, at("age_days"), shown(raw), allowed_age)
        age = float(raw.replace(",", ".", 1) if separator == ";" else raw)
    except ValueError:
        raise ConfigError(at("age_days"), shown(raw), allowed_age) from None
    check(math.isfinite(age) and 0 <= age <= DAYS.value, at("age_days"), shown(raw), allowed_age)
    stage = row.get("stage") or "allocation"
    check(stage in BACKLOG_STAGES, at("stage"), shown(stage), f"one of {', '.join(BACKLOG_STAGES)}")
    grades = {}
    for column in ("assigned_grade", "true_risk"):
        grade = row.get(column) or None
        check(grade is None or grade in GRADES, at(column), shown(grade or ""), f"one of {', '.join(GRADES)} or empty")
        grades[column] = grade
    check(stage not in GRADED_BACKLOG_STAGES or grades["assigned_grade"] is not None, at("assigned_grade"), None,
          f"required for a case at {stage} (it has been graded)")
    child = (row.get("child_in_household") or "").lower()
    check(child in TRUTH, at("child_in_household"), shown(child), "true/false, 1/0, yes/no or empty")
    return BacklogCase(age, stage, grades["assigned_grade"], grades["true_risk"], TRUTH[child])
