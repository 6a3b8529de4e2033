"""The catalogue of metrics (``sim.results.catalogue``) is the single source of metric names
and keys: the summary produces exactly its metrics, every named selection names rows the
summary produces, the tables are keyed by its columns, and docs/outputs.md lists the same
metrics."""

from __future__ import annotations

import ast
import fnmatch
import inspect
import re
from pathlib import Path

import numpy as np
import pytest

from sim.results import catalogue
from sim.results.catalogue import (
    BREAKDOWNS,
    FAMILIES,
    KEY_COLUMNS,
    METRICS,
    REPLICATION_METRIC_COLUMNS,
    SELECTIONS,
    SUMMARY_COLUMN_TYPES,
    SUMMARY_COLUMNS,
    metric,
)
from sim.results.summary import replication_metrics, summarise

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def summary(quick_results):
    return quick_results.summary()


def test_the_summary_produces_exactly_the_catalogued_metrics(summary):
    produced = set(summary["metric"])
    assert produced - set(METRICS) == set(), "metrics the summary gives that the catalogue does not list"
    assert set(METRICS) - produced == set(), "catalogued metrics the summary never gives"


def test_every_named_selection_names_rows_the_summary_produces(summary, quick_results):
    total = summary[summary["force"] == quick_results.config.total_name]
    rows = set(total[KEY_COLUMNS[1:]].itertuples(index=False, name=None))
    for name, selection in SELECTIONS.items():
        assert selection, name
        assert len(set(selection)) == len(selection), f"{name} names a row twice"
        missing = [key for key in selection if key not in rows]
        assert missing == [], f"{name}: {missing} are not rows of the summary"


def test_the_selections_are_the_ones_their_users_default_to():
    from sim.results.comparison import HEADLINE
    from sim.results.replication_count import DEFAULT_KEYS
    from sim.results.sensitivity import TAIL_METRICS, regression_indices

    assert HEADLINE is catalogue.HEADLINE
    assert TAIL_METRICS is catalogue.TAIL_METRICS
    assert DEFAULT_KEYS is catalogue.REPLICATION_KEYS
    assert inspect.signature(regression_indices).parameters["metrics"].default is catalogue.TAIL_METRICS


def test_the_breakdowns_are_the_values_of_by(summary):
    assert set(summary["by"]) == set(BREAKDOWNS)


def test_tables_are_keyed_by_the_catalogue_columns(summary, quick_results):
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert list(SUMMARY_COLUMN_TYPES) == SUMMARY_COLUMNS
    per_replication = replication_metrics(quick_results)
    assert list(per_replication.columns) == REPLICATION_METRIC_COLUMNS
    assert not summary.duplicated(KEY_COLUMNS).any()


def test_shares_stay_in_zero_to_one_and_nothing_is_negative(summary):
    for column in ("estimate", "ci_low", "ci_high"):
        values = summary[column].to_numpy(dtype=float)
        assert (values[np.isfinite(values)] >= 0).all(), column
    shares = summary[summary["metric"].map(lambda name: metric(name).unit == "share")]
    assert len(shares)
    values = shares[["estimate", "ci_low", "ci_high"]].to_numpy(dtype=float)
    assert (values[np.isfinite(values)] <= 1).all()


def test_every_metric_says_its_unit_meaning_and_direction():
    for entry in METRICS.values():
        assert entry.unit and entry.meaning, entry.name
        assert entry.better in (catalogue.LOWER, catalogue.HIGHER, catalogue.NEITHER), entry.name
        assert "{member}" not in entry.meaning, entry.name


def test_a_family_names_its_members_and_tells_them_back():
    for family in FAMILIES:
        for member in family.members:
            assert family.member_of(family.name(member)) == member
            assert family.name(member) in METRICS
        assert family.member_of("not_a_metric") is None
    assert catalogue.STAGE_TIME.name("planning") == "mean_time_days_planning"


