"""A force's case log: one row per referral, read from its file, checked, and held as a typed
frame for the calibration and the backtest (the format: docs/caselog.md).

Bad input follows the house rule: one ConfigError naming the file, the row as a spreadsheet
shows it (the header is row 1) and the column, the value and what is allowed. Rows that are
suspicious but usable (stage dates out of order, an outcome without its date) are kept and
counted as :class:`LogWarning`\\ s, never dropped or kept silently.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..config.text_file import read_text, shown
from ..errors import ConfigError, check
from .caselog_files import KEY, TextTable, check_row_count, frame_table, printable, read_table, write_table
from .caselog_format import (
    CASE_LOG_COLUMNS, CATEGORIES, DATE_COLUMNS, DATE_FORMATS, ENFORCEMENT_OUTCOMES, LOG_OUTCOMES, REQUIRED_COLUMNS,
    TRUTH_ALLOWED, WARRANT_DECISIONS, category_allowed, nonblank, parse_date, read_category, read_dates, read_truth,
)

__all__ = ["CASE_LOG_COLUMNS", "CATEGORIES", "DATE_COLUMNS", "ENFORCEMENT_OUTCOMES", "LOG_OUTCOMES", "REQUIRED_COLUMNS",
           "WARRANT_DECISIONS", "CaseLog", "LogWarning", "case_log_from_frame", "case_log_warnings", "closing_dates",
           "read_case_log", "write_case_log"]

MAX_MAPPING_BYTES = 2**20
"""A columns mapping names at most fourteen columns: a file past 1 MiB is some other file."""
EXAMPLES = 5
"""Case ids a warning shows as examples."""


@dataclass(frozen=True)
class LogWarning:
    """Rows that are suspicious but usable, kept and reported: what is wrong with them, how
    many there are, and up to five of their case_ids (the first in the log's order)."""

    what: str
    count: int
    examples: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.count:,} case{'s' if self.count != 1 else ''}: {self.what} (e.g. {', '.join(self.examples)})"


@dataclass(frozen=True, eq=False)
class CaseLog:
    """A case log read and checked (compare two by their ``cases`` frames).

    ``cases`` holds every column of CASE_LOG_COLUMNS, in that order, sorted by referral_date
    then case_id, indexed 0..n-1: dates datetime64[ns] at midnight (NaT blank); source,
    grade, warrant_decision, outcome and regraded_to Categoricals with fixed categories
    (grades VH, H, M, L; a blank source is nca; NaN blank); child_in_household pandas
    "boolean"; case_id str. ``as_of`` is the extract date (open cases are censored there),
    ``name`` the file's name as given, ``warnings`` the suspicious rows counted.
    """

    cases: pd.DataFrame
    as_of: pd.Timestamp
    name: str
    warnings: tuple[LogWarning, ...]

    def until(self, day: Any) -> CaseLog:
        """The log as an extract taken at the end of ``day`` would have shown it (for the
        backtest): the cases referred by then, every later date blank, and what those dates
        recorded blank with them. A fact the log does not date is kept only where a later
        dated one proves it: an undated grade by a stage after grading, an undated warrant
        decision by an enforcement; an outcome with no date to close it is open before as_of.
        ``day`` from the first referral to as_of (a date, or text as the log's dates);
        ``until(as_of)`` is the log itself."""
        cut = _day(day, "until")
        check(cut <= self.as_of, "until", shown(str(day)),
              f"after the log's as_of {self.as_of:%Y-%m-%d}: the log shows nothing later")
        first = self.cases["referral_date"].min()
        check(cut >= first, "until", shown(str(day)), f"before the log's first referral ({first:%Y-%m-%d})")
        return _case_log(_cases_until(self.cases, cut, complete=cut >= self.as_of), cut, self.name)


