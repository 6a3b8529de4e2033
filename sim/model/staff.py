"""Staff pools (SimPy resources with busy-time accounting), investigator teams (caseload
slots and hands-on hours), and day books (court sitting slots and search-team days, booked
by arithmetic rather than simulated as processes); each unit reports its own use, labelled
with the force (or ``region``, ``surge``) that owns it."""

from __future__ import annotations

import bisect
import math
from collections import defaultdict

import simpy
from simpy.resources.resource import PriorityRequest, Release

from ..core.calendar import Calendar
from .engine import new_event as _new_event

# Requests and releases read the clock as ``env._now``, the attribute behind SimPy's
# ``Environment.now`` property, as the processes do (``force.py``), and the active process as
# ``env._active_proc``, and whether no other event is due now (``env.peek() > env.now``) as
# ``not env._queue or env._queue[0][0] > env._now``, SimPy's ``peek`` written out (an empty
# queue's next event is at infinity): they run on every task.


class _InsortQueue(list):
    """SimPy's priority queue re-sorts the whole list on every request; inserting in place
    (after equal keys, as the stable sort would) gives the same order far more cheaply. The
    requests' keys are kept in a parallel list, so the search compares the keys themselves
    instead of fetching each request's key on every comparison. Requests join with
    ``append`` and leave with ``pop`` or ``remove`` (as SimPy and a review move them); a
    request's key must not change while it is queued."""

    maxlen = None

    def __init__(self, *args):
        super().__init__()
        self._keys: list = []
        for item in args[0] if args else ():
            self.append(item)

    def append(self, item) -> None:
        key, keys = item.key, self._keys
        if not keys or key >= keys[-1]:
            # After every key queued, where bisect_right would put it: the usual place in a
            # first-come queue (same priority, a later or equal time), found in one comparison.
            keys.append(key)
            list.append(self, item)
        else:
            index = bisect.bisect_right(keys, key)
            keys.insert(index, key)
            list.insert(self, index, item)

    def pop(self, index: int = -1):
        del self._keys[index]
        return list.pop(self, index)

    def remove(self, item) -> None:
        index = self.index(item)
        del self._keys[index]
        list.__delitem__(self, index)

    def _unordered(self, *args, **kwargs):
        raise TypeError("a request queue keeps its own order: use append, pop or remove")

    insert = extend = __setitem__ = __delitem__ = sort = reverse = __iadd__ = clear = _unordered


class _Holders(dict):
    """The requests holding a resource's slots (SimPy's ``users``), in the order they were
    granted, with SimPy's list methods ``append`` and ``remove``. A dict, not a list: a
    release finds its request at once, where ``list.remove`` compares it with every holder
    before it, which in a large force's caseload (800 slots) cost more than the rest of the
    release."""

    def append(self, request) -> None:
        self[request] = None

    def remove(self, request) -> None:
        try:
            del self[request]
        except KeyError:
            raise ValueError(f"{request!r} holds no slot") from None


