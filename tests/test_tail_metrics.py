"""Tail metrics that stay defined under congestion: in a congested run the 99th percentile of
time to arrest has no value, while the restricted mean time to arrest up to 548 days, the
Kaplan-Meier shares still waiting at fixed days and the share past each grade's target all
have one, in every row the arrest metrics go to; and each is what the run's referrals give
by hand."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.domain import EIGHTEEN_MONTHS_DAYS, GRADES
from sim.results.catalogue import (
    RESTRICTED_MEAN_DAYS,
    RESTRICTED_MEAN_TIME_TO_ARREST,
    SHARE_WAITING_DAYS,
    SHARE_WAITING_PAST,
    TAIL_METRICS,
)
from sim.results.metrics import km_restricted_mean, km_share_waiting_past
from sim.results.summary import replication_metrics

# Four investigators fewer than the stressed baseline, for two years: the investigators' queue
# grows, and far more than 1 % of referrals are still waiting at the end.
CONGESTED = ["run.replications=2", "run.horizon_days=730", "run.progress=false", "staffing.investigators=16"]
SHARES = [*(SHARE_WAITING_PAST.name(name) for name in SHARE_WAITING_DAYS), "share_past_18_months"]
SHARE_DAYS = [*SHARE_WAITING_DAYS.values(), EIGHTEEN_MONTHS_DAYS]
ROWS = [("all", "all"), *((by, grade) for by in ("true_risk", "assigned_grade") for grade in GRADES)]


@pytest.fixture(scope="module")
def congested() -> sim.Results:
    return sim.simulate(sim.load_config(CONGESTED))


@pytest.fixture(scope="module")
def per_replication(congested):
    return replication_metrics(congested)


def _estimates(results: sim.Results):
    summary = results.summary()
    total = summary[summary["force"] == results.config.total_name]
    return total.set_index(["metric", "by", "grade"])


def test_congestion_leaves_no_99th_percentile_but_every_tail_metric_defined(congested):
    rows = _estimates(congested)
    p99 = rows.loc[("time_to_arrest_p99_days", "all", "all")]
    assert np.isnan(p99["estimate"]) and p99["note"]
    for by, grade in ROWS:
        for name in (RESTRICTED_MEAN_TIME_TO_ARREST, *SHARES):
            assert np.isfinite(rows.loc[(name, by, grade), "estimate"]), (name, by, grade)
    for grade in GRADES:
        for by in ("true_risk", "assigned_grade"):
            assert np.isfinite(rows.loc[("share_past_target", by, grade), "estimate"]), (by, grade)
    for name in (RESTRICTED_MEAN_TIME_TO_ARREST, *SHARES):  # the misgraded high-risk referrals have the rows too
        assert (name, "misgraded_high_risk", "all") in rows.index, name
    # the sensitivity analysis's default metrics: all but the last (the 99th percentile) have values
    assert TAIL_METRICS[-1] == ("time_to_arrest_p99_days", "all", "all")
    assert all(np.isfinite(rows.loc[key, "estimate"]) for key in TAIL_METRICS[:-1])


def test_congestion_shows_in_the_tail_metrics(congested):
    rows = _estimates(congested)
    share_past_year = rows.loc[(SHARE_WAITING_PAST.name("365"), "all", "all"), "estimate"]
    assert share_past_year > 0.01  # congested: more than 1 % still waiting a year after referral
    rmst = rows.loc[(RESTRICTED_MEAN_TIME_TO_ARREST, "all", "all"), "estimate"]
    median = rows.loc[("time_to_arrest_p50_days", "all", "all"), "estimate"]
    # an area under a curve that stays above share_past_year to day 365
    assert share_past_year * 365.0 < rmst < RESTRICTED_MEAN_DAYS
    assert np.isfinite(median)


def test_each_replications_values_are_the_referrals_by_hand(congested, per_replication):
    """The summary's rows are the Kaplan-Meier values of the right referrals, followed for as
    long as the run allowed: its horizon less the first referral's arrival."""
    referrals = congested.referrals
    horizon_days = congested.config.run.horizon_days
    for replication in (0, 1):
        got = per_replication[(per_replication["replication"] == replication)
                              & (per_replication["force"] == congested.config.total_name)]
        value = got.set_index(["metric", "by", "grade"])["value"]
        for by, grade in ROWS:
            chosen = referrals["replication"] == replication
            if by != "all":
                chosen &= referrals[by] == grade
            cases = referrals[chosen]
            followup, arrested = cases["followup_days"].to_numpy(), ~cases["censored"].to_numpy()
            observable_days = horizon_days - cases["arrival_day"].min()
            assert value[(RESTRICTED_MEAN_TIME_TO_ARREST, by, grade)] == pytest.approx(
                km_restricted_mean(followup, arrested, RESTRICTED_MEAN_DAYS, observable_days), rel=1e-12)
            shares = km_share_waiting_past(followup, arrested, SHARE_DAYS, observable_days)
            assert [value[(name, by, grade)] for name in SHARES] == pytest.approx(shares, rel=1e-12)


def test_shares_fall_with_the_day_and_the_restricted_mean_stays_below_its_horizon(per_replication):
    arrests = per_replication[per_replication["metric"].isin([RESTRICTED_MEAN_TIME_TO_ARREST, *SHARES])]
    wide = arrests.set_index(["replication", "force", "by", "grade", "metric"])["value"].unstack("metric")
    shares = wide[SHARES].to_numpy()
    defined = np.isfinite(shares).all(axis=1)
    assert defined.sum() >= len(ROWS) * 2
    assert (np.diff(shares[defined], axis=1) <= 0).all()
    rmst = wide[RESTRICTED_MEAN_TIME_TO_ARREST].to_numpy()
    assert ((rmst[np.isfinite(rmst)] > 0) & (rmst[np.isfinite(rmst)] <= RESTRICTED_MEAN_DAYS)).all()


def test_a_run_too_short_to_see_18_months_has_them_only_where_everyone_was_arrested(quick_results):
    """The quick run (400 days) cannot follow a referral for 548 days: the share past 18
    months and the restricted mean to 548 days have a value in a row only where its curve
    reached 0 (the referral followed longest was arrested), and then the share is 0; the
    earlier days have values in every row by grade and over all referrals."""
    values = replication_metrics(quick_results).set_index(["replication", "force", "by", "grade", "metric"])["value"]
    wide = values.unstack("metric")
    arrest_rows = wide.index.get_level_values("by").isin(["all", "true_risk", "assigned_grade", "misgraded_high_risk"])
    wide = wide[arrest_rows & (wide["cases"] > 0)]
    past_18_months, rmst = wide["share_past_18_months"], wide[RESTRICTED_MEAN_TIME_TO_ARREST]
    assert (np.isfinite(rmst) == np.isfinite(past_18_months)).all()
    assert (past_18_months.dropna() == 0).all()
    assert past_18_months.isna().any()  # the rule binds: some rows have no value
    early = wide[[SHARE_WAITING_PAST.name("30"), SHARE_WAITING_PAST.name("90")]]
    by_grade_or_all = early.index.get_level_values("by") != "misgraded_high_risk"  # those may arrive late
    assert np.isfinite(early[by_grade_or_all].to_numpy()).all()
