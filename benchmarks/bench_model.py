"""Speed of one baseline replication against bare SimPy loops with as many events, and
against the bare SimPy four-stage priority tandem.

The tandem (``../shared/bench/bench_tandem.py``, beside the repository; not part of casesim)
is the per-core yardstick: its cases per second and the model's are measured in the same
run, in alternate rounds, and the model's speed is given as a ratio of the tandem's (target
at least 0.65x). Ratios measured side by side hold from machine to machine; seconds do not.

Three loops, each with as many processes and events as the model:

- the **timeouts-only** loop: each process only sleeps (``yield env.timeout(d)``);
- the **bare SimPy same-shape** loop: resources of SimPy's stock classes
  (``simpy.PriorityResource`` where the model has a priority resource, else
  ``simpy.Resource``), with the model's capacities and loaded about as heavily, requested,
  held and released as often as in the model, plus plain timeouts as many as the model's, so
  it does the same work through bare SimPy (processes, timeouts, requests and releases) as
  the model. This is the same-shape bare loop the 1.3x target is judged against.
- the **same-shape loop on the model's resource class**: the same plan, run on
  ``sim.model.staff.PriorityResource``, which builds each request and release in one call and
  leaves out the events of grants and releases that would be the next one processed (doing
  their work in the step at hand; the loop releases a slot as the model's tasks do, with the
  callbacks of the event that ended the hold), in the model's environment
  (``sim.model.engine.Environment``: a timeout built in one call, events processed in one
  loop). It is faster than SimPy's stock classes, so no longer a bare SimPy loop; its ratio
  is printed beside the other, as it isolates the model's own Python (records, calendar,
  stage logic) from the event and resource machinery the model and this loop share.

A resource request and release cost SimPy several times what a timeout costs, so only the
same-shape loops measure the model against SimPy doing the same work. The timeouts-only
ratio is shown too: it adds SimPy's resource machinery to that overhead.

Events per case: the SimPy events the model schedules per simulated case (and the tandem's).

Run: ``python benchmarks/bench_model.py [--replication N] [--repeats N] [--tandem-cases N]
[--tandem PATH] [--profile N]``
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib.util
import pstats
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Callable

import numpy as np
import simpy
from contextlib import contextmanager, nullcontext

import sim
from sim.model import run_replication
from sim.model.demand import draw_cases
from sim.model.engine import Environment
from sim.model.region import RegionModel, fewer_young_collections
from sim.model.staff import PriorityResource, Team
from sim.core.rng import Streams

# Targets the model's authors set; printed as PASS/FAIL, never enforced.
MAX_OVERHEAD = 1.3  # against the bare SimPy same-shape loop (SimPy's stock resource classes)
MIN_TANDEM_RATIO = 0.65  # the model's cases per second / the tandem's, measured in the same run

# The yardstick lives beside the repository, not in it: ../shared/bench/bench_tandem.py.
TANDEM_PATH = Path(__file__).resolve().parents[2] / "shared" / "bench" / "bench_tandem.py"
# bench_tandem.py's defaults: three priority classes, two arrivals a day, seed 777 (plus the
# round); it discards its first tenth of cases from its waits (not from its timing).
TANDEM_CLASSES, TANDEM_RATE, TANDEM_SEED = 3, 2.0, 777

# Every run is timed in this process's CPU seconds, not wall seconds: on a shared machine a
# run loses wall time whenever another process holds the core, which CPU time does not count.
clock = time.process_time

BARE_SEED = 12345
SAME_SHAPE_SEED = 54321
# The model fills up over its horizon (queues for the caseload and research form only
# late), so the same-shape loop is loaded as the model is over this last part of it.
LOADED_FRACTION = 0.25
# Mean of the same-shape loop's plain sleeps (days). Short: resource holds already keep more
# timeouts pending than the model does (see Shape.mean_queue_length), sleeps need not add.
PLAIN_SLEEP_DAYS = 1.0

EVENT_TYPES = ("Initialize", "Timeout", "Request", "PriorityRequest", "Release", "Process", "Event")


# --------------------------------------------------------------------------- counting


@dataclass
class ResourceTally:
    """What one resource did in a counted run; the areas are integrals over time."""

    granted: int = 0
    released: int = 0
    busy_area: float = 0.0  # of res.count
    queue_area: float = 0.0  # of len(res.queue)


class CountingEnv(simpy.Environment):
    """An Environment for one untimed run that counts processed events and started
    processes, tallies scheduled events by type, samples the event queue's length (which
    sets the heap's log-n cost) and integrates each resource's use over time."""

    def __init__(self, window: tuple[float, float] = (0.0, float("inf"))):
        super().__init__()
        self.events = 0
        self.queue_length_sum = 0
        self.scheduled: Counter[str] = Counter()
        # Resources are found as they grant or release (counting_resources): none is used
        # before its first grant.
        self.resources: dict[simpy.Resource, ResourceTally] = {}
        self.window = window  # resource use is integrated over this span only
        self._last_time = window[0]
        self.started: list[simpy.Process] = []

    def tally(self, res: simpy.Resource) -> ResourceTally:
        return self.resources.setdefault(res, ResourceTally())

    def schedule(self, event, priority=simpy.core.NORMAL, delay=0) -> None:
        self.scheduled[type(event).__name__] += 1
        if isinstance(event, simpy.events.Initialize):
            # Kept to count at the end those still running: a process that ends with
            # nothing waiting for it schedules no Process event in the model
            # (engine.QuietProcess), so Process events do not count the ended ones.
            # (The process is the one whose _resume the event calls; engine.start_at may
            # put another callback before it.)
            self.started += [c.__self__ for c in event.callbacks if isinstance(getattr(c, "__self__", None), simpy.Process)]
        super().schedule(event, priority, delay)

    def step(self) -> None:
        # Counted before stepping, as asked: the final step that finds the schedule empty
        # (bare loops) or stops at the horizon (model) counts once, in all.
        self.events += 1
        self.queue_length_sum += len(self._queue)
        # Resources change only inside steps, so their state has held since the last one.
        t = min(self.peek(), self.window[1])
        if t > self._last_time:
            dt = t - self._last_time
            for res, tally in self.resources.items():
                tally.busy_area += res.count * dt
                tally.queue_area += len(res.queue) * dt
            self._last_time = t
        super().step()

    @property
    def processes(self) -> int:
        """Processes started: one Initialize event each, whether started by ``env.process``
        or later by the model's ``engine.start_at``."""
        return self.scheduled["Initialize"]

    @property
    def mean_queue_length(self) -> float:
        return self.queue_length_sum / max(self.events, 1)

    @property
    def unfinished(self) -> int:
        """Processes started and still running (never ended)."""
        return sum(1 for process in self.started if process.is_alive)


