"""Synthetic case logs with known parameters: the project's own test data for calibration.

A force's case log (docs/caselog.md) is made here by a small queueing process written for
the purpose, separate from casesim's model (it imports neither ``sim.model`` nor SimPy), so
a calibration that recovers these parameters has recovered them from data, not from its own
code. Every parameter is a field of :class:`SyntheticForce`; the defaults are a stressed
medium force, with the figures of ``configs/`` and their entries in docs/sources.md.

The process, one referral at a time (times in days, dates floored to calendar days):

1. **Referrals.** Month ``m`` brings a Poisson number of referrals with mean
   ``referrals_per_month * days_in_month / 30.42 * (1 + growth_per_year) ** years
   * (1 + seasonal_amplitude * cos(2 pi (calendar_month - seasonal_peak_month) / 12))``,
   ``years`` counted from ``start_date`` to the month's middle; their times are uniform
   within the month (:func:`expected_monthly_referrals` gives the means). The process starts
   ``warm_up_months`` earlier: the force was working before its extract begins, so the first
   logged month already meets a busy team; those earlier referrals are not in the log.
2. **Intake** (uniform ``intake_days``): a duplicate (``duplicate_probability``) is closed
   here, ungraded.
3. **Research** (triangular ``research_days_routine``; uniform ``research_days_urgent`` for a
   truly very-high or high-risk suspect, whose package shows the risk): an untraceable suspect
   (``untraceable_probability``) is closed here, ungraded. The others are graded at its end.
4. **Grading.** The assigned grade follows ``grade_mix``. A truly high-risk suspect (VH or H)
   is graded M or L with probability ``high_risk_graded_low_probability``; the true grade is
   drawn given the assigned one so that the assigned mix stays ``grade_mix``. A share
   ``review_share`` of graded cases is reviewed later (uniform ``review_after_days`` after
   grading); a review records the true grade in ``regraded_to`` and changes nothing else.
5. **Allocation**: ``investigators * caseload_limit`` caseload slots. A free slot takes a
   waiting VH case first, then H, then whichever M or L case is most overdue against its
   grade's target (waiting days / ``allocation_target_days``), so the routine grades' waits
   grow together as the load rises, L's about twice M's. A slot is held until the case ends.
6. **Planning** (uniform ``planning_days_urgent`` for VH and H, triangular
   ``planning_days_routine`` otherwise), then the warrant application.
7. **Court**: ``hearings_per_working_day`` hearings a weekday, booked in order of
   application from the next working day; VH is heard the same working day, whatever is
   booked. The warrant is refused with probability
   ``refusal_probability + refusal_probability_per_year_of_age * age`` (age of the
   intelligence in years at the decision: linear, as casesim's model has it); a refused case
   ends ``no_further_action`` on the decision date and frees its slot.
8. **Search**: ``search_teams * executions_per_team_per_day`` executions a weekday, booked
   from ``execution_lag_days_routine`` after the warrant; VH and H are executed on the first
   working day, whatever is booked. The outcome is an arrest (``arrest_probability``), a
   voluntary interview (``voluntary_interview_probability``) or the suspect not found (the
   rest: outcome ``untraceable`` with an enforcement date). The slot is held
   ``after_enforcement_days`` more (interviews, devices, the file).

The extract at ``as_of`` then shows what a force's system would: referrals after it are
absent, dates after it blank, a case without a terminal event by then open (outcome blank).
Some recorded dates are missing (``*_missing_share``: the date blank, the stage's other
fields kept) and ``out_of_order_rows`` rows have two stage dates swapped (suspicious but
usable: the reader warns about them). ``child_in_household`` is recorded once a case is
graded.

Magnitudes (the defaults) and why:

- ``referrals_per_month`` 56 at the start: a medium force, 30-75 a month (B12, B13, 'size');
  with ``growth_per_year`` 0.15 (national growth is about +19 % a year, A2/A3), 36 months
  bring about 2,500 referrals. ``seasonal_amplitude`` 0.15 peaking in March: [E], no
  published figure; it gives a count model a seasonal term to find.
- ``direct_share`` 0.12 (B-mix: 10-15 % reported directly); ``duplicate_probability`` 0.07
  (S-intake: 5-10 %); ``untraceable_probability`` 0.10 (S-research: 5-15 %); research delays
  of 1-10 days, hours if urgent (H9); ``child_in_household_probability`` 0.28 (I2).
- ``grade_mix`` (0.06, 0.17, 0.35, 0.42): the true mix of D-mix (0.07, 0.20, 0.33, 0.40) as
  assessors grade it with ``high_risk_graded_low_probability`` 0.15 (err: 0.02-0.05 trained,
  0.15-0.35 untrained; the baseline team is half trained).
- ``investigators`` 20 with ``caseload_limit`` 8 and ``search_teams`` 2 (configs/staffing/
  stressed.yaml, F1, F2); ``hearings_per_working_day`` 3 (H6/H7); allocation targets from
  A10 and D7 (M 14, L 30 days); ``after_enforcement_days`` [E] ('effort': 20-40 h after the
  arrest, spread over weeks beside a full caseload). Together they make a stressed force
  whose backlog grows with its demand: in the example log VH and H cases are allocated
  within a few days of grading and enforced within about a week of referral, M cases wait
  about three months for an investigator and L cases six (medians), L's wait growing from
  about four months in the first year to over a year by the end (E1, A6); a fifth of the
  cases are open at the extract.
- ``refusal_probability`` 0.02 (1-5 %) rising by 0.05 a year of age (E5: refused at
  17 months); ``arrest_probability`` 0.48 (I1, I4: 41-54 %), ``voluntary_interview_probability``
  0.45, the rest (0.07) not found.
- missing dates a few per cent, 6 rows out of order, a fifth of cases reviewed: [E].

Random numbers: each column of draws comes from its own named stream (a numpy
``SeedSequence`` keyed by the seed and the CRC-32 of the stream's name), so changing one
parameter leaves the draws of unrelated columns as they were; the warm-up's referrals have
streams of their own, so the logged cases' draws do not depend on ``warm_up_months``.

>>> log = synthetic_case_log(SyntheticForce(months=3, warm_up_months=0), seed=1)
>>> list(log.columns[:4])
['case_id', 'referral_date', 'source', 'grade']
>>> log["referral_date"].min() >= "2022-01-01", log["referral_date"].max() <= "2022-03-31"
(True, True)

Regenerate the shipped example log (sim/data/example_caselog.csv) with::

    .venv/bin/python -m sim.calibration.synthetic --out sim/data/example_caselog.csv
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import math
import sys
import zlib
from collections import deque
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from ..domain import DAYS_PER_MONTH, DAYS_PER_YEAR, GRADES
from ..errors import ConfigError, check, check_non_negative, check_probability

COLUMNS: tuple[str, ...] = (
    "case_id", "referral_date", "source", "grade", "graded_date", "allocated_date",
    "warrant_applied_date", "warrant_decision", "warrant_decision_date", "enforcement_date",
    "outcome", "closed_date", "regraded_to", "child_in_household",
)
"""The case log's columns in the order of docs/caselog.md."""

