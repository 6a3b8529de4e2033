"""Initial-backlog cases already allocated before day 0 (at planning, the warrant, execution
or the post-arrest work): they skip the stages behind them, hold a caseload slot from day 0
ahead of every queueing case, and the work in progress still adds up; the CSV takes the new
stages and wants their grade."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sim
from sim.config.backlog import read_backlog_csv
from sim.config.schema import BacklogCase, BacklogConfig
from sim.domain import GRADED_BACKLOG_STAGES, STAGES, TIMED_STAGES, TIMESTAMP_COLUMNS
from sim.errors import ConfigError

LATE_STAGES = ("planning", "warrant", "execution")
ALLOCATED_STAGES = (*LATE_STAGES, "post_arrest")
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


@pytest.mark.parametrize("stage", ALLOCATED_STAGES)
def test_the_csv_takes_a_late_stage_with_its_grade(tmp_path, stage):
    path = tmp_path / "b.csv"
    path.write_text(f"age_days,stage,assigned_grade\n40,{stage},M\n")
    assert read_backlog_csv(path) == (BacklogCase(40.0, stage, "M"),)
    path.write_text(f"age_days,stage,assigned_grade\n40,allocation,M\n40,{stage},\n")
    with pytest.raises(ConfigError) as err:
        read_backlog_csv(path)
    assert str(err.value) == f"b.csv row 3 column assigned_grade=None: required for a case at {stage} (it has been graded)"


def test_a_late_stage_needs_its_grade_in_python_too():
    assert set(ALLOCATED_STAGES) < set(GRADED_BACKLOG_STAGES) and set(ALLOCATED_STAGES) < set(STAGES)
    for stage in ("execution", "post_arrest"):
        with pytest.raises(ConfigError, match=rf"^x\.cases\[1\]\.assigned_grade=None: required for a case at {stage}"):
            BacklogConfig(cases=(BacklogCase(10.0, "planning", "L"), BacklogCase(10.0, stage))).validate("x")
    BacklogConfig(stage="post_arrest").validate("x")
    with pytest.raises(ConfigError, match=r"^x\.stage='intake': one of research, assessment, allocation, "
                                          r"planning, warrant, execution, post_arrest$"):
        BacklogConfig(stage="intake").validate("x")


# ------------------------------------------------------------------ post-arrest work at day 0

# Work round the clock at full availability: a case's post-arrest work alone on an
# investigator takes exactly its hours / 24 days.
BARE_CLOCK = ["calendar.enabled=false", "staffing.availability=1", "demand.referrals_per_month=0",
              "demand.growth_per_year=0"]


def _post_arrest_hours(hours: float) -> str:
    return f"stages.post_arrest.effort_hours={{dist:fixed,value:{hours}}}"


def test_a_post_arrest_case_holds_its_slot_for_its_work_and_is_an_enforcement(tmp_path):
    """Alone with one investigator, the case holds a slot from day 0 for exactly its 12 hours
    of work, then leaves; its outcome is an enforcement made before day 0 (no arrest day), and
    it never entered a stage before its own. A round-the-clock grade is held on call."""
    res = _run(tmp_path, ["40,post_arrest,M", "30,post_arrest,VH"], *BARE_CLOCK, "staffing.investigators=1",
               _post_arrest_hours(12), horizon_days=30)
    cases = res.cases
    assert len(cases) == 2 * res.config.run.replications
    assert (cases["outcome"] == "arrest").all() and cases["arrest_day"].isna().all()
    assert cases[list(TIMESTAMP_COLUMNS)].isna().all().all()
    assert (cases["warrant_applications"] == 0).all() and cases["stage_at_end"].isna().all()
    m, vh = cases[cases["assigned_grade"] == "M"], cases[cases["assigned_grade"] == "VH"]
    assert (m["slot_start_day"] == 0).all()
    assert (m["exit_day"] == 0.5).all() and (m["slot_release_day"] == m["exit_day"]).all()
    assert vh["slot_start_day"].isna().all() and vh["slot_release_day"].isna().all()
    assert ((vh["exit_day"] > 0) & (vh["exit_day"] < 0.5)).all()  # on call, worked straight through
    assert (cases["investigated_by"].astype(str) == res.config.force).all()


def test_post_arrest_cases_delay_the_allocation_queue(tmp_path):
    """One investigator with two slots: the two post-arrest cases (low grade, 72 hours' work
    each, done one after the other) hold both slots from day 0, so the higher-graded, older
    cases waiting for allocation get the first slot only when the first post-arrest case
    leaves, where without them they take both at day 0."""
    queue = [f"{500 + k},allocation,H" for k in range(3)]
    setting = (*BARE_CLOCK, "staffing.investigators=1", "staffing.caseload_limit=2", _post_arrest_hours(72))
    without = _run(tmp_path, queue, *setting, horizon_days=60).cases
    held = _run(tmp_path, [*queue, "20,post_arrest,L", "10,post_arrest,L"], *setting, horizon_days=60).cases
    assert (without.groupby("replication")["allocation_start_day"].apply(lambda s: (s == 0).sum()) == 2).all()
    for _, rep in held.groupby("replication"):
        post, waiting = rep[rep["arrival_day"] > -100], rep[rep["arrival_day"] <= -500]
        assert (post["slot_start_day"] == 0).all()
        assert sorted(post["exit_day"]) == [3.0, 6.0]  # one investigator: one after the other
        assert waiting["allocation_start_day"].min() == 3.0  # the first slot given back
        assert (waiting["allocation_queue_day"] == 0).all()
    assert held["allocation_start_day"].mean() > without["allocation_start_day"].mean()


def test_work_in_progress_is_conserved_with_post_arrest_cases(tmp_path):
    """More post-arrest cases than slots, beside referrals: every daily sample counts at the
    post-arrest work exactly the cases between their enforcement (day 0 for the backlog's)
    and their exit; those unfinished at the horizon end there, waiting for a slot or not."""
    rows = [f"{30 + k},post_arrest,{'HML'[k % 3]}" for k in range(40)] + [f"{400 + k},allocation,M" for k in range(10)]
    res = _run(tmp_path, rows, "staffing.investigators=2", "staffing.caseload_limit=10", horizon_days=40)
    cases, ts = res.cases, res.timeseries
    backlog_post = cases["backlog"] & cases["allocation_queue_day"].isna()
    assert backlog_post.sum() == 40 * res.config.run.replications
    entered = np.where(backlog_post, 0.0, cases["arrest_day"])
    exit_day = cases["exit_day"].fillna(np.inf).to_numpy()
    wip = ts[(ts["series"] == "wip") & (ts["name"] == "post_arrest")]
    sampled = wip.groupby(["replication", "day"])["value"].sum()
    for (replication, day), value in sampled.items():
        mine = (cases["replication"] == replication).to_numpy()
        assert value == ((entered <= day) & (exit_day > day) & mine).sum(), (replication, day)
    assert (sampled.xs(0.0, level="day") == 40).all()
    unfinished = cases[backlog_post & cases["exit_day"].isna()]
    assert unfinished["slot_start_day"].isna().any()  # 40 cases for 20 slots: some still wait
    assert (unfinished["stage_at_end"] == "post_arrest").all() and len(unfinished) > 0
    assert (cases.loc[backlog_post & cases["exit_day"].notna(), "stage_at_end"].isna()).all()


def test_counts_may_start_at_the_post_arrest_work(tmp_path):
    cfg = sim.load_config(["run.replications=1", "run.progress=false", "run.horizon_days=60",
                           "demand.initial_backlog.stage=post_arrest"])
    backlog = sim.simulate(cfg).cases.query("backlog")
    assert len(backlog) == cfg.demand.initial_backlog.size
    assert (backlog["outcome"] == "arrest").all() and backlog["allocation_queue_day"].isna().all()
    assert (backlog["slot_start_day"] == 0).all()  # the default counts fit the default caseload