@contextmanager
def counting_resources():
    """While in effect, every grant and release of a ``PriorityResource`` on a CountingEnv is
    tallied on it. Counted here, not from the events scheduled: the class leaves some of
    their events out (see ``PriorityResource.request`` and ``release``)."""
    grant, release = PriorityResource._grant, PriorityResource.release

    def counted_grant(res, req, *args, **kwargs):
        if isinstance(res._env, CountingEnv):
            res._env.tally(res).granted += 1
        grant(res, req, *args, **kwargs)

    def counted_release(res, request, *args, **kwargs):
        if isinstance(res._env, CountingEnv):
            res._env.tally(res).released += 1
        return release(res, request, *args, **kwargs)

    PriorityResource._grant, PriorityResource.release = counted_grant, counted_release
    try:
        yield
    finally:
        PriorityResource._grant, PriorityResource.release = grant, release


def loaded_window(horizon: float) -> tuple[float, float]:
    """The span over which resource use is measured and matched: the horizon's last part."""
    return (horizon * (1.0 - LOADED_FRACTION), horizon)


@dataclass
class ResourceShape:
    """One resource as a counted run used it."""

    name: str
    cls: type
    capacity: int
    granted: int
    released: int
    waiting: int  # requests still queued at the end, never granted
    utilisation: float  # time-average of count / capacity
    mean_queue: float  # time-average of len(queue)

    @property
    def requests(self) -> int:
        """Requests received: granted, or still queued at the end."""
        return self.granted + self.waiting

    @property
    def held(self) -> int:
        """Granted requests never released (slots still held at the end)."""
        return self.granted - self.released

    @property
    def priority(self) -> bool:
        return issubclass(self.cls, simpy.PriorityResource)


