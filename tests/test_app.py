"""The workbench's pieces without a browser: its fields are configuration keys that reach
the configuration unchanged, a scenario's YAML reproduces it on the command line, and its
jobs run in processes of their own that report progress, cancel and end as commands do.
(``tests/test_app_in_browser.py`` works the page itself.)"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("shiny")

import sim  # noqa: E402
from sim.app.dictionary import parameter_entries, plain  # noqa: E402
from sim.app.fields import FIELDS, FIELDS_BY_KEY, field_of, grouped, value_at  # noqa: E402
from sim.app.jobs import JobBoard  # noqa: E402
from sim.app.scenarios import Scenario, changes, own_yaml, presets, scenario_dict, scenario_from, scenario_yaml, slug  # noqa: E402
from sim.config.convert import leaves  # noqa: E402
from sim.config.schema import SimConfig  # noqa: E402
from sim.errors import ConfigError  # noqa: E402

QUICK = ["run.replications=2", "run.horizon_days=200"]
BIN = Path(sys.executable).parent


def _another_value(field, current):
    """A valid value of ``field`` other than ``current``."""
    if field.kind == "bool":
        return not current
    if field.kind == "grades":
        return ("H",) if tuple(current) != ("H",) else ("VH", "H")
    if field.kind == "choice":
        return next(choice for choice in field.choices if choice != current)
    if current is None:  # a programme's trained share: above every share trained today
        return 0.95
    if field.kind == "int":
        return current + 1
    return current / 2 if 0 < current <= 1 else current + 1.5


def test_every_field_is_a_key_of_the_schema_with_a_row_in_the_data_dictionary():
    keys = set(leaves(SimConfig()))
    entries = parameter_entries()
    for field in FIELDS:
        assert field.key in keys, field.key
        assert field.key in entries and entries[field.key].meaning, field.key
        assert field.unit and field.label
    assert sum(len(members) for _, members in grouped()) == len(FIELDS), "a field in no group, or in two"


@pytest.mark.parametrize("field", FIELDS, ids=lambda field: field.key)
def test_a_changed_field_reaches_the_configuration_as_typed(field):
    base = presets()["A region of three forces"].config() if field.region else SimConfig()
    new = _another_value(field, value_at(base, field.key))
    made, wrong = changes({field.key: new}, base, [field])
    assert not wrong and made == (field.override(new),)
    overrides = ["forces=three_forces"] if field.region else []
    loaded = value_at(sim.load_config([*overrides, *made]), field.key)
    assert (tuple(loaded) if isinstance(loaded, tuple) else loaded) == new


def test_an_unchanged_form_makes_no_override_and_an_empty_number_is_named():
    base = SimConfig()
    values = {field.key: value_at(base, field.key) for field in FIELDS if not field.region}
    assert changes(values, base) == ((), {})
    made, wrong = changes({"staffing.investigators": None, "training.programme.investigators_trained_share": None},
                          base)
    assert made == () and list(wrong) == ["staffing.investigators"]
    assert wrong["staffing.investigators"].startswith("staffing.investigators='': a number")


def test_a_schema_error_is_placed_at_its_field():
    with pytest.raises(ConfigError) as refused:
        sim.load_config(["staffing.investigators=-3"])
    assert field_of(refused.value) is FIELDS_BY_KEY["staffing.investigators"]
    assert field_of(ConfigError("stages.warrant.out_of_hours_grades[0]", "X", "")).key == \
        "stages.warrant.out_of_hours_grades"
    assert field_of(ConfigError("demand.risk_mix", 1, "")) is None


def test_plain_text_of_a_dictionary_cell():
    assert plain("[A10](sources.md#a10), **[E]** `x`") == "A10, [E] x"


@pytest.mark.parametrize("label", ["Baseline: a stressed medium force", "A region of three forces",
                                   "Scenario: fast warrants"])
def test_a_scenarios_yaml_runs_as_the_scenario_on_the_command_line(label, tmp_path):
    run = ["run.replications=3", "run.seed=7"]
    scenario = Scenario("Faster, with 23", presets()[label], ("staffing.investigators=23",
                                                              "stages.warrant.out_of_hours_grades=[VH,H]"))
    (tmp_path / f"{slug(scenario.name)}.yaml").write_text(scenario_yaml(scenario, extra=run))
    again = sim.load_config([], slug(scenario.name), str(tmp_path))
    assert again == scenario.config(run)
    assert scenario_from(json.loads(json.dumps(scenario_dict(scenario)))) == scenario


def test_a_planners_own_yaml_is_a_starting_point_and_a_bad_one_is_refused(tmp_path):
    (tmp_path / "my_force.yaml").write_text("defaults:\n  - config\n  - _self_\nstaffing:\n  investigators: 31\n")
    base = own_yaml(tmp_path / "my_force.yaml")
    assert base.config().staffing.investigators == 31
    scenario = Scenario("mine", base, ("staffing.researchers=7",))
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / "my_force.yaml").write_text((tmp_path / "my_force.yaml").read_text())
    (tmp_path / "copy" / "mine.yaml").write_text(scenario_yaml(scenario))
    again = sim.load_config([], "mine", str(tmp_path / "copy"))
    assert (again.staffing.investigators, again.staffing.researchers) == (31, 7)
    (tmp_path / "bad.yaml").write_text("defaults:\n  - config\n  - _self_\nstaffing:\n  investigator: 31\n")
    with pytest.raises(ConfigError):
        own_yaml(tmp_path / "bad.yaml")


def _wait(board: JobBoard, job_id: str, until, seconds: float = 180):
    deadline = time.monotonic() + seconds
    while True:
        job = board.job(job_id)
        if until(job):
            return job
        assert time.monotonic() < deadline, f"job {job_id}: {job}"
        time.sleep(0.2)


def _run_spec(*changes_: str) -> dict:
    return {"scenarios": [scenario_dict(Scenario("test", presets()["Baseline: a stressed medium force"],
                                                 tuple(changes_)))]}


def test_a_run_job_counts_its_replications_and_leaves_the_commands_folder(tmp_path):
    board = JobBoard(tmp_path / "jobs")
    job = board.start("run", "a quick run", _run_spec(*QUICK), 2)
    assert job.state == "running"
    seen = set()
    job = _wait(board, job.id, lambda j: seen.add(j.done) or j.state != "running")
    assert job.state == "finished" and job.done == job.total == 2, job.message
    assert seen <= {0, 1, 2}
    for name in ("summary.csv", "headline.csv", "headline.xlsx", "report.html", "figures/survival.png",
                 "scenarios/test.yaml", "view.json"):
        assert (job.folder / name).is_file(), name
    assert json.loads((job.folder / "manifest.json").read_text())["complete"] is True
    view = json.loads((job.folder / "view.json").read_text())
    assert view["findings"] and "arrest" in view["outcomes"] and view["figures"]
    assert [j.id for j in board.jobs()] == [job.id]
    assert board.job("../elsewhere") is None and board.job("") is None


def test_a_cancelled_job_keeps_what_finished_and_says_so(tmp_path):
    board = JobBoard(tmp_path / "jobs")
    job = board.start("run", "long", _run_spec("run.replications=200"), 200)
    _wait(board, job.id, lambda j: j.done >= 1)
    assert board.cancel(job.id)
    job = _wait(board, job.id, lambda j: j.state != "running", 60)
    assert job.state == "cancelled" and 1 <= job.done < 200
    assert "kept in" in job.message
    manifest = json.loads((job.folder / "manifest.json").read_text())
    assert manifest["complete"] is False and manifest["replications_done"] >= job.done
    assert not board.cancel(job.id), "a job that is not running cannot be cancelled"


def test_closing_the_board_cancels_its_running_jobs_keeping_what_finished(tmp_path):
    board = JobBoard(tmp_path / "jobs")
    job = board.start("run", "long", _run_spec("run.replications=200"), 200)
    _wait(board, job.id, lambda j: j.done >= 1)
    board.close(grace_seconds=0.5)  # what the workbench does as it shuts down
    job = board.job(job.id)
    assert job.state == "cancelled" and job.done >= 1
    assert json.loads((job.folder / "manifest.json").read_text())["replications_done"] >= 1


def test_a_job_whose_process_died_reads_as_stopped_and_a_bad_one_as_failed(tmp_path):
    board = JobBoard(tmp_path / "jobs")
    job = board.start("run", "killed", _run_spec("run.replications=200"), 200)
    _wait(board, job.id, lambda j: j.done >= 1)
    os.kill(json.loads((job.folder / "job.json").read_text())["pid"], signal.SIGKILL)
    assert _wait(board, job.id, lambda j: j.state != "running", 30).state == "stopped"
    assert JobBoard(tmp_path / "jobs").job(job.id).state == "stopped", "another board (a restarted app) agrees"
    failed = board.start("run", "bad", _run_spec("staffing.investigators=-1"), 10)
    failed = _wait(board, failed.id, lambda j: j.state != "running", 60)
    assert failed.state == "failed" and failed.message.startswith("staffing.investigators=-1: ")


def _app(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "casesim-app"), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args, said", [
    (["--port", "0"], "casesim-app: error: --port=0: a port from 1 to 65535"),
    (["--port", "70000"], "casesim-app: error: --port=70000: a port from 1 to 65535"),
    (["--host", "example.org"], "casesim-app: error: --host='example.org': an IP address"),
    (["--port", "x"], "casesim-app: error: argument --port: invalid int value: 'x'"),
])
def test_bad_options_are_one_line_and_exit_2(args, said, tmp_path):
    done = _app(*args, cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.startswith(said) and len(done.stderr.splitlines()) == 1, done.stderr
    assert not (tmp_path / "outputs").exists()


def test_a_port_in_use_is_refused_before_serving(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _app("--port", str(port), cwd=tmp_path)
    assert done.returncode == 2 and f"--port={port}: cannot serve on 127.0.0.1:{port}" in done.stderr
    assert len(done.stderr.splitlines()) == 1


def test_the_field_list_covers_the_levers_the_scenarios_turn():
    """Every key a shipped scenario changes that a planner would turn is a field (the rest,
    distributions and per-grade sets, are for a YAML of one's own)."""
    scenario_keys = set()
    for base in presets().values():
        changed = [k for k, v in leaves(base.config()).items() if leaves(SimConfig()).get(k, object()) != v]
        scenario_keys.update(k for k in changed if not k.startswith(("forces[", "scenario")))
    plain_values = {k for k in scenario_keys
                    if isinstance(value_at(SimConfig(), k), (int, float, bool, str, tuple, type(None)))
                    and not dataclasses.is_dataclass(value_at(SimConfig(), k))}
    missing = sorted(k for k in plain_values - set(FIELDS_BY_KEY) if not k.startswith("stages.warrant.same_day")
                     and not k.startswith(("stages.review.analyst_grades", "collaboration.surge.grades",
                                           "staffing.recruitment.learning", "training.programme.course_days",
                                           "force", "demand.initial_backlog")))
    assert not missing, f"levers a scenario turns with no field: {missing}"
