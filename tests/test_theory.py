"""The model against queueing theory.

``configs/validation/mmc.yaml`` reduces the model to an M/M/c FIFO queue and
``configs/validation/priority_mmc.yaml`` to a non-preemptive priority M/M/c queue (the
reduction is described in mmc.yaml): the investigators' caseload slots are the c servers,
the planning effort the exponential service time, every other stage takes no time.

1. The formulas (``tests/theory.py``) against known values.
2. The reduction itself, case by case: a case's wait in queue is
   ``allocation_start_day - allocation_queue_day`` and it joins the queue on arrival, its
   service runs from allocation to ``exit_day``, the c servers never idle while a case
   waits, the service order is FIFO (mmc) or by grade, non-preemptive (priority_mmc).
3. Over a grid of loads and server counts, the mean wait in queue (each class's, for the
   priority queue) and the mean number waiting (Little's law) against Erlang C and Cobham's
   formula: the theoretical value must lie in a Student-t confidence interval of the
   replication means, Bonferroni-corrected over the whole grid so that the family of checks
   fails by chance with probability at most ``FAMILY_ALPHA``; and the interval must be narrow
   (``MAX_REL_HALF_WIDTH``) so a check cannot pass by being uninformative. The seed is fixed,
   so the outcome is deterministic.

The full grid and the pooling check are marked ``slow``; a subset (both server counts and both
queues, at the cheapest load) runs in the default suite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
from sim.domain import GRADES

try:  # tests/ on sys.path (pytest's default rootdir-less import)
    from theory import cobham_waits, erlang_b, erlang_c, mmc_queue_length, mmc_wait, relaxation_time
except ImportError:  # tests imported as a package
    from tests.theory import cobham_waits, erlang_b, erlang_c, mmc_queue_length, mmc_wait, relaxation_time

DAYS_PER_MONTH = 365.0 / 12.0  # demand.referrals_per_month is per month of 365/12 days

# ----------------------------------------------------------------------------- 1. the formulas


def test_erlang_b_known_values():
    assert erlang_b(0, 3.0) == 1.0
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert erlang_b(2, 1.0) == pytest.approx(0.2)  # (1/2) / (1 + 1 + 1/2)


@pytest.mark.parametrize("c,a,expected", [
    (1, 0.5, 0.5),          # M/M/1: P_W = rho
    (1, 0.9, 0.9),
    (2, 1.0, 1 / 3),        # textbook: two servers at rho = 0.5
    (3, 2.0, 4 / 9),        # three servers, two Erlangs
    (10, 8.0, 0.409),       # call-centre tables: 10 agents, 8 Erlangs -> 40.9 %
])
def test_erlang_c_known_values(c, a, expected):
    assert erlang_c(c, a) == pytest.approx(expected, abs=5e-4 if c == 10 else 1e-12)


@pytest.mark.parametrize("c", [1, 2, 3, 5, 20, 100])
@pytest.mark.parametrize("rho", [0.05, 0.3, 0.7, 0.95])
def test_erlang_c_matches_the_direct_sum(c, rho):
    a = rho * c
    top = a**c / math.factorial(c) * c / (c - a)
    direct = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    assert erlang_c(c, a) == pytest.approx(direct, rel=1e-10)


@pytest.mark.parametrize("rho", [0.1, 0.5, 0.9])
def test_mm1_wait(rho):
    mu = 3.0
    lam = rho * mu
    assert mmc_wait(lam, mu, 1) == pytest.approx(rho / (mu - lam), rel=1e-12)
    assert mmc_queue_length(lam, mu, 1) == pytest.approx(rho**2 / (1 - rho), rel=1e-12)


def test_mm2_wait_closed_form():
    # M/M/2: Wq = rho^2 / (mu (1 - rho^2)) with rho = lam / (2 mu)
    lam, mu = 1.2, 1.0
    rho = lam / (2 * mu)
    assert mmc_wait(lam, mu, 2) == pytest.approx(rho**2 / (mu * (1 - rho**2)), rel=1e-12)


def test_unstable_queue_is_refused():
    with pytest.raises(ValueError):
        erlang_c(2, 2.0)
    with pytest.raises(ValueError):
        cobham_waits([0.5, 0.6], 1.0, 1)


@pytest.mark.parametrize("c", [1, 3])
def test_cobham_with_one_class_is_fifo(c):
    lam = 0.7 * c
    assert cobham_waits([lam], 1.0, c) == pytest.approx([mmc_wait(lam, 1.0, c)], rel=1e-12)


def test_cobham_single_server_two_classes():
    # M/M/1, non-preemptive: Wq_k = (rho / mu) / ((1 - sigma_{k-1})(1 - sigma_k)),
    # the mean residual service being rho / mu for exponential service.
    mu, l1, l2 = 1.0, 0.3, 0.5
    rho = (l1 + l2) / mu
    w1, w2 = cobham_waits([l1, l2], mu, 1)
    assert w1 == pytest.approx(rho / mu / (1 - l1 / mu), rel=1e-12)
    assert w2 == pytest.approx(rho / mu / ((1 - l1 / mu) * (1 - rho)), rel=1e-12)


@pytest.mark.parametrize("c", [1, 2, 3, 7])
@pytest.mark.parametrize("rho", [0.3, 0.9])
def test_cobham_conserves_the_fifo_mean_wait(c, rho):
    """Equal service rates, work-conserving, non-preemptive: the arrival-weighted mean wait
    is the FIFO wait whatever the priorities (Kleinrock's conservation law)."""
    mu = 2.0
    lams = [s * rho * c * mu for s in (0.1, 0.2, 0.3, 0.4)]
    waits = cobham_waits(lams, mu, c)
    assert np.dot(lams, waits) / sum(lams) == pytest.approx(mmc_wait(sum(lams), mu, c), rel=1e-12)
    assert waits == sorted(waits)  # lower priority, longer wait


# ----------------------------------------------------------------------------- the configs

KINDS = ("mmc", "priority_mmc")


def validation_config(kind: str, c: int, rho: float, cases_per_replication: float, replications: int,
                      warmup_relax: float = 3.0, cooldown_relax: float = 15.0) -> tuple[sim.SimConfig, dict]:
    """``configs/validation/<kind>.yaml`` at load ``rho`` with ``c`` servers, a warm-up of
    ``warmup_relax`` relaxation times, a measured window in which ``cases_per_replication``
    cases arrive on average, and a cool-down of ``cooldown_relax`` relaxation times so that
    every case arriving in the window has started service by the horizon. Returns the config
    and the queue's parameters (rates per day, window in days)."""
    base = sim.load_config([f"+validation={kind}"])
    effort = base.stages.planning.effort_hours
    assert effort.dist == "exponential"
    mu = 24.0 / effort.mean  # services a day by one server (effort hours, round the clock)
    lam = rho * c * mu
    t_relax = relaxation_time(lam, mu, c)
    warmup = warmup_relax * t_relax
    window_end = warmup + cases_per_replication / lam
    horizon = window_end + cooldown_relax * t_relax
    cfg = sim.load_config([
        f"+validation={kind}",
        f"staffing.investigators={c}",
        f"demand.referrals_per_month={lam * DAYS_PER_MONTH!r}",
        f"run.replications={replications}",
        f"run.warmup_days={warmup!r}",
        f"run.horizon_days={horizon!r}",
        f"run.monitor_interval_days={horizon / 500!r}",  # the time series is not used here
        "run.progress=false",
        "run.workers=1",
    ])
    shares = np.asarray(cfg.demand.risk_mix.as_tuple())
    return cfg, {"lam": lam, "mu": mu, "c": c, "shares": shares, "warmup": warmup, "window_end": window_end}


@pytest.mark.parametrize("kind", KINDS)
def test_validation_configs_compose(kind):
    cfg = sim.load_config([f"+validation={kind}", "staffing.investigators=3", "demand.referrals_per_month=500"])
    assert cfg.staffing.investigators == 3 and cfg.staffing.caseload_limit == 1
    assert cfg.demand.referrals_per_month == 500
    assert cfg.staffing.availability == 1.0
    assert not cfg.calendar.enabled
    d = cfg.demand
    assert d.growth_per_year == 0 and d.direct_report_share == 0 and d.bulk_package_probability == 0
    assert sum(d.initial_backlog.counts.as_tuple()) == 0 and not d.initial_backlog.csv
    t = cfg.training
    assert t.under_grade_probability_trained == t.under_grade_probability_untrained == 0
    assert t.over_grade_probability_trained == t.over_grade_probability_untrained == 0
    s = cfg.stages
    assert s.round_the_clock_grades == ()
    assert s.planning.effort_hours.dist == "exponential"
    # every other effort and delay on the case's path is zero
    zero = [s.intake.effort_hours, s.research.effort_hours, s.research.comms_data_days, s.research.comms_data_urgent_days,
            s.assessment.effort_hours_trained, s.assessment.effort_hours_untrained, s.planning.lag_days,
            s.planning.urgent_lag_days, s.warrant.effort_hours, s.warrant.rework_effort_hours, s.execution.lag_days,
            s.execution.urgent_lag_days, s.post_arrest.effort_hours]
    assert all(z.is_zero for z in zero)
    assert s.intake.duplicate_probability == s.research.untraceable_probability == 0
    w = s.warrant
    assert w.defective_probability_trained == w.defective_probability_untrained == 0
    assert w.refusal_probability == w.refusal_probability_per_year_of_age == 0
    assert set(w.same_day_grades) == set(s.execution.urgent_grades) == set(GRADES)
    mix = d.risk_mix.as_tuple()
    if kind == "mmc":
        assert sum(v > 0 for v in mix) == 1
    else:
        assert mix == (0.1, 0.2, 0.3, 0.4)


# ----------------------------------------------------------------------------- 2. the reduction


def _in_service(start: np.ndarray, end: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Cases in service at each time in ``t`` (right-continuous): started at or before, not
    yet ended."""
    s, e = np.sort(start[~np.isnan(start)]), np.sort(end[~np.isnan(end)])
    return np.searchsorted(s, t, side="right") - np.searchsorted(e, t, side="right")


def _starts_inside(intervals_lo: np.ndarray, intervals_hi: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Whether each time in ``t`` falls strictly inside the union of (lo, hi) intervals."""
    order = np.argsort(intervals_lo)
    lo, hi = intervals_lo[order], intervals_hi[order]
    if lo.size == 0:
        return np.zeros(t.shape, bool)
    reach = np.maximum.accumulate(hi)  # furthest end among intervals opening at or before
    k = np.searchsorted(lo, t, side="left") - 1  # last interval opening strictly before t
    inside = np.zeros(t.shape, bool)
    ok = k >= 0
    inside[ok] = reach[k[ok]] > t[ok]
    return inside


@pytest.mark.parametrize("kind", KINDS)
def test_reduction_is_the_queue(kind):
    c, rho = 2, 0.8
    cfg, q = validation_config(kind, c, rho, cases_per_replication=20_000, replications=2)
    res = sim.simulate(cfg, progress=False)
    cases = res.cases
    assert not cases["backlog"].any() and (cases["source"] == "nca").all()
    assert (cases["assigned_grade"].astype(str) == cases["true_risk"].astype(str)).all()
    reached = cases["allocation_queue_day"].notna()
    assert reached.all()  # nobody leaves before allocation (no duplicates, untraceables)

    # joins the queue on arrival: every earlier stage took no time
    for col in ("intake_queue_day", "intake_start_day", "intake_end_day", "research_end_day", "assessment_end_day",
                "allocation_queue_day"):
        np.testing.assert_allclose(cases[col], cases["arrival_day"], rtol=0, atol=1e-9, err_msg=col)

    # no queue for the investigators' hands-on time; planning is all the service (a case
    # still in service at the horizon has no planning start recorded: it is stored when the
    # hands-on work ends)
    done = cases[cases["exit_day"].notna()]
    assert len(done) >= 0.99 * len(cases)
    assert (done["planning_start_day"] == done["allocation_start_day"]).all()
    assert (done["planning_end_day"] == done["exit_day"]).all()
    assert (done["warrant_end_day"] == done["exit_day"]).all()
    assert (done["execution_start_day"] == done["exit_day"]).all()
    assert done["outcome"].isin(["arrest", "voluntary_interview", "no_trace"]).all()
    assert (done["warrant_applications"] == 1).all()
    # service times: exponential with mean 1/mu (days)
    service = (done["exit_day"] - done["allocation_start_day"]).to_numpy()
    ks = stats.kstest(service, "expon", args=(0, 1 / q["mu"]))
    assert ks.pvalue > 1e-3, ks
    assert service.mean() == pytest.approx(1 / q["mu"], rel=0.02)

    pools = res.pools.set_index(["replication", "pool"])["utilisation"]
    for r in range(cfg.run.replications):
        one = cases[cases["replication"] == r]
        arrive = one["allocation_queue_day"].to_numpy()
        start = one["allocation_start_day"].to_numpy()
        end = one["exit_day"].to_numpy()
        wait = start - arrive
        # c servers, never more busy, never idle while a case waits
        busy_at_start = _in_service(start, end, start[~np.isnan(start)])
        assert busy_at_start.max() == c
        busy_at_arrival = _in_service(start, end, arrive)
        waited = ~(wait <= 0)  # NaN (never started) counts as waiting
        assert (busy_at_arrival[waited] == c).all()
        assert (busy_at_arrival[~waited] <= c).all()
        # order of service
        grade = one["assigned_grade"].cat.codes.to_numpy()
        for g in np.unique(grade):  # FIFO within a grade
            s = start[grade == g]
            s = s[~np.isnan(s)]
            assert np.all(np.diff(s) >= 0), f"grade {GRADES[g]} not served in order of arrival"
        if kind == "priority_mmc":
            assert len(np.unique(grade)) == 4
            # non-preemptive priority: no case starts while a case of a higher grade waits
            for g in range(1, 4):
                higher = (grade < g) & (wait > 0)
                lo, hi = arrive[higher], np.where(np.isnan(start[higher]), np.inf, start[higher])
                s = start[(grade == g) & ~np.isnan(start)]
                assert not _starts_inside(lo, hi, s).any(), f"a {GRADES[g]} case overtook a higher grade"
        # the slots are the investigators: same utilisation, rho
        assert pools[(r, "caseload")] == pytest.approx(pools[(r, "investigators")], rel=1e-9)
        assert pools[(r, "caseload")] == pytest.approx(rho, rel=0.05)


# ----------------------------------------------------------------------------- 3. the grid

REPLICATIONS = 20
FAMILY_ALPHA = 0.01
MAX_REL_HALF_WIDTH = 0.20
LOADS = (0.3, 0.5, 0.6, 0.7, 0.8, 0.9)
SERVERS = (1, 3)
# The grid points in the default (fast) suite; the rest are marked slow.
FAST = {("mmc", 1, 0.5), ("priority_mmc", 3, 0.5)}


def cases_per_point(kind: str, rho: float) -> int:
    """Cases (over all replications) measured at a grid point: enough for the confidence
    interval to be narrower than MAX_REL_HALF_WIDTH with margin. The relative variance of a
    class's mean wait grows with the load and, for the lowest class, with the priority."""
    if kind == "mmc":
        return 500_000 if rho >= 0.9 else 250_000
    return 600_000 if rho >= 0.9 else 400_000


def checks_at(kind: str) -> int:
    """Interval checks per grid point: each class's mean wait, and the mean number waiting."""
    return (1 if kind == "mmc" else len(GRADES)) + 1


GRID = [(kind, c, rho) for kind in KINDS for c in SERVERS for rho in LOADS]
N_CHECKS = sum(checks_at(kind) for kind, _, _ in GRID)
T_QUANTILE = stats.t.ppf(1 - FAMILY_ALPHA / N_CHECKS / 2, REPLICATIONS - 1)


@dataclass
class Check:
    what: str
    theory: float
    mean: float
    half_width: float

    @property
    def covered(self) -> bool:
        return abs(self.mean - self.theory) <= self.half_width

    @property
    def rel_half_width(self) -> float:
        return self.half_width / self.theory

    def __str__(self) -> str:
        return (f"{self.what:>10}: theory {self.theory:.6f}, simulated {self.mean:.6f} +- {self.half_width:.6f} "
                f"({self.mean / self.theory - 1:+.1%}, half-width {self.rel_half_width:.1%})"
                f"{'' if self.covered else '  <-- OUTSIDE'}")


def _check(what: str, theory: float, per_replication: np.ndarray) -> Check:
    x = np.asarray(per_replication, dtype=float)
    assert len(x) == REPLICATIONS and np.isfinite(x).all()
    return Check(what, theory, float(x.mean()), float(T_QUANTILE * x.std(ddof=1) / math.sqrt(len(x))))


def grid_point_checks(kind: str, c: int, rho: float) -> list[Check]:
    """Simulate one grid point and compare it with theory (days)."""
    cfg, q = validation_config(kind, c, rho, cases_per_point(kind, rho) / REPLICATIONS, REPLICATIONS)
    res = sim.simulate(cfg, progress=False)
    cases = res.cases
    lam, mu, warmup, window_end = q["lam"], q["mu"], q["warmup"], q["window_end"]

    measured = res.measured
    measured = measured[measured["arrival_day"] < window_end]
    wait = measured["allocation_start_day"] - measured["allocation_queue_day"]
    assert wait.notna().all(), "a case arriving in the window had not started by the horizon: lengthen the cool-down"
    measured = measured.assign(wait=wait)

    grades = [g for g, share in zip(GRADES, q["shares"]) if share > 0]
    lams = [lam * share for share in q["shares"] if share > 0]
    theory = dict(zip(grades, cobham_waits(lams, mu, c)))  # one class: the M/M/c FIFO wait
    by = measured.groupby(["replication", "assigned_grade"], observed=True)["wait"].mean().unstack()
    checks = [_check(f"Wq {g}", theory[g], by[g].to_numpy()) for g in grades]

    # Little's law: the time-average number waiting over the window is lam * Wq
    horizon = cfg.run.horizon_days
    lo = np.clip(cases["allocation_queue_day"].to_numpy(), warmup, window_end)
    hi = np.clip(np.fmin(cases["allocation_start_day"].to_numpy(), horizon), warmup, window_end)
    waiting_days = pd.Series(hi - lo).groupby(cases["replication"].to_numpy()).sum()
    checks.append(_check("Lq", mmc_queue_length(lam, mu, c), waiting_days.to_numpy() / (window_end - warmup)))
    return checks


@pytest.mark.parametrize("kind,c,rho", [
    pytest.param(kind, c, rho, marks=() if (kind, c, rho) in FAST else pytest.mark.slow, id=f"{kind}-c{c}-rho{rho}")
    for kind, c, rho in GRID
])
def test_mean_wait_matches_theory(kind, c, rho):
    checks = grid_point_checks(kind, c, rho)
    report = f"{kind}, c={c}, rho={rho} ({REPLICATIONS} replications, t={T_QUANTILE:.2f}):\n" + "\n".join(map(str, checks))
    assert all(ch.covered for ch in checks), "simulation disagrees with theory\n" + report
    assert all(ch.rel_half_width < MAX_REL_HALF_WIDTH for ch in checks), "confidence interval too wide\n" + report


# ----------------------------------------------------------------------------- 4. pooling


def _two_forces(cfg: sim.SimConfig, pooled: bool) -> sim.SimConfig:
    """The reduced config as a region of two identical forces, their investigators pooled
    (with no hand-off delay) or not."""
    import dataclasses

    from sim.config.schema import ForceConfig
    from sim.core.distributions import Dist

    forces = tuple(ForceConfig(name, cfg.demand, cfg.staffing, cfg.training, cfg.stages) for name in ("a", "b"))
    pooling = dataclasses.replace(cfg.collaboration.pooling, investigators=pooled, handoff_days=Dist("fixed", value=0.0))
    return dataclasses.replace(cfg, forces=forces,
                               collaboration=dataclasses.replace(cfg.collaboration, pooling=pooling)).validate()


@pytest.mark.slow
def test_pooling_two_forces_is_one_mmc_with_twice_the_servers():
    """Two forces, each an M/M/c queue at load rho (the reduction above). Apart, each case
    waits as in M/M/c; pooled, the region is one M/M/2c queue with twice the arrivals, and
    its mean wait in queue is Erlang C's for 2c servers. Both are checked against theory with
    Bonferroni-corrected t intervals (four checks), and pooling must shorten the wait."""
    c, rho = 2, 0.8
    cfg, q = validation_config("mmc", c, rho, 100_000 / REPLICATIONS, REPLICATIONS)
    lam, mu, window_end = q["lam"], q["mu"], q["window_end"]
    t = stats.t.ppf(1 - FAMILY_ALPHA / 4 / 2, REPLICATIONS - 1)
    means, lines, ok = {}, [], True
    for pooled, theory in ((False, mmc_wait(lam, mu, c)), (True, mmc_wait(2 * lam, mu, 2 * c))):
        res = sim.simulate(_two_forces(cfg, pooled), progress=False)
        m = res.measured[res.measured["arrival_day"] < window_end]
        wait = m["allocation_start_day"] - m["allocation_queue_day"]
        assert wait.notna().all(), "lengthen the cool-down"
        per_rep = wait.groupby(m["replication"]).mean().to_numpy()
        by_force = wait.groupby([m["replication"], m["force"].astype(str)]).mean().unstack()
        for what, x in (("region", per_rep), ("force a", by_force["a"].to_numpy())):
            half = t * x.std(ddof=1) / math.sqrt(len(x))
            covered = abs(x.mean() - theory) <= half and half < MAX_REL_HALF_WIDTH * theory
            ok &= covered
            lines.append(f"{'pooled' if pooled else 'apart':>6} {what}: theory {theory:.5f}, simulated "
                         f"{x.mean():.5f} +- {half:.5f}{'' if covered else '  <-- OUTSIDE'}")
        means[pooled] = per_rep.mean()
        if pooled:  # a case of either force is served by either force's investigators
            held = m["investigated_by"].notna()
            assert (m.loc[held, "investigated_by"].astype(str) != m.loc[held, "force"].astype(str)).any()
    assert ok, "\n".join(lines)
    assert means[True] < means[False] / 2, "\n".join(lines)