STAGE_ORDER: tuple[str, ...] = (
    "referral_date", "graded_date", "allocated_date", "warrant_applied_date",
    "warrant_decision_date", "enforcement_date",
)
"""The dates a case records in the order its stages happen."""

OUT_OF_ORDER_PAIRS: tuple[tuple[str, str], ...] = (
    ("graded_date", "allocated_date"),
    ("warrant_applied_date", "warrant_decision_date"),
    ("allocated_date", "warrant_applied_date"),
)
"""The pairs of dates swapped in the out-of-order rows, taken in turn."""

EXAMPLE_SEED = 11
"""The seed of the shipped example log."""
EXAMPLE_PATH = Path(__file__).resolve().parents[1] / "data" / "example_caselog.csv"
"""The shipped example log, made from ``SyntheticForce()`` and ``EXAMPLE_SEED``."""

MAX_MONTHS = 600
"""Fifty years: far longer than any extract a force keeps."""
MAX_REFERRALS_PER_MONTH = 10_000.0
"""Far more than the largest force's referrals (a few hundred a month, 'size')."""

_VH, _H, _M, _L = range(4)
_DUPLICATE, _UNTRACEABLE, _NFA, _ARREST, _INTERVIEW, _NOT_FOUND = range(6)
_OUTCOME_NAMES = ("duplicate", "untraceable", "no_further_action", "arrest", "voluntary_interview", "untraceable")


