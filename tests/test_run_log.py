"""casesim.log in a run folder holds the run's messages: what it printed before the run
started (an overloaded unit's warning, the run it resumes), while it ran, and the line
saying it was interrupted; a resumed run adds to it; each job of a multirun has its own."""

from __future__ import annotations

import io
import re

import pytest

from sim import cli
from sim.cli import run_log
from sim.model import run_replication
from sim.running import runner

QUICK = ["run.replications=3", "run.horizon_days=60", "run.progress=false"]
STAMP = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] ")


def _casesim(argv: list[str], capsys) -> tuple[int, list[str], list[str]]:
    """``casesim argv`` in this process: its exit code and the lines it printed on stdout
    and on stderr, blank ones left out."""
    code = 0
    try:
        cli.main(argv)
    except SystemExit as stop:
        code = stop.code or 0
    captured = capsys.readouterr()
    return code, *([line for line in text.splitlines() if line.strip()] for text in (captured.out, captured.err))


def _logged(path) -> list[str]:
    """The lines of a casesim.log, each checked to carry its time and then without it."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert all(STAMP.match(line) for line in lines), lines
    return [STAMP.sub("", line) for line in lines]


def test_the_log_holds_what_the_run_printed_its_interrupt_and_its_resumption(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "run"
    argv = [*QUICK, "demand=large_force", f"hydra.run.dir={folder}"]  # a jammed force: warned before the run

    def stopped_at_1(cfg, r, *args, **kwargs):
        if r == 1:
            raise KeyboardInterrupt
        return run_replication(cfg, r, *args, **kwargs)

    monkeypatch.setattr(runner, "run_replication", stopped_at_1)
    code, out, err = _casesim(argv, capsys)
    assert code == 130
    first = _logged(folder / "casesim.log")
    warnings = [line for line in err if line.startswith("casesim: warning: ")]
    assert warnings and err[-1].startswith("casesim: interrupted; finished 1 of 3 replications")
    assert sorted(first) == sorted(out + err)
    assert first[:len(warnings)] == warnings and first[-1] == err[-1]  # printed before the run, then in it

    monkeypatch.setattr(runner, "run_replication", run_replication)
    code, out, err = _casesim(argv, capsys)
    assert code == 0
    assert out[0] == f"casesim: resuming the partial run in {folder} (1 of 3 replications kept)"
    assert out[-1].startswith(f"wrote {folder}")
    both = _logged(folder / "casesim.log")
    assert both[:len(first)] == first  # the resumed run adds to the log
    assert sorted(both[len(first):]) == sorted(out + err)
    assert both[len(first)] == out[0] and both[-1] == out[-1]


def test_each_job_of_a_multirun_logs_its_own_lines(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "multirun"
    code, printed, _ = _casesim(["-m", *QUICK, "run.replications=1", "staffing.investigators=20,22",
                              f"hydra.sweep.dir={folder}"], capsys)
    assert code == 0
    for job, investigators in ((0, 20), (1, 22)):
        text = (folder / str(job) / "casesim.log").read_text(encoding="utf-8")
        done = [line for line in printed if line.startswith(f"{job}: ")]
        assert len(done) == 1 and done[0].endswith(f"staffing.investigators={investigators}: done")
        assert done[0] in text and f"#{job} : " in text  # Hydra's line launching it, then the job's own
        assert f"#{1 - job} : " not in text and f"{1 - job}: run." not in text


def test_a_redrawn_progress_bar_is_logged_as_it_ended():
    taken: list[str] = []
    shown = io.StringIO()
    tee = run_log._Tee(shown, taken.append)
    for done in range(4):
        tee.write(f"\rreplications: {done}/3")
    tee.write("\nwrote outputs/x\n\nlast words")
    tee.close_line()
    assert shown.getvalue().startswith("\rreplications: 0/3\rreplications: 1/3")  # the terminal sees every drawing
    assert [STAMP.sub("", line) for line in taken] == ["replications: 3/3\n", "wrote outputs/x\n", "\n", "last words\n"]
    assert all(STAMP.match(line) for line in taken if line.strip())


def test_lines_printed_outside_a_run_are_not_kept(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, _, _ = _casesim(["staffing.investigators=-2"], capsys)  # bad input: nothing runs, nothing is written
    assert code == 2 and not (tmp_path / "outputs").exists()
    assert run_log._kept is None
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert run_log._kept is None
