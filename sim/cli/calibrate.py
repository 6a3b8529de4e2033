"""``casesim-calibrate``: a force's case log turned into its own casesim configuration;
writes the force's YAML, its open cases, calibration.csv, the projection, the fit's tables,
figures, calibration_report.html and manifest.json."""

from __future__ import annotations

import contextlib
import dataclasses
import re
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..errors import ConfigError
from .common import Parser, claim_output_folder, command, kept_nothing, save_figures

MAX_PROJECTION_YEARS = 5

CLI_NAMES = {"as_of": "--as-of", "columns": "--columns", "until": "--train-until"}
"""The reader's names for what the command line calls by its options."""


def add_log_options(parser: Parser) -> None:
    """The options every command reading a case log takes: the log, its columns, the force's
    own config and how hard the simulation fit works."""
    parser.add_argument("log", help="the case log: .csv, .xlsx or .parquet (docs/caselog.md)")
    parser.add_argument("overrides", nargs="*",
                        help="what the force knows, fixed and never fitted, e.g. staffing.investigators=26")
    parser.add_argument("--columns", help="a YAML file mapping the log's column names to casesim's")
    parser.add_argument("--config-dir", help="a folder holding the force's own YAML (searched after configs/)")
    parser.add_argument("--config-name", default="config", help="the force's own YAML in --config-dir")
    parser.add_argument("--fit", help="the parameters to fit, comma-separated, or 'none' (default: the usual six)")
    parser.add_argument("--name", default="my_force", help="the force's name, and its YAML's")
    parser.add_argument("--workers", type=int, default=1, help="local processes for the fit's runs")
    parser.add_argument("--quick", action="store_true", help="a rough fit in a fraction of the time (for trying out)")
    parser.add_argument("--seed", type=int, default=0, help="the fit's design and sampling seed")


@command("casesim-calibrate")
def main(argv: Sequence[str] | None = None) -> None:
    """``casesim-calibrate LOG [key=value ...] [--out DIR] [--as-of DATE] ...``: the force of
    the case log LOG, calibrated: what the log records estimated from it, the rest fitted by
    simulation, its open cases as its backlog and its referrals projected; writes
    DIR/NAME.yaml (run it with ``casesim --config-dir DIR --config-name NAME``), the
    projection overlays, open_cases.csv, calibration.csv, calibration_report.html and more
    (docs/calibration.md)."""
    parser = Parser(prog="casesim-calibrate", description=main.__doc__)
    add_log_options(parser)
    parser.add_argument("--as-of", help="the extract date, YYYY-MM-DD (default: the latest date in the log)")
    parser.add_argument("--projection-years", type=int, default=3,
                        help=f"years of referrals to project, 1 to {MAX_PROJECTION_YEARS}")
    parser.add_argument("--out", help="output folder (default: a new outputs/calibration/DATE_TIME)")
    args = parser.parse_intermixed_args(argv)
    if not 1 <= args.projection_years <= MAX_PROJECTION_YEARS:
        raise ConfigError("--projection-years", args.projection_years, f"a whole number of years from 1 to "
                                                                       f"{MAX_PROJECTION_YEARS}")
    inputs = read_inputs(args, args.as_of)

    from ..calibration.calibrate import calibrate
    from ..calibration.folder import finish_folder, write_calibration
    from ..io.analysis_folders import start_folder

    folder = claim_output_folder(args.out, "outputs/calibration/{time}")
    started = time.perf_counter()
    start_folder(folder, {"log": str(args.log), "command": sys.argv})
    try:
        with inputs.executor() as executor, inputs.progress_bar() as progress:
            calibration = calibrate(inputs.log, inputs.config, inputs.fixed, inputs.fit_keys, inputs.settings,
                                    projection_years=args.projection_years, name=args.name, progress=progress,
                                    executor=executor)
    except KeyboardInterrupt:
        raise KeyboardInterrupt(f"the fit was stopped; {kept_nothing(folder)}") from None
    command_line = shlex.join(["casesim-calibrate", *(argv if argv is not None else sys.argv[1:])])
    write_calibration(calibration, folder, inputs.baseline, args.overrides, command_line,
                      time.perf_counter() - started)
    from ..present.calibration_report import calibration_figures, write_calibration_report

    figures = calibration_figures(calibration)
    save_figures(folder, figures)
    write_calibration_report(calibration, folder / "calibration_report.html", figures, command_line)
    finish_folder(calibration, folder, args.overrides, time.perf_counter() - started)
    print(summary_lines(calibration, folder))


