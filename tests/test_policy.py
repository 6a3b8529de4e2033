"""The collaboration policy as a plug-in: the protocol the force asks, today's policies as
implementations of it, and policies defined here, outside the package, run in a real region."""

from __future__ import annotations

import inspect
import math
import re
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.domain import REGION, SURGE, Grade
from sim.model import policy as policies
from sim.model.policy import (CollaborationPolicy, OwnUnits, PolicyLayer, PooledInvestigators, PooledSearchTeams,
                              SurgeUnit, TriageHub, build_policy)
from sim.model.region import RegionModel
from sim.model.replication import run_replication

MODEL = Path(policies.__file__).parent
# Short, with few caseload slots, so that queues for investigators form at once.
REGION_QUICK = ["forces=three_forces", "run.horizon_days=200", "run.progress=false", "staffing.caseload_limit=3"]
EVERYTHING = ["collaboration.triage_hub.enabled=true", "collaboration.pooling.investigators=true",
              "collaboration.pooling.search_teams=true", "collaboration.surge.investigators=4"]
BUILT_IN = (OwnUnits, PolicyLayer, TriageHub, PooledInvestigators, PooledSearchTeams, SurgeUnit)
PROTOCOL_METHODS = {name for name, member in vars(CollaborationPolicy).items()
                    if callable(member) and not name.startswith("_")}
L = int(Grade.L)


def _config(*overrides: str) -> sim.SimConfig:
    return sim.load_config([*REGION_QUICK, *overrides])


def _layers(policy) -> list[type]:
    """The classes of a stack of layers, outermost first."""
    found = [type(policy)]
    while isinstance(policy, PolicyLayer):
        policy = policy.inner
        found.append(type(policy))
    return found


def _same_output(a, b) -> None:
    assert a.cases.keys() == b.cases.keys()
    for name in a.cases:
        np.testing.assert_array_equal(a.cases[name], b.cases[name], err_msg=name)  # NaNs compare equal here
    np.testing.assert_array_equal(a.snapshots, b.snapshots)
    assert a.series_labels == b.series_labels and a.pools == b.pools


# ----------------------------------------------------------------------------- the protocol


def test_the_protocol_is_exactly_what_the_force_and_region_ask():
    """Every decision the force takes from its policy, and every report the region takes,
    is a method of the protocol, and the protocol has no method nobody asks."""
    asked = set(re.findall(r"self\.policy\.(\w+)\(", (MODEL / "force.py").read_text()))
    asked |= set(re.findall(r"self\.policy\.(\w+)\(", (MODEL / "region.py").read_text()))
    assert asked == PROTOCOL_METHODS


def test_a_layer_passes_on_every_decision_it_leaves_alone():
    """The decisions a layer binds straight to the policy beneath it are all the per-case
    ones of the protocol (the reports, asked once, are passed on by call)."""
    assert set(policies._DECISIONS) == PROTOCOL_METHODS - {"staffed_units", "day_books"}
    inner = OwnUnits([])
    layer = PolicyLayer(inner)
    assert all(getattr(layer, name) == getattr(inner, name) for name in policies._DECISIONS)


@pytest.mark.parametrize("policy_class", BUILT_IN, ids=lambda c: c.__name__)
def test_each_built_in_policy_implements_every_method_of_the_protocol(policy_class):
    for name in PROTOCOL_METHODS:
        method = getattr(policy_class, name, None)
        assert callable(method), f"{policy_class.__name__} lacks {name}"
        wanted = list(inspect.signature(getattr(CollaborationPolicy, name)).parameters)
        assert list(inspect.signature(method).parameters) == wanted, f"{policy_class.__name__}.{name}"


def test_every_policy_a_region_builds_is_an_instance_of_the_protocol():
    model = RegionModel(_config(*EVERYTHING), 0)
    built = model.policy
    assert _layers(built) == [SurgeUnit, PooledSearchTeams, PooledInvestigators, TriageHub, OwnUnits]
    layer = built
    while True:
        assert isinstance(layer, CollaborationPolicy), type(layer).__name__
        if not isinstance(layer, PolicyLayer):
            break
        layer = layer.inner


