"""Costs (``costs.*``): every run's staffing cost a year and cost per arrest, computed from
the posts in post, the search-team days used and the hearings held; costs change nothing else."""

from __future__ import annotations

import pandas as pd
import pytest

import sim

SHORT = ["run.replications=2", "run.horizon_days=400", "run.progress=false"]


def _costs(res: sim.Results) -> dict[tuple[str, str], float]:
    summary = res.summary()
    rows = summary[summary["metric"].isin(["staffing_cost_per_year", "cost_per_arrest"])]
    return {(f, m): e for f, m, e in rows[["force", "metric", "estimate"]].itertuples(index=False)}


@pytest.fixture(scope="module")
def baseline() -> sim.Results:
    return sim.simulate(sim.load_config(SHORT))


def test_the_staffing_cost_is_the_posts_the_search_days_and_the_hearings(baseline):
    cfg = baseline.config
    prices = cfg.costs
    years = cfg.run.horizon_days / 365.0
    pools = baseline.pools.groupby("pool")["busy"].mean()  # places booked
    posts = (cfg.staffing.intake_researchers * prices.intake_researcher_gbp_per_year
             + cfg.staffing.researchers * prices.researcher_gbp_per_year
             + cfg.staffing.assessors * prices.assessor_gbp_per_year
             + cfg.staffing.investigators * prices.investigator_gbp_per_year)
    # every working day of the teams in post (five a week here), and each hearing held
    team_days_per_year = cfg.staffing.search_teams * cfg.calendar.working_days_per_week * 365 / 7
    search = team_days_per_year * prices.search_team_gbp_per_day
    court = pools["court"] / years * prices.warrant_hearing_gbp
    assert _costs(baseline)[(cfg.total_name, "staffing_cost_per_year")] == pytest.approx(posts + search + court, rel=2e-3)


def test_the_cost_per_arrest_counts_arrests_only(baseline):
    cfg = baseline.config
    cases = baseline.cases
    arrests = (~cases["censored"] & (cases["outcome"] == "arrest")).groupby(cases["replication"]).sum()
    cost = _costs(baseline)[(cfg.total_name, "staffing_cost_per_year")] * cfg.run.horizon_days / 365.0
    # the mean over replications of cost / arrests, each replication's cost the same here
    assert _costs(baseline)[(cfg.total_name, "cost_per_arrest")] == pytest.approx((cost / arrests).mean(), rel=1e-3)


def test_a_price_moves_the_cost_by_its_posts_and_changes_nothing_else(baseline):
    dearer = sim.simulate(sim.load_config([*SHORT, "costs.investigator_gbp_per_year=75000"]))
    name = baseline.config.total_name
    extra = _costs(dearer)[(name, "staffing_cost_per_year")] - _costs(baseline)[(name, "staffing_cost_per_year")]
    assert extra == pytest.approx(baseline.config.staffing.investigators * 10_000)
    for table in ("cases", "timeseries", "pools"):
        pd.testing.assert_frame_equal(getattr(dearer, table), getattr(baseline, table))
    other = lambda s: s[~s["metric"].isin(["staffing_cost_per_year", "cost_per_arrest"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(other(dearer.summary()), other(baseline.summary()))


def test_a_region_costs_its_forces_and_its_shared_units():
    res = sim.simulate(sim.load_config([*SHORT, "forces=three_forces", "collaboration.surge.investigators=4"]))
    costs = _costs(res)
    forces = sum(costs[(name, "staffing_cost_per_year")] for name in res.config.force_names)
    surge = 4 * res.config.costs.investigator_gbp_per_year
    assert costs[(res.config.total_name, "staffing_cost_per_year")] == pytest.approx(forces + surge)


def test_a_negative_price_is_refused_in_one_line():
    with pytest.raises(sim.ConfigError, match=r"costs\.search_team_gbp_per_day=-1.*>= 0"):
        sim.load_config(["costs.search_team_gbp_per_day=-1"])


def test_a_warm_up_and_recruits_are_costed_over_the_measured_window_only():
    """Four investigators recruited mid-run are paid from their arrival: the cost lies between
    today's team and the bigger one; arrests before the warm-up's end are not counted."""
    overrides = [*SHORT, "run.warmup_days=100", "staffing.recruitment.investigators=4",
                 "staffing.recruitment.lead_time_days=200"]
    res = sim.simulate(sim.load_config(overrides))
    cfg = res.config
    name = cfg.total_name
    costs = _costs(res)
    base = _costs(sim.simulate(sim.load_config([*SHORT, "run.warmup_days=100"])))
    extra = costs[(name, "staffing_cost_per_year")] - base[(name, "staffing_cost_per_year")]
    assert 0 < extra < 4 * cfg.costs.investigator_gbp_per_year
    cases = res.cases
    arrests = (~cases["censored"] & (cases["outcome"] == "arrest") & (cases["arrest_day"] >= 100)).groupby(
        cases["replication"]).sum()
    years = (cfg.run.horizon_days - 100) / 365.0
    assert costs[(name, "cost_per_arrest")] == pytest.approx(
        (costs[(name, "staffing_cost_per_year")] * years / arrests).mean(), rel=0.05)
