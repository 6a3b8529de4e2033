"""The planner's workbench (``casesim-app``) driven end to end in headless Chromium
(Playwright, the Debian ``chromium`` package): the app is started as a planner starts it,
on a free port, and every test works the page as a planner would, by clicking and typing.

Without Chromium these tests skip, unless ``CASESIM_BROWSER_TESTS=required`` (as ``.ci/run``
sets) makes that a failure. ``CASESIM_SCREENSHOTS=1`` writes the screenshots of the main
screens into ``docs/figures/`` (the README shows them); otherwise they go to a temporary
folder.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from browser import require_chromium  # noqa: E402

require_chromium()
pytest.importorskip("shiny")

BIN = Path(sys.executable).parent
FIGURES = Path(__file__).resolve().parents[1] / "docs" / "figures"
SCREENSHOTS = os.environ.get("CASESIM_SCREENSHOTS") == "1"
# A quick run; the screenshots show the default run (10 replications of 4 years) instead.
RUN = ("10", "1460") if SCREENSHOTS else ("2", "300")
QUICK = {"run__replications": RUN[0], "run__horizon_days": RUN[1]}
WAIT_MS = 180_000  # a job's longest wait on a loaded 2-core machine



def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """``casesim-app`` on a free port, as a planner starts it; its jobs' folder beside it."""
    where = tmp_path_factory.mktemp("app")
    port = _free_port()
    process = subprocess.Popen([str(BIN / "casesim-app"), "--port", str(port), "--out", str(where / "jobs")],
                               cwd=where, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError(f"casesim-app did not start: {process.stdout.read()}")
            time.sleep(0.5)
    yield {"url": url, "jobs": where / "jobs"}
    process.send_signal(signal.SIGINT)  # as Ctrl-C: the runs it started are cancelled
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def shots(tmp_path) -> Path:
    return FIGURES if SCREENSHOTS else tmp_path


def _open(page, app) -> None:
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(app["url"])
    page.wait_for_selector("#staffing__investigators", timeout=60_000)


def _set(page, values: dict[str, str]) -> None:
    """Type each value into its field, as a planner does (the field sends it on leaving)."""
    for input_id, value in values.items():
        page.fill(f"#{input_id}", value)
        page.press(f"#{input_id}", "Tab")


def _settled(page) -> None:
    """Wait until the server has checked the form (no field error, the run button ready)."""
    page.wait_for_function("() => !document.querySelector('html').classList.contains('shiny-busy')",
                           timeout=30_000)
    page.wait_for_timeout(300)


def _jobs(app) -> list[dict]:
    folder = app["jobs"]
    if not folder.is_dir():
        return []
    return [json.loads((job / "job.json").read_text()) for job in sorted(folder.iterdir())
            if (job / "job.json").is_file()]


def _finished(page) -> None:
    page.wait_for_selector(".job-state[data-state='finished']", timeout=WAIT_MS)


def _table_cells(page, selector: str) -> list[list[str]]:
    return page.eval_on_selector(selector, "t => [...t.rows].map(r => [...r.cells].map(c => c.innerText.trim()))")


def test_a_planner_changes_investigators_runs_and_reads_the_numbers_the_model_gives(page, app, shots):
    _open(page, app)
    page.screenshot(path=str(shots / "app_setup.png"))
    _set(page, {"staffing__investigators": "24", **QUICK, "name": "Twenty-four investigators"})
    _settled(page)
    page.click("#run")
    page.wait_for_selector(".job-progress, .job-state[data-state='finished']", timeout=60_000)
    _finished(page)
    page.screenshot(path=str(shots / "app_results.png"), full_page=False)

    figure = page.locator("img[alt='Still waiting for arrest, by grade']")
    assert figure.evaluate("img => img.complete && img.naturalWidth > 500"), "the survival figure did not load"
    assert page.locator("ul.findings li").count() >= 2
    assert "arrests" in page.inner_text(".outcomes")
    shown = _table_cells(page, "#job-view table.t")

    # The same configuration through the public API gives the same table, cell for cell.
    import sim
    from sim.present.run_report import headline_html
    from sim.results.headline import HEADLINE_SHEET, headline_sheets

    cfg = sim.load_config(["staffing.investigators=24", f"run.replications={RUN[0]}", f"run.horizon_days={RUN[1]}",
                           "run.progress=false"])
    expected_html = headline_html(headline_sheets(sim.simulate(cfg).summary(), cfg)[HEADLINE_SHEET])
    page.set_content(f"<html><body>{expected_html}</body></html>")
    assert shown == _table_cells(page, "table.t")
    assert any(re.fullmatch(r"\d+\.\d \(\d+\.\d–\d+\.\d\)", cell) for row in shown for cell in row)
    job = _jobs(app)[-1]
    assert job["state"] == "finished" and job["done"] == job["total"] == int(RUN[0])


def test_a_bad_value_is_marked_at_its_field_with_the_commands_message_and_nothing_runs(page, app):
    import sim

    _open(page, app)
    before = len(_jobs(app))
    _set(page, {"staffing__investigators": "-3"})
    message = page.locator("#err_staffing__investigators")
    with pytest.raises(sim.ConfigError) as refused:
        sim.load_config(["staffing.investigators=-3"])
    page.wait_for_function("(m) => document.getElementById('err_staffing__investigators').innerText === m",
                           arg=str(refused.value), timeout=30_000)
    assert message.inner_text() == str(refused.value)
    assert page.locator("#field_staffing__investigators.has-error").count() == 1
    page.click("#run")
    page.wait_for_selector(".shiny-notification-error", timeout=30_000)
    assert "Not run" in page.inner_text(".shiny-notification-error")
    page.wait_for_timeout(1000)
    assert len(_jobs(app)) == before, "a job started from a bad value"
    _set(page, {"staffing__investigators": "22"})
    page.wait_for_function("() => document.getElementById('err_staffing__investigators').innerText === ''",
                           timeout=30_000)


def test_a_comparison_with_today_runs_and_its_report_tables_and_yaml_download(page, app, shots, tmp_path):
    _open(page, app)
    _set(page, {"staffing__investigators": "26", "name": "More investigators"})
    _settled(page)
    page.click("#add")
    page.click("a[data-value='compare']")
    page.wait_for_selector("#compared", timeout=30_000)
    assert "More investigators" in page.inner_text("#compared")
    _set(page, {"c_replications": RUN[0], "c_horizon_days": RUN[1]})
    _settled(page)
    page.click("#run_compare")
    _finished(page)
    page.screenshot(path=str(shots / "app_compare.png"), full_page=False)
    assert page.locator("img[alt='Differences from the baseline, with 95 % intervals']").evaluate(
        "img => img.complete && img.naturalWidth > 500")
    table = page.inner_text("#job-view table.t")
    assert "More investigators" in table and "Median time to arrest" in table

    with page.expect_download() as report:
        page.click("#dl_report")
    text = Path(report.value.path()).read_text(encoding="utf-8")
    assert "What the scenarios change" in text and "More investigators" in text

    with page.expect_download() as differences:
        page.click("#dl_comparison_csv")
    rows = list(csv.DictReader(io.StringIO(Path(differences.value.path()).read_text(encoding="utf-8-sig"))))
    assert rows and {row["scenario"] for row in rows} == {"More investigators"}
    assert {"metric", "difference", "ci_low", "ci_high"} <= set(rows[0])

    with page.expect_download() as sheet:
        page.click("#dl_headline_xlsx")
    import openpyxl

    assert sheet.value.suggested_filename == "headline.xlsx"
    sheet.value.save_as(tmp_path / "headline.xlsx")
    assert openpyxl.load_workbook(tmp_path / "headline.xlsx").sheetnames

    with page.expect_download() as bundle:
        page.click("#dl_scenarios")
    with zipfile.ZipFile(bundle.value.path()) as archive:
        archive.extractall(tmp_path / "scenarios")
    import sim

    again = sim.load_config([], "more_investigators", str(tmp_path / "scenarios"))
    assert again.staffing.investigators == 26 and again.scenario == "More investigators"
    assert (again.run.replications, again.run.horizon_days) == (int(RUN[0]), float(RUN[1]))
    assert sim.load_config([], "baseline", str(tmp_path / "scenarios")).staffing.investigators == 20


def test_a_long_run_leaves_other_tabs_free_can_be_returned_to_and_cancelled(page, app, context):
    _open(page, app)
    _set(page, {"run__replications": "60", "run__horizon_days": "1460", "name": "A long run"})
    _settled(page)
    page.click("#run")
    page.wait_for_selector(".job-progress", timeout=60_000)
    started = time.monotonic()

    other = context.browser.new_context().new_page()  # a second planner, with a session of their own
    _open(other, app)
    assert time.monotonic() - started < 30, "the second page waited for the run"
    other.click("a[data-value='runs']")
    row = other.locator("tr.job-row", has_text="A long run")
    row.wait_for(timeout=30_000)
    assert "running" in row.inner_text()
    row.locator("button", has_text="Open").click()  # the run, left in one tab, returned to in another
    other.wait_for_selector(".job-progress", timeout=30_000)
    assert "job=" in other.url
    deadline = time.monotonic() + 120
    while not any(job["title"] == "A long run" and job["done"] >= 1 for job in _jobs(app)):
        assert time.monotonic() < deadline, "no replication finished"
        time.sleep(0.5)
    other.wait_for_selector(".job-progress:has-text('of 60 replications')", timeout=30_000)
    other.click("#job-view button:has-text('Cancel')")
    other.wait_for_selector(".job-state[data-state='cancelled']", timeout=60_000)
    page.wait_for_selector(".job-state[data-state='cancelled']", timeout=60_000)

    job = next(job for job in _jobs(app) if job["title"] == "A long run")
    assert job["state"] == "cancelled" and 1 <= job["done"] < job["total"] == 60
    folder = next(folder for folder in app["jobs"].glob("*/job.json")
                  if json.loads(folder.read_text())["title"] == "A long run").parent
    kept = json.loads((folder / "manifest.json").read_text())
    assert kept["complete"] is False and kept["replications_done"] >= 1  # what finished is kept

    later = context.browser.new_context().new_page()  # its address, kept, opens it again later
    later.goto(f"{app['url']}/?job={folder.name}")
    later.wait_for_selector(".job-state[data-state='cancelled']", timeout=60_000)
    assert "A long run" in later.inner_text("#job-view h3")


def test_the_staffing_search_runs_behind_its_form(page, app):
    _open(page, app)
    _set(page, QUICK)
    _settled(page)
    page.click("a[data-value='search']")
    _set(page, {"s_within_days": "90", "s_max_share_late": "0.5", "s_high": "23"})
    _settled(page)
    page.click("#run_search")
    _finished(page)
    answer = page.inner_text(".outcomes")
    levels = _table_cells(page, "#job-view table.t")
    assert levels[0][0] == "staffing.investigators" and 1 <= len(levels) - 1 <= 3
    assert {row[0] for row in levels[1:]} <= {"20", "21", "22", "23"}
    meets = levels[0].index("meets the target")
    passing = [int(row[0]) for row in levels[1:] if row[meets] == "yes"]
    # the answer is the fewest investigators of the levels run that meet the target
    assert answer == (f"Answer: staffing.investigators = {min(passing)}." if passing
                      else "No level searched meets the target.")


def test_a_planners_own_yaml_and_todays_queue_are_loaded_and_checked(page, app, tmp_path):
    import sim

    (tmp_path / "my_force.yaml").write_text("defaults:\n  - config\n  - _self_\nforce: my_force\n"
                                            "staffing:\n  investigators: 31\n")
    _open(page, app)
    page.set_input_files("#own_yaml", str(tmp_path / "my_force.yaml"))
    page.wait_for_function("() => document.getElementById('staffing__investigators').value === '31'",
                           timeout=30_000)
    assert "Your YAML: my_force" in page.inner_text("#base + .selectize-control, #base")

    (tmp_path / "bad_queue.csv").write_text("age_days,assigned_grade\n-5,H\n")
    with pytest.raises(sim.ConfigError) as refused:
        sim.load_config([f"demand.initial_backlog.csv={tmp_path / 'bad_queue.csv'}"])
    page.set_input_files("#backlog_csv", str(tmp_path / "bad_queue.csv"))
    page.wait_for_selector("#form-error", timeout=30_000)
    page.wait_for_function("() => document.getElementById('form-error').innerText !== ''", timeout=30_000)
    said = page.inner_text("#form-error")
    assert str(refused.value).split(": ", 1)[1] in said  # the loader's own words, about the copy kept

    (tmp_path / "queue.csv").write_text("age_days,assigned_grade\n10,H\n200,L\n")
    page.set_input_files("#backlog_csv", str(tmp_path / "queue.csv"))
    page.wait_for_function("() => document.getElementById('backlog-state').innerText.includes('queue.csv')",
                           timeout=30_000)
    page.wait_for_function("() => document.getElementById('form-error').innerText === ''", timeout=30_000)
