"""Censoring-aware metrics and the replication summary."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.results.metrics import (
    fit_survival,
    km_quantiles,
    km_restricted_mean,
    km_share_waiting_past,
    survival_quantiles,
    survival_restricted_mean,
    survival_share_past,
)
from sim.results.summary import SUMMARY_VALUES, rows_by_force, summarise_metrics, t_interval


def test_uncensored_quantiles_are_the_empirical_inverse_cdf():
    x = np.random.default_rng(3).exponential(10.0, 501)
    q = km_quantiles(x, np.ones_like(x, bool), [0.5, 0.9])
    xs = np.sort(x)
    # smallest t with F(t) >= q
    assert q[0] == xs[int(np.ceil(0.5 * 501)) - 1]
    assert q[1] == xs[int(np.ceil(0.9 * 501)) - 1]


def test_censoring_by_hand():
    # Events at 1, 3, 5; censored at 2, 4. KM: S(1)=4/5, S(3)=4/5*2/3=8/15, S(5)=0.
    d = np.array([1, 2, 3, 4, 5.0])
    e = np.array([True, False, True, False, True])
    assert km_share_waiting_past(d, e, [0.5, 1, 3, 4.5]) == pytest.approx([1, 0.8, 8 / 15, 8 / 15])
    assert km_quantiles(d, e, [0.2, 0.4, 0.5, 0.9]) == pytest.approx([1, 3, 5, 5])


def test_dropping_censored_cases_would_understate_the_tail():
    rng = np.random.default_rng(5)
    t = rng.exponential(100.0, 4000)
    horizon = rng.uniform(0, 300, 4000)
    d, e = np.minimum(t, horizon), t <= horizon
    km = km_quantiles(d, e, [0.5])[0]
    naive = np.median(d[e])
    assert abs(km - 100 * np.log(2)) < 8 < abs(naive - 100 * np.log(2))


def test_share_beyond_followup_is_zero_once_everyone_is_arrested():
    d = np.array([1.0, 2.0, 3.0])
    assert km_share_waiting_past(d, np.ones(3, bool), [10.0])[0] == 0.0


def test_quantile_not_reached_is_nan_and_share_beyond_followup_is_nan():
    d = np.array([1.0, 2.0, 10.0, 10.0])
    e = np.array([True, True, False, False])
    assert np.isnan(km_quantiles(d, e, [0.9])[0])
    assert np.isnan(km_share_waiting_past(d, e, [20.0])[0])


def test_t_interval_matches_scipy():
    v = np.array([3.1, 2.7, 3.9, 3.3, 2.8])
    m, lo, hi = t_interval(v, 0.95)
    slo, shi = stats.t.interval(0.95, len(v) - 1, loc=v.mean(), scale=stats.sem(v))
    assert (m, lo, hi) == pytest.approx((v.mean(), slo, shi))


@pytest.mark.parametrize("share", ["share_past_target", "handed_over_share"])
def test_summary_keeps_intervals_inside_a_metrics_range(share):
    # Every metric whose catalogue unit is a share stays in [0, 1], whatever its name.
    per_rep = pd.DataFrame({"scenario": "s", "replication": [0, 1, 2] * 3, "force": "f",
                            "metric": [share] * 3 + ["cases_past_18_months"] * 3 + ["utilisation_investigators"] * 3,
                            "by": "all", "grade": "all", "value": [1.0, 1.0, 0.9, 0.0, 0.0, 2.0, 1.0, 1.0, 0.9]})
    s = summarise_metrics(per_rep).set_index("metric")
    assert s.loc[share, "ci_high"] == 1.0 and s.loc[share, "ci_low"] < 0.97
    assert s.loc["cases_past_18_months", "ci_low"] == 0.0
    # urgent work can take a capacity above 1: a utilisation keeps its upper interval
    assert s.loc["utilisation_investigators", "ci_high"] > 1.0


def test_summary_flags_metrics_missing_in_some_replications():
    per_rep = pd.DataFrame({
        "scenario": "s", "replication": [0, 1, 2, 0, 1, 2], "force": "f",
        "metric": ["a"] * 3 + ["b"] * 3, "by": "all", "grade": "all",
        "value": [1.0, 2.0, 3.0, 5.0, np.nan, 7.0],
    })
    s = summarise_metrics(per_rep).set_index("metric")
    assert s.loc["a", "estimate"] == 2.0 and s.loc["a", "ci_low"] < 2.0 < s.loc["a", "ci_high"]
    assert np.isnan(s.loc["b", "estimate"]) and "1 of 3" in s.loc["b", "note"]


def test_a_summarys_rows_by_force_are_its_rows_looked_up_by_key():
    per_rep = pd.DataFrame({
        "scenario": "s", "replication": [0, 1, 2] * 4, "force": ["f"] * 6 + ["g"] * 6,
        "metric": (["a"] * 3 + ["b"] * 3) * 2, "by": "all", "grade": "all",
        "value": [1.0, 2.0, 3.0, 5.0, np.nan, 7.0, 4.0, 4.0, 4.0, 0.5, 0.6, 0.7],
    })
    summary = summarise_metrics(per_rep)
    found = rows_by_force(summary)
    assert set(found) == {"f", "g"} and set(found["f"]) == {("a", "all", "all"), ("b", "all", "all")}
    indexed = summary.set_index(["force", "metric", "by", "grade"])
    for force, rows in found.items():
        for key, row in rows.items():
            assert list(row) == list(SUMMARY_VALUES)
            expected = indexed.loc[(force, *key)]
            assert all(row[c] == expected[c] or (pd.isna(row[c]) and pd.isna(expected[c])) for c in SUMMARY_VALUES)
    assert "1 of 3" in found["f"][("b", "all", "all")]["note"]
    # only the metrics asked for, only the columns asked for
    only_b = rows_by_force(summary, metrics=["b"], columns=["estimate"])
    assert {k for rows in only_b.values() for k in rows} == {("b", "all", "all")}
    assert only_b["g"][("b", "all", "all")] == {"estimate": pytest.approx(0.6)}
    # two summaries joined: the first row of a key or the last, as asked
    joined = pd.concat([summary, summary.assign(estimate=summary["estimate"] + 10)], ignore_index=True)
    assert rows_by_force(joined, keep="first")["g"][("a", "all", "all")]["estimate"] == 4.0
    assert rows_by_force(joined, keep="last")["g"][("a", "all", "all")]["estimate"] == 14.0
    with pytest.raises(ValueError, match="keep"):
        rows_by_force(summary, keep="any")


def test_restricted_mean_without_censoring_is_the_mean_of_waits_cut_at_tau():
    waits = np.random.default_rng(5).exponential(30.0, 2000)
    everyone = np.ones(waits.size, bool)
    assert km_restricted_mean(waits, everyone, 45.0) == pytest.approx(np.minimum(waits, 45.0).mean(), rel=1e-12)


def test_restricted_mean_of_an_exponential_under_censoring_matches_its_integral():
    # Exponential waits (mean 30 days) censored by independent follow-up: the estimate is
    # consistent for the integral of exp(-t/30) from 0 to 40, censoring or not.
    rng = np.random.default_rng(6)
    waits, followup = rng.exponential(30.0, 20_000), rng.uniform(0.0, 200.0, 20_000)
    observed = np.minimum(waits, followup)
    expected = 30.0 * (1 - np.exp(-40.0 / 30.0))
    assert km_restricted_mean(observed, waits <= followup, 40.0) == pytest.approx(expected, rel=0.02)
    # dropping the censored cases instead would bias it down
    seen = waits <= followup
    assert np.minimum(observed[seen], 40.0).mean() < 0.97 * expected


def test_restricted_mean_is_undefined_past_the_longest_followup():
    assert math.isnan(km_restricted_mean(np.array([1.0, 5.0]), np.array([True, False]), 6.0))
    assert km_restricted_mean(np.array([1.0, 5.0]), np.array([True, True]), 6.0) == pytest.approx(3.0)
    assert math.isnan(km_restricted_mean(np.array([]), np.array([], bool), 6.0))
    # followed up for 8 days at most, no event after day 1: flat at 1/2 to day 6
    assert km_restricted_mean(np.array([1.0, 5.0]), np.array([True, False]), 6.0, observable_days=8.0) == pytest.approx(3.5)


# --------------------------------------------------------------------------- fitted once: restricted means and shares

_SAMPLES = st.lists(st.tuples(st.floats(0.0, 1000.0, allow_nan=False), st.booleans()), min_size=1, max_size=60)
PROPERTY = settings(max_examples=150, deadline=None, derandomize=True)


def _fitted(sample):
    durations = np.array([d for d, _ in sample])
    arrested = np.array([a for _, a in sample], dtype=bool)
    return durations, arrested, fit_survival(durations, arrested)


@PROPERTY
@given(st.lists(st.floats(0.0, 1000.0, allow_nan=False), min_size=1, max_size=60))
def test_restricted_mean_with_no_censoring_is_the_plain_mean_of_waits_cut_at_tau(waits):
    waits = np.array(waits)
    taus = np.array([0.0, 30.0, 365.0, 548.0, 2000.0])
    got = survival_restricted_mean(fit_survival(waits, np.ones(waits.size, bool)), waits, taus)
    want = [np.minimum(waits, tau).mean() for tau in taus]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)


def test_restricted_mean_under_censoring_is_the_area_worked_by_hand():
    # Arrests at 1, 3, 5; censored at 2, 4: S = 1 on [0, 1), 4/5 on [1, 3), 8/15 on [3, 5), 0 from 5.
    d = np.array([1, 2, 3, 4, 5.0])
    e = np.array([True, False, True, False, True])
    survival = fit_survival(d, e)
    got = survival_restricted_mean(survival, d, [0.5, 2.0, 4.0, 6.0])
    assert got == pytest.approx([0.5, 1 + 0.8, 1 + 0.8 * 2 + 8 / 15, 1 + 0.8 * 2 + 8 / 15 * 2])
    # the plain mean of the observed follow-up cut at 4 ignores that 2 and 4 were still waiting
    assert np.minimum(d, 4.0).mean() < got[2]
    assert km_restricted_mean(d, e, 4.0) == got[2]


@PROPERTY
@given(_SAMPLES, st.lists(st.floats(0.0, 1000.0, allow_nan=False), min_size=2, max_size=8))
def test_restricted_mean_is_at_most_tau_and_grows_with_it(sample, taus):
    durations, _, survival = _fitted(sample)
    taus = np.sort(np.array(taus))
    means = survival_restricted_mean(survival, durations, taus, observable_days=1000.0)
    assert np.isfinite(means).all()  # every tau within what the run could observe
    assert (means <= taus + 1e-9).all() and (means >= 0).all()
    assert (np.diff(means) >= -1e-9).all()
    # it grows by no more than tau does, and by less once some are arrested
    assert (np.diff(means) <= np.diff(taus) + 1e-9).all()


@PROPERTY
@given(_SAMPLES)
def test_shares_still_waiting_never_rise_with_the_day(sample):
    durations, _, survival = _fitted(sample)
    days = np.array([0.0, 7.0, 30.0, 90.0, 180.0, 365.0, 548.0, 1000.0])
    shares = survival_share_past(survival, durations, days, observable_days=1000.0)
    assert np.isfinite(shares).all()
    assert ((shares >= 0) & (shares <= 1)).all()
    assert (np.diff(shares) <= 0).all()


def test_restricted_mean_is_missing_only_past_what_could_be_observed_with_someone_still_waiting():
    d = np.array([10.0, 20.0, 400.0])
    survival = fit_survival(d, np.array([True, True, False]))
    # followed for 500 days at most: known to day 500, missing at 548 (someone still waiting)
    assert np.isfinite(survival_restricted_mean(survival, d, 500.0, observable_days=500.0)[0])
    assert np.isnan(survival_restricted_mean(survival, d, 548.0, observable_days=500.0)[0])
    assert np.isnan(survival_share_past(survival, d, 548.0, observable_days=500.0)[0])
    # everyone arrested: the curve is 0 after the last arrest, so known however far tau lies
    everyone = fit_survival(d, np.ones(3, bool))
    assert survival_restricted_mean(everyone, d, 548.0, observable_days=500.0)[0] == pytest.approx(d.mean())
    assert np.isnan(survival_restricted_mean(None, d, 548.0)[0])
    with pytest.raises(ValueError, match="tau_days"):
        survival_restricted_mean(survival, d, -1.0)


def test_the_restricted_mean_is_defined_where_the_99th_percentile_is_not():
    # a quarter never arrested within two years of follow-up: no 99th percentile, but an area
    rng = np.random.default_rng(8)
    waits = rng.exponential(60.0, 400)
    arrested = rng.random(400) < 0.75
    followup = np.where(arrested, waits, 730.0)
    survival = fit_survival(followup, arrested)
    assert np.isnan(survival_quantiles(survival, [0.99])[0])
    rmst = survival_restricted_mean(survival, followup, 548.0, observable_days=730.0)[0]
    assert 0.25 * 548.0 < rmst < 548.0
    assert np.isfinite(survival_share_past(survival, followup, [30.0, 365.0, 548.0], observable_days=730.0)).all()
