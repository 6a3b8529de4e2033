"""Whole-force presets (force=small|medium|large) and the day-0 load they offer each unit.

``sim.model.offered_load`` works out each unit's starting utilisation from the config's means;
here it is checked against the simulation's measured use, against the M/M/c reduction
(configs/validation/mmc.yaml), for monotonicity, and on the trap it exists to catch: a large
force's referrals met by a medium force's staff (demand=large_force alone)."""

from __future__ import annotations

import dataclasses

import pytest

import sim
from sim.config.schema import SimConfig
from sim.domain import REGION
from sim.model.offered_load import STAFF_POOLS, overload_warnings, start_load

POOLS = ["intake", "research", "assessment", "investigators", "caseload", "court", "search_teams"]
TRAP = ["demand=large_force"]  # a large force's referrals, the medium force's stressed team


def _utilisation(cfg: SimConfig) -> dict[tuple[str, str], float]:
    return {(load.force, load.pool): load.utilisation for load in start_load(cfg)}


def _one_force(cfg: SimConfig) -> dict[str, float]:
    return {pool: u for (_, pool), u in _utilisation(cfg).items()}


# ------------------------------------------------------------------ the presets


def test_force_medium_is_the_baseline_itself():
    # The same config, value for value, so the same seeded results (tests/test_backtest.py).
    assert sim.load_config(["force=medium"]) == sim.load_config() == SimConfig().validate()


@pytest.mark.parametrize("size", ["small", "large"])
def test_a_force_preset_is_its_force_of_the_three_forces_region_run_alone(size):
    alone = sim.load_config([f"force={size}"])
    region = sim.load_config(["forces=three_forces"])
    listed = next(f for f in region.forces if f.name == f"{size}_force")
    assert alone.force == listed.name
    assert (alone.demand, alone.staffing, alone.training, alone.stages) == (
        listed.demand, listed.staffing, listed.training, listed.stages)


def test_demand_alone_still_changes_demand_alone():
    base, trap = sim.load_config(), sim.load_config(TRAP)
    assert trap.demand == sim.load_config(["force=large"]).demand != base.demand
    assert (trap.force, trap.staffing, trap.stages) == (base.force, base.staffing, base.stages)


def test_a_preset_scales_what_a_force_size_drives():
    small, medium, large = (sim.load_config([f"force={s}"]) for s in ("small", "medium", "large"))
    for get in (lambda c: c.demand.referrals_per_month, lambda c: c.staffing.investigators,
                lambda c: c.staffing.researchers, lambda c: c.staffing.search_teams,
                lambda c: c.stages.warrant.slots_per_sitting_day, lambda c: c.demand.initial_backlog.size):
        assert get(small) < get(medium) < get(large)


# ------------------------------------------------------------------ the warnings


def test_the_trap_is_warned_of_and_the_presets_are_not():
    trap = sim.load_config(TRAP)
    warnings = overload_warnings(trap)
    warned = {line.split(":")[0] for line in warnings}
    assert {"medium_force intake", "medium_force research", "medium_force investigators",
            "medium_force search_teams"} <= warned
    assert all("120 referrals a month" in line and "force=small, medium or large" in line for line in warnings)
    assert any(line.startswith("medium_force investigators: 20 investigators for 120 referrals a month, "
                               "starting utilisation 2.") and "(staffing.investigators)" in line for line in warnings)
    # Intake, at 1.37, is flagged too: its queue grows from day 0; a threshold above it is not.
    assert 1.2 < _one_force(trap)["intake"] < 1.5
    assert any(line.startswith("medium_force intake: 1 intake researcher for 120") and "(staffing.intake_researchers)"
               in line for line in warnings)
    assert "medium_force intake" not in {line.split(":")[0] for line in overload_warnings(trap, threshold=1.5)}
    for preset in ([], ["force=small"], ["force=medium"], ["force=large"], ["forces=three_forces"],
                   ["scenario=regional_recommendations"]):
        assert overload_warnings(sim.load_config(preset)) == [], preset


