"""Replications chosen per point (``casesim-sweep NAME run.replications=auto --precision P
--max-replications M``): each point stops where the sequential rule says, read again from
its stored replications; the maximum holds; an interrupted sweep resumes to the same files
as one run straight through; serial == local processes; ``auto`` is refused outside sweeps.

Every sweep here is the ``smoke`` preset (4 points) cut to 60 simulated days, with
``batch_seconds=0.01`` so that each replication is its own task, and (but for the command
line's) a look-ahead of 2 replications instead of 5, so that points are judged after 5, 7,
9, 11 and 13 replications.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim.running.sweep
from sim.cli import sweep_main
from sim.config.design import ReplicationRule, config_hash, design_points
from sim.config.load import load_config
from sim.errors import ConfigError
from sim.io.collect import TIMING_COLUMNS
from sim.model import run_replication
from sim.results.catalogue import REPLICATION_KEYS
from sim.results.replication_count import recommend_replications, replication_trajectory
from sim.running.executors import LocalExecutor
from sim.running.sweep import batch_targets, run_sweep

QUICK = ["run.horizon_days=60"]
AUTO = [*QUICK, "run.replications=auto"]
BATCH = 0.01  # seconds: one replication per task
RULE = ReplicationRule(precision=0.2, max_replications=13, k_limit=2)  # batches end at 5, 7, 9, 11, 13


def auto_sweep(out: Path, rule: ReplicationRule = RULE, executor=None, **kw) -> sim.running.sweep.SweepOutcome:
    return run_sweep("smoke", AUTO, out=out, executor=executor, progress=False, batch_seconds=BATCH,
                     replications=rule, **kw)


def table(out: Path) -> pd.DataFrame:
    """A sweep's collected table without the columns that time it."""
    return pd.read_parquet(Path(out) / "sweep.parquet").drop(columns=list(TIMING_COLUMNS))


def keys_of(out: Path) -> list[str]:
    return [point["point"] for point in json.loads((out / "design.json").read_text())["points"]]


def point_files(out: Path) -> dict[str, bytes]:
    """Every file of every finished point, point.json without its timing."""
    files = {}
    for path in sorted((out / "points").rglob("*")):
        if path.name == "point.json":
            info = json.loads(path.read_text())
            del info["simulation_seconds"]
            files[str(path.relative_to(out))] = json.dumps(info, sort_keys=True).encode()
        elif path.is_file():
            files[str(path.relative_to(out))] = path.read_bytes()
    return files


