"""Running a sweep: every design point's replications, in batches, through one executor.

The output folder holds::

    design.json             the sweep's name, overrides and points (key, parameters)
    partial/KEY/reps-A-B.parquet   per-replication metrics of finished batches
    partial/KEY/reps-A-B.json      the batch's size and SHA-256
    points/KEY/             a finished point: point.json, metrics.parquet, summary.parquet
    failed/KEY/             a point with a failed batch: point.json, error.txt
    damaged/TIME/...        files found damaged on resuming, moved aside under their own path
    sweep.parquet           every point's summary in one tidy table (``sim.io.collect``)
    replications.parquet    every point's per-replication metrics in one tidy table

KEY is a hash of the point's resolved configuration. Batches are written as they finish
(the process holds no results; a point run whole by one task is summarised there and written
at once), a finished point is assembled under a temporary name and renamed into place, so an
interrupted sweep loses no finished batch and a re-run with the same design computes only
what is missing. A point counts as done, and a batch as run, only while its files match the
sizes and SHA-256 checksums recorded when they were written (in point.json, written last;
beside each batch): a damaged one is moved aside, reported and computed again. A batch that
raises is recorded with its traceback and the sweep goes on; a batch whose worker died is
resubmitted.

With ``run.replications=auto`` (a ``ReplicationRule``) a point's replications come in
batches: the rule's first batch, then one look-ahead more at a time (``batch_targets``).
When a batch's last replication is on disk, the point's replications so far are read back
and ``sim.results.replication_count.check_precision`` decides: the point is assembled (the
precision reached, no output able to decide, or the maximum run) or its next batch is
submitted. The decision depends only on the values of replications 0..N-1, which depend only
on the seeds, so any executor, and a re-run that finds the batches on disk and takes the
same decisions again from them, stops every point at the same N. point.json records the
rule and its outcome (``replication_rule``), and its config says the replications run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import os
import re
import shutil
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import pandas as pd
from tqdm import tqdm

from ..config.design import DesignPoint, ReplicationRule, SampleSpec, design_points
from ..config.schema import SimConfig
from ..io.atomic import atomic_write, new_folder
from ..io.points import POINT_FILE, DamagedPoint, file_problem, file_record, parquet_problem, read_point, write_point
from ..model import run_replication
from .regions import is_split, run_regions
from ..results import build_results, replication_metrics
from ..results.catalogue import REPLICATION_KEYS
from ..results.replication_count import PrecisionCheck, check_precision, look_ahead
from ..results.summary import summarise_metrics
from .executors import Lost, SerialExecutor

CASES_PER_SECOND = 12_000.0
"""About the model's speed on one core (``benchmarks/bench_model.py``: some 11,000 cases a
second, best of 10 rounds, on the 2-core machine), used only to size batches."""
RESULTS_SECONDS = 0.03
RESULTS_CASES_PER_SECOND = 60_000.0
"""Building a replication's tables and metrics: about 0.03 s plus 1 s per 60,000 cases (it
costs a third as much again as the simulation of a short run, more than it for a tiny one)."""
MAX_ATTEMPTS = 3
"""Times a batch may be lost with its worker among others before it is run alone (lost
again alone, its points fail)."""
BATCH_NAME = re.compile(r"reps-(?P<first>\d+)-(?P<last>\d+)\.parquet")
"""A batch file's name: the first and last replication it holds."""


@dataclass(frozen=True)
class Chunk:
    """Replications ``replications`` of the point ``key``."""

    key: str
    config: SimConfig
    replications: tuple[int, ...]
    whole: bool = False  # every replication of the point: the task can summarise it


@dataclass
class ChunkResult:
    """A chunk's per-replication ``metrics`` and the ``seconds`` it took; ``error`` (a
    traceback) instead if it failed; ``summary`` too if it was its point's every replication."""

    key: str
    replications: tuple[int, ...]
    metrics: pd.DataFrame | None
    seconds: float
    error: str | None = None
    summary: pd.DataFrame | None = None


