"""A referral schedule (``demand.referrals_by_month``): arrivals follow it month by month and
grow from its last month after it; the rate's every user (expected cases, memory, the day-0
offered load) follows it; an empty schedule changes nothing; bad values are refused in one line."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats

import sim
from sim.config.memory import cases_driver, memory_estimate
from sim.config.schema import DemandConfig, SimConfig
from sim.core.rng import Streams
from sim.domain import DAYS_PER_MONTH
from sim.errors import ConfigError
from sim.model.demand import (draw_cases, inverse_cumulative_intensity, referral_times,
                              scheduled_inverse_cumulative_intensity)
from sim.model.offered_load import start_load

SCHEDULE = (30.0, 0.0, 120.0, 60.0, 5.0, 45.0)
REPLICATIONS = 300
# Goodness-of-fit tests on fixed seeds: a wrong rate in any one month (a month shifted, a
# rate per day taken for one per month) gives p-values below 1e-10 at these sizes.
LEAST_P_VALUE = 1e-3


def _cfg(*overrides: str) -> SimConfig:
    return sim.load_config(["run.replications=1", "run.progress=false", *overrides])


def _schedule(values: tuple[float, ...]) -> str:
    return f"demand.referrals_by_month=[{','.join(map(repr, values))}]"


def _arrival_days(cfg: SimConfig, replications: int = REPLICATIONS) -> list[np.ndarray]:
    return [referral_times(cfg, Streams(cfg.run.seed, r)) for r in range(replications)]


def _counts(days: list[np.ndarray], edges: np.ndarray) -> np.ndarray:
    """Arrivals between each pair of ``edges`` (days), one row a replication."""
    return np.array([np.histogram(d, bins=edges)[0] for d in days])


def _poisson_p_values(counts: np.ndarray, expected: np.ndarray) -> tuple[float, float]:
    """Two-sided p-values, over the intervals that expect some arrivals, of (the totals by
    interval against their expected Poisson counts: chi-square with a degree of freedom an
    interval, the totals being free; the spread of the counts over replications against a
    Poisson's: the index of dispersion, a degree of freedom a count)."""
    some = expected > 0
    totals, expected_totals = counts.sum(axis=0)[some], expected[some] * len(counts)
    fit = stats.chi2.sf(((totals - expected_totals) ** 2 / expected_totals).sum(), some.sum())
    dispersion = ((counts[:, some] - expected[some]) ** 2 / expected[some]).sum()
    spread = stats.chi2.sf(dispersion, some.sum() * len(counts))
    return float(fit), float(min(spread, 1 - spread) * 2)


def test_arrivals_in_each_month_follow_the_schedule():
    horizon_days = len(SCHEDULE) * DAYS_PER_MONTH
    cfg = _cfg(_schedule(SCHEDULE), f"run.horizon_days={horizon_days!r}")
    days = _arrival_days(cfg)
    counts = _counts(days, np.arange(len(SCHEDULE) + 1) * DAYS_PER_MONTH)
    assert (counts[:, 1] == 0).all()  # a month of none brings none
    assert all((d >= 0).all() and (d < horizon_days).all() and (np.diff(d) >= 0).all() for d in days)
    fit, spread = _poisson_p_values(counts, np.array(SCHEDULE))
    assert fit > LEAST_P_VALUE and spread > LEAST_P_VALUE
    # Within a month arrivals are uniform (a constant rate): the month of 120 in tenths.
    third = np.concatenate([d[(d >= 2 * DAYS_PER_MONTH) & (d < 3 * DAYS_PER_MONTH)] for d in days])
    assert stats.kstest((third - 2 * DAYS_PER_MONTH) / DAYS_PER_MONTH, "uniform").pvalue > LEAST_P_VALUE


def test_the_same_test_refuses_a_rate_a_month_off():
    """The check above has the power to fail: arrivals of a schedule shifted by one month."""
    horizon_days = len(SCHEDULE) * DAYS_PER_MONTH
    shifted = _cfg(_schedule(SCHEDULE[1:] + SCHEDULE[:1]), f"run.horizon_days={horizon_days!r}")
    counts = _counts(_arrival_days(shifted, 50), np.arange(len(SCHEDULE) + 1) * DAYS_PER_MONTH)
    fit, _ = _poisson_p_values(counts, np.array(SCHEDULE))
    assert fit < 1e-10


def test_after_the_schedule_the_last_month_grows():
    growth = 0.5
    horizon_days = 2 * DAYS_PER_MONTH + 730.0
    cfg = _cfg(_schedule((20.0, 40.0)), f"demand.growth_per_year={growth}", f"run.horizon_days={horizon_days!r}")
    d = cfg.demand
    # The rate after the schedule: its last month's, compounded continuously from its end.
    assert d.referrals_per_month_at(2 * DAYS_PER_MONTH + 365.0) == pytest.approx(40.0 * (1 + growth))
    assert d.referrals_per_month_at(2 * DAYS_PER_MONTH + 730.0) == pytest.approx(40.0 * (1 + growth) ** 2)
    tail = 40.0 / DAYS_PER_MONTH * 365.0 * (growth * (1 + growth)) / math.log1p(growth)  # over [1, 2] years
    assert (d.expected_referrals_until(horizon_days) - d.expected_referrals_until(horizon_days - 365.0)
            == pytest.approx(tail))
    edges = 2 * DAYS_PER_MONTH + np.arange(0.0, 730.0 + 1, 73.0)  # ten intervals after the schedule
    expected = np.diff([d.expected_referrals_until(t) for t in edges])
    assert expected[-1] > 2 * expected[0]  # growing
    counts = _counts(_arrival_days(cfg), edges)
    fit, spread = _poisson_p_values(counts, expected)
    assert fit > LEAST_P_VALUE and spread > LEAST_P_VALUE


def test_the_expected_count_is_the_schedule_and_the_inverse_undoes_it():
    d = DemandConfig(referrals_by_month=SCHEDULE, growth_per_year=0.19)
    ends = np.arange(len(SCHEDULE) + 1) * DAYS_PER_MONTH
    assert [d.expected_referrals_until(t) for t in ends] == pytest.approx(np.concatenate([[0], np.cumsum(SCHEDULE)]))
    assert d.expected_referrals_until(2.5 * DAYS_PER_MONTH) == pytest.approx(30 + 60)
    days = np.linspace(0, len(SCHEDULE) * DAYS_PER_MONTH + 900, 2_000)
    days = days[(days < DAYS_PER_MONTH) | (days >= 2 * DAYS_PER_MONTH)]  # the empty month has no inverse
    x = np.array([d.expected_referrals_until(t) for t in days])
    assert scheduled_inverse_cumulative_intensity(x, SCHEDULE, 0.19) == pytest.approx(days, rel=1e-9, abs=1e-9)


def test_expected_cases_memory_and_day_0_load_follow_the_schedule():
    horizon_days = 3 * DAYS_PER_MONTH
    scheduled = _cfg(_schedule((100.0, 10.0, 10.0, 900.0)), f"run.horizon_days={horizon_days!r}")
    assert scheduled.expected_referrals() == pytest.approx(120.0)  # the fourth month lies past the horizon
    assert scheduled.expected_cases() == pytest.approx(
        120.0 * scheduled.demand.suspects_per_referral() + scheduled.demand.initial_backlog.size)
    flat = _cfg("demand.referrals_per_month=40", f"run.horizon_days={horizon_days!r}", "demand.growth_per_year=0")
    assert memory_estimate(scheduled).total_bytes() == pytest.approx(memory_estimate(flat).total_bytes())
    # The day-0 load is the first month's, whatever referrals_per_month says.
    first_month = _cfg("demand.referrals_per_month=100")
    assert start_load(scheduled) == start_load(first_month)
    assert start_load(scheduled) != start_load(_cfg())


def test_a_month_too_busy_is_named():
    busy = dataclasses.replace(SimConfig().demand, referrals_by_month=(50.0, 1_990_000.0, 1_999_999.0))
    cfg = dataclasses.replace(SimConfig(), demand=busy, run=dataclasses.replace(SimConfig().run, horizon_days=60.5))
    assert cases_driver(cfg, "") == ("demand.referrals_by_month[1]", 1_990_000.0)  # the third month is past the run
    with pytest.raises(ConfigError, match=r"^demand\.referrals_by_month\[1\]=1990000\.0: expects 2,0..,... cases"):
        cfg.validate()


def test_an_empty_schedule_keeps_the_arrivals_as_they_were():
    cfg = _cfg()
    assert cfg.demand.referrals_by_month == ()
    d, horizon_days = cfg.demand, cfg.run.horizon_days
    # The arrivals as made before schedules: the same stream, the same expected count.
    rate_per_day = d.referrals_per_month * 12.0 / 365.0
    k = math.log1p(d.growth_per_year) / 365.0
    total = rate_per_day * math.expm1(k * horizon_days) / k
    assert cfg.expected_referrals() == total
    for replication in range(3):
        gen = Streams(cfg.run.seed, replication)["arrivals"]
        points = np.cumsum(gen.standard_exponential(int(total + 10 * math.sqrt(total) + 20)))
        before = inverse_cumulative_intensity(points[points < total], d.referrals_per_month / DAYS_PER_MONTH,
                                              d.growth_per_year)
        assert np.array_equal(referral_times(cfg, Streams(cfg.run.seed, replication)), before)


def test_a_constant_schedule_keeps_common_random_numbers():
    """A schedule of one constant rate is referrals_per_month at no growth: the same arrival
    draws give the same days (to rounding), and every other draw of each case is the same."""
    months = 24
    horizon = f"run.horizon_days={months * DAYS_PER_MONTH!r}"
    constant = _cfg("demand.referrals_per_month=50", "demand.growth_per_year=0", horizon)
    scheduled = _cfg(_schedule((50.0,) * months), "demand.referrals_per_month=7", "demand.growth_per_year=0", horizon)
    for replication in range(5):
        a, b = (draw_cases(c, Streams(c.run.seed, replication)) for c in (constant, scheduled))
        assert a.n == b.n > 1_000
        np.testing.assert_allclose(a.arrival_day, b.arrival_day, rtol=1e-12, atol=1e-9)
        assert np.array_equal(a.true_risk, b.true_risk) and np.array_equal(a.outcome_u, b.outcome_u)


def test_a_schedule_runs_the_model():
    res = sim.simulate(_cfg(_schedule((0.0, 200.0)), "run.horizon_days=60"))
    referred = res.cases[~res.cases["backlog"]]
    assert len(referred) > 100 and referred["arrival_day"].min() >= DAYS_PER_MONTH


@pytest.mark.parametrize("schedule, key, allowed", [
    ("[10,-1]", "demand.referrals_by_month[1]", "expected referrals in the month: a finite number >= 0"),
    ("[10,nan]", "demand.referrals_by_month[1]", "a finite number"),
    ("[inf]", "demand.referrals_by_month[0]", "a finite number"),
    ("[10,fifty]", "demand.referrals_by_month[1]", "a finite number"),
    ("[10,20,3e6]", "demand.referrals_by_month[2]",
     "must be at most 2,000,000 (referrals in one month: as many cases as a whole replication may hold)"),
    ("50", "demand.referrals_by_month", "a list"),
])
def test_bad_schedules_are_refused_in_one_line(schedule, key, allowed):
    with pytest.raises(ConfigError) as err:
        _cfg(f"demand.referrals_by_month={schedule}")
    assert err.value.key == key and str(err.value).endswith(f": {allowed}") and "\n" not in str(err.value)


@pytest.mark.parametrize("schedule, key, allowed", [
    ((10.0, math.nan), "demand.referrals_by_month[1]", "a finite number >= 0"),
    ((-0.5,), "demand.referrals_by_month[0]", "a finite number >= 0"),
    ((1.0,) * 1_201, "demand.referrals_by_month[1200]", "at most 1,200 months (a century, the longest horizon); "
                                                        "this one lists 1,201"),
    ((0.0, 0.0), "demand.referrals_by_month", "nothing to simulate"),
])
def test_bad_schedules_built_in_python_are_refused(schedule, key, allowed):
    base = SimConfig()
    no_backlog = dataclasses.replace(base.demand.initial_backlog, counts=dataclasses.replace(
        base.demand.initial_backlog.counts, H=0, M=0, L=0))
    cfg = dataclasses.replace(base, demand=dataclasses.replace(base.demand, referrals_by_month=schedule,
                                                                initial_backlog=no_backlog))
    with pytest.raises(ConfigError) as err:
        cfg.validate()
    assert err.value.key == key and allowed in str(err.value) and "\n" not in str(err.value)


def test_a_force_of_a_region_names_its_own_key():
    with pytest.raises(ConfigError) as err:
        _cfg("forces=three_forces", "++forces.1.demand.referrals_by_month=[1,-1]")
    assert err.value.key == "forces[1].demand.referrals_by_month[1]"
