"""Throughput, per-point overhead and driver memory of a sweep (``sim.running.sweep.run_sweep``).

One invocation, so that every ratio comes from one run on one machine:

- **throughput**: the benchmark sweep (``configs/sweep/bench.yaml``: 200 points of four short
  replications) run three times into fresh folders: serially in this process
  (``SerialExecutor``), on two local processes (``LocalExecutor(2)``) and on a Dask cluster
  started here as real processes (``dask scheduler`` and two ``dask worker --nthreads 1`` on
  127.0.0.1, reached through ``DaskExecutor(address)``). Parallel efficiency =
  T_serial / (2 x T_parallel), from ``run_sweep``'s wall times; the executors are started
  and their workers have imported ``sim`` before the clock starts (the start-up is shown on
  its own line). The three ``sweep.parquet`` tables are compared (timing column excluded).
- **per-point overhead**: the serial run is instrumented (timing wrappers on the functions
  ``run_sweep`` calls), so its wall time splits into design building, the tasks (simulation
  proper, and building each replication's results and metrics) and the driver's per-point
  work (writing batches, assembling points, collecting ``sweep.parquet``).
- **memory**: peak RSS of a fresh driver process running a serial sweep of tiny points
  (30 days, one replication) of 10 against 1,000 points, and of one tiny point with 10
  against 1,000 replications. These children re-invoke this script with ``--child``.
- **Dask profiler**: one CPU-bound task (``run_chunks`` on a fixed chunk) timed on one worker
  of the same cluster with the worker's statistical profiler running and after
  ``sim.running.executors.quiet_dask_worker`` stopped it, alternately, best of a few; and in this
  process without Dask.

Run: ``python benchmarks/bench_sweep.py [--memory-points 10,1000] [--skip local|dask|memory|profiler]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import sim.io.collect
import sim.running.sweep
from bench_model import print_table, verdict  # benchmarks/ is on the path of a script run from it
from sim.config.design import design_points
from sim.running.executors import DaskExecutor, LocalExecutor, SerialExecutor, quiet_dask_worker
from sim.running.sweep import Chunk, SweepOutcome, run_sweep, seconds_per_replication

# Targets the issue set; printed as PASS/FAIL, never enforced.
MIN_EFFICIENCY = 0.90  # on 2 workers
MAX_OVERHEAD_MS = 50.0  # per point
MAX_MEMORY_RATIO = 1.5  # peak RSS growth over a driver ready to sweep, 1,000 points against 10

WORKERS = 2
SWEEP = "bench"
TINY = ["run.horizon_days=30"]  # memory children: the cheapest points that still run the model
MIB = 1024 * 1024
ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- timing helpers


@dataclass
class Tally:
    """Calls and seconds of the functions wrapped by ``instrument``."""

    calls: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def __getitem__(self, label: str) -> float:
        return self.seconds.get(label, 0.0)

    def n(self, label: str) -> int:
        return self.calls.get(label, 0)


@contextlib.contextmanager
def instrument(targets: list[tuple[Any, str]]) -> Iterator[Tally]:
    """Replace each ``getattr(owner, name)`` by a wrapper adding its calls and wall time to a
    Tally, and put the originals back afterwards. A wrapper costs about a microsecond a call.
    Only for code that runs in this process: a wrapped ``run_chunks`` cannot be pickled."""
    tally = Tally()
    saved = []
    for owner, name in targets:
        original = getattr(owner, name)
        saved.append((owner, name, original))

        def wrapper(*args, _f=original, _label=name, **kwargs):
            t0 = time.perf_counter()
            try:
                return _f(*args, **kwargs)
            finally:
                tally.calls[_label] = tally.calls.get(_label, 0) + 1
                tally.seconds[_label] = tally.seconds.get(_label, 0.0) + time.perf_counter() - t0

        setattr(owner, name, wrapper)
    try:
        yield tally
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)


# The driver's side of a sweep: safe to wrap whatever the executor.
DRIVER = [(sim.running.sweep, "design_points"), (sim.running.sweep.SweepFolder, "write_design"), (sim.running.sweep, "plan_tasks"),
          (sim.running.sweep.SweepFolder, "write_chunk"), (sim.running.sweep.SweepFolder, "finish_point"),
          (sim.running.sweep, "summarise_metrics"), (sim.io.collect, "collect")]
# What a task does; wrapped only when the tasks run in this process (serial).
TASKS = [(sim.running.sweep, "run_chunks"), (sim.running.sweep, "run_replication"), (sim.running.sweep, "build_results"),
         (sim.running.sweep, "replication_metrics")]


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def maxrss_bytes() -> int:
    """Peak resident set size of this process: VmHWM, which ``reset_peak`` can lower, else
    ``ru_maxrss`` (Linux reports KiB), the peak since the process started."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reset_peak() -> bool:
    """Lower the peak RSS mark to the current RSS (Linux: ``/proc/self/clear_refs``), so a
    peak measured next is the next step's own, not the imports' or a warm-up's."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def current_rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize()
    except OSError:
        return 0


def tree_cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes and their descendants (psutil), 0 if gone."""
    import psutil

    total = 0.0
    for pid in pids:
        try:
            p = psutil.Process(pid)
            for q in [p, *p.children(recursive=True)]:
                t = q.cpu_times()
                total += t.user + t.system
        except psutil.Error:
            pass
    return total


