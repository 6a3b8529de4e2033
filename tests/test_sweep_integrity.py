"""Damaged sweep results are detected, never read as results: a sweep point counts as done,
and a batch as run, only while its files match the sizes and SHA-256 checksums recorded
when they were written; ``casesim-sweep`` moves a damaged one aside and computes it again,
``casesim-collect`` names it and marks it failed. Sweep names stay inside configs/sweep/.

Every sweep here is the ``smoke`` preset cut to 60 simulated days (4 points x 2
replications, a few hundredths of a second each).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import sim.io.collect
import sim.running.sweep
from sim.cli import collect_main, sweep_main
from sim.config.design import config_hash, multirun_points, sweep_file
from sim.config.load import load_config
from sim.errors import ConfigError
from sim.io.collect import TIMING_COLUMNS, collect, status_counts
from sim.io.points import DamagedPoint, file_record, read_point, write_point
from sim.model import run_replication
from sim.running.sweep import run_sweep

QUICK = ["run.horizon_days=60"]
BATCH = 0.01  # seconds: one replication per task, so each replication is its own batch file
BIN = Path(sys.executable).parent


def sweep(out: Path, **kw) -> sim.running.sweep.SweepOutcome:
    return run_sweep("smoke", QUICK, out=out, progress=False, batch_seconds=BATCH, **kw)


def table(out: Path) -> pd.DataFrame:
    """A sweep's collected table without the columns that time it."""
    return pd.read_parquet(Path(out) / "sweep.parquet").drop(columns=list(TIMING_COLUMNS))


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The smoke sweep, finished and whole."""
    out = tmp_path_factory.mktemp("reference") / "sweep"
    outcome = sweep(out, report=lambda line: pytest.fail(f"a fresh sweep reported damage: {line}"))
    assert (outcome.points, outcome.completed, outcome.failed, outcome.damaged) == (4, 4, [], [])
    return out


@pytest.fixture
def finished(reference, tmp_path) -> Path:
    """A copy of the finished sweep, to damage."""
    out = tmp_path / "sweep"
    shutil.copytree(reference, out)
    return out


def keys_of(out: Path) -> list[str]:
    return [point["point"] for point in json.loads((out / "design.json").read_text())["points"]]


class Counting:
    """``run_replication`` recording the (point, replication) pairs it runs."""

    def __init__(self):
        self.calls: list[tuple[str, int]] = []

    def __call__(self, cfg, r):
        self.calls.append((config_hash(cfg), r))
        return run_replication(cfg, r)


# How a file is damaged: each leaves it present, so only its contents can tell.
def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def garble(path: Path) -> None:
    """The same size, a few bytes in the middle changed: only the checksum can tell."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 8] = bytes(255 - b for b in data[middle:middle + 8])
    path.write_bytes(bytes(data))


def junk(path: Path) -> None:
    path.write_text("{not json at all")


def empty(path: Path) -> None:
    path.write_bytes(b"")


def without_point(path: Path) -> None:
    info = json.loads(path.read_text())
    del info["point"]
    path.write_text(json.dumps(info))


def a_list(path: Path) -> None:
    path.write_text("[1, 2, 3]")


def remove(path: Path) -> None:
    path.unlink()


def another_points(path: Path) -> None:
    """The same file of another point (one of another size): whole, but not this point's."""
    size = path.stat().st_size
    other = next(folder / path.name for folder in sorted(path.parents[1].iterdir())
                 if (folder / path.name).stat().st_size != size)
    shutil.copy(other, path)


POINT_DAMAGE = [
    ("summary.parquet", truncate, "truncated"),
    ("summary.parquet", garble, "SHA-256 differs"),
    ("summary.parquet", another_points, "were written"),
    ("summary.parquet", remove, "missing"),
    ("metrics.parquet", truncate, "truncated"),
    ("metrics.parquet", garble, "SHA-256 differs"),
    ("metrics.parquet", remove, "missing"),
    ("point.json", junk, "not JSON"),
    ("point.json", empty, "empty"),
    ("point.json", without_point, "no 'point'"),
    ("point.json", a_list, "not a JSON object"),
    ("point.json", remove, "missing"),
]
POINT_DAMAGE_IDS = [f"{name}-{how.__name__}" for name, how, _ in POINT_DAMAGE]


