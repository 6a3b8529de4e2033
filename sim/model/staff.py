"""Staff pools (SimPy resources with busy-time accounting) and day books (court sitting
slots and search-team days, booked by arithmetic rather than simulated as processes)."""

from __future__ import annotations

import bisect
import math
import operator
from collections import defaultdict

import simpy

from ..calendar import Calendar


_KEY = operator.attrgetter("key")


class _InsortQueue(list):
    """SimPy's priority queue re-sorts the whole list on every request; inserting in place
    (after equal keys, as the stable sort would) gives the same order far more cheaply."""

    maxlen = None

    def append(self, item) -> None:
        bisect.insort_right(self, item, key=_KEY)


class PriorityResource(simpy.PriorityResource):
    """``simpy.PriorityResource`` with an O(log n) queue insert; same service order."""

    PutQueue = _InsortQueue


class Blocker:
    """Takes servers of a priority resource out of use (posts not yet filled, staff who have
    left) by holding requests that outrank every case; a change takes effect as servers
    come free, as it would in a team."""

    def __init__(self, res: PriorityResource):
        self.res = res
        self.held: list = []

    def set(self, n: int) -> None:
        while len(self.held) < n:
            self.held.append(self.res.request(priority=-1))
        while len(self.held) > n:
            req = self.held.pop()
            if req.triggered:
                self.res.release(req)
            else:
                req.cancel()

    @property
    def in_use(self) -> int:
        """Servers the blocks hold now."""
        return sum(1 for r in self.held if r.triggered)


class Pool:
    """A pool of interchangeable staff whose headcount and pace follow ``steps``
    (``sim.model.workforce``). ``busy_hours`` sums the contracted hours its members spend
    on tasks inside the measurement window [start_day, end_day]."""

    def __init__(self, env: simpy.Environment, name: str, steps, cal: Calendar,
                 start_day: float, end_day: float):
        self.name, self.steps, self.cal = name, steps, cal
        self.capacity = max(s.headcount for s in steps)
        self.res = PriorityResource(env, capacity=self.capacity)
        self.blocker = Blocker(self.res)
        self.pace = 1.0
        self.start_day, self.end_day = start_day, end_day
        self.busy_hours = 0.0

    def apply(self, step) -> None:
        self.blocker.set(self.capacity - step.headcount)
        self.pace = step.pace

    @property
    def working(self) -> int:
        """Staff busy on cases now."""
        return self.res.count - self.blocker.in_use

    def add_busy(self, t0: float, t1: float, hours: float) -> None:
        """Count a task of ``hours`` contracted hours running from ``t0`` to ``t1`` (days);
        one that straddles the window's edge counts in proportion to its elapsed time."""
        if t0 >= self.start_day and t1 <= self.end_day:
            self.busy_hours += hours
        elif t1 > t0:
            inside = min(t1, self.end_day) - max(t0, self.start_day)
            if inside > 0:
                self.busy_hours += hours * inside / (t1 - t0)

    def headcount_periods(self):
        """(headcount, from, to) for each stretch of the window with one headcount."""
        ends = [s.day for s in self.steps[1:]] + [self.end_day]
        for step, end in zip(self.steps, ends):
            a, b = max(step.day, self.start_day), min(end, self.end_day)
            if b > a:
                yield step.headcount, a, b

    def available_hours(self) -> float:
        """Working hours the pool's staff in post have inside the window."""
        w = self.cal.work_hours_until
        return sum(n * (w(b) - w(a)) for n, a, b in self.headcount_periods())


class DayBook:
    """Bookings of a daily capacity on working days (court slots, warrant executions).
    Urgent work may be booked over the capacity (teams found, a panel convened): ``book``
    does not refuse, ``first_free`` looks for room."""

    def __init__(self, name: str, cal: Calendar, per_day: int):
        self.name, self.cal, self.per_day = name, cal, per_day
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

    def use(self, start_day: float, end_day: float) -> tuple[int, int]:
        """(places booked, places available) on the working days inside [start, end)."""
        first, last = math.ceil(start_day), math.ceil(end_day)
        days = [d for d in range(first, last) if self.cal.is_working_day(d)]
        return sum(self.booked.get(d, 0) for d in days), self.per_day * len(days)