@dataclass(frozen=True)
class SyntheticForce:
    """The known parameters of a synthetic force (see the module's docstring for the process
    and the reasons for each default). Ranges are ``(low, high)`` for a uniform delay and
    ``(low, mode, high)`` for a triangular one, in days; per-grade tuples are in the order
    VH, H, M, L. Invalid values raise :class:`sim.errors.ConfigError`."""

    start_date: dt.date = dt.date(2022, 1, 1)
    months: int = 36
    warm_up_months: int = 12
    referrals_per_month: float = 56.0
    growth_per_year: float = 0.15
    seasonal_amplitude: float = 0.15
    seasonal_peak_month: int = 3
    direct_share: float = 0.12
    grade_mix: tuple[float, float, float, float] = (0.06, 0.17, 0.35, 0.42)
    high_risk_graded_low_probability: float = 0.15
    duplicate_probability: float = 0.07
    untraceable_probability: float = 0.10
    child_in_household_probability: float = 0.28
    intake_days: tuple[float, float] = (0.0, 3.0)
    research_days_routine: tuple[float, float, float] = (1.0, 4.0, 10.0)
    research_days_urgent: tuple[float, float] = (0.1, 0.5)
    investigators: int = 20
    caseload_limit: int = 8
    allocation_target_days: tuple[float, float] = (14.0, 30.0)
    planning_days_urgent: tuple[float, float] = (0.0, 2.0)
    planning_days_routine: tuple[float, float, float] = (3.0, 14.0, 45.0)
    hearings_per_working_day: int = 3
    refusal_probability: float = 0.02
    refusal_probability_per_year_of_age: float = 0.05
    search_teams: int = 2
    executions_per_team_per_day: int = 1
    execution_lag_days_routine: tuple[float, float] = (1.0, 5.0)
    arrest_probability: float = 0.48
    voluntary_interview_probability: float = 0.45
    after_enforcement_days: tuple[float, float, float] = (30.0, 85.0, 170.0)
    review_share: float = 0.2
    review_after_days: tuple[float, float] = (30.0, 365.0)
    graded_date_missing_share: float = 0.03
    allocated_date_missing_share: float = 0.02
    warrant_applied_date_missing_share: float = 0.04
    warrant_decision_date_missing_share: float = 0.02
    out_of_order_rows: int = 6

    def __post_init__(self):
        start = self.start_date
        if isinstance(start, str):
            try:
                start = dt.date.fromisoformat(start)
            except ValueError:
                raise ConfigError("start_date", self.start_date, "a date YYYY-MM-DD") from None
            object.__setattr__(self, "start_date", start)
        check(isinstance(start, dt.date) and start.day == 1, "start_date", self.start_date,
              "the first day of a month (the log counts calendar months)")
        check(_is_int(self.months) and 1 <= self.months <= MAX_MONTHS, "months", self.months,
              f"a whole number of months from 1 to {MAX_MONTHS}")
        check(_is_int(self.warm_up_months) and 0 <= self.warm_up_months <= MAX_MONTHS, "warm_up_months",
              self.warm_up_months, f"a whole number of months from 0 to {MAX_MONTHS}")
        check(0 < self.referrals_per_month <= MAX_REFERRALS_PER_MONTH, "referrals_per_month",
              self.referrals_per_month, f"more than 0 and at most {MAX_REFERRALS_PER_MONTH:,.0f}")
        check(-0.9 <= self.growth_per_year <= 10.0, "growth_per_year", self.growth_per_year,
              "from -0.9 to 10 (a share a year: 0.15 = +15 %)")
        check(0.0 <= self.seasonal_amplitude < 1.0, "seasonal_amplitude", self.seasonal_amplitude,
              "from 0 to below 1 (a share of the mean either side)")
        check(_is_int(self.seasonal_peak_month) and 1 <= self.seasonal_peak_month <= 12, "seasonal_peak_month",
              self.seasonal_peak_month, "a calendar month from 1 to 12")
        check(len(self.grade_mix) == len(GRADES), "grade_mix", self.grade_mix, "four shares: VH, H, M, L")
        for grade, share in zip(GRADES, self.grade_mix):
            check_probability(f"grade_mix.{grade}", share)
        check(abs(sum(self.grade_mix) - 1.0) < 1e-9, "grade_mix", self.grade_mix, "shares summing to 1")
        for name in ("direct_share", "high_risk_graded_low_probability", "duplicate_probability",
                     "untraceable_probability", "child_in_household_probability", "refusal_probability",
                     "refusal_probability_per_year_of_age", "arrest_probability", "voluntary_interview_probability",
                     "review_share", "graded_date_missing_share", "allocated_date_missing_share",
                     "warrant_applied_date_missing_share", "warrant_decision_date_missing_share"):
            check_probability(name, getattr(self, name))
        check(self.arrest_probability + self.voluntary_interview_probability <= 1.0 + 1e-12,
              "voluntary_interview_probability", self.voluntary_interview_probability,
              f"at most 1 - arrest_probability ({1 - self.arrest_probability:g}): the rest are not found")
        check(_misgraded_share_of_low(self) <= 1.0, "high_risk_graded_low_probability",
              self.high_risk_graded_low_probability,
              "too high for grade_mix: more truly high-risk suspects graded M or L than there are M and L grades")
        for name in ("intake_days", "research_days_urgent", "planning_days_urgent", "execution_lag_days_routine",
                     "review_after_days", "allocation_target_days"):
            _check_range(name, getattr(self, name), 2)
        for name in ("research_days_routine", "planning_days_routine", "after_enforcement_days"):
            _check_range(name, getattr(self, name), 3)
        check(min(self.allocation_target_days) > 0, "allocation_target_days", self.allocation_target_days,
              "two targets in days (M, L), each more than 0")
        for name in ("investigators", "caseload_limit", "hearings_per_working_day", "search_teams",
                     "executions_per_team_per_day"):
            value = getattr(self, name)
            check(_is_int(value) and 1 <= value <= 100_000, name, value, "a whole number from 1 to 100,000")
        check(_is_int(self.out_of_order_rows) and self.out_of_order_rows >= 0, "out_of_order_rows",
              self.out_of_order_rows, "a whole number of rows, 0 or more")

    @property
    def end_date(self) -> dt.date:
        """The last day of the log's period (its default ``as_of``)."""
        return (pd.Timestamp(self.start_date) + pd.DateOffset(months=self.months) - pd.Timedelta(days=1)).date()


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_range(name: str, values: tuple[float, ...], size: int) -> None:
    shape = "(low, high)" if size == 2 else "(low, mode, high)"
    check(len(values) == size and all(np.isfinite(v) for v in values), name, values, f"{shape} in days")
    check_non_negative(name, min(values))
    check(list(values) == sorted(values), name, values, f"{shape} in days, in increasing order")
    check(max(values) <= 10 * DAYS_PER_YEAR, name, values, "at most ten years")