def run_chunks(chunks: Sequence[Chunk]) -> list[ChunkResult]:
    """One task: each chunk's replications, one after another in this process (never
    nested parallelism), as per-replication metrics. A chunk that raises is reported with
    its traceback; the others still run."""
    out = []
    for chunk in chunks:
        started = time.perf_counter()
        try:
            outputs = [run_regions(chunk.config, r) if is_split(chunk.config) else run_replication(chunk.config, r)
                       for r in chunk.replications]
            metrics = replication_metrics(build_results(chunk.config, outputs))
            # A point done in one task is summarised here, on the worker, not in the driver.
            summary = summarise_metrics(metrics) if chunk.whole else None
            out.append(ChunkResult(chunk.key, chunk.replications, metrics, time.perf_counter() - started,
                                   summary=summary))
        except Exception:  # noqa: BLE001 - any failure of one point must not stop the sweep
            out.append(ChunkResult(chunk.key, chunk.replications, None, time.perf_counter() - started,
                                   traceback.format_exc()))
    return out


def seconds_per_replication(cfg: SimConfig) -> float:
    """Estimated seconds of one replication in a task, its metrics included (from the
    expected cases)."""
    cases = max(sum(force.expected_cases() for force in cfg.force_configs()), 1.0)
    return cases / CASES_PER_SECOND + RESULTS_SECONDS + cases / RESULTS_CASES_PER_SECOND


def plan_tasks(todo: Sequence[tuple[DesignPoint, list[int]]], batch_seconds: float,
               whole_points: bool = True) -> list[list[Chunk]]:
    """Tasks of at least ``batch_seconds`` of simulation where the design allows: a point's
    missing replications in chunks of that size, and small chunks of several points packed
    together, so that a sweep of many short points is not thousands of tiny tasks. A chunk
    of a point's every replication is summarised by its task if ``whole_points``."""
    tasks: list[list[Chunk]] = []
    current: list[Chunk] = []
    current_seconds = 0.0
    for point, reps in todo:
        seconds_each = seconds_per_replication(point.config)
        size = max(1, math.ceil(batch_seconds / seconds_each))
        for first in range(0, len(reps), size):
            part = tuple(reps[first:first + size])
            whole = whole_points and len(part) == point.config.run.replications  # no batch of it on disk either
            current.append(Chunk(point.key, point.config, part, whole=whole))
            current_seconds += seconds_each * len(part)
            if current_seconds >= batch_seconds:
                tasks.append(current)
                current, current_seconds = [], 0.0
    if current:
        tasks.append(current)
    return tasks


def batch_targets(rule: ReplicationRule) -> list[int]:
    """The replications a point under ``rule`` has after each of its batches: the first
    batch, then one look-ahead more each time (``k_limit`` up to 100 replications,
    ``k_limit`` % beyond: a point stops at most one look-ahead after the replications that
    confirm its precision), up to ``max_replications``.

    >>> batch_targets(ReplicationRule(max_replications=30))
    [8, 13, 18, 23, 28, 30]
    """
    targets = [rule.first_replications]
    while targets[-1] < rule.max_replications:
        step = max(1, look_ahead(targets[-1], rule.k_limit))
        targets.append(min(rule.max_replications, targets[-1] + step))
    return targets


def stops(check: PrecisionCheck, rule: ReplicationRule) -> bool:
    """Whether a point under ``rule`` is finished after the replications ``check`` judged:
    its precision reached, no output able to decide (more replications cannot give one a
    relative precision: see ``check_precision``), or the maximum run."""
    return check.reached or check.deciding == 0 or check.replications >= rule.max_replications


@dataclass
class SweepOutcome:
    """What a call to ``run_sweep`` did."""

    out: Path
    points: int
    already_done: int
    completed: int
    failed: list[str]
    replications_run: int
    wall_seconds: float
    damaged: list[str] = field(default_factory=list)  # one line per damaged file found and moved aside