# --------------------------------------------------------------------------- point.json records its files


def test_point_json_records_size_and_checksum_of_every_file(reference):
    for key in keys_of(reference):
        folder = reference / "points" / key
        info = json.loads((folder / "point.json").read_text())
        assert set(info["files"]) == {"summary.parquet", "metrics.parquet"}
        for name, record in info["files"].items():
            assert record == file_record(folder / name)
            assert record["bytes"] == (folder / name).stat().st_size and len(record["sha256"]) == 64
        assert read_point(folder)["point"] == key


def test_a_failed_point_records_its_error_file(tmp_path):
    cfg = load_config(QUICK)
    write_point(tmp_path / "job", "k1", {"a": 1}, cfg, None, 0.5, error="boom")
    info = read_point(tmp_path / "job")
    assert info["status"] == "failed" and set(info["files"]) == {"error.txt"}
    (tmp_path / "job" / "error.txt").write_text("edited")
    with pytest.raises(DamagedPoint) as damage:
        read_point(tmp_path / "job")
    assert damage.value.file.name == "error.txt" and "bytes" in damage.value.problem


def test_a_point_json_from_before_checksums_is_trusted_only_with_a_whole_summary(finished):
    key = keys_of(finished)[0]
    folder = finished / "points" / key
    info = json.loads((folder / "point.json").read_text())
    del info["files"]
    (folder / "point.json").write_text(json.dumps(info))
    assert read_point(folder)["point"] == key
    truncate(folder / "summary.parquet")
    with pytest.raises(DamagedPoint, match="not a whole Parquet file"):
        read_point(folder)


# --------------------------------------------------------------------------- casesim-sweep recomputes


@pytest.mark.parametrize("name,damage,problem", POINT_DAMAGE, ids=POINT_DAMAGE_IDS)
def test_a_damaged_point_is_moved_aside_reported_and_recomputed(reference, finished, monkeypatch,
                                                               name, damage, problem):
    key = keys_of(finished)[1]
    damage(finished / "points" / key / name)
    counting = Counting()
    monkeypatch.setattr(sim.running.sweep, "run_replication", counting)
    lines: list[str] = []
    outcome = sweep(finished, report=lines.append)
    assert sorted(counting.calls) == [(key, 0), (key, 1)]  # that point, and only it
    assert (outcome.already_done, outcome.completed, outcome.failed) == (3, 1, [])
    [line] = lines
    assert outcome.damaged == lines
    assert line.startswith(f"damaged point {key}: points/{key}/{name}: ") and problem in line
    [aside] = (finished / "damaged").glob(f"*/points/{key}")
    assert f"moved to {aside.relative_to(finished)}, recomputing" in line
    assert (aside / name).exists() or damage is remove  # nothing silently lost
    assert read_point(finished / "points" / key)["point"] == key
    pd.testing.assert_frame_equal(table(finished), table(reference))
    # Whole again: the next run has nothing to do and nothing to say.
    again: list[str] = []
    outcome = sweep(finished, report=again.append)
    assert (outcome.already_done, outcome.replications_run, again) == (4, 0, [])


def test_a_point_whose_point_json_names_another_point_is_recomputed(reference, finished, monkeypatch):
    first, second = keys_of(finished)[:2]
    shutil.rmtree(finished / "points" / second)
    shutil.copytree(finished / "points" / first, finished / "points" / second)
    counting = Counting()
    monkeypatch.setattr(sim.running.sweep, "run_replication", counting)
    lines: list[str] = []
    sweep(finished, report=lines.append)
    assert sorted(counting.calls) == [(second, 0), (second, 1)]
    assert len(lines) == 1 and f"records point {first}" in lines[0]
    pd.testing.assert_frame_equal(table(finished), table(reference))