def test_an_unknown_metric_is_refused_by_name():
    with pytest.raises(KeyError, match="no_such_metric"):
        metric("no_such_metric")


def _documented_metric_names() -> list[str]:
    """The names in the first column of the summary's metric table in docs/outputs.md."""
    text = (ROOT / "docs" / "outputs.md").read_text()
    table = text.split("| metric | meaning |", 1)[1].split("\n\n", 1)[0]
    names = []
    for line in table.splitlines()[2:]:
        names += re.findall(r"`([^`]+)`", line.split("|")[1])
    return names


def test_docs_list_the_catalogued_metrics_and_no_others():
    documented = _documented_metric_names()
    assert documented, "no metric table found in docs/outputs.md"
    undocumented = [name for name in METRICS if not any(fnmatch.fnmatchcase(name, doc) for doc in documented)]
    assert undocumented == []
    stale = [doc for doc in documented if not any(fnmatch.fnmatchcase(name, doc) for name in METRICS)]
    assert stale == []


def test_summary_does_not_import_the_tables_module():
    """``Results.summary()`` calls ``summarise``; ``summarise`` reads tables through a
    protocol, so the two modules do not import each other (not even for type checking)."""
    source = (ROOT / "sim" / "results" / "summary.py").read_text()
    imported = {node.module for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.ImportFrom) and node.module}
    assert "tables" not in imported and "sim.results.tables" not in imported


def test_results_summary_is_summarise_at_its_level(quick_results, summary):
    assert summary.equals(summarise(quick_results))
    wider = quick_results.summary(level=0.99)
    assert wider["estimate"].equals(summary["estimate"])
    width_95 = (summary["ci_high"] - summary["ci_low"]).to_numpy(dtype=float)
    width_99 = (wider["ci_high"] - wider["ci_low"]).to_numpy(dtype=float)
    spread = np.isfinite(width_95) & (width_95 > 0)
    assert spread.sum() > 10
    assert (width_99[spread] >= width_95[spread]).all()
    # Above the estimate only shares are clipped (at 1): elsewhere the 99 % interval reaches further.
    unclipped = spread & ~summary["metric"].map(lambda name: metric(name).unit == "share").to_numpy()
    assert unclipped.any()
    assert (wider["ci_high"] > summary["ci_high"]).to_numpy()[unclipped].all()


def test_the_tail_selection_leads_with_metrics_defined_at_every_point():
    """A sensitivity analysis's default metrics start with the restricted mean and the shares,
    which congestion cannot leave undefined; the one quantile, the 99th percentile, comes last."""
    quantiles = {catalogue.TIME_TO_ARREST.name(q) for q in catalogue.TIME_TO_ARREST.members}
    tail = catalogue.TAIL_METRICS
    assert tail[0] == (catalogue.RESTRICTED_MEAN_TIME_TO_ARREST, "all", "all")
    assert tail[-1] == ("time_to_arrest_p99_days", "all", "all")
    assert not [key for key in tail[:-1] if key[0] in quantiles]
    assert all(metric(name).unit in ("share", "days", "cases") for name, _, _ in tail)


def test_the_fixed_days_are_in_the_names_and_548_days_is_not_repeated():
    assert catalogue.RESTRICTED_MEAN_TIME_TO_ARREST.endswith(f"_{catalogue.RESTRICTED_MEAN_DAYS:.0f}_days")
    assert metric(catalogue.RESTRICTED_MEAN_TIME_TO_ARREST).unit == "days"
    for member, days in catalogue.SHARE_WAITING_DAYS.items():
        name = catalogue.SHARE_WAITING_PAST.name(member)
        assert name == f"share_waiting_past_{days:.0f}_days" and metric(name).unit == "share"
        assert metric(name).better == catalogue.LOWER
    days = list(catalogue.SHARE_WAITING_DAYS.values())
    assert days == sorted(days) and max(days) < catalogue.EIGHTEEN_MONTHS_DAYS  # 548: share_past_18_months
