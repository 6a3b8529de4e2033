"""Nothing lost, nothing misleading, for ``casesim`` and ``sim.simulate``: an environment
value is refused from Python as on the command line (casesim's bad input, a row each:
tests/test_bad_input.py); an interrupted or crashed run keeps its finished replications as
a partial run that the same command resumes; runs started together never share a folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.config.design import config_hash
from sim.io.atomic import atomic_write
from sim.io.checkpoints import kept_count, load_replications, save_replication
from sim.model import run_replication
from sim.running import runner
from sim.running.resumable import run_in_folder
from sim.running.runner import Interrupted

QUICK = ["run.replications=3", "run.horizon_days=60", "run.progress=false"]
CASESIM = Path(sys.executable).parent / "casesim"


def casesim(args, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(CASESIM), *args], cwd=cwd, capture_output=True, text=True, timeout=600, **kwargs)


# --------------------------------------------------------------------------- bad input
# casesim's bad input (user YAML, config folders and names, oc.env, output folders), a row
# each: tests/test_bad_input.py.

FAKE_SECRET = "not-a-real-token-8f3a"


def test_an_environment_value_is_refused_from_python_too(monkeypatch):
    monkeypatch.setenv("CASESIM_TEST_SECRET", FAKE_SECRET)
    with pytest.raises(sim.ConfigError, match="reads an environment variable") as error:
        sim.load_config(["run.seed=${oc.env:CASESIM_TEST_SECRET}"])
    assert FAKE_SECRET not in str(error.value)


def test_a_yaml_of_your_own_loads_from_python_as_on_the_command_line(tmp_path):
    (tmp_path / "mine.yaml").write_text("defaults:\n  - config\n  - _self_\nscenario: mine\n"
                                        "staffing: {investigators: 30}\n")
    cfg = sim.load_config(["run.seed=7"], config_name="mine", config_dir=tmp_path)
    assert (cfg.scenario, cfg.staffing.investigators, cfg.run.seed) == ("mine", 30, 7)
    assert cfg.stages == sim.load_config().stages  # the rest is the baseline's


# --------------------------------------------------------------------------- kept replications

def test_a_kept_replication_reads_back_as_it_was_and_a_damaged_one_is_dropped(tmp_path):
    cfg = sim.load_config([*QUICK, "forces=three_forces"])
    key = config_hash(cfg)
    output = run_replication(cfg, 1)
    path = save_replication(tmp_path, output, key)
    (back,), damaged = load_replications(tmp_path, key, range(3))
    assert damaged == [] and back.replication == 1
    assert back.cases.keys() == output.cases.keys()
    for name, column in output.cases.items():
        assert back.cases[name].dtype == column.dtype and np.array_equal(back.cases[name], column, equal_nan=True)
    assert np.array_equal(back.snapshots, output.snapshots) and np.array_equal(back.snapshot_days, output.snapshot_days)
    assert (back.series_labels, back.pools, back.force_names, back.owners) == (
        output.series_labels, output.pools, output.force_names, output.owners)
    assert load_replications(tmp_path, "another config", range(3)) == ([], [])  # never reused for another
    path.write_bytes(path.read_bytes()[:200])  # truncated
    assert kept_count(tmp_path, key, range(3)) == 0
    assert load_replications(tmp_path, key, range(3)) == ([], [path]) and not path.exists()


def stop_at(replication: int, error: BaseException, monkeypatch) -> None:
    """Replication ``replication`` raises ``error`` instead of running (serial runs)."""
    def run(cfg, r, *args, **kwargs):
        if r == replication:
            raise error
        return run_replication(cfg, r, *args, **kwargs)

    monkeypatch.setattr(runner, "run_replication", run)


def manifest_of(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


@pytest.mark.parametrize("error", [KeyboardInterrupt(), RuntimeError("a bug in replication 2")],
                         ids=["interrupt", "crash"])
def test_a_stopped_run_keeps_its_finished_replications_and_resumes_to_the_same_tables(tmp_path, monkeypatch, error):
    cfg = sim.load_config(QUICK)
    folder = tmp_path / "run"
    stop_at(2, error, monkeypatch)
    with pytest.raises(Interrupted if isinstance(error, KeyboardInterrupt) else RuntimeError) as stopped:
        run_in_folder(cfg, folder, QUICK)
    if isinstance(error, KeyboardInterrupt):
        assert [o.replication for o in stopped.value.finished] == [0, 1]
        assert str(stopped.value) == f"finished 2 of 3 replications, kept in {folder}"
    partial = manifest_of(folder)
    assert partial["complete"] is False and partial["replications_done"] == 2
    assert partial["config_hash"] == config_hash(cfg) and partial["replications"] == 3
    assert sorted(pd.read_parquet(folder / "cases.parquet")["replication"].unique()) == [0, 1]
    assert pd.read_csv(folder / "summary.csv")["n_replications"].max() == 2
    assert sorted(p.name for p in (folder / "replications").iterdir()) == ["000000.npz", "000001.npz"]

    ran = []
    monkeypatch.setattr(runner, "run_replication", lambda cfg, r: ran.append(r) or run_replication(cfg, r))
    run_in_folder(cfg, folder, QUICK)
    assert ran == [2]  # only the replication not kept
    done = manifest_of(folder)
    assert done["complete"] is True and done["replications_done"] == 3
    assert not (folder / "replications").exists()
    straight = sim.simulate(cfg)
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "cases.parquet"), straight.cases)
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "timeseries.parquet"), straight.timeseries)


def test_the_manifest_says_incomplete_before_the_first_replication_and_complete_only_after_the_figures(tmp_path,
                                                                                                      monkeypatch):
    cfg = sim.load_config(QUICK)
    folder = tmp_path / "run"
    seen = []
    monkeypatch.setattr(runner, "run_replication",
                        lambda cfg, r: seen.append(manifest_of(folder)["complete"]) or run_replication(cfg, r))

    def figures(results, summary, findings):
        seen.append(manifest_of(folder)["complete"])
        assert (folder / "summary.csv").is_file() and findings

    run_in_folder(cfg, folder, QUICK, finish=figures)
    assert seen == [False] * 4 and manifest_of(folder)["complete"] is True


def test_an_interrupt_stops_worker_processes_and_keeps_what_finished(monkeypatch):
    """Ctrl-C in the parent while two workers run: the finished replications come back in
    ``Interrupted``, not a broken pool."""
    cfg = sim.load_config(["run.replications=6", "run.horizon_days=60", "run.progress=false"])
    finished = []

    def interrupt_after_the_first(output):
        finished.append(output.replication)
        if len(finished) == 1:
            raise KeyboardInterrupt

    with pytest.raises(Interrupted) as stopped:
        runner.run_replications(cfg, workers=2, on_finished=interrupt_after_the_first)
    kept = [o.replication for o in stopped.value.finished]
    assert kept == sorted(finished) and len(kept) >= 1
    expected = {r: run_replication(cfg, r) for r in kept}
    for output in stopped.value.finished:
        assert np.array_equal(output.cases["exit_day"], expected[output.replication].cases["exit_day"], equal_nan=True)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_signal_during_a_write_takes_effect_once_the_file_is_in_place(tmp_path, signum):
    """An interrupt inside numpy's zip writer used to surface as the writer's own ValueError
    ("Can't close the ZIP file ..."), hiding the interrupt: the command then failed with a
    traceback instead of stopping in one line."""
    path = tmp_path / "kept.npz"

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, a=np.arange(10))
            os.kill(os.getpid(), signum)  # arrives part way through the write
            np.savez(f, b=np.arange(5))

    def stop(sig, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        with pytest.raises(KeyboardInterrupt):
            atomic_write(path, write)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert path.is_file() and not list(tmp_path.glob(".*.tmp"))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_failed_write_leaves_neither_the_file_nor_its_temporary(tmp_path):
    def write(tmp: Path) -> None:
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(tmp_path / "table.csv", write)
    assert not list(tmp_path.iterdir())


def test_ctrl_c_on_casesim_with_workers_keeps_a_partial_run(tmp_path):
    """SIGINT to the whole process group, as Ctrl-C in a terminal, while two workers run."""
    folder = tmp_path / "run"
    # An interactive shell's Ctrl-C, even if this test runs where SIGINT is ignored (a
    # background job), which a child would inherit and Python then leave ignored.
    process = subprocess.Popen([str(CASESIM), "run.replications=40", "run.horizon_days=1460", "run.progress=false",
                                "run.workers=2", f"hydra.run.dir={folder}"], cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 300
        while not list((folder / "replications").glob("*.npz")) and process.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is None, process.communicate()[1]  # still running, one replication kept
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=120)  # a stop that hangs fails here, not the whole run
    finally:
        if process.poll() is None:  # nothing of it left running, whatever failed
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert process.returncode == 130, err
    lines = err.strip().splitlines()
    partial = manifest_of(folder)
    done = partial["replications_done"]
    assert lines == [(f"casesim: interrupted; finished {done} of 40 replications, kept in {folder}; "
                      "run the same command to resume")], err
    assert partial["complete"] is False and 1 <= done < 40
    assert pd.read_parquet(folder / "cases.parquet")["replication"].nunique() == done
    assert kept_count(folder, partial["config_hash"], range(40)) == done


def test_the_same_command_resumes_the_latest_partial_run_of_its_config(tmp_path, monkeypatch):
    args = ["run.replications=3", "run.horizon_days=60", "run.progress=false", "staffing.investigators=21"]
    cfg = sim.load_config(args)
    partial = tmp_path / "outputs" / "2020-01-01" / "09-00-00"
    stop_at(1, KeyboardInterrupt(), monkeypatch)
    with pytest.raises(Interrupted):
        run_in_folder(cfg, partial, args)
    other = tmp_path / "outputs" / "2020-01-01" / "10-00-00"  # a later partial run of another config
    with pytest.raises(Interrupted):
        run_in_folder(sim.load_config([*args, "run.seed=5"]), other, args)
    monkeypatch.setattr(runner, "run_replication", run_replication)
    r = casesim(args, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == ("casesim: resuming the partial run in outputs/2020-01-01/09-00-00 "
                                        "(1 of 3 replications kept)")
    assert manifest_of(partial)["complete"] is True and manifest_of(other)["complete"] is False
    assert sorted(p.name for p in (tmp_path / "outputs" / "2020-01-01").iterdir()) == ["09-00-00", "10-00-00"]
    pd.testing.assert_frame_equal(pd.read_parquet(partial / "cases.parquet"), sim.simulate(cfg).cases)


# --------------------------------------------------------------------------- collisions

def test_runs_started_together_never_share_a_folder(tmp_path):
    """Two runs whose folder setting names the same folder (the year: the same for all, as
    runs started in the same second get the same default): each gets its own folder,
    holding its own configuration's tables. (A third's name: the next test.)"""
    headcounts = [11, 12]
    processes = [subprocess.Popen([str(CASESIM), "run.replications=1", "run.horizon_days=60", "run.progress=false",
                                   f"staffing.investigators={n}", "hydra.run.dir=runs/same_${now:%Y}"],
                                  cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for n in headcounts]
    for process in processes:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
    folders = sorted((tmp_path / "runs").iterdir())
    first = folders[0].name
    assert [f.name for f in folders] == [first, f"{first}_2"]
    found = []
    for folder in folders:
        manifest = manifest_of(folder)
        given = manifest["config"]["staffing"]["investigators"]
        assert manifest["complete"] is True and f"staffing.investigators={given}" in manifest["overrides"]
        pools = pd.read_csv(folder / "pools.csv")
        assert set(pools.loc[pools["pool"] == "investigators", "capacity"]) == {given}
        assert f"staffing.investigators={given}" in (folder / ".hydra" / "overrides.yaml").read_text()
        found.append(given)
    assert sorted(found) == headcounts


def test_a_third_run_started_together_gets_a_folder_of_its_own(tmp_path, monkeypatch):
    from sim.cli.run import _run_folder

    monkeypatch.chdir(tmp_path)
    cfg = sim.load_config(QUICK)
    folders = [_run_folder(cfg, None, "runs/same_${now:%Y}") for _ in range(3)]
    try:
        first = folders[0].path.name
        assert [f.path.name for f in folders] == [first, f"{first}_2", f"{first}_3"]
        assert all(f.path.is_dir() for f in folders)
    finally:
        for folder in reversed(folders):
            folder.release(keep=False)
    assert list(tmp_path.iterdir()) == []  # no manifest written: nothing left


def test_multiruns_started_together_get_folders_of_their_own(tmp_path, monkeypatch):
    from sim.cli.run import _sweep_folder

    monkeypatch.chdir(tmp_path)
    first, second = (_sweep_folder(None, "multirun/${now:%Y-%m-%d}/same") for _ in range(2))
    try:
        assert first.path != second.path and second.path.name == f"{first.path.name}_2"
        assert first.path.is_dir() and second.path.is_dir()
    finally:
        second.release(keep=False), first.release(keep=False)
    assert list(tmp_path.iterdir()) == []  # no manifest written: nothing left
