"""casesim-compare, casesim-search, casesim-replications and casesim-sweep: bad input is one
line and exit 2 with nothing written, checked before any simulation; options and
positionals mix in any order; the search's default folder is new each time. (Each
command's finished run and its complete manifest: tests/test_compare.py, test_search.py,
test_replications.py; interrupted runs: tests/test_analysis_interrupts.py.)"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from sim import cli

QUICK = ["run.horizon_days=60", "run.progress=false"]


def _files(root: Path) -> set[Path]:
    return set(root.rglob("*"))


def _exit_2_with_one_line(command: str, argv: list[str], capsys) -> str:
    """Run ``casesim-COMMAND argv`` in this process; the one error line it printed."""
    with pytest.raises(SystemExit) as stop:
        getattr(cli, f"{command}_main")(argv)
    assert stop.value.code == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"casesim-{command}: error: "), lines[0]
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


# (command, arguments with OUT for an output folder and FILE for an existing file, a fragment
# of the one error line)
BAD_INPUT = [
    # the output folder, before any simulation
    ("compare", ["fast_warrants", *QUICK, "--out", "FILE"], "--out='FILE': is a file, not a folder"),
    ("compare", ["fast_warrants", *QUICK, "--out", "FILE/inside"], "--out='FILE/inside': a path inside a file"),
    ("search", [*QUICK, "run.replications=2", "--out", "FILE"], "--out='FILE': is a file, not a folder"),
    ("replications", [*QUICK, "--max", "3", "--out", "FILE"], "--out='FILE': is a file, not a folder"),
    ("sweep", ["smoke", "--out", "FILE"], "--out='FILE': is a file, not a folder"),
    # casesim-search's target
    ("search", ["--within-days", "-5", "--out", "OUT"], "--within-days=-5.0: a finite number of days > 0"),
    ("search", ["--within-days", "nan", "--out", "OUT"], "--within-days=nan: a finite number of days > 0"),
    ("search", ["--within-days", "inf", "--out", "OUT"], "--within-days=inf: a finite number of days > 0"),
    ("search", [*QUICK, "--within-days", "90", "--out", "OUT"], "below run.horizon_days (60)"),
    ("search", ["--confidence", "nan", "--out", "OUT"], "--confidence=nan: a fraction in (0, 1)"),
    ("search", ["--confidence", "1", "--out", "OUT"], "--confidence=1.0: a fraction in (0, 1)"),
    ("search", ["--max-share-late", "inf", "--out", "OUT"], "--max-share-late=inf: a fraction in (0, 1)"),
    ("search", ["--risks", "VH,X", "--out", "OUT"], "--risks='VH,X': grades from VH, H, M, L"),
    ("search", ["--max-investigators", "10", "--out", "OUT"], "--max-investigators=10: a whole number of "
                                                              "investigators from today's 20"),
    ("search", ["--max-investigators", "100000", "--out", "OUT"], "--max-investigators=100000: "),
    ("search", ["run.replications=1", "--out", "OUT"], "run.replications=1: the search needs at least 2"),
    # casesim-search's grid and costs: the key or the level is named, not --cost
    ("search", ["--grid", "nonexistent.key=1,2", "--out", "OUT"],
     "--grid='nonexistent.key': not a numeric configuration key"),
    ("search", ["--grid", "staffing.investigators=20,-5", "--out", "OUT"],
     "--grid staffing.investigators=-5.0: headcount must be >= 1"),
    ("search", ["--grid", "staffing.investigators=20,nan", "--out", "OUT"],
     "--grid staffing.investigators=nan: a finite number"),
    ("search", ["--grid", "staffing.investigators=20.5", "--out", "OUT"],
     "--grid staffing.investigators=20.5: a whole number"),
    ("search", ["--grid", "scenario=1,2", "--out", "OUT"], "--grid='scenario': not a numeric configuration key"),
    ("search", ["--grid", "run.seed=1,2", "--out", "OUT"], "--grid='run.seed': the search varies the model"),
    ("search", ["--grid", "staffing.investigators=20,22", "--grid", "staffing.investigators=24", "--out", "OUT"],
     "staffing.investigators given twice"),
    ("search", ["--grid", "staffing.investigators=twenty", "--out", "OUT"],
     "--grid='staffing.investigators=twenty': KEY=V1,V2,... with numbers"),
    ("search", ["--grid", "staffing.investigators=20,22", "--out", "OUT"],
     "--grid='staffing.investigators': give every --grid key a cost per unit (--cost)"),
    ("search", ["--grid", "staffing.investigators=20", "--cost", "staffing.researchers=1", "--out", "OUT"],
     "--cost='staffing.researchers': not a --grid key"),
    ("search", ["--grid", "staffing.investigators=20", "--cost", "staffing.investigators=nan", "--out", "OUT"],
     "--cost staffing.investigators=nan: a finite cost per unit >= 0"),
    ("search", ["--cost", "staffing.investigators=1", "--out", "OUT"], "--cost='staffing.investigators=1': prices "
                                                                        "a --grid key"),
    # casesim-replications
    ("replications", ["--precision", "nan", "--out", "OUT"], "--precision=nan: a relative half-width in (0, 1)"),
    ("replications", ["--precision", "inf", "--out", "OUT"], "--precision=inf: a relative half-width in (0, 1)"),
    ("replications", ["--max", "100000", "--out", "OUT"], "--max=100000: from 3 replications"),
    ("replications", ["--max", "2", "--out", "OUT"], "--max=2: from 3 replications"),
    # casesim-sweep
    ("sweep", ["smoke", "--batch-seconds", "nan", "--out", "OUT"], "--batch-seconds=nan: must be > 0, a finite"),
    ("sweep", ["smoke", "--batch-seconds", "inf", "--out", "OUT"], "--batch-seconds=inf: must be > 0, a finite"),
    ("sweep", ["smoke", "--batch-seconds", "-1", "--out", "OUT"], "--batch-seconds=-1.0: must be > 0"),
    ("sweep", ["smoke", "--workers", "0", "--out", "OUT"], "--workers=0: from 1 to 1024 processes"),
    ("sweep", ["smoke", "--workers", "100000", "--out", "OUT"], "--workers=100000: from 1 to 1024 processes"),
    ("sweep", ["smoke", "--local-cluster", "0", "--out", "OUT"], "--local-cluster=0: from 1 to 1024 processes"),
    ("sweep", ["smoke", "--connect-timeout", "nan", "--out", "OUT"], "--connect-timeout=nan: must be > 0"),
    ("sweep", ["smoke", "--connect-timeout", "0", "--out", "OUT"], "--connect-timeout=0.0: must be > 0"),
    # argparse's own errors: one line, the error first
    ("compare", ["fast_warrants", "--bogus"], "unrecognized arguments: --bogus; see casesim-compare --help"),
    ("compare", ["fast_warrants", "--out"], "argument --out: expected one argument"),
    ("compare", [], "the following arguments are required"),
    ("search", ["--bogus"], "unrecognized arguments: --bogus"),
    ("search", ["--max-investigators", "1e9"], "argument --max-investigators: invalid int value: '1e9'"),
    ("search", ["--within-days"], "argument --within-days: expected one argument"),
    ("replications", ["--bogus"], "unrecognized arguments: --bogus"),
    ("replications", ["--max", "many"], "argument --max: invalid int value: 'many'"),
    ("replications", ["--precision"], "argument --precision: expected one argument"),
    ("sweep", ["smoke", "--bogus"], "unrecognized arguments: --bogus"),
    ("sweep", ["smoke", "--workers", "two"], "argument --workers: invalid int value: 'two'"),
    ("sweep", ["--workers", "2"], "the following arguments are required: name"),
]


@pytest.mark.parametrize("command,argv,expected", BAD_INPUT,
                         ids=[f"{c}:{' '.join(a)}" for c, a, _ in BAD_INPUT])
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, monkeypatch, capsys, command, argv, expected):
    monkeypatch.chdir(tmp_path)  # a default folder (outputs/...) would appear here
    (tmp_path / "a file").write_text("kept\n")
    before = _files(tmp_path)
    paths = {"OUT": str(tmp_path / "out"), "FILE": str(tmp_path / "a file")}

    def placed(text: str) -> str:
        for name, path in paths.items():
            text = text.replace(name, path)
        return text

    line = _exit_2_with_one_line(command, [placed(arg) for arg in argv], capsys)
    assert placed(expected) in line
    assert _files(tmp_path) == before
    assert (tmp_path / "a file").read_text() == "kept\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="the superuser may write into any folder")
@pytest.mark.parametrize("command,argv", [("compare", ["fast_warrants", *QUICK]),
                                          ("search", [*QUICK, "run.replications=2"]),
                                          ("replications", [*QUICK, "--max", "3"]), ("sweep", ["smoke"])])
def test_an_unwritable_output_folder_is_refused_before_running(tmp_path, capsys, command, argv):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        line = _exit_2_with_one_line(command, [*argv, "--out", str(locked / "out")], capsys)
    finally:
        locked.chmod(0o700)
    assert "--out=" in line and "permission denied" in line
    assert list(locked.iterdir()) == []


def test_an_unanswering_scheduler_is_one_line_naming_it(tmp_path, capsys):
    pytest.importorskip("distributed")
    line = _exit_2_with_one_line("sweep", ["smoke", "--scheduler", "tcp://127.0.0.1:1", "--connect-timeout", "0.5",
                                           "--out", str(tmp_path / "out")], capsys)
    assert line.startswith("casesim-sweep: error: --scheduler='tcp://127.0.0.1:1': no Dask scheduler answered "
                           "within 0.5 s")
    assert not (tmp_path / "out").exists()
    line = _exit_2_with_one_line("sweep", ["smoke", "--scheduler", "127.0.0.1:8786"], capsys)
    assert "--scheduler='127.0.0.1:8786': PROTOCOL://HOST:PORT" in line


def test_an_encrypted_scheduler_without_tls_settings_is_one_line(tmp_path, capsys):
    dask = pytest.importorskip("dask")
    pytest.importorskip("distributed")
    unset = {f"distributed.comm.tls.{key}": None for key in ("ca-file", "client.cert", "client.key")}
    with dask.config.set(unset):
        line = _exit_2_with_one_line("sweep", ["smoke", "--scheduler", "tls://127.0.0.1:1",
                                               "--out", str(tmp_path / "out")], capsys)
    assert "--scheduler='tls://127.0.0.1:1': an encrypted scheduler needs this machine's TLS files" in line
    assert "distributed.comm.tls.ca-file" in line
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- finished runs


def test_search_writes_a_new_folder_each_time_with_its_manifest(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["--grid", "staffing.investigators=20,22", *QUICK, "--cost", "staffing.investigators=1",
            "run.replications=2", "--risks", "L", "--within-days", "30", "--max-share-late", "0.99"]
    cli.search_main(argv)
    cli.search_main(argv)
    folders = sorted((tmp_path / "outputs" / "search").iterdir())
    assert len(folders) == 2  # the second search did not overwrite the first
    for folder in folders:
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["complete"] is True
        assert manifest["target"]["risks"] == ["L"] and manifest["target"]["within_days"] == 30
        assert manifest["grid"] == {"staffing.investigators": [20.0, 22.0]}
        assert manifest["costs"] == {"staffing.investigators": 1.0}
        assert manifest["config"]["run"]["horizon_days"] == 60 and manifest["git_revision"]
        runs = pd.read_csv(folder / "runs.csv")
        assert manifest["levels_run"] == len(runs) >= 1
    assert "wrote outputs/search/" in capsys.readouterr().out


def test_sweep_takes_overrides_after_its_options(tmp_path, capsys):
    out = tmp_path / "sweep"
    cli.sweep_main(["smoke", "--out", str(out), "--no-progress", "run.horizon_days=60"])
    design = json.loads((out / "design.json").read_text())
    assert "run.horizon_days=60" in design["overrides"]
    assert (out / "sweep.parquet").is_file()