def test_a_region_names_the_force_and_its_key():
    region = sim.load_config(["forces=three_forces"])
    forces = list(region.forces)
    forces[2] = dataclasses.replace(forces[2], staffing=dataclasses.replace(forces[2].staffing, researchers=4))
    cfg = region.replace(forces=tuple(forces))
    warnings = overload_warnings(cfg)
    assert len(warnings) == 1 and warnings[0].startswith("large_force research: 4 researchers for 120 referrals")
    assert "(forces[2].staffing.researchers)" in warnings[0] and "force=small" not in warnings[0]


def test_units_the_region_shares_are_counted_once_as_the_regions():
    loads = start_load(sim.load_config(["scenario=regional_recommendations"]))
    shared = {load.pool for load in loads if load.force == REGION}
    assert shared == {"assessment", "investigators", "caseload", "search_teams"}
    pooled = next(load for load in loads if load.pool == "investigators")
    assert pooled.size == sum(f.staffing.investigators for f in sim.load_config(["forces=three_forces"]).forces)
    assert [load.pool for load in loads if load.force == "small_force"] == ["intake", "research", "court"]


# ------------------------------------------------------------------ monotone


@pytest.mark.parametrize("pool", list(STAFF_POOLS))
def test_more_staff_lowers_their_pool_and_no_other(pool):
    base = sim.load_config()
    key = STAFF_POOLS[pool]
    more = base.replace(staffing=dataclasses.replace(base.staffing, **{key: getattr(base.staffing, key) + 1}))
    before, after = _one_force(base), _one_force(more)
    assert after[pool] < before[pool]
    changed = {p for p in POOLS if after[p] != before[p]}
    assert changed == ({pool, "caseload"} if pool == "investigators" else {pool})


def test_more_search_teams_and_hearing_slots_lower_their_units():
    base = sim.load_config()
    before = _one_force(base)
    teams = _one_force(sim.load_config(["staffing.search_teams=3"]))
    court = _one_force(sim.load_config(["stages.warrant.slots_per_sitting_day=4"]))
    assert teams["search_teams"] < before["search_teams"] and court["court"] < before["court"]


@pytest.mark.parametrize("referrals", [5.0, 30.0, 50.0, 80.0, 200.0])
def test_more_referrals_raise_every_unit(referrals):
    fewer = _one_force(sim.load_config([f"demand.referrals_per_month={referrals}"]))
    more = _one_force(sim.load_config([f"demand.referrals_per_month={referrals * 1.1}"]))
    assert all(more[p] > fewer[p] for p in POOLS)
    assert more["intake"] == pytest.approx(1.1 * fewer["intake"], rel=1e-12)  # in proportion, not just higher


# ------------------------------------------------------------------ against the simulation


def test_it_is_the_offered_load_of_the_m_m_c_reduction():
    # lambda = 700 a month (23.0 a day), mu = 10 a day, c = 3: rho = lambda / (c mu) = 0.767.
    cfg = sim.load_config(["+validation=mmc", "staffing.investigators=3", "demand.referrals_per_month=700",
                           "run.replications=1", "run.horizon_days=1000", "run.warmup_days=100"])
    rho = 700 / (365 / 12) / (3 * 10)
    loads = _one_force(cfg)
    assert loads["investigators"] == pytest.approx(rho, rel=1e-12)
    assert loads["caseload"] == pytest.approx(rho, rel=1e-12)
    pools = sim.simulate(cfg).pools
    for pool in ("investigators", "caseload"):
        measured = pools.loc[pools["pool"] == pool, "utilisation"].mean()
        assert measured == pytest.approx(rho, rel=0.03), pool