def test_the_sweep_command_names_the_damaged_point_on_stderr(reference, finished, capsys):
    key = keys_of(finished)[2]
    truncate(finished / "points" / key / "summary.parquet")
    sweep_main(["smoke", *QUICK, "--out", str(finished), "--no-progress", "--batch-seconds", str(BATCH)])
    captured = capsys.readouterr()
    damaged = [line for line in captured.err.splitlines() if line.startswith("casesim-sweep: damaged point")]
    assert len(damaged) == 1 and f"points/{key}/summary.parquet: truncated" in damaged[0]
    assert "4 points: 3 already done, 1 completed now, 0 failed" in captured.out
    pd.testing.assert_frame_equal(table(finished), table(reference))


@pytest.fixture
def interrupted(tmp_path, monkeypatch) -> Path:
    """A sweep stopped when every batch of its first point was written, none assembled."""
    out = tmp_path / "sweep"

    def stop(self, point, whole=None):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(sim.running.sweep.SweepFolder, "finish_point", stop)
        with pytest.raises(KeyboardInterrupt):
            sweep(out)
    return out


@pytest.mark.parametrize("damage,problem", [
    (lambda batch: truncate(batch), "truncated"),
    (lambda batch: garble(batch), "SHA-256 differs"),
    (lambda batch: junk(batch.with_suffix(".json")), "reps-000001-000001.json is not readable"),
    (lambda batch: (batch.with_suffix(".json").unlink(), truncate(batch)), "not a whole Parquet file"),
], ids=["truncated", "garbled", "record-junk", "truncated-without-record"])
def test_a_damaged_batch_is_moved_aside_and_its_replications_recomputed(reference, interrupted, monkeypatch,
                                                                       damage, problem):
    key = keys_of(interrupted)[0]
    batch = interrupted / "partial" / key / "reps-000001-000001.parquet"
    assert batch.is_file() and batch.with_suffix(".json").is_file()
    damage(batch)
    counting = Counting()
    monkeypatch.setattr(sim.running.sweep, "run_replication", counting)
    lines: list[str] = []
    outcome = sweep(interrupted, report=lines.append)
    assert (key, 1) in counting.calls and (key, 0) not in counting.calls  # the whole batch kept
    assert outcome.failed == [] and outcome.completed == 4
    [line] = lines
    assert line.startswith(f"damaged batch of point {key}: partial/{key}/reps-000001-000001.parquet: ")
    assert problem in line and "recomputing replications 1-1" in line
    assert list((interrupted / "damaged").glob(f"*/partial/{key}/reps-000001-000001.parquet"))
    pd.testing.assert_frame_equal(table(interrupted), table(reference))


def test_a_whole_batch_without_its_record_is_kept(reference, interrupted, monkeypatch):
    """A batch written before its record (a crash between the two) is whole: renamed into place."""
    key = keys_of(interrupted)[0]
    (interrupted / "partial" / key / "reps-000001-000001.json").unlink()
    counting = Counting()
    monkeypatch.setattr(sim.running.sweep, "run_replication", counting)
    lines: list[str] = []
    sweep(interrupted, report=lines.append)
    assert key not in {k for k, _ in counting.calls} and lines == []
    pd.testing.assert_frame_equal(table(interrupted), table(reference))


def test_a_damaged_failure_record_is_moved_aside(reference, finished, monkeypatch):
    key = keys_of(finished)[3]
    cfg = load_config(QUICK)
    write_point(finished / "failed" / key, key, {}, cfg, None, 0.0, error="an old failure")
    junk(finished / "failed" / key / "point.json")
    lines: list[str] = []
    outcome = sweep(finished, report=lines.append)
    assert outcome.replications_run == 0
    [line] = lines
    assert f"damaged failure record of point {key}: failed/{key}/point.json: not JSON" in line
    assert not (finished / "failed" / key).exists()
    assert list((finished / "damaged").glob(f"*/failed/{key}/error.txt"))
    pd.testing.assert_frame_equal(table(finished), table(reference))


# --------------------------------------------------------------------------- casesim-collect names and fails


def collect_cli(folder: Path, capsys) -> tuple[int, list[str], str]:
    """casesim-collect in this process: its exit code, stderr lines and stdout."""
    try:
        collect_main([str(folder)])
        code = 0
    except SystemExit as stop:
        code = stop.code
    captured = capsys.readouterr()
    return code, captured.err.strip().splitlines(), captured.out