def machine_busy_seconds() -> float:
    """CPU seconds all processes on the machine have used since boot (``/proc/stat``; 0 if
    unavailable): the others' share during a run shows how contended it was."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


# --------------------------------------------------------------------------- one sweep


@dataclass
class Run:
    """One timed ``run_sweep`` of the benchmark design."""

    label: str
    outcome: SweepOutcome
    tally: Tally
    driver_cpu: float  # this process's CPU seconds during run_sweep
    worker_cpu: float | None  # the workers' CPU seconds during run_sweep (None: serial)
    machine_cpu: float  # every process's CPU seconds on the machine during run_sweep
    service_cpu: float = 0.0  # the Dask scheduler's CPU seconds during run_sweep
    startup: float = 0.0  # starting the executor and importing sim in its workers
    table: Any = None  # sweep.parquet
    load: str = ""

    @property
    def wall(self) -> float:
        return self.outcome.wall_seconds

    @property
    def others_cpu(self) -> float:
        """CPU the machine's other processes (not this sweep's) used during the run."""
        return max(self.machine_cpu - self.driver_cpu - (self.worker_cpu or 0.0) - self.service_cpu, 0.0)

    @property
    def reps_per_s(self) -> float:
        return self.outcome.replications_run / self.wall

    @property
    def points_per_s(self) -> float:
        return self.outcome.points / self.wall


def timed_sweep(label: str, name: str, overrides: list[str], out: Path, executor, batch_seconds: float | None,
                targets: list, worker_cpu: Callable[[], float] | None = None, startup: float = 0.0,
                service_cpu: Callable[[], float] | None = None) -> Run:
    import pandas as pd

    shutil.rmtree(out, ignore_errors=True)  # a fresh folder: a re-run would resume, not recompute
    before_load = load()
    w0 = worker_cpu() if worker_cpu else None
    s0 = service_cpu() if service_cpu else 0.0
    c0, m0 = cpu_seconds(), machine_busy_seconds()
    with instrument(targets) as tally:
        outcome = run_sweep(name, overrides, out=out, executor=executor, progress=False, batch_seconds=batch_seconds)
    driver, machine = cpu_seconds() - c0, machine_busy_seconds() - m0
    wcpu = worker_cpu() - w0 if worker_cpu else None
    scpu = service_cpu() - s0 if service_cpu else 0.0
    if outcome.failed or outcome.completed != outcome.points:
        raise SystemExit(f"{label}: {len(outcome.failed)} failed points, {outcome.completed} of {outcome.points} "
                         f"completed; see {out}/failed/ (kept with --keep DIR)")
    table = pd.read_parquet(out / "sweep.parquet")
    print(f"  {label}: {outcome.wall_seconds:.1f} s ({before_load})", flush=True)
    return Run(label, outcome, tally, driver, wcpu, machine, scpu, startup, table, before_load)


def same_results(a, b) -> bool:
    """Two sweep.parquet tables equal but for their timing column."""
    drop = list(sim.io.collect.TIMING_COLUMNS)
    x, y = a.drop(columns=drop), b.drop(columns=drop)
    return x.shape == y.shape and x.equals(y)


# --------------------------------------------------------------------------- local pool


def _warm(seconds: float) -> int:
    """Import what a task needs, and hold the worker a moment so the next goes elsewhere."""
    import sim.running.sweep  # noqa: F401

    time.sleep(seconds)
    return os.getpid()


def started_local_pool(workers: int) -> tuple[LocalExecutor, float, list[int]]:
    """A LocalExecutor whose every process is up and has imported sim; its start-up seconds."""
    t0 = time.perf_counter()
    ex = LocalExecutor(workers)
    pids: set[int] = set()
    for _ in range(5):
        futs = [ex.submit(_warm, 0.3) for _ in range(2 * workers)]
        pids.update(f.result() for f in futs)
        if len(pids) >= workers:
            break
    return ex, time.perf_counter() - t0, sorted(pids)


# --------------------------------------------------------------------------- Dask cluster


class DaskCluster:
    """``dask scheduler`` and ``workers`` x ``dask worker --nthreads 1`` on 127.0.0.1, as
    subprocesses of this one (each in its own process group, ended on exit)."""

    def __init__(self, workers: int, env: dict[str, str] | None = None):
        self.dir = Path(tempfile.mkdtemp(prefix="bench-dask-"))
        self.procs: list[subprocess.Popen] = []
        self.workers = workers
        self.env = {**os.environ, **(env or {})}
        self.address = ""

    def _spawn(self, args: list[str], log: str) -> subprocess.Popen:
        dask = Path(sys.executable).with_name("dask")
        cmd = [str(dask) if dask.exists() else "dask", *args]
        with open(self.dir / log, "w") as f:
            p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=ROOT, env=self.env,
                                 start_new_session=True)
        self.procs.append(p)
        return p

    def __enter__(self) -> "DaskCluster":
        from distributed import Client

        sched_file = self.dir / "scheduler.json"
        try:
            self._spawn(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                         "--scheduler-file", str(sched_file)], "scheduler.log")
            deadline = time.monotonic() + 60
            while not sched_file.is_file():
                if time.monotonic() > deadline or self.procs[0].poll() is not None:
                    raise RuntimeError(f"dask scheduler did not start; see {self.dir}/scheduler.log")
                time.sleep(0.1)
            time.sleep(0.2)  # the file is written whole, but give it a moment
            self.address = json.loads(sched_file.read_text())["address"]
            for i in range(self.workers):
                self._spawn(["worker", "--scheduler-file", str(sched_file), "--nthreads", "1", "--nworkers", "1",
                             "--no-dashboard", "--host", "127.0.0.1", "--name", f"bench-{i}",
                             "--local-directory", str(self.dir / f"w{i}")], f"worker-{i}.log")
            with Client(self.address, timeout=60) as c:
                c.wait_for_workers(self.workers, timeout=120)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def stash_worker_state(self) -> None:
        from distributed import Client

        with Client(self.address) as c:
            c.run(_stash_worker_state)

    @property
    def worker_pids(self) -> list[int]:
        """The ``dask worker`` processes (each a nanny and its worker process)."""
        return [p.pid for p in self.procs[1:]]

    @property
    def scheduler_pids(self) -> list[int]:
        return [p.pid for p in self.procs[:1]]

    def __exit__(self, *exc) -> None:
        for p in reversed(self.procs):  # workers first, then the scheduler
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        for p in reversed(self.procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def _import_sim() -> int:
    import sim.running.sweep  # noqa: F401

    return os.getpid()


# --------------------------------------------------------------------------- Dask profiler


# Timers Dask rescales by itself: left as they are when a worker is put back.
_DASK_OWN_TIMERS = ("heartbeat", "find-missing")


def _stash_worker_state(dask_worker=None) -> list[str]:
    """Keep the worker's periodic callbacks and their intervals aside, before anything quiets
    it, so that ``_worker_as_started`` can undo ``quiet_dask_worker`` (which removes the
    profiler's callbacks and slows some timers)."""
    dask_worker._bench_callbacks = {k: (pc, pc.callback_time) for k, pc in dask_worker.periodic_callbacks.items()
                                    if k not in _DASK_OWN_TIMERS}
    return sorted(dask_worker._bench_callbacks)


def _worker_as_started(dask_worker=None) -> bool:
    """Put the worker back as Dask started it: profiler running, timers at their intervals."""
    for name, (pc, interval) in dask_worker._bench_callbacks.items():
        dask_worker.periodic_callbacks[name] = pc
        pc.callback_time = interval
        if not pc.is_running():
            pc.start()
    return all(pc.is_running() for pc, _ in dask_worker._bench_callbacks.values())


def _timed_task(chunks: list[Chunk]) -> dict:
    """``run_chunks`` timed where it runs, with the profile samples its worker took meanwhile."""
    from sim.running.sweep import run_chunks as rc

    worker = None
    with contextlib.suppress(Exception):
        from distributed import get_worker

        worker = get_worker()

    def samples() -> tuple[int, float]:
        """Profile samples taken so far, and seconds the worker spent taking them."""
        if worker is None:
            return 0, 0.0
        n = sum(d["count"] for _, d in worker.profile_history) + worker.profile_recent["count"]
        return n, float(worker.digests_total.get("profile-duration", 0.0))

    s0, p0 = samples()
    t0, c0 = time.perf_counter(), time.thread_time()
    rc(chunks)
    wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
    s1, p1 = samples()
    running = worker is not None and "profile" in worker.periodic_callbacks and worker.periodic_callbacks["profile"].is_running()
    return {"wall": wall, "cpu": cpu, "samples": max(s1 - s0, 0), "profiling": p1 - p0, "profiler": running}


@dataclass
class ProfilerResult:
    on: list[dict]
    off: list[dict]
    local: list[dict]

    @staticmethod
    def best(rows: list[dict]) -> dict:
        return min(rows, key=lambda r: r["wall"])


def profiler_effect(address: str, chunk: Chunk, repeats: int) -> ProfilerResult:
    """Alternately, on one worker: as Dask started it (profiler running), then after
    ``quiet_dask_worker`` (profiler stopped, housekeeping timers slowed); the same task in
    this process without Dask too."""
    from distributed import Client

    on, off, local = [], [], []
    with Client(address) as client:
        worker = sorted(client.scheduler_info()["workers"])[0]

        def once(mode: str) -> dict:
            if mode == "on":
                client.run(_worker_as_started, workers=[worker])
            else:
                client.run(quiet_dask_worker, workers=[worker])
            fut = client.submit(_timed_task, [chunk], workers=[worker], allow_other_workers=False, pure=False)
            return fut.result()

        once("on")  # warm-up: imports, first-call costs
        for _ in range(repeats):
            on.append(once("on"))
            off.append(once("off"))
            local.append(_timed_task([chunk]))
        client.run(_worker_as_started, workers=[worker])  # leave the worker as Dask started it
    return ProfilerResult(on, off, local)


# --------------------------------------------------------------------------- memory child


def memory_overrides(points: int) -> list[str]:
    """``points`` distinct tiny points of one cost: the bench grid's values replaced (a
    command-line value for a grid key replaces the grid's) by one headcount and ``points``
    shares of trained assessors."""
    shares = ",".join(f"{i / points:.6f}" for i in range(1, points + 1))
    return [*TINY, "staffing.investigators=20", f"training.assessors_trained_share={shares}"]


def run_memory_child(sweep: str, points: int, replications: int, overrides: list[str], batch: float | None) -> dict:
    """A serial sweep of ``points`` tiny points with ``replications`` each, in a fresh
    process. A one-point sweep first makes the lazy imports (pyarrow, scipy.stats) and
    first-call allocations, then the peak mark is lowered to the RSS of a driver ready to
    sweep. The peak is split at the call of ``collect``: building the design and running the
    points, then collecting ``sweep.parquet``."""
    marks: dict[str, int] = {}

    def marking(design: Callable, collect: Callable) -> tuple[Callable, Callable]:
        """Wrappers of these two that take the marks."""
        def design_then_mark(*args, **kwargs):
            out = design(*args, **kwargs)
            marks["after_design"] = current_rss_bytes()
            return out

        def collect_between_marks(*args, **kwargs):
            marks["loop_peak"], marks["before_collect"] = maxrss_bytes(), current_rss_bytes()
            if not reset_peak():
                return collect(*args, **kwargs)
            out = collect(*args, **kwargs)
            marks["collect_peak"] = maxrss_bytes()
            return out

        return design_then_mark, collect_between_marks

    with tempfile.TemporaryDirectory(prefix="bench-sweep-mem-") as tmp:
        run_sweep(sweep, [*memory_overrides(1), *overrides, "run.replications=1"], out=Path(tmp) / "warm",
                  progress=False)
        warm_peak = maxrss_bytes()
        reset = reset_peak()
        base_peak, base_now = maxrss_bytes(), current_rss_bytes()
        with instrument(DRIVER + TASKS) as tally:
            # (instrument puts the originals back on leaving)
            sim.running.sweep.design_points, sim.io.collect.collect = marking(sim.running.sweep.design_points, sim.io.collect.collect)
            outcome = run_sweep(sweep, [*memory_overrides(points), *overrides, f"run.replications={replications}"],
                                out=Path(tmp) / "run", progress=False, batch_seconds=batch)
        peak, now = max(maxrss_bytes(), marks.get("loop_peak", 0)), current_rss_bytes()
    return {"points": outcome.points, "replications": outcome.replications_run, "wall": outcome.wall_seconds,
            "warm_peak": warm_peak, "reset": reset, "base_peak": base_peak, "base_now": base_now, "peak": peak,
            "now": now, **marks, "calls": tally.calls, "seconds": tally.seconds}


def spawn_memory(sweep: str, points: int, replications: int, overrides: list[str]) -> subprocess.Popen:
    cmd = [sys.executable, __file__, "--child", "--sweep", sweep, "--child-points", str(points),
           "--child-replications", str(replications), *(f"--override={o}" for o in overrides)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)


def collect_child(proc: subprocess.Popen) -> dict:
    stdout, _ = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"child {proc.args} failed with exit code {proc.returncode}")
    return json.loads(stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- report


def print_rows(rows: list[tuple[str, str, str]]) -> None:
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    for name, value, note in rows:
        print(f"{name:<{w0}}  {value:>{w1}}  {note}".rstrip())


def ms(seconds: float, n: int) -> str:
    return f"{1000 * seconds / max(n, 1):.1f}"


def simulation_seconds(table) -> float:
    """What the sweep recorded as its points' simulation time (tasks' own timing)."""
    return float(table.drop_duplicates("point")["simulation_seconds"].sum())


def report_throughput(serial: Run, parallel: list[Run]) -> dict[str, float]:
    print("\nThroughput (run_sweep wall time; executors started and warm before the clock starts):")
    header = ["", "wall s", "reps/s", "points/s", "speedup", "efficiency", "driver CPU s", "worker CPU s",
              "workers busy", "others' CPU s", "start-up s"]
    rows, eff = [], {}
    for r in [serial, *parallel]:
        speedup = serial.wall / r.wall
        e = speedup / (1 if r is serial else WORKERS)
        eff[r.label] = e
        busy = "" if r.worker_cpu is None else f"{r.worker_cpu / (WORKERS * r.wall):.0%}"
        rows.append([r.label, f"{r.wall:.1f}", f"{r.reps_per_s:.1f}", f"{r.points_per_s:.2f}", f"{speedup:.2f}x",
                     "" if r is serial else f"{e:.1%}", f"{r.driver_cpu:.1f}",
                     "" if r.worker_cpu is None else f"{r.worker_cpu:.1f}", busy,
                     f"{r.others_cpu:.0f} ({r.others_cpu / ((os.cpu_count() or 1) * r.wall):.0%})",
                     f"{r.startup:.1f}" if r.startup else ""])
    print_table(header, rows)
    print(f"  others' CPU: what other processes on the machine used meanwhile (share of its {os.cpu_count()} CPUs);"
          " workers busy: worker CPU / (workers x wall); Dask's worker CPU includes the nannies")
    for r in parallel:
        if r.service_cpu:
            print(f"  the Dask scheduler used {r.service_cpu:.1f} CPU s during '{r.label}' "
                  f"({r.service_cpu / r.wall:.0%} of a CPU), besides the workers")
    for r in parallel:
        bound = serial.driver_cpu / (r.driver_cpu + (r.worker_cpu or 0.0) + r.service_cpu)
        line = (f"  {r.label}: efficiency at most {bound:.1%} on an idle machine (serial CPU / "
                f"{'driver + worker + scheduler' if r.service_cpu else 'driver + worker'} CPU)")
        if r.startup:
            line += f"; {serial.wall / (WORKERS * (r.wall + r.startup)):.1%} with its start-up counted"
        print(line)
    print(f"  tasks: {serial.tally.n('run_chunks')} of {serial.tally['run_chunks'] / max(serial.tally.n('run_chunks'), 1):.2f} s"
          f" measured (serial run)")
    return eff


def report_overhead(serial: Run, planned_task_s: float, batch: float) -> tuple[float, float]:
    t, o = serial.tally, serial.outcome
    n, reps = o.points, o.replications_run
    wall = serial.wall
    recorded = simulation_seconds(serial.table)
    pure = t["run_replication"]
    results = t["build_results"] + t["replication_metrics"]
    accounted = sum(t[k] for k in ("design_points", "write_design", "plan_tasks", "run_chunks", "write_chunk",
                                   "finish_point", "collect"))
    print(f"\nWhere the serial run's {wall:.1f} s went ({n} points, {reps} replications, "
          f"{t.n('run_chunks')} tasks; ms per point unless marked):")
    rows = [
        ("design_points (compose, merge, validate)", f"{t['design_points']:.2f}", f"{ms(t['design_points'], n)} ms/point"),
        ("tasks (run_chunks)", f"{t['run_chunks']:.2f}",
         f"{t.n('run_chunks')} tasks of {t['run_chunks'] / max(t.n('run_chunks'), 1):.2f} s; "
         f"planned {planned_task_s:.2f} s (batch_seconds {batch:g})"),
        ("  run_replication (simulation proper)", f"{pure:.2f}", f"{ms(pure, reps)} ms/replication"),
        ("  build_results + replication_metrics", f"{results:.2f}",
         f"{ms(results, reps)} ms/replication ({results / max(pure, 1e-9):.0%} of the simulation)"),
        ("write_chunk (batch parquet)", f"{t['write_chunk']:.2f}", f"{ms(t['write_chunk'], n)} ms/point"),
        ("finish_point (assemble point)", f"{t['finish_point']:.2f}", f"{ms(t['finish_point'], n)} ms/point"),
        ("  of which summarise_metrics", f"{t['summarise_metrics']:.2f}", f"{ms(t['summarise_metrics'], n)} ms/point"),
        ("collect (sweep.parquet)", f"{t['collect']:.2f}", f"{ms(t['collect'], n)} ms/point"),
        ("the rest (loop, write_design, plan_tasks)", f"{wall - accounted + t['write_design'] + t['plan_tasks']:.2f}",
         f"{ms(wall - accounted + t['write_design'] + t['plan_tasks'], n)} ms/point"),
    ]
    print_rows([(a, f"{b} s", c) for a, b, c in rows])
    over = (wall - recorded) / n
    strict = (wall - pure) / n
    print(f"  per-point overhead = (wall - simulation_seconds in sweep.parquet [{recorded:.2f} s]) / points = "
          f"{1000 * over:.1f} ms")
    print(f"  counting results building as overhead too: (wall - run_replication [{pure:.2f} s]) / points = "
          f"{1000 * strict:.1f} ms")
    return over, strict


def report_profiler(p: ProfilerResult, chunk: Chunk) -> float:
    on, off, here = ProfilerResult.best(p.on), ProfilerResult.best(p.off), ProfilerResult.best(p.local)
    local = here["wall"]
    print(f"\nDask worker profiler: run_chunks on {len(chunk.replications)} replications of one point, "
          f"best of {len(p.on)} (alternating):")
    rows = [[name, f"{r['wall']:.3f}", f"{r['cpu']:.3f}", f"{r['samples']}", f"{1000 * r['profiling']:.1f}",
             "yes" if r["profiler"] else "no", f"{(r['wall'] - local) / local:+.1%}"]
            for name, r in (("worker as Dask starts it (profiler on)", on), ("worker after quiet_dask_worker", off))]
    rows.append(["this process (the driver), no Dask", f"{local:.3f}", f"{here['cpu']:.3f}", "", "", "", ""])
    print_table(["", "wall s", "task-thread CPU s", "profile samples", "sampling ms", "profiler", "vs the driver"],
                rows)
    slow = on["wall"] / off["wall"] - 1
    med_on = sorted(r["wall"] for r in p.on)[len(p.on) // 2]
    med_off = sorted(r["wall"] for r in p.off)[len(p.off) // 2]
    share = sum(r["profiling"] for r in p.on) / sum(r["wall"] for r in p.on)
    print(f"  profiler on vs quieted: {slow:+.1%} (best), {med_on / med_off - 1:+.1%} (median); the worker spent "
          f"{share:.1%} of the task's wall time taking samples (Dask's profile-duration; it holds the GIL meanwhile)")
    return slow


def growth_mib(d: dict) -> float:
    """Peak RSS growth of a memory child's sweep over the driver ready to sweep."""
    return (d["peak"] - d["base_peak"]) / MIB


def report_memory(kind: str, small: dict, large: dict) -> tuple[float, float]:
    """One pair of memory children; returns (growth ratio, absolute peak ratio)."""
    print(f"\nDriver memory, serial sweep in a fresh process, {kind} (tiny points: {' '.join(TINY)}; MiB):")
    header = ["", "wall s", "tasks", "ready to sweep", "peak", "growth", "  design + run", "  collect",
              "held after"]
    rows = []
    for d in (small, large):
        label = f"{d['points']:,} points x {d['replications'] // d['points']:,} replications"
        split = "collect_peak" in d
        rows.append([label, f"{d['wall']:.1f}", f"{d['calls'].get('run_chunks', 0)}", f"{d['base_peak'] / MIB:.1f}",
                     f"{d['peak'] / MIB:.1f}", f"{growth_mib(d):.1f}",
                     f"{(d['loop_peak'] - d['base_peak']) / MIB:.1f}" if split else "",
                     f"{(d['collect_peak'] - d['before_collect']) / MIB:.1f}" if split else "",
                     f"{(d['now'] - d['base_now']) / MIB:.1f}"])
    print_table(header, rows)
    if not all(d["reset"] for d in (small, large)):
        print("  (no /proc/self/clear_refs: peaks are since the child started, imports included)")
    ratio = large["peak"] / small["peak"]
    gs, gl = growth_mib(small), growth_mib(large)
    n_s, n_l = small[kind], large[kind]
    slope = (gl - gs) * 1024 / max(n_l - n_s, 1)
    print(f"  growth {gl:.1f} against {gs:.1f} MiB ({gl / max(gs, 1e-9):.1f}x); absolute peak {ratio:.2f}x; "
          f"{slope:.0f} KiB per extra {kind[:-1]} (about {slope * 10_000 / 1024:,.0f} MiB per 10,000)")
    if "collect_peak" in large:
        print(f"  collect's own growth: {(large['collect_peak'] - large['before_collect']) / MIB:.1f} MiB "
              f"(sweep.parquet built in memory); design retained {(large['after_design'] - large['base_now']) / MIB:.1f} MiB")
    return gl / max(gs, 1e-9), ratio


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", default=SWEEP, help=f"sweep in configs/sweep/ (default {SWEEP})")
    parser.add_argument("--override", action="append", default=[], metavar="KEY=VALUE",
                        help="applied to every point of the throughput sweep, repeatable")
    parser.add_argument("--batch-seconds", type=float, help="seconds of simulation per task (default: the sweep's)")
    parser.add_argument("--skip", action="append", default=[], choices=("local", "dask", "memory", "profiler"),
                        help="leave a part out (repeatable)")
    parser.add_argument("--memory-points", default="10,1000", help="the two sweep sizes of the memory check")
    parser.add_argument("--memory-replications", default="10,1000", help="the two replication counts of one point")
    parser.add_argument("--profiler-repeats", type=int, default=7, help="timed runs each way (default 7)")
    parser.add_argument("--profiler-replications", type=int, default=10, help="replications in the profiled task")
    parser.add_argument("--keep", metavar="DIR", help="write the sweeps under DIR and keep them (default: a temp dir)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-points", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-replications", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(run_memory_child(args.sweep, args.child_points, args.child_replications, args.override,
                                          args.batch_seconds)))
        return

    started = time.perf_counter()
    spec, points = design_points(args.sweep, args.override)
    batch = spec.batch_seconds if args.batch_seconds is None else args.batch_seconds
    reps = sum(p.config.run.replications for p in points)
    tasks = sim.running.sweep.plan_tasks([(p, list(range(p.config.run.replications))) for p in points], batch)
    planned = sum(seconds_per_replication(p.config) * p.config.run.replications for p in points) / len(tasks)
    print(f"sweep {args.sweep} {' '.join(args.override)}: {len(points)} points, {reps} replications, "
          f"{len(tasks)} tasks (batch_seconds {batch:g}); {os.cpu_count()} CPUs; {load()}")

    chunk = Chunk(points[0].key, points[0].config, tuple(range(args.profiler_replications)))
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    runs: list[Run] = []
    prof: ProfilerResult | None = None
    try:
        print("running:", flush=True)
        serial = timed_sweep("serial", args.sweep, args.override, base / "serial", SerialExecutor(), args.batch_seconds,
                             DRIVER + TASKS)
        if "local" not in args.skip:
            ex, startup, pids = started_local_pool(WORKERS)
            # run_sweep ends by closing the pool, which joins its processes: their CPU then shows
            # in this process's reaped children, no longer in psutil's view of live processes.
            runs.append(timed_sweep(f"{WORKERS} local processes", args.sweep, args.override, base / "local", ex,
                                    args.batch_seconds, DRIVER, startup=startup,
                                    worker_cpu=lambda: cpu_seconds(resource.RUSAGE_CHILDREN) + tree_cpu_seconds(pids)))
        if "dask" not in args.skip or "profiler" not in args.skip:
            t0 = time.perf_counter()
            with DaskCluster(WORKERS) as cluster:
                cluster_start = time.perf_counter() - t0
                cluster.stash_worker_state()  # before DaskExecutor quiets them: the profiler test puts it back
                if "dask" not in args.skip:
                    t0 = time.perf_counter()
                    ex = DaskExecutor(cluster.address)
                    ex.client.run(_import_sim)
                    startup = cluster_start + time.perf_counter() - t0
                    runs.append(timed_sweep(f"Dask, {WORKERS} workers", args.sweep, args.override, base / "dask", ex,
                                            args.batch_seconds, DRIVER,
                                            worker_cpu=lambda: tree_cpu_seconds(cluster.worker_pids), startup=startup,
                                            service_cpu=lambda: tree_cpu_seconds(cluster.scheduler_pids)))
                if "profiler" not in args.skip:
                    print(f"  profiler: {args.profiler_repeats} x 2 tasks ({load()})", flush=True)
                    prof = profiler_effect(cluster.address, chunk, args.profiler_repeats)
        mem: dict[str, tuple[dict, dict]] = {}
        if "memory" not in args.skip:
            n_small, n_large = (int(x) for x in args.memory_points.split(","))
            r_small, r_large = (int(x) for x in args.memory_replications.split(","))
            print(f"  memory: 4 children, two at a time ({load()})", flush=True)
            # Two at a time, after the timed runs (memory does not depend on timing): the large
            # ones together, then the small ones.
            large = [spawn_memory(args.sweep, n_large, 1, []), spawn_memory(args.sweep, 1, r_large, [])]
            large = [collect_child(p) for p in large]
            small = [spawn_memory(args.sweep, n_small, 1, []), spawn_memory(args.sweep, 1, r_small, [])]
            small = [collect_child(p) for p in small]
            mem["points"] = (small[0], large[0])
            mem["replications"] = (small[1], large[1])
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)

    # ------------------------------------------------------------------ report
    eff = report_throughput(serial, runs)
    same = all(same_results(serial.table, r.table) for r in runs)
    print(f"  sweep.parquet identical across executors (timing column aside): {'yes' if same else 'NO'}")
    over, strict = report_overhead(serial, planned, batch)
    for r in runs:
        t = r.tally
        print(f"  driver in '{r.label}': finish_point {ms(t['finish_point'], r.outcome.points)} ms/point "
              f"(summarise_metrics {ms(t['summarise_metrics'], r.outcome.points)}), write_chunk "
              f"{ms(t['write_chunk'], r.outcome.points)}, design {t['design_points']:.2f} s, collect {t['collect']:.2f} s")
    slow = report_profiler(prof, chunk) if prof else None
    mem_rows = {}
    for kind, (small, large) in mem.items():
        mem_rows[kind] = report_memory(kind, small, large)
        if kind == "points":
            n = large["points"]
            over_tiny = (large["wall"] - large["seconds"].get("run_chunks", 0.0)) / n
            print(f"  per-point overhead on tiny points ({n:,} points): {1000 * over_tiny:.1f} ms "
                  f"(design {ms(large['seconds'].get('design_points', 0), n)}, finish_point "
                  f"{ms(large['seconds'].get('finish_point', 0), n)}, collect {ms(large['seconds'].get('collect', 0), n)})")

    print()
    targets = []
    for r in runs:
        targets.append((f"target parallel efficiency >= {MIN_EFFICIENCY:.0%} ({r.label}):",
                        f"{verdict(eff[r.label] >= MIN_EFFICIENCY)} ({eff[r.label]:.1%})"))
    targets.append((f"target per-point overhead <= {MAX_OVERHEAD_MS:g} ms:",
                    f"{verdict(1000 * over <= MAX_OVERHEAD_MS)} ({1000 * over:.1f} ms; wall minus recorded simulation)"))
    targets.append(("  results building counted as overhead, for reference:", f"{1000 * strict:.1f} ms"))
    if "points" in mem:
        small, large = mem["points"]
        g_ratio, p_ratio = mem_rows["points"]
        targets.append((f"target memory flat in points (growth {small['points']:,} -> {large['points']:,} "
                        f"<= {MAX_MEMORY_RATIO:g}x):",
                        f"{verdict(g_ratio <= MAX_MEMORY_RATIO)} ({growth_mib(small):.1f} -> {growth_mib(large):.1f} MiB,"
                        f" {g_ratio:.1f}x; absolute peak {p_ratio:.2f}x)"))
    if "replications" in mem:
        small, large = mem["replications"]
        g_ratio, p_ratio = mem_rows["replications"]
        targets.append((f"  replications of one point ({small['replications']:,} -> {large['replications']:,}), "
                        "no target:", f"{growth_mib(small):.1f} -> {growth_mib(large):.1f} MiB, {g_ratio:.1f}x; "
                        f"absolute peak {p_ratio:.2f}x"))
    if slow is not None:
        targets.append(("Dask profiler slowdown (no target):", f"{slow:+.1%}"))
    w = max(len(label) for label, _ in targets)
    for label, value in targets:
        print(f"{label:<{w}} {value}")
    print(f"\ntotal {time.perf_counter() - started:.0f} s; {load()}")


if __name__ == "__main__":
    main()