class Counting:
    """``run_replication`` recording (point, replication), raising KeyboardInterrupt after ``stop_after`` calls."""

    def __init__(self, stop_after: int | None = None):
        self.calls: list[tuple[str, int]] = []
        self.stop_after = stop_after

    def __call__(self, cfg, r):
        if self.stop_after is not None and len(self.calls) == self.stop_after:
            raise KeyboardInterrupt
        self.calls.append((config_hash(cfg), r))
        return run_replication(cfg, r)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The smoke sweep with replications chosen per point, run serially, once."""
    out = tmp_path_factory.mktemp("auto") / "sweep"
    outcome = auto_sweep(out)
    assert (outcome.points, outcome.completed, outcome.failed) == (4, 4, [])
    return out


def rule_says_stop(per_rep: pd.DataFrame, total: str, rule: ReplicationRule) -> tuple[bool, bool]:
    """(stop, reached) by the rule, worked out from ``recommend_replications`` itself: the
    outputs whose relative half-width after all replications is defined decide; the point
    stops when they all have a recommendation, when none decides, or at the maximum."""
    judged = per_rep[(per_rep["force"] == total) & per_rep["metric"].isin({key[0] for key in REPLICATION_KEYS})]
    trajectory = replication_trajectory(judged, REPLICATION_KEYS, rule.level, force=total)
    recommendation = recommend_replications(trajectory, rule.precision, rule.k_limit, rule.min_replications)
    deciding = np.isfinite(recommendation["relative_half_width"].to_numpy(dtype=float))
    reached = bool(deciding.any()) and bool(recommendation.loc[deciding, "recommended_replications"].notna().all())
    replications = per_rep["replication"].nunique()
    return reached or not deciding.any() or replications >= rule.max_replications, reached


def test_each_point_stops_where_the_rule_says_on_its_stored_replications(reference):
    t = table(reference)
    stopped_at = {}
    for key in keys_of(reference):
        folder = reference / "points" / key
        info = json.loads((folder / "point.json").read_text())
        metrics = pd.read_parquet(folder / "metrics.parquet")
        n = info["replications"]
        stopped_at[key] = n
        assert sorted(metrics["replication"].unique()) == list(range(n))
        total = info["config"]["force"]
        targets = batch_targets(RULE)
        assert n in targets and targets[0] == RULE.first_replications == 5
        for target in targets[:targets.index(n) + 1]:  # judged after each batch, as it was run
            stop, reached = rule_says_stop(metrics[metrics["replication"] < target], total, RULE)
            assert stop == (target == n), (key, target)
        rule = info["replication_rule"]
        assert rule["precision_reached"] == reached
        assert (rule["precision"], rule["max_replications"], rule["first_replications"]) == (0.2, 13, 5)
        rows = t[t["point"] == key]
        assert (rows["replications"] == n).all() and (rows["n_replications"] == n).all()
        assert (rows["precision"] == 0.2).all() and (rows["max_replications"] == 13).all()
        assert (rows["precision_reached"] == reached).all() and (rows["precision_note"] == rule["note"]).all()
        if reached:
            assert rows["recommended_replications"].iloc[0] <= n - RULE.k_limit
    # The rule chooses: the points do not all stop at the same number.
    assert len(set(stopped_at.values())) >= 2, stopped_at


def test_the_maximum_holds(tmp_path):
    rule = ReplicationRule(precision=0.001, max_replications=6, k_limit=2)
    assert batch_targets(rule) == [5, 6]  # the maximum, not a whole batch past it
    outcome = auto_sweep(tmp_path / "sweep", rule)
    assert outcome.replications_run == 4 * 6
    t = table(tmp_path / "sweep")
    assert (t["replications"] == 6).all() and not t["precision_reached"].any()
    assert t["precision_note"].str.startswith("not reached in 6 replications by ").all()


def test_local_processes_stop_every_point_where_the_serial_run_does(reference, tmp_path):
    out = tmp_path / "sweep"
    outcome = auto_sweep(out, executor=LocalExecutor(2))
    assert (outcome.completed, outcome.failed) == (4, [])
    pd.testing.assert_frame_equal(table(out), table(reference))
    assert point_files(out) == point_files(reference)
    assert (out / "replications.parquet").read_bytes() == (reference / "replications.parquet").read_bytes()


def test_an_interrupted_auto_sweep_resumes_to_the_same_files(reference, tmp_path, monkeypatch):
    """Stopped twice, in the first batches and in later ones, then finished: the files are
    those of the sweep run straight through, and no replication is run twice."""
    out = tmp_path / "sweep"
    runs = []
    for stop_after in (20, 15, None):
        counting = Counting(stop_after)
        runs.append(counting)
        monkeypatch.setattr(sim.running.sweep, "run_replication", counting)
        if stop_after is None:
            outcome = auto_sweep(out)
        else:
            with pytest.raises(KeyboardInterrupt):
                auto_sweep(out)
    assert outcome.failed == []
    calls = [call for counting in runs for call in counting.calls]
    assert len(calls) == len(set(calls))  # each replication run once
    total = sum(json.loads((reference / "points" / key / "point.json").read_text())["replications"]
                for key in keys_of(reference))
    assert len(calls) == total
    pd.testing.assert_frame_equal(table(out), table(reference))
    assert point_files(out) == point_files(reference)
    assert (out / "replications.parquet").read_bytes() == (reference / "replications.parquet").read_bytes()


def test_a_point_whose_last_batch_is_on_disk_is_judged_again_and_assembled(reference, tmp_path, monkeypatch):
    """Interrupted after a point's deciding batch was written, before the point was assembled:
    the re-run judges its batches again, and runs nothing for it."""
    out = tmp_path / "sweep"
    real_finish = sim.running.sweep.SweepFolder.finish_point
    finishing = []

    def interrupted(self, point, whole=None, **kw):
        finishing.append(point.key)
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.running.sweep.SweepFolder, "finish_point", interrupted)
    with pytest.raises(KeyboardInterrupt):
        auto_sweep(out)
    monkeypatch.setattr(sim.running.sweep.SweepFolder, "finish_point", real_finish)
    [key] = finishing
    assert len(list((out / "partial" / key).glob("reps-*.parquet"))) >= 8  # its batches kept
    counting = Counting()
    monkeypatch.setattr(sim.running.sweep, "run_replication", counting)
    auto_sweep(out)
    assert key not in {k for k, _ in counting.calls}
    pd.testing.assert_frame_equal(table(out), table(reference))
    assert point_files(out) == point_files(reference)


def test_a_resumed_point_missing_an_early_batch_runs_only_what_is_missing(reference, tmp_path, monkeypatch):
    """A point stopped with batches past its first on disk, one early batch since lost (a
    damaged file is moved aside): the re-run runs that batch's replication and judges the
    later batches from disk; no replication is run twice, and the files are the sweep's."""
    out = tmp_path / "sweep"
    monkeypatch.setattr(sim.running.sweep, "run_replication", Counting(stop_after=30))
    with pytest.raises(KeyboardInterrupt):
        auto_sweep(out)
    batches = {key.name: sorted(key.glob("reps-*.parquet")) for key in (out / "partial").iterdir()}
    key, files = max(batches.items(), key=lambda item: len(item[1]))
    assert len(files) > RULE.first_replications  # batches past the first target on disk
    first = {f: int(sim.running.sweep.BATCH_NAME.fullmatch(f.name).group("first")) for f in files}
    lost = min(files, key=first.get)  # replication 0's batch
    lost.unlink()
    lost.with_suffix(".json").unlink()
    on_disk = {(key, first[f]) for f in files if f != lost}
    counting = Counting()
    monkeypatch.setattr(sim.running.sweep, "run_replication", counting)
    auto_sweep(out)
    hashes = {config_hash(point.config): point.key for point in design_points("smoke", AUTO, RULE)[1]}
    ran = [(hashes[h], r) for h, r in counting.calls]
    assert len(ran) == len(set(ran)) and (key, 0) in ran
    assert not on_disk & set(ran)  # nothing on disk run again
    pd.testing.assert_frame_equal(table(out), table(reference))
    assert point_files(out) == point_files(reference)