@pytest.mark.parametrize("name,damage,problem", POINT_DAMAGE, ids=POINT_DAMAGE_IDS)
def test_collect_names_a_damaged_point_and_marks_it_failed(reference, finished, capsys, name, damage, problem):
    key = keys_of(finished)[1]
    damage(finished / "points" / key / name)
    code, err, out = collect_cli(finished, capsys)
    assert code == 1
    [line] = err
    assert line.startswith(f"casesim-collect: damaged point {key}: points/{key}/{name}: ")
    assert problem in line and line.endswith("; marked failed")
    assert f"failed: {key}" in out
    assert not list(finished.rglob("*.tmp"))
    t = table(finished)
    assert status_counts(t) == {"ok": 3, "failed": 1}
    row = t[t["point"] == key]
    assert len(row) == 1 and row["estimate"].isna().all()
    assert row["staffing.investigators"].item() == 18  # its parameters, from the design if need be
    expected = table(reference)
    expected = expected[expected["point"] != key].reset_index(drop=True)
    pd.testing.assert_frame_equal(t[t["point"] != key].reset_index(drop=True), expected, check_dtype=False)
    # Its replications are not read as results either; the others' are all there.
    reps = pd.read_parquet(finished / "replications.parquet")
    assert key not in set(reps["point"].astype(str))
    assert reps["point"].astype(str).value_counts().to_dict() == {
        other: len(pd.read_parquet(finished / "points" / other / "metrics.parquet"))
        for other in keys_of(finished) if other != key}


def test_collect_fails_a_point_whose_summary_cannot_be_read(finished, capsys):
    """A summary that matches no checksum because none was recorded (written before they
    were), whole as Parquet but not a summary, is still no traceback."""
    key = keys_of(finished)[0]
    folder = finished / "points" / key
    info = json.loads((folder / "point.json").read_text())
    del info["files"]
    (folder / "point.json").write_text(json.dumps(info))
    pd.DataFrame({"estimate": ["not a number"]}).to_parquet(folder / "summary.parquet")
    code, err, _ = collect_cli(finished, capsys)
    assert code == 1 and len(err) == 1
    assert f"damaged point {key}: points/{key}/summary.parquet: unreadable" in err[0]
    assert status_counts(finished) == {"ok": 3, "failed": 1}


def test_collect_fails_a_point_whose_metrics_cannot_be_read(finished, capsys):
    """The same for per-replication metrics that are whole Parquet but not metrics: the
    point is failed in both tables, and its rows are not read as replications."""
    key = keys_of(finished)[0]
    folder = finished / "points" / key
    info = json.loads((folder / "point.json").read_text())
    del info["files"]
    (folder / "point.json").write_text(json.dumps(info))
    pd.DataFrame({"replication": [0]}).to_parquet(folder / "metrics.parquet")
    code, err, _ = collect_cli(finished, capsys)
    assert code == 1 and len(err) == 1
    assert f"damaged point {key}: points/{key}/metrics.parquet: unreadable (no column metric, value)" in err[0]
    assert status_counts(finished) == {"ok": 3, "failed": 1}
    reps = pd.read_parquet(finished / "replications.parquet")
    assert set(reps["point"].astype(str)) == set(keys_of(finished)[1:])


@pytest.mark.parametrize("text,problem", [
    ("garbage \x00\x01", "not JSON"),
    ("", "not JSON"),
    ('{"sweep": "smoke"}', "no list of 'points'"),
    ('{"points": [1, 2]}', "a point is 1"),
])
def test_collect_with_a_damaged_design_collects_in_folder_order(reference, finished, capsys, text, problem):
    (finished / "design.json").write_text(text)
    code, err, out = collect_cli(finished, capsys)
    assert code == 1
    [line] = err
    assert line.startswith("casesim-collect: damaged design.json: ") and problem in line
    assert "points collected in folder order" in line
    assert status_counts(finished) == {"ok": 4}
    t = table(finished)
    assert sorted(t["point"].unique()) == sorted(keys_of(reference))
    assert not list(finished.rglob("*.tmp"))


