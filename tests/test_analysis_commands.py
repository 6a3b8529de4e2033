"""casesim-compare, casesim-search, casesim-replications and casesim-sweep: an encrypted
scheduler without this machine's TLS settings is one line, and so is an address where
something other than a Dask scheduler answers; options and positionals mix in
any order; the search's default folder is new each time, timestamped, and holds its target, overrides,
runs.csv (every column documented) and manifest.json. (Their bad input, a row each:
tests/test_bad_input.py; each command's finished run and its complete manifest:
tests/test_compare.py, test_search.py, test_replications.py; interrupted runs:
tests/test_analysis_interrupts.py.)"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from sim import cli

QUICK = ["run.horizon_days=60", "run.progress=false"]
DOCS = Path(__file__).resolve().parent.parent / "docs" / "outputs.md"


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


@pytest.mark.parametrize("reply", [b"", b"HTTP/1.0 400 Bad request\r\n\r\n", b"\xff" * 64],
                         ids=["says nothing", "a web server", "junk"])
def test_a_program_that_is_not_a_scheduler_is_one_line_within_the_timeout(reply, tmp_path, capsys):
    pytest.importorskip("distributed")
    server = socket.create_server(("127.0.0.1", 0))
    address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    held: list[socket.socket] = []

    def answer() -> None:  # reads what Dask sends, replies in its own way, and keeps the line open
        server.settimeout(30)
        try:
            while True:
                connection, _ = server.accept()
                held.append(connection)
                connection.sendall(reply)
        except OSError:
            return

    threading.Thread(target=answer, daemon=True).start()
    started = time.monotonic()
    try:
        line = _exit_2_with_one_line("sweep", ["smoke", "--scheduler", address, "--connect-timeout", "1",
                                               "--out", str(tmp_path / "out")], capsys)
    finally:
        server.close()
        for connection in held:
            connection.close()
    assert line.startswith(f"casesim-sweep: error: --scheduler='{address}': ")
    assert "no Dask scheduler answered within 1 s" in line or "is not a Dask scheduler" in line
    assert time.monotonic() - started < 20  # the timeout, and the grace given past it
    assert not (tmp_path / "out").exists()


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


def test_a_grid_of_posts_is_priced_by_the_costs_table_unless_cost_says_otherwise(tmp_path, capsys):
    common = ["--grid", "staffing.investigators=20,22", "--grid", "staffing.search_teams=2,3", *QUICK,
              "run.replications=2", "--risks", "L", "--within-days", "30", "--max-share-late", "0.99"]
    cli.search_main([*common, "costs.investigator_gbp_per_year=70000", "--out", str(tmp_path / "table")])
    priced = json.loads((tmp_path / "table" / "manifest.json").read_text())["costs"]
    assert priced == {"staffing.investigators": 70000.0, "staffing.search_teams": pytest.approx(2000.0 * 5 * 365 / 7)}
    cli.search_main([*common, "--cost", "staffing.investigators=1", "--out", str(tmp_path / "given")])
    given = json.loads((tmp_path / "given" / "manifest.json").read_text())["costs"]
    assert given["staffing.investigators"] == 1.0 and given["staffing.search_teams"] == pytest.approx(2000.0 * 5 * 365 / 7)


def test_search_writes_a_new_folder_each_time_with_its_manifest(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["--grid", "staffing.investigators=20,22", *QUICK, "--cost", "staffing.investigators=1",
            "run.replications=2", "--risks", "L", "--within-days", "30", "--max-share-late", "0.99"]
    cli.search_main(argv)
    cli.search_main(argv)
    folders = sorted((tmp_path / "outputs" / "search").iterdir())
    assert len(folders) == 2  # the second search did not overwrite the first
    documented = DOCS.read_text().split("## staffing search", 1)[1].split("\n## ", 1)[0]
    for folder in folders:
        assert re.fullmatch(r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d(_\d+)?", folder.name)  # as the other commands'
        assert sorted(path.name for path in folder.iterdir()) == ["manifest.json", "runs.csv"]
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["complete"] is True
        assert manifest["target"] == {"risks": ["L"], "within_days": 30.0, "max_share_late": 0.99,
                                      "max_cases_past_18_months": 0, "confidence": 0.9}
        assert manifest["grid"] == {"staffing.investigators": [20.0, 22.0]}
        assert manifest["costs"] == {"staffing.investigators": 1.0}
        assert manifest["overrides"] == [*QUICK, "run.replications=2"]
        assert manifest["config"]["run"]["horizon_days"] == 60 and manifest["git_revision"]
        assert manifest["command"] and manifest["versions"]["casesim"]
        runs = pd.read_csv(folder / "runs.csv")
        assert manifest["levels_run"] == len(runs) >= 1
        assert list(runs.columns[:1]) == ["staffing.investigators"] and "cost" in runs
        undocumented = [name for name in [*runs.columns, *manifest["target"], *manifest] if f"`{name}`" not in documented]
        assert undocumented == []
    assert "wrote outputs/search/" in capsys.readouterr().out


def test_sweep_takes_overrides_after_its_options(tmp_path, capsys):
    out = tmp_path / "sweep"
    cli.sweep_main(["smoke", "--out", str(out), "--no-progress", "run.horizon_days=60"])
    design = json.loads((out / "design.json").read_text())
    assert "run.horizon_days=60" in design["overrides"]
    assert (out / "sweep.parquet").is_file()
