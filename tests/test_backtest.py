"""Back-test against committed results: seeded runs must reproduce the tables in
``tests/expected/`` exactly (to float round-off). A change meant to move the numbers
regenerates them with ``python tests/expected/regenerate.py`` and says why in its commit."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

_SPEC = importlib.util.spec_from_file_location("regenerate", Path(__file__).parent / "expected" / "regenerate.py")
regenerate = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(regenerate)


def assert_same_table(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Equal to float round-off: any change in the model's numbers shows."""
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-9, atol=1e-12)


def read_expected(run: str, table: str) -> pd.DataFrame:
    return pd.read_csv(regenerate.expected_path(run, table), keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module", params=sorted(regenerate.RUNS))
def run_tables(request):
    return request.param, regenerate.tables(regenerate.RUNS[request.param])


@pytest.mark.parametrize("table", regenerate.TABLES)
def test_seeded_tables_match_committed(run_tables, table):
    run, tables = run_tables
    expected = read_expected(run, table)
    # Through CSV and back, so both sides carry the same dtypes.
    got = pd.read_csv(pd.io.common.StringIO(tables[table].to_csv(index=False, float_format="%.17g")),
                      keep_default_na=False, na_values=[""])
    assert list(got.columns) == list(expected.columns)
    assert len(got) == len(expected), f"{run} {table}: {len(got)} rows, committed {len(expected)}"
    assert_same_table(got, expected)


@pytest.mark.parametrize("run", sorted(regenerate.RUNS))
def test_backtest_detects_a_change(run):
    """The comparison the back-test uses is sharp: one estimate moved by one part in a
    million fails it."""
    expected = read_expected(run, "summary")
    moved = expected.copy()
    moved.loc[moved["estimate"].first_valid_index(), "estimate"] *= 1 + 1e-6
    with pytest.raises(AssertionError):
        assert_same_table(moved, expected)
