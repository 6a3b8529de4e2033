"""``casesim-backtest``: calibrate on a case log's months before a date, predict the months
after it and compare with what happened; writes backtest.csv, coverage.csv, figures,
backtest_report.html, the calibration it made and manifest.json."""

from __future__ import annotations

import shlex
import sys
import time
from typing import Sequence

from ..errors import ConfigError
from .calibrate import CLI_NAMES, add_log_options, read_inputs
from .common import Parser, claim_output_folder, command, kept_nothing, save_figures

MAX_BACKTEST_REPLICATIONS = 1000


@command("casesim-backtest")
def main(argv: Sequence[str] | None = None) -> None:
    """``casesim-backtest LOG --train-until DATE [key=value ...] [--replications N] ...``:
    calibrate on the log as it stood at the end of DATE, run the months after it
    ``--replications`` times from the cases open then, and set the enforcements a month, the
    cases open at each month's end and the waits for enforcement that followed against the
    runs' 90 % bands; prints the coverage and a verdict (docs/calibration.md)."""
    parser = Parser(prog="casesim-backtest", description=main.__doc__)
    add_log_options(parser)
    parser.add_argument("--train-until", required=True, help="the last day the calibration sees, YYYY-MM-DD")
    parser.add_argument("--as-of", help="the log's extract date, YYYY-MM-DD (default: its latest date)")
    parser.add_argument("--replications", type=int, default=40,
                        help=f"replications of the months after the cut, 5 to {MAX_BACKTEST_REPLICATIONS}")
    parser.add_argument("--out", help="output folder (default: a new outputs/backtest/DATE_TIME)")
    args = parser.parse_intermixed_args(argv)
    if not 5 <= args.replications <= MAX_BACKTEST_REPLICATIONS:
        raise ConfigError("--replications", args.replications,
                          f"from 5 (a band needs several runs) to {MAX_BACKTEST_REPLICATIONS}")
    inputs = read_inputs(args, args.as_of)
    from ..calibration.backtest import check_backtest

    try:
        train = check_backtest(inputs.log, args.train_until, inputs.config, inputs.fit_keys, inputs.fixed)
    except ConfigError as exc:
        raise ConfigError(CLI_NAMES.get(exc.key, exc.key), exc.value, exc.allowed) from None

    from ..calibration.backtest import backtest, write_backtest
    from ..io.analysis_folders import start_folder

    folder = claim_output_folder(args.out, "outputs/backtest/{time}")
    started = time.perf_counter()
    start_folder(folder, {"log": str(args.log), "train_until": args.train_until, "command": sys.argv})
    try:
        with inputs.executor() as executor, inputs.progress_bar() as progress:
            result = backtest(inputs.log, train.as_of, inputs.config, inputs.fixed, inputs.fit_keys, inputs.settings,
                              args.replications, args.workers, progress=progress, executor=executor)
    except KeyboardInterrupt:
        raise KeyboardInterrupt(f"the backtest was stopped; {kept_nothing(folder)}") from None
    command_line = shlex.join(["casesim-backtest", *(argv if argv is not None else sys.argv[1:])])
    from ..present.backtest_report import backtest_figures, write_backtest_report

    figures = backtest_figures(result)
    write_backtest(result, folder, inputs.baseline, args.overrides, command_line, time.perf_counter() - started)
    save_figures(folder, figures)
    write_backtest_report(result, folder / "backtest_report.html", figures, command_line)
    from ..calibration.backtest import finish_backtest_folder

    finish_backtest_folder(result, folder, args.overrides, time.perf_counter() - started)
    print(summary(result, folder))


def summary(result, folder) -> str:
    """What the command prints: coverage by series, overall, and the verdict."""
    lines = [f"calibrated on {result.calibration.n_cases:,} referrals to {result.train_until:%Y-%m-%d}; "
             f"predicted {result.train_until:%Y-%m-%d} to {result.as_of:%Y-%m-%d} ({result.replications} "
             f"replications, {result.level:.0%} bands)"]
    for row in result.coverage.itertuples(index=False):
        lines.append(f"  {row.series.replace('_', ' ')}: {row.coverage:.0%} of {row.points} observed points inside")
    lines += [f"coverage {result.overall_coverage:.0%}: {result.verdict}", f"wrote {folder}/"]
    return "\n".join(lines)