def test_a_class_missing_a_method_is_not_a_policy_and_a_region_refuses_it():
    class NoSearchHandoff(PolicyLayer):
        pass

    all_but_one = {name: getattr(PolicyLayer, name) for name in PROTOCOL_METHODS if name != "search_handoff_days"}
    Incomplete = type("Incomplete", (), all_but_one)
    assert isinstance(NoSearchHandoff(OwnUnits([])), CollaborationPolicy)
    assert not isinstance(Incomplete(), CollaborationPolicy)
    with pytest.raises(TypeError, match="Incomplete"):
        RegionModel(_config(), 0, policy_factory=lambda cfg, forces, env, cal: Incomplete())


# ----------------------------------------------------------------------------- the built-in stack


@pytest.mark.parametrize("overrides,layers", [
    ((), [OwnUnits]),
    (("collaboration.triage_hub.enabled=true",), [TriageHub, OwnUnits]),
    (("collaboration.pooling.search_teams=true", "collaboration.surge.investigators=2"),
     [SurgeUnit, PooledSearchTeams, OwnUnits]),
])
def test_the_config_switches_layers_on_and_the_units_report_forces_first(overrides, layers):
    model = RegionModel(_config(*overrides), 0)
    assert _layers(model.policy) == layers
    owners = [unit.owner for unit in model.units]
    forces = set(model.cfg.force_names)
    first_regional = next((k for k, owner in enumerate(owners) if owner not in forces), len(owners))
    assert set(owners[:first_regional]) == forces and not forces & set(owners[first_regional:])
    regional = {REGION} if TriageHub in layers else set()
    assert set(owners[first_regional:]) == regional | ({SURGE} if SurgeUnit in layers else set())


def test_the_default_policy_gives_what_passing_no_policy_gives():
    cfg = _config(*EVERYTHING)
    _same_output(run_replication(cfg, 1), run_replication(cfg, 1, policy_factory=build_policy))


def test_a_stack_built_by_hand_equals_the_configured_one():
    cfg = _config("collaboration.triage_hub.enabled=true", "collaboration.pooling.investigators=true")

    def by_hand(cfg, forces, env, cal):
        return PooledInvestigators(TriageHub(OwnUnits(forces), cfg, forces, env, cal), cfg, forces, env, cal)

    _same_output(run_replication(cfg, 0), run_replication(cfg, 0, policy_factory=by_hand))


# ----------------------------------------------------------------------------- policies defined here


NEIGHBOUR_HANDOFF_DAYS = 2.0


class NeighbourTakesLowRisk(PolicyLayer):
    """Every case graded L is worked by the next force's investigators (the last force's by
    the first's), who start on it two days after it takes their slot."""

    def __init__(self, inner: CollaborationPolicy, forces):
        super().__init__(inner)
        self.neighbour = {force: forces[(k + 1) % len(forces)] for k, force in enumerate(forces)}

    def team_for(self, force, i):
        if force.grade[i] == L:
            return self.neighbour[force].team
        return self.inner.team_for(force, i)

    def investigator_handoff_days(self, force, i, team, holder):
        if team is self.neighbour[force].team:
            return NEIGHBOUR_HANDOFF_DAYS
        return self.inner.investigator_handoff_days(force, i, team, holder)


def neighbour_takes_low_risk(cfg, forces, env, cal):
    return NeighbourTakesLowRisk(build_policy(cfg, forces, env, cal), forces)


