"""Working time <-> elapsed time.

The clock runs in elapsed days from day 0, a Monday at midnight. Staff and courts work the
first ``working_days_per_week`` days of each week, from ``day_start_hour`` for
``hours_per_day`` hours. Effort is mapped through this calendar in closed form (O(1) per
task) instead of simulating shifts, which is far cheaper.
"""

from __future__ import annotations

import math
from typing import Protocol


class WorkingWeek(Protocol):
    """The calendar's parameters (``sim.config.schema.CalendarConfig`` is one)."""

    enabled: bool
    working_days_per_week: int
    day_start_hour: float
    hours_per_day: float


class Calendar:
    """Closed-form conversions between elapsed days and cumulative working hours."""

    def __init__(self, cfg: WorkingWeek):
        self.enabled = cfg.enabled
        self.days_per_week = cfg.working_days_per_week
        self.start_h = cfg.day_start_hour
        self.hours = cfg.hours_per_day if cfg.enabled else 24.0
        self.week_hours = self.days_per_week * self.hours

    def work_hours_until(self, t_days: float) -> float:
        """Working hours from day 0 to elapsed day ``t_days``."""
        if not self.enabled:
            return 24.0 * t_days
        weeks = math.floor(t_days / 7.0)
        r = t_days - 7.0 * weeks
        d = math.floor(r)
        if d >= self.days_per_week:
            return (weeks + 1) * self.week_hours
        within = min(max((r - d) * 24.0 - self.start_h, 0.0), self.hours)
        return weeks * self.week_hours + d * self.hours + within

    def elapsed_at(self, work_hours: float) -> float:
        """The elapsed day at which cumulative working time reaches ``work_hours``; a task
        ending exactly at a day's close ends then, not at the next day's opening."""
        if not self.enabled:
            return work_hours / 24.0
        weeks = math.floor(work_hours / self.week_hours)
        rem = work_hours - weeks * self.week_hours
        d = math.floor(rem / self.hours)
        h = rem - d * self.hours
        if h <= 0.0 and (d > 0 or weeks > 0):
            if d == 0:
                weeks, d = weeks - 1, self.days_per_week
            d, h = d - 1, self.hours
        return weeks * 7.0 + d + (self.start_h + h) / 24.0

    def add_work_hours(self, t_days: float, hours: float) -> float:
        """The elapsed day when ``hours`` of work started at ``t_days`` are done: the same
        as ``elapsed_at(work_hours_until(t_days) + hours)``, written out in one function, as
        the model calls it for every task (the same arithmetic, so the same result)."""
        if not self.enabled:
            return t_days + hours / 24.0
        if hours <= 0.0:
            return t_days
        days_per_week, day_hours, week_hours = self.days_per_week, self.hours, self.week_hours
        # work_hours_until(t_days)
        weeks = math.floor(t_days / 7.0)
        r = t_days - 7.0 * weeks
        d = math.floor(r)
        if d >= days_per_week:
            until = (weeks + 1) * week_hours
        else:
            within = (r - d) * 24.0 - self.start_h  # clamped to [0, day_hours] as min(max(...)) does
            within = 0.0 if 0.0 > within else within
            within = day_hours if day_hours < within else within
            until = weeks * week_hours + d * day_hours + within
        # elapsed_at(until + hours)
        work_hours = until + hours
        weeks = math.floor(work_hours / week_hours)
        rem = work_hours - weeks * week_hours
        d = math.floor(rem / day_hours)
        h = rem - d * day_hours
        if h <= 0.0 and (d > 0 or weeks > 0):
            if d == 0:
                weeks, d = weeks - 1, days_per_week
            d, h = d - 1, day_hours
        return weeks * 7.0 + d + (self.start_h + h) / 24.0

    def is_working_day(self, day: int) -> bool:
        """Whether whole day number ``day`` is a working (and court sitting) day."""
        return (not self.enabled) or (day % 7) < self.days_per_week

    def next_working_day(self, day: int) -> int:
        """The first working day on or after whole day ``day``."""
        if not self.enabled:
            return day
        while (day % 7) >= self.days_per_week:
            day += 1
        return day

    def opening(self, day: int) -> float:
        """The elapsed time at which working day ``day`` opens."""
        return day + (self.start_h / 24.0 if self.enabled else 0.0)

    def next_opening(self, t_days: float) -> float:
        """``t_days`` if within working hours, else the next moment work starts."""
        if self.is_open(t_days):
            return t_days
        d = math.floor(t_days)
        if self.is_working_day(d) and (t_days - d) * 24.0 < self.start_h:
            return self.opening(d)
        return self.opening(self.next_working_day(d + 1))

    def is_open(self, t_days: float) -> bool:
        """Whether ``t_days`` falls within working hours."""
        if not self.enabled:
            return True
        d = math.floor(t_days)
        hour = (t_days - d) * 24.0
        return self.is_working_day(d) and self.start_h <= hour < self.start_h + self.hours