class SweepFolder:
    """The output folder's layout, and every write to it. A file found damaged is moved
    aside into ``damaged/TIME/`` (``TIME`` when this run found it) under its own path in the
    folder, and ``report`` (by default: stderr) is given one line about it; the lines are
    kept in ``damaged``."""

    def __init__(self, out: str | Path, report: Callable[[str], None] | None = None):
        self.out = Path(out)
        self.report = report or _to_stderr
        self.damaged: list[str] = []
        self._damaged_dir: Path | None = None

    def point_dir(self, key: str) -> Path:
        return self.out / "points" / key

    def done(self, key: str) -> bool:
        """Whether point ``key`` is finished with every file whole (as its point.json
        records them); a point folder that is not is moved aside, to be recomputed."""
        folder = self.point_dir(key)
        if not folder.is_dir():
            return False
        try:
            info = read_point(folder)
            if info["point"] != key or info["status"] != "ok":
                raise DamagedPoint(folder / POINT_FILE, f"records point {info['point']} with status "
                                                        f"{info['status']}, not {key} ok")
        except DamagedPoint as damage:
            self.set_aside(folder, f"damaged point {key}: {self.shown(damage.file)}: {damage.problem}",
                           "recomputing it")
            return False
        return True

    def check_failure(self, key: str) -> None:
        """Move aside the record of an earlier failure of point ``key`` if it is damaged
        (the point's missing replications are run again in any case)."""
        folder = self.out / "failed" / key
        if folder.is_dir():
            try:
                read_point(folder)
            except DamagedPoint as damage:
                self.set_aside(folder, f"damaged failure record of point {key}: {self.shown(damage.file)}: "
                                       f"{damage.problem}", "running its missing replications")

    def partial_dir(self, key: str) -> Path:
        return self.out / "partial" / key

    def batches(self, key: str) -> list[tuple[Path, int, int]]:
        """The batch files of point ``key`` on disk, with the first and last replication each holds."""
        partial = self.partial_dir(key)
        found = []
        for batch in sorted(partial.glob("reps-*.parquet")) if partial.is_dir() else ():
            named = BATCH_NAME.fullmatch(batch.name)
            if named:
                found.append((batch, int(named["first"]), int(named["last"])))
        return found

    def finished_replications(self, key: str) -> set[int]:
        """The replications of point ``key`` whose batches are on disk and whole; a
        damaged batch is moved aside, to be recomputed."""
        reps: set[int] = set()
        for batch, first, last in self.batches(key):
            problem = _batch_problem(batch)
            if problem:
                self.set_aside(batch, f"damaged batch of point {key}: {self.shown(batch)}: {problem}",
                               f"recomputing replications {first}-{last}")
                record = batch.with_suffix(".json")
                if record.exists():
                    self.set_aside(record)
                continue
            reps.update(range(first, last + 1))
        return reps

    def set_aside(self, path: Path, message: str | None = None, then: str = "") -> None:
        """Move ``path`` (inside the folder) to ``damaged/TIME/`` under the same relative path,
        and report ``message`` with where it went and what happens ``then``."""
        if self._damaged_dir is None:
            self._damaged_dir = new_folder(self.out / "damaged" / f"{dt.datetime.now():%Y-%m-%d_%H-%M-%S}")
        target = self._damaged_dir / path.relative_to(self.out)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        if message is not None:
            line = f"{message}; moved to {self.shown(target)}" + (f", {then}" if then else "")
            self.damaged.append(line)
            self.report(line)

    def shown(self, path: Path) -> str:
        """``path`` relative to the sweep's folder, as reports show it."""
        return str(Path(path).relative_to(self.out))

    def write_design(self, name: str, overrides: Sequence[str], points: Sequence[DesignPoint],
                     sample: SampleSpec | None = None, rule: ReplicationRule | None = None,
                     uncertain: Sequence[str] = ()) -> None:
        """``design.json``: the sweep, its overrides, the sampled design (its parameters, and
        the ``sweep.sample`` block that draws it again for the analysis), the uncertain
        parameters of a two-level design (with ``run.seed``: the columns that name an outer
        sample), the replication rule if any, and every point in the design's order."""
        self.out.mkdir(parents=True, exist_ok=True)
        design = {"sweep": name, "overrides": list(overrides),
                  "sampled_parameters": sample.names if sample is not None else [],
                  **({"sample": sample.as_block()} if sample is not None else {}),
                  **({"uncertain_parameters": list(uncertain)} if uncertain else {}),
                  **({"replication_rule": rule.record()} if rule is not None else {}),
                  "points": [{"point": p.key, "params": p.params} for p in points]}
        atomic_write(self.out / "design.json",
                     lambda path: path.write_text(json.dumps(design, indent=1, default=str)))

    def write_chunk(self, result: ChunkResult) -> None:
        """One finished chunk's metrics, as a batch of its point."""
        partial = self.partial_dir(result.key)
        partial.mkdir(parents=True, exist_ok=True)
        reps = sorted(result.replications)
        # Replication ranges are contiguous in a chunk; the name says which it holds.
        name = f"reps-{reps[0]:06d}-{reps[-1]:06d}.parquet"
        frame = result.metrics.assign(seconds=result.seconds / len(reps))
        atomic_write(partial / name, lambda path: frame.to_parquet(path, index=False))
        # Its size and checksum beside it, written after it: a batch is trusted only if they match.
        record = json.dumps(file_record(partial / name))
        atomic_write((partial / name).with_suffix(".json"), lambda path: path.write_text(record))

    def write_failure(self, point: DesignPoint, replications: Sequence[int], error: str,
                      rule: ReplicationRule | None = None) -> None:
        context = (f"design point {point.key} {json.dumps(point.params, default=str)}\n"
                   f"replications {list(replications)}\n\n{error}")
        write_point(self.out / "failed" / point.key, point.key, point.params, point.config, None, math.nan, context,
                    extra={"replication_rule": rule.record()} if rule is not None else None)

    def tidy(self) -> None:
        """Remove the batch folder once every point's batches have been assembled."""
        partial = self.out / "partial"
        if partial.is_dir() and not any(partial.iterdir()):
            partial.rmdir()

    def batch_metrics(self, key: str, replications: int | None = None) -> pd.DataFrame:
        """The per-replication metrics of point ``key``'s batches on disk (those of
        replications 0..``replications``-1 only, if given), in replication order, with the
        ``seconds`` each replication took."""
        batches = [batch for batch, first, _ in self.batches(key) if replications is None or first < replications]
        metrics = pd.concat([pd.read_parquet(batch) for batch in batches], ignore_index=True)
        if replications is not None:
            metrics = metrics[metrics["replication"] < replications]
        return metrics.sort_values("replication", kind="stable").reset_index(drop=True)

    def check_precision(self, point: DesignPoint, rule: ReplicationRule, replications: int,
                        metrics: pd.DataFrame | None = None) -> PrecisionCheck:
        """The rule's judgement of point ``point`` after replications 0..``replications``-1,
        all on disk (or in ``metrics``, its batches as ``batch_metrics`` read them)."""
        metrics = self.batch_metrics(point.key, replications) if metrics is None else \
            metrics[metrics["replication"] < replications]
        total = point.config.total_name
        # Only the rows judged: the trajectory's grouping costs as much as the rows it is given.
        judged = metrics[(metrics["force"] == total) & metrics["metric"].isin({key[0] for key in REPLICATION_KEYS})]
        return check_precision(judged, rule.precision, REPLICATION_KEYS, rule.level, rule.k_limit,
                               rule.min_replications, force=total)

    def finish_point(self, point: DesignPoint, whole: ChunkResult | None = None, *,
                     rule: ReplicationRule | None = None, check: PrecisionCheck | None = None,
                     metrics: pd.DataFrame | None = None) -> None:
        """Assemble a point whose every replication is on disk (or, ``whole``, in one task's
        result, summarised there): per-replication metrics, their summary and point.json,
        built under a temporary name and renamed into place. A point whose replications
        ``rule`` chose is assembled from the ``check.replications`` that ``check`` judged
        enough (from ``metrics``, its batches already read, if given), and point.json records
        the rule and the check."""
        if whole is not None:
            metrics, summary, seconds = whole.metrics, whole.summary, whole.seconds
        else:
            judged = None if check is None else check.replications
            if metrics is None:
                metrics = self.batch_metrics(point.key, judged)
            elif judged is not None:
                metrics = metrics[metrics["replication"] < judged].reset_index(drop=True)
            seconds = float(metrics.drop_duplicates("replication")["seconds"].sum())
            metrics = metrics.drop(columns="seconds")
            summary = summarise_metrics(metrics)
        cfg, extra = point.config, None
        if rule is not None and check is not None:
            # The config of the replications run: a single run of it gives the point's summary.
            cfg = dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, replications=check.replications))
            extra = {"replication_rule": {**rule.record(), "precision_reached": check.reached,
                                          "recommended_replications": check.recommended, "note": check.note}}
        building = self.out / "points" / f".tmp-{point.key}"
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(parents=True)
        metrics.to_parquet(building / "metrics.parquet", index=False)
        write_point(building, point.key, point.params, cfg, summary, seconds,
                    other_files=["metrics.parquet"], extra=extra)
        final = self.point_dir(point.key)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(building, final)
        shutil.rmtree(self.partial_dir(point.key), ignore_errors=True)
        shutil.rmtree(self.out / "failed" / point.key, ignore_errors=True)


