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
import pickle
import types
from typing import Callable, Iterable

from tqdm import tqdm

from ..config.schema import SimConfig
from ..errors import ConfigError
from ..model import ReplicationOutput, run_replication
from ..results import Results, build_results
from .executors import LocalExecutor, check_cluster, make_executor
from .regions import is_split, join_regions, region_order, run_regions, run_task
from .worker_processes import main_module_hidden


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM, see ``sim.cli.common``) while replications ran: ``finished``
    holds the outputs of the replications completed before it, in replication order, so
    a caller can keep them."""

    def __init__(self, finished: list[ReplicationOutput], message: str = ""):
        super().__init__(message)
        self.finished = finished


def run_replications(cfg: SimConfig, replications: Iterable[int] | None = None,
                     workers: int | None = None, progress: bool | None = None,
                     on_finished: Callable[[ReplicationOutput], None] | None = None,
                     executor=None) -> list[ReplicationOutput]:
    """Run the given replications (default: all of ``cfg.run.replications``) on ``workers``
    local processes (default ``cfg.run.workers``, or, when ``workers`` is not given, the Dask
    cluster ``cfg.run`` names by ``scheduler`` or ``local_cluster``), or on ``executor`` (one of
    ``sim.running.executors``, kept open for the caller's next call); outputs in replication
    order. ``on_finished(output)`` is called as each replication finishes (in the order they
    finish), to keep it at once.

    Ctrl-C raises :class:`Interrupted` with the replications finished so far; worker
    processes are stopped at once (a replication they were running is lost, not waited for).
    """
    cfg.validate()
    reps = list(range(cfg.run.replications) if replications is None else replications)
    show = cfg.run.progress if progress is None else progress
    outputs: list[ReplicationOutput] = []
    own = None
    if executor is None:
        requested = cfg.run.workers if workers is None else workers
        processes = min(requested, _task_count(cfg, reps, requested))  # never more than the tasks
        if workers is None and cfg.run.on_dask():
            # Connected before the progress bar shows: a scheduler that does not answer is one line.
            own = executor = cluster_for(cfg)
        elif processes > 1:
            refuse_main_module_objects(cfg, requested)
            own = executor = LocalExecutor(processes)
    bar = tqdm(total=len(reps), desc=f"{cfg.scenario}: replications", unit="rep", disable=not show or None)

    def finish(output: ReplicationOutput) -> None:
        outputs.append(output)
        if on_finished is not None:
            on_finished(output)
        bar.update()

    try:
        if executor is None:
            for r in reps:
                finish(run_regions(cfg, r) if is_split(cfg) else run_replication(cfg, r))
        else:
            _run_on(executor, cfg, reps, finish)  # stops the executor's workers if it fails
            if own is not None:
                own.close()
    except KeyboardInterrupt:
        raise Interrupted(sorted(outputs, key=lambda output: output.replication)) from None
    finally:
        bar.close()
    return sorted(outputs, key=lambda output: output.replication)


DASK_KEYS = ("run.scheduler", "run.local_cluster")


def cluster_for(cfg: SimConfig):
    """The Dask executor ``cfg.run`` asks for (its scheduler, or a LocalCluster of
    ``local_cluster`` workers), or None for local processes; the caller closes it. A
    scheduler that cannot be reached is a ConfigError naming ``run.scheduler``."""
    if not cfg.run.on_dask():
        return None
    return make_executor(scheduler=cfg.run.scheduler or None, local_cluster=cfg.run.local_cluster or None,
                         options=DASK_KEYS)


def check_cluster_of(cfg: SimConfig) -> None:
    """ConfigError now, before a folder is made or anything runs, if ``cfg.run``'s Dask
    cluster cannot be had (``sim.running.executors.check_cluster``)."""
    check_cluster(cfg.run.scheduler or None, cfg.run.local_cluster or None, DASK_KEYS)


def simulate(cfg: SimConfig, workers: int | None = None, progress: bool | None = None,
             on_finished: Callable[[ReplicationOutput], None] | None = None, executor=None) -> Results:
    """Run every replication of ``cfg`` and return its tables (``Results``);
    ``on_finished(output)``, if given, is called as each replication finishes (a progress
    display counts them). Replications run as ``run_replications`` says."""
    return build_results(cfg, run_replications(cfg, workers=workers, progress=progress, on_finished=on_finished,
                                               executor=executor))


def split_by_region(cfg: SimConfig, replications: int, workers: int) -> bool:
    """Whether each of ``replications`` replications of ``cfg`` runs a region a task on
    ``workers`` workers: only if its regions share nothing, and only while there are too few
    replications to keep every worker busy to the end (fewer than two a worker). Otherwise a
    task is a whole replication, its regions in turn and joined on the worker, which sends
    back one output instead of a part a region."""
    return is_split(cfg) and replications < 2 * workers


def _task_count(cfg: SimConfig, reps: list[int], workers: int) -> int:
    """The tasks ``reps`` make on ``workers`` workers: a region or a replication each."""
    return len(reps) * (len(cfg.regions()) if split_by_region(cfg, len(reps), workers) else 1)


def _run_on(executor, cfg: SimConfig, reps: list[int], finish: Callable[[ReplicationOutput], None]) -> None:
    """Run ``reps`` on ``executor``, calling ``finish`` as each finishes. Split by region
    (``split_by_region``), a replication's regions are sent largest first, so that the
    last to finish are short, and joined once its last region is back. On an interrupt or a
    failed replication, the replications already done are finished too before the exception
    passes on, and the workers are stopped."""
    split = split_by_region(cfg, len(reps), executor.workers)
    regions = region_order(cfg) if split else [None]
    futures: dict = {}
    collected: set = set()
    parts: dict[int, dict[int, ReplicationOutput]] = {}

    def collect(future) -> None:
        collected.add(future)
        r, region = futures[future]
        output = executor.result(future)
        if region is None:
            finish(output)
            return
        parts.setdefault(r, {})[region] = output
        if len(parts[r]) == len(regions):
            done = parts.pop(r)
            finish(join_regions(cfg, [done[k] for k in range(len(regions))]))

    stopped = True
    try:
        # A local pool starts a process as a task is submitted: all of them start in here.
        with main_module_hidden():
            for r in reps:
                for region in regions:
                    futures[executor.submit(run_task, (cfg, r, region))] = (r, region)
        for future in executor.as_completed(list(futures)):
            collect(future)
        stopped = False
    except BaseException:
        for future in futures:  # done, but not collected when the interrupt came
            if future not in collected and _done_well(future):
                collect(future)
        raise
    finally:
        if stopped:
            executor.close(cancel=True)


def _done_well(future) -> bool:
    """Whether a local or Dask future has finished without failing (the serial executor's
    tasks run only when asked: never)."""
    if not hasattr(future, "done"):
        return False
    return future.done() and not future.cancelled() and future.exception() is None


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
