"""The initial-backlog CSV as spreadsheets save it: what is accepted, and one line for the rest.

Every refusal is a ConfigError naming the file (and the row and column when there is one),
never a traceback; the property tests at the end feed random bytes and random text."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.config.backlog import BACKLOG_CSV_COLUMNS, read_backlog_csv
from sim.config.limits import DAYS
from sim.errors import ConfigError

GOOD = "age_days,stage,assigned_grade,true_risk,child_in_household\n400,allocation,L,H,true\n30,research,,,\n"


def _file(tmp_path: Path, content: str | bytes, name: str = "backlog.csv") -> Path:
    p = tmp_path / name
    if isinstance(content, str):
        p.write_text(content, encoding="utf-8", newline="")
    else:
        p.write_bytes(content)
    return p


def _refused(path: Path) -> str:
    """The one-line message reading ``path`` gives."""
    with pytest.raises(ConfigError) as err:
        read_backlog_csv(path)
    message = str(err.value)
    assert "\n" not in message and "\r" not in message
    return message


def test_a_plain_file_reads_every_row(tmp_path):
    cases = read_backlog_csv(_file(tmp_path, GOOD))
    assert [(c.age_days, c.stage, c.assigned_grade, c.true_risk, c.child_in_household) for c in cases] == [
        (400.0, "allocation", "L", "H", True), (30.0, "research", None, None, None)]


def test_excel_utf8_byte_order_mark_is_accepted(tmp_path):
    plain = read_backlog_csv(_file(tmp_path, GOOD, "plain.csv"))
    assert read_backlog_csv(_file(tmp_path, codecs.BOM_UTF8 + GOOD.encode(), "bom.csv")) == plain


def test_spaces_around_header_names_and_values_are_accepted(tmp_path):
    spaced = " age_days , stage,assigned_grade ,true_risk,  child_in_household\r\n 400 ,allocation, L,H , TRUE\r\n30,research,,,\r\n"
    assert read_backlog_csv(_file(tmp_path, spaced)) == read_backlog_csv(_file(tmp_path, GOOD, "plain.csv"))


def test_windows_1252_text_is_read_as_written(tmp_path):
    # A latin-1 file is not UTF-8; its no-break spaces pad the values and are stripped, and a
    # letter outside ASCII reaches the message as the letter written, not as mojibake.
    padded = "age_days,stage,assigned_grade\n400\xa0,allocation,L\n"
    assert read_backlog_csv(_file(tmp_path, padded.encode("cp1252"))) == read_backlog_csv(
        _file(tmp_path, "age_days,stage,assigned_grade\n400,allocation,L\n", "plain.csv"))
    message = _refused(_file(tmp_path, "age_days,stage,assigned_grade\n12,allocatión,L\n".encode("cp1252")))
    assert "row 2 column stage='allocatión'" in message


def test_utf16_with_its_byte_order_mark_is_accepted(tmp_path):
    assert read_backlog_csv(_file(tmp_path, GOOD.encode("utf-16"))) == read_backlog_csv(_file(tmp_path, GOOD, "plain.csv"))


def test_bytes_that_are_no_known_encoding_are_refused(tmp_path):
    # 0x81 and 0x8d are neither UTF-8 here nor defined in Windows-1252.
    assert "save it as CSV UTF-8" in _refused(_file(tmp_path, b"age_days\n\x81\x8d\n"))


@pytest.mark.parametrize("separator,named", [("\t", "tabs"), ("|", "'|'")])
def test_a_file_separated_by_tabs_names_the_separator(tmp_path, separator, named):
    text = GOOD.replace(",", separator)
    message = _refused(_file(tmp_path, text))
    assert f"columns separated by {named}; save it as comma-separated CSV" in message
    assert "age_days' column" not in message


# As Excel saves it where the decimal mark is a comma: ";" between columns, decimal commas,
# a byte-order mark and Windows line ends.
EXCEL_SEMICOLONS = ("age_days;stage;assigned_grade;true_risk;child_in_household\r\n"
                    "400,5;allocation;L;H;true\r\n30;research;;;\r\n0,25;planning;M;;no\r\n")
PLAIN = ("age_days,stage,assigned_grade,true_risk,child_in_household\n"
         "400.5,allocation,L,H,true\n30,research,,,\n0.25,planning,M,,no\n")


@pytest.mark.parametrize("encode", [str.encode, lambda text: codecs.BOM_UTF8 + text.encode(),
                                    lambda text: text.encode("cp1252"), lambda text: text.encode("utf-16")],
                         ids=["utf-8", "bom", "cp1252", "utf-16"])
def test_semicolons_and_decimal_commas_read_as_the_plain_file(tmp_path, encode):
    cases = read_backlog_csv(_file(tmp_path, encode(EXCEL_SEMICOLONS)))
    assert cases == read_backlog_csv(_file(tmp_path, PLAIN, "plain.csv"))
    assert [c.age_days for c in cases] == [400.5, 30.0, 0.25]


def test_a_quoted_decimal_comma_in_a_comma_separated_file_is_refused(tmp_path):
    # Only a file separated by ";" has decimal commas: in a comma-separated one, "12,5" is a typo.
    assert 'row 2 column age_days=\'12,5\'' in _refused(_file(tmp_path, 'age_days,stage\n"12,5",research\n'))


@pytest.mark.parametrize("age", ["1.234", "12.5", "1.234,5", "12,5,1", "12;5"])
def test_an_age_a_semicolon_file_cannot_mean_one_way_is_refused_by_row_and_column(tmp_path, age):
    text = f"age_days;stage\n10;research\n\"{age}\";research\n"
    message = _refused(_file(tmp_path, text))
    assert message.startswith(f"backlog.csv row 3 column age_days={age!r}: a number of days from 0 to 36,525")
    assert "with a decimal comma (12,5) in a file separated by ';'" in message


def test_a_header_split_both_at_commas_and_at_semicolons_is_refused_by_row(tmp_path):
    message = _refused(_file(tmp_path, "\n;\nage_days,stage;assigned_grade\n10,research;L\n"))
    assert message == ("backlog.csv row 3='age_days,stage;assigned_grade': the header splits into columns both at "
                       "',' and at ';': save the file with one separator (Excel: CSV UTF-8, comma-separated)")


def test_a_header_without_rows_is_refused_with_how_to_run_no_backlog(tmp_path):
    p = _file(tmp_path, "age_days,stage,assigned_grade\n\n")
    message = _refused(p)
    assert "lists no cases" in message and "demand.initial_backlog.counts={VH:0,H:0,M:0,L:0}" in message
    with pytest.raises(ConfigError, match="lists no cases"):
        sim.load_config([f"demand.initial_backlog.csv={p}"])
    # ... and the way the message gives runs with no backlog at all.
    assert sim.load_config(["demand.initial_backlog.counts={VH:0,H:0,M:0,L:0}"]).demand.initial_backlog.size == 0


def test_a_repeated_header_column_is_refused_by_name(tmp_path):
    message = _refused(_file(tmp_path, "age_days,stage,assigned_grade,stage\n10,allocation,L,research\n"))
    assert "column 'stage' appears twice in the header" in message


def test_a_header_column_without_a_name_is_refused(tmp_path):
    assert "header column 3 has no name" in _refused(_file(tmp_path, "age_days,assigned_grade,\n10,L,\n"))


def test_a_row_with_more_fields_than_the_header_is_refused_by_row(tmp_path):
    message = _refused(_file(tmp_path, "age_days,assigned_grade\n10,L\n12,M,extra\n"))
    assert "backlog.csv row 3=" in message and "has 3 fields and the header names 2 columns" in message


def test_a_row_with_fewer_fields_than_the_header_is_refused_by_row(tmp_path):
    # Read by name, a short row would leave its last columns silently empty.
    message = _refused(_file(tmp_path, "age_days,stage,assigned_grade\n10,allocation,L\n30,research\n"))
    assert "backlog.csv row 3=" in message and "has 2 fields and the header names 3 columns" in message


def test_blank_rows_are_skipped_and_rows_keep_their_line_numbers(tmp_path):
    p = _file(tmp_path, "age_days,assigned_grade\n10,L\n\n,\n12,X\n")
    assert "row 5 column assigned_grade='X'" in _refused(p)
    assert len(read_backlog_csv(_file(tmp_path, "age_days,assigned_grade\n10,L\n\n,\n12,M\n", "ok.csv"))) == 2


@pytest.mark.parametrize("age", ["1e300", "inf", "nan", "-1", "36526", "ten"])
def test_an_age_outside_0_to_100_years_is_refused(tmp_path, age):
    message = _refused(_file(tmp_path, f"age_days,assigned_grade\n{age},L\n"))
    assert f"row 2 column age_days='{age}'" in message and "from 0 to 36,525 (a century)" in message


def test_an_age_of_100_years_is_accepted(tmp_path):
    cases = read_backlog_csv(_file(tmp_path, f"age_days,assigned_grade\n{DAYS.value:g},L\n0,M\n"))
    assert [c.age_days for c in cases] == [DAYS.value, 0.0]


@pytest.mark.parametrize("content,fragment", [
    (b"", "the file is empty"),
    (b"  \r\n\n", "the file is empty"),
    (b"\x00\x01\x02PK\x03\x04 binary\xff", "holds binary data"),
    (b"age_days\x00,stage\n1,research\n", "holds binary data"),
])
def test_empty_and_binary_files_are_refused(tmp_path, content, fragment):
    message = _refused(_file(tmp_path, content))
    assert fragment in message and "demand.initial_backlog.csv=" in message


def test_a_folder_or_a_missing_file_is_refused(tmp_path):
    assert "not a file" in _refused(tmp_path)
    assert "no such file" in _refused(tmp_path / "nope.csv")


def test_a_malformed_quote_is_one_line(tmp_path):
    # A field longer than the csv module allows (an unclosed quote swallows the file).
    p = _file(tmp_path, 'age_days,assigned_grade\n"' + "1" * 200_000 + "\n")
    assert "is not a readable CSV" in _refused(p)


def test_an_unknown_column_is_named_and_a_long_one_cut_short(tmp_path):
    message = _refused(_file(tmp_path, "age_days,colour," + "x" * 500 + "\n3,red,1\n"))
    assert "unknown column(s) ['colour', 'xxx" in message and len(message) < 300


# casesim on a bad backlog CSV (one line, exit 2, nothing written): tests/test_bad_input.py.


# ------------------------------------------------------------------ property tests

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _read_or_refuse(path: Path) -> None:
    """Either cases, each a valid one, or a one-line ConfigError: nothing else escapes."""
    try:
        cases = read_backlog_csv(path)
    except ConfigError as exc:
        assert "\n" not in str(exc) and "\r" not in str(exc)
        return
    assert cases and all(0 <= c.age_days <= DAYS.value for c in cases)


@PROPERTY
@given(content=st.binary(max_size=600))
def test_random_bytes_read_or_refuse_in_one_line(tmp_path, content):
    _read_or_refuse(_file(tmp_path, content))


@PROPERTY
@given(content=st.text(max_size=400))
def test_random_text_reads_or_refuses_in_one_line(tmp_path, content):
    _read_or_refuse(_file(tmp_path, content))


# Mostly well-formed files, each part now and then wrong, so both answers are exercised.
VALUES = {  # the valid values several times over, so that whole files are valid often enough
    "age_days": ["0", "12.5", " 400 ", "36525"] * 4 + ["1e300", "-3", "nan", "", "ten"],
    "stage": ["", "allocation", "research", "assessment"] * 4 + ["court"],
    "assigned_grade": ["VH", "H", "M", "L"] * 4 + ["", "X"],
    "true_risk": ["VH", "L", ""] * 4 + ["é"],
    "child_in_household": ["", "true", "no", "1"] * 4 + ["maybe"],
}
JUNK = st.sampled_from(['"', '"a,b"', "\t", ";", "\ufeff", "colour"])


@st.composite
def csv_like(draw) -> str:
    others = draw(st.lists(st.sampled_from(["stage", "true_risk", "child_in_household"]), unique=True, max_size=3))
    columns = draw(st.permutations(["age_days", "assigned_grade", *others]))
    header = [draw(st.sampled_from([c, f" {c} "])) if draw(st.integers(0, 29)) else draw(JUNK) for c in columns]
    lines = [header]
    for _ in range(draw(st.integers(0, 5))):
        row = [draw(st.sampled_from(VALUES[c])) if draw(st.integers(0, 49)) else draw(JUNK) for c in columns]
        lines.append(row + [draw(JUNK)] * draw(st.sampled_from([0] * 29 + [1])))
    return "\n".join(",".join(line) for line in lines) + draw(st.sampled_from(["\n", "", "\n\n"]))


@PROPERTY
@given(text=csv_like(), encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
def test_csv_like_text_reads_or_refuses_in_one_line(tmp_path, text, encoding):
    _read_or_refuse(_file(tmp_path, text.encode(encoding, errors="replace")))
