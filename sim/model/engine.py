"""SimPy's environment with its commonest steps made cheaper, and processes that start at a
time of their own, each with every event processed in SimPy's own order.

A case costs about twelve events, and each event SimPy builds, schedules and processes
through several layers of calls: ``env.timeout`` goes through a bound-class wrapper, the
``Timeout`` constructor and ``Environment.schedule``; ``Environment.run`` calls
``Environment.step`` once an event. ``Environment`` here builds a timeout in one call and
processes events in one loop, as SimPy's ``step`` does (the same heap, the same order of
time, priority and scheduling, the same callbacks, a failed event raised the same way), so a
model run on it gives the same results as on ``simpy.Environment``, which the model also
accepts (``RegionModel(env=...)``).

``start_at`` starts a process later without a process of its own to wait for the moment:
the event that starts it is scheduled as a timeout would be, so it is processed where the
timeout would have been (see ``ForceModel.start_arrivals``). It and ``start`` start a
``QuietProcess``, whose end is an event only if something waits for it (a case's end, which
nothing waits for, is one event fewer).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from heapq import heappop, heappush

import simpy
from simpy.core import StopSimulation
from simpy.events import NORMAL, PENDING, URGENT, Event, Initialize, Process, Timeout

new_event = object.__new__  # an event without its constructor, whose work the caller does


class Environment(simpy.Environment):
    """``simpy.Environment`` with a cheaper ``timeout`` and ``run``: same events, same order."""

    def timeout(self, delay: float, value=None) -> Timeout:
        """A ``Timeout`` of ``delay`` (days), as ``simpy.Environment.timeout``, in one call."""
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        event = new_event(Timeout)
        event.env, event.callbacks, event._value, event._delay, event._ok = self, [], value, delay, True
        heappush(self._queue, (self._now + delay, NORMAL, next(self._eid), event))
        return event

    def run(self, until=None):
        """Process events until ``until`` (a time, in days), as ``simpy.Environment.run``, in one
        loop rather than a call of ``step`` an event; an event or None as ``until`` is left to
        SimPy."""
        if until is None or isinstance(until, Event):
            return super().run(until)
        at = until if isinstance(until, int) else float(until)
        if at <= self._now:
            raise ValueError(f"until ({at}) must be greater than the current simulation time")
        # SimPy's own stop: an urgent event at ``at``, so what is due then is not processed.
        stop = new_event(Event)
        stop.env, stop.callbacks, stop._ok, stop._value = self, [StopSimulation.callback], True, None
        self.schedule(stop, URGENT, at - self._now)
        queue = self._queue
        try:
            while True:
                self._now, _, _, event = heappop(queue)
                callbacks, event.callbacks = event.callbacks, None
                for callback in callbacks:
                    callback(event)
                if not event._ok and not hasattr(event, "_defused"):
                    # As Environment.step: a copy of the failure, raised with it as the cause.
                    exc = type(event._value)(*event._value.args)
                    exc.__cause__ = event._value
                    raise exc
        except StopSimulation as stopped:
            return stopped.args[0]


class QuietProcess(Process):
    """A ``simpy.Process`` whose successful end is scheduled as an event only if something
    waits for it. SimPy schedules every finished process as an event, processed in turn;
    one nobody waits for has no callbacks, so processing it does nothing but take a place in
    the queue. Here such a process is marked processed as it ends instead (its value is
    set, ``is_alive`` is False); one that fails is scheduled as SimPy schedules it, so an
    exception nobody catches still fails the run. Leaving out the empty event changes
    nothing else's order; it only lets the resources' shortcuts (``staff.PriorityResource``)
    apply where that event would have been due. Something that starts waiting for the
    process after it ended finds it processed and goes on at once."""

    def _resume(self, event: Event) -> None:
        """``Process._resume``, with the end of the generator as above."""
        env = self.env
        env._active_proc = self
        generator = self._generator
        while True:
            try:
                if event._ok:
                    event = generator.send(event._value)
                else:
                    # As SimPy: the process handles the failed event (or fails), with its own
                    # copy of the exception.
                    event._defused = True
                    exc = type(event._value)(*event._value.args)
                    exc.__cause__ = event._value
                    event = generator.throw(exc)
            except StopIteration as stopped:
                event = None
                self._ok, self._value = True, stopped.value
                if self.callbacks:
                    env.schedule(self)
                else:
                    self.callbacks = None  # processed: nothing to call
                break
            except BaseException as failure:
                event = None
                self._ok = False
                failure.__traceback__ = failure.__traceback__.tb_next  # as SimPy: this frame left out
                self._value = failure
                env.schedule(self)
                break
            try:
                callbacks = event.callbacks
            except AttributeError:
                raise RuntimeError(f'Invalid yield value "{event}"') from None
            if callbacks is not None:
                callbacks.append(self._resume)
                break
        self._target = event
        env._active_proc = None


def start(env: simpy.Environment, generator: Generator) -> QuietProcess:
    """A ``QuietProcess`` running ``generator``, started now as ``env.process`` starts one."""
    return QuietProcess(env, generator)


def call_now(env: simpy.Environment, callback: Callable[[Event], None]) -> Event:
    """An event that calls ``callback`` (with the event) where a process started now would
    take its first step: urgent, in turn with the processes started before it."""
    event = new_event(Event)
    event.env, event.callbacks, event._ok, event._value = env, [callback], True, None
    env.schedule(event, URGENT)
    return event


def start_at(env: simpy.Environment, generator: Generator, delay: float,
             first: Callable[[Event], None] | None = None) -> QuietProcess:
    """A ``QuietProcess`` running ``generator`` from ``delay`` days from now. The event that starts it
    is scheduled as ``env.timeout(delay)`` would be (normal priority, in turn with everything
    scheduled now), so it is processed where a timeout a waiting process had yielded would
    have been, and the generator's first step is taken then; ``first``, if given, is called
    with the event just before that step. A process started with ``env.process`` after such a
    timeout would have started in the next event, with nothing between."""
    process = new_event(QuietProcess)
    process.env, process.callbacks, process._generator, process._value = env, [], generator, PENDING
    start = process._target = new_event(Initialize)
    start.env, start._ok, start._value = env, True, None
    start.callbacks = [process._resume] if first is None else [first, process._resume]
    env.schedule(start, NORMAL, delay)
    return process
