"""``casesim-sweep``: a sweep of ``configs/sweep/`` in resumable batches, locally or on Dask,
collected into sweep.parquet and replications.parquet; with ``run.replications=auto``, each
point's replications chosen until its headline outputs reach a precision."""

from __future__ import annotations

import math
import sys
from typing import Sequence

from ..errors import ConfigError
from ..running.executors import CONNECT_TIMEOUT_SECONDS
from .collect import write_sensitivity_outputs, write_uncertainty_outputs
from .common import Parser, claim_output_folder, command

MAX_WORKERS = 1024
"""The most local processes or LocalCluster workers a sweep may start: more than any one
machine's cores, few enough that a typing slip is refused instead of forking thousands."""


@command("casesim-sweep")
def main(argv: Sequence[str] | None = None) -> None:
    """``casesim-sweep NAME [key=value ...]``: run sweep ``configs/sweep/NAME.yaml`` in
    batches, locally or on Dask; resumable (re-run the same command to finish an interrupted
    sweep) and collected into OUT/sweep.parquet and OUT/replications.parquet. With
    ``run.replications=auto``, each point gets replications in batches until its headline
    outputs reach ``--precision`` (or ``--max-replications`` are run)."""
    parser = Parser(prog="casesim-sweep", description=main.__doc__)
    parser.add_argument("name", help="a sweep in configs/sweep/ (e.g. smoke, staffing_training, sensitivity)")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="applied to every design point")
    parser.add_argument("--out", help="output folder; the same folder resumes (default: outputs/sweep/NAME)")
    parser.add_argument("--workers", type=int, default=1, help="local processes; 1 runs the sweep in this process")
    parser.add_argument("--scheduler", help="a Dask scheduler, tcp://HOST:8786 (needs casesim[dask])")
    parser.add_argument("--connect-timeout", type=float, default=CONNECT_TIMEOUT_SECONDS, metavar="SECONDS",
                        help="seconds to wait for the scheduler to answer")
    parser.add_argument("--local-cluster", type=int, metavar="N", help="start a Dask LocalCluster of N workers")
    parser.add_argument("--batch-seconds", type=float,
                        help="seconds of simulation per task (default: the sweep's)")
    parser.add_argument("--precision", type=float, metavar="P",
                        help="with run.replications=auto: the relative half-width of the 95 %% interval each "
                             "point's headline outputs must reach, a fraction of the mean (0.05, ±5 %%, if not given)")
    parser.add_argument("--max-replications", type=int, metavar="M",
                        help="with run.replications=auto: the most replications of a point (100 if not given)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_intermixed_args(argv)
    for option, count in (("--workers", args.workers), ("--local-cluster", args.local_cluster)):
        if count is not None and not 1 <= count <= MAX_WORKERS:
            raise ConfigError(option, count, f"from 1 to {MAX_WORKERS} processes")
    for option, seconds in (("--batch-seconds", args.batch_seconds), ("--connect-timeout", args.connect_timeout)):
        if seconds is not None and not (math.isfinite(seconds) and seconds > 0):
            raise ConfigError(option, seconds, "must be > 0, a finite number of seconds")

    from ..config.design import asks_auto, design_points
    from ..running.executors import make_executor
    from ..running.sweep import run_sweep

    rule = _replication_rule(args, asks_auto(args.overrides))
    design = design_points(args.name, args.overrides, rule)  # every point validated before any executor starts
    # The scheduler is reached before the folder is made, so that one that does not answer
    # leaves nothing behind; the folder is then checked before any simulation.
    executor = make_executor(args.workers, args.scheduler, args.local_cluster, args.connect_timeout)
    try:
        # The default folder is named after the sweep, not the time: the same command resumes.
        folder = claim_output_folder(args.out or f"outputs/sweep/{args.name}", "unused")
    except ConfigError:
        executor.close()
        raise
    print(f"sweep {args.name} on {executor.description} into {folder}")
    try:
        outcome = run_sweep(args.name, args.overrides, folder, executor, progress=not args.no_progress,
                            batch_seconds=args.batch_seconds, design=design,
                            report=lambda line: print(f"casesim-sweep: {line}", file=sys.stderr))
    except KeyboardInterrupt:
        raise KeyboardInterrupt(f"finished batches are kept in {folder}; run the same command to resume") from None
    print(f"{outcome.points} points: {outcome.already_done} already done, {outcome.completed} completed now, "
          f"{len(outcome.failed)} failed; {outcome.replications_run} replications in {outcome.wall_seconds:.1f} s")
    if rule is not None:
        print(_precision_line(folder, rule))
    for key in outcome.failed:
        print(f"  failed: {folder}/failed/{key}/error.txt", file=sys.stderr)
    print(f"wrote {folder}/sweep.parquet and {folder}/replications.parquet")
    write_sensitivity_outputs(folder)
    write_uncertainty_outputs(folder)
    if outcome.failed:
        raise SystemExit(1)


def _replication_rule(args, auto: bool):
    """The rule of ``run.replications=auto`` from ``--precision`` and
    ``--max-replications`` (None without ``auto``, when neither may be given)."""
    from ..config.design import ReplicationRule

    given = [(option, value) for option, value in (("--precision", args.precision),
                                                    ("--max-replications", args.max_replications)) if value is not None]
    if not auto:
        if given:
            option, value = given[0]
            raise ConfigError(option, value, "only with run.replications=auto (replications chosen per point)")
        return None
    defaults = ReplicationRule()
    precision = defaults.precision if args.precision is None else args.precision
    most = defaults.max_replications if args.max_replications is None else args.max_replications
    try:
        return ReplicationRule(precision=precision, max_replications=most)
    except ConfigError as exc:
        option = {"precision": "--precision", "max_replications": "--max-replications"}.get(exc.key, exc.key)
        raise ConfigError(option, exc.value, exc.allowed) from None


def _precision_line(folder, rule) -> str:
    """How many points reached the rule's precision, and the replications they took."""
    import pandas as pd

    table = pd.read_parquet(folder / "sweep.parquet", columns=["point", "status", "replications", "precision_reached"])
    ok = table[table["status"] == "ok"].drop_duplicates("point")
    if ok.empty:
        return f"precision ±{rule.precision * 100:g} %: no point finished"
    reached = int((ok["precision_reached"] == True).sum())  # noqa: E712 - missing counts as not reached
    return (f"precision ±{rule.precision * 100:g} % of the mean reached at {reached} of {len(ok)} points; "
            f"replications per point {int(ok['replications'].min())} to {int(ok['replications'].max())} "
            f"(at most {rule.max_replications})")
