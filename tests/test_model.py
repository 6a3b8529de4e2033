"""Functional properties of the model: conservation, time order, reproducibility, common
random numbers, monotonicity in the levers, Little's law."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import sim
from sim.domain import TIMED_STAGES
from sim.results import build_results
from sim.running.runner import run_replications

TIMELINE = ["arrival_day"] + [f"{s}_{k}_day" for s in TIMED_STAGES for k in ("queue", "start", "end")] + ["arrest_day", "exit_day"]
ATTRIBUTES = ["arrival_day", "package_id", "backlog", "source", "true_risk", "child_in_household", "nonspecialist"]


def test_conservation_overall(quick_results):
    """A case that left is in no stage; an open case is in exactly one (waiting or being
    worked), or arrested with its post-arrest work unfinished."""
    cases = quick_results.cases
    in_stage = sum((cases[f"{s}_queue_day"].notna() & cases[f"{s}_end_day"].isna()).astype(int) for s in TIMED_STAGES)
    gone = cases["exit_day"].notna()
    assert (in_stage[gone] == 0).all()
    post_arrest = ~gone & cases["arrest_day"].notna()
    assert (in_stage[post_arrest] == 0).all()
    assert (in_stage[~gone & ~post_arrest] == 1).all()
    assert len(cases) == gone.sum() + post_arrest.sum() + (in_stage == 1).sum()


@pytest.mark.parametrize("stage", TIMED_STAGES)
def test_conservation_per_stage(quick_results, stage):
    cases = quick_results.cases
    entered = cases[f"{stage}_queue_day"].notna().sum()
    left = cases[f"{stage}_end_day"].notna().sum()
    still = (cases["stage_at_end"] == stage).sum()
    assert entered == left + still
    assert entered > 0


def test_timestamps_never_go_backwards(quick_results):
    timeline = quick_results.cases[TIMELINE].to_numpy()
    horizon = quick_results.config.run.horizon_days
    for row in timeline:
        seen = row[~np.isnan(row)]
        assert np.all(np.diff(seen) >= -1e-9)
    assert np.nanmax(timeline[:, 1:]) <= horizon + 1e-9


def test_outcomes_are_consistent(quick_results):
    cases = quick_results.cases
    arrested = cases["outcome"].isin(["arrest", "voluntary_interview"])
    assert (arrested == cases["arrest_day"].notna()).all()
    assert (cases["censored"] == cases["arrest_day"].isna()).all()
    assert (cases.loc[arrested, "arrest_day"] == cases.loc[arrested, "execution_end_day"]).all()
    assert set(cases["outcome"].unique()) >= {"arrest", "voluntary_interview", "open", "duplicate", "untraceable"}
    assert (cases["followup_days"] >= 0).all()


def test_same_seed_identical_tables(quick_cfg, quick_results):
    again = sim.simulate(quick_cfg)
    pd.testing.assert_frame_equal(again.cases, quick_results.cases)
    pd.testing.assert_frame_equal(again.timeseries, quick_results.timeseries)
    other = sim.simulate(dataclasses.replace(quick_cfg, run=dataclasses.replace(quick_cfg.run, seed=99)))
    assert not other.cases["arrival_day"].equals(quick_results.cases["arrival_day"])


def test_serial_equals_parallel(quick_cfg):
    serial = build_results(quick_cfg, run_replications(quick_cfg, workers=1, progress=False))
    parallel = build_results(quick_cfg, run_replications(quick_cfg, workers=2, progress=False))
    pd.testing.assert_frame_equal(serial.cases, parallel.cases)
    pd.testing.assert_frame_equal(serial.timeseries, parallel.timeseries)
    pd.testing.assert_frame_equal(serial.pools, parallel.pools)


def test_backlog_is_served_oldest_first_within_a_grade(baseline_results):
    cases = baseline_results.cases
    backlog_low = cases[cases["backlog"] & (cases["assigned_grade"] == "L") & cases["slot_start_day"].notna()]
    for _, rep in backlog_low.groupby("replication"):
        order = rep.sort_values("slot_start_day")["arrival_day"].to_numpy()
        assert (np.diff(order) >= 0).all()


def _with(cfg: sim.SimConfig, **staffing) -> sim.SimConfig:
    return cfg.replace(staffing=dataclasses.replace(cfg.staffing, **staffing))


def test_capacity_change_keeps_the_same_cases(quick_cfg, quick_results):
    more = sim.simulate(_with(quick_cfg, investigators=30, researchers=6))
    before, after = quick_results.cases, more.cases
    pd.testing.assert_frame_equal(before[ATTRIBUTES], after[ATTRIBUTES])
    # The grade a case is given is drawn at arrival too; it shows for cases graded in both runs.
    both = before["assigned_grade"].notna() & after["assigned_grade"].notna()
    assert (before.loc[both, "assigned_grade"] == after.loc[both, "assigned_grade"]).all()
    assert not before["arrest_day"].equals(after["arrest_day"])


def _mean_time_to_arrest_or_end(res: sim.Results) -> float:
    """Mean days from referral to arrest, counting unarrested cases to the end of their
    follow-up (a restricted mean: it can only grow with longer waits)."""
    return float(res.measured["followup_days"].mean())


def test_more_investigators_never_lengthen_time_to_arrest():
    cfg = sim.load_config(["run.replications=3", "run.horizon_days=540", "run.progress=false"])
    means = [_mean_time_to_arrest_or_end(sim.simulate(_with(cfg, investigators=n))) for n in (14, 17, 20, 24, 30)]
    assert all(b <= a for a, b in zip(means, means[1:])), means
    assert means[-1] < 0.8 * means[0]


def test_more_researchers_never_lengthen_research(quick_cfg):
    waits = []
    for n in (2, 3, 5):
        cases = sim.simulate(_with(quick_cfg, researchers=n)).cases
        waits.append(float((cases["research_start_day"] - cases["research_queue_day"]).mean()))
    assert waits[0] >= waits[1] >= waits[2] and waits[0] > waits[2]


def _stay(cases: pd.DataFrame, stage: str, horizon: float) -> tuple[np.ndarray, np.ndarray]:
    """Entry and exit day of every visit to ``stage`` (exit = horizon if still there)."""
    entered = cases[f"{stage}_queue_day"].to_numpy()
    left = cases[f"{stage}_end_day"].to_numpy()
    seen = ~np.isnan(entered)
    return entered[seen], np.where(np.isnan(left), np.inf, left)[seen]


def test_wip_monitor_matches_case_records(baseline_results):
    """The counters the monitor samples agree with the case records at every sample."""
    res = baseline_results
    cases, ts, horizon = res.cases, res.timeseries, res.config.run.horizon_days
    wip = ts[ts["series"] == "wip"].groupby(["name", "day"], observed=True)["value"].sum()
    for stage in TIMED_STAGES:
        entered, left = _stay(cases, stage, horizon)
        days = wip.loc[stage].index.to_numpy()
        days = days[days > 0]  # day 0's backlog is allocated at the very instant of the sample
        from_records = ((entered[None, :] <= days[:, None]) & (days[:, None] < left[None, :])).sum(axis=1)
        assert np.array_equal(wip.loc[stage].loc[days].to_numpy(), from_records), stage


def test_first_sample_sees_the_backlog(baseline_results):
    ts = baseline_results.timeseries
    day0 = ts[(ts["day"] == 0) & (ts["series"] == "wip")]["value"].sum()
    assert day0 == baseline_results.cases["backlog"].sum()


@pytest.mark.parametrize("stage", ["allocation", "planning", "warrant", "execution"])
def test_littles_law(baseline_results, stage):
    """Time-averaged work in progress (the monitor's daily samples) = arrival rate x mean
    time in the stage (case records, follow-up clipped to the horizon). Stages whose visits
    last hours are left to the exact counter check above: a daily sample taken at a fixed
    hour is biased for them."""
    res = baseline_results
    cases, ts, horizon = res.cases, res.timeseries, res.config.run.horizon_days
    entered, left = _stay(cases, stage, horizon)
    arrival_rate = len(entered) / horizon
    mean_stay = (np.minimum(left, horizon) - np.maximum(entered, 0)).mean()
    sampled = ts[(ts["series"] == "wip") & (ts["name"] == stage)].groupby("day")["value"].sum().mean()
    assert sampled == pytest.approx(arrival_rate * mean_stay, rel=0.03)


def test_baseline_shows_the_inspectorates_picture(baseline_results):
    """Very high risk mostly dealt with within days; H/M/L mostly past target; the worst
    misgraded high-risk cases wait a year or more."""
    summary = baseline_results.summary().set_index(["metric", "by", "grade"])["estimate"]
    assert summary[("time_to_arrest_p50_days", "assigned_grade", "VH")] < 3
    for g in ("H", "M", "L"):
        assert summary[("share_past_target", "assigned_grade", g)] > 0.5
    assert summary[("longest_wait_days", "misgraded_high_risk", "all")] > 365
    low, high = (summary[("time_to_arrest_p50_days", "true_risk", risk)] for risk in ("L", "H"))
    assert low > high


def test_work_started_is_recorded_while_still_in_progress():
    """Work that has started but not finished at the horizon shows its start: with planning
    too long to finish, exactly one case per investigator is being planned at the end."""
    cfg = sim.load_config(["run.replications=1", "run.horizon_days=150", "run.progress=false",
                           "stages.round_the_clock_grades=[]", "stages.planning.effort_hours.dist=fixed",
                           "stages.planning.effort_hours.value=5000"])
    cases = sim.simulate(cfg).cases
    planning = cases[cases["stage_at_end"] == "planning"]
    started = planning["planning_start_day"].notna()
    assert started.sum() == cfg.staffing.investigators
    assert (planning.loc[started, "planning_start_day"] >= planning.loc[started, "planning_queue_day"]).all()


def test_day_books_respect_capacity_unless_urgent():
    """Court slots and search-team days are never overbooked by routine work; urgent grades
    may go over (teams found, hearings outside the list), and the pools table shows it."""
    from sim.model.region import RegionModel

    cfg = sim.load_config(["run.horizon_days=400", "staffing.search_teams=1", "stages.execution.urgent_grades=[]",
                           "stages.warrant.same_day_grades=[]", "stages.round_the_clock_grades=[]"])
    model = RegionModel(cfg, 0)
    model.run()
    for book in model.policy.day_books():
        assert max(book.booked.values()) == book.per_day  # full days exist, none over
        assert all(model.cal.is_working_day(d) for d in book.booked)
    res = sim.simulate(cfg.replace(run=dataclasses.replace(cfg.run, replications=1)))
    pools = res.pools.set_index("pool")
    assert 0.5 < pools.loc["search_teams", "utilisation"] <= 1.0
    urgent = sim.simulate(sim.load_config(["run.replications=1", "run.horizon_days=400", "staffing.search_teams=1",
                                           "run.progress=false"]))
    assert urgent.pools.set_index("pool").loc["search_teams", "utilisation"] > pools.loc["search_teams", "utilisation"]