@dataclass
class Shape:
    """What a counted run did, and what the bare loops must reproduce."""

    cases: int
    events: int  # steps processed
    processes: int
    horizon: float
    mean_queue_length: float
    unfinished: int = 0  # processes that never ended
    scheduled: Counter[str] = field(default_factory=Counter)
    resources: list[ResourceShape] = field(default_factory=list)


def counted_shape(env: CountingEnv, resources: list[tuple[str, simpy.Resource]], cases: int,
                  horizon: float) -> Shape:
    """The Shape of a finished counted run; ``resources`` names the ones to report, in order."""
    rows = []
    for name, res in resources:
        tally = env.resources.get(res, ResourceTally())
        span = max(min(env.now, env.window[1]) - env.window[0], 1e-12)
        rows.append(ResourceShape(name, type(res), res.capacity, tally.granted, tally.released, len(res.queue),
                                  tally.busy_area / (res.capacity * span), tally.queue_area / span))
    return Shape(cases=cases, events=env.events, processes=env.processes, horizon=horizon,
                 mean_queue_length=env.mean_queue_length, unfinished=env.unfinished,
                 scheduled=env.scheduled.copy(), resources=rows)


@dataclass
class Timing:
    best: float
    median: float


def time_repeats(fn: Callable[[], object], repeats: int) -> Timing:
    """Best and median CPU time of ``repeats`` calls; a collection first so one run's
    garbage is not charged to the next."""
    times = []
    for _ in range(repeats):
        gc.collect()
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return Timing(min(times), statistics.median(times))


# --------------------------------------------------------------------------- the model


def baseline_config() -> sim.SimConfig:
    return sim.load_config(["run.replications=1", "run.progress=false"])


def model_shape(cfg: sim.SimConfig, replication: int) -> Shape:
    """Events, processes, queue length and resource use of one counted (untimed)
    replication. Builds the model as sim/model/replication.py does, to reach its resources."""
    env = CountingEnv(loaded_window(cfg.run.horizon_days))
    with counting_resources():
        model = RegionModel(cfg, replication, env)
        model.run()
    resources = []
    for u in model.units:
        if isinstance(u, Team):
            resources += [(u.name, u.pool.res), ("caseload", u.caseload)]
        else:
            resources.append((u.name, u.res))
    return counted_shape(env, resources, sum(c.n for c in model.cases), cfg.run.horizon_days)


# --------------------------------------------------------------------------- timeouts-only loop


@dataclass
class BarePlan:
    """Precomputed start gaps and per-process sleep lists, so the timed loop draws nothing."""

    gaps: list[float]
    sleeps: list[list[float]]


