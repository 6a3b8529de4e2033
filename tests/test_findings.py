"""Findings in plain words (sim/results/findings.py): each appears on a configuration built to
trigger it and not on one built not to, and its numbers are the run's own."""

from __future__ import annotations

import pandas as pd
import pytest

import sim
from sim.results.findings import comparison_findings, run_findings

SHORT = ["run.replications=2", "run.horizon_days=730", "run.progress=false"]
NEVER_MISGRADED = ["training.under_grade_probability_trained=0", "training.under_grade_probability_untrained=0"]


def _findings(*overrides: str) -> tuple[sim.Results, dict[str, list[str]]]:
    res = sim.simulate(sim.load_config([*SHORT, *overrides]))
    by_topic: dict[str, list[str]] = {}
    for finding in run_findings(res):
        by_topic.setdefault(finding.topic, []).append(finding.text)
    return res, by_topic


@pytest.fixture(scope="module")
def jammed_intake():
    """One intake researcher for 80 referrals a month: intake's queue grows without bound."""
    return _findings("demand.referrals_per_month=80", "staffing.intake_researchers=1", "staffing.researchers=8",
                     "staffing.investigators=40", "staffing.search_teams=4",
                     "stages.warrant.slots_per_sitting_day=8")


@pytest.fixture(scope="module")
def light():
    """A small force's demand on the medium force's staff: nothing near its capacity."""
    return _findings("demand.referrals_per_month=15", *NEVER_MISGRADED)


def test_an_overloaded_unit_is_named_with_its_numbers_and_the_key_to_change(jammed_intake):
    res, found = jammed_intake
    intake = [text for text in found.get("overload", []) if text.startswith("Intake cannot keep up")]
    assert len(intake) == 1, found
    text = intake[0]
    assert "1 intake researcher for 80 referrals a month" in text and "staffing.intake_researchers" in text
    ts = res.timeseries
    end = ts[(ts["series"] == "wip") & (ts["name"] == "intake") & (ts["day"] == ts["day"].max())]
    waiting = end.groupby("replication")["value"].sum().mean()
    assert f"{waiting:,.0f} cases at intake at the end" in text
    assert "What limits the force most is intake" in found["bottleneck"][0]


def test_no_overload_and_no_bottleneck_where_nothing_is_near_capacity(light):
    _, found = light
    assert "overload" not in found
    assert found["bottleneck"][0].startswith("No unit is near its capacity")


def test_targets_are_reported_met_or_missed_from_the_share_past_target(light, jammed_intake):
    for res, found in (light, jammed_intake):
        summary = res.summary()
        late = summary[(summary["metric"] == "share_past_target") & (summary["by"] == "assigned_grade")]
        text = found["targets"][0]
        for grade, words in (("VH", "very high risk"), ("H", "high risk"), ("M", "medium risk"), ("L", "low risk")):
            share = late.loc[late["grade"] == grade, "estimate"].iloc[0]
            if share > 0.10:
                assert f"{words} (" in text.split("Targets met")[0] and f"{share * 100:.0f} % of cases miss it" in text
            else:
                assert "Targets met" in text and words in text.split("Targets met")[1]
    assert "Targets met" in light[1]["targets"][0]
    assert "Targets met" not in jammed_intake[1]["targets"][0]


def test_the_misgraded_tail_appears_only_where_assessors_misgrade(jammed_intake, light):
    res, found = jammed_intake
    (text,) = found["misgraded"]
    high = res.referrals[res.referrals["true_risk"].isin(["VH", "H"]) & res.referrals["assigned_grade"].notna()]
    graded_low = high["assigned_grade"].isin(["M", "L"]).sum()
    assert text.startswith(f"1 in {len(high) / graded_low:.0f} truly high-risk suspects is graded medium or low")
    assert "misgraded" not in light[1]


def _comparison_row(scenario, metric, by, grade, baseline, value, half_width):
    difference = value - baseline
    return {"scenario": scenario, "force": "medium_force", "metric": metric, "by": by, "grade": grade,
            "baseline": baseline, "value": value, "difference": difference, "ci_low": difference - half_width,
            "ci_high": difference + half_width, "relative_difference": difference / baseline, "n_pairs": 10, "note": ""}


def _comparison(scenario: str, *rows: tuple) -> pd.DataFrame:
    """One scenario's comparison table from (metric, by, grade, baseline, value, half-width) rows."""
    return pd.DataFrame([_comparison_row(scenario, *row) for row in rows])


