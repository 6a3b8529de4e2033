"""Staff pools (SimPy resources with busy-time accounting), investigator teams (caseload
slots and hands-on hours), and day books (court sitting slots and search-team days, booked
by arithmetic rather than simulated as processes); each unit reports its own use, labelled
with the force (or ``region``, ``surge``) that owns it."""

from __future__ import annotations

import bisect
import math
import operator
from collections import defaultdict

import simpy

from ..core.calendar import Calendar

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
    on tasks inside the measurement window [start_day, end_day]; an hour of effort takes
    ``hours_factor`` contracted hours (1 / availability)."""

    def __init__(self, env: simpy.Environment, name: str, steps, cal: Calendar,
                 start_day: float, end_day: float, owner: str = "", availability: float = 1.0):
        self.name, self.steps, self.cal, self.owner = name, steps, cal, owner
        self.hours_factor = 1.0 / availability
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

    def report(self) -> list[dict]:
        return [{"force": self.owner, "pool": self.name, "capacity": self.capacity, "unit": "staff hours",
                 "busy": self.busy_hours, "available": self.available_hours()}]


class Team:
    """Investigators: caseload slots, each held from allocation until the case's work is
    done (the allocation queue is the main backlog), and their hands-on hours (``pool``),
    which the cases they hold compete for by grade."""

    def __init__(self, env: simpy.Environment, pool: Pool, caseload_limit: int, handoff_column: str = ""):
        self.pool, self.owner, self.name, self.steps = pool, pool.owner, pool.name, pool.steps
        self.caseload_limit = caseload_limit
        self.caseload = PriorityResource(env, capacity=pool.capacity * caseload_limit)
        self.blocker = Blocker(self.caseload)
        self.handoff_column = handoff_column  # the case's delay when this team takes it from another force
        self._held: dict = {}  # slot request -> (day taken, whose slot)
        self._slot_days = 0.0  # slot-days of slots given back, inside the window

    def apply(self, step) -> None:
        self.pool.apply(step)
        self.blocker.set((self.pool.capacity - step.headcount) * self.caseload_limit)

    @property
    def waiting(self) -> int:
        """Cases queueing for a slot (requests that hold posts vacant excluded)."""
        return len(self.caseload.put_queue) - (len(self.blocker.held) - self.blocker.in_use)

    def has_free_slot(self) -> bool:
        return self.caseload.count < self.caseload.capacity and not self.caseload.put_queue

    @property
    def working(self) -> int:
        """Slots holding cases now."""
        return self.caseload.count - self.blocker.in_use

    def _owner_for(self, force: str) -> str:
        return self.owner

    def take(self, slot, force: str, now: float) -> str:
        """Record ``slot`` granted to a case of ``force`` at ``now``; returns whose slot it is."""
        owner = self._owner_for(force)
        self._held[slot] = (now, owner)
        return owner

    def give_back(self, slot, now: float) -> str:
        """Release ``slot`` at ``now``; returns whose slot it was."""
        self.caseload.release(slot)
        start, owner = self._held.pop(slot)
        self._slot_days += self._inside(start, now)
        return owner

    def _inside(self, a: float, b: float) -> float:
        return max(0.0, min(b, self.pool.end_day) - max(a, self.pool.start_day))

    def report(self) -> list[dict]:
        busy = self._slot_days + sum(self._inside(a, self.pool.end_day) for a, _ in self._held.values())
        available = sum(n * self.caseload_limit * (b - a) for n, a, b in self.pool.headcount_periods())
        return self.pool.report() + [{"force": self.owner, "pool": "caseload", "capacity": self.caseload.capacity,
                                      "unit": "slot days", "busy": busy, "available": available}]


class PooledTeam(Team):
    """The investigators of several forces as one team: a case takes a slot of its own force
    while one is free, else another force's (``slots``: each force's share)."""

    def __init__(self, env: simpy.Environment, pool: Pool, caseload_limit: int, slots: dict[str, int],
                 handoff_column: str = ""):
        super().__init__(env, pool, caseload_limit, handoff_column)
        self.slots = slots
        self.in_use = dict.fromkeys(slots, 0)

    def _owner_for(self, force: str) -> str:
        use, slots = self.in_use, self.slots
        owner = force if use[force] < slots[force] else next((f for f in slots if use[f] < slots[f]), force)
        use[owner] += 1
        return owner

    def give_back(self, slot, now: float) -> str:
        owner = super().give_back(slot, now)
        self.in_use[owner] -= 1
        return owner


class DayBook:
    """Bookings of a daily capacity on working days (court slots, warrant executions).
    Urgent work may be booked over the capacity (teams found, a panel convened): ``book``
    does not refuse, ``first_free`` looks for room."""

    def __init__(self, name: str, cal: Calendar, per_day: int, owner: str = ""):
        self.name, self.cal, self.per_day, self.owner = name, cal, per_day, owner
        self.booked: defaultdict[int, int] = defaultdict(int)

    def first_free(self, day: int) -> int:
        """The first working day on or after ``day`` with a free place (not booked)."""
        nwd, booked, cap = self.cal.next_working_day, self.booked, self.per_day
        d = nwd(day)
        while booked[d] >= cap:
            d = nwd(d + 1)
        return d

    def away(self, day: int, force: str) -> bool:
        """Whether a booking on ``day`` for a case of ``force`` would use another force's
        capacity (never, for a force's own book)."""
        return False

    def book(self, day: int, force: str = "") -> None:
        self.booked[day] += 1

    def use(self, start_day: float, end_day: float) -> tuple[int, int]:
        """(places booked, places available) on the working days inside [start, end)."""
        first, last = math.ceil(start_day), math.ceil(end_day)
        days = [d for d in range(first, last) if self.cal.is_working_day(d)]
        return sum(self.booked.get(d, 0) for d in days), self.per_day * len(days)

    def report(self, start_day: float, end_day: float) -> list[dict]:
        used, available = self.use(start_day, end_day)
        return [{"force": self.owner, "pool": self.name, "capacity": self.per_day, "unit": "places booked",
                 "busy": used, "available": available}]


class PooledDayBook:
    """Several forces' day books lent to each other: a day has room if any of them has, and
    a force's own places are used first."""

    def __init__(self, books: dict[str, DayBook]):
        self.books = books
        self.cal = next(iter(books.values())).cal

    def first_free(self, day: int) -> int:
        nwd, books = self.cal.next_working_day, list(self.books.values())
        d = nwd(day)
        while all(b.booked[d] >= b.per_day for b in books):
            d = nwd(d + 1)
        return d

    def away(self, day: int, force: str) -> bool:
        home = self.books[force]
        return home.booked[day] >= home.per_day and any(b.booked[day] < b.per_day for b in self.books.values())

    def book(self, day: int, force: str) -> None:
        """Book a place on ``day`` for a case of ``force``: its own if free, else another
        force's, else its own over capacity (urgent work)."""
        home = self.books[force]
        other = next((b for b in self.books.values() if b.booked[day] < b.per_day), home)
        (home if home.booked[day] < home.per_day else other).book(day)
