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
    c = reviews.baseline.cases
    assert c["reviewed_day"].isna().all() and c["escalated_day"].isna().all()
    graded = c["assigned_grade"].notna()
    assert (c.loc[graded, "final_grade"] == c.loc[graded, "assigned_grade"]).all()


def test_a_review_regrades_exactly_the_underestimated(reviews):
    for name in ("analyst_review", "minimum_standards"):
        c = reviews.scenarios[name].cases
        seen = c[c["reviewed_day"].notna()]
        assert len(seen) > 20, name
        under = seen["true_risk"].cat.codes < seen["assigned_grade"].cat.codes
        # detection probability 1: every underestimated case reviewed is regraded, no other
        assert (seen["escalated_day"].notna() == under).all(), name
        up = seen[under]
        assert (up["final_grade"] == up["true_risk"]).all()
        child = up[up["child_in_household"]]
        assert (child["safeguarding_day"] <= child["escalated_day"] + 1e-9).all()


def test_analyst_reviews_only_medium_and_low_waiting_cases(reviews):
    c = reviews.scenarios["analyst_review"].cases
    seen = c[c["reviewed_day"].notna()]
    assert set(seen["assigned_grade"].astype(str)) <= {"M", "L"}
    # reviewed while waiting for an investigator, before any planning work started
    assert (seen["reviewed_day"] >= seen["allocation_queue_day"]).all()
    started = seen["planning_start_day"].notna()
    assert (seen.loc[started, "reviewed_day"] <= seen.loc[started, "planning_start_day"] + 1e-9).all()
    assert seen["arrest_day"].isna().sum() + (seen["reviewed_day"] < seen["arrest_day"]).sum() == len(seen)
    per_week = seen.groupby(["replication", np.floor(seen["reviewed_day"] / 7)]).size()
    assert per_week.max() <= 15


def test_minimum_standards_reviews_cases_past_their_target(reviews):
    c = reviews.scenarios["minimum_standards"].cases
    seen = c[c["reviewed_day"].notna()]
    target = seen["assigned_grade"].map({"VH": 1, "H": 7, "M": 14, "L": 30}).astype(float)
    assert (seen["reviewed_day"] - seen["arrival_day"] > target).all()


def test_regraded_cases_move_up_their_queue(reviews):
    """A case regraded while queueing for planning work is served soon after, ahead of the
    low-risk queue it was in."""
    c = reviews.scenarios["minimum_standards"].cases
    up = c[c["escalated_day"].notna() & (c["escalated_day"] < c["planning_start_day"])]
    assert len(up) > 10
    after = (up["planning_start_day"] - up["escalated_day"]).mean()
    low = c[(c["final_grade"] == "L") & c["planning_start_day"].notna()]
    assert after < 3.0 < (low["planning_start_day"] - low["planning_queue_day"]).mean()


@pytest.mark.parametrize("name", ["analyst_review", "minimum_standards"])
def test_reviews_shorten_the_wait_of_misgraded_high_risk_cases(reviews, name):
    key = ["replication", "case_id"]
    a = reviews.baseline.referrals.set_index(key)
    b = reviews.scenarios[name].referrals.set_index(key)
    hit = a[a["misgraded"] & a["true_risk"].isin(["VH", "H"])].index.intersection(b.index)
    diff = b.loc[hit, "followup_days"] - a.loc[hit, "followup_days"]
    assert diff.mean() < 0 and (diff.groupby(level=0).mean() < 0).sum() >= 2, diff.groupby(level=0).mean()


@pytest.mark.parametrize("stage", ["allocation", "planning"])
def test_wip_counters_follow_regraded_cases(reviews, stage):
    """By grade, the monitor's counts equal the case records at every sample, a case
    counting under its new grade from the moment it is regraded."""
    res = reviews.scenarios["minimum_standards"]
    ts, c = res.timeseries, res.cases
    c0 = c[c["replication"] == 0]
    q = c0[f"{stage}_queue_day"].to_numpy()
    e = np.where(c0[f"{stage}_end_day"].isna(), np.inf, c0[f"{stage}_end_day"])
    up = c0["escalated_day"].to_numpy()
    old, new = c0["assigned_grade"].astype(str).to_numpy(), c0["final_grade"].astype(str).to_numpy()
    wip = ts[(ts["series"] == "wip") & (ts["name"] == stage) & (ts["replication"] == 0)]
    moved = 0
    for g in ("VH", "H", "M", "L"):
        sampled = wip[wip["grade"] == g].set_index("day")["value"]
        days = sampled.index.to_numpy()
        days = days[days > 0]
        there = (q[None, :] <= days[:, None]) & (days[:, None] < e[None, :])
        grade_then = np.where(up[None, :] <= days[:, None], new[None, :], old[None, :])
        assert np.array_equal(sampled.loc[days].to_numpy(), (there & (grade_then == g)).sum(axis=1)), g
        moved += int((there & (grade_then != old[None, :])).sum())
    if stage == "planning":  # where this run's cases wait, and so where reviews regrade them
        assert moved > 0
