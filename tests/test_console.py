"""What casesim prints (sim/present/console.py): values with intervals, whole counts, a dash
and a note where a value does not exist, findings wrapped to the terminal."""

from __future__ import annotations

import pandas as pd

from sim.config.schema import SimConfig
from sim.present.console import WIDTH, findings_text, headline_text
from sim.results.findings import Finding
from sim.results.headline import headline_sheets


def _summary() -> pd.DataFrame:
    rows = []
    for by in ("assigned_grade", "true_risk"):
        for grade, median in zip(("VH", "H", "M", "L"), (1.04, 17.23, 32.9, 262.4)):
            p90_note = "not reached in 8 of 10 replications" if grade == "L" else ""
            rows += [("medium_force", "cases", by, grade, 181.6, 170.2, 193.0, 10, ""),
                     ("medium_force", "time_to_arrest_p50_days", by, grade, median, median * 0.9, median * 1.1, 10, ""),
                     ("medium_force", "time_to_arrest_p90_days", by, grade,
                      float("nan") if grade == "L" else median * 3, float("nan") if grade == "L" else median * 2.5,
                      float("nan") if grade == "L" else median * 3.5, 2 if grade == "L" else 10, p90_note),
                     ("medium_force", "share_past_target", by, grade, 0.544, 0.52, 0.56, 10, "")]
    return pd.DataFrame(rows, columns=["force", "metric", "by", "grade", "estimate", "ci_low", "ci_high",
                                       "n_replications", "note"])


def test_the_table_shows_intervals_whole_counts_and_explains_what_is_missing():
    text = headline_text(headline_sheets(_summary(), SimConfig()))
    assert "by assigned grade" in text and "by true risk" in text
    assert "17.2 (15.5–19.0)" in text  # median with its interval, 1 decimal below 100 days
    assert " 262 (" in text  # whole days from 100 days on
    assert "182" in text and "181.6" not in text  # counts are whole
    assert "54 (52–56)" in text  # shares as percentages
    lines = [line for line in text.splitlines() if line.startswith("L (low)")]
    assert len(lines) == 2 and all("—" in line for line in lines)
    assert "Assigned grade L (low): 90th percentile (days): not reached in 8 of 10 replications" in text
    assert "nan" not in text.lower()


def test_findings_come_first_then_every_warning_and_lines_fit_the_terminal():
    findings = [Finding("bottleneck", "f", "What limits the force most is " + "x " * 80),
                Finding("targets", "f", "Targets missed."), Finding("misgraded", "f", "1 in 9."),
                Finding("lever", "f", "a fourth, left for the report."),
                Finding("overload", "f", "Intake cannot keep up: working at 105 % of capacity.")]
    text = findings_text(findings)
    assert text.index("What limits") < text.index("Targets missed") < text.index("warning: Intake")
    assert "a fourth" not in text
    assert all(len(line) <= WIDTH for line in text.splitlines())
    assert "105 %" in text


def test_arrests_and_voluntary_interviews_are_named_apart():
    from sim.present.console import outcomes_text

    rows = [("f", "enforcements_per_month", "all", "all", 49.4), ("f", "arrests_per_month", "all", "all", 25.7),
            ("f", "voluntary_interviews_per_month", "all", "all", 23.7), ("f", "share_ending_arrest", "all", "all", 0.318),
            ("f", "share_ending_voluntary_interview", "all", "all", 0.292), ("f", "share_ending_open", "all", "all", 0.39)]
    summary = pd.DataFrame(rows, columns=["force", "metric", "by", "grade", "estimate"])
    text = outcomes_text(summary, "f")
    assert "49 suspects are arrested or interviewed voluntarily" in text
    assert "26 arrests and 24 voluntary interviews" in text
    assert "still open 39 %, arrest 32 %, voluntary interview 29 %" in text


def test_a_search_reads_in_whole_posts_percentages_and_pounds():
    from sim.present.console import search_text

    runs = pd.DataFrame({"staffing.investigators": [20.0, 22.0], "share_late": [0.543, 0.448],
                         "share_late_upper": [0.61, 0.49], "worst_cases_past_18_months": [2, 0],
                         "replications": [10, 10], "meets_target": [False, True], "cost": [1_300_000.0, 1_430_000.0]})
    text = search_text(runs, runs.iloc[1].to_dict())
    assert "20.0" not in text and " 22 " in text and "54.3" in text and "£1.43 million" in text
    assert "yes" in text and "False" not in text and "{" not in text
    assert text.endswith("Answer: staffing.investigators = 22 (costs £1.43 million a year).")
    assert search_text(runs.iloc[:1], None).endswith("No level searched meets the target.")


def test_sweep_points_are_counted_in_words():
    from sim.present.console import counts_text

    assert counts_text({"ok": 3, "failed": 1}) == "4 points: 3 ok, 1 failed"
    assert counts_text({"ok": 1}) == "1 point: 1 ok"


def test_a_region_labels_its_total_and_each_force():
    import sim

    res = sim.simulate(sim.load_config(["run.replications=2", "run.horizon_days=200", "run.progress=false",
                                        "forces=three_forces"]))
    text = headline_text(headline_sheets(res.summary(), res.config), res.config.force_names)
    assert "The whole region, 3 forces (small_force, medium_force, large_force):" in text
    for force in res.config.force_names:
        assert f"The force {force}:" in text
