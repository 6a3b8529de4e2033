"""Absurd sizes, overflowing numbers and runs too large for the machine are refused in one
line, naming the key, before anything runs; no shipped config comes near a bound."""

from __future__ import annotations

import dataclasses
import gc
import math
import tracemalloc

import numpy as np
import pytest

import sim
from sim.config import limits
from sim.config.checks import LIMITS
from sim.config.convert import leaves, replace_path
from sim.config.design import design_points
from sim.config.load import CONFIG_DIR
from sim.config.memory import PROCESS_BYTES, check_memory, machine_memory_bytes, memory_estimate
from sim.config.schema import ByGrade, SimConfig
from sim.core.distributions import Distribution, Gamma, LogNormal
from sim.errors import ConfigError

QUICK = ["run.horizon_days=60", "run.replications=1", "run.progress=false"]
GIB = 2**30


@pytest.fixture
def machine_of_24_gib(monkeypatch):
    """The memory check sees a machine of 24 GiB, whatever this one has."""
    monkeypatch.setattr("sim.config.memory.machine_memory_bytes", lambda: 24 * GIB)


def _refused(overrides: list[str]) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        sim.load_config([*QUICK, *overrides])
    message = str(err.value)
    assert "\n" not in message
    return err.value


# --------------------------------------------------------------------------- the cases reported


# (override, the key named, what the message says is allowed)
ABSURD_OR_OVERFLOWING = [
    ("run.horizon_days=1e300", "run.horizon_days", "at most 36,525 (a century)"),
    ("run.horizon_days=36526", "run.horizon_days", "at most 36,525"),
    ("run.horizon_days=inf", "run.horizon_days", "a finite number"),
    ("run.horizon_days=nan", "run.horizon_days", "a finite number"),
    ("run.seed=nan", "run.seed", "an integer"),
    ("run.seed=1e300", "run.seed", "at most 9,007,199,254,740,992"),
    ("run.seed=99999999999999999999", "run.seed", "at most 9,223,372,036,854,775,807"),
    ("run.replications=1000000000", "run.replications", "at most 100,000"),
    ("stages.warrant.max_applications=1e9", "stages.warrant.max_applications", "at most 100"),
    ("staffing.investigators=1e12", "staffing.investigators", "at most 10,000"),
    ("staffing.recruitment.investigators=20000", "staffing.recruitment.investigators", "at most 10,000"),
    ("staffing.caseload_limit=5000", "staffing.caseload_limit", "at most 1,000"),
    ("run.workers=100000", "run.workers", "at most 1,024"),
    ("run.monitor_interval_days=1e-300", "run.monitor_interval_days", "at least"),
    ("stages.review.analyst_interval_days=1e-9", "stages.review.analyst_interval_days", "at least"),
    ("demand.initial_backlog.counts.L=1e12", "demand.initial_backlog.counts.L", "at most 2,000,000"),
    ("demand.growth_per_year=1e300", "demand.growth_per_year", "at most 10"),
    ("demand.growth_per_year=1e-300", "demand.growth_per_year", "write 0"),
    ("calendar.hours_per_day=1e-300", "calendar.hours_per_day", "at least"),
    ("staffing.availability=1e-300", "staffing.availability", "at least 0.001"),
    ("demand.referrals_per_month=1e300", "demand.referrals_per_month", "at most 2,000,000 are allowed"),
]
WRONG_TYPE = [
    ("run.replications=ten", "run.replications", "an integer"),
    ("run.replications=[1,2]", "run.replications", "an integer"),
    ("run.replications={a: 1}", "run.replications", "an integer"),
    ("run.replications=true", "run.replications", "an integer"),
    ("run.replications=2.5", "run.replications", "an integer"),
    ("run.horizon_days=soon", "run.horizon_days", "a finite number"),
    ("run.horizon_days=true", "run.horizon_days", "a finite number"),
    ("run.horizon_days=[60]", "run.horizon_days", "a finite number"),
    ("run.horizon_days=null", "run.horizon_days", "a finite number"),
    ("run.progress=1", "run.progress", "true or false"),
    ("stages.research.effort_hours.low=many", "stages.research.effort_hours.low", "a finite number"),
    ("stages.research.effort_hours.mean=many", "stages.research.effort_hours.mean", "a finite number"),
    ("targets_days.VH=[1]", "targets_days.VH", "a finite number"),
    ("stages.review.analyst_grades=VH", "stages.review.analyst_grades", "a list"),
]