def test_a_rerun_of_a_finished_auto_sweep_computes_nothing(reference, tmp_path, monkeypatch):
    out = tmp_path / "sweep"
    shutil.copytree(reference, out)
    monkeypatch.setattr(sim.running.sweep, "run_replication", counting := Counting())
    outcome = auto_sweep(out)
    assert counting.calls == [] and (outcome.already_done, outcome.replications_run) == (4, 0)
    pd.testing.assert_frame_equal(table(out), table(reference))


def test_the_rule_is_part_of_a_points_key():
    """Another precision or maximum is another point; a fixed number keeps the config's hash."""
    _, fixed = design_points("smoke", QUICK)
    _, auto = design_points("smoke", AUTO, RULE)
    _, looser = design_points("smoke", AUTO, ReplicationRule(precision=0.3, max_replications=13, k_limit=2))
    _, longer = design_points("smoke", AUTO, ReplicationRule(precision=0.2, max_replications=15, k_limit=2))
    assert [p.key for p in fixed] == [config_hash(p.config) for p in fixed]
    assert len({p.key for points in (fixed, auto, looser, longer) for p in points}) == 16
    assert all(p.config.run.replications == 13 for p in auto)  # composed with the maximum
    spec, default = design_points("smoke", AUTO)
    assert spec.replications == ReplicationRule() and default[0].config.run.replications == 100
    # The last value given wins, as in Hydra.
    spec, points = design_points("smoke", [*AUTO, "run.replications=3"])
    assert spec.replications is None and points[0].config.run.replications == 3
    with pytest.raises(ConfigError, match="run.replications='3': auto, for a sweep given a precision"):
        design_points("smoke", [*QUICK, "run.replications=3"], RULE)


@pytest.mark.parametrize("kwargs,key,says", [
    ({"precision": 0.0}, "precision", "a relative half-width in (0, 1)"),
    ({"precision": float("nan")}, "precision", "a relative half-width in (0, 1)"),
    ({"precision": 1.0}, "precision", "a relative half-width in (0, 1)"),
    ({"max_replications": 7}, "max_replications", "a whole number from 8 (3 replications, Hoad et al.'s minimum"),
    ({"max_replications": 100_001}, "max_replications", "to 100,000"),
    ({"k_limit": -1}, "k_limit", "a whole number from 0 to 100"),
])
def test_a_bad_rule_is_refused(kwargs, key, says):
    with pytest.raises(ConfigError) as exc:
        ReplicationRule(**kwargs)
    assert exc.value.key == key and says in str(exc.value)


@pytest.mark.parametrize("overrides", [["run.replications=auto"], ["run.replications=auto", "run.seed=3"]])
def test_auto_is_refused_outside_sweeps(overrides):
    with pytest.raises(ConfigError) as exc:
        load_config(overrides)
    assert exc.value.key == "run.replications" and "only in casesim-sweep" in str(exc.value)


def test_the_command_says_how_many_points_reached_the_precision(tmp_path, capsys):
    """With Hoad et al.'s look-ahead of 5, the first batch is 8: the maximum here."""
    out = tmp_path / "sweep"
    sweep_main(["smoke", *AUTO, "--precision", "0.2", "--max-replications", "8", "--out", str(out),
                "--no-progress", "--batch-seconds", str(BATCH)])
    printed = capsys.readouterr().out
    t = table(out).drop_duplicates("point")
    assert (t["replications"] == 8).all() and (t["precision"] == 0.2).all() and (t["max_replications"] == 8).all()
    reached = int(t["precision_reached"].sum())
    assert (f"precision ±20 % of the mean reached at {reached} of 4 points; replications per point 8 to 8 "
            "(at most 8)") in printed
    assert f"wrote {out}/sweep.parquet and {out}/replications.parquet" in printed
