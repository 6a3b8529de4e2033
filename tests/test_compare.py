"""Scenarios against the baseline: paired differences, common random numbers, the levers'
directions, and the compare command."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import sim
from sim.config.convert import changed_parameters
from sim.running.scenarios import compare, load_scenarios
from sim.config.load import CONFIG_DIR
from sim.errors import ConfigError
from sim.results.comparison import paired_differences

QUICK = ["run.replications=3", "run.horizon_days=365", "run.progress=false"]
SCENARIOS = sorted(p.stem for p in (CONFIG_DIR / "scenario").glob("*.yaml") if p.stem != "baseline")


def _metrics(name, values):
    return pd.DataFrame({"scenario": name, "replication": range(len(values)), "force": "f", "metric": "m", "by": "all",
                         "grade": "all", "value": values})


def test_paired_differences_by_hand():
    base = _metrics("baseline", [10.0, 20.0, 30.0, 40.0])
    scen = _metrics("s", [8.0, 19.0, 27.0, 38.0])  # differences -2, -1, -3, -2
    row = paired_differences(base, scen).iloc[0]
    assert row["difference"] == pytest.approx(-2.0)
    half = 3.182446 * np.std([-2, -1, -3, -2], ddof=1) / 2  # t(0.975, 3) * s / sqrt(4)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((-2 - half, -2 + half), rel=1e-5)
    assert row["baseline"] == 25.0 and row["value"] == 23.0 and row["n_pairs"] == 4
    # Pairing: an unpaired interval from these spreads (sd ~13 each) would be ~40 wide.
    assert row["ci_high"] - row["ci_low"] < 5


def test_mismatched_runs_are_refused():
    with pytest.raises(ValueError, match="same replications"):
        paired_differences(_metrics("baseline", [1.0, 2.0, 3.0]), _metrics("s", [1.0, 2.0]))
    with pytest.raises(pd.errors.MergeError):
        paired_differences(_metrics("baseline", [1.0, 2.0]), pd.concat([_metrics("s", [1.0, 2.0])] * 2))
    with pytest.raises(ConfigError, match="as arguments"):
        load_scenarios(["training"], ["scenario=fast_warrants"])
    with pytest.raises(ConfigError, match="each scenario once"):
        load_scenarios(["training", "training"])


def test_pairs_without_a_value_are_dropped_and_noted():
    row = paired_differences(_metrics("baseline", [1.0, np.nan, 3.0]), _metrics("s", [2.0, 5.0, 4.0])).iloc[0]
    assert row["n_pairs"] == 2 and row["difference"] == 1.0 and "1 of 3" in row["note"]


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_scenario_composes_and_changes_something(name):
    # A regional scenario models a region, and its baseline must model the same one.
    region = ["forces=three_forces"] if sim.load_config([f"scenario={name}"]).forces else []
    base, (cfg,) = load_scenarios([name], region)
    assert cfg.scenario == name
    assert changed_parameters(base, cfg)
    assert cfg.run == base.run


def test_unknown_scenario_and_baseline_are_rejected():
    with pytest.raises(ConfigError, match="no_such"):
        load_scenarios(["no_such"])
    with pytest.raises(ConfigError, match="always run"):
        load_scenarios(["baseline"])


@pytest.fixture(scope="module")
def comparison():
    base, others = load_scenarios(["more_investigators", "fast_warrants"], QUICK)
    return compare(base, others)


def test_capacity_scenario_sees_the_same_cases(comparison):
    a = comparison.baseline.cases
    b = comparison.scenarios["more_investigators"].cases
    cols = ["arrival_day", "package_id", "backlog", "source", "true_risk", "child_in_household", "nonspecialist"]
    pd.testing.assert_frame_equal(a[cols], b[cols])


def _rows(comparison, name, metric, by, grade):
    t = comparison.table
    return t[(t["scenario"] == name) & (t["metric"] == metric) & (t["by"] == by) & (t["grade"] == grade)].iloc[0]


def test_more_investigators_shorten_the_low_risk_wait(comparison):
    r = _rows(comparison, "more_investigators", "time_to_arrest_p50_days", "true_risk", "L")
    assert r["ci_high"] < 0


def test_fast_warrants_shorten_the_warrant_stage_for_vh_and_h(comparison):
    for g in ("VH", "H"):
        r = _rows(comparison, "fast_warrants", "mean_time_days_warrant", "assigned_grade", g)
        assert r["ci_high"] < 0, g
    r = _rows(comparison, "fast_warrants", "mean_time_days_warrant", "assigned_grade", "M")
    assert r["difference"] < 0


def test_compare_command_writes_table_figures_and_report(tmp_path):
    out = tmp_path / "cmp"
    # Overrides may follow the options.
    r = subprocess.run([sys.executable, "-c", "from sim.cli import compare_main; compare_main()", "fast_warrants",
                        "--out", str(out), *QUICK[:2], "run.progress=false"], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(out / "comparison.csv")
    assert set(table["scenario"]) == {"fast_warrants"}
    assert {"difference", "ci_low", "ci_high", "baseline"} <= set(table.columns)
    summary = pd.read_csv(out / "summary.csv")
    assert summary.columns[0] == "scenario" and list(summary["scenario"].unique()) == ["baseline", "fast_warrants"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] is True
    assert manifest["scenarios"] == manifest["finished"] == list(manifest["runs"]) == ["baseline", "fast_warrants"]
    assert manifest["runs"]["fast_warrants"]["config"]["run"]["horizon_days"] == 365
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 2 and "out_of_hours_grades" in html
    assert (out / "figures" / "forest.png").read_bytes()[:4] == b"\x89PNG"


def test_each_finished_run_is_handed_over_as_it_finishes():
    base, others = load_scenarios(["fast_warrants", "more_investigators"], ["run.replications=2", "run.horizon_days=60",
                                                                            "run.progress=false"])
    seen = []

    def finished(comparison, name, metrics):
        seen.append((name, list(comparison.scenarios), sorted(metrics["replication"].unique())))

    final = compare(base, others, on_finished=finished)
    assert seen == [("baseline", [], [0, 1]), ("fast_warrants", ["fast_warrants"], [0, 1]),
                    ("more_investigators", ["fast_warrants", "more_investigators"], [0, 1])]
    assert set(final.table["scenario"]) == {"fast_warrants", "more_investigators"}
