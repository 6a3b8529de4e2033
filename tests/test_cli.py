"""The casesim command: a run writes every output, from the shipped configs or a folder of
the user's own; the commands' shared wrapper and their modules. (Bad input, exit 2 with one
line and nothing written, for every command: tests/test_bad_input.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

QUICK = ["run.replications=2", "run.horizon_days=200", "run.progress=false"]


def casesim(args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_run_writes_every_output(tmp_path):
    out = tmp_path / "run"
    r = casesim([*QUICK, f"hydra.run.dir={out}"], tmp_path)
    assert r.returncode == 0, r.stderr
    for name in ("cases.parquet", "timeseries.parquet", "summary.csv", "pools.csv", "manifest.json",
                 "figures/survival.png", "figures/wip.png", "figures/where_the_time_goes.png"):
        assert (out / name).stat().st_size > 0, name
    cases = pd.read_parquet(out / "cases.parquet")
    required = {"replication", "force", "case_id", "source", "true_risk", "assigned_grade", "child_in_household",
                "arrival_day", "outcome", "arrest_day", "censored", "in_warmup"}
    assert required <= set(cases.columns)
    timed = {f"{stage}_{moment}_day" for stage in ("intake", "allocation", "warrant")
             for moment in ("queue", "start", "end")}
    assert timed <= set(cases.columns)
    assert sorted(cases["replication"].unique()) == [0, 1]
    summary = pd.read_csv(out / "summary.csv", keep_default_na=False, na_values={"estimate": [""]})
    assert list(summary.columns[:8]) == ["force", "region", "metric", "by", "grade", "estimate", "ci_low", "ci_high"]
    assert (summary["region"] == "").all()  # a single force has no region
    m = json.loads((out / "manifest.json").read_text())
    assert m["seed"] == 20230405 and m["overrides"] == QUICK
    assert m["config"]["run"]["horizon_days"] == 200
    assert {"simpy", "numpy", "pandas", "hydra-core"} <= set(m["versions"])
    assert m["wall_time_seconds"] > 0 and m["git_revision"]
    assert m["command"][1:] == [*QUICK, f"hydra.run.dir={out}"]  # as typed, not as Hydra was handed it
    assert "VH" in r.stdout and "wrote" in r.stdout
    _reads_as_a_planner_would(r.stdout)
    report = (out / "report.html").read_text(encoding="utf-8")
    assert report.index("What the run shows") < report.index("Time from referral to arrest")
    findings = pd.read_excel(out / "headline.xlsx", sheet_name="Findings")["Finding"].tolist()
    assert " ".join(findings[0].split()) in " ".join(r.stdout.split())  # the same findings, wrapped on screen


def _reads_as_a_planner_would(printed: str) -> None:
    """Both tables, intervals, findings; nothing of a program's insides."""
    assert "by assigned grade" in printed and "by true risk" in printed and "(95 % interval in brackets)" in printed
    assert "What limits the force most" in printed or "No unit is near its capacity" in printed
    for raw in ("nan", "NaN", "{", "}", "('", "e+0", "e-0", "_days", "share_past_target"):
        assert raw not in printed, raw


def test_own_config_folder_builds_on_the_baseline(tmp_path):
    mine = tmp_path / "my_configs"
    mine.mkdir()
    (mine / "my_force.yaml").write_text("defaults:\n  - config\n  - _self_\nscenario: my_force\n"
                                        "run: {replications: 1, horizon_days: 60.0, progress: false}\n")
    out = tmp_path / "run"
    r = casesim(["--config-dir", str(mine), "--config-name", "my_force", f"hydra.run.dir={out}"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads((out / "manifest.json").read_text())["scenario"] == "my_force"


# --------------------------------------------------------------------------- every command
# Bad input for each of the six commands, in process and installed: tests/test_bad_input.py.


def test_the_shared_wrapper_turns_only_config_errors_into_exit_2(capsys):
    from sim.cli.common import command
    from sim.errors import ConfigError

    @command("casesim-test")
    def command(value):
        if value == "bad":
            raise ConfigError("run.seed", value, "a whole number")
        if value == "bug":
            raise RuntimeError("not the user's fault")
        return value

    assert command("good") == "good"
    with pytest.raises(SystemExit) as stop:
        command("bad")
    assert stop.value.code == 2
    captured = capsys.readouterr()
    assert captured.err == "casesim-test: error: run.seed='bad': a whole number\n" and captured.out == ""
    with pytest.raises(RuntimeError, match="not the user's fault"):  # a bug keeps its traceback
        command("bug")


def test_each_command_loads_only_its_own_module():
    """``sim.cli.<name>_main`` is its command module's ``main``, and looking one up does not
    import Hydra (which only ``casesim`` needs)."""
    code = ("import sys, sim.cli, sim.cli.compare\n"
            "assert sim.cli.compare_main is sim.cli.compare.main\n"
            "sim.cli.search_main, sim.cli.sweep_main, sim.cli.collect_main, sim.cli.replications_main\n"
            "print(sorted(m for m in ('hydra', 'matplotlib', 'sim.cli.run') if m in sys.modules))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