def test_a_policy_defined_outside_the_model_routes_cases_to_the_neighbour():
    cfg = _config()
    out = run_replication(cfg, 0, policy_factory=neighbour_takes_low_risk)
    cases = out.cases
    n_forces = len(cfg.force_names)
    slot = ~np.isnan(cases["slot_start_day"])
    low = cases["assigned_grade"] == L
    assert (slot & low).any() and (slot & ~low).any()
    neighbour = (cases["force"] + 1) % n_forces
    assert (cases["investigated_by"][slot & low] == neighbour[slot & low]).all()
    assert (cases["investigated_by"][slot & ~low] == cases["force"][slot & ~low]).all()
    # The hand-off is the case's only one and is spent between the slot and planning.
    assert (cases["handoff_days"][slot & low] == NEIGHBOUR_HANDOFF_DAYS).all()
    assert (cases["handoff_days"][~(slot & low)] == 0).all()
    gap = cases["allocation_end_day"][slot & low] - cases["allocation_start_day"][slot & low]
    done = ~np.isnan(gap)
    assert done.any() and np.allclose(gap[done], NEIGHBOUR_HANDOFF_DAYS)
    # Without the policy the same cases stay at home.
    plain = run_replication(cfg, 0)
    held = plain.cases["investigated_by"] >= 0
    assert (plain.cases["investigated_by"][held] == plain.cases["force"][held]).all()
    np.testing.assert_array_equal(plain.cases["assigned_grade"], cases["assigned_grade"])


def test_under_a_policy_defined_outside_the_model_no_case_or_slot_is_lost():
    """Every case has ended or is still in exactly one stage (or after an arrest, in its
    post-arrest work), and each force's investigators hold exactly the slots of the cases,
    of any force, recorded as theirs and not yet given back."""
    model = RegionModel(_config(), 0, policy_factory=neighbour_takes_low_risk)
    model.run()
    held_by = dict.fromkeys(model.cfg.force_names, 0)
    for force in model.forces:
        records = force.records
        for i in range(force.cases.n):
            if math.isnan(records.slot_start_day[i]) or not math.isnan(records.slot_release_day[i]):
                continue
            held_by[records.investigated_by[i]] += 1
        in_stage = [0] * force.cases.n
        for stage in ("intake", "research", "assessment", "allocation", "planning", "warrant", "execution"):
            queued, ended = records.times[f"{stage}_queue_day"], records.times[f"{stage}_end_day"]
            for i in range(force.cases.n):
                in_stage[i] += not math.isnan(queued[i]) and math.isnan(ended[i])
        for i in range(force.cases.n):
            gone = not math.isnan(records.exit_day[i])
            after_arrest = not gone and not math.isnan(records.arrest_day[i])
            assert in_stage[i] == (0 if gone or after_arrest else 1), (force.name, i)
    assert sum(held_by.values()) > 0
    for force in model.forces:
        assert force.team.working == held_by[force.name], force.name


class GradedByFirstForce(PolicyLayer):
    """Every force sends its referrals to the first force's assessors, half a day away."""

    def __init__(self, inner: CollaborationPolicy, forces):
        super().__init__(inner)
        self.first = forces[0]

    def assessors(self, force, i):
        if force is self.first:
            return self.inner.assessors(force, i)
        return self.first.assessment, 0.5


def test_a_policy_defined_outside_the_model_moves_the_grading():
    cfg = _config()
    out = run_replication(cfg, 0, policy_factory=lambda cfg, forces, env, cal: GradedByFirstForce(
        build_policy(cfg, forces, env, cal), forces))
    plain = run_replication(cfg, 0)

    def assessment_hours(result, force):
        return next(row["busy"] for row in result.pools if row["force"] == force and row["pool"] == "assessment")

    first, *others = cfg.force_names
    assert all(assessment_hours(out, force) == 0 for force in others)
    assert assessment_hours(out, first) > assessment_hours(plain, first)
    cases = out.cases
    sent = (cases["force"] > 0) & ~np.isnan(cases["assessment_queue_day"]) & ~cases["nonspecialist"]
    urgent = cases["true_risk"] == int(Grade.VH)  # phoned through: no hand-off
    assert (sent & ~urgent).any() and (cases["handoff_days"][sent & ~urgent] == 0.5).all()
    assert (cases["handoff_days"][~(sent & ~urgent)] == 0).all()
