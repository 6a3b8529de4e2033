"""How many replications a configuration needs for a stated precision.

``replication_study`` runs replications 0, 1, ..., ``max_replications`` - 1 of a
configuration and applies the replications algorithm of Hoad, Robinson & Davies (2010) to
chosen outputs: the relative half-width of the 95 % interval after the first n
replications, and the smallest n that keeps it at or below ``precision`` (0.05 = +/- 5 % of
the mean) over a look-ahead of further replications. The method and its rules are in
:mod:`sim.results.replication_count`.

>>> import sim
>>> from sim.results.catalogue import REPLICATION_KEYS
>>> from sim.running.replication_study import replication_study
>>> cfg = sim.load_config(["run.horizon_days=200", "run.workers=1", "run.progress=false"])
>>> study = replication_study(cfg, max_replications=4)
>>> len(study.recommendation) == len(REPLICATION_KEYS)      # one row per output
True
>>> needed = study.replications_needed       # the largest recommendation, or None
>>> looser = study.recommend(0.10)           # another precision, without running again
>>> looser["precision"].unique().tolist()
[0.1]

Replication r sees the same random numbers whatever else is run, so the first n
replications of the study are exactly those of a run with ``run.replications=n``; a study
stopped part way (Ctrl-C) raises :class:`StudyInterrupted` holding the study of the
replications finished before it, exactly what a study of that many would have given.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Sequence

import pandas as pd

from ..config.memory import check_memory
from ..config.schema import SimConfig
from ..errors import ConfigError
from ..results import build_results, replication_metrics
from ..results.catalogue import REPLICATION_KEYS
from ..results.replication_count import StudyKey, recommend_replications, replication_trajectory
from .runner import Interrupted, run_replications

MAX_REPLICATIONS = 10_000
"""The most replications a study may run: far beyond any precision worth having, low enough
that a typing slip is refused instead of run for days."""


@dataclass
class ReplicationStudy:
    """A replication study's tables.

    ``metrics``: every metric of every replication run (``replication_metrics``), for other
    keys; ``trajectory``: mean, sd, half-width and relative half-width after n = 2..N
    replications per key; ``recommendation``: one row per key at ``precision``."""

    config: SimConfig
    metrics: pd.DataFrame
    trajectory: pd.DataFrame
    recommendation: pd.DataFrame
    precision: float
    k_limit: int = 5

    @property
    def replications_needed(self) -> int | None:
        """The replications that meet the precision for every key (the largest
        recommendation), or None if some key did not reach it within the study."""
        recommended = self.recommendation["recommended_replications"]
        if recommended.empty or recommended.isna().any():
            return None
        return int(recommended.max())

    def recommend(self, precision: float, k_limit: int | None = None) -> pd.DataFrame:
        """The recommendation table at another precision, from the same replications."""
        return recommend_replications(self.trajectory, precision, self.k_limit if k_limit is None else k_limit)


class StudyInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) while a replication study ran: ``study`` is the study of the
    replications 0..n-1 finished before it (None if fewer than two, which give no
    interval), so a caller can keep it."""

    def __init__(self, study: ReplicationStudy | None, message: str = ""):
        super().__init__(message)
        self.study = study


def replication_study(cfg: SimConfig, max_replications: int = 30, keys: Sequence[StudyKey] | None = None,
                      precision: float = 0.05, workers: int | None = None, progress: bool | None = None,
                      level: float = 0.95, k_limit: int = 5) -> ReplicationStudy:
    """Run replications 0..``max_replications``-1 of ``cfg`` (``cfg.run.replications`` is not
    used) on ``workers`` processes (default ``cfg.run.workers``) and find, per key, the
    replications needed for a relative half-width of at most ``precision`` at confidence
    ``level``. ``keys`` are (metric, by, grade) for the total, or (metric, by, grade, force);
    default ``sim.results.catalogue.REPLICATION_KEYS``. Raises ConfigError for bad arguments
    before anything runs, ValueError after the run if a key names no metric."""
    if not isinstance(max_replications, int) or not 3 <= max_replications <= MAX_REPLICATIONS:
        raise ConfigError("max_replications", max_replications,
                          f"a whole number from 3 (the algorithm starts from 3) to {MAX_REPLICATIONS}")
    if not (math.isfinite(precision) and precision > 0):
        raise ConfigError("precision", precision, "a relative half-width > 0, e.g. 0.05 for +/- 5 % of the mean")
    if not 0 < level < 1:
        raise ConfigError("level", level, "a confidence level in (0, 1)")
    if not isinstance(k_limit, int) or k_limit < 0:
        raise ConfigError("k_limit", k_limit, "a whole number of look-ahead replications >= 0")
    check_memory(cfg, replications=max_replications)  # they are all held until the study is summarised
    try:
        outputs = run_replications(cfg, replications=range(max_replications), workers=workers, progress=progress)
    except Interrupted as stopped:
        # Local processes finish out of order: keep the unbroken run 0..n-1, so that the
        # partial study is the study of n replications.
        prefix = list(itertools.takewhile(lambda pair: pair[0] == pair[1].replication, enumerate(stopped.finished)))
        finished = [output for _, output in prefix]
        partial = _study(cfg, finished, keys, precision, level, k_limit) if len(finished) >= 2 else None
        raise StudyInterrupted(partial) from None
    return _study(cfg, outputs, keys, precision, level, k_limit)


def _study(cfg: SimConfig, outputs: list, keys: Sequence[StudyKey] | None, precision: float, level: float,
           k_limit: int) -> ReplicationStudy:
    """The study of ``outputs`` (replications 0..n-1 of ``cfg``)."""
    metrics = replication_metrics(build_results(cfg, outputs))
    trajectory = replication_trajectory(metrics, REPLICATION_KEYS if keys is None else keys, level,
                                        force=cfg.total_name)
    recommendation = recommend_replications(trajectory, precision, k_limit)
    return ReplicationStudy(cfg, metrics, trajectory, recommendation, precision, k_limit)
