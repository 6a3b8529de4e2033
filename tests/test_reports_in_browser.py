"""The reports as a planner sees them: rendered in headless Chromium (Playwright, the Debian
``chromium`` package), the text on the page read back and checked: findings first, no
internal names, no floats in scientific notation, no Python tuples or NaN, every figure
loaded. Without Chromium these tests skip, unless ``CASESIM_BROWSER_TESTS=required`` (as
``.ci/run`` sets) makes that a failure."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from sim.results.catalogue import BREAKDOWNS, METRICS

from browser import require_chromium  # noqa: E402

require_chromium()

SHORT = ["run.replications=2", "run.horizon_days=400", "run.progress=false"]
INTERNAL = sorted(name for name in {*METRICS, *BREAKDOWNS} if "_" in name)  # "cases" is a word too
BIN = Path(sys.executable).parent



def _command(args: list[str], cwd: Path) -> None:
    done = subprocess.run([str(BIN / args[0]), *args[1:]], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    where = tmp_path_factory.mktemp("reports")
    _command(["casesim", *SHORT, "staffing.investigators=24", f"hydra.run.dir={where / 'run'}"], where)
    _command(["casesim-compare", "more_investigators", "fast_warrants", *SHORT, "--out", str(where / "compare")], where)
    _command(["casesim", *SHORT, "forces=three_forces", "scenario=regional_pooling", "collaboration.surge.investigators=4",
              f"hydra.run.dir={where / 'region'}"], where)
    return {"run": where / "run" / "report.html", "compare": where / "compare" / "report.html",
            "region": where / "region" / "report.html"}


@pytest.mark.parametrize("name, first", [("run", "What the run shows"), ("compare", "What the scenarios change"),
                                         ("region", "What the run shows")])
def test_a_planner_reads_findings_first_and_no_program_internals(page, reports, name, first):
    page.goto(reports[name].as_uri())
    assert page.locator("h2").first.inner_text() == first
    findings = page.locator("ul.findings li")
    assert findings.count() >= 1
    text = page.inner_text("body")
    assert not re.search(r"\d[eE][+-]?\d", text), "a number in scientific notation"
    for raw in ("('", "()", "NaN", "nan ", "None", "{", "}", "costs.*"):
        assert raw not in text, raw
    shown = [internal for internal in INTERNAL if re.search(rf"(?<![\w.]){re.escape(internal)}(?![\w.])", text)]
    assert not shown, f"internal names on the page: {shown}"
    images = page.locator("img")
    assert images.count() >= 2
    for k in range(images.count()):
        assert images.nth(k).evaluate("img => img.complete && img.naturalWidth > 0"), f"figure {k} did not load"


def test_the_run_report_shows_both_groupings_and_what_was_changed(page, reports):
    page.goto(reports["run"].as_uri())
    table = page.locator("table.t").first.inner_text()
    assert "Assigned grade" in table and "True risk" in table and "Median days" in table
    assert re.search(r"\d+\.\d \(\d+\.\d–\d+\.\d\)", table), "a median with its interval"
    changes = page.locator("h2:has-text('What was run') ~ table").first.inner_text()
    assert "staffing.investigators" in changes and "24" in changes
    assert "staffing.investigators=24" in page.locator("h2:has-text('What was run') ~ p").all_inner_texts()[1]


def test_the_comparison_marks_better_and_worse_in_words_and_colour(page, reports):
    page.goto(reports["compare"].as_uri())
    verdicts = page.locator("td.better, td.worse")
    assert verdicts.count() >= 1
    colours = {verdicts.nth(k).evaluate("td => getComputedStyle(td).color") for k in range(verdicts.count())}
    words = {verdicts.nth(k).inner_text() for k in range(verdicts.count())}
    assert words <= {"better", "worse"} and len(colours) == len(words)
