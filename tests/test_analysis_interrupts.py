"""Ctrl-C or SIGTERM on casesim-compare, casesim-search and casesim-replications keeps the
work finished before it, in a folder whose manifest says ``"complete": false``, and exits
130 with one line.

Each command runs in a child process whose replications are gated: the replication the
test stops the command in marks a file and waits, so the signal always lands in the middle
of that run, after the work before it has finished (no timing is assumed)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

QUICK = ["run.horizon_days=60", "run.progress=false"]

CHILD = """
import signal, sys, time
from pathlib import Path

import sim.running.runner as runner
from sim import cli

# An interactive shell's Ctrl-C, whatever the test runner's processes ignore.
signal.signal(signal.SIGINT, signal.default_int_handler)
marker = Path(sys.argv[1])
replicate = runner.run_replication


def gated(cfg, r):
    if {stops_at}:
        marker.touch()
        time.sleep(600)  # until the test's signal
    return replicate(cfg, r)


runner.run_replication = gated
cli.{command}_main(sys.argv[2:])
"""


def _stopped(tmp_path: Path, command: str, stops_at: str, argv: list[str], signum: int) -> tuple[int, list[str]]:
    """Run ``casesim-COMMAND argv`` until the replication where ``stops_at`` (a condition on
    ``cfg`` and ``r``) holds, send it ``signum`` there; its exit code and stderr lines."""
    return _signalled_at_gate(tmp_path, CHILD.format(stops_at=stops_at, command=command), argv, signum)


def _signalled_at_gate(tmp_path: Path, code: str, argv: list[str], signum: int) -> tuple[int, list[str]]:
    """Run the child ``code`` (which touches ``sys.argv[1]`` at its gate, then waits) with
    ``argv``, send it ``signum`` once the gate is reached; its exit code and stderr lines."""
    marker = tmp_path / "gate_reached"
    child = subprocess.Popen([sys.executable, "-c", code, str(marker), *argv], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            if child.poll() is not None or time.monotonic() > deadline:
                out, err = child.communicate(timeout=60)
                pytest.fail(f"the command ended before the gate (exit {child.returncode}): {err}")
            time.sleep(0.05)
        child.send_signal(signum)
        _, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    return child.returncode, err.strip().splitlines()


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def test_compare_keeps_the_finished_runs(tmp_path):
    out = tmp_path / "cmp"
    code, err = _stopped(tmp_path, "compare", "cfg.scenario == 'more_investigators'",
                         ["fast_warrants", "more_investigators", "--out", str(out), *QUICK, "run.replications=2"],
                         signal.SIGINT)
    assert code == 130
    assert err == [f"casesim-compare: interrupted; finished runs kept in {out} (baseline, fast_warrants: 2 of 3; "
                   "manifest.json says complete: false)"]
    manifest = _manifest(out)
    assert manifest["complete"] is False
    assert manifest["scenarios"] == ["baseline", "fast_warrants", "more_investigators"]
    assert manifest["finished"] == list(manifest["runs"]) == ["baseline", "fast_warrants"]
    assert set(pd.read_csv(out / "comparison.csv")["scenario"]) == {"fast_warrants"}
    assert list(pd.read_csv(out / "summary.csv")["scenario"].unique()) == ["baseline", "fast_warrants"]
    assert not (out / "report.html").exists()


def test_search_keeps_the_levels_run_on_sigterm(tmp_path):
    out = tmp_path / "search"
    # An unreachable target: every mix runs, cheapest first; stopped in the second.
    code, err = _stopped(tmp_path, "search", "cfg.staffing.investigators == 21",
                         ["--grid", "staffing.investigators=20,21,22", "--cost", "staffing.investigators=1",
                          "--risks", "H", "--within-days", "1", "--out", str(out), *QUICK, "run.replications=2"],
                         signal.SIGTERM)
    assert code == 130
    assert err == [f"casesim-search: interrupted; finished levels (1) kept in {out}/runs.csv "
                   "(manifest.json says complete: false)"]
    runs = pd.read_csv(out / "runs.csv")
    assert runs["staffing.investigators"].tolist() == [20]
    manifest = _manifest(out)
    assert manifest["complete"] is False and manifest["levels_run"] == 1
    assert manifest["grid"] == {"staffing.investigators": [20.0, 21.0, 22.0]}


def test_replications_keep_the_trajectory_of_those_finished(tmp_path):
    out = tmp_path / "study"
    code, err = _stopped(tmp_path, "replications", "r == 3", ["--max", "40", "--out", str(out), *QUICK],
                         signal.SIGINT)
    assert code == 130
    assert err == [f"casesim-replications: interrupted; the trajectory of replications 0..2 kept in {out} "
                   "(manifest.json says complete: false)"]
    trajectory = pd.read_csv(out / "trajectory.csv")
    assert sorted(trajectory["replications"].unique()) == [2, 3]
    assert (out / "recommendation.csv").is_file() and not (out / "figures").exists()
    manifest = _manifest(out)
    assert manifest["complete"] is False and manifest["replications_finished"] == 3
    assert manifest["max_replications"] == 40


def _interrupt_at(monkeypatch, stops_at) -> None:
    """In this process: Ctrl-C in the replication where ``stops_at(cfg, r)`` holds."""
    import sim.running.runner as runner

    replicate = runner.run_replication

    def interrupted(cfg, r):
        if stops_at(cfg, r):
            raise KeyboardInterrupt
        return replicate(cfg, r)

    monkeypatch.setattr(runner, "run_replication", interrupted)


def test_an_interrupt_before_anything_finished_leaves_no_folder(tmp_path, monkeypatch, capsys):
    from sim import cli

    _interrupt_at(monkeypatch, lambda cfg, r: r == 1)
    out = tmp_path / "study"
    with pytest.raises(SystemExit) as stop:
        cli.replications_main(["--max", "40", "--out", str(out), *QUICK])
    assert stop.value.code == 130
    assert capsys.readouterr().err.strip() == ("casesim-replications: interrupted; fewer than 2 replications had "
                                               "finished; nothing kept")
    assert not out.exists()


def test_a_chosen_folder_with_other_files_is_kept_and_marked_unfinished(tmp_path, monkeypatch, capsys):
    from sim import cli

    _interrupt_at(monkeypatch, lambda cfg, r: True)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("kept\n")
    (out / "manifest.json").write_text('{"complete": true}')  # an earlier comparison's
    with pytest.raises(SystemExit) as stop:
        cli.compare_main(["fast_warrants", "--out", str(out), *QUICK, "run.replications=2"])
    assert stop.value.code == 130
    assert capsys.readouterr().err.strip() == ("casesim-compare: interrupted; no run had finished; "
                                               f"{out}/manifest.json says complete: false")
    assert (out / "notes.txt").read_text() == "kept\n"
    assert _manifest(out) == {"complete": False, "scenarios": ["baseline", "fast_warrants"], "finished": []}


CALIBRATE_CHILD = """
import signal, sys, time
from pathlib import Path

import sim.calibration.fit as fit
from sim import cli

signal.signal(signal.SIGINT, signal.default_int_handler)
marker = Path(sys.argv[1])
replicate = fit.run_replication
runs = []


def gated(cfg, r):
    runs.append(r)
    if len(runs) == 3:  # the fit's third replication
        marker.touch()
        time.sleep(600)  # until the test's signal
    return replicate(cfg, r)


fit.run_replication = gated
cli.calibrate_main(sys.argv[2:])
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_calibrate_stopped_in_its_fit_says_so_in_one_line_and_keeps_no_half_folder(tmp_path, signum):
    import sim

    out = tmp_path / "cal"
    code, err = _signalled_at_gate(tmp_path, CALIBRATE_CHILD, [str(sim.EXAMPLE_CASE_LOG), "--quick", "--out", str(out)],
                                   signum)
    assert code == 130
    assert err == ["casesim-calibrate: interrupted; the fit was stopped; nothing kept"]
    assert not out.exists()