class PriorityResource(simpy.PriorityResource):
    """``simpy.PriorityResource`` with an O(log n) queue insert and cheaper requests and
    releases: the same events (a ``PriorityRequest`` triggered when granted, a ``Release``
    triggered at once that offers the freed slot to the queue's head when processed), in the
    same order, so the same service order and the same order of everything else, except that
    an event is not scheduled when it would be the next one processed and do nothing but
    resume its process (or nothing at all): see ``request``, ``release`` and
    ``_trigger_put``. That needs what the model does: a process yields a request as soon as
    it makes it, and holds a slot for some time before releasing it.

    SimPy builds each request and release through four constructors and generic loops over
    its put and get queues (a release is a "get" event that waits in the get queue for no
    time); a request or release costs several times what a timeout does, and the model makes
    about ten a case. Here each is built in one call. Nothing ever waits in the get queue,
    so a granted request needs no callback to serve it."""

    PutQueue = _InsortQueue

    def __init__(self, env: simpy.Environment, capacity: int = 1):
        super().__init__(env, capacity)
        self.users = _Holders()

    def request(self, priority: int = 0, preempt: bool = True) -> PriorityRequest:
        """A request for a slot at ``priority`` (lower first), granted now if a slot is free
        and no request waits; as ``simpy.PriorityResource.request``."""
        env = self._env
        now = env._now
        req = _new_event(PriorityRequest)
        req.env, req.callbacks, req.resource, req.proc = env, [], self, env._active_proc
        req.priority, req.preempt, req.time, req.key = priority, preempt, now, (priority, now, not preempt)
        queue = self.put_queue
        if not queue:
            if len(self.users) < self._capacity:
                # Granted at once. Its event would be scheduled now and, if no other event
                # is due now, processed next, resuming the process that made it and yields it
                # (requests are yielded as soon as they are made) and doing nothing else. Then
                # the event is left out: the request is marked processed, and SimPy's
                # Process._resume sends its value straight back to the process, which goes on
                # in the same step, in the same order. Otherwise it is scheduled as usual.
                # (``_grant`` written out: this is most requests' way.)
                self.users[req] = None
                req.usage_since, req._ok, req._value = now, True, None
                due = env._queue
                if not due or due[0][0] > now:
                    req.callbacks = None
                else:
                    env.schedule(req)
            else:
                queue.append(req)
        else:
            # A slot freed at this instant whose release is still to be processed: the
            # queue's head takes it, which may be this request (SimPy's _trigger_put).
            queue.append(req)
            if len(self.users) < self._capacity:
                self._grant(queue.pop(0))
        return req

    def release(self, request: PriorityRequest, step_callbacks: list | None = None) -> Release | None:
        """Give back ``request``'s slot; the ``Release`` event, processed in turn, offers
        it to the queue's head (as ``simpy.Resource.release``). Returns that event, or None
        where none is needed (below); the model never waits for a release.

        ``step_callbacks``: the callbacks list of the event whose processing resumed the
        releasing process (saved before the process yielded it; SimPy has since set the
        event's own ``callbacks`` to None and is calling that list's members in turn). When
        the release event would be the next one processed, its work is appended to that list
        instead of scheduled: SimPy calls it as soon as the releasing process yields, at the
        end of the same step, which is when the event would have been processed."""
        env = self._env
        try:
            del self.users[request]  # _Holders.remove, without its call
        except KeyError:  # released twice, or never granted: as SimPy, nothing to give back
            pass
        due = env._queue
        if not due or due[0][0] > env._now:
            # No other event is due now, so the event would be processed right after this
            # step. If nobody waits, it would find the queue empty (a request made
            # meanwhile would take the free slot at once) and do nothing: left out.
            if not self.put_queue:
                return None
            if step_callbacks is not None:
                step_callbacks.append(self._trigger_put)
                return None
        event = _new_event(Release)
        event.env, event.callbacks, event.resource, event.proc = env, [self._trigger_put], self, env._active_proc
        event.request, event._ok, event._value = request, True, None
        env.schedule(event)
        return event

    def _trigger_put(self, get_event) -> None:
        # SimPy's loop over the queue stops after its head (PriorityResource._do_put returns
        # None): grant the head if a slot is free. Called as a Release event is processed, or
        # at the end of the step that released (see ``release``): ``get_event`` is then the
        # event that step processed.
        if self.put_queue and len(self.users) < self._capacity:
            req = self.put_queue.pop(0)
            env = self._env
            due = env._queue
            if get_event is not None and (not due or due[0][0] > env._now):
                # Processing a Release (its only callback), with no other event due now: the
                # grant's event would be the next one processed, so it is processed here
                # instead, its callbacks (the waiting process) called as env.step would.
                callbacks = req.callbacks
                self._grant(req, processed=True)
                for callback in callbacks:
                    callback(req)
            else:
                self._grant(req)

    def _grant(self, req, processed: bool = False) -> None:
        """Give ``req`` a slot: its event is scheduled, or, if ``processed``, marked processed
        without an event (see ``request``)."""
        env = self._env
        self.users[req] = None  # _Holders.append, without its call
        req.usage_since, req._ok, req._value = env._now, True, None
        if processed:
            req.callbacks = None
        else:
            env.schedule(req)


class OrderedRequest(PriorityRequest):
    """A request served by ``(priority, order_day)`` rather than by (priority, the time it was
    made): requests of one priority are taken in the order of a day of their own, such as a
    case's due date. Never preempts, as ``PriorityResource`` never does."""

    def __init__(self, resource: PriorityResource, priority: int, order_day: float):
        # PriorityRequest.__init__ would queue the request under its own key before this one
        # could set the order, so its attributes are set here and the request queued after.
        self.priority, self.preempt, self.time = priority, False, resource._env.now
        self.reorder(priority, order_day)
        simpy.resources.resource.Request.__init__(self, resource)

    def reorder(self, priority: int, order_day: float) -> None:
        """Take ``priority`` and ``order_day`` (a request still queued must be re-inserted)."""
        self.priority, self.order_day = priority, order_day
        self.key = (priority, order_day, True)