def read_case_log(path: str | os.PathLike, as_of: Any = None, columns: Mapping[str, str] | str | os.PathLike | None = None,
                  sheet: str | int | None = None) -> CaseLog:
    """Read and check the case log at ``path``: CSV (.csv), Excel (.xlsx; the first sheet,
    or ``sheet`` by name or 0-based position) or parquet (.parquet), one row per referral.

    ``as_of`` is the extract date (a date, or text as the log's dates: YYYY-MM-DD or
    DD/MM/YYYY); by default the latest date anywhere in the log. ``columns`` renames a
    force's own columns: {case log column: the file's column}, or the path of a YAML file
    holding that mapping. A CSV's columns are separated by commas, or by semicolons (as Excel
    writes them where the decimal mark is a comma). Any bad input raises ConfigError in one
    line (docs/caselog.md).

    >>> _ = Path("log.csv").write_text(
    ...     "case_id,referral_date,grade,graded_date,enforcement_date,outcome\\n"
    ...     "C2,12/02/2024,,,,\\n"
    ...     "C1,2024-01-05,vh,2024-01-06,2024-03-01,Arrest\\n")
    >>> log = read_case_log("log.csv")
    >>> f"{log.as_of:%Y-%m-%d}", list(log.cases.case_id), list(log.cases.grade), list(log.cases.outcome)
    ('2024-03-01', ['C1', 'C2'], ['VH', nan], ['arrest', nan])
    >>> list(log.until("2024-02-29").cases.outcome)  # the arrest came later
    [nan, nan]
    """
    name = printable(os.fspath(path))
    day = None if as_of is None else _day(as_of, "as_of")
    mapping = _mapping(columns)
    table = read_table(Path(path), name, sheet, known=(*CASE_LOG_COLUMNS, *mapping.values()))
    return _from_table(table, name, as_of, day, mapping)


