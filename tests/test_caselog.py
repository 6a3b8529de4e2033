"""A force's case log (sim/io/caselog.py): every refusal is one line naming the file, row,
column, value and what is allowed; suspicious rows are kept and counted; what spreadsheets
save reads as what was meant; and ``CaseLog.until`` shows the log as an earlier extract.

Property tests at the end feed random bytes, random text and mostly well-formed logs: the
answer is a CaseLog or a one-line ConfigError, never anything else."""

from __future__ import annotations

import codecs
import datetime as dt
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.errors import ConfigError
from sim.io import caselog_files
from sim.io.caselog import (
    CASE_LOG_COLUMNS, DATE_COLUMNS, CaseLog, LogWarning, case_log_from_frame, closing_dates, read_case_log,
    write_case_log,
)

HEADER = ",".join(CASE_LOG_COLUMNS)
# case_id, referral_date, source, grade, graded_date, allocated_date, warrant_applied_date, warrant_decision,
# warrant_decision_date, enforcement_date, outcome, closed_date, regraded_to, child_in_household
ROWS = (
    "C1,2024-01-05,nca,VH,2024-01-06,2024-01-08,2024-01-10,granted,2024-01-11,2024-01-15,arrest,,VH,true",
    "C2,2024-01-05,direct,L,2024-01-20,2024-03-01,,,,,,,,",
    "C3,2024-02-01,,M,2024-02-10,2024-02-20,2024-03-01,refused,2024-03-05,,no_further_action,2024-03-20,H,false",
    "C4,2024-02-15,nca,,,,,,,,duplicate,2024-02-16,,",
    "C5,2024-03-01,nca,H,2024-03-02,2024-03-05,2024-03-10,granted,2024-03-12,2024-04-01,untraceable,,,1",
    "C6,2024-03-10,nca,,,,,,,,untraceable,2024-04-10,,no",
    "C7,2024-04-01,direct,M,2024-04-03,,,,,,,,,",
)
GOOD = HEADER + "\n" + "\n".join(ROWS) + "\n"
AS_OF = pd.Timestamp("2024-04-10")  # C6's closed_date, the latest date in GOOD


def _with(k: int, **cells: str) -> str:
    """GOOD with cells of ROWS[k] (the file's row k + 2) changed."""
    rows = [row.split(",") for row in ROWS]
    for column, value in cells.items():
        rows[k][CASE_LOG_COLUMNS.index(column)] = value
    return HEADER + "\n" + "\n".join(",".join(row) for row in rows) + "\n"


def _file(tmp_path: Path, content: str | bytes, name: str = "log.csv") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


def _refused(call, *args, **kwargs) -> str:
    """The one-line message ``call(*args, **kwargs)`` refuses with."""
    with pytest.raises(ConfigError) as err:
        call(*args, **kwargs)
    message = str(err.value)
    assert "\n" not in message and "\r" not in message
    return message


@pytest.fixture
def good(tmp_path) -> CaseLog:
    return read_case_log(_file(tmp_path, GOOD, "good.csv"))


# ------------------------------------------------------------------ the canonical frame

def test_the_frame_has_every_column_typed_as_documented(good):
    cases = good.cases
    assert tuple(cases.columns) == CASE_LOG_COLUMNS
    assert isinstance(cases.index, pd.RangeIndex) and list(cases.index) == list(range(len(ROWS)))
    assert cases["case_id"].dtype == "str"
    for column in DATE_COLUMNS:
        assert cases[column].dtype == "datetime64[ns]", column
        assert (cases[column].dropna() == cases[column].dropna().dt.normalize()).all()
    categories = {"source": ["nca", "direct"], "grade": ["VH", "H", "M", "L"], "regraded_to": ["VH", "H", "M", "L"],
                  "warrant_decision": ["granted", "refused"],
                  "outcome": ["arrest", "voluntary_interview", "no_further_action", "untraceable", "duplicate"]}
    for column, names in categories.items():
        assert isinstance(cases[column].dtype, pd.CategoricalDtype), column
        assert list(cases[column].cat.categories) == names, column
    assert cases["child_in_household"].dtype == "boolean"
    assert good.as_of == AS_OF and good.warnings == ()


def test_the_values_are_read_as_written(good):
    c1, c3 = good.cases.iloc[0], good.cases.iloc[2]
    assert (c1.case_id, c1.source, c1.grade, c1.warrant_decision, c1.outcome, c1.regraded_to, c1.child_in_household) == (
        "C1", "nca", "VH", "granted", "arrest", "VH", True)
    assert c1.enforcement_date == pd.Timestamp("2024-01-15") and pd.isna(c1.closed_date)
    assert (c3.source, c3.outcome, c3.child_in_household) == ("nca", "no_further_action", False)  # blank source: nca
    assert good.cases["child_in_household"].isna().sum() == 3


def test_rows_are_sorted_by_referral_date_then_case_id(tmp_path):
    shuffled = HEADER + "\n" + "\n".join([ROWS[6], ROWS[1], ROWS[3], ROWS[0], ROWS[5], ROWS[2], ROWS[4]]) + "\n"
    log = read_case_log(_file(tmp_path, shuffled))
    assert list(log.cases.case_id) == ["C1", "C2", "C3", "C4", "C5", "C6", "C7"]
    assert list(log.cases.index) == list(range(7))


def test_as_of_defaults_to_the_latest_date_anywhere(tmp_path):
    # The latest date is an allocation, not a referral.
    log = read_case_log(_file(tmp_path, _with(6, allocated_date="2024-06-30")))
    assert log.as_of == pd.Timestamp("2024-06-30")