def _batch_problem(batch: Path) -> str | None:
    """What is wrong with a batch file against the size and checksum recorded beside it
    (``reps-A-B.json``); a batch written before they were recorded, or whose record was not
    written before a crash, must at least be a whole Parquet file."""
    record_file = batch.with_suffix(".json")
    if not record_file.exists():
        return parquet_problem(batch)
    try:
        record = json.loads(record_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"its record {record_file.name} is not readable"
    return file_problem(batch, record)


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr)


def _run_tasks(executor, tasks: Sequence[list[Chunk]], handle) -> None:
    """Submit every task and hand each finished task's results to ``handle``, which may
    return further tasks (a point's next batch), submitted at once. A task lost with its
    worker is resubmitted; one lost ``MAX_ATTEMPTS`` times is then run alone, so a task that
    kills its worker every time (running out of memory, say) cannot use up the attempts of
    the tasks that shared a process pool with it. Lost while alone, it fails."""
    attempts = {id(task): 0 for task in tasks}
    pending = {executor.submit(run_chunks, task): task for task in tasks}
    suspects: list[list[Chunk]] = []
    alone: set[int] = set()
    while pending or suspects:
        if not pending:
            task = suspects.pop(0)
            alone.add(id(task))
            pending[executor.submit(run_chunks, task)] = task
        for future in executor.as_completed(list(pending)):
            task = pending.pop(future)
            try:
                results = executor.result(future)
            except Lost as exc:
                attempts[id(task)] += 1
                if id(task) in alone:
                    why = f"its worker died {attempts[id(task)]} times, the last time running alone: {exc}"
                    alone.discard(id(task))  # done with: a later task may be given its id
                    handle([ChunkResult(chunk.key, chunk.replications, None, 0.0, why) for chunk in task])
                elif attempts[id(task)] < MAX_ATTEMPTS:
                    pending[executor.submit(run_chunks, task)] = task
                else:
                    suspects.append(task)
                continue
            alone.discard(id(task))
            more = handle(results)
            for new in more or ():
                attempts[id(new)] = 0
                pending[executor.submit(run_chunks, new)] = new
            if more:
                break  # wait on the new tasks too, not only on those already pending