def case_log_from_frame(frame: pd.DataFrame, as_of: Any = None, name: str = "frame",
                        columns: Mapping[str, str] | str | os.PathLike | None = None) -> CaseLog:
    """Check a frame in the file form (the log's column names; each cell text, a date, a
    number or a truth value) as :func:`read_case_log` checks a file; ``name`` names it in
    refusals, whose rows are numbered as the frame written to a CSV would number them."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"case_log_from_frame takes a pandas DataFrame, not {type(frame).__name__}")
    day = None if as_of is None else _day(as_of, "as_of")
    mapping = _mapping(columns)
    return _from_table(frame_table(frame, name), printable(name), as_of, day, mapping)


def write_case_log(log_or_frame: CaseLog | pd.DataFrame, path: str | os.PathLike) -> None:
    """Write a case log (or a frame of its columns) to ``path``, whole or not at all: CSV
    (UTF-8, ISO dates), Excel (.xlsx; date cells) or parquet by the suffix. Reading the file
    back with :func:`read_case_log` gives the same cases."""
    frame = log_or_frame.cases if isinstance(log_or_frame, CaseLog) else log_or_frame
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"write_case_log takes a CaseLog or a pandas DataFrame, not {type(frame).__name__}")
    write_table(frame, Path(path))


def closing_dates(cases: pd.DataFrame) -> pd.Series:
    """The date each case of a canonical frame was closed: the enforcement_date for an arrest,
    a voluntary interview, or an untraceable suspect looked for with a warrant; the
    closed_date for any other outcome; NaT while open or when no date records it."""
    outcome = cases["outcome"]
    by_enforcement = outcome.isin(ENFORCEMENT_OUTCOMES) | ((outcome == "untraceable") & cases["enforcement_date"].notna())
    return cases["closed_date"].where(~by_enforcement, cases["enforcement_date"]).where(outcome.notna())


# ------------------------------------------------------------------ dates given as arguments

def _day(value: Any, key: str) -> pd.Timestamp:
    """``value`` (a date, a datetime or text as the log's dates) as a Timestamp at midnight."""
    if isinstance(value, str):
        parsed = parse_date(value.strip())
        check(parsed is not None, key, shown(value), f"not a date; {DATE_FORMATS}")
        return pd.Timestamp(parsed)
    if isinstance(value, np.datetime64) and not np.isnat(value):
        value = pd.Timestamp(value)
    if value is pd.NaT:
        raise ConfigError(key, "NaT", f"not a date; {DATE_FORMATS}")
    if isinstance(value, datetime):
        return pd.Timestamp(value.date())
    if isinstance(value, date):
        return pd.Timestamp(value)
    raise ConfigError(key, shown(repr(value)), f"not a date; {DATE_FORMATS}")


# ------------------------------------------------------------------ the columns mapping

def _mapping(columns: Mapping[str, str] | str | os.PathLike | None) -> dict[str, str]:
    """The columns mapping {case log column: the file's column}, checked; from YAML if a path."""
    if columns is None:
        return {}
    shown_mapping = shown(repr(columns), 80)
    if isinstance(columns, (str, os.PathLike)):
        columns, shown_mapping = _mapping_file(Path(columns)), os.fspath(columns)
    check(isinstance(columns, Mapping), "columns", shown_mapping,
          "must be a mapping {case log column: the file's column}, e.g. {case_id: 'Ref No'}")
    mapping: dict[str, str] = {}
    for canonical, theirs in columns.items():
        check(canonical in CASE_LOG_COLUMNS, "columns", shown(str(canonical)),
              f"not a case log column (a mapping reads {{case log column: the file's column}}); "
              f"the case log's columns: {', '.join(CASE_LOG_COLUMNS)}")
        check(isinstance(theirs, str) and theirs.strip() != "", f"columns.{canonical}", theirs,
              "must be the name of one of the file's columns, as text (in YAML quote a number: '2024')")
        other = next((c for c, t in mapping.items() if t == theirs.strip()), None)
        check(other is None, f"columns.{canonical}", theirs,
              f"columns.{other} names it too; each of the file's columns is one case log column")
        mapping[canonical] = theirs.strip()
    return mapping


def _mapping_file(path: Path) -> Any:
    import yaml

    text = read_text(path, "columns", MAX_MAPPING_BYTES, "a columns mapping",
                     "it needs one line a renamed column, like 'case_id: Ref No'")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise ConfigError("columns", str(path), f"is not a YAML mapping ({shown(problem, 80)})") from None


# ------------------------------------------------------------------ the header

def _letters(position: int) -> str:
    """A spreadsheet's letters for the column at 0-based ``position`` (0 -> A, 26 -> AA)."""
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _canonical_text(table: TextTable, name: str, mapping: dict[str, str]) -> tuple[pd.DataFrame, np.ndarray]:
    """The table's cells under their case log column names, blank rows dropped, and each
    remaining row's number; the header checked (names, repeats, the mapping, required)."""
    header, cells = table.header, table.cells
    # A column with neither a name nor a value is what a spreadsheet leaves past its last one.
    unnamed = [k for k, column in enumerate(header) if not column]
    stray = [k for k in unnamed if nonblank(cells[k]).any()]
    if stray:
        raise ConfigError(KEY, name, f"header column {stray[0] + 1} ({_letters(stray[0])}) has no name but holds "
                          "values (a stray comma or cell?); name it or delete it")
    positions = [k for k, column in enumerate(header) if column]
    names = [header[k] for k in positions]
    for j, column in enumerate(names):
        earlier = names.index(column)
        check(earlier == j, KEY, name, f"column {shown(column)!r} appears twice in the header "
              f"(columns {_letters(positions[earlier])} and {_letters(positions[j])})")
    theirs = {their: canonical for canonical, their in mapping.items()}
    for canonical, their in mapping.items():
        check(their in names, f"columns.{canonical}", their,
              f"{name} has no such column; its columns: {shown(', '.join(names), 200)}")
    renamed = [theirs.get(column, column) for column in names]
    for j, column in enumerate(renamed):
        earlier = renamed.index(column)
        if earlier != j:  # only a mapped name can meet the file's own column of that name
            mapped = names[j] if names[j] != column else names[earlier]
            raise ConfigError(KEY, name, f"column {column!r} is named twice: the file's own {column!r} and "
                              f"{shown(mapped)!r} by the columns mapping")
    unknown = [shown(column) for column in renamed if column not in CASE_LOG_COLUMNS]
    if unknown:
        raise ConfigError(KEY, name, f"unknown column(s) {unknown[:5]}{' ...' if len(unknown) > 5 else ''}; allowed: "
                          f"{', '.join(CASE_LOG_COLUMNS)}; a columns mapping renames a force's own "
                          f"(columns={{case_id: {unknown[0]!r}}})")
    missing = [column for column in REQUIRED_COLUMNS if column not in renamed]
    check(not missing, KEY, name, f"has no {' or '.join(missing)} column; every case log needs "
          f"{' and '.join(REQUIRED_COLUMNS)} (a columns mapping renames a force's own)")
    text = pd.DataFrame({canonical: cells[k].to_numpy() for canonical, k in zip(renamed, positions)},
                        index=range(len(cells)), dtype=object)
    filled = np.logical_or.reduce([nonblank(text[column]) for column in text], initial=False)
    return text[filled].reset_index(drop=True), table.rows[filled]


# ------------------------------------------------------------------ the rows

def _from_table(table: TextTable, name: str, as_of: Any, day: pd.Timestamp | None, mapping: dict[str, str]) -> CaseLog:
    text, rows = _canonical_text(table, name, mapping)
    check(len(text) > 0, KEY, name, "lists no cases, only a header")
    check_row_count(len(text), name)
    cases = _typed(text, rows, name)
    first = cases["referral_date"].min()
    if day is None:
        day = max(cases[column].max() for column in DATE_COLUMNS if cases[column].notna().any())
    else:
        check(day >= first, "as_of", shown(str(as_of)), f"before the log's first referral ({first:%Y-%m-%d}); "
              "the extract date is on or after every date in the log")
    _check_dates(cases, text, rows, name, day)
    cases = cases.sort_values(["referral_date", "case_id"], kind="stable", ignore_index=True)
    return _case_log(cases, day, name)


def _typed(text: pd.DataFrame, rows: np.ndarray, name: str) -> pd.DataFrame:
    """The canonical frame of the text, in file order; the first bad cell of each check refused."""

    def column(which: str) -> pd.Series:
        return text[which] if which in text else pd.Series("", index=text.index, dtype=object)

    def refuse(bad: np.ndarray, which: str, allowed: str) -> None:
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise ConfigError(f"{name} row {rows[k]} column {which}", shown(column(which).iat[k]), allowed)

    ids = column("case_id")
    refuse(~nonblank(ids), "case_id", "required: every case needs its case_id")
    repeated = ids.duplicated().to_numpy()
    if repeated.any():
        k = int(np.flatnonzero(repeated)[0])
        j = int(np.flatnonzero((ids == ids.iat[k]).to_numpy())[0])
        raise ConfigError(f"{name} row {rows[k]} column case_id", shown(ids.iat[k]),
                          f"also on row {rows[j]}; every case is one row with its own case_id")
    refuse(~nonblank(column("referral_date")), "referral_date", "required: every case needs its referral_date")
    frame: dict[str, pd.Series] = {"case_id": ids.astype("str")}
    for which in CASE_LOG_COLUMNS[1:]:
        if which in DATE_COLUMNS:
            frame[which], bad = read_dates(column(which))
            refuse(bad, which, f"not a date; {DATE_FORMATS}")
        elif which in CATEGORIES:
            frame[which], bad = read_category(column(which), which)
            refuse(bad, which, category_allowed(which))
        else:
            frame[which], bad = read_truth(column(which))
            refuse(bad, which, TRUTH_ALLOWED)
    return pd.DataFrame(frame, index=text.index)


def _check_dates(cases: pd.DataFrame, text: pd.DataFrame, rows: np.ndarray, name: str, as_of: pd.Timestamp) -> None:
    """Refuse the first date after the extract date, then the first before its row's referral."""
    for which in DATE_COLUMNS:
        late = (cases[which] > as_of).to_numpy()
        if late.any():
            k = int(np.flatnonzero(late)[0])
            raise ConfigError(f"{name} row {rows[k]} column {which}", shown(text[which].iat[k]),
                              f"after as_of {as_of:%Y-%m-%d}, the extract date: a log shows nothing later")
    for which in DATE_COLUMNS[1:]:
        early = (cases[which] < cases["referral_date"]).to_numpy()
        if early.any():
            k = int(np.flatnonzero(early)[0])
            raise ConfigError(f"{name} row {rows[k]} column {which}", shown(text[which].iat[k]),
                              f"before the row's referral_date {cases['referral_date'].iat[k]:%Y-%m-%d}; "
                              "nothing happens to a case before its referral")


# ------------------------------------------------------------------ warnings

def _before(later: str, earlier: str) -> tuple[str, Callable[[pd.DataFrame], pd.Series]]:
    return f"{later} before {earlier}", lambda c: c[later] < c[earlier]


WARNINGS: tuple[tuple[str, Callable[[pd.DataFrame], pd.Series]], ...] = (
    _before("allocated_date", "graded_date"),
    _before("warrant_applied_date", "allocated_date"),
    _before("warrant_decision_date", "warrant_applied_date"),
    _before("enforcement_date", "warrant_decision_date"),
    ("outcome arrest or voluntary_interview without enforcement_date",
     lambda c: c["outcome"].isin(ENFORCEMENT_OUTCOMES) & c["enforcement_date"].isna()),
    ("enforcement_date with a blank outcome", lambda c: c["enforcement_date"].notna() & c["outcome"].isna()),
    ("warrant_decision without warrant_decision_date",
     lambda c: c["warrant_decision"].notna() & c["warrant_decision_date"].isna()),
    ("warrant_decision_date without warrant_decision",
     lambda c: c["warrant_decision_date"].notna() & c["warrant_decision"].isna()),
    ("regraded_to on an ungraded case", lambda c: c["regraded_to"].notna() & c["grade"].isna()),
    ("outcome no_further_action, untraceable or duplicate without closed_date "
     "(followed up to its last recorded date)",
     lambda c: c["outcome"].notna() & ~c["outcome"].isin(ENFORCEMENT_OUTCOMES) & closing_dates(c).isna()),
    ("closed_date with a blank outcome", lambda c: c["closed_date"].notna() & c["outcome"].isna()),
)
"""Each kind of suspicious row: what is said of it, and which rows of a canonical frame it is."""


def case_log_warnings(cases: pd.DataFrame) -> tuple[LogWarning, ...]:
    """The warnings of a canonical frame, one for each kind of suspicious row it holds."""
    found = []
    for what, rule in WARNINGS:
        rows = rule(cases).to_numpy(dtype=bool)
        if rows.any():
            found.append(LogWarning(what, int(rows.sum()), tuple(cases["case_id"][rows].iloc[:EXAMPLES])))
    return tuple(found)


def _case_log(cases: pd.DataFrame, as_of: pd.Timestamp, name: str) -> CaseLog:
    return CaseLog(cases, as_of, name, case_log_warnings(cases))


# ------------------------------------------------------------------ the log at an earlier date

LATER_THAN_GRADING = ("allocated_date", "warrant_applied_date", "warrant_decision_date", "enforcement_date")


def _cases_until(cases: pd.DataFrame, day: pd.Timestamp, complete: bool) -> pd.DataFrame:
    """The canonical frame as it stood at the end of ``day``; ``complete`` (day is as_of)
    keeps every undated fact, since the extract itself shows them."""
    kept = cases[cases["referral_date"] <= day].reset_index(drop=True)
    out = kept.copy()
    if complete:
        return out
    for which in DATE_COLUMNS:
        out[which] = kept[which].where(kept[which] <= day)
    graded = out["graded_date"].notna() | (kept["graded_date"].isna() & out[list(LATER_THAN_GRADING)].notna().any(axis=1))
    out["grade"] = kept["grade"].where(graded)
    decided = out["warrant_decision_date"].notna() | (
        kept["warrant_decision_date"].isna() & out["enforcement_date"].notna())
    out["warrant_decision"] = kept["warrant_decision"].where(decided)
    closed = closing_dates(kept) <= day
    out["outcome"] = kept["outcome"].where(closed)
    out["regraded_to"] = kept["regraded_to"].where(closed)
    return out