@pytest.mark.parametrize("as_of", ["2024-05-01", "01/05/2024", "2024-05-01 17:30", dt.date(2024, 5, 1),
                                   dt.datetime(2024, 5, 1, 17, 30), pd.Timestamp("2024-05-01"), np.datetime64("2024-05-01")])
def test_as_of_may_be_given_as_a_date_or_text(tmp_path, as_of):
    assert read_case_log(_file(tmp_path, GOOD), as_of=as_of).as_of == pd.Timestamp("2024-05-01")


def test_a_log_of_the_required_columns_alone(tmp_path):
    log = read_case_log(_file(tmp_path, "referral_date,case_id\n03/02/2024,B\n2024-01-01,A\n"))
    assert list(log.cases.case_id) == ["A", "B"] and list(log.cases.source) == ["nca", "nca"]
    others = [c for c in CASE_LOG_COLUMNS if c not in ("case_id", "referral_date", "source")]
    assert log.cases[others].isna().all().all()
    assert log.as_of == pd.Timestamp("2024-02-03")


# ------------------------------------------------------------------ refusals

DATE_ALLOWED = "not a date; dates are YYYY-MM-DD (a time after it is ignored) or DD/MM/YYYY (day first, never month first)"

REFUSALS = [
    ("empty", b"", {}, ["case_log=", "the file is empty; it needs a header row naming the columns"]),
    ("blank lines only", b"  \r\n\n", {}, ["the file is empty"]),
    ("binary", b"\x00\x01\x02PK\x03\x04 binary\xff", {}, ["holds binary data, not text"]),
    ("no known encoding", b"case_id,referral_date\n\x81\x8d,2024-01-01\n", {}, ["save it as CSV UTF-8"]),
    ("a header split both at commas and at semicolons", "case_id,referral_date;grade\nC1,2024-01-01;H\n", {},
     ["log.csv row 1='case_id,referral_date;grade': the header splits into columns both at ',' and at ';': save the "
      "file with one separator (Excel: CSV UTF-8, comma-separated)"]),
    ("a short row of a file separated by semicolons", GOOD.replace(",", ";") + "C8;2024-04-02\n", {},
     ["log.csv row 9='C8;2024-04-02': has 2 fields and the header names 14 columns"]),
    ("a bad value of a file separated by semicolons", _with(1, grade="X").replace(",", ";"), {},
     ["log.csv row 3 column grade='X': one of VH, H, M, L"]),
    ("tabs", GOOD.replace(",", "\t"), {}, ["columns separated by tabs; save it as comma-separated CSV"]),
    ("unclosed quote", 'case_id,referral_date\n"' + "1" * 200_000 + "\n", {}, ["is not a readable CSV"]),
    ("no referral_date column", "case_id,grade\nC1,H\n", {},
     ["has no referral_date column; every case log needs case_id and referral_date (a columns mapping"]),
    ("no case_id column", "referral_date\n2024-01-01\n", {}, ["has no case_id column"]),
    ("unknown column", "case_id,referral_date,colour\nC1,2024-01-01,red\n", {},
     ["unknown column(s) ['colour']; allowed: case_id, referral_date, source, grade,",
      "a columns mapping renames a force's own (columns={case_id: 'colour'})"]),
    ("header names in another case", "Case_ID,referral_date\nC1,2024-01-01\n", {}, ["unknown column(s) ['Case_ID']"]),
    ("a column twice", "case_id,referral_date,grade,grade\nC1,2024-01-01,H,H\n", {},
     ["column 'grade' appears twice in the header (columns C and D)"]),
    ("an unnamed column with values", "case_id,referral_date,\nC1,2024-01-01,x\n", {},
     ["header column 3 (C) has no name but holds values (a stray comma or cell?)"]),
    ("a row with an extra field", GOOD + "C8,2024-04-02" + "," * 12 + ",extra\n", {},
     ["log.csv row 9=", "has 15 fields and the header names 14 columns"]),
    ("a short row", GOOD + "C8,2024-04-02\n", {}, ["log.csv row 9='C8,2024-04-02': has 2 fields and the header names 14 columns"]),
    ("a header alone", HEADER + "\n", {}, ["lists no cases, only a header"]),
    ("a header and blank rows", HEADER + "\n" + "," * 13 + "\n\n", {}, ["lists no cases, only a header"]),
    ("a blank case_id", _with(2, case_id=""), {}, ["log.csv row 4 column case_id='': required: every case needs its case_id"]),
    ("a blank referral_date", _with(2, referral_date="  "), {},
     ["log.csv row 4 column referral_date='': required: every case needs its referral_date"]),
    ("a duplicate case_id", _with(4, case_id="C2"), {},
     ["log.csv row 6 column case_id='C2': also on row 3; every case is one row with its own case_id"]),
    *[(f"date {value}", _with(1, graded_date=value), {}, [f"log.csv row 3 column graded_date={value!r}: {DATE_ALLOWED}"])
      for value in ("2024-13-01", "31/02/2024", "01/25/2024", "yesterday", "05/01/24", "0024-01-05", "2024-01-05 25:00",
                    "45000", "2024.01.05")],
    ("a date after as_of", GOOD, {"as_of": "2024-04-09"},
     ["log.csv row 7 column closed_date='2024-04-10': after as_of 2024-04-09, the extract date: a log shows nothing later"]),
    ("a date before its referral", _with(1, allocated_date="2024-01-04"), {},
     ["log.csv row 3 column allocated_date='2024-01-04': before the row's referral_date 2024-01-05; "
      "nothing happens to a case before its referral"]),
    ("a closure before its referral", _with(3, closed_date="14/02/2024"), {},
     ["log.csv row 5 column closed_date='14/02/2024': before the row's referral_date 2024-02-15"]),
    ("an unknown source", _with(1, source="police"), {},
     ["log.csv row 3 column source='police': one of nca, direct (any letter case) or blank (nca)"]),
    ("an unknown grade", _with(1, grade="X"), {}, ["log.csv row 3 column grade='X': one of VH, H, M, L (any letter case) or blank"]),
    ("an unknown warrant_decision", _with(0, warrant_decision="maybe"), {},
     ["log.csv row 2 column warrant_decision='maybe': one of granted, refused (any letter case) or blank"]),
    ("an unknown outcome", _with(0, outcome="charged"), {},
     ["log.csv row 2 column outcome='charged': one of arrest, voluntary_interview, no_further_action, untraceable, "
      "duplicate (any letter case) or blank"]),
    ("an unknown regraded_to", _with(0, regraded_to="VVH"), {}, ["log.csv row 2 column regraded_to='VVH': one of VH, H, M, L"]),
    ("an unknown child_in_household", _with(0, child_in_household="maybe"), {},
     ["log.csv row 2 column child_in_household='maybe': true/false, 1/0, yes/no (any letter case) or blank"]),
    ("as_of not a date", GOOD, {"as_of": "tomorrow"}, [f"as_of='tomorrow': {DATE_ALLOWED}"]),
    ("as_of month first", GOOD, {"as_of": "04/30/2024"}, [f"as_of='04/30/2024': {DATE_ALLOWED}"]),
    ("as_of a number", GOOD, {"as_of": 20240430}, [f"as_of='20240430': {DATE_ALLOWED}"]),
    ("as_of before the first referral", GOOD, {"as_of": "2024-01-04"},
     ["as_of='2024-01-04': before the log's first referral (2024-01-05); the extract date is on or after every date"]),
    ("columns not a mapping", GOOD, {"columns": ["case_id"]},
     ["columns=\"['case_id']\": must be a mapping {case log column: the file's column}, e.g. {case_id: 'Ref No'}"]),
    ("columns the wrong way round", GOOD, {"columns": {"Ref": "case_id"}},
     ["columns='Ref': not a case log column (a mapping reads {case log column: the file's column}); "
      "the case log's columns: case_id, referral_date,"]),
    ("columns to a number", GOOD, {"columns": {"case_id": 5}},
     ["columns.case_id=5: must be the name of one of the file's columns, as text"]),
    ("columns to a blank", GOOD, {"columns": {"case_id": " "}}, ["columns.case_id=' ': must be the name"]),
    ("columns to a column the file lacks", GOOD, {"columns": {"grade": "Risk"}},
     ["columns.grade='Risk': ", "log.csv has no such column; its columns: case_id, referral_date, source,"]),
    ("columns naming one column twice", "case_id,Date\nC1,2024-01-01\n", {"columns": {"referral_date": "Date", "closed_date": "Date"}},
     ["columns.closed_date='Date': columns.referral_date names it too; each of the file's columns is one case log column"]),
    ("columns meeting the file's own", "case_id,referral_date,grade,Risk\nC1,2024-01-01,H,M\n", {"columns": {"grade": "Risk"}},
     ["column 'grade' is named twice: the file's own 'grade' and 'Risk' by the columns mapping"]),
]