def test_it_matches_the_measured_use_of_every_staff_pool_and_diary():
    # A steady force (no growth, no backlog): each unit's measured use, per case that arrived,
    # is the load worked out from the means. The caseload's is higher: slots are held while
    # cases wait for an investigator's time, which the idle-force estimate leaves out.
    cfg = sim.load_config(["run.replications=2", "run.horizon_days=425", "run.warmup_days=60", "run.progress=false",
                           "demand.growth_per_year=0", "demand.initial_backlog.counts={VH:0,H:0,M:0,L:0}"])
    results = sim.simulate(cfg)
    d, run = cfg.demand, cfg.run
    measured_days = run.horizon_days - run.warmup_days  # after the first cases have reached every stage
    expected_cases = (d.referrals_per_month / (365 / 12) * measured_days
                      * (1 + d.bulk_package_probability * d.bulk_extra_suspects_mean))
    arrived = int((results.cases["arrival_day"] >= run.warmup_days).sum())
    per_case = expected_cases * run.replications / arrived
    pools = results.pools
    loads = _one_force(cfg)
    for pool in ("intake", "research", "assessment", "investigators", "court", "search_teams"):
        measured = pools.loc[pools["pool"] == pool, "utilisation"].mean() * per_case
        assert measured == pytest.approx(loads[pool], rel=0.04), pool
    measured_slots = pools.loc[pools["pool"] == "caseload", "utilisation"].mean() * per_case
    assert loads["caseload"] < measured_slots < 2 * loads["caseload"]


# ------------------------------------------------------------------ the commands warn before they run

QUICK = ["run.replications=2", "run.horizon_days=30", "run.progress=false"]


def test_casesim_warns_of_an_overloaded_unit_before_it_runs_and_still_runs(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    casesim = Path(sys.executable).with_name("casesim")
    run = subprocess.run([str(casesim), *TRAP, *QUICK, f"hydra.run.dir={tmp_path / 'run'}"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    lines = run.stderr.strip().splitlines()
    assert lines == [f"casesim: warning: {line}" for line in overload_warnings(sim.load_config([*TRAP, *QUICK]))]
    assert len(lines) >= 5 and lines[0].startswith("casesim: warning: medium_force intake: ")
    assert (tmp_path / "run" / "summary.csv").is_file()


class Simulating(BaseException):
    """Raised where a command would start simulating (a BaseException: no command catches it)."""


def _warned_before_simulating(compare_main, argv: list[str], capsys) -> list[str]:
    """The stderr lines ``casesim-compare argv`` gives before its first simulation, which
    stops it (the warnings come before, and the command goes on to run)."""
    with pytest.raises(Simulating):
        compare_main(argv)
    return [line for line in capsys.readouterr().err.splitlines() if line]


def test_compare_warns_of_each_runs_overloaded_units_by_name(tmp_path, capsys, monkeypatch):
    import sim.running.scenarios
    from sim.cli.compare import main as compare_main

    def simulating(*args, **kwargs):
        raise Simulating

    monkeypatch.setattr(sim.running.scenarios, "simulate", simulating)
    warned = _warned_before_simulating(compare_main, ["more_investigators", *TRAP, *QUICK, "--out",
                                                      str(tmp_path / "compare")], capsys)
    for name, scenario in (("baseline", []), ("more_investigators", ["scenario=more_investigators"])):
        expected = overload_warnings(sim.load_config([*scenario, *TRAP, *QUICK]))
        assert expected and [line for line in warned if line.startswith(f"casesim-compare: warning: {name}: ")] == \
            [f"casesim-compare: warning: {name}: {line}" for line in expected]
    assert len(warned) == len(overload_warnings(sim.load_config([*TRAP, *QUICK]))) + len(
        overload_warnings(sim.load_config(["scenario=more_investigators", *TRAP, *QUICK])))  # and nothing else
    # nothing is warned of where every unit keeps up
    assert _warned_before_simulating(compare_main, ["more_investigators", *QUICK, "--out", str(tmp_path / "calm")],
                                     capsys) == []
