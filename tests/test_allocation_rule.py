"""The allocation rule (``stages.allocation_rule``): the queue for an investigator served
strictly by grade, or by due date below high risk, checked allocation by allocation from the
case records."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import simpy

import sim
from sim.errors import ConfigError
from sim.model.staff import OrderedRequest, PriorityResource

QUICK = ["run.replications=2", "run.progress=false"]  # four years: the caseload fills in the second
REVIEWED = ["stages.review.analyst_cases_per_review=10", "stages.review.detection_probability=1.0"]
TARGETS_DAYS = np.array([1.0, 7.0, 14.0, 30.0])  # the baseline's, VH to L
M = 2
EPS_DAYS = 1e-9


@pytest.fixture(scope="module")
def runs() -> dict[str, sim.Results]:
    settings = {"grade": ["stages.allocation_rule=grade"], "due_date": ["stages.allocation_rule=due_date"],
                "due_date_reviewed": ["stages.allocation_rule=due_date", *REVIEWED]}
    return {name: sim.simulate(sim.load_config(QUICK + extra)) for name, extra in settings.items()}


def queue_jumps(cases: pd.DataFrame, rule: str, stage: str = "allocation") -> tuple[int, int]:
    """(starts checked, those that served a case while one that ``rule`` puts first was
    still waiting) in the queue for a caseload slot (``allocation``) or for an investigator's
    hands-on time on the plan (``planning``). A case's place is its grade (escalated, from the
    day a review raised it) and the day it asked; under ``due_date`` medium and low risk share
    one place, ordered by referral day plus the grade's target."""
    checked = jumps = 0
    for _, c in cases[cases[f"{stage}_queue_day"].notna()].groupby("replication"):
        queued, started = c[f"{stage}_queue_day"].to_numpy(), c[f"{stage}_start_day"].to_numpy()
        # a slot is the allocation queue's service; cases worked on call start without one
        slot = c["slot_start_day"].to_numpy() if stage == "allocation" else started
        escalated, arrival = c["escalated_day"].to_numpy(), c["arrival_day"].to_numpy()
        assigned, final = c["assigned_grade"].cat.codes.to_numpy(), c["final_grade"].cat.codes.to_numpy()
        for k in np.flatnonzero(np.isfinite(slot)):
            t = slot[k]
            waiting = (queued < t - EPS_DAYS) & ~(started <= t + EPS_DAYS)
            if not waiting.any():
                continue
            grade = np.where(escalated <= t, final, assigned)
            day = queued
            if rule == "due_date":
                later = grade >= M
                day = np.where(later, arrival + TARGETS_DAYS[grade], queued)
                grade = np.where(later, M, grade)
            place = grade * 1e6 + day
            checked += 1
            jumps += bool((place[waiting] < place[k] - EPS_DAYS).any())
    return checked, jumps


@pytest.mark.parametrize("name, rule", [("grade", "grade"), ("due_date", "due_date"),
                                        ("due_date_reviewed", "due_date")])
def test_every_slot_goes_to_the_case_the_rule_puts_first(runs, name, rule):
    checked, jumps = queue_jumps(runs[name].cases, rule)
    assert checked > 500, name
    assert jumps == 0, f"{name}: {jumps} of {checked} allocations jumped the queue"


@pytest.mark.parametrize("name", ["grade", "due_date", "due_date_reviewed"])
def test_hands_on_work_on_held_cases_stays_by_grade(runs, name):
    """The rule chooses which cases an investigator takes on; the plans of the cases held
    are worked by grade under either rule."""
    checked, jumps = queue_jumps(runs[name].cases, "grade", "planning")
    assert checked > 500, name
    assert jumps == 0, f"{name}: {jumps} of {checked} planning starts jumped the queue"


@pytest.mark.parametrize("name, other, stage", [("grade", "due_date", "allocation"), ("due_date", "grade", "allocation"),
                                                ("grade", "due_date", "planning")])
def test_the_checks_above_can_fail(runs, name, other, stage):
    """Each rule's run breaks the other rule's order often."""
    checked, jumps = queue_jumps(runs[name].cases, other, stage)
    assert jumps > 0.05 * checked, (name, jumps, checked)


def _slot_wait_p90_days(res: sim.Results, grade: str) -> float:
    c = res.cases[res.cases["assigned_grade"].eq(grade) & res.cases["slot_start_day"].notna()]
    return float((c["slot_start_day"] - c["allocation_queue_day"]).quantile(0.9))


def test_due_dates_shift_the_wait_from_low_to_medium_risk(runs):
    """Once the caseload fills, working to due dates lets low-risk cases (30-day target)
    overtake medium-risk ones referred up to 16 days later: low risk's long waits shorten,
    medium risk's lengthen, and high risk keeps its place at the front."""
    grade, due = runs["grade"], runs["due_date"]
    assert _slot_wait_p90_days(due, "L") < 0.8 * _slot_wait_p90_days(grade, "L")
    assert _slot_wait_p90_days(due, "M") > 5 * _slot_wait_p90_days(grade, "M")
    assert _slot_wait_p90_days(due, "H") == pytest.approx(_slot_wait_p90_days(grade, "H"), rel=0.5, abs=1.0)


def test_ordered_requests_are_served_by_priority_then_order_day():
    env = simpy.Environment()
    res = PriorityResource(env, capacity=1)
    holder = res.request(priority=0)
    asked = [(2, 40.0, "L due 40"), (1, 0.0, "H"), (2, 15.0, "M due 15"), (2, 40.0, "L due 40, later")]
    requests = {label: OrderedRequest(res, priority, day) for priority, day, label in asked}
    served = []

    def take(label):
        yield requests[label]
        served.append(label)
        res.release(requests[label])

    for label in requests:
        env.process(take(label))
    env.run(until=1)
    res.release(holder)
    env.run()
    assert served == ["H", "M due 15", "L due 40", "L due 40, later"]


def test_moved_requests_take_their_new_place():
    env = simpy.Environment()
    res = PriorityResource(env, capacity=1)
    holder = res.request(priority=0)
    early, late = OrderedRequest(res, 2, 10.0), OrderedRequest(res, 2, 20.0)
    res.put_queue.remove(late)
    late.reorder(1, 20.0)  # a review raised it to high risk
    res.put_queue.append(late)
    env.run(until=1)
    res.release(holder)
    env.run()
    assert late.triggered and not early.triggered


def test_a_rule_outside_the_two_is_refused_in_one_line():
    with pytest.raises(ConfigError, match=r"stages\.allocation_rule.*one of grade, due_date"):
        sim.load_config(["stages.allocation_rule=fifo"])


def test_forces_sharing_investigators_must_share_a_rule():
    mixed = ["forces=three_forces", "collaboration.pooling.investigators=true"]
    cfg = sim.load_config(mixed)
    first = cfg.forces[0]

    changed = dataclasses.replace(first, stages=dataclasses.replace(first.stages, allocation_rule="due_date"))
    with pytest.raises(ConfigError, match="one rule for every force"):
        dataclasses.replace(cfg, forces=(changed, *cfg.forces[1:])).validate()
    # without a shared queue each force may keep its own
    dataclasses.replace(cfg, forces=(changed, *cfg.forces[1:]),
                        collaboration=dataclasses.replace(cfg.collaboration, pooling=dataclasses.replace(
                            cfg.collaboration.pooling, investigators=False))).validate()