@pytest.mark.parametrize("content, kwargs, fragments", [row[1:] for row in REFUSALS], ids=[row[0] for row in REFUSALS])
def test_bad_input_is_refused_in_one_line(tmp_path, content, kwargs, fragments):
    message = _refused(read_case_log, _file(tmp_path, content), **kwargs)
    for fragment in fragments:
        assert fragment in message


def test_a_missing_file_a_folder_and_unknown_suffixes(tmp_path):
    assert _refused(read_case_log, tmp_path / "nope.csv") == f"case_log={str(tmp_path / 'nope.csv')!r}: no such file"
    assert _refused(read_case_log, tmp_path).endswith(": not a file")
    message = _refused(read_case_log, _file(tmp_path, GOOD, "log.txt"))
    assert message.endswith(": a case log is a .csv, .xlsx or .parquet file")
    assert "save an old .xls workbook as .xlsx" in _refused(read_case_log, _file(tmp_path, GOOD, "log.xls"))


def test_the_file_is_named_as_given_however_long(tmp_path):
    folder = tmp_path / ("a-long-folder-name-" * 6)
    folder.mkdir()
    path = _file(folder, _with(1, grade="X"))
    assert _refused(read_case_log, path).startswith(f"{path} row 3 column grade='X': ")
    assert _refused(read_case_log, str(path), columns={"grade": "Risk"}).endswith(
        f"{path} has no such column; its columns: case_id, referral_date, source, grade, graded_date, allocated_date, "
        "warrant_applied_date, warrant_decision, warrant_decision_date, enforcement_date, outcome, closed_date, "
        "regraded_to, child_in_hous...")


def test_an_upper_case_suffix_is_read(tmp_path):
    assert len(read_case_log(_file(tmp_path, GOOD, "LOG.CSV")).cases) == len(ROWS)