def _true_high_shares(force: SyntheticForce) -> tuple[float, float]:
    """The true shares of VH and H suspects that make the assigned mix ``grade_mix``."""
    kept = 1.0 - force.high_risk_graded_low_probability
    if kept == 0:
        return (math.inf, math.inf) if force.grade_mix[_VH] + force.grade_mix[_H] > 0 else (0.0, 0.0)
    return force.grade_mix[_VH] / kept, force.grade_mix[_H] / kept


def _misgraded_share_of_low(force: SyntheticForce) -> float:
    """The share of cases graded M or L that are truly VH or H."""
    low = force.grade_mix[_M] + force.grade_mix[_L]
    true_vh, true_h = _true_high_shares(force)
    misgraded = (true_vh + true_h) * force.high_risk_graded_low_probability
    if misgraded == 0:
        return 0.0
    return misgraded / low if low > 0 else math.inf


def expected_monthly_referrals(force: SyntheticForce) -> pd.Series:
    """The mean number of referrals of each month of the log (indexed by the month's first
    day): the Poisson means the generator draws from, for tests of a count model.

    >>> expected_monthly_referrals(SyntheticForce(months=2, seasonal_amplitude=0.0)).round(1).tolist()
    [57.4, 52.4]
    """
    starts = _month_starts(force.start_date, 0, force.months)
    return pd.Series(_monthly_means(force, starts), index=pd.DatetimeIndex(starts[:-1], name="month"),
                     name="expected_referrals")


def _month_starts(start: dt.date, first: int, count: int) -> np.ndarray:
    """``count + 1`` month boundaries (datetime64[D]) from ``first`` months after ``start``."""
    month0 = np.datetime64(start, "M") + first
    return (month0 + np.arange(count + 1)).astype("datetime64[D]")


def _monthly_means(force: SyntheticForce, starts: np.ndarray) -> np.ndarray:
    days = np.diff(starts).astype(float)
    origin = np.datetime64(force.start_date, "D")
    middle_years = ((starts[:-1] - origin).astype(float) + days / 2) / DAYS_PER_YEAR
    calendar_month = starts[:-1].astype("datetime64[M]").astype(int) % 12 + 1
    season = 1.0 + force.seasonal_amplitude * np.cos(2 * np.pi * (calendar_month - force.seasonal_peak_month) / 12)
    return force.referrals_per_month * days / DAYS_PER_MONTH * (1.0 + force.growth_per_year) ** middle_years * season