def run_sweep(name: str, overrides: Sequence[str] = (), out: str | Path = "outputs/sweep", executor=None,
              progress: bool = True, batch_seconds: float | None = None, design=None,
              report: Callable[[str], None] | None = None,
              replications: ReplicationRule | None = None) -> SweepOutcome:
    """Run sweep ``name`` (``configs/sweep/NAME.yaml``) with ``overrides`` into ``out``.
    Every design point is validated before anything runs (``design``: the
    ``design_points(name, overrides, replications)`` already built); points already
    finished in ``out`` are skipped, and a point's finished batches are kept, once their
    files are checked whole against the sizes and checksums recorded with them. A damaged
    point or batch is moved into ``out/damaged/TIME/``, reported to ``report`` (one line; by
    default on stderr) and computed again. With ``run.replications=auto`` in ``overrides``,
    each point's replications are chosen by ``replications`` (default
    ``ReplicationRule()``; see the module's notes). Ends by collecting ``sweep.parquet`` and
    ``replications.parquet`` (``sim.io.collect``)."""
    from ..io.collect import collect

    started = time.perf_counter()
    spec, points = design if design is not None else design_points(name, overrides, replications)
    rule = spec.replications
    folder = SweepFolder(out, report)
    folder.write_design(name, overrides, points, spec.sample, rule,
                        uncertain=spec.uncertainty.keys if spec.uncertainty else ())
    todo, already_done, targets = _missing_replications(folder, points, rule)
    seconds = spec.batch_seconds if batch_seconds is None else batch_seconds
    tally = _SweepTally(folder, {p.key: p for p in points}, todo, rule, targets, seconds)
    todo = _assemble_points_already_run(folder, todo, rule)
    tasks = plan_tasks(todo, seconds, whole_points=rule is None)
    executor = executor or SerialExecutor()
    bar = tqdm(total=sum(len(reps) for _, reps in todo), desc=f"sweep {name}", unit="rep",
               disable=not progress or None)
    try:
        _run_tasks(executor, tasks, tally.handler(bar))
    except BaseException:
        executor.close(cancel=True)  # Ctrl-C or a lost cluster: finished batches are on disk
        raise
    finally:
        bar.close()
    executor.close()
    folder.tidy()
    collect(folder.out, table=False, report=folder.report)
    return SweepOutcome(folder.out, len(points), already_done, tally.completed, sorted(tally.failed),
                        tally.replications_run, time.perf_counter() - started, folder.damaged)