@pytest.mark.parametrize("suffix, kind", [(".xlsx", "Excel workbook"), (".parquet", "parquet file")])
def test_a_file_that_is_not_what_its_suffix_says_is_refused(tmp_path, suffix, kind):
    for content in (GOOD.encode(), b"PK\x03\x04 not really a zip", b"PAR1 junk PAR1"):
        assert f"is not a readable {kind} (" in _refused(read_case_log, _file(tmp_path, content, "log" + suffix))


def test_sheets(tmp_path, good):
    path = tmp_path / "log.xlsx"
    write_case_log(good, path)
    assert _refused(read_case_log, path, sheet="Cases") == "sheet='Cases': log.xlsx has the sheets case log"
    assert "a sheet's name or its position from 0 to 0" in _refused(read_case_log, path, sheet=3)
    pd.testing.assert_frame_equal(read_case_log(path, sheet="case log").cases, good.cases)
    assert _refused(read_case_log, _file(tmp_path, GOOD), sheet=0) == "sheet=0: only an Excel (.xlsx) case log has sheets"


def test_a_file_past_the_byte_bound_is_refused(tmp_path, monkeypatch):
    for suffix in (".csv", ".parquet"):
        path = tmp_path / f"big{suffix}"
        write_case_log(pd.DataFrame({"case_id": ["C1"] * 50, "referral_date": ["2024-01-01"] * 50}), path)
        monkeypatch.setattr(caselog_files, "MAX_CASE_LOG_BYTES", path.stat().st_size - 1)
        assert "is larger than 0 MiB: not a case log (1.7 million cases fit in less)" in _refused(read_case_log, path)
        monkeypatch.undo()
    assert caselog_files.MAX_CASE_LOG_BYTES == 256 * 2**20


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_a_log_past_the_case_bound_is_refused(tmp_path, monkeypatch, good, suffix):
    path = tmp_path / f"log{suffix}"
    write_case_log(good, path)
    monkeypatch.setattr(caselog_files, "MAX_CASE_LOG_ROWS", len(ROWS) - 1)
    message = _refused(read_case_log, path)
    assert f"lists more than {len(ROWS) - 1} cases (cases in one replication, the most the model takes)" in message
    assert "lists more than" in _refused(case_log_from_frame, good.cases)
    monkeypatch.setattr(caselog_files, "MAX_CASE_LOG_ROWS", len(ROWS))
    assert len(read_case_log(path).cases) == len(ROWS)


@pytest.mark.parametrize("content, fragment", [
    ("case_id: [Ref", "is not a YAML mapping ("),
    ("- case_id\n- Ref\n", "must be a mapping {case log column: the file's column}"),
    ("   \n", "the file is empty; it needs one line a renamed column, like 'case_id: Ref No'"),
    ("case_id: 2024\n", "columns.case_id=2024: must be the name of one of the file's columns, as text (in YAML quote a number"),
])
def test_a_bad_columns_file_is_refused(tmp_path, content, fragment):
    mapping = _file(tmp_path, content, "columns.yaml")
    message = _refused(read_case_log, _file(tmp_path, GOOD), columns=mapping)
    assert message.startswith("columns") and fragment in message
    assert _refused(read_case_log, _file(tmp_path, GOOD), columns=tmp_path / "none.yaml").endswith("no such file")


def test_a_frame_is_refused_as_a_file_is_with_its_rows_numbered_as_written(good):
    frame = pd.read_csv(io.StringIO(_with(3, grade="X")), dtype=str, keep_default_na=False)
    assert _refused(case_log_from_frame, frame, name="extract") == (
        "extract row 5 column grade='X': one of VH, H, M, L (any letter case) or blank")
    with pytest.raises(TypeError):
        case_log_from_frame(GOOD)


# ------------------------------------------------------------------ warnings

WARNED = [
    (_with(1, allocated_date="2024-01-10"), "allocated_date before graded_date", "C2"),
    (_with(0, warrant_applied_date="2024-01-07"), "warrant_applied_date before allocated_date", "C1"),
    (_with(0, warrant_decision_date="2024-01-09"), "warrant_decision_date before warrant_applied_date", "C1"),
    (_with(0, enforcement_date="2024-01-10"), "enforcement_date before warrant_decision_date", "C1"),
    (_with(0, enforcement_date=""), "outcome arrest or voluntary_interview without enforcement_date", "C1"),
    (_with(0, outcome=""), "enforcement_date with a blank outcome", "C1"),
    (_with(0, warrant_decision_date=""), "warrant_decision without warrant_decision_date", "C1"),
    (_with(0, warrant_decision=""), "warrant_decision_date without warrant_decision", "C1"),
    (_with(3, regraded_to="H"), "regraded_to on an ungraded case", "C4"),
    (_with(2, closed_date=""), "outcome no_further_action, untraceable or duplicate without closed_date "
                               "(followed up to its last recorded date)", "C3"),
    (_with(5, closed_date=""), "outcome no_further_action, untraceable or duplicate without closed_date "
                               "(followed up to its last recorded date)", "C6"),
    (_with(1, closed_date="2024-03-05"), "closed_date with a blank outcome", "C2"),
]


@pytest.mark.parametrize("content, what, case_id", WARNED, ids=[f"{w[1][:40]} {w[2]}" for w in WARNED])
def test_a_suspicious_row_is_kept_and_warned_of(tmp_path, good, content, what, case_id):
    log = read_case_log(_file(tmp_path, content), as_of=AS_OF)
    assert log.warnings == (LogWarning(what, 1, (case_id,)),)
    assert list(log.cases.case_id) == list(good.cases.case_id)
    assert str(log.warnings[0]) == f"1 case: {what} (e.g. {case_id})"