def test_collect_of_a_whole_sweep_says_nothing_and_exits_0(finished, capsys):
    code, err, out = collect_cli(finished, capsys)
    assert (code, err) == (0, [])
    assert "collected 4 points: 4 ok into" in out and "{" not in out


def test_collect_leaves_no_temporary_file_when_writing_fails(finished, capsys, monkeypatch):
    real = sim.io.collect._point_rows
    calls = []

    def disk_full(*args):
        calls.append(1)
        if len(calls) == 3:  # the table is part written
            raise OSError(28, "No space left on device")
        return real(*args)

    monkeypatch.setattr(sim.io.collect, "_point_rows", disk_full)
    monkeypatch.setattr(sim.io.collect, "ROW_GROUP_POINTS", 1)
    (finished / "sweep.parquet").unlink()
    code, err, _ = collect_cli(finished, capsys)
    assert code == 2 and len(err) == 1
    assert err[0].startswith("casesim-collect: error: directory=") and "No space left on device" in err[0]
    assert not (finished / ".sweep.parquet.tmp").exists() and not (finished / "sweep.parquet").exists()
    assert not (finished / ".replications.parquet.tmp").exists()
    calls.clear()
    with pytest.raises(OSError):
        collect(finished, table=False)
    assert not (finished / ".sweep.parquet.tmp").exists()
    assert not (finished / ".replications.parquet.tmp").exists()


def test_collect_command_on_a_damaged_folder_gives_no_traceback(reference, finished):
    keys = keys_of(finished)
    truncate(finished / "points" / keys[0] / "summary.parquet")
    junk(finished / "points" / keys[1] / "point.json")
    without_point(finished / "points" / keys[2] / "point.json")
    r = subprocess.run([str(BIN / "casesim-collect"), str(finished)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "Traceback" not in r.stderr + r.stdout
    lines = r.stderr.strip().splitlines()
    assert sorted(line.split(":")[1].strip() for line in lines) == sorted(f"damaged point {key}" for key in keys[:3])
    assert status_counts(finished) == {"failed": 3, "ok": 1}
    assert not (finished / ".sweep.parquet.tmp").exists()


# --------------------------------------------------------------------------- sweep names


@pytest.mark.parametrize("name", ["../../x", "smoke/../smoke", "/etc/passwd", "a b", "", "smoke.yaml"])
def test_a_sweep_name_must_be_a_plain_name(name):
    with pytest.raises(ConfigError) as exc:
        sweep_file(name)
    assert exc.value.key == "sweep"
    assert "a plain name (letters, digits, _ and -); sweeps: " in str(exc.value) and "smoke" in str(exc.value)
    with pytest.raises(ConfigError, match="a plain name"):
        multirun_points([f"+sweep={name}"] if name else ["+sweep=a b"])
    assert sweep_file("staffing_training").name == "staffing_training.yaml"


def test_collect_checks_multirun_job_folders_too(tmp_path, capsys):
    """A multirun's jobs (written by write_point, as ``casesim -m`` does) carry the same
    record; a damaged job is named by its folder when its point.json has lost its key."""
    cfg = load_config(QUICK)
    summary = pd.DataFrame({"force": ["all"], "metric": ["m"], "estimate": [1.0]})
    for job in ("0", "1", "2"):
        write_point(tmp_path / job, f"key{job}", {"run.seed": int(job)}, cfg, summary, 0.1)
    empty(tmp_path / "1" / "point.json")
    truncate(tmp_path / "2" / "summary.parquet")
    code, err, out = collect_cli(tmp_path, capsys)
    assert code == 1
    assert err == ["casesim-collect: damaged point 1: 1/point.json: empty; marked failed",
                   "casesim-collect: damaged point key2: 2/summary.parquet: truncated: "
                   f"{(tmp_path / '2' / 'summary.parquet').stat().st_size} bytes, "
                   f"{file_record(tmp_path / '0' / 'summary.parquet')['bytes']} were written; marked failed"]
    t = pd.read_parquet(tmp_path / "sweep.parquet")
    assert list(zip(t["point"], t["status"])) == [("key0", "ok"), ("1", "failed"), ("key2", "failed")]
    assert not (tmp_path / "replications.parquet").exists()  # its jobs keep no per-replication metrics