@pytest.mark.parametrize("override,key,says", ABSURD_OR_OVERFLOWING + WRONG_TYPE)
def test_an_absurd_size_an_overflow_or_a_wrong_type_is_refused_naming_its_key(override, key, says):
    err = _refused([override])
    assert err.key == key and says in err.allowed, str(err)


def test_a_number_too_large_for_a_float_is_refused_not_overflowed():
    err = _refused([f"run.horizon_days={10**400}"])
    assert err.key == "run.horizon_days" and err.allowed == "a finite number"


@pytest.mark.parametrize("distribution,key", [
    ("{dist: lognormal, mean: 4, cv: 1e200}", "stages.research.effort_hours.cv"),
    ("{dist: gamma, mean: 4, cv: 1e200}", "stages.research.effort_hours.cv"),
    ("{dist: lognormal, mean: 4, cv: 1e-300}", "stages.research.effort_hours.cv"),
    ("{dist: fixed, value: 1e300}", "stages.research.effort_hours"),
    ("{dist: uniform, low: 0, high: 1e200}", "stages.research.effort_hours"),
    ("{dist: uniform, low: 1e200, high: 0}", "stages.research.effort_hours"),
    ("{dist: uniform, low: 2, high: 1}", "stages.research.effort_hours.high"),
])
def test_a_distribution_whose_arithmetic_would_overflow_is_refused(distribution, key):
    err = _refused([f"stages.research.effort_hours={distribution}"])
    assert err.key == key, str(err)


def test_a_distribution_refuses_parameters_past_any_use_outside_a_config_too():
    with pytest.raises(ConfigError, match=r"^x\.value=1e\+300: must be at most 1e15"):
        Distribution("fixed", value=1e300).validate("x")


def test_a_distribution_checks_its_own_parameters():
    # The distributions own their validation: used outside a config, too.
    for kind in (LogNormal, Gamma):
        with pytest.raises(ConfigError, match=r"^x\.cv=1e\+200: must lie in \[1e-06, 100\]"):
            kind(4.0, 1e200).validate("x")
        with pytest.raises(ConfigError, match=r"^x\.mean=inf: a finite number$"):
            kind(math.inf, 1.0).validate("x")


@pytest.mark.parametrize("kind", [LogNormal, Gamma])
@pytest.mark.parametrize("mean,cv", [(1e15, 100.0), (1e-300, 100.0), (1e15, 1e-6), (1.0, 1e-6)])
def test_at_its_bounds_a_distribution_keeps_mean_variance_and_quantiles_finite(kind, mean, cv):
    d = kind(mean, cv)
    d.validate("x")
    u = np.array([0.0, 1e-12, 0.5, 1 - 2**-53])
    assert math.isfinite(d.mean_value) and math.isfinite(d.variance_value)
    assert np.isfinite(d.quantile(u)).all()


@pytest.mark.parametrize("effort", ["{dist: fixed, value: 1e300}", "{dist: exponential, mean: 20000}",
                                    "{dist: triangular, low: 0, mode: 5000, high: 40000}"])
def test_an_effort_of_years_a_case_is_refused_not_run_into_undefined_medians(effort):
    err = _refused([f"stages.post_arrest.effort_hours={effort}"])
    assert err.key.startswith("stages.post_arrest.effort_hours"), str(err)
    assert "at most" in err.allowed


def test_a_delay_of_centuries_is_refused():
    err = _refused(["stages.execution.lag_days={dist: exponential, mean: 40000}"])
    assert err.key == "stages.execution.lag_days" and "at most 36,525 (a century)" in err.allowed


# --------------------------------------------------------------------------- every key


BASE = sim.load_config(QUICK)