def test_a_warning_counts_every_row_and_shows_five(tmp_path):
    rows = "".join(f"X{k},2024-01-0{k},,H,2024-01-0{k + 1},2024-01-0{k},,,,,,,,\n" for k in range(1, 8))
    log = read_case_log(_file(tmp_path, HEADER + "\n" + rows))
    assert log.warnings == (LogWarning("allocated_date before graded_date", 7, ("X1", "X2", "X3", "X4", "X5")),)
    assert str(log.warnings[0]).startswith("7 cases: allocated_date before graded_date (e.g. X1, ")


def test_closing_dates(good):
    closed = closing_dates(good.cases)
    assert list(closed.dt.strftime("%Y-%m-%d").fillna("open")) == [
        "2024-01-15", "open", "2024-03-20", "2024-02-16", "2024-04-01", "2024-04-10", "open"]


# ------------------------------------------------------------------ what spreadsheets save

def _padded(text: str, pad: str) -> str:
    return "\n".join(",".join(f"{pad}{field}{pad}" for field in line.split(",")) for line in text.splitlines()) + "\n"


def _uk(text: str) -> str:
    """Every ISO date of ``text`` written DD/MM/YYYY, day and month without their zeros."""
    import re
    return re.sub(r"(\d{4})-(\d\d)-(\d\d)", lambda m: f"{int(m[3])}/{int(m[2])}/{m[1]}", text)


ACCEPTED = {
    "utf-8 byte-order mark": codecs.BOM_UTF8 + GOOD.encode(),
    "CRLF line ends": GOOD.replace("\n", "\r\n"),
    "spaces around names and values": _padded(GOOD, "  "),
    "latin-1 no-break spaces": _padded(GOOD, "\xa0").encode("cp1252"),
    "utf-16": GOOD.encode("utf-16"),
    "letter case": GOOD.replace(",VH,", ",vh,").replace("arrest", "ARREST").replace("granted", "Granted")
                       .replace(",direct,", ",Direct,").replace(",true", ",TRUE").replace(",no", ",No"),
    "UK dates": _uk(GOOD),
    "time parts": GOOD.replace("2024-01-06", "2024-01-06 13:45:00").replace("2024-01-08", "2024-01-08T09:30")
                      .replace("2024-03-12", "12/03/2024 17:05"),
    "outcomes with spaces": GOOD.replace("no_further_action", "No Further Action"),
    "blank rows and a stray empty column": "\n" + _padded(GOOD, "").replace("\n", ",\n").replace(
        "C3,", "\n,,,,,,,,,,,,,,\nC3,"),
    "columns in another order": "\n".join(",".join(reversed(line.split(","))) for line in GOOD.splitlines()) + "\n",
    # Excel where the decimal mark is a comma: ";" between columns.
    "semicolons": GOOD.replace(",", ";"),
    "semicolons, a byte-order mark, CRLF and UK dates":
        codecs.BOM_UTF8 + _uk(GOOD).replace(",", ";").replace("\n", "\r\n").encode(),
    "semicolons in Windows-1252": GOOD.replace(",", ";").encode("cp1252"),
}


