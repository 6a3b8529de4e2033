"""Working-time calendar: closed-form conversions against a brute-force count."""

from __future__ import annotations

import numpy as np
import pytest

from sim.core.calendar import Calendar
from sim.config.schema import CalendarConfig

CAL = Calendar(CalendarConfig(enabled=True, working_days_per_week=5, day_start_hour=8.0, hours_per_day=7.5))


def brute_work_hours(t_days: float, step_h: float = 0.25) -> float:
    """Working hours in [0, t) counted in quarter-hour steps."""
    n = int(round(t_days * 24 / step_h))
    hours = np.arange(n) * step_h
    day = np.floor(hours / 24).astype(int)
    hod = hours - day * 24
    open_ = ((day % 7) < 5) & (hod >= 8.0) & (hod < 15.5)
    return open_.sum() * step_h


@pytest.mark.parametrize("t", [0.0, 0.25, 0.5, 1.0, 4.6, 5.5, 6.9, 7.0, 7.4, 13.3, 30.0])
def test_work_hours_matches_brute_force(t):
    t = round(t * 96) / 96  # on the quarter-hour grid
    assert CAL.work_hours_until(t) == pytest.approx(brute_work_hours(t), abs=1e-9)


def test_weekend_adds_no_hours():
    assert CAL.work_hours_until(5.0) == CAL.work_hours_until(7.0) == 5 * 7.5


@pytest.mark.parametrize("start", [0.0, 0.3, 0.5, 0.99, 4.6, 5.2, 6.5, 11.37])
@pytest.mark.parametrize("hours", [0.5, 3.0, 7.5, 8.0, 40.0, 123.4])
def test_add_work_hours_is_inverse(start, hours):
    end = CAL.add_work_hours(start, hours)
    assert end > start
    assert CAL.work_hours_until(end) - CAL.work_hours_until(start) == pytest.approx(hours)
    assert CAL.is_open(end - 1e-9)  # work ends inside office hours


def test_add_work_hours_is_exactly_the_two_conversions():
    # add_work_hours writes both conversions out in one function for speed; it must give
    # the very same float, or the model's results would move.
    rng = np.random.default_rng(7)
    starts = np.concatenate([rng.uniform(0, 400, 2000), np.arange(0, 21, 1 / 96), [1 / 3, 5.0, 7.0]])
    hours = np.concatenate([rng.lognormal(1.5, 1.2, 2000), rng.choice([7.5, 15.0, 37.5], starts.size - 2000)])
    for start, h in zip(starts.tolist(), hours.tolist()):
        assert CAL.add_work_hours(start, h) == CAL.elapsed_at(CAL.work_hours_until(start) + h)


def test_task_ending_at_close_ends_that_day():
    # Monday 08:00 + 7.5 h ends Monday 15:30, not Tuesday 08:00.
    assert CAL.add_work_hours(1 / 3, 7.5) == pytest.approx(15.5 / 24)


def test_next_opening_and_working_days():
    assert CAL.next_opening(0.5) == 0.5  # Monday noon: open
    assert CAL.next_opening(0.1) == pytest.approx(8 / 24)  # Monday 02:24: opens 08:00
    assert CAL.next_opening(4.9) == pytest.approx(7 + 8 / 24)  # Friday night: Monday
    assert [CAL.is_working_day(d) for d in range(8)] == [True] * 5 + [False, False, True]
    assert CAL.next_working_day(5) == 7


def test_continuous_calendar_is_elapsed_time():
    cal = Calendar(CalendarConfig(enabled=False, working_days_per_week=7, day_start_hour=0.0, hours_per_day=24.0))
    assert cal.add_work_hours(3.3, 12.0) == pytest.approx(3.8)
    assert cal.work_hours_until(2.0) == 48.0
    assert cal.next_opening(5.77) == 5.77