class Blocker:
    """Takes servers of a priority resource out of use (posts not yet filled, staff who have
    left) by holding requests that outrank every case; a change takes effect as servers
    come free, as it would in a team."""

    def __init__(self, res: PriorityResource):
        self.res = res
        self.held: list = []

    def set(self, blocked: int) -> None:
        """Hold ``blocked`` servers out of use (as they come free)."""
        while len(self.held) < blocked:
            self.held.append(self.res.request(priority=-1))
        while len(self.held) > blocked:
            request = self.held.pop()
            if request.triggered:
                self.res.release(request)
            else:
                request.cancel()

    @property
    def in_use(self) -> int:
        """Servers the blocks hold now."""
        if not self.held:  # the usual case, read at every snapshot
            return 0
        return sum(1 for request in self.held if request.triggered)


class Pool:
    """A pool of interchangeable staff whose headcount and pace follow ``steps``
    (``sim.model.workforce``). ``busy_hours`` sums the contracted hours its members spend
    on tasks inside the measurement window [start_day, end_day]; an hour of effort takes
    ``hours_factor`` contracted hours (1 / availability)."""

    def __init__(self, env: simpy.Environment, name: str, steps, cal: Calendar,
                 start_day: float, end_day: float, owner: str = "", availability: float = 1.0):
        self.name, self.steps, self.cal, self.owner = name, steps, cal, owner
        self.hours_factor = 1.0 / availability
        self.capacity = max(step.headcount for step in steps)
        self.res = PriorityResource(env, capacity=self.capacity)
        self.blocker = Blocker(self.res)
        self.pace = 1.0
        self.start_day, self.end_day = start_day, end_day
        self.busy_hours = 0.0

    def apply(self, step) -> None:
        """Take on ``step``'s headcount and pace."""
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
        ends = [step.day for step in self.steps[1:]] + [self.end_day]
        for step, end in zip(self.steps, ends):
            start_day, end_day = max(step.day, self.start_day), min(end, self.end_day)
            if end_day > start_day:
                yield step.headcount, start_day, end_day

    def available_hours(self) -> float:
        """Working hours the pool's staff in post have inside the window."""
        hours_until = self.cal.work_hours_until
        return sum(headcount * (hours_until(end) - hours_until(start))
                   for headcount, start, end in self.headcount_periods())

    def report(self) -> list[dict]:
        """The pool's use inside the window: one row of the pools table."""
        return [{"force": self.owner, "pool": self.name, "capacity": self.capacity, "unit": "staff hours",
                 "busy": self.busy_hours, "available": self.available_hours()}]


class Team:
    """Investigators: caseload slots, each held from allocation until the case's work is
    done (the allocation queue is the main backlog), and their hands-on hours (``pool``),
    which the cases they hold compete for by grade."""

    def __init__(self, env: simpy.Environment, pool: Pool, caseload_limit: int):
        self.pool, self.owner, self.name, self.steps = pool, pool.owner, pool.name, pool.steps
        self.caseload_limit = caseload_limit
        self.caseload = PriorityResource(env, capacity=pool.capacity * caseload_limit)
        self.blocker = Blocker(self.caseload)
        self._held: dict = {}  # slot request -> (day taken, whose slot)
        self._slot_days = 0.0  # slot-days of slots given back, inside the window

    def apply(self, step) -> None:
        """Take on ``step``'s headcount and pace, and the caseload slots that go with it."""
        self.pool.apply(step)
        self.blocker.set((self.pool.capacity - step.headcount) * self.caseload_limit)

    @property
    def waiting(self) -> int:
        """Cases queueing for a slot (requests that hold posts vacant excluded)."""
        return len(self.caseload.put_queue) - (len(self.blocker.held) - self.blocker.in_use)

    def has_free_slot(self) -> bool:
        """Whether a case asking now would take a slot at once."""
        return self.caseload.count < self.caseload.capacity and not self.caseload.put_queue

    @property
    def working(self) -> int:
        """Slots holding cases now."""
        return self.caseload.count - self.blocker.in_use

    def _holder_for(self, force: str) -> str:
        return self.owner

    def take(self, slot, force: str, now: float) -> str:
        """Record ``slot`` granted to a case of ``force`` at ``now`` (day); returns whose slot it is."""
        holder = self._holder_for(force)
        self._held[slot] = (now, holder)
        return holder

    def give_back(self, slot, now: float) -> str:
        """Release ``slot`` at ``now`` (day); returns whose slot it was."""
        self.caseload.release(slot)
        start, holder = self._held.pop(slot)
        self._slot_days += self._days_inside(start, now)
        return holder

    def _days_inside(self, start_day: float, end_day: float) -> float:
        """Days of [start_day, end_day] inside the measurement window."""
        return max(0.0, min(end_day, self.pool.end_day) - max(start_day, self.pool.start_day))

    def report(self) -> list[dict]:
        """The hands-on hours' row (the pool's) and the caseload's slot-days inside the window."""
        end_day = self.pool.end_day
        busy = self._slot_days + sum(self._days_inside(start, end_day) for start, _ in self._held.values())
        available = sum(headcount * self.caseload_limit * (end - start)
                        for headcount, start, end in self.pool.headcount_periods())
        return self.pool.report() + [{"force": self.owner, "pool": "caseload", "capacity": self.caseload.capacity,
                                      "unit": "slot days", "busy": busy, "available": available}]