def _missing_replications(folder: SweepFolder, points: Sequence[DesignPoint], rule: ReplicationRule | None
                          ) -> tuple[list[tuple[DesignPoint, list[int]]], int, dict[str, int]]:
    """Each unfinished point with the replications it has no whole batch of on disk yet,
    how many points are already finished (and whole), and the replications each unfinished
    point is to have before it is judged (all of ``run.replications`` without a ``rule``).
    Under a ``rule`` a point whose batches on disk already end it is assembled here."""
    todo, already_done, targets = [], 0, {}
    for point in points:
        folder.check_failure(point.key)
        if folder.done(point.key):
            already_done += 1
            continue
        if rule is None:
            target = point.config.run.replications
            have = folder.finished_replications(point.key)
            missing = [r for r in range(target) if r not in have]
        else:
            target, missing = _next_batch(folder, point, rule, batch_targets(rule))
        targets[point.key] = target
        todo.append((point, missing))
    return todo, already_done, targets


def _next_batch(folder: SweepFolder, point: DesignPoint, rule: ReplicationRule,
                targets: Sequence[int]) -> tuple[int, list[int]]:
    """Where point ``point`` under ``rule`` stands, its batches on disk judged at each of
    ``targets`` in turn as they were when each finished (a judgement depends only on the
    replications' values): the first target whose replications are not all on disk, with
    the replications it lacks; or the target at which the rule ends the point, with none,
    the point then assembled. The batches are read once."""
    have = folder.finished_replications(point.key)
    metrics = None
    for target in targets:
        if not have.issuperset(range(target)):
            return target, [r for r in range(target) if r not in have]
        if metrics is None:
            metrics = folder.batch_metrics(point.key)
        check = folder.check_precision(point, rule, target, metrics)
        if stops(check, rule):  # always at the last target, the maximum
            folder.finish_point(point, rule=rule, check=check, metrics=metrics)
            return target, []
    raise ValueError(f"targets {list(targets)} do not reach the rule's maximum ({rule.max_replications})")


