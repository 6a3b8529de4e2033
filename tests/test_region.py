"""A region of forces in one simulation, and the collaboration policy between them."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import sim
from sim.core.calendar import Calendar
from sim.running.scenarios import compare, load_scenarios
from sim.config.schema import CalendarConfig, ForceConfig
from sim.core.distributions import Dist
from sim.domain import REGION, SURGE
from sim.errors import ConfigError
from sim.model.staff import DayBook, PooledDayBook
from sim.model.workforce import Step, pooled_schedule

# Short, with few caseload slots, so that queues for investigators form at once.
REGION_QUICK = ["forces=three_forces", "run.replications=2", "run.horizon_days=300", "run.progress=false",
                "staffing.caseload_limit=3"]
# Intrinsic attributes of a case: drawn at arrival, the same whatever the capacity or routing.
ATTRIBUTES = ["replication", "force", "case_id", "package_id", "backlog", "source", "true_risk", "child_in_household",
              "arrival_day"]


@pytest.fixture(scope="module")
def region():
    return sim.simulate(sim.load_config(REGION_QUICK))


def _run(*overrides: str) -> sim.Results:
    return sim.simulate(sim.load_config([*REGION_QUICK, *overrides]))


# ----------------------------------------------------------------------------- configuration


def test_forces_start_from_the_top_level_and_keep_their_own_keys():
    cfg = sim.load_config(["forces=three_forces", "stages.warrant.out_of_hours_grades=[VH,H]",
                           "staffing.availability=0.7"])
    small, medium, large = cfg.force_configs()
    assert cfg.force_names == ("small_force", "medium_force", "large_force") and cfg.total_name == REGION
    assert (small.staffing.investigators, medium.staffing.investigators, large.staffing.investigators) == (10, 20, 44)
    assert large.stages.warrant.slots_per_sitting_day == 7 and medium.stages.warrant.slots_per_sitting_day == 3
    # A top-level change reaches every force that does not set the key itself.
    assert all(f.stages.warrant.out_of_hours_grades == ("VH", "H") for f in (small, medium, large))
    assert all(f.staffing.availability == 0.7 for f in (small, medium, large))
    one = sim.load_config()
    assert one.force_configs() == (one,) and one.total_name == "medium_force"


@pytest.mark.parametrize("overrides,key,says", [
    (["collaboration.pooling.investigators=true"], "collaboration.pooling.investigators", "two forces or more"),
    (["collaboration.pooling.search_teams=true"], "collaboration.pooling.search_teams", "two forces or more"),
    (["collaboration.surge.queue_threshold=-1"], "collaboration.surge.queue_threshold", ">= 0"),
    (["collaboration.surge.investigators=-2"], "collaboration.surge.investigators", ">= 0"),
    (["collaboration.triage_hub.assessors=0"], "collaboration.triage_hub.assessors", ">= 1"),
    (["collaboration.surge.grades=[X]"], "collaboration.surge.grades", "unknown grade"),
    (["forces=three_forces", "collaboration.pooling.investigators=true", "staffing.caseload_limit=6",
      "++forces.0.staffing.caseload_limit=4"], None, None),
])
def test_invalid_combinations_fail_before_any_run(overrides, key, says):
    if key is None:  # list entries cannot be overridden one by one: build the mismatch directly
        cfg = sim.load_config(["forces=three_forces"])
        f0 = cfg.forces[0]
        forces = (dataclasses.replace(f0, staffing=dataclasses.replace(f0.staffing, caseload_limit=4)), *cfg.forces[1:])
        pooling = dataclasses.replace(cfg.collaboration.pooling, investigators=True)
        with pytest.raises(ConfigError, match="one caseload limit") as err:
            dataclasses.replace(cfg, forces=forces,
                                collaboration=dataclasses.replace(cfg.collaboration, pooling=pooling)).validate()
        assert err.value.key == "collaboration.pooling.investigators"
        return
    with pytest.raises(ConfigError, match=says) as err:
        sim.load_config(overrides)
    assert err.value.key == key


def test_force_names_must_be_distinct_and_not_labels():
    base = sim.SimConfig()
    for names, says in ((("a", "a"), "different"), (("a", REGION), "other than"), ((SURGE, "b"), "other than"),
                        (("a", " "), "non-empty")):
        with pytest.raises(ConfigError, match=says):
            dataclasses.replace(base, forces=tuple(ForceConfig(name=n) for n in names)).validate()
    with pytest.raises(ConfigError, match=r"forces\[1\]\.staffing\.investigators"):
        dataclasses.replace(base, forces=(ForceConfig(name="a"),
                                          ForceConfig(name="b", staffing=dataclasses.replace(
                                              base.staffing, investigators=0)))).validate()


def test_a_force_entry_with_an_unknown_section_is_refused():
    from sim.config.load import build_config, compose_mapping

    data = compose_mapping(["forces=three_forces"])
    data["forces"][0]["budget"] = 3
    with pytest.raises(ConfigError, match="unknown key") as err:
        build_config(data)
    assert err.value.key == "forces[0].budget"


def test_cli_refuses_pooling_a_region_of_one_before_running(tmp_path):
    done = subprocess.run([sys.executable, "-m", "sim", "scenario=regional_pooling", "forces=single",
                        f"hydra.run.dir={tmp_path / 'run'}"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2
    assert "collaboration.pooling.investigators" in done.stderr and "two forces or more" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "run" / "cases.parquet").exists()


def test_a_regional_scenario_is_paired_only_with_a_baseline_on_the_same_region():
    with pytest.raises(ConfigError, match="forces=three_forces"):
        load_scenarios(["regional_pooling"])
    base, (cfg,) = load_scenarios(["regional_pooling"], ["forces=three_forces"])
    assert base.force_names == cfg.force_names


# ----------------------------------------------------------------------------- tables


def test_every_table_has_each_force_and_region_totals(region):
    cfg = region.config
    assert set(region.cases["force"].cat.categories) == set(cfg.force_names)
    assert set(region.cases["force"]) == set(cfg.force_names)
    wip = region.timeseries[region.timeseries["series"] == "wip"]
    assert set(wip["force"]) == set(cfg.force_names)
    assert set(region.pools["force"]) == set(cfg.force_names)
    summary = region.summary()
    assert set(summary["force"]) == {REGION, *cfg.force_names}
    cases = summary[(summary["metric"] == "cases") & (summary["by"] == "all")].set_index("force")["estimate"]
    assert cases[REGION] == pytest.approx(sum(cases[f] for f in cfg.force_names))
    backlog = summary[(summary["metric"] == "backlog_at_end") & (summary["by"] == "all")].set_index("force")["estimate"]
    assert backlog[REGION] == pytest.approx(sum(backlog[f] for f in cfg.force_names))
    # Region utilisation pools every force's hours.
    pools = region.pools[region.pools["pool"] == "investigators"]
    region_rows = summary[(summary["metric"] == "utilisation_investigators") & (summary["force"] == REGION)]
    utilisation = region_rows["estimate"].iloc[0]
    per_rep = pools.groupby("replication")[["busy", "available"]].sum()
    assert utilisation == pytest.approx((per_rep["busy"] / per_rep["available"]).mean())


def test_case_ids_are_unique_and_each_force_keeps_its_cases_when_another_changes():
    """A force draws from streams named for it: listing a different neighbour leaves its
    cases exactly as they were."""
    a = sim.load_config(REGION_QUICK)
    b = dataclasses.replace(a, forces=(a.forces[0], a.forces[1],
                                       dataclasses.replace(a.forces[2], name="other_force"))).validate()
    ra, rb = sim.simulate(a), sim.simulate(b)
    for res in (ra, rb):
        assert not res.cases.duplicated(["replication", "case_id"]).any()
    keep = ["small_force", "medium_force"]
    ca = ra.cases[ra.cases["force"].isin(keep)].reset_index(drop=True)
    cb = rb.cases[rb.cases["force"].isin(keep)].reset_index(drop=True)
    pd.testing.assert_frame_equal(ca[ATTRIBUTES].astype({"force": str}), cb[ATTRIBUTES].astype({"force": str}))


def test_routing_scenarios_see_the_same_cases(region):
    """Pooling and a surge unit change only capacity and routing: every case arrives when it
    did, with the same intrinsic attributes and the same grade (CRN)."""
    for overrides in (["collaboration.pooling.investigators=true", "collaboration.pooling.search_teams=true"],
                      ["collaboration.surge.investigators=6", "collaboration.surge.queue_threshold=5"]):
        other = _run(*overrides)
        pd.testing.assert_frame_equal(region.cases[ATTRIBUTES], other.cases[ATTRIBUTES])
        assert region.cases["assigned_grade"].equals(other.cases["assigned_grade"])
        assert not region.cases["arrest_day"].equals(other.cases["arrest_day"])


def test_without_collaboration_every_case_stays_in_its_force(region):
    cases = region.cases
    held = cases["investigated_by"].notna()
    assert held.any()
    assert (cases.loc[held, "investigated_by"].astype(str) == cases.loc[held, "force"].astype(str)).all()
    assert (cases["handoff_days"] == 0).all()


# ----------------------------------------------------------------------------- the policy


def test_pooled_cases_go_to_another_force_only_after_a_handoff():
    res = _run("collaboration.pooling.investigators=true", "collaboration.pooling.handoff_days.value=3",
               "collaboration.pooling.handoff_days.dist=fixed")
    cases = res.cases
    held = cases["investigated_by"].notna()
    away = held & (cases["investigated_by"].astype(str) != cases["force"].astype(str))
    assert away.any() and (held & ~away).any()
    # One hand-off each (search teams are not pooled here), and none for a case kept at home.
    assert (cases.loc[away, "handoff_days"] == 3).all()
    assert (cases.loc[held & ~away, "handoff_days"] == 0).all()
    # The hand-off is spent between the slot and the planning queue.
    gap = cases.loc[away, "planning_queue_day"] - cases.loc[away, "allocation_start_day"]
    assert gap.notna().any() and np.allclose(gap.dropna(), 3.0)
    assert set(res.pools["force"]) >= {REGION}
    assert not ((res.pools["force"] != REGION) & (res.pools["pool"] == "investigators")).any()


def test_the_surge_unit_takes_only_eligible_overflow():
    loose = _run("collaboration.surge.investigators=6", "collaboration.surge.queue_threshold=5",
                 "collaboration.surge.grades=[M]")
    cases = loose.cases
    surge = cases["investigated_by"] == SURGE
    assert surge.any()
    # Routed at allocation by the grade it had then (a review may raise it later; none here).
    assert (cases.loc[surge, "assigned_grade"] == "M").all()
    assert (cases.loc[surge, "handoff_days"] > 0).all()
    never = _run("collaboration.surge.investigators=6", "collaboration.surge.queue_threshold=100000")
    assert not (never.cases["investigated_by"] == SURGE).any()
    # The more overflow it may take, the busier it is.
    tight = _run("collaboration.surge.investigators=6", "collaboration.surge.queue_threshold=60",
                 "collaboration.surge.grades=[M]")

    def use(res):
        pools = res.pools
        return pools[(pools["force"] == SURGE) & (pools["pool"] == "caseload")]["busy"].sum()

    assert use(loose) > use(tight) > 0


def test_the_triage_hub_grades_every_referral_trained():
    res = _run("collaboration.triage_hub.enabled=true")
    cases = res.cases
    graded = cases["assessment_end_day"].notna() & ~cases["backlog"]
    assert graded.any()
    assert cases.loc[graded, "trained_assessor"].all() and not cases["nonspecialist"].any()
    # Every package is sent to the hub, after a hand-off; one flagging immediate risk is
    # phoned through at once.
    urgent = cases["true_risk"] == "VH"
    assert (cases.loc[graded & ~urgent, "handoff_days"] > 0).all()
    assert (cases.loc[graded & urgent, "handoff_days"] == 0).all() and (graded & urgent).any()
    # The hub's staff are the forces' assessors moved to it.
    pools = res.pools[res.pools["pool"] == "assessment"]
    assert set(pools["force"]) == {REGION}
    assert (pools["capacity"] == sum(f.staffing.assessors for f in res.config.forces)).all()


def test_pooled_day_books_use_home_places_first():
    cal = Calendar(CalendarConfig())
    books = {"a": DayBook("search_teams", cal, 1, "a"), "b": DayBook("search_teams", cal, 1, "b")}
    pooled = PooledDayBook(books)
    assert not pooled.would_borrow(0, "a")
    pooled.book(0, "a")
    assert pooled.would_borrow(0, "a") and pooled.first_free(0) == 0
    pooled.book(0, "a")  # a's own place is taken: b's is used
    assert books["b"].booked[0] == 1 and pooled.first_free(0) == 1
    assert not pooled.would_borrow(0, "a")  # nobody has room: urgent work goes over its own force's capacity
    pooled.book(0, "a")
    assert books["a"].booked[0] == 2


def test_pooled_schedule_adds_headcounts_and_averages_pace_by_work():
    a = [Step(0.0, 10, 1.0), Step(50.0, 10, 2.0)]
    b = [Step(0.0, 30, 1.0), Step(20.0, 40, 1.0)]
    steps = pooled_schedule([a, b])
    assert [(s.day, s.headcount) for s in steps] == [(0.0, 40), (20.0, 50), (50.0, 50)]
    # 10 people at half speed and 40 at full do the work of 45: pace 50 / 45.
    assert steps[0].pace == 1.0 and steps[-1].pace == pytest.approx(50 / 45)


# ----------------------------------------------------------------------------- the levers


def test_pooling_three_forces_lowers_the_regions_p99_at_equal_staff():
    """Paired over replications (the same cases): pooling the three forces' investigators and
    search teams shortens the region's 99th percentile time to arrest, with the same total
    staff, despite the hand-off."""
    region = ["forces=three_forces", "run.replications=5", "run.horizon_days=730", "demand.growth_per_year=0",
              "run.progress=false"]
    base, others = load_scenarios(["regional_pooling"], region)
    assert sum(f.staffing.investigators for f in base.forces) == sum(f.staffing.investigators for f in others[0].forces)
    table = compare(base, others).table
    row = table[(table["force"] == REGION) & (table["metric"] == "time_to_arrest_p99_days")
                & (table["by"] == "all")].iloc[0]
    assert row["n_pairs"] == 5
    assert row["ci_high"] < 0, row.to_dict()


def test_triage_hub_shortens_the_wait_of_truly_high_risk_cases():
    """Trained, consistent grading: truly high-risk referrals that local grading would send
    to the back of the queue are graded right, so fewer of them wait long."""
    base = _run("run.horizon_days=730", "run.replications=3")
    hub = _run("run.horizon_days=730", "run.replications=3", "collaboration.triage_hub.enabled=true")

    def p90(res):
        summary = res.summary()
        return summary[(summary["force"] == REGION) & (summary["metric"] == "time_to_arrest_p90_days")
                       & (summary["by"] == "true_risk") & (summary["grade"] == "H")]["estimate"].iloc[0]

    assert hub.cases["misgraded"].sum() < base.cases["misgraded"].sum()
    assert p90(hub) < p90(base)


def test_handoff_delays_cost_time():
    """Longer hand-offs cost time: with pooling on, the region arrests fewer suspects within
    the run, and its median time to arrest rises."""
    fast = _run("collaboration.pooling.investigators=true", "collaboration.pooling.handoff_days.dist=fixed",
                "collaboration.pooling.handoff_days.value=0")
    slow = _run("collaboration.pooling.investigators=true", "collaboration.pooling.handoff_days.dist=fixed",
                "collaboration.pooling.handoff_days.value=20")
    assert slow.cases["handoff_days"].sum() > 0 == fast.cases["handoff_days"].sum()
    arrested = lambda r: r.cases["arrest_day"].notna().sum()  # noqa: E731
    assert arrested(slow) < arrested(fast)

    def median(res):
        summary = res.summary()
        return summary[(summary["force"] == REGION) & (summary["metric"] == "time_to_arrest_p50_days")
                       & (summary["by"] == "all")]["estimate"].iloc[0]

    assert median(slow) > median(fast)


def test_handoff_distribution_is_validated():
    with pytest.raises(ConfigError, match="collaboration.pooling.handoff_days"):
        sim.load_config(["forces=three_forces", "collaboration.pooling.handoff_days.dist=nope"])
    assert isinstance(sim.load_config().collaboration.pooling.handoff_days, Dist)


def test_the_staffing_search_refuses_a_region_before_running():
    from sim.running.search import search_investigators, search_mix

    cfg = sim.load_config(REGION_QUICK)
    with pytest.raises(ConfigError, match="sizes one force"):
        search_investigators(cfg)
    with pytest.raises(ConfigError, match="sizes one force"):
        search_mix(cfg, {"staffing.investigators": [10.0]}, {"staffing.investigators": 1.0})
