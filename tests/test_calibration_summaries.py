"""The statistics a calibration matches: each step's wait censored, not dropped; cases whose
step ended on an unknown day left out; the same numbers from a run and from its case log."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import sim
from sim.calibration.milestones import MILESTONES, Milestones, milestones_from_run
from sim.calibration.summaries import STEPS, step_durations, summarise_milestones
from sim.model import run_replication

NAN = math.nan


def hand_made(rows: list[dict], end_day: float = 100.0) -> Milestones:
    """Milestones from rows naming some milestone days, a grade and how the case ended."""
    days = {name: np.array([row.get(name, NAN) for row in rows], dtype=float) for name in MILESTONES}
    return Milestones(days, np.array([row.get("grade", 2) for row in rows], dtype=np.int8),
                      granted=np.array([row.get("granted", False) for row in rows]),
                      enforced=np.array([row.get("arrest", False) for row in rows]),
                      closed=np.array([row.get("closed_case", False) for row in rows]), end_day=end_day)


def step(name: str):
    return next(s for s in STEPS if s.name == name)


def test_a_wait_ends_at_its_milestone_or_is_censored_where_the_case_went():
    m = hand_made([
        {"referral": 0, "graded": 2, "allocated": 10},                            # ended: 8 days
        {"referral": 0, "graded": 3, "applied": 20},                               # allocated on an unknown day: left out
        {"referral": 0, "graded": 5},                                              # still waiting: censored at 100
        {"referral": 0, "graded": 4, "closed": 30, "closed_case": True},           # closed: censored at 30
        {"referral": 0, "graded": 6, "closed_case": True},                         # closed, no date: at its last, 6
        {"referral": 0},                                                           # never graded: not in the cohort
    ])
    durations, ended = step_durations(m, step("graded_to_allocated"), np.ones(m.n, bool))
    assert durations.tolist() == [8.0, 95.0, 26.0, 0.0]
    assert ended.tolist() == [True, False, False, False]


def test_only_an_arrest_or_interview_ends_the_wait_for_enforcement():
    m = hand_made([
        {"referral": 0, "enforced": 40, "arrest": True},
        {"referral": 10, "enforced": 50},                      # executed, suspect not found: censored there
        {"referral": 20},                                      # open
    ])
    durations, ended = step_durations(m, step("referral_to_enforced"), np.ones(m.n, bool))
    assert durations.tolist() == [40.0, 40.0, 80.0]
    assert ended.tolist() == [True, False, False]


def test_statistics_need_enough_cases_and_count_quarters_and_open_cases():
    rows = [{"referral": float(k), "graded": k + 1.0, "allocated": k + 3.0, "grade": 3} for k in range(25)]
    rows += [{"referral": 1.0, "graded": 2.0, "grade": 3}] * 3
    rows += [{"referral": 5.0, "graded": 6.0, "allocated": 7.0, "enforced": 95.0, "grade": 1, "arrest": True}]
    m = hand_made(rows, end_day=200.0)
    stats = summarise_milestones(m, 200.0)
    # 25 allocated after 2 days, 3 still waiting past tau: each counts tau
    assert stats["graded_to_allocated_L_mean_days_to_100"] == pytest.approx((25 * 2 + 3 * 100) / 28)
    assert math.isnan(stats["graded_to_allocated_H_mean_days_to_100"])      # one case only
    assert stats["enforced_in_half_year_1"] == 1 and "enforced_in_half_year_2" not in stats
    assert stats["open_waiting_for_investigator_L"] == 3
    assert stats["open_with_investigator"] == 25


def test_a_runs_milestones_follow_its_cases_stages():
    cfg = sim.load_config(["run.horizon_days=200", "run.progress=false"])
    out = run_replication(cfg, 0)
    m = milestones_from_run(out.cases, 200.0)
    days = m.days
    for earlier, later in zip(MILESTONES[:-2], MILESTONES[1:-1]):
        both = ~np.isnan(days[earlier]) & ~np.isnan(days[later])
        assert np.all(days[earlier][both] <= days[later][both]), (earlier, later)
    assert not np.any(m.enforced & m.closed)
    assert np.all(~np.isnan(days["enforced"][m.enforced]))
    assert np.all(m.grade[~np.isnan(days["allocated"]) & (days["referral"] >= 0)] >= 0)


def test_a_run_and_its_case_log_give_the_same_statistics():
    # The log's dates are the run's days cut to whole days: read back, every statistic the
    # fit compares is the run's own (the fit cannot differ from the log through measurement).
    from sim.calibration.milestones import milestones_from_log
    from sim.calibration.simulated_log import case_log_from_run
    from sim.io.caselog import case_log_from_frame

    cfg = sim.load_config(["run.horizon_days=400", "run.progress=false", "demand.bulk_package_probability=0",
                           "demand.initial_backlog.counts={VH:0,H:0,M:0,L:0}", "run.warmup_days=0"])
    out = run_replication(cfg, 3)
    frame = case_log_from_run(out, 400.0, "2023-01-01")
    log = case_log_from_frame(frame, as_of="2024-02-04")  # day 399: the last day observed
    from_log = summarise_milestones(milestones_from_log(log.cases, pd.Timestamp("2023-01-01"), log.as_of), 400.0)
    from_run = summarise_milestones(milestones_from_run(out.cases, 400.0), 400.0)
    assert from_log.keys() == from_run.keys()
    for name in from_run:
        assert from_log[name] == pytest.approx(from_run[name], nan_ok=True), name
    assert sum(math.isfinite(v) for v in from_run.values()) > 15
