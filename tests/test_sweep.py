"""Sweeps (``casesim-sweep``, ``sim.running.sweep``, ``sim.config.design``, ``sim.running.executors``,
``sim.io.collect``): serial == local processes == Dask, dead workers, resuming, failures, the
command line and the design.

Every sweep here is the ``smoke`` preset cut to 120 simulated days (a replication takes a few
hundredths of a second) with ``batch_seconds=0.01``, so that each replication is its own task
and parallel runs really do spread the work.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim.config.design
import sim.io.collect
import sim.running.sweep
from sim.io.collect import TIMING_COLUMNS, collect, status_counts
from sim.config.load import load_config
from sim.errors import ConfigError
from sim.config.design import (
                                SampleSpec,
                                _sample_spec,
                                config_hash,
                                design_points,
                                multirun_points,
                                read_spec,
                                sample_values,
                                unit_sample,
)
from sim.domain import GRADES
from sim.results.catalogue import RESTRICTED_MEAN_DAYS, RESTRICTED_MEAN_TIME_TO_ARREST, SHARE_WAITING_DAYS, SHARE_WAITING_PAST
from sim.running.executors import DaskExecutor, LocalExecutor, Lost
from sim.model import run_replication
from sim.running.sweep import run_sweep

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # spawned worker processes import tests/sweep_tasks.py (they get this sys.path)
    sys.path.insert(0, str(HERE))
from sweep_tasks import die_for_point, die_once  # noqa: E402

QUICK = ["run.horizon_days=120"]
BATCH = 0.01  # seconds: one replication per task
BIN = Path(sys.executable).parent


def table(out: Path) -> pd.DataFrame:
    """A sweep's collected table without the columns that time it."""
    return pd.read_parquet(Path(out) / "sweep.parquet").drop(columns=list(TIMING_COLUMNS))


def sweep(out: Path, executor=None, overrides=QUICK, **kw) -> sim.running.sweep.SweepOutcome:
    return run_sweep("smoke", overrides, out=out, executor=executor, progress=False, batch_seconds=BATCH, **kw)