def bare_plan(shape: Shape, seed: int = BARE_SEED) -> BarePlan:
    """A plan whose run processes ``shape.events`` events in ``shape.processes`` processes.

    One starter process plus W = N-1 workers. Events counted by CountingEnv: the
    starter's start, W timeouts and end (W + 2); per worker its start, k_i timeouts and end
    (k_i + 2); and the final step on the empty schedule (1). So sum(k_i) = E - 3 - 3W,
    spread evenly.

    Worker lifetimes are set so that, by Little's law, about as many timeouts are pending
    as in the model's event queue.
    """
    rng = np.random.default_rng(seed)
    workers = shape.processes - 1
    sleeps_total = shape.events - 3 - 3 * workers
    if workers < 1 or sleeps_total < 0:
        raise ValueError(f"cannot shape a bare loop like {shape}")
    per_worker = np.full(workers, sleeps_total // workers)
    per_worker[: sleeps_total % workers] += 1

    starts = np.sort(rng.uniform(0.0, shape.horizon, workers))
    gaps = np.diff(starts, prepend=0.0)
    pending = max(shape.mean_queue_length - 1.0, 1.0)  # minus the starter's own timeout
    lifetime = pending * shape.horizon / workers
    mean_sleep = lifetime / max(sleeps_total / workers, 1.0)
    flat = rng.exponential(mean_sleep, sleeps_total)
    bounds = np.concatenate([[0], np.cumsum(per_worker)])
    # Python floats in lists, as the model keeps its columns: numpy scalars cost more in SimPy.
    sleeps = [flat[a:b].tolist() for a, b in zip(bounds[:-1], bounds[1:])]
    return BarePlan(gaps=gaps.tolist(), sleeps=sleeps)


def run_bare(plan: BarePlan, env: simpy.Environment | None = None) -> simpy.Environment:
    """Run the timeouts-only loop to exhaustion."""
    env = env if env is not None else simpy.Environment()

    def worker(sleeps):
        for d in sleeps:
            yield env.timeout(d)

    def starter():
        for gap, sleeps in zip(plan.gaps, plan.sleeps):
            yield env.timeout(gap)
            env.process(worker(sleeps))

    env.process(starter())
    env.run()
    return env


# --------------------------------------------------------------------------- same-shape loop


PLAIN = -1  # task code of a plain sleep; other codes index SameShapePlan.resources

Task = tuple[int, "int | None", float]  # (resource index or PLAIN, priority or None, duration)


@dataclass
class SameShapePlan:
    """Precomputed resources, start gaps and per-worker tasks, so the timed loop draws nothing."""

    resources: list[tuple[type, int]]  # class and capacity, in the model's order
    gaps: list[float]
    tasks: list[list[Task]]
    hangs: list[bool]  # workers that never end once their tasks are done
    tail: list[tuple[int, int | None]]  # requests made at the end and never released


def same_shape_plan(shape: Shape, seed: int = SAME_SHAPE_SEED) -> SameShapePlan:
    """A plan whose run schedules about as many events of each type as ``shape``'s.

    One starter plus W = N-1 workers, started at uniform times over the horizon. Each
    resource's requests that the model granted *and released* are spread at random over the
    workers, as request, hold, release, with priorities 0-3 on priority resources; holds are
    exponential, with the mean that would keep the resource as busy over the whole horizon
    as the model's was over its loaded last part (utilisation x capacity x horizon /
    requests), so queues form where the model's do. Plain sleeps make up the model's
    timeouts: Timeout = W starter gaps + holds + sleeps.

    The model stops at its horizon with slots still held, requests still queued and
    processes unfinished; this loop runs to exhaustion, so it reproduces that end state on
    purpose. Once every worker is done (one ``done`` Event, where the model has SimPy's
    two for ``run(until=...)``), the starter requests each resource as many times as the
    model left held (granted at once) and queued (never granted), and as many workers as
    the model left processes unfinished wait forever instead of ending.
    """
    rng = np.random.default_rng(seed)
    res = shape.resources
    workers = shape.processes - 1
    regular = [r.released for r in res]
    sleeps = shape.scheduled["Timeout"] - workers - sum(regular)
    if workers < 1 or sleeps < 0 or shape.unfinished > workers:
        raise ValueError(f"cannot shape a same-shape loop like {shape}")

    starts = np.sort(rng.uniform(0.0, shape.horizon, workers))
    gaps = np.diff(starts, prepend=0.0)

    # All tasks in one shuffled array of codes (PLAIN or a resource index); means[k + 1] is code k's.
    codes = np.repeat(np.arange(PLAIN, len(res)), [sleeps, *regular])
    rng.shuffle(codes)
    means = np.array([PLAIN_SLEEP_DAYS] + [r.utilisation * r.capacity * shape.horizon / max(n, 1)
                                           for r, n in zip(res, regular)])
    durations = rng.exponential(means[codes + 1]).tolist()
    is_priority = np.array([False] + [r.priority for r in res])[codes + 1].tolist()
    priorities = [p if q else None for p, q in zip(rng.integers(0, 4, codes.size).tolist(), is_priority)]
    bounds = np.linspace(0, codes.size, workers + 1).round().astype(int).tolist()
    task_list = list(zip(codes.tolist(), priorities, durations))
    tasks = [task_list[a:b] for a, b in zip(bounds[:-1], bounds[1:])]

    hangs = [i >= workers - shape.unfinished for i in range(workers)]  # the latest starters
    tail = [(k, int(rng.integers(0, 4)) if r.priority else None)
            for k, r in enumerate(res) for _ in range(r.held + r.waiting)]
    return SameShapePlan(resources=[(r.cls, r.capacity) for r in res], gaps=gaps.tolist(), tasks=tasks,
                         hangs=hangs, tail=tail)


def stock_class(cls: type) -> type:
    """SimPy's own resource class in place of ``cls``: ``simpy.PriorityResource`` for a
    priority resource, else ``simpy.Resource``."""
    return simpy.PriorityResource if issubclass(cls, simpy.PriorityResource) else simpy.Resource


def run_same_shape(plan: SameShapePlan, env: simpy.Environment | None = None,
                   stock: bool = False) -> list[simpy.Resource]:
    """Run the same-shape loop to exhaustion; returns its resources (for counting). With
    ``stock``, on SimPy's own resource classes (the bare SimPy loop), else on the model's."""
    if env is None:  # the model's resource class runs on the model's environment, as in the model
        env = simpy.Environment() if stock else Environment()
    resources = [(stock_class(cls) if stock else cls)(env, capacity=capacity) for cls, capacity in plan.resources]
    done = env.event()
    left = len(plan.tasks)

    def worker(tasks, hang):
        nonlocal left
        for k, priority, d in tasks:
            if k == PLAIN:
                yield env.timeout(d)
                continue
            res = resources[k]
            req = res.request() if priority is None else res.request(priority=priority)
            yield req
            hold = env.timeout(d)
            if stock:
                yield hold
                res.release(req)
            else:  # as the model's tasks release: see PriorityResource.release
                step_callbacks = hold.callbacks
                yield hold
                res.release(req, step_callbacks)
        left -= 1
        if not left:
            done.succeed()
        if hang:
            yield env.event()  # never triggered, as a case still in the model at its horizon

    def starter():
        for gap, tasks, hang in zip(plan.gaps, plan.tasks, plan.hangs):
            yield env.timeout(gap)
            env.process(worker(tasks, hang))
        yield done
        for k, priority in plan.tail:  # every slot is free: the first `held` get one, the rest queue
            res = resources[k]
            res.request() if priority is None else res.request(priority=priority)

    env.process(starter())
    env.run()
    return resources


# --------------------------------------------------------------------------- the tandem


def load_tandem(path: Path) -> ModuleType | None:
    """The bare SimPy tandem's module (its ``run`` function), or None with a message saying
    where it was looked for if it is missing."""
    if not path.is_file():
        print(f"bench_model: the bare SimPy tandem was not found at {path} (it lives beside the "
              "repository, in ../shared/bench/, and is not part of casesim); the tandem ratio is "
              "not measured. Give its place with --tandem PATH.", file=sys.stderr)
        return None
    sys.path.insert(0, str(path.parent))  # it imports mmc_common from its own folder
    spec = importlib.util.spec_from_file_location("bench_tandem", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(fn: Callable[[], object], setting=nullcontext) -> Callable[[], float]:
    """``fn`` made to return its own CPU time (seconds), run inside the context ``setting()``."""
    def run() -> float:
        with setting():
            t0 = clock()
            fn()
            return clock() - t0
    return run


class TandemRuns:
    """Each call runs the tandem once, a new seed each time as its repetitions do, and
    returns its CPU time (its own set-up included: an environment and four resources);
    ``events`` is what the last run scheduled."""

    def __init__(self, tandem: ModuleType, cases: int):
        self.tandem, self.cases, self.runs, self.events = tandem, cases, 0, 0

    def __call__(self) -> float:
        t0 = clock()
        _, self.events, _ = self.tandem.run(self.cases, TANDEM_CLASSES, TANDEM_RATE, TANDEM_SEED + self.runs,
                                            int(0.1 * self.cases))
        seconds = clock() - t0
        self.runs += 1
        return seconds


def time_rounds(runs: dict[str, Callable[[], float]], repeats: int) -> dict[str, list[float]]:
    """``repeats`` rounds, each calling every one of ``runs`` once in turn (each returns its
    seconds), so a burst of other load on the machine falls on all of them alike rather than
    on one; a collection before each call, so one run's garbage is not charged to the next."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            gc.collect()
            times[name].append(run())
    return times


def timing(seconds: list[float]) -> Timing:
    return Timing(min(seconds), statistics.median(seconds))


# --------------------------------------------------------------------------- report


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def print_table(header: list[str], rows: list[list[str]]) -> None:
    """First column left-aligned, the rest right-aligned."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [f"{row[0]:<{widths[0]}}"] + [f"{c:>{w}}" for c, w in zip(row[1:], widths[1:])]
        print("  ".join(cells).rstrip())


def pct(a: float, b: float) -> str:
    """a relative to b, as a signed percentage."""
    return f"{(a - b) / b:+.1%}" if b else ("" if a == b else "new")


def report_counts(model: Shape, bare: Shape, same: Shape, stock: Shape) -> None:
    """Event tallies of the four counted runs side by side, then the resources."""
    runs = (model, bare, stock, same)
    types = [t for t in EVENT_TYPES if any(s.scheduled[t] for s in runs)]
    types += sorted(set().union(*(s.scheduled for s in runs)) - set(types))
    rows = [[t, *(f"{s.scheduled[t]:,}" for s in runs), pct(stock.scheduled[t], model.scheduled[t]),
             pct(same.scheduled[t], model.scheduled[t])] for t in types]
    totals = [sum(s.scheduled.values()) for s in runs]
    rows.append(["total scheduled", *(f"{n:,}" for n in totals), pct(totals[2], totals[0]), pct(totals[3], totals[0])])
    rows.append(["events processed (steps)", *(f"{s.events:,}" for s in runs), pct(stock.events, model.events),
                 pct(same.events, model.events)])
    rows.append(["processes", *(f"{s.processes:,}" for s in runs), pct(stock.processes, model.processes),
                 pct(same.processes, model.processes)])
    rows.append(["  never ended", *(f"{s.unfinished:,}" for s in runs), "", ""])
    rows.append(["mean event queue", *(f"{s.mean_queue_length:.1f}" for s in runs), "", ""])
    print("Events scheduled, by type (counted runs; same-shape SimPy: on SimPy's resource classes, "
          "same-shape model's: on the model's):")
    print_table(["", "model", "timeouts-only", "same-shape SimPy", "same-shape model's", "SimPy vs model",
                 "model's vs model"], rows)

    t0, t1 = loaded_window(model.horizon)
    print(f"\nResources, model / same-shape on the model's class (utilisation and queue: time averages over "
          f"days {t0:g}-{t1:g}):")
    rows = [[m.name, m.cls.__name__, f"{m.capacity}", f"{m.requests:,} / {s.requests:,}",
             f"{m.granted:,} / {s.granted:,}", f"{m.held} / {s.held}",
             f"{m.waiting} / {s.waiting}", f"{m.utilisation:.2f} / {s.utilisation:.2f}",
             f"{m.mean_queue:.1f} / {s.mean_queue:.1f}"]
            for m, s in zip(model.resources, same.resources)]
    print_table(["", "class", "capacity", "requests", "granted", "held at end", "queued at end", "utilisation",
                 "mean queue"], rows)


def report(model: Shape, bare: Shape, same: Shape, stock: Shape, times: dict[str, list[float]], draw_t: Timing,
           tandem_cases: int, tandem_events: int, replication: int, repeats: int) -> None:
    model_t, bare_t = timing(times["model"]), timing(times["timeouts-only"])
    same_t, stock_t = timing(times["same-shape model's"]), timing(times["same-shape SimPy"])

    # Plain ratios of seconds: the timeouts-only loop processes as many events as the model,
    # the same-shape loops do the same work (their events may number a little differently, as
    # the model's resource class leaves out some that would do nothing, as many as its queues
    # allow, and SimPy's leaves out none).
    def ratio(loop_t: Timing, pick: Callable[[Timing], float]) -> float:
        return pick(model_t) / pick(loop_t)

    best, median = (lambda t: t.best), (lambda t: t.median)
    overhead_bare, overhead_same, overhead_stock = ratio(bare_t, best), ratio(same_t, best), ratio(stock_t, best)
    cases_per_s = model.cases / model_t.best
    scheduled = sum(model.scheduled.values())
    rows = [
        ("replication", f"{replication}", ""),
        ("repeats", f"{repeats}", ""),
        ("cases", f"{model.cases:,}", ""),
        ("model seconds (best / median)", f"{model_t.best:.4f} / {model_t.median:.4f}", "run_replication"),
        ("  of which draw_cases", f"{draw_t.best:.4f} / {draw_t.median:.4f}",
         f"{draw_t.best / model_t.best:.1%} of best"),
        ("timeouts-only seconds (best / median)", f"{bare_t.best:.4f} / {bare_t.median:.4f}", ""),
        ("same-shape SimPy seconds (best / median)", f"{stock_t.best:.4f} / {stock_t.median:.4f}",
         "SimPy's stock resource classes: the bare loop"),
        ("same-shape model's seconds (best / median)", f"{same_t.best:.4f} / {same_t.median:.4f}",
         "the model's resource class"),
        ("overhead model/timeouts-only (best)", f"{overhead_bare:.2f}x",
         f"median {ratio(bare_t, median):.2f}x; as many events"),
        ("overhead model/same-shape SimPy (best)", f"{overhead_stock:.2f}x",
         f"median {ratio(stock_t, median):.2f}x; the same work in bare SimPy; the target's"),
        ("overhead model/same-shape model's (best)", f"{overhead_same:.2f}x",
         f"median {ratio(same_t, median):.2f}x; the same work on the model's resource class"),
        ("cases per second (model, best)", f"{cases_per_s:,.0f}", ""),
        ("events per case (model)", f"{scheduled / model.cases:.2f}",
         f"SimPy events scheduled per simulated case; {model.events / model.cases:.2f} processed"),
        ("events per second (model, best)", f"{model.events / model_t.best:,.0f}", ""),
        ("events per second (timeouts-only, best)", f"{bare.events / bare_t.best:,.0f}", ""),
        ("events per second (same-shape SimPy, best)", f"{stock.events / stock_t.best:,.0f}", ""),
        ("events per second (same-shape model's, best)", f"{same.events / same_t.best:,.0f}", ""),
    ]
    tandem_ratio = None
    if "tandem" in times:
        tandem_t = timing(times["tandem"])
        tandem_best = tandem_cases / tandem_t.best
        tandem_ratio = cases_per_s / tandem_best
        # Each round's ratio, of runs made back to back.
        paired = [(model.cases / m) / (tandem_cases / t) for m, t in zip(times["model"], times["tandem"])]
        rows += [
            ("tandem seconds (best / median)", f"{tandem_t.best:.4f} / {tandem_t.median:.4f}",
             f"{tandem_cases:,} cases a run"),
            ("cases per second (tandem, best)", f"{tandem_best:,.0f}", ""),
            ("events per case (tandem)", f"{tandem_events / tandem_cases:.2f}", "scheduled"),
            ("model / tandem cases per second (best)", f"{tandem_ratio:.2f}x",
             f"rounds {min(paired):.2f}-{max(paired):.2f}x, median {statistics.median(paired):.2f}x; the target's"),
        ]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print()
    for name, value, note in rows:
        print(f"{name:<{w0}}  {value:>{w1}}  {note}".rstrip())
    print()
    targets = [
        (f"target >= {MIN_TANDEM_RATIO}x the tandem's cases per second:",
         "not measured (no tandem)" if tandem_ratio is None else
         f"{verdict(tandem_ratio >= MIN_TANDEM_RATIO)} ({tandem_ratio:.2f}x)"),
        (f"target overhead <= {MAX_OVERHEAD}x (vs the bare SimPy same-shape loop):",
         f"{verdict(overhead_stock <= MAX_OVERHEAD)} ({overhead_stock:.2f}x)"),
        ("  vs the same-shape loop on the model's resource class:",
         f"{overhead_same:.2f}x (not what the target means)"),
        ("  vs the timeouts-only loop:", f"{overhead_bare:.2f}x (not what the target means)"),
    ]
    w = max(len(label) for label, _ in targets)
    for label, value in targets:
        print(f"{label:<{w}} {value}")


def profile_replication(cfg: sim.SimConfig, replication: int, top: int) -> None:
    """cProfile one (untimed) replication and print its ``top`` functions by own time."""
    prof = cProfile.Profile()
    prof.runcall(run_replication, cfg, replication, env=simpy.Environment())
    stats = pstats.Stats(prof)
    print(f"\ncProfile of replication {replication}, own time by where the code lives:")
    for where, seconds in own_time_by_origin(stats).items():
        print(f"  {where:<28} {seconds:7.3f} s  {seconds / stats.total_tt:6.1%}")
    print(f"\ncProfile of replication {replication}, top {top} by tottime:")
    stats.sort_stats("tottime").print_stats(top)


def own_time_by_origin(stats: pstats.Stats) -> dict[str, float]:
    """Profiled own time split into SimPy, the model (sim/) and the rest. Built-ins such
    as list.sort have no file; most are called by SimPy's sorted resource queues."""
    out = {"simpy": 0.0, "sim (the model)": 0.0, "built-ins and other": 0.0}
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():
        if "/simpy/" in filename:
            out["simpy"] += tottime
        elif "/sim/" in filename:
            out["sim (the model)"] += tottime
        else:
            out["built-ins and other"] += tottime
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replication", type=int, default=0, help="replication number (default 0)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each (default 5)")
    parser.add_argument("--tandem-cases", type=int, default=20_000, metavar="N",
                        help="cases in each run of the bare SimPy tandem (default 20,000)")
    parser.add_argument("--tandem", type=Path, default=TANDEM_PATH, metavar="PATH",
                        help="the bare SimPy tandem's script (default ../shared/bench/bench_tandem.py "
                             "beside the repository)")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also cProfile one replication and print its top N functions by tottime")
    args = parser.parse_args()
    tandem = load_tandem(args.tandem)

    cfg = baseline_config()
    model = model_shape(cfg, args.replication)
    # Counted runs of both loops check that their plans reproduce the model's counts.
    plan = bare_plan(model)
    bare = counted_shape(run_bare(plan, CountingEnv()), [], 0, model.horizon)
    same_plan = same_shape_plan(model)
    env = CountingEnv(loaded_window(model.horizon))
    with counting_resources():
        same_resources = run_same_shape(same_plan, env)
    same = counted_shape(env, [(r.name, res) for r, res in zip(model.resources, same_resources)], 0, model.horizon)
    env = CountingEnv()
    run_same_shape(same_plan, env, stock=True)
    stock = counted_shape(env, [], 0, model.horizon)
    report_counts(model, bare, same, stock)

    # Timed runs use plain Environments: counting would slow them. The runs alternate, round
    # by round, so the ratios compare runs made under the same load.
    # The loops run under the collector setting the model gives its own runs, so that the
    # ratios measure the model's Python and not that setting.
    runs = {"model": timed(lambda: run_replication(cfg, args.replication, env=simpy.Environment())),
            "timeouts-only": timed(lambda: run_bare(plan), fewer_young_collections),
            "same-shape SimPy": timed(lambda: run_same_shape(same_plan, stock=True), fewer_young_collections),
            "same-shape model's": timed(lambda: run_same_shape(same_plan), fewer_young_collections)}
    if tandem is not None:
        runs["tandem"] = TandemRuns(tandem, args.tandem_cases)
    times = time_rounds(runs, args.repeats)
    draw_t = time_repeats(lambda: draw_cases(cfg, Streams(cfg.run.seed, args.replication)), args.repeats)
    report(model, bare, same, stock, times, draw_t, args.tandem_cases, getattr(runs.get("tandem"), "events", 0),
           args.replication, args.repeats)
    if args.profile:
        profile_replication(cfg, args.replication, args.profile)


if __name__ == "__main__":
    main()
