"""A case log's files as tables of text: CSV, Excel (.xlsx) and parquet read into a header
and every cell as stripped text, each row numbered as a spreadsheet shows it, and a frame
written back to any of the three (docs/caselog.md).

What a cell holds is decided later, by the case log's own rules (sim/io/caselog.py); here a
file is only made readable, or refused in one line naming it: missing, too large, not the
kind its suffix says, or a CSV separated by something other than commas or semicolons
(Excel's separator where the decimal mark is a comma), split both ways, or with a row of
another length than its header.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ..config.backlog import SEPARATORS
from ..config.limits import CASES
from ..config.text_file import csv_separator, decode_text, shown
from ..errors import ConfigError, check
from .atomic import atomic_write

KEY = "case_log"
"""The key a refusal names for the file as a whole (its value is the file's name)."""
SUFFIXES = (".csv", ".xlsx", ".parquet")
MAX_CASE_LOG_ROWS = int(CASES.value)
"""The most cases a log may list: the most the model takes in one replication."""
MAX_CASE_LOG_BYTES = 256 * 2**20
"""A file larger than this (256 MiB) is not a case log: a full CSV row is some 150 bytes, so
it would hold 1.7 million cases, a century of a large force's referrals."""
EXCEL_MAX_ROWS = 1_048_576
"""Rows in one Excel sheet, the header's included."""
EMPTY_HINT = ("it needs a header row naming the columns (case_id, referral_date and any others of "
              "docs/caselog.md) and one row a case")


@dataclass(frozen=True)
class TextTable:
    """A case log as its file holds it, before any value is read."""

    header: tuple[str, ...]  # the header's names, stripped ("" for a column without one)
    cells: pd.DataFrame      # one column per header name, by position (labels 0..k-1); every cell stripped text, "" if blank
    rows: np.ndarray         # each row's number as a spreadsheet shows it (the header's row = 1 for a CSV or a frame)


def printable(text: str) -> str:
    """``text`` with anything unprintable as ``?``: a file's name starts one-line messages."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def read_table(path: Path, name: str, sheet: str | int | None = None, known: tuple[str, ...] = ()) -> TextTable:
    """The text table of the case log file at ``path`` (.csv, .xlsx or .parquet by suffix;
    ``sheet``, an Excel workbook's sheet by name or 0-based position, the first if None);
    ``name``, the path as given and printable, names it in refusals; ``known``, the column
    names a file may have, tells a CSV's separator should its header split both ways."""
    check(path.is_file(), KEY, name, "no such file" if not path.exists() else "not a file")
    suffix = path.suffix.lower()
    allowed_suffix = "a case log is a .csv, .xlsx or .parquet file"
    check(suffix != ".xls", KEY, name, f"{allowed_suffix}: save an old .xls workbook as .xlsx")
    check(suffix in SUFFIXES, KEY, name, allowed_suffix)
    check(sheet is None or suffix == ".xlsx", "sheet", sheet, "only an Excel (.xlsx) case log has sheets")
    try:
        size = path.stat().st_size
        check(size <= MAX_CASE_LOG_BYTES, KEY, name,
              f"is larger than {MAX_CASE_LOG_BYTES // 2**20} MiB: not a case log (1.7 million cases fit in less)")
        check(size > 0, KEY, name, f"the file is empty; {EMPTY_HINT}")
        if suffix == ".csv":
            return _csv_table(decode_text(path.read_bytes(), KEY, name, EMPTY_HINT), name, known)
    except OSError as exc:
        raise ConfigError(KEY, name, f"cannot be read ({exc.strerror or exc})") from None
    if suffix == ".xlsx":
        return _excel_table(path, name, sheet)
    return _parquet_table(path, name)


def _one_line(exc: Exception) -> str:
    """A library's error as a short phrase for a one-line message."""
    return shown(" ".join(f"{type(exc).__name__}: {exc}".split()), 120)


def _csv_table(text: str, name: str, known: tuple[str, ...] = ()) -> TextTable:
    """The text table of a CSV's ``text``, separated by commas or semicolons as its header
    shows (``known``: the column names it may have, should the header split both ways)."""
    # The csv module, not pandas' reader: pandas fills a short row's missing fields with
    # blanks, renames a repeated header name and takes an extra field as the index, and each
    # of those would read a broken file as another one.
    separator = csv_separator(text, name, known)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    header: list[str] | None = None
    records: list[list[str]] = []
    numbers: list[int] = []
    try:
        for number, record in enumerate(reader, start=1):
            if header is None:
                fields = [field.strip() for field in record]
                if any(fields):
                    header = _csv_header(fields, name)
            elif len(record) == len(header):
                records.append(record)
                numbers.append(number)
            elif any(field.strip() for field in record):  # a blank row may have any length
                raise ConfigError(f"{name} row {number}", shown(separator.join(record)),
                                  f"has {len(record)} fields and the header names {len(header)} columns")
    except csv.Error as exc:
        raise ConfigError(KEY, name, f"is not a readable CSV (line {reader.line_num}: {exc})") from None
    check(header is not None, KEY, name, f"the file is empty; {EMPTY_HINT}")
    assert header is not None
    raw = pd.DataFrame(records, columns=range(len(header)), dtype=object)
    cells = pd.DataFrame({k: _stripped(raw[k]) for k in raw.columns}, index=raw.index, columns=raw.columns, dtype=object)
    return TextTable(tuple(header), cells, np.asarray(numbers, dtype=np.int64))


def _stripped(text: pd.Series) -> np.ndarray:
    codes, values = pd.factorize(text.to_numpy(dtype=object))
    return np.array([value.strip() for value in values], dtype=object)[codes]


def _csv_header(fields: list[str], shown_path: str) -> list[str]:
    """The header's names; one name holding another separator is a file split by it."""
    if len(fields) == 1:
        separator = next((s for s in SEPARATORS if s in fields[0]), None)
        check(separator is None, KEY, shown_path,
              f"columns separated by {SEPARATORS.get(separator or '')}; save it as comma-separated CSV")
    return fields


def too_many() -> str:
    """What a refusal of a log with too many rows says."""
    return f"lists more than {MAX_CASE_LOG_ROWS:,} cases ({CASES.why}, the most the model takes)"


def check_row_count(rows: int, name: str) -> None:
    """Refuse a log of more than MAX_CASE_LOG_ROWS cases (its blank rows not counted)."""
    check(rows <= MAX_CASE_LOG_ROWS, KEY, name, too_many())


def _excel_table(path: Path, name: str, sheet: str | int | None) -> TextTable:
    try:
        with pd.ExcelFile(path, engine="openpyxl") as workbook:
            names = workbook.sheet_names
            if isinstance(sheet, str):
                check(sheet in names, "sheet", sheet, f"{printable(path.name)} has the sheets {', '.join(names)}")
            elif sheet is not None:
                check(isinstance(sheet, int) and 0 <= sheet < len(names), "sheet", sheet,
                      f"a sheet's name or its position from 0 to {len(names) - 1}")
            raw = pd.read_excel(workbook, sheet_name=sheet or 0, header=None, dtype=object, keep_default_na=False,
                                na_values=[], nrows=EXCEL_MAX_ROWS + 1)
    except ConfigError:
        raise
    except Exception as exc:  # openpyxl and zipfile raise many kinds for a file that is no workbook
        raise ConfigError(KEY, name, f"is not a readable Excel workbook ({_one_line(exc)})") from None
    # A real sheet ends at Excel's last row, far below MAX_CASE_LOG_ROWS; a longer one is no
    # spreadsheet's, and reading on would only fill memory.
    check(len(raw) <= EXCEL_MAX_ROWS, KEY, name, f"has more than the {EXCEL_MAX_ROWS:,} rows an Excel sheet holds")
    cells = raw.map(cell_text) if len(raw.columns) else raw
    filled = np.flatnonzero((cells != "").any(axis=1).to_numpy())
    check(len(filled) > 0, KEY, name, f"the file is empty; {EMPTY_HINT}")
    first = filled[0]  # rows above the header that are blank are no part of the table
    header = tuple(cells.iloc[first])
    body = cells.iloc[first + 1:].reset_index(drop=True)
    body.columns = range(len(header))
    return TextTable(header, body, np.arange(first + 2, first + 2 + len(body), dtype=np.int64))


def _parquet_table(path: Path, name: str) -> TextTable:
    import pyarrow.parquet as pq

    try:
        rows = pq.ParquetFile(path).metadata.num_rows
        check(rows <= MAX_CASE_LOG_ROWS, KEY, name, too_many())
        frame = pd.read_parquet(path)
    except ConfigError:
        raise
    except Exception as exc:  # pyarrow raises several kinds for a file that is not parquet
        raise ConfigError(KEY, name, f"is not a readable parquet file ({_one_line(exc)})") from None
    return frame_table(frame, name)


def frame_table(frame: pd.DataFrame, name: str = "frame") -> TextTable:
    """The text table of a frame in the file form (``name`` in a refusal): its column names as
    the header, rows numbered as the frame written to a CSV would number them (header = row 1)."""
    check(len(frame) <= MAX_CASE_LOG_ROWS, KEY, name, too_many())
    header = tuple(cell_text(column) for column in frame.columns)
    cells = pd.DataFrame({k: column_text(frame.iloc[:, k]) for k in range(frame.shape[1])},
                         index=range(len(frame)), columns=range(frame.shape[1]), dtype=object)
    return TextTable(header, cells, np.arange(2, len(frame) + 2, dtype=np.int64))


def cell_text(value: object) -> str:
    """One cell as text: blank for a missing value, ISO for a date (its time dropped), true/false
    for a truth value, a whole number without its ``.0``."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return "" if np.isnat(value) else str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return ""
        # A spreadsheet stores every number as a float: 12.0 is the case_id or flag 12.
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(float(value))
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").strip()
    return str(value).strip()


def column_text(column: pd.Series) -> np.ndarray:
    """A frame's column as an object array of text cells (see :func:`cell_text`)."""
    if column.dtype == object:
        # Element by element: factorizing would take 1, 1.0 and True for one value.
        return np.array([cell_text(value) for value in column], dtype=object)
    codes, values = pd.factorize(column)  # a missing value's code is -1: the last, blank, text
    texts = np.array([cell_text(value) for value in values] + [""], dtype=object)
    return texts[codes]


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` whole or not at all, by its suffix: CSV (UTF-8, ISO dates),
    Excel (date cells shown as YYYY-MM-DD) or parquet (dates as timestamps)."""
    suffix = path.suffix.lower()
    check(suffix in SUFFIXES, KEY, str(path), "a case log is written as a .csv, .xlsx or .parquet file")
    writers: dict[str, Callable[[pd.DataFrame, Path], None]] = {
        ".csv": _write_csv, ".xlsx": _write_excel, ".parquet": _write_parquet}
    if suffix == ".xlsx":
        check(len(frame) < EXCEL_MAX_ROWS, KEY, str(path),
              f"an Excel sheet holds at most {EXCEL_MAX_ROWS - 1:,} cases; write .csv or .parquet")
    atomic_write(path, lambda tmp: writers[suffix](frame, tmp))


def _is_dates(column: pd.Series) -> bool:
    return isinstance(column.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(column.dtype)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([cell_text(column) for column in frame.columns])
    writer.writerows(zip(*(column_text(frame.iloc[:, k]) for k in range(frame.shape[1]))))
    path.write_text(out.getvalue(), encoding="utf-8", newline="")


def _write_excel(frame: pd.DataFrame, path: Path) -> None:
    from openpyxl import Workbook

    def cells(column: pd.Series) -> list:
        if _is_dates(column):
            return [None if pd.isna(v) else v.date() for v in column]
        if pd.api.types.is_bool_dtype(column.dtype):
            return [None if v is pd.NA else bool(v) for v in column.astype(object)]
        return [text or None for text in column_text(column)]

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("case log")
    sheet.append([cell_text(column) for column in frame.columns])
    for row in zip(*(cells(frame.iloc[:, k]) for k in range(frame.shape[1]))):
        sheet.append(row)
    workbook.save(path)


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    columns = []
    for k in range(frame.shape[1]):
        values = frame.iloc[:, k].reset_index(drop=True)
        if _is_dates(values):
            columns.append(values)
        elif pd.api.types.is_bool_dtype(values.dtype):
            columns.append(values.astype("boolean"))
        else:
            columns.append(pd.Series([text or None for text in column_text(values)], dtype=object))
    table = pd.concat(columns, axis=1, ignore_index=True) if columns else pd.DataFrame(index=range(len(frame)))
    table.columns = [cell_text(column) for column in frame.columns]
    table.to_parquet(path, index=False)