def mtimes(out: Path) -> dict[str, int]:
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in sorted((out / "points").rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The smoke sweep run serially, once: the table every other way of running must give."""
    out = tmp_path_factory.mktemp("reference") / "sweep"
    outcome = sweep(out)
    assert (outcome.points, outcome.completed, outcome.failed, outcome.replications_run) == (4, 4, [], 8)
    return out


def copy_of(reference: Path, tmp_path: Path) -> Path:
    out = tmp_path / "sweep"
    shutil.copytree(reference, out)
    return out


def test_reference_sweep_is_complete_and_tidy(reference):
    t = table(reference)
    assert status_counts(t) == {"ok": 4}
    design = json.loads((reference / "design.json").read_text())
    keys = [p["point"] for p in design["points"]]
    assert list(t["point"].unique()) == keys  # in the design's order
    assert {(p["params"]["staffing.investigators"], p["params"]["training.assessors_trained_share"])
            for p in design["points"]} == {(18, 0.5), (18, 1.0), (22, 0.5), (22, 1.0)}
    for key in keys:
        d = reference / "points" / key
        info = json.loads((d / "point.json").read_text())
        assert info["status"] == "ok" and info["replications"] == 2
        assert info["config"]["run"]["horizon_days"] == 120
        assert sorted(pd.read_parquet(d / "metrics.parquet")["replication"].unique()) == [0, 1]
    assert not list((reference / "partial").rglob("*.parquet"))
    pd.testing.assert_frame_equal(collect(reference, write=False), pd.read_parquet(reference / "sweep.parquet"))
    assert (t["replications"] == 2).all() and (t["n_replications"].dropna() <= 2).all()
    # The points really differ: the design's levers reach the results.
    assert t.groupby("point")["estimate"].apply(lambda e: tuple(e.round(9))).nunique() == 4


# --------------------------------------------------------------------------- executors


def test_local_processes_give_the_serial_table(reference, tmp_path):
    outcome = sweep(tmp_path / "sweep", LocalExecutor(2))
    assert (outcome.completed, outcome.failed, outcome.replications_run) == (4, [], 8)
    pd.testing.assert_frame_equal(table(tmp_path / "sweep"), table(reference))
    for key in table(reference)["point"].unique():  # per-replication metrics too
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "sweep" / "points" / key / "metrics.parquet"),
                                      pd.read_parquet(reference / "points" / key / "metrics.parquet"))
    assert (tmp_path / "sweep" / "replications.parquet").read_bytes() == (reference / "replications.parquet").read_bytes()


class DaskCluster:
    """A real ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1, each started in
    its own process group (a worker's group holds its nanny and the worker process)."""

    def __init__(self, folder: Path):
        self.folder, self.scheduler, self.workers, self.address, self.logs = folder, None, [], "", []
        self.env = {**os.environ, "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False"}

    def start(self, workers: int) -> None:
        dask = str(BIN / "dask")
        self.scheduler = self._start("scheduler", [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                                   "--scheduler-file", str(self.folder / "scheduler.json")])
        self.address = self._address()
        for k in range(workers):
            self.workers.append(self._start(f"worker{k}", [
                dask, "worker", self.address, "--host", "127.0.0.1", "--nthreads", "1", "--nworkers", "1",
                "--no-dashboard", "--death-timeout", "30", "--local-directory", str(self.folder / f"w{k}")]))
        from distributed import Client

        with Client(self.address, timeout=30) as client:
            client.wait_for_workers(workers, timeout=60)

    def _start(self, name: str, args: list[str]) -> subprocess.Popen:
        self.logs.append(open(self.folder / f"{name}.log", "wb"))
        return subprocess.Popen(args, stdout=self.logs[-1], stderr=subprocess.STDOUT, env=self.env, cwd=self.folder,
                                start_new_session=True)

    def _address(self) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                return json.loads((self.folder / "scheduler.json").read_text())["address"]
            except (FileNotFoundError, json.JSONDecodeError, KeyError):
                assert self.scheduler.poll() is None, (self.folder / "scheduler.log").read_text()
                time.sleep(0.1)
        raise TimeoutError("the dask scheduler did not start")

    def kill_worker(self, k: int) -> None:
        """SIGKILL worker ``k``'s process group: its nanny cannot restart it."""
        os.killpg(self.workers[k].pid, signal.SIGKILL)
        self.workers[k].wait(10)

    def close(self) -> None:
        for p in [*self.workers, *([self.scheduler] if self.scheduler else [])]:
            try:
                os.killpg(p.pid, signal.SIGKILL)  # the group outlives a dead leader's children
            except ProcessLookupError:
                pass
            p.wait(10)
        for f in self.logs:
            f.close()


@pytest.fixture
def dask_cluster(tmp_path, request):
    """A scheduler and two single-threaded workers, torn down whatever happens."""
    folder = tmp_path / "dask"
    folder.mkdir()
    cluster = DaskCluster(folder)
    request.addfinalizer(cluster.close)  # before starting: a start that fails part-way is cleaned up too
    cluster.start(2)
    return cluster


def test_dask_cluster_gives_the_serial_table(reference, dask_cluster, tmp_path):
    executor = DaskExecutor(dask_cluster.address)
    assert executor.workers == 2
    counts = executor.client.run(lambda dask_worker: dask_worker.state.executed_count)
    outcome = sweep(tmp_path / "sweep", executor)
    assert (outcome.completed, outcome.failed, outcome.replications_run) == (4, [], 8)
    pd.testing.assert_frame_equal(table(tmp_path / "sweep"), table(reference))
    from distributed import Client

    with Client(dask_cluster.address, timeout=30) as client:
        after = client.run(lambda dask_worker: dask_worker.state.executed_count)
    ran = {w: after[w] - counts.get(w, 0) for w in after}
    assert len(ran) == 2 and all(n >= 1 for n in ran.values()), ran  # both workers did some of it
    assert sum(ran.values()) == 8  # eight one-replication tasks, each run once


class KillAfterFirstResult(DaskExecutor):
    """A Dask executor that, once the sweep has the first task's result, kills a worker's
    whole process group (nanny and worker), and counts results before and after."""

    def __init__(self, cluster: DaskCluster):
        super().__init__(cluster.address)
        self.cluster, self.before, self.after = cluster, 0, 0

    def result(self, future):
        out = super().result(future)
        if self.before == 0:
            self.before = 1
            self.cluster.kill_worker(0)
        else:
            self.after += 1
        return out


def test_sweep_survives_a_dask_worker_killed_mid_sweep(dask_cluster, tmp_path):
    overrides = [*QUICK, "run.replications=8"]  # 32 one-replication tasks
    expected = sweep(tmp_path / "serial", overrides=overrides)
    assert expected.replications_run == 32
    executor = KillAfterFirstResult(dask_cluster)
    outcome = sweep(tmp_path / "sweep", executor, overrides=overrides)
    from distributed import Client

    with Client(dask_cluster.address, timeout=30) as client:  # the scheduler lost the worker ...
        assert len(client.scheduler_info()["workers"]) == 1
    assert executor.before == 1 and executor.after == 31  # ... with 31 tasks still to come back
    assert (outcome.completed, outcome.failed, outcome.replications_run) == (4, [], 32)
    assert status_counts(table(tmp_path / "sweep")) == {"ok": 4}
    pd.testing.assert_frame_equal(table(tmp_path / "sweep"), table(tmp_path / "serial"))


def test_local_executor_reports_a_dead_worker_as_lost_then_recovers(tmp_path):
    ex = LocalExecutor(1)
    try:
        task = functools.partial(die_once, str(tmp_path / "died"), abs)
        with pytest.raises(Lost):
            ex.result(ex.submit(task, -3))
        assert (tmp_path / "died").exists()
        assert ex.result(ex.submit(task, -3)) == 3  # a new pool behind the same executor
    finally:
        ex.close()


class DyingOnce(LocalExecutor):
    """Local processes, the first task to start ending its worker process abruptly."""

    def __init__(self, workers: int, marker: Path):
        super().__init__(workers)
        self.marker, self.submitted = str(marker), 0

    def submit(self, fn, arg):
        self.submitted += 1
        return super().submit(functools.partial(die_once, self.marker, fn), arg)


class KillingOnePoint(LocalExecutor):
    """Local processes in which every task of one point ends its worker process."""

    def __init__(self, workers: int, key: str):
        super().__init__(workers)
        self.key = key

    def submit(self, fn, arg):
        return super().submit(functools.partial(die_for_point, self.key, fn), arg)


def test_a_task_that_always_kills_its_worker_fails_alone(reference, tmp_path):
    """Its deaths break the pool under the other tasks too; they are resubmitted, and once it
    has used up its attempts it runs alone, so it fails and the others all finish."""
    keys = json.loads((reference / "design.json").read_text())["points"]
    poison = keys[1]["point"]
    outcome = sweep(tmp_path / "sweep", KillingOnePoint(2, poison))
    assert outcome.failed == [poison] and outcome.completed == 3
    assert "running alone" in (tmp_path / "sweep" / "failed" / poison / "error.txt").read_text()
    t, ref = table(tmp_path / "sweep"), table(reference)
    assert set(t.loc[t["status"] == "ok", "point"]) == {k["point"] for k in keys} - {poison}
    ok = t["status"] == "ok"
    pd.testing.assert_frame_equal(t[ok].reset_index(drop=True), ref[ref["point"] != poison].reset_index(drop=True),
                                  check_dtype=False)  # the failed point's empty row makes counts float


def test_sweep_resubmits_the_tasks_of_a_dead_local_worker(reference, tmp_path):
    ex = DyingOnce(2, tmp_path / "died")
    outcome = sweep(tmp_path / "sweep", ex)
    assert (tmp_path / "died").exists()  # a worker did die
    assert ex.submitted > 8  # and its tasks were submitted again
    assert (outcome.completed, outcome.failed, outcome.replications_run) == (4, [], 8)
    pd.testing.assert_frame_equal(table(tmp_path / "sweep"), table(reference))


# --------------------------------------------------------------------------- resuming


def test_rerunning_a_finished_sweep_computes_nothing(reference, tmp_path, monkeypatch):
    out = copy_of(reference, tmp_path)
    before = mtimes(out)
    monkeypatch.setattr(sim.running.sweep, "run_replication", counting := Counting())
    time.sleep(0.01)
    outcome = sweep(out)
    assert counting.calls == []
    assert (outcome.points, outcome.already_done, outcome.completed, outcome.replications_run) == (4, 4, 0, 0)
    assert outcome.failed == []
    assert mtimes(out) == before
    pd.testing.assert_frame_equal(table(out), table(reference))


def test_a_deleted_point_is_the_only_one_recomputed(reference, tmp_path):
    out = copy_of(reference, tmp_path)
    key = table(reference)["point"].unique()[2]
    shutil.rmtree(out / "points" / key)
    before = mtimes(out)
    outcome = sweep(out)
    assert (outcome.already_done, outcome.completed, outcome.replications_run) == (3, 1, 2)
    assert {k: v for k, v in mtimes(out).items() if not k.startswith(f"points/{key}/")} == before
    assert (out / "points" / key / "summary.parquet").is_file()
    pd.testing.assert_frame_equal(table(out), table(reference))


class Counting:
    """``run_replication`` that records (point, replication) and can raise after ``stop_after`` calls."""

    def __init__(self, stop_after: int | None = None, fail=None):
        self.calls: list[tuple[str, int]] = []
        self.stop_after, self.fail = stop_after, fail

    def __call__(self, cfg, r):
        if self.stop_after is not None and len(self.calls) == self.stop_after:
            raise KeyboardInterrupt
        if self.fail is not None and self.fail(cfg, r):
            raise RuntimeError(f"boom: {cfg.staffing.investigators} investigators, replication {r}")
        self.calls.append((config_hash(cfg), r))
        return run_replication(cfg, r)


def test_an_interrupted_sweep_resumes_with_only_what_is_missing(reference, tmp_path, monkeypatch):
    out = tmp_path / "sweep"
    keys = list(table(reference)["point"].unique())
    first = Counting(stop_after=3)
    monkeypatch.setattr(sim.running.sweep, "run_replication", first)
    with pytest.raises(KeyboardInterrupt):
        sweep(out)
    assert first.calls == [(keys[0], 0), (keys[0], 1), (keys[1], 0)]
    assert sorted(p.name for p in (out / "points").iterdir()) == [keys[0]]  # one point finished
    assert sorted(p.name for p in (out / "partial" / keys[1]).iterdir()) == [
        "reps-000000-000000.json", "reps-000000-000000.parquet"]  # the batch and its size and checksum
    assert not (out / "sweep.parquet").exists()
    second = Counting()
    monkeypatch.setattr(sim.running.sweep, "run_replication", second)
    outcome = sweep(out)
    assert sorted(second.calls) == sorted({(k, r) for k in keys for r in (0, 1)} - set(first.calls))
    assert (outcome.already_done, outcome.completed, outcome.replications_run, outcome.failed) == (1, 3, 5, [])
    assert not list((out / "partial").rglob("*.parquet"))
    pd.testing.assert_frame_equal(table(out), table(reference))
    assert (out / "replications.parquet").read_bytes() == (reference / "replications.parquet").read_bytes()


def test_batches_written_before_an_interruption_are_assembled_without_rerunning(reference, tmp_path, monkeypatch):
    out = tmp_path / "sweep"
    real_finish = sim.running.sweep.SweepFolder.finish_point

    def interrupted(self, point):
        raise KeyboardInterrupt  # every batch of the first point is on disk, the point not assembled

    monkeypatch.setattr(sim.running.sweep.SweepFolder, "finish_point", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sweep(out)
    monkeypatch.setattr(sim.running.sweep.SweepFolder, "finish_point", real_finish)
    key = table(reference)["point"].iloc[0]
    assert len(list((out / "partial" / key).glob("reps-*.parquet"))) == 2
    counting = Counting()
    monkeypatch.setattr(sim.running.sweep, "run_replication", counting)
    outcome = sweep(out)
    assert key not in {k for k, _ in counting.calls} and len(counting.calls) == 6
    assert (outcome.already_done, outcome.completed, outcome.replications_run) == (0, 4, 6)
    pd.testing.assert_frame_equal(table(out), table(reference))


# --------------------------------------------------------------------------- failures


def fails_22_trained(cfg, r) -> bool:
    """Replication 1 of the point with 22 investigators and every assessor trained."""
    return cfg.staffing.investigators == 22 and cfg.training.assessors_trained_share == 1.0 and r == 1


def test_a_failing_point_is_recorded_and_the_others_complete(reference, tmp_path, monkeypatch):
    out = tmp_path / "sweep"
    monkeypatch.setattr(sim.running.sweep, "run_replication", Counting(fail=fails_22_trained))
    outcome = sweep(out)
    design = json.loads((out / "design.json").read_text())["points"]
    bad = next(p["point"] for p in design if p["params"] == {"staffing.investigators": 22,
                                                               "training.assessors_trained_share": 1.0})
    assert outcome.failed == [bad] and outcome.completed == 3 and outcome.replications_run == 7
    error = (out / "failed" / bad / "error.txt").read_text()
    assert "Traceback (most recent call last)" in error
    assert "RuntimeError: boom: 22 investigators, replication 1" in error
    assert "replications [1]" in error and '"investigators": 22' in error and "configuration:" in error
    assert json.loads((out / "failed" / bad / "point.json").read_text())["status"] == "failed"
    assert not (out / "points" / bad).exists()
    t = table(out)
    assert status_counts(t) == {"ok": 3, "failed": 1}
    assert set(t.loc[t["status"] == "failed", "point"]) == {bad}
    ok = table(reference)
    ok = ok[ok["point"] != bad].reset_index(drop=True)
    # (the failed point's empty row makes integer columns float)
    pd.testing.assert_frame_equal(t[t["status"] == "ok"].reset_index(drop=True), ok, check_dtype=False)

    # Without the fault, a re-run computes only the failed replication and clears the failure.
    monkeypatch.setattr(sim.running.sweep, "run_replication", counting := Counting())
    outcome = sweep(out)
    assert counting.calls == [(bad, 1)]
    assert (outcome.already_done, outcome.completed, outcome.failed, outcome.replications_run) == (3, 1, [], 1)
    assert not (out / "failed" / bad).exists()
    pd.testing.assert_frame_equal(table(out), table(reference))


def test_cli_exits_1_and_names_the_failed_point(tmp_path, monkeypatch, capsys):
    from sim.cli import sweep_main

    monkeypatch.setattr(sim.running.sweep, "run_replication", Counting(fail=fails_22_trained))
    with pytest.raises(SystemExit) as exc:
        sweep_main(["smoke", *QUICK, "--out", str(tmp_path / "sweep"), "--no-progress", "--batch-seconds", "0.01"])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    [key] = [p.name for p in (tmp_path / "sweep" / "failed").iterdir()]
    assert f"failed: {tmp_path / 'sweep'}/failed/{key}/error.txt" in err


# --------------------------------------------------------------------------- command line


def run_cli(name: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / name), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("how", [[], ["--local-cluster", "2", "--batch-seconds", "0.01"]],
                         ids=["serial", "dask-local-cluster"])
def test_cli_sweep_end_to_end(reference, tmp_path, how):
    out = tmp_path / "sweep"
    r = run_cli("casesim-sweep", ["smoke", *QUICK, "--out", str(out), "--no-progress", *how], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "4 points: 0 already done, 4 completed now, 0 failed; 8 replications" in r.stdout
    assert status_counts(table(out)) == {"ok": 4}
    pd.testing.assert_frame_equal(table(out), table(reference))


@pytest.mark.parametrize("args,expected", [
    (["smoke", "staffing.investigators=-1"], "staffing.investigators=-1: headcount must be >= 1"),
    (["smoke", "training.assessors_trained_share=0.5,2"], "training.assessors_trained_share=2"),
    (["smoke", "staffing.detectives=4"], "staffing.detectives='4': unknown key"),
    (["nope"], "sweep='nope': no configs/sweep/nope.yaml"),
    (["smoke", "--workers", "0"], "--workers"),
])
def test_cli_sweep_bad_input_exits_2_and_writes_nothing(tmp_path, args, expected):
    r = run_cli("casesim-sweep", args, tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("casesim-sweep: error: "), r.stderr
    assert expected in lines[0]
    assert "Traceback" not in r.stderr + r.stdout
    assert list(tmp_path.iterdir()) == []  # no outputs/ folder


def test_cli_collect_lists_missing_points(reference, tmp_path, capsys):
    out = copy_of(reference, tmp_path)
    keys = list(table(reference)["point"].unique())
    shutil.rmtree(out / "points" / keys[1])
    (out / "sweep.parquet").unlink()
    r = run_cli("casesim-collect", [str(out)], tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"missing: {keys[1]}" in r.stdout and "failed:" not in r.stdout
    t = table(out)
    assert status_counts(t) == {"ok": 3, "missing": 1}
    assert list(t["point"].unique()) == keys  # still in the design's order
    missing = t[t["point"] == keys[1]]
    assert len(missing) == 1 and missing["estimate"].isna().all()
    assert missing["staffing.investigators"].item() == 18  # its parameters from design.json
    from sim.cli import collect_main

    with pytest.raises(SystemExit) as exc:
        collect_main([str(tmp_path / "nowhere")])
    assert exc.value.code == 2 and "no such folder" in capsys.readouterr().err
    assert not (tmp_path / "nowhere").exists()


# --------------------------------------------------------------------------- design


def test_grid_values_expand_as_hydra_does():
    from hydra.core.override_parser.overrides_parser import OverridesParser

    spec = read_spec("staffing_training")
    assert spec.grid == (("staffing.investigators", ("16", "20", "24", "28", "32")),
                         ("training.assessors_trained_share", ("0.5", "0.75", "1.0")))
    hydra = OverridesParser.create().parse_overrides(["k=range(16,36,4)"])[0]
    assert list(hydra.sweep_string_iterator()) == list(spec.grid[0][1])
    _, points = design_points("staffing_training", ["run.horizon_days=30", "run.replications=1"])
    assert [tuple(p.params.values()) for p in points] == [(i, s) for i in (16, 20, 24, 28, 32)
                                                          for s in (0.5, 0.75, 1.0)]
    assert all(isinstance(p.params["staffing.investigators"], int) for p in points)
    assert len({p.key for p in points}) == 15


def test_points_merged_into_one_composed_base_equal_fresh_composes():
    spec, points = design_points("smoke", QUICK)
    assert spec.batch_seconds == 0.5
    for p in points:
        fresh = load_config(["+sweep=smoke", *QUICK, *(f"{k}={v}" for k, v in p.params.items()),
                             "run.workers=1", "run.progress=false"])
        assert fresh == p.config and config_hash(fresh) == p.key
        assert p.config.run.replications == 2 and p.config.run.horizon_days == 120


def test_config_hash_ignores_only_how_a_run_is_executed():
    cfg = load_config(QUICK)
    same = load_config([*QUICK, "run.workers=3", "run.progress=true"])
    assert config_hash(cfg) == config_hash(same)
    assert config_hash(cfg) != config_hash(load_config([*QUICK, "run.seed=1"]))
    assert config_hash(cfg) != config_hash(load_config([*QUICK, "staffing.availability=0.7"]))


def test_command_line_values_replace_the_grid_as_in_hydra():
    _, points = design_points("smoke", ["staffing.investigators=20", *QUICK])
    assert [p.params for p in points] == [{"staffing.investigators": 20, "training.assessors_trained_share": s}
                                          for s in (0.5, 1.0)]
    assert all(p.config.staffing.investigators == 20 for p in points)
    _, points = design_points("smoke", ["staffing.investigators=16,20,24", *QUICK])
    assert len(points) == 6
    # Points that resolve to one configuration run once.
    _, points = design_points("smoke", ["staffing.investigators=20,20", *QUICK])
    assert len(points) == 2
    # The same through Hydra's multirun.
    jobs = multirun_points(["+sweep=smoke", "staffing.investigators=20", *QUICK])
    assert sorted(p.key for p in jobs) == sorted(p.key for p in points)
    with pytest.raises(ConfigError, match="staffing.investigators"):
        multirun_points(["+sweep=smoke", "staffing.investigators=-1"])
    with pytest.raises(ConfigError, match="staffing.investigators=-1"):
        design_points("smoke", ["staffing.investigators=-1"])


def test_a_bad_value_at_any_point_fails_before_anything_runs(tmp_path):
    with pytest.raises(ConfigError) as exc:
        run_sweep("smoke", ["training.assessors_trained_share=0.5,1.5"], out=tmp_path / "sweep", progress=False)
    assert exc.value.key == "training.assessors_trained_share" and "design point" in str(exc.value)
    assert not (tmp_path / "sweep").exists()
    with pytest.raises(ConfigError, match="staffing.investigators=0"):
        multirun_points(["staffing.investigators=16,0"])


def test_sampled_design_is_reproducible_and_respects_ranges():
    spec = SampleSpec("lhs", 40, 7, (("demand.referrals_per_month", 40.0, 60.0, False),
                                     ("staffing.investigators", 16, 19, True)))
    rows = sample_values(spec)
    assert rows == sample_values(spec)
    assert rows != sample_values(SampleSpec("lhs", 40, 8, spec.ranges))
    assert len(rows) == 40
    floats = [r["demand.referrals_per_month"] for r in rows]
    whole = [r["staffing.investigators"] for r in rows]
    assert all(isinstance(x, float) and 40.0 <= x <= 60.0 for x in floats)
    assert all(isinstance(x, int) for x in whole)
    # A Latin hypercube: one point in each of 40 equal strata of each range, so each of the
    # four whole numbers 16..19 is drawn exactly 10 times.
    assert sorted(int((x - 40.0) / 20.0 * 40) for x in floats) == list(range(40))
    assert pd.Series(whole).value_counts().to_dict() == {16: 10, 17: 10, 18: 10, 19: 10}
    sobol = sample_values(SampleSpec("sobol", 64, 3, spec.ranges))
    assert len(sobol) == 64 and sobol == sample_values(SampleSpec("sobol", 64, 3, spec.ranges))
    assert all(40.0 <= r["demand.referrals_per_month"] <= 60.0 and 16 <= r["staffing.investigators"] <= 19
               for r in sobol)
    assert {r["staffing.investigators"] for r in sobol} == {16, 17, 18, 19}


@pytest.mark.parametrize("block,key,text", [
    ({"method": "sobol", "points": 48, "ranges": {"a.b": [0, 1]}}, "sweep.sample.points", "power of two"),
    ({"method": "grid", "ranges": {"a.b": [0, 1]}}, "sweep.sample.method", "lhs, sobol"),
    ({"method": "saltelli", "base_samples": 48, "ranges": {"a.b": [0, 1]}}, "sweep.sample.base_samples",
     "a power of two"),
    ({"method": "saltelli", "base_samples": 1, "ranges": {"a.b": [0, 1]}}, "sweep.sample.base_samples", ">= 2"),
    ({"method": "saltelli", "points": 64, "ranges": {"a.b": [0, 1]}}, "sweep.sample.points",
     "not a key of method saltelli"),
    ({"method": "morris", "levels": 3, "ranges": {"a.b": [0, 1]}}, "sweep.sample.levels", "even"),
    ({"method": "morris", "levels": 0, "ranges": {"a.b": [0, 1]}}, "sweep.sample.levels", ">= 2"),
    ({"method": "morris", "trajectories": 1, "ranges": {"a.b": [0, 1]}}, "sweep.sample.trajectories", ">= 2"),
    ({"method": "morris", "trajectories": 2.5, "ranges": {"a.b": [0, 1]}}, "sweep.sample.trajectories",
     "whole number"),
    ({"method": "morris", "trajectories": 10, "candidates": 5, "ranges": {"a.b": [0, 1]}},
     "sweep.sample.candidates", ">= 11"),
    ({"method": "morris", "seed": 0, "ranges": {"a.b": [0, 1]}}, "sweep.sample.seed", "from 1"),
    ({"method": "lhs", "seed": -1, "ranges": {"a.b": [0, 1]}}, "sweep.sample.seed", "from 0"),
    ({"method": "lhs", "trajectories": 4, "ranges": {"a.b": [0, 1]}}, "sweep.sample.trajectories",
     "not a key of method lhs"),
    ({"method": "sobol", "levels": 4, "ranges": {"a.b": [0, 1]}}, "sweep.sample.levels", "not a key of method sobol"),
    ({"points": 1, "ranges": {"a.b": [0, 1]}}, "sweep.sample.points", ">= 2"),
    ({"ranges": {"a.b": [3, 1]}}, "sweep.sample.ranges.a.b", "low < high"),
    ({"ranges": {}}, "sweep.sample.ranges", "at least one"),
    ({"ranges": {"a.b": [0, 1]}, "size": 3}, "sweep.sample.size", "unknown key"),
])
def test_bad_sample_blocks_are_refused(block, key, text):
    with pytest.raises(ConfigError) as exc:
        _sample_spec(block)
    assert exc.value.key == key and text in str(exc.value) and "\n" not in str(exc.value)
    assert _sample_spec({"method": "sobol", "points": 64, "ranges": {"a.b": [0, 1]}}).points == 64


@pytest.mark.parametrize("block, points", [
    ({"method": "lhs", "points": 40, "seed": 3, "ranges": {"a.b": [0, 1], "c.d": [0.5, 2.0]}}, 40),
    ({"method": "saltelli", "base_samples": 16, "ranges": {"a.b": [0, 1], "c.d": [0.5, 2.0]}}, 16 * 4),
    ({"method": "morris", "trajectories": 5, "levels": 6, "seed": 2, "ranges": {"a.b": [0, 1], "c.d": [0.5, 2.0]}},
     5 * 3),
    ({"method": "morris", "trajectories": 4, "candidates": 20, "seed": 2, "ranges": {"a.b": [0, 4]}}, 4 * 2),
])
def test_a_sample_block_recorded_gives_the_same_design(block, points):
    """``design.json`` records ``SampleSpec.as_block()``: read back, it is the same spec, and
    draws the same rows (the analysis draws them again from it)."""
    spec = _sample_spec(block)
    assert spec.points == points == len(sample_values(spec))
    again = _sample_spec(json.loads(json.dumps(spec.as_block())))
    assert again == spec and sample_values(again) == sample_values(spec)
    for row in sample_values(spec):  # whole numbers stay whole, the others floats
        assert isinstance(row["a.b"], int) and isinstance(row.get("c.d", 0.5), float)


def test_a_morris_design_moves_one_parameter_a_step_at_a_time():
    spec = _sample_spec({"method": "morris", "trajectories": 6, "levels": 4, "seed": 5,
                         "ranges": {"a.b": [0.0, 3.0], "c.d": [10.0, 13.0], "e.f": [1.0, 4.0]}})
    unit = unit_sample(spec)
    assert unit.shape == (6 * 4, 3)
    assert set(np.round(unit.ravel(), 12)) <= {0.0, round(1 / 3, 12), round(2 / 3, 12), 1.0}
    for trajectory in unit.reshape(6, 4, 3):
        steps = np.diff(trajectory, axis=0)
        assert ((np.abs(steps) > 1e-12).sum(axis=1) == 1).all()  # one parameter a step
        assert np.allclose(np.abs(steps[np.abs(steps) > 1e-12]), 2 / 3)  # of levels / (2 (levels - 1))
        assert sorted(np.argmax(np.abs(steps), axis=1)) == [0, 1, 2]  # each parameter once


def test_sample_overrides_change_the_design_not_the_configuration(tmp_path, monkeypatch):
    spec, points = design_points("sensitivity_morris", ["sweep.sample.trajectories=2", "sweep.sample.seed=3",
                                                        "sweep.sample.ranges.staffing.investigators=[18, 20]"])
    assert spec.sample.trajectories == 2 and spec.sample.seed == 3 and len(points) <= 2 * 13
    assert dict((k, (lo, hi)) for k, lo, hi, _ in spec.sample.ranges)["staffing.investigators"] == (18, 20)
    assert {p.params["staffing.investigators"] for p in points} <= {18, 19, 20}
    with pytest.raises(ConfigError) as exc:
        design_points("smoke", ["sweep.sample.seed=2"])
    assert exc.value.key == "sweep.sample.seed" and "no sweep.sample block" in str(exc.value)
    with pytest.raises(ConfigError) as exc:
        design_points("sensitivity_morris", ["sweep.sample.levels=5"])
    assert exc.value.key == "sweep.sample.levels"


def test_a_saltelli_or_morris_design_is_not_crossed_with_a_grid(tmp_path, monkeypatch):
    _sweep_folder(tmp_path, monkeypatch, "crossed",
                  "hydra:\n  sweeper:\n    params:\n      run.seed: 1,2\n"
                  "sweep:\n  sample:\n    method: morris\n    ranges:\n      staffing.investigators: [16, 24]\n")
    with pytest.raises(ConfigError) as exc:
        read_spec("crossed")
    assert exc.value.key == "hydra.sweeper.params" and "cannot be crossed with a grid" in str(exc.value)

def _sweep_folder(tmp_path, monkeypatch, name: str, text: str) -> None:
    (tmp_path / "sweep").mkdir(exist_ok=True)
    (tmp_path / "sweep" / f"{name}.yaml").write_text(text)
    monkeypatch.setattr(sim.config.design, "CONFIG_DIR", tmp_path)


@pytest.mark.parametrize("text,key", [
    ("sweep:\n  batch_size: 3\nhydra:\n  sweeper:\n    params:\n      run.seed: 1,2\n", "sweep.batch_size"),
    ("sweep:\n  batch_seconds: 0\nhydra:\n  sweeper:\n    params:\n      run.seed: 1,2\n", "sweep.batch_seconds"),
    ("run:\n  replications: 2\n", "sweep"),
    ("sweep:\n  sample:\n    ranges:\n      run.seed: [1, 2]\n    seeds: 3\n", "sweep.sample.seeds"),
])
def test_bad_sweep_files_are_refused(tmp_path, monkeypatch, text, key):
    _sweep_folder(tmp_path, monkeypatch, "mine", text)
    with pytest.raises(ConfigError) as exc:
        read_spec("mine")
    assert exc.value.key == key


def test_a_command_line_value_for_a_sampled_key_is_refused(tmp_path, monkeypatch):
    _sweep_folder(tmp_path, monkeypatch, "sampled",
                  "sweep:\n  sample:\n    points: 4\n    ranges:\n      staffing.investigators: [16, 24]\n")
    with pytest.raises(ConfigError) as exc:
        design_points("sampled", ["staffing.investigators=20"])
    assert exc.value.key == "staffing.investigators" and "sweep.sample.ranges" in str(exc.value)


def test_sweep_and_analysis_columns_are_documented(reference):
    """Every column of sweep.parquet (the design's parameters aside; those of a sweep with
    run.replications=auto too), of replications.parquet, of the sensitivity indices and of
    the replications tables is described in docs/outputs.md."""
    from sim.results.sensitivity import INDEX_COLUMNS

    text = (Path(__file__).resolve().parents[1] / "docs" / "outputs.md").read_text()
    params = set(json.loads((reference / "design.json").read_text())["points"][0]["params"])
    columns = [c for c in pd.read_parquet(reference / "sweep.parquet").columns if c not in params]
    columns += [c for c in pd.read_parquet(reference / "replications.parquet").columns if c not in params]
    columns += list(sim.io.collect.RULE_COLUMNS)  # a sweep with run.replications=auto
    columns += list(INDEX_COLUMNS)
    from sim.results.replication_count import recommend_replications, replication_trajectory

    per_rep = pd.read_parquet(next((reference / "points").glob("*/metrics.parquet")))
    trajectory = replication_trajectory(per_rep, [("cases", "all", "all")])
    columns += list(trajectory.columns) + list(recommend_replications(trajectory).columns)
    missing = sorted({c for c in columns if f"`{c}`" not in text})
    assert not missing


# --------------------------------------------------------------------------- tail metrics at every point

_TAIL_SHARES = [SHARE_WAITING_PAST.name(name) for name in SHARE_WAITING_DAYS]


def _tail_rows(t: pd.DataFrame, by: str = "all", grade: str = "all") -> pd.DataFrame:
    """Each point's restricted mean and shares still waiting (``by``, ``grade``): one column each."""
    chosen = t[t["metric"].isin([RESTRICTED_MEAN_TIME_TO_ARREST, *_TAIL_SHARES, "share_past_18_months"])
               & (t["by"] == by) & (t["grade"] == grade)]
    return chosen.set_index(["point", "metric"])["estimate"].unstack("metric")


def test_the_tail_metrics_are_in_the_sweep_table_at_every_point(reference, tmp_path):
    """The summary's restricted mean and shares still waiting reach sweep.parquet at every
    point: in the 120-day reference sweep only the days it could observe have values; in
    one long enough to follow referrals for 18 months, every one has a value at every point
    and in every row of the arrest metrics."""
    short = _tail_rows(table(reference))
    assert len(short) == 4 and short.shape[1] == len(_TAIL_SHARES) + 2
    assert np.isfinite(short[[SHARE_WAITING_PAST.name("30"), SHARE_WAITING_PAST.name("90")]].to_numpy()).all()
    assert short[[RESTRICTED_MEAN_TIME_TO_ARREST, SHARE_WAITING_PAST.name("180")]].isna().all().all()

    out = tmp_path / "long"
    outcome = sweep(out, overrides=["run.horizon_days=640", "run.replications=1"])
    assert (outcome.completed, outcome.failed) == (4, [])
    t = table(out)
    for by, grade in [("all", "all"), *((by, g) for by in ("true_risk", "assigned_grade") for g in GRADES)]:
        rows = _tail_rows(t, by, grade)
        assert len(rows) == 4 and np.isfinite(rows.to_numpy()).all(), (by, grade)
        assert (np.diff(rows[[*_TAIL_SHARES, "share_past_18_months"]].to_numpy(), axis=1) <= 0).all()
        assert (rows[RESTRICTED_MEAN_TIME_TO_ARREST] <= RESTRICTED_MEAN_DAYS).all()
    target = t[(t["metric"] == "share_past_target") & t["by"].isin(["true_risk", "assigned_grade"])]
    assert len(target) == 4 * 2 * len(GRADES) and np.isfinite(target["estimate"]).all()


# --------------------------------------------------------------------------- replications.parquet

LABEL_COLUMNS = ["point", "force", "region", "metric", "by", "grade"]


def test_replications_table_holds_every_points_metrics(reference):
    reps = pd.read_parquet(reference / "replications.parquet")
    sweep = table(reference)
    params = ["staffing.investigators", "training.assessors_trained_share"]
    assert list(reps.columns) == ["point", *params, "replication", "force", "region", "metric", "by", "grade", "value"]
    assert all(isinstance(reps[c].dtype, pd.CategoricalDtype) for c in LABEL_COLUMNS)  # dictionary-encoded
    assert list(reps["point"].unique()) == list(sweep["point"].unique())  # the design's order
    for key in sweep["point"].unique():
        rows = reps[reps["point"] == key].reset_index(drop=True)
        metrics = pd.read_parquet(reference / "points" / key / "metrics.parquet")
        assert len(rows) == len(metrics)  # every row of the point's metrics.parquet, once
        expected = metrics.drop(columns="scenario")
        got = rows[list(expected.columns)].astype({column: expected[column].dtype for column in LABEL_COLUMNS[1:]})
        pd.testing.assert_frame_equal(got, expected)
        point = sweep[sweep["point"] == key].iloc[0]
        for name in params:
            assert (rows[name] == point[name]).all()
    # A mean over a point's replications is its estimate in sweep.parquet.
    labels = ["point", "force", "metric", "by", "grade"]
    means = reps.astype({column: str for column in labels}).groupby(labels)["value"].agg(["mean", "count"])
    ok = sweep[sweep["estimate"].notna()]
    joined = ok.merge(means.reset_index(), on=labels, how="left")
    assert len(joined) == len(ok) > 100 and (joined["count"] == 2).all()
    assert np.allclose(joined["mean"], joined["estimate"], rtol=1e-12, atol=1e-12)


def test_collecting_again_gives_the_same_replications_file(reference, tmp_path, monkeypatch):
    out = copy_of(reference, tmp_path)
    (out / "replications.parquet").unlink()
    collect(out, table=False)
    assert (out / "replications.parquet").read_bytes() == (reference / "replications.parquet").read_bytes()
    # Written in many row groups, each with dictionaries of its own, it reads as the same table.
    monkeypatch.setattr(sim.io.collect, "ROW_GROUP_REPLICATION_ROWS", 100)  # a point a row group
    collect(out, table=False)
    import pyarrow.parquet as pq

    assert pq.ParquetFile(out / "replications.parquet").num_row_groups == 4
    pd.testing.assert_frame_equal(pd.read_parquet(out / "replications.parquet"),
                                  pd.read_parquet(reference / "replications.parquet"))