def test_a_lever_that_moves_a_metric_the_wrong_way_is_explained_by_the_shifted_bottleneck():
    table = _comparison("more_investigators",
        ("time_to_arrest_p50_days", "true_risk", "H", 19.0, 10.0, 1.0),
        ("time_to_arrest_p50_days", "true_risk", "M", 33.0, 48.0, 4.0),
        ("time_to_arrest_p90_days", "true_risk", "L", 500.0, 498.0, 30.0),
        ("utilisation_search_teams", "pool", "all", 1.22, 1.36, 0.01),
        ("utilisation_investigators", "pool", "all", 1.05, 0.85, 0.01),
    )
    texts = [f.text for f in comparison_findings(table, "medium_force")]
    assert texts[0].startswith("more_investigators improves the median time to arrest of truly high-risk cases: 19.0 days → 10.0 days")
    (worse,) = [t for t in texts if "worse" in t]
    assert "median time to arrest of truly medium-risk cases worse: 33.0 days → 48.0 days (+15.0 days" in worse
    assert "Why: search teams became the constraint (122 % → 136 % of capacity)" in worse
    assert not any("low risk" in t for t in texts)  # its interval spans 0: not a finding


def test_a_lever_with_no_real_difference_has_no_finding():
    table = _comparison("training",
        ("time_to_arrest_p50_days", "true_risk", "H", 19.0, 18.5, 1.0),
        ("utilisation_search_teams", "pool", "all", 1.22, 1.22, 0.01),
    )
    assert comparison_findings(table, "medium_force") == []


def test_where_no_capacity_filled_up_the_reason_is_the_queue_that_moved_on():
    table = _comparison("more_researchers",
        ("cases_past_18_months", "all", "all", 1.0, 22.0, 17.0),
        ("backlog_at_end_allocation", "all", "all", 301.0, 452.0, 23.0),
        ("backlog_at_end_research", "all", "all", 139.0, 27.0, 20.0),
        ("utilisation_caseload", "pool", "all", 0.79, 0.80, 0.01),
    )
    (worse,) = [f.text for f in comparison_findings(table, "medium_force")]
    assert worse.startswith("more_researchers makes the cases waiting past 18 months worse: 1 → 22")
    assert worse.endswith("Why: the queue moved on to the next stage (301 → 452 cases waiting for an investigator "
                          "at the end).")


def test_a_lever_s_cost_is_said_a_year_and_per_child_day_at_risk_avoided():
    table = _comparison("more_investigators",
        ("staffing_cost_per_year", "all", "all", 2_980_000.0, 3_520_000.0, 1.0),
        ("cost_per_arrest", "all", "all", 9_789.0, 10_395.0, 100.0),
        ("child_days_at_risk_per_year", "all", "all", 5_577.0, 5_562.0, 5.0),
    )
    (cost,) = [f.text for f in comparison_findings(table, "medium_force") if f.topic == "cost"]
    assert cost == ("more_investigators costs £540,000 a year more (£2.98 million → £3.52 million, at the prices "
                    "in the costs settings); £10,395 per arrest against £9,789; £36,000 per child-day at risk avoided.")
    # a cut in child-days whose interval reaches 0 is no cut: nothing is priced per child-day
    wide = table.assign(ci_high=lambda t: t["ci_high"].where(t["metric"] != "child_days_at_risk_per_year", 1.0))
    (cost,) = [f.text for f in comparison_findings(wide, "medium_force") if f.topic == "cost"]
    assert "child-day" not in cost


def test_a_region_s_findings_speak_of_its_forces_and_never_of_nan():
    """Pooled investigators and a surge unit belong to the region, not a force: findings are
    each force's, named, and hold no missing number."""
    res = sim.simulate(sim.load_config([*SHORT, "forces=three_forces", "scenario=regional_pooling",
                                        "collaboration.surge.investigators=4"]))
    findings = run_findings(res)
    assert {f.force for f in findings} == set(res.config.force_names)
    for f in findings:
        assert f.text.startswith(f"{f.force}: ") and "nan" not in f.text.lower(), f.text
    assert {f.topic for f in findings} >= {"bottleneck", "targets"}


def test_a_run_too_short_to_see_a_year_says_so():
    _, found = _findings("run.horizon_days=300")
    assert "too short to see who waits over a year" in found["misgraded"][0]
