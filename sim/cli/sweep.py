"""``casesim-sweep``: a sweep of ``configs/sweep/`` in resumable batches, locally or on Dask,
collected into sweep.parquet."""

from __future__ import annotations

import sys
from typing import Sequence

from ..errors import ConfigError
from .collect import write_sensitivity_outputs
from .common import Parser, command, output_folder

@command("casesim-sweep")
def main(argv: Sequence[str] | None = None) -> None:
    """``casesim-sweep NAME [key=value ...]``: run sweep ``configs/sweep/NAME.yaml`` in
    batches, locally or on Dask; resumable (re-run the same command to finish an interrupted
    sweep) and collected into OUT/sweep.parquet."""
    parser = Parser(prog="casesim-sweep", description=main.__doc__)
    parser.add_argument("name", help="a sweep in configs/sweep/ (e.g. smoke, staffing_training, sensitivity)")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="applied to every design point")
    parser.add_argument("--out", help="output folder (default outputs/sweep/NAME; the same folder resumes)")
    parser.add_argument("--workers", type=int, default=1, help="local processes (default 1: this process)")
    parser.add_argument("--scheduler", help="a Dask scheduler, tcp://HOST:8786 (needs casesim[dask])")
    parser.add_argument("--local-cluster", type=int, metavar="N", help="start a Dask LocalCluster of N workers")
    parser.add_argument("--batch-seconds", type=float,
                        help="seconds of simulation per task (default: the sweep's)")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.workers < 1 or (args.local_cluster is not None and args.local_cluster < 1):
        raise ConfigError("--workers/--local-cluster", (args.workers, args.local_cluster), "at least 1")
    if args.batch_seconds is not None and args.batch_seconds <= 0:
        raise ConfigError("--batch-seconds", args.batch_seconds, "must be > 0")

    from ..config.design import design_points
    from ..running.executors import make_executor
    from ..running.sweep import run_sweep

    design = design_points(args.name, args.overrides)  # every point validated before any executor starts
    executor = make_executor(args.workers, args.scheduler, args.local_cluster)
    folder = output_folder(args.out, f"outputs/sweep/{args.name}")
    print(f"sweep {args.name} on {executor.description} into {folder}")
    try:
        outcome = run_sweep(args.name, args.overrides, folder, executor, progress=not args.no_progress,
                            batch_seconds=args.batch_seconds, design=design)
    except KeyboardInterrupt:
        raise KeyboardInterrupt(f"finished batches are kept in {folder}; run the same command to resume") from None
    print(f"{outcome.points} points: {outcome.already_done} already done, {outcome.completed} completed now, "
          f"{len(outcome.failed)} failed; {outcome.replications_run} replications in {outcome.wall_seconds:.1f} s")
    for key in outcome.failed:
        print(f"  failed: {folder}/failed/{key}/error.txt", file=sys.stderr)
    print(f"wrote {folder}/sweep.parquet")
    write_sensitivity_outputs(folder)
    if outcome.failed:
        raise SystemExit(1)
