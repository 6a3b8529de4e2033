"""The backtest: calibrated on the months before a date, does the model predict the months
after it, which it never saw?

The log is cut at ``train_until`` as an extract taken that day would have shown it
(``CaseLog.until``); the force is calibrated on that extract alone, starts from the cases
open that day and runs the months after it, with its referrals projected from the trend it
had seen (what a planner would have had), for many replications. Three things observed after
the cut are set against the replications' central band (90 % by default): the enforcements in
each month, the cases open at each month's end by grade, and the share of each grade's new
referrals still waiting for enforcement, day by day (Kaplan-Meier). Coverage is the share of
observed points inside their band; a model as uncertain as the force itself covers about the
band's level. Nothing is tuned to the months after the cut: a poor coverage is reported as
it is.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from ..config.schema import SimConfig
from ..domain import DAYS_PER_MONTH, GRADES
from ..errors import ConfigError
from ..io.caselog import CaseLog
from .calibrate import Calibration, calibrate, check_calibration
from .fit import FitSettings
from .milestones import milestones_from_log, milestones_from_run
from .trajectories import OPEN_GROUPS, month_ends, monthly_enforcements, open_by_grade, still_waiting

BAND_LEVEL = 0.9
"""The central share of the replications each band holds."""

VERDICTS = ((0.75, "good: the observed months lie inside the model's bands about as often as they should"),
            (0.5, "fair: the model misses a fair share of the observed months; read the series it misses"),
            (0.0, "poor: the model does not predict the months after the cut; do not use it for planning "
                  "before finding why"))
"""Overall coverage from which each verdict holds, best first."""

KM_STEP_DAYS = 7.0
"""The days-since-referral grid of the waiting curves, in days."""

COLUMNS = ["series", "group", "day", "date", "observed", "simulated_low", "simulated_median", "simulated_high",
           "inside"]


@dataclass(frozen=True)
class Backtest:
    """A backtest's result: the calibration on the months before ``train_until``, the
    ``replications`` of the months after it to ``as_of``, the ``table`` of every observed
    point against its simulated band (COLUMNS; bands hold the central ``level`` of the
    runs), coverage by series and overall, and the verdict."""

    calibration: Calibration
    train_until: pd.Timestamp
    as_of: pd.Timestamp
    replications: int
    level: float
    table: pd.DataFrame
    coverage: pd.DataFrame
    overall_coverage: float
    verdict: str


def _series(m, months: int, grid: np.ndarray) -> dict[tuple[str, str], np.ndarray]:
    """The three series of one history (observed, or a replication), by (series, group)."""
    out = {("enforcements_a_month", "all"): monthly_enforcements(m, months)}
    open_counts = open_by_grade(m, month_ends(months) - 1.0)
    for k, group in enumerate(OPEN_GROUPS):
        out[("open_at_month_end", group)] = open_counts[:, k]
    for k, grade in enumerate(GRADES):
        out[("still_waiting_for_enforcement", grade)] = still_waiting(m, k, grid)
    return out


def check_backtest(log: CaseLog, train_until, cfg: SimConfig, fit: Sequence[str] | None = None,
                   fixed: Sequence[str] = ()) -> CaseLog:
    """The log as known at the end of ``train_until``, once the backtest is known to be
    possible: a cut inside the log leaving at least a month after it, and a calibration of
    the months before it (see ``check_calibration``); else a ConfigError, before any work."""
    train = log.until(train_until)
    after_days = float((log.as_of - train.as_of) / pd.Timedelta(days=1))
    if after_days < DAYS_PER_MONTH:
        raise ConfigError("until", f"{train.as_of:%Y-%m-%d}",
                          f"leaves {after_days:g} days of the log after it; a backtest needs a month or more "
                          f"(the log ends {log.as_of:%Y-%m-%d})")
    check_calibration(train, cfg, fit, fixed)
    return train


def backtest(log: CaseLog, train_until, cfg: SimConfig | None = None, fixed: Sequence[str] = (),
             fit: Sequence[str] | None = None, settings: FitSettings = FitSettings(), replications: int = 40,
             workers: int = 1, level: float = BAND_LEVEL, progress: Callable[[int], None] | None = None,
             executor=None) -> Backtest:
    """Calibrate on ``log`` as known at the end of ``train_until``, run the rest of the log's
    period ``replications`` times on ``workers`` processes, and compare (see the module).
    The other arguments are :func:`~sim.calibration.calibrate.calibrate`'s.

    >>> import sim
    >>> result = backtest(sim.read_case_log(sim.EXAMPLE_CASE_LOG), "2024-06-30", fit=[], replications=5)
    >>> sorted(result.coverage["series"])
    ['enforcements_a_month', 'open_at_month_end', 'still_waiting_for_enforcement']
    """
    from ..config.load import load_config
    from ..running.runner import run_replications

    cfg = load_config([]) if cfg is None else cfg
    train = check_backtest(log, train_until, cfg, fit, fixed)
    cut = train.as_of
    horizon_days = float((log.as_of - cut) / pd.Timedelta(days=1))
    months = int(horizon_days // DAYS_PER_MONTH)
    calibration = calibrate(train, cfg, fixed, fit, settings, workers, 1, progress=progress, executor=executor)
    run = dataclasses.replace(calibration.config.run, horizon_days=horizon_days, warmup_days=0.0,
                              replications=replications, progress=False)
    test_cfg = dataclasses.replace(calibration.config, run=run)
    grid = np.arange(0.0, horizon_days, KM_STEP_DAYS)
    observed = _series(milestones_from_log(log.cases, cut, log.as_of), months, grid)
    outputs = run_replications(test_cfg, workers=workers, progress=False)
    simulated = [_series(milestones_from_run(output.cases, horizon_days), months, grid) for output in outputs]
    table = _compare(observed, simulated, months, grid, cut, level)
    coverage = (table.dropna(subset=["inside"]).groupby("series")["inside"].agg(["mean", "size"])
                .rename(columns={"mean": "coverage", "size": "points"}).reset_index())
    overall = float(table["inside"].dropna().mean()) if table["inside"].notna().any() else math.nan
    verdict = next(text for floor, text in VERDICTS if overall >= floor) if math.isfinite(overall) else \
        "none: no observed point could be compared"
    return Backtest(calibration, cut, log.as_of, replications, level, table, coverage, overall, verdict)


def write_backtest(result: Backtest, folder: Path, baseline: SimConfig, overrides: Sequence[str], command: str,
                   wall_time_seconds: float) -> None:
    """Write the backtest's tables (backtest.csv, coverage.csv) and the calibration it made
    (in ``folder/calibration/``, as ``casesim-calibrate`` writes one) into ``folder``."""
    from ..io.atomic import atomic_write
    from .folder import write_calibration

    atomic_write(folder / "backtest.csv", lambda tmp: result.table.to_csv(tmp, index=False))
    coverage = pd.concat([result.coverage, pd.DataFrame({"series": ["all"], "coverage": [result.overall_coverage],
                                                         "points": [int(result.table["inside"].notna().sum())]})])
    atomic_write(folder / "coverage.csv", lambda tmp: coverage.to_csv(tmp, index=False))
    (folder / "calibration").mkdir(exist_ok=True)
    write_calibration(result.calibration, folder / "calibration", baseline, overrides, command, wall_time_seconds)


def finish_backtest_folder(result: Backtest, folder: Path, overrides: Sequence[str], wall_time_seconds: float) -> None:
    """Write the manifest, last: the folder is complete."""
    from ..io.manifest import write_manifest
    from .folder import calibration_manifest

    write_manifest(folder, {**calibration_manifest(result.calibration, overrides, wall_time_seconds, True),
                            "train_until": f"{result.train_until:%Y-%m-%d}", "replications": result.replications,
                            "band_level": result.level, "coverage": result.overall_coverage,
                            "verdict": result.verdict})


def _compare(observed: dict, simulated: list[dict], months: int, grid: np.ndarray, cut: pd.Timestamp,
             level: float) -> pd.DataFrame:
    """Every observed point with the simulated band about it."""
    tail = (1 - level) / 2
    frames = []
    for (series, group), values in observed.items():
        runs = np.array([replication[(series, group)] for replication in simulated])
        with warnings.catch_warnings():  # a point no replication reaches (past its follow-up) is NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            low, median, high = np.nanquantile(runs, [tail, 0.5, 1 - tail], axis=0) if len(runs) else (values,) * 3
        if series == "still_waiting_for_enforcement":
            day = grid
            date = pd.NaT
        else:
            day = (np.arange(months) + (1.0 if series == "open_at_month_end" else 0.5)) * DAYS_PER_MONTH
            date = cut + pd.to_timedelta(np.floor(day), unit="D")
        known = ~np.isnan(values) & ~np.isnan(low)
        inside = np.where(known, (values >= low) & (values <= high), np.nan)
        frames.append(pd.DataFrame({"series": series, "group": group, "day": day, "date": date, "observed": values,
                                    "simulated_low": low, "simulated_median": median, "simulated_high": high,
                                    "inside": inside}))
    return pd.concat(frames, ignore_index=True)[COLUMNS]