def _numeric_keys(cfg: SimConfig) -> list[str]:
    """Every number of the config by dotted key: plain numbers, each grade of a per-grade
    set, and each parameter of a distribution."""
    keys = []
    for key, value in leaves(cfg).items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) or value is None and "csv" not in key:
            keys.append(key)  # a null here is a number not set (a share, a headcount)
        elif isinstance(value, ByGrade):
            keys += [f"{key}.{field.name}" for field in dataclasses.fields(value)]
        elif isinstance(value, Distribution):
            keys += [f"{key}.{name}" for name in value.parameter_names()]
    return keys


NUMERIC_KEYS = _numeric_keys(BASE)


def test_the_numbers_walked_include_grades_and_distribution_parameters():
    # The walk feeds the next test's cases: an empty walk would pass it without a case.
    assert len(NUMERIC_KEYS) >= 100
    assert {"run.horizon_days", "staffing.investigators", "targets_days.VH", "demand.risk_mix.L",
            "stages.research.effort_hours.mode"} <= set(NUMERIC_KEYS)


def _set(cfg: SimConfig, key: str, value: float) -> SimConfig:
    """``cfg`` with ``key`` (a leaf, or a grade or parameter inside one) set to ``value``."""
    if key in leaves(cfg):
        return replace_path(cfg, key, value)
    head, _, name = key.rpartition(".")
    return replace_path(cfg, head, dataclasses.replace(leaves(cfg)[head], **{name: value}))


@pytest.mark.parametrize("key", NUMERIC_KEYS)
def test_no_number_is_unbounded(key):
    """Every number of the config refuses a huge value (10^19 for a count, past even a
    seed's 64 bits; 10^12 else), naming itself (or, for a grade's or a distribution's
    parameter, the set or the distribution it belongs to)."""
    huge = 10**19 if isinstance(leaves(BASE).get(key, 0.0), int) else 1e12
    owner = key if key in leaves(BASE) else key.rpartition(".")[0]
    with pytest.raises(ConfigError) as err:
        _set(BASE, key, huge).validate()
    assert err.value.key.startswith(owner), str(err.value)


def _declared_limits() -> list[tuple[str, limits.Limit]]:
    out = []

    def walk(section, prefix):
        for f in dataclasses.fields(section):
            value = getattr(section, f.name)
            for limit in f.metadata.get(LIMITS, ()):
                out.append((f"{prefix}{f.name}", limit))
            if dataclasses.is_dataclass(value) and not isinstance(value, (Distribution, ByGrade)):
                walk(value, f"{prefix}{f.name}.")
    walk(BASE, "")
    return out


DECLARED_LIMITS = _declared_limits()


# Bounded in their sections' validate instead, by other keys.
BOUNDED_BY_VALIDATE = {"calendar.working_days_per_week": "1 to 7", "run.warmup_days": "below the horizon",
                       "targets_days": "each grade at most limits.DAYS"}


def test_every_count_and_horizon_declares_its_limit():
    declared = {key for key, _ in DECLARED_LIMITS}
    counts = [key for key, value in leaves(BASE).items() if isinstance(value, int) and not isinstance(value, bool)]
    days = [key for key in leaves(BASE) if key.endswith(("_days", "_hours", "_day"))]
    unlimited = [key for key in counts + days if key not in declared and key not in BOUNDED_BY_VALIDATE]
    assert not unlimited
    assert len(DECLARED_LIMITS) >= 40


@pytest.mark.parametrize("key,limit", DECLARED_LIMITS, ids=[key for key, _ in DECLARED_LIMITS])
def test_a_declared_limit_is_enforced_under_its_own_key_with_its_reason(key, limit):
    value = leaves(BASE)[key]
    if isinstance(value, Distribution):
        beyond = dataclasses.replace(value, **{name: 1e14 for name in value.parameter_names()})
    else:
        beyond = limit.value / 2 if limit.lowest else limit.value * 2
        beyond = int(beyond) if isinstance(value, int) and not limit.lowest else beyond
    with pytest.raises(ConfigError) as err:
        replace_path(BASE, key, beyond).validate()
    assert err.value.key == key and limit.why in err.value.allowed, str(err.value)