class PooledTeam(Team):
    """The investigators of several forces as one team: a case takes a slot of its own force
    while one is free, else another force's (``slots``: each force's share)."""

    def __init__(self, env: simpy.Environment, pool: Pool, caseload_limit: int, slots: dict[str, int]):
        super().__init__(env, pool, caseload_limit)
        self.slots = slots
        self.in_use = dict.fromkeys(slots, 0)

    def _holder_for(self, force: str) -> str:
        in_use, slots = self.in_use, self.slots
        if in_use[force] < slots[force]:
            holder = force
        else:
            holder = next((other for other in slots if in_use[other] < slots[other]), force)
        in_use[holder] += 1
        return holder

    def give_back(self, slot, now: float) -> str:
        holder = super().give_back(slot, now)
        self.in_use[holder] -= 1
        return holder


class DayBook:
    """Bookings of a daily capacity on working days (court slots, warrant executions).
    Urgent work may be booked over the capacity (teams found, a panel convened): ``book``
    does not refuse, ``first_free`` looks for room."""

    def __init__(self, name: str, cal: Calendar, per_day: int, owner: str = ""):
        self.name, self.cal, self.per_day, self.owner = name, cal, per_day, owner
        self.booked: defaultdict[int, int] = defaultdict(int)

    def first_free(self, day: int) -> int:
        """The first working day on or after ``day`` with a free place (not booked)."""
        next_working_day, booked, per_day = self.cal.next_working_day, self.booked, self.per_day
        free = next_working_day(day)
        while booked[free] >= per_day:
            free = next_working_day(free + 1)
        return free

    def would_borrow(self, day: int, force: str) -> bool:
        """Whether a booking on ``day`` for a case of ``force`` would take a place of
        another force's (never, in a force's own book)."""
        return False

    def book(self, day: int, force: str = "") -> None:
        """Book a place on ``day`` (over the capacity if need be)."""
        self.booked[day] += 1

    def use(self, start_day: float, end_day: float) -> tuple[int, int]:
        """(places booked, places available) on the working days inside [start, end)."""
        first, last = math.ceil(start_day), math.ceil(end_day)
        days = [day for day in range(first, last) if self.cal.is_working_day(day)]
        return sum(self.booked.get(day, 0) for day in days), self.per_day * len(days)

    def report(self, start_day: float, end_day: float) -> list[dict]:
        """The book's use inside [start_day, end_day): one row of the pools table."""
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
        """The first working day on or after ``day`` with a free place in any force's book."""
        next_working_day, books = self.cal.next_working_day, list(self.books.values())
        free = next_working_day(day)
        while all(book.booked[free] >= book.per_day for book in books):
            free = next_working_day(free + 1)
        return free

    def would_borrow(self, day: int, force: str) -> bool:
        """Whether a booking on ``day`` for a case of ``force`` would take a place of another
        force's: its own are full that day and another force's are not."""
        home = self.books[force]
        return home.booked[day] >= home.per_day and any(book.booked[day] < book.per_day
                                                       for book in self.books.values())

    def book(self, day: int, force: str) -> None:
        """Book a place on ``day`` for a case of ``force``: its own if free, else another
        force's, else its own over capacity (urgent work)."""
        home = self.books[force]
        if home.booked[day] < home.per_day:
            home.book(day)
        else:
            next((book for book in self.books.values() if book.booked[day] < book.per_day), home).book(day)
