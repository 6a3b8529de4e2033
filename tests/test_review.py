"""Re-review of waiting cases: analyst review (the Dyfed-Powys practice) and minimum
standards (escalation past the target)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.running.scenarios import compare, load_scenarios

QUICK = ["run.replications=3", "run.horizon_days=500", "run.progress=false"]


@pytest.fixture(scope="module")
def reviews():
    base, others = load_scenarios(["analyst_review", "minimum_standards"],
                                  QUICK + ["stages.review.detection_probability=1.0"])
    return compare(base, others)


def test_baseline_reviews_nothing(reviews):
    cases = reviews.baseline.cases
    assert cases["reviewed_day"].isna().all() and cases["escalated_day"].isna().all()
    graded = cases["assigned_grade"].notna()
    assert (cases.loc[graded, "final_grade"] == cases.loc[graded, "assigned_grade"]).all()


def test_a_review_regrades_exactly_the_underestimated(reviews):
    for name in ("analyst_review", "minimum_standards"):
        cases = reviews.scenarios[name].cases
        seen = cases[cases["reviewed_day"].notna()]
        assert len(seen) > 20, name
        under = seen["true_risk"].cat.codes < seen["assigned_grade"].cat.codes
        # detection probability 1: every underestimated case reviewed is regraded, no other
        assert (seen["escalated_day"].notna() == under).all(), name
        up = seen[under]
        assert (up["final_grade"] == up["true_risk"]).all()
        child = up[up["child_in_household"]]
        assert (child["safeguarding_day"] <= child["escalated_day"] + 1e-9).all()


def test_analyst_reviews_only_medium_and_low_waiting_cases(reviews):
    cases = reviews.scenarios["analyst_review"].cases
    seen = cases[cases["reviewed_day"].notna()]
    assert set(seen["assigned_grade"].astype(str)) <= {"M", "L"}
    # reviewed while waiting for an investigator, before any planning work started
    assert (seen["reviewed_day"] >= seen["allocation_queue_day"]).all()
    started = seen["planning_start_day"].notna()
    assert (seen.loc[started, "reviewed_day"] <= seen.loc[started, "planning_start_day"] + 1e-9).all()
    assert seen["arrest_day"].isna().sum() + (seen["reviewed_day"] < seen["arrest_day"]).sum() == len(seen)
    per_week = seen.groupby(["replication", np.floor(seen["reviewed_day"] / 7)]).size()
    assert per_week.max() <= 15


def test_minimum_standards_reviews_cases_past_their_target(reviews):
    cases = reviews.scenarios["minimum_standards"].cases
    seen = cases[cases["reviewed_day"].notna()]
    target = seen["assigned_grade"].map({"VH": 1, "H": 7, "M": 14, "L": 30}).astype(float)
    assert (seen["reviewed_day"] - seen["arrival_day"] > target).all()


def test_regraded_cases_move_up_their_queue(reviews):
    """A case regraded while queueing for planning work is served soon after, ahead of the
    low-risk queue it was in."""
    cases = reviews.scenarios["minimum_standards"].cases
    up = cases[cases["escalated_day"].notna() & (cases["escalated_day"] < cases["planning_start_day"])]
    assert len(up) > 10
    after = (up["planning_start_day"] - up["escalated_day"]).mean()
    low = cases[(cases["final_grade"] == "L") & cases["planning_start_day"].notna()]
    assert after < 3.0 < (low["planning_start_day"] - low["planning_queue_day"]).mean()


@pytest.mark.parametrize("name", ["analyst_review", "minimum_standards"])
def test_reviews_shorten_the_wait_of_misgraded_high_risk_cases(reviews, name):
    key = ["replication", "case_id"]
    before = reviews.baseline.referrals.set_index(key)
    after = reviews.scenarios[name].referrals.set_index(key)
    hit = before[before["misgraded"] & before["true_risk"].isin(["VH", "H"])].index.intersection(after.index)
    diff = after.loc[hit, "followup_days"] - before.loc[hit, "followup_days"]
    assert diff.mean() < 0 and (diff.groupby(level=0).mean() < 0).sum() >= 2, diff.groupby(level=0).mean()


@pytest.mark.parametrize("stage", ["allocation", "planning"])
def test_wip_counters_follow_regraded_cases(reviews, stage):
    """By grade, the monitor's counts equal the case records at every sample, a case
    counting under its new grade from the moment it is regraded."""
    res = reviews.scenarios["minimum_standards"]
    ts, cases = res.timeseries, res.cases
    first_replication = cases[cases["replication"] == 0]
    entered = first_replication[f"{stage}_queue_day"].to_numpy()
    left = np.where(first_replication[f"{stage}_end_day"].isna(), np.inf, first_replication[f"{stage}_end_day"])
    escalated = first_replication["escalated_day"].to_numpy()
    old = first_replication["assigned_grade"].astype(str).to_numpy()
    new = first_replication["final_grade"].astype(str).to_numpy()
    wip = ts[(ts["series"] == "wip") & (ts["name"] == stage) & (ts["replication"] == 0)]
    moved = 0
    for g in ("VH", "H", "M", "L"):
        sampled = wip[wip["grade"] == g].set_index("day")["value"]
        days = sampled.index.to_numpy()
        days = days[days > 0]
        there = (entered[None, :] <= days[:, None]) & (days[:, None] < left[None, :])
        grade_then = np.where(escalated[None, :] <= days[:, None], new[None, :], old[None, :])
        assert np.array_equal(sampled.loc[days].to_numpy(), (there & (grade_then == g)).sum(axis=1)), g
        moved += int((there & (grade_then != old[None, :])).sum())
    if stage == "planning":  # where this run's cases wait, and so where reviews regrade them
        assert moved > 0