@dataclass(frozen=True)
class Inputs:
    """A log command's checked inputs: the log, the force's config (``config``) and the
    baseline it is told apart from, what the force fixes, the fit's parameters and
    settings, and the worker processes."""

    log: Any
    config: Any
    baseline: Any
    fixed: tuple[str, ...]
    fit_keys: list[str] | None
    fitted: int
    settings: Any
    workers: int

    @contextlib.contextmanager
    def executor(self):
        """The executor of the fit's runs, closed on leaving."""
        from ..running.executors import make_executor

        executor = make_executor(self.workers)
        try:
            yield executor
        finally:
            executor.close(cancel=True)

    @contextlib.contextmanager
    def progress_bar(self):
        """A progress bar over the fit's runs, as a callable told of each."""
        from tqdm import tqdm

        from ..calibration.fit import planned_runs

        bar = tqdm(total=planned_runs(self.settings, self.fitted) if self.fitted else 0, desc="fit: replications",
                   unit="rep", disable=not self.fitted or None)
        try:
            yield bar.update
        finally:
            bar.close()


def read_inputs(args, as_of: str | None) -> Inputs:
    """Everything a log command needs, checked before any folder is made or run started:
    a bad log, option or config is a ConfigError."""
    from ..calibration.calibrate import check_calibration, fixed_keys
    from ..calibration.fit import QUICK_SETTINGS, FitSettings
    from ..config.load import load_config
    from ..io.caselog import read_case_log

    if args.workers < 1:
        raise ConfigError("--workers", args.workers, "a whole number of processes, at least 1")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", args.name):
        raise ConfigError("--name", args.name, "a name of letters, digits, '_' and '-', starting with a letter")
    fit_keys = None
    if args.fit is not None:
        fit_keys = [] if args.fit.strip() == "none" else [key.strip() for key in args.fit.split(",") if key.strip()]
    config = load_config(args.overrides, args.config_name, args.config_dir)
    fixed = fixed_keys(args.overrides, args.config_name, args.config_dir)
    try:
        log = read_case_log(args.log, as_of=as_of, columns=args.columns)
    except ConfigError as exc:  # named as typed on the command line
        raise ConfigError(CLI_NAMES.get(exc.key, exc.key), exc.value, exc.allowed) from None
    fitted = len(check_calibration(log, config, fit_keys, fixed))
    settings = dataclasses.replace(QUICK_SETTINGS if args.quick else FitSettings(), seed=args.seed)
    return Inputs(log, config, load_config([]), fixed, fit_keys, fitted, settings, args.workers)


def summary_lines(calibration, folder: Path) -> str:
    """What the command prints at the end: where the force's YAML is and how to run it."""
    name = calibration.config.force
    lines = [f"calibrated {name} from {calibration.log_name}: {calibration.n_cases:,} referrals, "
             f"{calibration.start:%Y-%m-%d} to {calibration.as_of:%Y-%m-%d}; "
             f"{len(calibration.backlog.table):,} cases open at the extract date"]
    if calibration.fit is not None:
        fit = calibration.fit
        lines.append(f"fitted {len(fit.parameters)} parameters by simulation ({fit.runs:,} replications, "
                     f"{fit.seconds:.0f} s); values not ruled out: {fit.plausible_share:.1%} of the range")
        if fit.plausible_share == 0:
            lines.append("warning: no parameter values reproduce the log within its noise; the closest are "
                         "reported (see the residuals in calibration_report.html)")
        if fit.misses_line():
            lines.append(f"warning: {fit.misses_line()} (figures/fit.png)")
    lines += [f"wrote {folder}/", f"run it: casesim --config-dir {folder} --config-name {name}"]
    return "\n".join(lines)
