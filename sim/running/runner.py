"""Running replications: serially or across local processes, with a progress bar.

Each replication's random streams depend only on (seed, replication, stream name), so the
tables are identical whatever the number of workers or the order replications finish in.

Worker processes are started with ``spawn`` (a clean interpreter, safe whatever threads the
parent runs) without re-importing the caller's main module: ``multiprocessing`` would
otherwise run a script that has no ``if __name__ == "__main__":`` guard again in every
worker, and cannot import a main module read from stdin (``python -``) at all. So
``sim.simulate`` with workers runs from a plain script, stdin or a notebook alike; what
the workers are sent must then not be defined in that main module (checked first).
"""

from __future__ import annotations

import io
import multiprocessing as mp
import pickle
import types
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Callable, Iterable

from tqdm import tqdm

from ..config.schema import SimConfig
from ..errors import ConfigError
from ..model import ReplicationOutput, run_replication
from ..results import Results, build_results
from .regions import is_split, join_regions, run_region, run_regions
from .worker_processes import (born_ignoring_interrupts, leave_interrupts_to_the_parent, main_module_hidden,
                               stop_workers)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM, see ``sim.cli.common``) while replications ran: ``finished``
    holds the outputs of the replications completed before it, in replication order, so
    a caller can keep them."""

    def __init__(self, finished: list[ReplicationOutput], message: str = ""):
        super().__init__(message)
        self.finished = finished


def run_replications(cfg: SimConfig, replications: Iterable[int] | None = None,
                     workers: int | None = None, progress: bool | None = None,
                     on_finished: Callable[[ReplicationOutput], None] | None = None) -> list[ReplicationOutput]:
    """Run the given replications (default: all of ``cfg.run.replications``) on ``workers``
    local processes (default ``cfg.run.workers``); outputs in replication order.
    ``on_finished(output)`` is called as each replication finishes (in the order they
    finish), to keep it at once.

    Ctrl-C raises :class:`Interrupted` with the replications finished so far; worker
    processes are stopped at once (a replication they were running is lost, not waited for).
    """
    cfg.validate()
    reps = list(range(cfg.run.replications) if replications is None else replications)
    tasks = len(reps) * len(cfg.regions())  # a region a task when regions run apart
    workers = min(cfg.run.workers if workers is None else workers, max(tasks, 1))
    show = cfg.run.progress if progress is None else progress
    bar = tqdm(total=len(reps), desc=f"{cfg.scenario}: replications", unit="rep", disable=not show or None)
    outputs: list[ReplicationOutput] = []

    def finish(output: ReplicationOutput) -> None:
        outputs.append(output)
        if on_finished is not None:
            on_finished(output)
        bar.update()

    try:
        if workers <= 1:
            for r in reps:
                finish(run_regions(cfg, r) if is_split(cfg) else run_replication(cfg, r))
        else:
            _run_in_processes(cfg, reps, workers, finish)
    except KeyboardInterrupt:
        raise Interrupted(sorted(outputs, key=lambda output: output.replication)) from None
    finally:
        bar.close()
    return sorted(outputs, key=lambda output: output.replication)


def simulate(cfg: SimConfig, workers: int | None = None, progress: bool | None = None,
             on_finished: Callable[[ReplicationOutput], None] | None = None) -> Results:
    """Run every replication of ``cfg`` and return its tables (``Results``);
    ``on_finished(output)``, if given, is called as each replication finishes (a progress
    display counts them)."""
    return build_results(cfg, run_replications(cfg, workers=workers, progress=progress, on_finished=on_finished))


def _run_in_processes(cfg: SimConfig, reps: list[int], workers: int,
                      finish: Callable[[ReplicationOutput], None]) -> None:
    """Run ``reps`` on ``workers`` spawned processes, calling ``finish`` as each finishes;
    a replication of regions that share nothing is run a region a task (``sim.running.regions``)
    and joined once its last region is back. On an interrupt or a failed replication, the
    replications already done are finished too before the exception passes on, and the
    workers are stopped."""
    refuse_main_module_objects(cfg, workers)
    n_regions = len(cfg.regions())  # 1: the whole in one simulation
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                               initializer=leave_interrupts_to_the_parent)
    futures: dict[Future, tuple[int, int]] = {}
    collected: set[Future] = set()
    parts: dict[int, dict[int, ReplicationOutput]] = {}

    def collect(future: Future) -> None:
        collected.add(future)
        r, region = futures[future]
        if n_regions == 1:
            finish(future.result())
            return
        parts.setdefault(r, {})[region] = future.result()
        if len(parts[r]) == n_regions:
            done = parts.pop(r)
            finish(join_regions(cfg, [done[k] for k in range(n_regions)]))

    stopped = True
    try:
        # The pool starts a process as a task is submitted: all of them start in here.
        with main_module_hidden(), born_ignoring_interrupts():
            for r in reps:
                if n_regions == 1:
                    futures[pool.submit(run_replication, cfg, r)] = (r, 0)
                else:
                    for region in range(n_regions):
                        futures[pool.submit(run_region, cfg, r, region)] = (r, region)
        for future in as_completed(futures):
            collect(future)
        stopped = False
    except BaseException:
        for future in futures:  # done, but not collected when the interrupt came
            if future not in collected and future.done() and not future.cancelled() and future.exception() is None:
                collect(future)
        raise
    finally:
        if stopped:
            # Not future.cancel() here: the pool's own thread, finding its workers stopped,
            # fails every pending future, and one cancelled meanwhile makes it raise
            # InvalidStateError (Python 3.11). shutdown's cancel_futures is done by that thread.
            stop_workers(pool)
        pool.shutdown(wait=True, cancel_futures=True)


class _MainModuleFinder(pickle.Pickler):
    """Pickles to nowhere, noting the first class or function defined in ``__main__``
    (``found``, by its qualified name)."""

    def __init__(self):
        super().__init__(io.BytesIO(), protocol=pickle.HIGHEST_PROTOCOL)
        self.found: str | None = None

    def reducer_override(self, obj):
        if isinstance(obj, (type, types.FunctionType)) and obj.__module__ == "__main__":
            self.found = self.found or obj.__qualname__
            return str, (obj.__qualname__,)  # a stand-in: nothing is unpickled
        return NotImplemented


def refuse_main_module_objects(cfg: SimConfig, workers: int) -> None:
    """ConfigError (on ``run.workers``) if ``cfg`` holds a class or function defined in
    the main module (a script, a notebook): worker processes do not import it, so it
    could not reach them."""
    finder = _MainModuleFinder()
    try:
        finder.dump(cfg)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise ConfigError("run.workers", workers, f"the configuration cannot be sent to worker processes ({exc}); "
                                                  "use run.workers=1") from None
    if finder.found is not None:
        raise ConfigError("run.workers", workers,
                          f"worker processes cannot use {finder.found}, defined in the main script or notebook: "
                          "move it into a module of its own and import it, or use run.workers=1")
