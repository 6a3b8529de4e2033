"""Running replications: serially or across local processes, with a progress bar.

Each replication's random streams depend only on (seed, replication, stream name), so the
tables are identical whatever the number of workers or the order replications finish in.
"""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Iterable

from tqdm import tqdm

from ..config.schema import SimConfig
from ..model import ReplicationOutput, run_replication
from ..results import Results, build_results


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM, see ``sim.cli.common``) while replications ran: ``finished``
    holds the outputs of the replications completed before it, in replication order, so
    a caller can keep them."""

    def __init__(self, finished: list[ReplicationOutput], message: str = ""):
        super().__init__(message)
        self.finished = finished


def run_replications(cfg: SimConfig, replications: Iterable[int] | None = None,
                     workers: int | None = None, progress: bool | None = None) -> list[ReplicationOutput]:
    """Run the given replications (default: all of ``cfg.run.replications``) on ``workers``
    local processes (default ``cfg.run.workers``); outputs in replication order."""
    cfg.validate()
    reps = list(range(cfg.run.replications) if replications is None else replications)
    workers = min(cfg.run.workers if workers is None else workers, max(len(reps), 1))
    show = cfg.run.progress if progress is None else progress
    bar = tqdm(total=len(reps), desc=f"{cfg.scenario}: replications", unit="rep", disable=not show or None)
    outputs: list[ReplicationOutput] = []
    try:
        if workers <= 1:
            for r in reps:
                outputs.append(run_replication(cfg, r))
                bar.update()
        else:
            # spawn: a clean interpreter per worker, safe whatever threads the parent runs.
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"))
            try:
                futures = [pool.submit(run_replication, cfg, r) for r in reps]
                for future in as_completed(futures):
                    outputs.append(future.result())
                    bar.update()
            finally:
                # On an interrupt, replications not yet started are dropped, not waited for.
                pool.shutdown(wait=True, cancel_futures=True)
    except KeyboardInterrupt:
        raise Interrupted(sorted(outputs, key=lambda output: output.replication)) from None
    finally:
        bar.close()
    return sorted(outputs, key=lambda output: output.replication)


def simulate(cfg: SimConfig, workers: int | None = None, progress: bool | None = None) -> Results:
    """Run every replication of ``cfg`` and return its tables (``Results``)."""
    return build_results(cfg, run_replications(cfg, workers=workers, progress=progress))