def _assemble_points_already_run(folder: SweepFolder, todo: list[tuple[DesignPoint, list[int]]],
                                 rule: ReplicationRule | None = None) -> list[tuple[DesignPoint, list[int]]]:
    """Assemble the points whose every batch was written before an interruption (under a
    ``rule``, ``_missing_replications`` assembled them already); the rest of ``todo``,
    which still has replications to run."""
    for point, reps in todo:
        if not reps and rule is None:
            folder.finish_point(point)
    return [(point, reps) for point, reps in todo if reps]


class _SweepTally:
    """What a sweep has done so far, updated as tasks finish: each chunk is written (or a
    point run whole in one task is assembled from it), a point is assembled once its last
    replication is in, and a chunk that failed is recorded."""

    def __init__(self, folder: SweepFolder, by_key: dict[str, DesignPoint],
                 todo: Sequence[tuple[DesignPoint, list[int]]], rule: ReplicationRule | None = None,
                 targets: dict[str, int] | None = None, batch_seconds: float = 1.0):
        self.folder, self.by_key = folder, by_key
        self.remaining = {point.key: set(reps) for point, reps in todo}
        self.completed = sum(1 for reps in self.remaining.values() if not reps)
        self.failed: dict[str, str] = {}
        self.replications_run = 0
        self.rule, self.targets, self.batch_seconds = rule, dict(targets or {}), batch_seconds

    def handler(self, bar: tqdm):
        """The callback ``_run_tasks`` hands each finished task's results to; it returns
        the tasks of the points' next batches, if any."""

        def handle(results: list[ChunkResult]) -> list[list[Chunk]]:
            more: list[tuple[DesignPoint, list[int]]] = []
            for result in results:
                bar.update(len(result.replications))
                more += self.record(result)
            if more:
                bar.total += sum(len(reps) for _, reps in more)
                bar.refresh()
            return plan_tasks(more, self.batch_seconds, whole_points=False) if more else []

        return handle

    def record(self, result: ChunkResult) -> list[tuple[DesignPoint, list[int]]]:
        """Write one chunk's result, and assemble its point if it was the last one missing,
        or, under a rule that wants more, return the point's next batch."""
        point = self.by_key[result.key]
        if result.error is not None:
            self.failed[result.key] = result.error
            self.folder.write_failure(point, result.replications, result.error, self.rule)
            return []
        self.replications_run += len(result.replications)
        self.remaining[result.key] -= set(result.replications)
        finished = not self.remaining[result.key] and result.key not in self.failed
        if result.summary is not None and finished:
            self.folder.finish_point(point, whole=result)  # no batch file to write and read back
            self.completed += 1
            return []
        self.folder.write_chunk(result)
        if not finished:
            return []
        if self.rule is None:
            self.folder.finish_point(point)
            self.completed += 1
            return []
        # Judged from this batch on; a later batch already on disk (kept from an earlier
        # run) is judged, not run again.
        target, missing = _next_batch(self.folder, point, self.rule,
                                      [n for n in batch_targets(self.rule) if n >= self.targets[point.key]])
        if not missing:
            self.completed += 1
            return []
        self.targets[point.key] = target
        self.remaining[point.key] = set(missing)
        return [(point, missing)]
