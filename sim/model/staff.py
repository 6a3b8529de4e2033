"""Staff pools (SimPy resources with busy-time accounting) and day books (court sitting
slots and search-team days, booked by arithmetic rather than simulated as processes)."""

from __future__ import annotations

from collections import defaultdict

import simpy

from ..calendar import Calendar


class Pool:
    """A pool of interchangeable staff. ``busy_hours`` sums the working hours its members
    spend on tasks inside the measurement window [start_day, end_day]."""

    def __init__(self, env: simpy.Environment, name: str, capacity: int, cal: Calendar,
                 start_day: float, end_day: float, priority: bool = False):
        self.name, self.capacity, self.cal = name, capacity, cal
        self.res = (simpy.PriorityResource if priority else simpy.Resource)(env, capacity=capacity)
        self.start_day, self.end_day = start_day, end_day
        self.busy_hours = 0.0

    def add_busy(self, t0: float, t1: float) -> None:
        a = t0 if t0 > self.start_day else self.start_day
        b = t1 if t1 < self.end_day else self.end_day
        if b > a:
            self.busy_hours += self.cal.work_hours_until(b) - self.cal.work_hours_until(a)

    def available_hours(self) -> float:
        """Working hours the whole pool has inside the window."""
        w = self.cal.work_hours_until
        return self.capacity * (w(self.end_day) - w(self.start_day))


class DayBook:
    """Bookings of a daily capacity on working days (court slots, warrant executions)."""

    def __init__(self, cal: Calendar, per_day: int):
        self.cal, self.per_day = cal, per_day
        self.booked: defaultdict[int, int] = defaultdict(int)

    def first_free(self, day: int) -> int:
        """The first working day on or after ``day`` with a free place (not booked)."""
        nwd, booked, cap = self.cal.next_working_day, self.booked, self.per_day
        d = nwd(day)
        while booked[d] >= cap:
            d = nwd(d + 1)
        return d

    def book(self, day: int) -> None:
        self.booked[day] += 1