class _Streams:
    """One generator per stream name under a seed: a stream's draws depend on its name only."""

    def __init__(self, seed: int, prefix: str = ""):
        self.seed, self.prefix = int(seed), prefix

    def __call__(self, name: str) -> np.random.Generator:
        key = zlib.crc32((self.prefix + name).encode("utf-8"))
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy=self.seed, spawn_key=(key,))))

    def uniforms(self, name: str, n: int) -> np.ndarray:
        return self(name).random(n)


def _uniform(u: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    low, high = bounds
    return low + (high - low) * u


def _triangular(u: np.ndarray, bounds: tuple[float, float, float]) -> np.ndarray:
    """Inverse-transform triangular draws: one uniform a case, so each case's delay is its own."""
    low, mode, high = bounds
    if high == low:
        return np.full_like(u, low)
    cut = (mode - low) / (high - low)
    rising = low + np.sqrt(u * (high - low) * (mode - low))
    falling = high - np.sqrt((1 - u) * (high - low) * (high - mode))
    return np.where(u < cut, rising, falling)


@dataclass(frozen=True)
class _Cases:
    """Every case's draws, made before the process runs; times in days from the process's
    origin (the first day of the warm-up)."""

    referral_day: np.ndarray
    logged: np.ndarray  # referred on or after start_date (the warm-up's referrals are not in the log)
    direct: np.ndarray
    grade: np.ndarray  # assigned: 0..3 = VH..L
    true_grade: np.ndarray
    duplicate: np.ndarray
    untraceable: np.ndarray
    child: np.ndarray
    intake_days: np.ndarray
    research_days: np.ndarray
    planning_days: np.ndarray
    execution_lag_days: np.ndarray
    refusal_u: np.ndarray
    outcome_u: np.ndarray
    after_enforcement_days: np.ndarray
    reviewed: np.ndarray
    review_after_days: np.ndarray
    missing_u: dict[str, np.ndarray]


def _draw_cases(force: SyntheticForce, streams: _Streams, first_month: int, months: int, origin: np.datetime64,
                logged: bool) -> _Cases:
    """The referrals of ``months`` months from ``first_month`` (relative to ``start_date``)
    and their draws, each column from its own stream."""
    starts = _month_starts(force.start_date, first_month, months)
    counts = streams("referral_counts").poisson(_monthly_means(force, starts))
    month_of_case = np.repeat(np.arange(months), counts)
    month_days = np.diff(starts).astype(float)
    within = streams("referral_times").random(len(month_of_case)) * month_days[month_of_case]
    referral_day = np.sort((starts[:-1] - origin).astype(float)[month_of_case] + within)
    n = len(referral_day)

    grade = np.searchsorted(np.cumsum(force.grade_mix)[:-1], streams.uniforms("grade", n), side="right")
    # A case graded M or L is truly VH or H with the share that keeps the assigned mix at
    # grade_mix; which of the two follows their assigned shares.
    u = streams.uniforms("true_grade", n)
    high = force.grade_mix[_VH] + force.grade_mix[_H]
    truly_high_share = _misgraded_share_of_low(force)
    vh_share = force.grade_mix[_VH] / high if high > 0 else 0.0
    true_grade = np.where((grade >= _M) & (u < truly_high_share),
                          np.where(u < truly_high_share * vh_share, _VH, _H), grade)

    urgent_research = true_grade <= _H
    urgent_grade = grade <= _H
    research_u = streams.uniforms("research_days", n)
    planning_u = streams.uniforms("planning_days", n)
    return _Cases(
        referral_day=referral_day,
        logged=np.full(n, logged),
        direct=streams.uniforms("source", n) < force.direct_share,
        grade=grade,
        true_grade=true_grade,
        duplicate=streams.uniforms("duplicate", n) < force.duplicate_probability,
        untraceable=streams.uniforms("untraceable", n) < force.untraceable_probability,
        child=streams.uniforms("child_in_household", n) < force.child_in_household_probability,
        intake_days=_uniform(streams.uniforms("intake_days", n), force.intake_days),
        research_days=np.where(urgent_research, _uniform(research_u, force.research_days_urgent),
                               _triangular(research_u, force.research_days_routine)),
        planning_days=np.where(urgent_grade, _uniform(planning_u, force.planning_days_urgent),
                               _triangular(planning_u, force.planning_days_routine)),
        execution_lag_days=np.where(urgent_grade, 0.0, _uniform(streams.uniforms("execution_lag_days", n),
                                                                force.execution_lag_days_routine)),
        refusal_u=streams.uniforms("refusal", n),
        outcome_u=streams.uniforms("outcome", n),
        after_enforcement_days=_triangular(streams.uniforms("after_enforcement_days", n), force.after_enforcement_days),
        reviewed=streams.uniforms("review", n) < force.review_share,
        review_after_days=_uniform(streams.uniforms("review_after_days", n), force.review_after_days),
        missing_u={name: streams.uniforms(f"missing/{name}", n) for name in
                   ("graded_date", "allocated_date", "warrant_applied_date", "warrant_decision_date")},
    )


def _joined(first: _Cases, second: _Cases) -> _Cases:
    joined = {}
    for f in fields(_Cases):
        a, b = getattr(first, f.name), getattr(second, f.name)
        joined[f.name] = {k: np.concatenate([a[k], b[k]]) for k in a} if isinstance(a, dict) else np.concatenate([a, b])
    return _Cases(**joined)


@dataclass
class _Times:
    """What happened to each case, in days from the origin (NaN: never)."""

    graded: np.ndarray
    allocated: np.ndarray
    applied: np.ndarray
    decided: np.ndarray
    refused: np.ndarray
    enforced: np.ndarray
    closed: np.ndarray
    outcome: np.ndarray  # _DUPLICATE.., -1 while open


class _Diary:
    """Bookings a working day (Monday to Friday) up to a daily limit."""

    def __init__(self, per_day: int, origin_weekday: int):
        self.per_day, self.origin_weekday = per_day, origin_weekday
        self.booked: dict[int, int] = {}

    def working_day_from(self, day: int) -> int:
        while (self.origin_weekday + day) % 7 >= 5:
            day += 1
        return day

    def book(self, earliest_day: int, whatever_is_booked: bool) -> int:
        """The first working day from ``earliest_day`` with room (any working day if
        ``whatever_is_booked``), booked."""
        day = self.working_day_from(earliest_day)
        while not whatever_is_booked and self.booked.get(day, 0) >= self.per_day:
            day = self.working_day_from(day + 1)
        self.booked[day] = self.booked.get(day, 0) + 1
        return day


_GRADED, _PLANNED, _DECIDED, _RELEASED = range(4)


def _run_process(force: SyntheticForce, cases: _Cases, origin_weekday: int) -> _Times:
    """The queueing process of the module's docstring, event by event in time order."""
    n = len(cases.referral_day)
    graded, allocated, applied, decided, enforced, closed = (np.full(n, np.nan) for _ in range(6))
    t = _Times(graded=graded, allocated=allocated, applied=applied, decided=decided, refused=np.zeros(n, dtype=bool),
               enforced=enforced, closed=closed, outcome=np.full(n, -1))
    events: list[tuple[float, int, int, int]] = []
    order = 0

    def schedule(time: float, kind: int, case: int) -> None:
        nonlocal order
        heapq.heappush(events, (time, order, kind, case))
        order += 1

    after_intake = cases.referral_day + cases.intake_days
    for i in range(n):
        if cases.duplicate[i]:
            t.closed[i], t.outcome[i] = after_intake[i], _DUPLICATE
        elif cases.untraceable[i]:
            t.closed[i], t.outcome[i] = after_intake[i] + cases.research_days[i], _UNTRACEABLE
        else:
            t.graded[i] = after_intake[i] + cases.research_days[i]
            schedule(t.graded[i], _GRADED, i)

    waiting: list[deque[int]] = [deque() for _ in GRADES]
    free_slots = force.investigators * force.caseload_limit
    target_m_days, target_l_days = force.allocation_target_days
    court = _Diary(force.hearings_per_working_day, origin_weekday)
    search = _Diary(force.search_teams * force.executions_per_team_per_day, origin_weekday)

    def next_case(now: float) -> int | None:
        for grade in (_VH, _H):
            if waiting[grade]:
                return waiting[grade].popleft()
        overdue = [(now - t.graded[waiting[g][0]]) / target if waiting[g] else -math.inf
                   for g, target in ((_M, target_m_days), (_L, target_l_days))]
        if overdue == [-math.inf, -math.inf]:
            return None
        return waiting[_M if overdue[0] >= overdue[1] else _L].popleft()

    while events:
        now, _, kind, i = heapq.heappop(events)
        if kind == _GRADED:
            waiting[cases.grade[i]].append(i)
        elif kind == _RELEASED:
            free_slots += 1
        elif kind == _PLANNED:
            t.applied[i] = now
            same_day = cases.grade[i] == _VH
            day = court.book(math.floor(now) + (0 if same_day else 1), whatever_is_booked=same_day)
            schedule(max(now, day + 0.5), _DECIDED, i)
        elif kind == _DECIDED:
            t.decided[i] = now
            age_years = (now - cases.referral_day[i]) / DAYS_PER_YEAR
            if cases.refusal_u[i] < force.refusal_probability + force.refusal_probability_per_year_of_age * age_years:
                t.refused[i], t.closed[i], t.outcome[i] = True, now, _NFA
                schedule(now, _RELEASED, i)
            else:
                earliest = now + cases.execution_lag_days[i]
                day = search.book(math.floor(earliest), whatever_is_booked=bool(cases.grade[i] <= _H))
                t.enforced[i] = max(earliest, day + 0.25)
                u = cases.outcome_u[i]
                t.outcome[i] = (_ARREST if u < force.arrest_probability else
                                _INTERVIEW if u < force.arrest_probability + force.voluntary_interview_probability
                                else _NOT_FOUND)
                schedule(t.enforced[i] + cases.after_enforcement_days[i], _RELEASED, i)
        while free_slots > 0:
            chosen = next_case(now)
            if chosen is None:
                break
            free_slots -= 1
            t.allocated[chosen] = now
            schedule(now + cases.planning_days[chosen], _PLANNED, chosen)
    return t


def _parse_as_of(force: SyntheticForce, as_of) -> dt.date:
    if as_of is None:
        return force.end_date
    try:
        day = pd.Timestamp(as_of)
    except (ValueError, TypeError):
        raise ConfigError("as_of", as_of, "a date YYYY-MM-DD") from None
    check(not pd.isna(day) and force.start_date <= day.date() <= force.end_date, "as_of", as_of,
          f"a date from {force.start_date} to {force.end_date} (the log's period)")
    return day.date()


def synthetic_case_log(force: SyntheticForce, seed: int, as_of=None) -> pd.DataFrame:
    """A synthetic force's case log as extracted at the end of ``as_of`` (default: the last
    day of its period), in the file form of docs/caselog.md: one row per referral, the
    columns of :data:`COLUMNS`, every value text (dates ``YYYY-MM-DD``, flags ``true``/
    ``false``) or missing, as ``pandas.read_csv(path, dtype=str)`` reads the written file.
    The whole period is simulated whatever ``as_of``; ``as_of`` only censors, so an earlier
    extract shows the same cases as they stood then (bar which rows are out of order)."""
    check(_is_int(seed) and seed >= 0, "seed", seed, "a whole number, 0 or more")
    extract_day = _parse_as_of(force, as_of)
    origin = (np.datetime64(force.start_date, "M") - force.warm_up_months).astype("datetime64[D]")
    warm_up = _draw_cases(force, _Streams(seed, "warm_up/"), -force.warm_up_months, force.warm_up_months, origin,
                          logged=False)
    logged = _draw_cases(force, _Streams(seed), 0, force.months, origin, logged=True)
    cases = _joined(warm_up, logged)
    times = _run_process(force, cases, origin_weekday=int((origin.astype(int) + 3) % 7))  # 1970-01-01: a Thursday
    return _file_form(force, cases, times, origin, extract_day, _Streams(seed))


def _file_form(force: SyntheticForce, cases: _Cases, times: _Times, origin: np.datetime64, extract_day: dt.date,
               streams: _Streams) -> pd.DataFrame:
    last = float((np.datetime64(extract_day, "D") - origin).astype(int))
    rows = np.flatnonzero(cases.logged & (np.floor(cases.referral_day) <= last))

    def day_of(values: np.ndarray) -> np.ndarray:
        """Whole days from the origin, NaN where never or not yet by the extract."""
        days = np.floor(values[rows])
        return np.where(days <= last, days, np.nan)

    graded = day_of(times.graded)
    decided = day_of(times.decided)
    enforced = day_of(times.enforced)
    closed = day_of(times.closed)
    ended = ~np.isnan(enforced) | ~np.isnan(closed)
    review_day = np.floor(times.graded[rows] + cases.review_after_days[rows])
    days = {
        "referral_date": np.floor(cases.referral_day[rows]),
        "graded_date": graded,
        "allocated_date": day_of(times.allocated),
        "warrant_applied_date": day_of(times.applied),
        "warrant_decision_date": decided,
        "enforcement_date": enforced,
        "closed_date": closed,
    }
    recorded = {name: np.where(cases.missing_u[name][rows] < getattr(force, f"{name}_missing_share"), np.nan,
                               days[name]) for name in cases.missing_u}
    days.update(recorded)
    _swap_out_of_order(days, force.out_of_order_rows, streams("out_of_order"))

    grades = np.array(GRADES, dtype=object)
    is_graded = ~np.isnan(graded)
    frame = pd.DataFrame({
        "case_id": [f"OCSA-{k:05d}" for k in range(1, len(rows) + 1)],
        "referral_date": _dates(days["referral_date"], origin),
        "source": np.where(cases.direct[rows], "direct", "nca"),
        "grade": _text(np.where(is_graded, grades[cases.grade[rows]], None)),
        "graded_date": _dates(days["graded_date"], origin),
        "allocated_date": _dates(days["allocated_date"], origin),
        "warrant_applied_date": _dates(days["warrant_applied_date"], origin),
        "warrant_decision": _text(np.where(np.isnan(decided), None,
                                           np.where(times.refused[rows], "refused", "granted"))),
        "warrant_decision_date": _dates(days["warrant_decision_date"], origin),
        "enforcement_date": _dates(days["enforcement_date"], origin),
        "outcome": _text(np.where(ended, np.array(_OUTCOME_NAMES, dtype=object)[times.outcome[rows]], None)),
        "closed_date": _dates(days["closed_date"], origin),
        "regraded_to": _text(np.where(is_graded & cases.reviewed[rows] & (review_day <= last),
                                      grades[cases.true_grade[rows]], None)),
        "child_in_household": _text(np.where(is_graded, np.where(cases.child[rows], "true", "false"), None)),
    })
    return frame[list(COLUMNS)]


def _swap_out_of_order(days: dict[str, np.ndarray], count: int, gen: np.random.Generator) -> None:
    """Swap two stage dates in ``count`` rows, the pairs of OUT_OF_ORDER_PAIRS in turn, rows
    taken in a random order among those whose two dates are both recorded and differ (a row
    whose pair of the turn does not fit takes the next pair that does)."""
    taken = 0
    for row in gen.permutation(len(days["referral_date"])):
        if taken == count:
            return
        for k in range(len(OUT_OF_ORDER_PAIRS)):  # the pair whose turn it is, else the next that fits
            first, second = OUT_OF_ORDER_PAIRS[(taken + k) % len(OUT_OF_ORDER_PAIRS)]
            if days[first][row] < days[second][row]:  # False if either is NaN
                days[first][row], days[second][row] = days[second][row], days[first][row]
                taken += 1
                break
    check(taken == count, "out_of_order_rows", count,
          f"at most {taken} rows of this log have two stage dates of the kind needed to swap")


def _dates(days: np.ndarray, origin: np.datetime64) -> pd.Series:
    known = ~np.isnan(days)
    text = np.full(len(days), None, dtype=object)
    text[known] = np.datetime_as_string(origin + days[known].astype("timedelta64[D]"), unit="D")
    return _text(text)


def _text(values: np.ndarray) -> pd.Series:
    return pd.Series(values, dtype="str")


def write_synthetic_case_log(path, force: SyntheticForce, seed: int, as_of=None) -> Path:
    """Write :func:`synthetic_case_log` to ``path`` as CSV (ISO dates, blank cells for
    missing values, ``\\n`` line ends: the same bytes on every platform). Returns the path."""
    frame = synthetic_case_log(force, seed, as_of)
    path = Path(path)
    frame.to_csv(path, index=False, lineterminator="\n")
    return path


class _OneLineParser(argparse.ArgumentParser):
    """The house rule for bad input: one line on stderr, exit code 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.calibration.synthetic --out PATH [--seed N] [--as-of DATE]``: write the
    default synthetic force's case log (with the defaults: the shipped example log)."""
    parser = _OneLineParser(prog="python -m sim.calibration.synthetic",
                            description="Write a synthetic force's case log (CSV) with known parameters.")
    parser.add_argument("--out", required=True, help="the CSV file to write")
    parser.add_argument("--seed", type=int, default=EXAMPLE_SEED, help=f"random seed (default {EXAMPLE_SEED})")
    parser.add_argument("--as-of", default=None, help="extract date YYYY-MM-DD (default: the period's last day)")
    args = parser.parse_args(argv)
    try:
        out = Path(args.out)
        check(out.suffix.lower() == ".csv", "--out", args.out, "a path ending .csv")
        check(out.parent.is_dir(), "--out", args.out, "a file in an existing folder")
        write_synthetic_case_log(out, SyntheticForce(), args.seed, args.as_of)
    except ConfigError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