@pytest.mark.parametrize("content", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_what_spreadsheets_save_reads_as_meant(tmp_path, good, content):
    log = read_case_log(_file(tmp_path, content))
    pd.testing.assert_frame_equal(log.cases, good.cases)
    assert log.as_of == good.as_of and log.warnings == ()


def test_blank_rows_keep_the_row_numbers_of_the_file(tmp_path):
    content = _with(2, grade="X").replace("C3,", "\n\n,,\nC3,")  # three blank rows above the bad one
    assert "log.csv row 7 column grade='X'" in _refused(read_case_log, _file(tmp_path, content))


def test_a_letter_outside_ascii_reaches_the_message_as_written(tmp_path):
    message = _refused(read_case_log, _file(tmp_path, _with(1, grade="Élevé").encode("cp1252")))
    assert "row 3 column grade='Élevé'" in message
    log = read_case_log(_file(tmp_path, _with(1, case_id="Cé").encode("cp1252"), "ok.csv"))
    assert "Cé" in set(log.cases.case_id)


def test_a_columns_mapping_renames_a_forces_own(tmp_path, good):
    renamed = GOOD.replace("case_id", "Ref No", 1).replace("referral_date", "Date Received", 1).replace(",grade,", ",KIRAT,", 1)
    path = _file(tmp_path, renamed)
    mapping = {"case_id": "Ref No", "referral_date": " Date Received ", "grade": "KIRAT"}
    pd.testing.assert_frame_equal(read_case_log(path, columns=mapping).cases, good.cases)
    yaml_file = _file(tmp_path, "case_id: Ref No\nreferral_date: Date Received\ngrade: KIRAT\n", "columns.yaml")
    pd.testing.assert_frame_equal(read_case_log(path, columns=str(yaml_file)).cases, good.cases)
    pd.testing.assert_frame_equal(read_case_log(_file(tmp_path, GOOD, "plain.csv"), columns={"grade": "grade"}).cases,
                                  good.cases)


def test_a_header_split_both_ways_is_read_by_the_split_that_names_its_columns(tmp_path):
    # Separated by ";", one of the force's own names holding a comma: only the ";" split
    # names columns the log and its mapping know.
    path = _file(tmp_path, "Ref, No;referral_date;grade\nR1;2024-01-05;H\nR2;06/01/2024;\n")
    log = read_case_log(path, columns={"case_id": "Ref, No"})
    assert list(log.cases.case_id) == ["R1", "R2"] and list(log.cases.grade) == ["H", np.nan]
    message = _refused(read_case_log, path)
    assert "log.csv row 1='Ref, No;referral_date;grade': the header splits into columns both" in message


def test_an_excel_sheet_of_date_cells_numbers_and_truth_values(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Extract"
    # A blank row and a blank column before the table, as spreadsheets are often laid out.
    sheet.append([])
    sheet.append([None, "case_id", "referral_date", "grade", "graded_date", "child_in_household", None])
    sheet.append([None, 101, dt.datetime(2024, 1, 5), "h", dt.datetime(2024, 1, 6, 14, 30), True])
    sheet.append([None, 102.0, dt.date(2024, 1, 7), None, None, 0])
    sheet.append([None, "103", "08/01/2024", "L", "2024-01-09", "no"])
    sheet.append([None, 104, dt.datetime(2024, 1, 10), "M", 45000, None])
    path = tmp_path / "log.xlsx"
    workbook.save(path)
    message = _refused(read_case_log, path)
    assert message.endswith("log.xlsx row 6 column graded_date='45000': " + DATE_ALLOWED + ", in the years 1900 to 2199")
    sheet.delete_rows(6)
    workbook.save(path)
    log = read_case_log(path)
    expected = "case_id,referral_date,grade,graded_date,child_in_household\n101,2024-01-05,H,2024-01-06,true\n" \
               "102,2024-01-07,,,false\n103,2024-01-08,L,2024-01-09,false\n"
    pd.testing.assert_frame_equal(log.cases, read_case_log(_file(tmp_path, expected)).cases)


def test_an_empty_workbook_a_header_alone_and_a_stray_cell_are_refused(tmp_path):
    from openpyxl import Workbook

    def workbook(*rows: list, stray: str | None = None) -> Path:
        book = Workbook()
        for row in rows:
            book.active.append(row)
        if stray:
            book.active[stray] = "note"
        path = tmp_path / "log.xlsx"
        book.save(path)
        return path

    assert "the file is empty" in _refused(read_case_log, workbook())
    assert "lists no cases, only a header" in _refused(read_case_log, workbook(["case_id", "referral_date"]))
    message = _refused(read_case_log, workbook(["case_id", "referral_date"], ["A", dt.date(2024, 1, 1)], stray="D9"))
    assert message.endswith("header column 4 (D) has no name but holds values (a stray comma or cell?); name it or delete it")


# ------------------------------------------------------------------ writing and reading back

@pytest.fixture
def warned(tmp_path) -> CaseLog:
    """GOOD with a warning and every kind of value, UK dates among them."""
    return read_case_log(_file(tmp_path, _uk(_with(1, closed_date="2024-03-05")), "warned.csv"))


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_a_written_log_reads_back_the_same(tmp_path, warned, suffix):
    path = tmp_path / f"again{suffix}"
    write_case_log(warned, path)
    again = read_case_log(path)
    pd.testing.assert_frame_equal(again.cases, warned.cases)
    assert again.as_of == warned.as_of and again.warnings == warned.warnings and again.warnings
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_a_frame_in_the_file_form_is_written_as_it_is(tmp_path, good, suffix):
    frame = pd.read_csv(io.StringIO(GOOD), dtype=str, keep_default_na=False)
    path = tmp_path / f"frame{suffix}"
    write_case_log(frame, path)
    pd.testing.assert_frame_equal(read_case_log(path).cases, good.cases)
    pd.testing.assert_frame_equal(case_log_from_frame(frame).cases, good.cases)


def test_writing_to_an_unknown_suffix_is_refused(tmp_path, good):
    assert _refused(write_case_log, good, tmp_path / "log.json").endswith(
        "a case log is written as a .csv, .xlsx or .parquet file")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["good.csv"]


# ------------------------------------------------------------------ the log at an earlier date

def _frame(*rows: dict[str, str]) -> CaseLog:
    """A log from rows given by column (the rest blank), as_of its latest date."""
    return case_log_from_frame(pd.DataFrame([{c: row.get(c, "") for c in CASE_LOG_COLUMNS} for row in rows]))


def test_until_keeps_the_cases_referred_by_then_and_blanks_every_later_date(good):
    cut = good.until("2024-03-01")
    assert cut.as_of == pd.Timestamp("2024-03-01") and cut.name == good.name
    assert list(cut.cases.case_id) == ["C1", "C2", "C3", "C4", "C5"]  # C5 referred on the day itself
    for column in DATE_COLUMNS:
        assert (cut.cases[column].dropna() <= cut.as_of).all()
        kept = good.cases[column].iloc[:5]
        pd.testing.assert_series_equal(cut.cases[column], kept.where(kept <= cut.as_of), check_names=False)
    c1 = cut.cases.iloc[0]
    assert (c1.grade, c1.warrant_decision, c1.outcome, c1.regraded_to) == ("VH", "granted", "arrest", "VH")
    assert cut.cases.iloc[3].outcome == "duplicate"  # closed 2024-02-16


def test_until_blanks_a_grade_assigned_later(good):
    cut = good.until("2024-03-01")
    assert list(cut.cases.grade.astype(object).fillna("-")) == ["VH", "L", "M", "-", "-"]  # C5 graded 2024-03-02


def test_until_keeps_an_undated_grade_only_where_a_later_stage_proves_it():
    log = _frame({"case_id": "A", "referral_date": "2024-01-01", "grade": "H", "allocated_date": "2024-02-01"},
                 {"case_id": "B", "referral_date": "2024-01-01", "grade": "M", "enforcement_date": "2024-03-01",
                  "outcome": "arrest"},
                 {"case_id": "C", "referral_date": "2024-01-01", "grade": "L"})
    grades = lambda day: list(log.until(day).cases.grade.astype(object).fillna("-"))  # noqa: E731
    assert grades("2024-01-31") == ["-", "-", "-"]
    assert grades("2024-02-01") == ["H", "-", "-"]
    assert grades("2024-03-01") == ["H", "M", "L"]  # as_of: the extract itself shows C's grade
    assert grades("2024-02-29") == ["H", "-", "-"]


def test_until_blanks_a_warrant_decision_with_its_date():
    log = _frame({"case_id": "A", "referral_date": "2024-01-01", "warrant_decision": "refused",
                  "warrant_decision_date": "2024-02-01", "outcome": "no_further_action", "closed_date": "2024-02-10"},
                 {"case_id": "B", "referral_date": "2024-01-01", "warrant_decision": "granted",
                  "enforcement_date": "2024-02-05", "outcome": "arrest"})
    decisions = lambda day: list(log.until(day).cases.warrant_decision.astype(object).fillna("-"))  # noqa: E731
    assert decisions("2024-01-31") == ["-", "-"]
    assert decisions("2024-02-01") == ["refused", "-"]
    assert decisions("2024-02-05") == ["refused", "granted"]  # undated, but the warrant was executed


def test_until_keeps_an_outcome_only_once_the_date_that_closed_it_has_passed():
    log = _frame(
        {"case_id": "arrest", "referral_date": "2024-01-01", "enforcement_date": "2024-02-01", "outcome": "arrest",
         "closed_date": "2024-01-15"},
        {"case_id": "nfa", "referral_date": "2024-01-01", "outcome": "no_further_action", "closed_date": "2024-02-01",
         "enforcement_date": "2024-01-20"},
        {"case_id": "untraced-at-door", "referral_date": "2024-01-01", "outcome": "untraceable",
         "enforcement_date": "2024-02-01", "closed_date": "2024-01-10"},
        {"case_id": "untraced-at-research", "referral_date": "2024-01-01", "outcome": "untraceable",
         "closed_date": "2024-02-01"},
        {"case_id": "undated", "referral_date": "2024-01-01", "outcome": "duplicate"},
        {"case_id": "later", "referral_date": "2024-01-01", "closed_date": "2024-03-01", "outcome": "duplicate"},
    )
    def outcomes(day: str) -> dict[str, str]:
        cases = log.until(day).cases
        return dict(zip(cases.case_id, cases.outcome.astype(object).fillna("open")))

    assert set(outcomes("2024-01-31").values()) == {"open"}
    closed_by_february = {"arrest": "arrest", "nfa": "no_further_action", "untraced-at-door": "untraceable",
                          "untraced-at-research": "untraceable", "undated": "open", "later": "open"}
    assert outcomes("2024-02-01") == closed_by_february
    assert outcomes("2024-02-29") == closed_by_february
    assert outcomes("2024-03-01") == {**closed_by_february, "undated": "duplicate", "later": "duplicate"}  # as_of


def test_until_keeps_a_regrading_only_on_a_case_closed_by_then():
    log = _frame({"case_id": "A", "referral_date": "2024-01-01", "grade": "L", "graded_date": "2024-01-02",
                  "outcome": "no_further_action", "closed_date": "2024-02-01", "regraded_to": "H"},
                 {"case_id": "B", "referral_date": "2024-01-01", "grade": "M", "graded_date": "2024-01-02",
                  "regraded_to": "VH", "allocated_date": "2024-03-01"})
    regraded = lambda day: list(log.until(day).cases.regraded_to.astype(object).fillna("-"))  # noqa: E731
    assert regraded("2024-01-31") == ["-", "-"]
    assert regraded("2024-02-01") == ["H", "-"]
    assert regraded("2024-03-01") == ["H", "VH"]


def test_until_recomputes_the_warnings(tmp_path):
    # C3, executed on 2024-03-08 and closed no further action on 2024-03-20: an extract at the
    # end of 2024-03-10 shows the enforcement and no outcome yet, and says so.
    log = read_case_log(_file(tmp_path, _with(2, enforcement_date="2024-03-08")))
    assert log.warnings == ()
    assert log.until("2024-03-10").warnings == (LogWarning("enforcement_date with a blank outcome", 1, ("C3",)),)


def test_until_as_of_is_the_log_itself(good, warned):
    undated = _frame({"case_id": "A", "referral_date": "2024-01-01", "grade": "L", "outcome": "duplicate",
                      "warrant_decision": "granted", "regraded_to": "H"},
                     {"case_id": "B", "referral_date": "2024-01-05"})
    for log in (good, warned, undated):
        same = log.until(log.as_of)
        pd.testing.assert_frame_equal(same.cases, log.cases)
        assert (same.as_of, same.name, same.warnings) == (log.as_of, log.name, log.warnings)


def test_until_of_until_is_until(warned):
    days = pd.date_range("2024-01-05", warned.as_of, freq="11D")
    for later in days[::2]:
        for earlier in days[days <= later]:
            pd.testing.assert_frame_equal(warned.until(later).until(earlier).cases, warned.until(earlier).cases)


def test_an_earlier_extract_reads_back_as_such(tmp_path, warned):
    for day in ("2024-01-11", "2024-02-20", "2024-03-11"):
        cut = warned.until(day)
        write_case_log(cut, tmp_path / "cut.csv")
        again = read_case_log(tmp_path / "cut.csv", as_of=day)
        pd.testing.assert_frame_equal(again.cases, cut.cases)
        assert again.warnings == cut.warnings


def test_until_refuses_a_day_outside_the_log(good):
    assert _refused(good.until, "2024-04-11") == "until='2024-04-11': after the log's as_of 2024-04-10: the log shows nothing later"
    assert _refused(good.until, "2024-01-04") == "until='2024-01-04': before the log's first referral (2024-01-05)"
    assert _refused(good.until, "March").startswith("until='March': not a date; dates are")
    assert _refused(good.until, pd.NaT).startswith("until='NaT': not a date")


# ------------------------------------------------------------------ property tests

PROPERTY = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _read_or_refuse(path: Path) -> CaseLog | None:
    """A valid CaseLog or a one-line ConfigError: nothing else escapes."""
    try:
        log = read_case_log(path)
    except ConfigError as exc:
        assert "\n" not in str(exc) and "\r" not in str(exc)
        return None
    cases = log.cases
    assert len(cases) > 0 and tuple(cases.columns) == CASE_LOG_COLUMNS and cases["case_id"].is_unique
    assert cases["referral_date"].is_monotonic_increasing
    for column in DATE_COLUMNS:
        assert not (cases[column] > log.as_of).any() and not (cases[column] < cases["referral_date"]).any()
    return log


@PROPERTY
@given(content=st.binary(max_size=600))
def test_random_bytes_read_or_refuse_in_one_line(tmp_path, content):
    _read_or_refuse(_file(tmp_path, content))


@settings(PROPERTY, max_examples=40)
@given(content=st.binary(max_size=300), suffix=st.sampled_from([".xlsx", ".parquet"]))
def test_random_bytes_as_a_workbook_or_parquet_refuse_in_one_line(tmp_path, content, suffix):
    assert _read_or_refuse(_file(tmp_path, content, "log" + suffix)) is None


@PROPERTY
@given(content=st.text(max_size=400))
def test_random_text_reads_or_refuses_in_one_line(tmp_path, content):
    _read_or_refuse(_file(tmp_path, content))


# Mostly well-formed logs, each part now and then wrong, so both answers are exercised.
VALUES = {  # case_id: each row its own, now and then blank, quoted or repeated (see log_like)
    "referral_date": ["2024-01-01", "02/01/2024", "2024-01-03"] * 5 + ["", "2024-02-30", "01/13/2024"],
    "source": ["", "nca", "DIRECT"] * 5 + ["police"],
    "grade": ["", "VH", "h", "M", "L"] * 4 + ["X"],
    "graded_date": ["", "2024-01-04", "05/01/2024"] * 5 + ["2023-12-31", "x"],
    "allocated_date": ["", "2024-01-06", "2024-01-02"] * 5 + ["2099-01-01"],
    "warrant_applied_date": ["", "2024-01-07", "08/01/2024"] * 5,
    "warrant_decision": ["", "granted", "Refused"] * 5 + ["maybe"],
    "warrant_decision_date": ["", "2024-01-09"] * 5,
    "enforcement_date": ["", "2024-01-10", "11/01/2024 10:00"] * 5,
    "outcome": ["", "arrest", "No further action", "untraceable", "duplicate", "voluntary_interview"] * 3 + ["charged"],
    "closed_date": ["", "2024-01-12"] * 5,
    "regraded_to": ["", "VH", "l"] * 5 + ["?"],
    "child_in_household": ["", "true", "No", "1"] * 4 + ["maybe"],
}
JUNK = st.sampled_from(['"', '"a,b"', "\t", ";", "\ufeff", "colour", "\x00", ""])


@st.composite
def log_like(draw) -> str:
    others = draw(st.lists(st.sampled_from(CASE_LOG_COLUMNS[2:]), unique=True, max_size=12))
    columns = draw(st.permutations(["case_id", "referral_date", *others]))
    header = [c if draw(st.integers(0, 39)) else draw(JUNK) for c in columns]
    lines = [header]
    for k in range(draw(st.integers(0, 6))):
        own = draw(st.sampled_from([f"C{k}"] * 30 + [f" C{k} ", "", "C0", '"a,b"']))
        row = [(own if c == "case_id" else draw(st.sampled_from(VALUES[c]))) if draw(st.integers(0, 59)) else draw(JUNK)
               for c in columns]
        lines.append(row + [draw(JUNK)] * draw(st.sampled_from([0] * 39 + [1])))
    return "\n".join(",".join(line) for line in lines) + draw(st.sampled_from(["\n", "", "\n\n"]))


@settings(PROPERTY, max_examples=100)
@given(text=log_like(), encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
def test_log_like_text_reads_or_refuses_in_one_line(tmp_path, text, encoding):
    log = _read_or_refuse(_file(tmp_path, text.encode(encoding, errors="replace")))
    if log is not None:  # and a log read is its own extract at as_of, and an earlier one is readable
        pd.testing.assert_frame_equal(log.until(log.as_of).cases, log.cases)
        first = log.cases["referral_date"].iloc[0]
        cut = log.until(first)
        write_case_log(cut, tmp_path / "cut.csv")
        pd.testing.assert_frame_equal(read_case_log(tmp_path / "cut.csv", as_of=first).cases, cut.cases)
