"""Arrests named truthfully: arrests and voluntary interviews are counted apart and together,
and every measured referral ends in exactly one outcome (open included)."""

from __future__ import annotations

import pytest

import sim
from sim.domain import OUTCOMES

SHORT = ["run.replications=2", "run.horizon_days=400", "run.progress=false"]


def _rows(*overrides: str) -> tuple[sim.Results, dict[str, float]]:
    """The run, and its whole-force rows (by = all) by metric."""
    res = sim.simulate(sim.load_config([*SHORT, *overrides]))
    summary = res.summary()
    rows = summary[(summary["force"] == res.config.total_name) & (summary["by"] == "all")]
    return res, dict(zip(rows["metric"], rows["estimate"]))


@pytest.fixture(scope="module")
def baseline():
    return _rows()


def test_arrests_and_interviews_add_up_to_the_enforcements(baseline):
    _, baseline = baseline
    assert baseline["arrests_per_month"] + baseline["voluntary_interviews_per_month"] == pytest.approx(
        baseline["enforcements_per_month"])
    assert 0 < baseline["arrests_per_month"] < baseline["enforcements_per_month"]


def test_the_counts_are_the_case_table_s(baseline):
    res, baseline = baseline
    cases, run = res.cases, res.config.run
    months = (run.horizon_days - run.warmup_days) / 365.0 * 12
    in_window = ~cases["censored"] & (cases["arrest_day"] >= run.warmup_days)
    per_replication = (in_window & (cases["outcome"] == "arrest")).groupby(cases["replication"]).sum() / months
    assert baseline["arrests_per_month"] == pytest.approx(per_replication.mean())


def test_every_referral_ends_in_one_outcome(baseline):
    _, baseline = baseline
    assert sum(baseline[f"share_ending_{o}"] for o in OUTCOMES) == pytest.approx(1.0)
    assert baseline["share_ending_arrest"] > 0 and baseline["share_ending_open"] > 0


def test_without_voluntary_interviews_every_enforcement_is_an_arrest():
    _, rows = _rows("stages.execution.voluntary_interview_probability=0")
    assert rows["voluntary_interviews_per_month"] == 0 and rows["share_ending_voluntary_interview"] == 0
    assert rows["arrests_per_month"] == pytest.approx(rows["enforcements_per_month"])
