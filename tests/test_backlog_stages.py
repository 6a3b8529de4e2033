"""Initial-backlog cases already allocated before day 0 (at planning, the warrant or
execution): they skip the stages behind them, hold a caseload slot from day 0 ahead of every
queueing case, and the work in progress still adds up; the CSV takes the new stages and
wants their grade."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sim
from sim.config.backlog import read_backlog_csv
from sim.config.schema import BacklogCase, BacklogConfig
from sim.domain import GRADED_BACKLOG_STAGES, STAGES, TIMED_STAGES
from sim.errors import ConfigError

LATE_STAGES = ("planning", "warrant", "execution")
# No refusals, so every case the run finishes reaches enforcement.
NO_REFUSALS = ["stages.warrant.refusal_probability=0", "stages.warrant.refusal_probability_per_year_of_age=0"]


def _run(tmp_path: Path, rows: list[str], *overrides: str, horizon_days: float = 120) -> "sim.Results":
    path = tmp_path / "backlog.csv"
    path.write_text("age_days,stage,assigned_grade\n" + "\n".join(rows) + "\n")
    return sim.simulate(sim.load_config(["run.replications=2", "run.progress=false", f"run.horizon_days={horizon_days}",
                                         f"demand.initial_backlog.csv={path}", *NO_REFUSALS, *overrides]))


@pytest.fixture(scope="module")
def late(tmp_path_factory):
    """Ten cases at each late stage (grades H, M, L; H is no round-the-clock grade) beside
    referrals and a queue at allocation."""
    rows = [f"{200 + 10 * k},{stage},{'HML'[k % 3]}" for stage in LATE_STAGES for k in range(10)]
    rows += [f"{300 + k},allocation,M" for k in range(20)]
    return _run(tmp_path_factory.mktemp("late"), rows, "staffing.search_teams=4")


@pytest.mark.parametrize("stage", LATE_STAGES)
def test_a_late_backlog_case_skips_the_stages_behind_it(late, stage):
    cases = late.cases
    at = cases[cases["backlog"] & (cases["arrival_day"] <= -200) & (cases["arrival_day"] > -300)]
    at = at[at[f"{stage}_queue_day"] == 0]
    assert len(at) == 10 * late.config.run.replications
    first = TIMED_STAGES.index(stage)
    for earlier in TIMED_STAGES[:first]:
        for moment in ("queue", "start", "end"):
            assert at[f"{earlier}_{moment}_day"].isna().all(), (earlier, moment)
    for later in TIMED_STAGES[first + 1: TIMED_STAGES.index("execution") + 1]:
        assert at[f"{later}_queue_day"].notna().all(), later
    assert at["execution_start_day"].notna().all()  # every one reached enforcement
    assert at["outcome"].isin(["arrest", "voluntary_interview", "no_trace"]).all()
    assert (at["slot_start_day"] == 0).all()  # its caseload slot held from day 0
    assert (at["warrant_applications"] == (0 if stage == "execution" else 1)).all()
    if stage == "warrant":  # its application was made before day 0: lodged at once
        assert (at["warrant_start_day"] == 0).all()
    if stage == "execution":  # booked from day 0: the execution lag and the search diary alone
        assert (at["execution_start_day"] < 15).all()


def test_late_cases_take_slots_ahead_of_the_queue(tmp_path):
    """One investigator, two slots: the allocation queue's older, higher-graded cases wait
    while the two late cases hold the slots from day 0; a third late case over-fills the
    caseload and queues first of all, before every allocation case."""
    rows = [f"{500 + k},allocation,H" for k in range(4)] + ["100,planning,L", "90,warrant,L", "80,execution,L"]
    res = _run(tmp_path, rows, "staffing.investigators=1", "staffing.caseload_limit=2",
               "demand.referrals_per_month=0", "demand.growth_per_year=0", horizon_days=365)
    for _, rep in res.cases.groupby("replication"):
        late = rep[rep["arrival_day"] > -200].sort_values("arrival_day")
        queue = rep[rep["arrival_day"] <= -500]
        assert (late["slot_start_day"].iloc[:2] == 0).all()  # the two oldest late cases
        third = late["slot_start_day"].iloc[2]
        assert third > 0 and np.isfinite(third)
        assert (queue["slot_start_day"].fillna(np.inf) >= third).all()
        assert late["execution_queue_day"].notna().all()


def test_round_the_clock_grades_are_held_on_call(tmp_path):
    res = _run(tmp_path, ["30,planning,VH", "20,execution,VH"], "demand.referrals_per_month=1")
    vh = res.cases[res.cases["backlog"]]
    assert vh["slot_start_day"].isna().all() and vh["execution_start_day"].notna().all()
    assert (vh["investigated_by"].astype(str) == res.config.force).all()


def test_work_in_progress_is_conserved_with_late_cases(tmp_path):
    """Short of the horizon some late cases are still open: each open case is in exactly one
    stage, each stage's entrants have left it or are still there, and the monitor's day-0
    work in progress counts each late case in its stage."""
    rows = [f"{50 + k},{stage},{'HML'[k % 3]}" for stage in LATE_STAGES for k in range(40)]
    res = _run(tmp_path, rows, "staffing.investigators=3", horizon_days=30)
    cases = res.cases
    in_stage = sum((cases[f"{s}_queue_day"].notna() & cases[f"{s}_end_day"].isna()).astype(int) for s in TIMED_STAGES)
    gone, enforced = cases["exit_day"].notna(), cases["arrest_day"].notna()
    assert (in_stage[gone | enforced] == 0).all() and (in_stage[~gone & ~enforced] == 1).all()
    for stage in TIMED_STAGES:
        entered, left = cases[f"{stage}_queue_day"].notna().sum(), cases[f"{stage}_end_day"].notna().sum()
        assert entered == left + (cases["stage_at_end"] == stage).sum(), stage
    assert set(cases.loc[cases["backlog"], "stage_at_end"].dropna()) >= {"planning", "warrant"}
    wip = res.timeseries[(res.timeseries["series"] == "wip") & (res.timeseries["day"] == 0)]
    at_day_0 = wip.groupby("name", observed=True)["value"].sum() / res.config.run.replications
    for stage in LATE_STAGES:
        assert at_day_0[stage] == 40, stage
    # 120 late cases for 3 x 8 slots: every slot is held from day 0 to the horizon.
    caseload = res.pools[res.pools["pool"] == "caseload"]
    assert (caseload["utilisation"] > 0.999).all()


def test_counts_may_start_late(tmp_path):
    cfg = sim.load_config(["run.replications=1", "run.progress=false", "run.horizon_days=60",
                           "demand.initial_backlog.stage=warrant", *NO_REFUSALS])
    backlog = sim.simulate(cfg).cases.query("backlog")
    assert len(backlog) == cfg.demand.initial_backlog.size
    assert (backlog["warrant_queue_day"] == 0).all() and backlog["allocation_queue_day"].isna().all()
    assert backlog["assigned_grade"].notna().all()


@pytest.mark.parametrize("stage", LATE_STAGES)
def test_the_csv_takes_a_late_stage_with_its_grade(tmp_path, stage):
    path = tmp_path / "b.csv"
    path.write_text(f"age_days,stage,assigned_grade\n40,{stage},M\n")
    assert read_backlog_csv(path) == (BacklogCase(40.0, stage, "M"),)
    path.write_text(f"age_days,stage,assigned_grade\n40,allocation,M\n40,{stage},\n")
    with pytest.raises(ConfigError) as err:
        read_backlog_csv(path)
    assert str(err.value) == f"b.csv row 3 column assigned_grade=None: required for a case at {stage} (it has been graded)"


def test_a_late_stage_needs_its_grade_in_python_too():
    assert set(LATE_STAGES) < set(GRADED_BACKLOG_STAGES) and set(LATE_STAGES) < set(STAGES)
    with pytest.raises(ConfigError, match=r"^x\.cases\[1\]\.assigned_grade=None: required for a case at execution"):
        BacklogConfig(cases=(BacklogCase(10.0, "planning", "L"), BacklogCase(10.0, "execution"))).validate("x")
    with pytest.raises(ConfigError, match=r"^x\.stage='post_arrest': one of research, assessment, allocation, "
                                          r"planning, warrant, execution$"):
        BacklogConfig(stage="post_arrest").validate("x")
