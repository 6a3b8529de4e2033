"""Workforce over time: recruitment (lead time, learning, attrition) and a training
programme (trained shares rising, staff away on courses)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import sim
from sim.running.scenarios import compare, load_scenarios
from sim.model.workforce import schedule, trained_share_at

QUICK = ["run.replications=3", "run.horizon_days=500", "run.progress=false"]


def test_recruitment_schedule():
    cfg = sim.load_config(["staffing.recruitment.investigators=6", "staffing.recruitment.start_day=30",
                           "staffing.recruitment.lead_time_days=100", "staffing.recruitment.learning_days=60",
                           "staffing.recruitment.learning_productivity=0.5", "staffing.recruitment.attrition_per_year=0.5"])
    steps = schedule(cfg, "investigators")
    assert steps[0].day == 0 and steps[0].headcount == 20 and steps[0].pace == 1.0
    arrive = next(s for s in steps if s.headcount > 20)
    assert arrive.day == 130 and arrive.headcount == 26
    assert arrive.pace == pytest.approx(26 / (20 + 6 * 0.5))  # six at half pace
    after = [s for s in steps if s.day >= 190]
    assert after[0].pace == 1.0  # learning over
    heads = [s.headcount for s in steps if s.day >= 130]
    assert heads == sorted(heads, reverse=True) and heads[-1] < 26  # leavers, never joiners
    # Expected staying after t days in post: 6 exp(-0.5 t / 365), rounded, stepped monthly.
    last = steps[-1]
    assert last.headcount - 20 == int(np.floor(6 * np.exp(-0.5 * (last.day - 130) / 365) + 0.5))
    assert schedule(cfg, "assessment") == schedule(sim.load_config(), "assessment")


def test_training_programme_schedule_and_shares():
    cfg = sim.load_config(["training.programme.start_day=50", "training.programme.duration_days=350",
                           "training.programme.assessors_trained_share=1.0", "training.programme.course_days=10"])
    share = trained_share_at(cfg, "assessors", np.array([0, 50, 225, 400, 900]))
    assert share == pytest.approx([0.5, 0.5, 0.75, 1.0, 1.0])
    steps = schedule(cfg, "assessment")
    away = 0.5 * 10 / (350 * 5 / 7)  # half the assessors trained, 10 days each, over 250 working days
    assert [(s.day, s.pace) for s in steps] == [(0, 1.0), (50, pytest.approx(1 / (1 - away))), (400, 1.0)]
    assert len(schedule(cfg, "research")) == 1  # researchers' share unchanged: no courses


def test_programme_that_would_empty_the_team_is_rejected():
    with pytest.raises(sim.ConfigError, match="courses"):
        sim.load_config(["training.programme.duration_days=5", "training.programme.assessors_trained_share=1.0",
                         "training.programme.course_days=10"])
    with pytest.raises(sim.ConfigError, match="raises the trained share"):
        sim.load_config(["training.programme.duration_days=100", "training.programme.assessors_trained_share=0.2"])


@pytest.fixture(scope="module")
def levers():
    base, others = load_scenarios(["training", "recruitment"], QUICK)
    return compare(base, others)


def test_training_shortens_waits_of_cases_untrained_staff_misgrade(levers):
    """Truly high-risk cases misgraded in the baseline are, on the same draws, often graded
    right by the trained assessors of the training scenario: their time to arrest falls."""
    key = ["replication", "case_id"]
    a = levers.baseline.referrals.set_index(key)
    b = levers.scenarios["training"].referrals.set_index(key)
    hit = a[a["misgraded"] & a["true_risk"].isin(["VH", "H"]) & ~a["nonspecialist"]].index
    hit = hit.intersection(b.index)
    assert len(hit) > 30
    assert (~b.loc[hit, "misgraded"]).mean() > 0.5
    diff = (b.loc[hit, "followup_days"] - a.loc[hit, "followup_days"]).groupby(level=0).mean()
    assert (diff < 0).all(), diff


def test_staff_on_courses_lengthen_waits_while_away():
    cfg = sim.load_config(["scenario=training", *QUICK])
    no_courses = dataclasses.replace(cfg, training=dataclasses.replace(
        cfg.training, programme=dataclasses.replace(cfg.training.programme, course_days=0.0))).validate()
    waits = []
    for c in (cfg, no_courses):
        cases = sim.simulate(c).cases
        during = cases[(cases["research_queue_day"] >= 0) & (cases["research_queue_day"] < 365)]
        waits.append((during["research_start_day"] - during["research_queue_day"]).mean())
    assert waits[0] > waits[1] * 1.05


def test_staff_who_leave_stop_working():
    """With heavy attrition the investigators busy on cases follow the headcount down: never
    more than were in post at some time in the last three weeks (a task under way is
    finished first), and the team, short-handed, is fully busy."""
    cfg = sim.load_config(["staffing.recruitment.investigators=10", "staffing.recruitment.lead_time_days=30",
                           "staffing.recruitment.learning_days=30", "staffing.recruitment.attrition_per_year=2.0",
                           *QUICK])
    steps = schedule(cfg, "investigators")
    assert steps[-1].headcount < steps[1].headcount
    ts = sim.simulate(cfg).timeseries
    busy = ts[(ts["series"] == "busy") & (ts["name"] == "investigators")].groupby("day")["value"].max()
    days = busy.index.to_numpy()
    def most_in_post(lo, hi):  # the largest headcount in force at any time in [lo, hi]
        return max(s.headcount for k, s in enumerate(steps)
                   if s.day <= hi and (k + 1 == len(steps) or steps[k + 1].day > lo))

    in_post = np.array([most_in_post(d - 21, d) for d in days])
    assert (busy.to_numpy() <= in_post).all()
    assert busy.loc[400:].max() == steps[-1].headcount


def test_recruits_add_capacity_after_the_lead_time(levers):
    base, rec = levers.baseline, levers.scenarios["recruitment"]
    pb = base.pools.set_index(["replication", "pool"])["available"]
    pr = rec.pools.set_index(["replication", "pool"])["available"]
    assert (pr.xs("investigators", level="pool") > pb.xs("investigators", level="pool")).all()
    ts = rec.timeseries
    busy = ts[(ts["series"] == "busy") & (ts["name"] == "investigators")].groupby("day")["value"].mean()
    assert busy.loc[:119].max() <= 20 < busy.loc[121:].max() <= 26
    r = levers.table.set_index(["scenario", "metric", "by", "grade"])
    assert r.loc[("recruitment", "time_to_arrest_p50_days", "true_risk", "L"), "ci_high"] < 0