# --------------------------------------------------------------------------- memory


def test_this_machine_says_how_much_memory_it_has():
    assert machine_memory_bytes() is None or machine_memory_bytes() > GIB


def test_replications_beyond_memory_are_refused_saying_how_many_fit(machine_of_24_gib):
    err = _refused(["run.horizon_days=1460", "run.replications=100000"])
    assert err.key == "run.replications" and "GiB" in err.allowed and "fit" in err.allowed, str(err)
    fit = int(err.allowed.rsplit("at most ", 1)[1].split()[0].replace(",", ""))
    assert 100 < fit < 100_000
    sim.load_config(["run.horizon_days=1460", f"run.replications={fit}", "run.progress=false"])
    _refused(["run.horizon_days=1460", f"run.replications={fit + 1}"])


def test_a_sampling_interval_too_fine_for_memory_is_named(machine_of_24_gib):
    err = _refused(["run.horizon_days=3650", "run.monitor_interval_days=0.001"])
    assert err.key == "run.monitor_interval_days" and "one replication needs about" in err.allowed, str(err)


def test_warrant_draws_too_many_for_memory_name_max_applications(machine_of_24_gib):
    err = _refused(["run.horizon_days=1460", "demand.referrals_per_month=20000",
                    "stages.warrant.max_applications=100"])
    assert err.key == "stages.warrant.max_applications", str(err)


def test_too_many_workers_for_memory_are_named(machine_of_24_gib):
    err = _refused(["run.horizon_days=1460", "run.replications=200", "run.workers=1000"])
    assert err.key == "run.workers" and "workers fit" in err.allowed, str(err)


def test_a_local_dask_cluster_counts_as_workers_here_and_a_scheduler_elsewhere_does_not(machine_of_24_gib):
    err = _refused(["run.horizon_days=1460", "run.replications=200", "run.local_cluster=1000"])
    assert err.key == "run.local_cluster" and "workers fit" in err.allowed, str(err)
    sim.load_config(["run.horizon_days=1460", "run.replications=200", "run.scheduler=tcp://10.0.0.5:8786"])


def test_the_memory_check_passes_through_every_way_into_a_run(machine_of_24_gib):
    # sim.simulate validates before it starts, so a config built in Python is checked too.
    cfg = dataclasses.replace(BASE, run=dataclasses.replace(BASE.run, horizon_days=1460.0, replications=100_000))
    with pytest.raises(ConfigError, match=r"^run\.replications=100000: "):
        sim.simulate(cfg)
    with pytest.raises(ConfigError):
        check_memory(BASE, replications=10**7)


def test_the_estimate_grows_with_horizon_demand_replications_and_sampling():
    def total(key=None, value=None):
        return memory_estimate(BASE if key is None else _set(BASE, key, value)).total_bytes()

    assert total("run.horizon_days", 400.0) > total("run.horizon_days", 200.0) > total()
    assert total("demand.referrals_per_month", 100.0) > total()
    assert total("demand.initial_backlog.counts.L", 5000.0) > total()
    assert total("run.replications", 4) > total("run.replications", 2) > total()
    assert total("run.monitor_interval_days", 0.1) > total()
    assert total("stages.warrant.max_applications", 50) > total()
    assert total("staffing.recruitment.investigators", 50) > total()
    assert memory_estimate(sim.load_config([*QUICK, "forces=three_forces"])).total_bytes() > total()


def _peak_bytes(cfg: SimConfig) -> int:
    """The most memory (traced allocations) simulating ``cfg`` and summarising it takes."""
    gc.collect()
    tracemalloc.start()
    try:
        results = sim.simulate(cfg, workers=1, progress=False)
        results.summary()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("overrides", [
    ["run.horizon_days=300", "run.replications=3"],
    ["run.horizon_days=200", "run.replications=2", "forces=three_forces"],
    ["run.horizon_days=200", "run.replications=2", "run.monitor_interval_days=0.25",
     "stages.warrant.max_applications=40"],
], ids=["baseline", "region", "fine sampling, many applications"])
def test_the_estimate_covers_the_memory_a_small_run_uses_without_wild_excess(overrides):
    _peak_bytes(sim.load_config(QUICK))  # libraries' first-use allocations are not the run's
    cfg = sim.load_config([*overrides, "run.progress=false"])
    measured, estimated = _peak_bytes(cfg), memory_estimate(cfg).data_bytes()
    assert measured <= estimated <= 4 * measured, (measured, estimated)


