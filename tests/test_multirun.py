"""Hydra multirun (``casesim -m``): every job leaves a point, the multirun ends collected in
sweep.parquet, the launchers agree with each other and with ``casesim-sweep``, and a bad value
anywhere stops it before the first job."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.io.collect import TIMING_COLUMNS, status_counts
from sim.running.sweep import run_sweep

GRID = ["staffing.investigators=16,20", "run.replications=1", "run.horizon_days=60"]
COMPARED = ["point", "force", "metric", "by", "grade", "estimate", "ci_low", "ci_high", "n_replications"]


def casesim(args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", "-m", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def table(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder / "sweep.parquet").drop(columns=list(TIMING_COLUMNS))


@pytest.fixture(scope="module")
def basic(tmp_path_factory) -> Path:
    """The grid on Hydra's basic launcher (jobs one after another in one process)."""
    cwd = tmp_path_factory.mktemp("basic")
    r = casesim([*GRID, f"hydra.sweep.dir={cwd / 'multirun'}"], cwd)
    assert r.returncode == 0, r.stderr
    return cwd / "multirun"


def test_basic_launcher_writes_points_and_a_collected_table(basic):
    t = table(basic)
    assert status_counts(t) == {"ok": 2}
    assert sorted(t["staffing.investigators"].unique()) == [16, 20]
    assert (t["replications"] == 1).all() and (t["run.horizon_days"] == 60).all()
    for job in ("0", "1"):
        info = json.loads((basic / job / "point.json").read_text())
        assert info["status"] == "ok" and info["config"]["staffing"]["investigators"] == {"0": 16, "1": 20}[job]
        assert (basic / job / "summary.parquet").is_file() and not (basic / job / "error.txt").exists()
    assert t.groupby("point")["estimate"].apply(tuple).nunique() == 2  # the two jobs differ


@pytest.mark.parametrize("launcher", [["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
                                      ["hydra/launcher=submitit_local"]], ids=["joblib", "submitit_local"])
def test_other_launchers_give_the_basic_launchers_results(basic, tmp_path, launcher):
    # Two workers asked for: a parallel launcher must run each job's replications serially.
    r = casesim([*GRID, "run.workers=2", *launcher, f"hydra.sweep.dir={tmp_path / 'multirun'}"], tmp_path)
    assert r.returncode == 0, r.stderr
    t = table(tmp_path / "multirun")
    assert status_counts(t) == {"ok": 2}
    pd.testing.assert_frame_equal(t.drop(columns="run.workers"), table(basic))
    for job in ("0", "1"):
        assert json.loads((tmp_path / "multirun" / job / "point.json").read_text())["config"]["run"]["workers"] == 1


def test_a_multirun_of_a_preset_matches_the_sweep_runner(tmp_path):
    r = casesim(["+sweep=smoke", "run.horizon_days=120", f"hydra.sweep.dir={tmp_path / 'multirun'}"], tmp_path)
    assert r.returncode == 0, r.stderr
    run_sweep("smoke", ["run.horizon_days=120"], out=tmp_path / "sweep", progress=False)
    hydra, ours = table(tmp_path / "multirun"), table(tmp_path / "sweep")
    assert status_counts(hydra) == {"ok": 4}
    # The same design points (same configuration keys) with the same results.
    key = COMPARED[:5]
    pd.testing.assert_frame_equal(hydra[COMPARED].sort_values(key).reset_index(drop=True),
                                  ours[COMPARED].sort_values(key).reset_index(drop=True))


@pytest.mark.parametrize("args,expected", [
    (["staffing.investigators=16,-3"], "staffing.investigators=-3: headcount must be >= 1"),
    (["+sweep=smoke", "staffing.investigators=-1"], "staffing.investigators=-1: headcount must be >= 1"),
    (["+sweep=nope", "run.seed=1,2"], "no configs/sweep/nope.yaml"),
])
def test_a_bad_value_stops_the_multirun_before_any_job(tmp_path, args, expected):
    r = casesim([*args, f"hydra.sweep.dir={tmp_path / 'multirun'}"], tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("casesim: error: ") and expected in lines[0], r.stderr
    assert list(tmp_path.iterdir()) == []  # no multirun folder, no outputs/