# --------------------------------------------------------------------------- shipped configs


GROUP_OPTIONS = [(group.name, option.stem) for group in sorted(CONFIG_DIR.iterdir()) if group.is_dir()
                 and group.name != "sweep" for option in sorted(group.glob("*.yaml"))]


def test_every_config_group_is_found():
    assert len(GROUP_OPTIONS) >= 30 and {"scenario", "demand", "staffing", "forces"} <= {g for g, _ in GROUP_OPTIONS}


@pytest.mark.parametrize("group,option", GROUP_OPTIONS, ids=[f"{g}={o}" for g, o in GROUP_OPTIONS])
def test_no_shipped_config_comes_near_a_bound(machine_of_24_gib, group, option):
    """Every group option (scenarios, demand, staffing, forces...) validates, and its run
    needs well under the memory of a 24 GiB machine: 4 GiB, or for the nation (43 forces,
    whose default run holds ten replications of some 130,000 cases each) 1 GiB a replication."""
    prefix = "+" if group == "validation" else ""
    cfg = sim.load_config([f"{prefix}{group}={option}"])
    estimate = memory_estimate(cfg)
    if option == "england_and_wales":
        assert estimate.total_bytes() / cfg.run.replications < 1 * GIB
    else:
        assert estimate.total_bytes() < 4 * GIB


@pytest.mark.parametrize("name", sorted(p.stem for p in (CONFIG_DIR / "sweep").glob("*.yaml")))
def test_every_point_of_a_shipped_sweep_validates(name, machine_of_24_gib):
    _, points = design_points(name)
    assert points and all(memory_estimate(p.config).total_bytes() < 4 * GIB for p in points)


def test_an_interpreter_is_counted_for_every_process():
    one = memory_estimate(dataclasses.replace(BASE, run=dataclasses.replace(BASE.run, replications=4)))
    four = memory_estimate(dataclasses.replace(BASE, run=dataclasses.replace(BASE.run, replications=4, workers=4)))
    assert four.total_bytes() - one.total_bytes() == pytest.approx(
        4 * PROCESS_BYTES + 3 * one.running_bytes_per_replication())


# -------------------------------------------------------------- analyses that hold many runs


def test_a_comparison_is_checked_for_all_the_runs_it_holds(machine_of_24_gib):
    from sim.running.scenarios import load_scenarios

    # 600 replications fit alone (about 7 GiB), and a baseline and one scenario together
    load_scenarios(["more_investigators"], ["run.replications=600"])
    with pytest.raises(ConfigError) as err:  # four runs of 600 do not
        load_scenarios(["more_investigators", "training", "fast_warrants"], ["run.replications=600"])
    assert err.value.key == "run.replications" and err.value.value == 600
    assert "2,400 replications need" in err.value.allowed and "holds its 4 runs of 600 replications" in err.value.allowed


def test_a_replication_study_is_checked_for_every_replication_it_runs(machine_of_24_gib, monkeypatch, tmp_path,
                                                                      capsys):
    import sim.running.replication_study as study_module
    from sim.cli.replications import main as replications_main

    def no_run(*args, **kwargs):
        raise AssertionError("a replication ran")

    monkeypatch.setattr(study_module, "run_replications", no_run)
    cfg = sim.load_config(["run.progress=false"])
    with pytest.raises(ConfigError) as err:
        study_module.replication_study(cfg, max_replications=3000)
    assert err.value.key == "run.replications" and "3,000 replications need" in err.value.allowed
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        replications_main(["--max", "3000"])
    assert stop.value.code == 2 and list(tmp_path.iterdir()) == []
    assert capsys.readouterr().err.startswith("casesim-replications: error: --max=3000: 3,000 replications need")
