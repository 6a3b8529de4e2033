"""A force calibrated from its case log: everything the log says directly, the rest fitted by
simulation, its open cases as the starting backlog and its demand projected.

The calibrated force's day 0 is the log's extract date: it starts from the cases open then,
with referrals at the trend's level then, growing as they have grown. The force's own
settings (headcounts, its court's sitting days, anything in its YAML or on the command line)
are kept: ``fixed`` names them, and neither an estimate nor the fit changes them.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import yaml

from ..config.convert import replace_path
from ..config.schema import BacklogCase, ByGrade, SimConfig
from ..domain import DAYS_PER_MONTH
from ..errors import ConfigError
from ..io.caselog import CaseLog, LogWarning
from ..model.replication import run_replication
from .direct import Estimate, direct_estimates
from .fit import FitResult, FitSettings, fit_by_simulation
from .fitted_parameters import FittedParameter, choose_parameters, with_values
from .milestones import milestones_from_log
from .open_cases import OpenCases, open_cases
from .referral_model import MIN_MONTHS, ReferralModel, fit_referral_model, monthly_referrals
from .summaries import MIN_CASES as SUMMARY_MIN_CASES
from .summaries import steps_observed, summarise_milestones

PROJECTION_YEARS = 3
"""Years of referrals projected by default."""


@dataclass(frozen=True)
class Calibration:
    """A calibrated force: ``config`` (day 0 the extract date ``as_of``), the ``estimates``
    made from the log directly, the simulation ``fit`` (None if nothing was left to fit),
    the ``referrals`` count model and its ``projection`` by month, the ``backlog`` of open
    cases, the ``observed`` statistics the fit matched, the keys the force ``fixed``, and
    the log's ``warnings``. ``period_days``: the log's length, from ``start``."""

    log_name: str
    start: pd.Timestamp
    as_of: pd.Timestamp
    period_days: float
    n_cases: int
    config: SimConfig
    estimates: tuple[Estimate, ...]
    fit: FitResult | None
    referrals: ReferralModel
    projection: pd.DataFrame
    backlog: OpenCases
    observed: dict[str, float]
    fixed: tuple[str, ...]
    warnings: tuple[LogWarning, ...]


def referral_schedule(referral_dates: pd.Series, start: pd.Timestamp, period_days: float) -> tuple[float, ...]:
    """Referrals in each model month (``DAYS_PER_MONTH`` days from ``start``) of a period,
    the last, partly observed month scaled up to a whole one: the model replays the log's
    own demand month by month."""
    days = ((referral_dates - start) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    months = int(math.ceil(period_days / DAYS_PER_MONTH))
    counts = np.bincount(np.floor(days / DAYS_PER_MONTH).astype(int), minlength=months)[:months].astype(float)
    observed_part = (period_days - (months - 1) * DAYS_PER_MONTH) / DAYS_PER_MONTH
    counts[-1] /= max(observed_part, 1e-9)
    return tuple(float(c) for c in counts)


def period_config(cfg: SimConfig, referral_dates: pd.Series, start: pd.Timestamp, period_days: float,
                  replications: int, referrals: ReferralModel, warm_up_months: int) -> SimConfig:
    """``cfg`` set up to replay a log's period of ``period_days`` from ``start``: its
    referrals month by month, after ``warm_up_months`` of referrals at the trend's level
    before it (``referrals``: the log's count model), from no backlog. A log's first month
    meets a force already at work; the warm-up builds that work up as the force would have.
    Its cases are not measured (``summary_of_run`` counts from the log's first day)."""
    before = [referrals.trend_per_month(start - pd.DateOffset(months=warm_up_months - k))[0]
              for k in range(warm_up_months)]
    schedule = tuple(round(v, 3) for v in before) + referral_schedule(referral_dates, start, period_days)
    demand = dataclasses.replace(
        cfg.demand, referrals_by_month=schedule, bulk_package_probability=0.0,
        initial_backlog=dataclasses.replace(cfg.demand.initial_backlog, counts=ByGrade(0, 0, 0, 0), csv=None,
                                            cases=()))
    warm_up_days = float(math.ceil(warm_up_months * DAYS_PER_MONTH))
    run = dataclasses.replace(cfg.run, horizon_days=warm_up_days + float(period_days), warmup_days=0.0,
                              replications=replications, workers=1, progress=False)
    return dataclasses.replace(cfg, demand=demand, run=run)


POST_ARREST_WINDOW_DAYS = 365.0
"""The post-arrest work measured is that of arrests in the replay's last year (but its last
quarter, whose work may not be finished by the end)."""


def post_arrest_days(replay: SimConfig) -> float:
    """The mean days the calibrated force's post-arrest work takes, from an arrest to the
    investigator's release of the case, over two replications of its log's replay (its last
    year). A log records the arrest, not the end of that work; this is the window within
    which an enforced case is taken to be still in it (``open_cases``)."""
    horizon = replay.run.horizon_days
    spans = []
    for replication in range(2):
        cases = run_replication(replay, replication).cases
        arrest, end = cases["arrest_day"], cases["exit_day"]
        window = (arrest >= horizon - POST_ARREST_WINDOW_DAYS) & (arrest < horizon - 90.0) & ~np.isnan(end)
        spans.append(end[window] - arrest[window])
    spans = np.concatenate(spans)
    return float(spans.mean()) if spans.size else 0.0


def fixed_keys(overrides: Sequence[str], config_name: str = "config", config_dir: str | Path | None = None
               ) -> tuple[str, ...]:
    """The keys a force fixes: each ``key=value`` override, and every key its own YAML
    (``config_dir/config_name.yaml``) sets. A group's option (``staffing=large_force``) fixes
    nothing: it picks casesim's estimates, not the force's own figures."""
    keys = [text.partition("=")[0].lstrip("+~") for text in overrides if "=" in text]
    keys = [key for key in keys if "." in key]
    if config_dir is not None:
        path = Path(config_dir) / f"{config_name}.yaml"
        if path.is_file():
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            keys += _flat_keys({k: v for k, v in data.items() if k not in ("defaults", "hydra")})
    return tuple(dict.fromkeys(keys))


def _flat_keys(data: dict, prefix: str = "") -> list[str]:
    """The dotted keys of a nested mapping's leaves; a distribution's mapping (with ``dist``)
    or a per-grade set is one leaf."""
    out = []
    for key, value in data.items():
        if isinstance(value, dict) and "dist" not in value and not set(value) <= {"VH", "H", "M", "L"}:
            out += _flat_keys(value, f"{prefix}{key}.")
        else:
            out.append(f"{prefix}{key}")
    return out


def is_fixed(key: str, fixed: Sequence[str]) -> bool:
    """Whether the force fixes ``key``: it names it, or a section holding it."""
    return any(key == f or key.startswith(f + ".") for f in fixed)


SIGNIFICANT_DIGITS = 4
"""Estimates are set to this many significant figures: their intervals are far wider, and a
planner reads 0.1162, not 0.11621405750798722."""


def with_estimates(cfg: SimConfig, estimates: Sequence[Estimate], fixed: Sequence[str]) -> SimConfig:
    """``cfg`` with every estimate that sets a config key applied (to ``SIGNIFICANT_DIGITS``;
    the risk mix's shares to as many decimals, summing to 1), except those the force fixes."""
    applied = [e for e in estimates if e.sets_config and not is_fixed(e.key, fixed)]
    for estimate in applied:
        cfg = replace_path(cfg, estimate.key, float(f"{estimate.value:.{SIGNIFICANT_DIGITS}g}"))
    if not any(e.key.startswith("demand.risk_mix.") for e in applied):
        return cfg
    shares = [round(share, SIGNIFICANT_DIGITS) for share in cfg.demand.risk_mix.as_tuple()]
    largest = int(np.argmax(shares))
    shares[largest] = round(1.0 - sum(shares) + shares[largest], SIGNIFICANT_DIGITS)
    return replace_path(cfg, "demand.risk_mix", ByGrade(*shares))


def backlog_cases(table: pd.DataFrame) -> tuple[BacklogCase, ...]:
    """The backlog table's rows as the model's backlog cases."""
    truth = {"true": True, "false": False, "": None}
    return tuple(BacklogCase(float(row.age_days), row.stage, row.assigned_grade or None, None,
                             truth[row.child_in_household]) for row in table.itertuples(index=False))


def check_calibration(log: CaseLog, cfg: SimConfig, fit: Sequence[str] | None = None,
                      fixed: Sequence[str] = ()) -> tuple[FittedParameter, ...]:
    """The parameters to fit, once the inputs are known to make a calibration: one force, a
    log of at least ``MIN_MONTHS`` months, and (when something is fitted) enough dated
    stages for the fit to compare; else a ConfigError, before any work."""
    if cfg.forces:
        raise ConfigError("forces", f"{len(cfg.forces)} forces",
                          "one force: a case log is one force's (calibrate each force of a region alone)")
    parameters = choose_parameters(fit, fixed)
    cases = log.cases
    start = cases["referral_date"].min()
    months = monthly_referrals(cases["referral_date"], start, log.as_of)
    if len(months) < MIN_MONTHS:
        raise ConfigError("case_log", log.name, f"covers {len(months)} month{'s' if len(months) != 1 else ''} ({start:%Y-%m-%d} to "
                                                f"{log.as_of:%Y-%m-%d}); a calibration needs at least {MIN_MONTHS}")
    if parameters and not steps_observed(milestones_from_log(cases, start, log.as_of)):
        raise ConfigError("case_log", log.name, "records too few dated stages to fit anything by simulation (no "
                                                f"step from referral to enforcement is dated for {SUMMARY_MIN_CASES} "
                                                "cases or more); calibrate without the fit (--fit none)")
    return parameters


def calibrate(log: CaseLog | str | Path, cfg: SimConfig | None = None, fixed: Sequence[str] = (),
              fit: Sequence[str] | None = None, settings: FitSettings = FitSettings(), workers: int = 1,
              projection_years: int = PROJECTION_YEARS, name: str = "my_force",
              progress: Callable[[int], None] | None = None, executor=None) -> Calibration:
    """Calibrate the force ``cfg`` (default: casesim's baseline; ``fixed`` names the keys
    it sets itself, never changed) to its case ``log`` (a CaseLog, or a file
    ``read_case_log`` reads): the estimates, the simulation fit of ``fit`` (keys of
    ``FITTABLE``; default the usual parameters; ``[]`` fits nothing) on ``workers`` local
    processes (or through ``executor``, ``sim.running.executors``), the backlog at the
    extract date and ``projection_years`` of referrals. ``progress(k)`` is told of each
    simulated replication.

    >>> import sim
    >>> calibration = sim.calibrate(sim.EXAMPLE_CASE_LOG, fit=[], projection_years=1)
    >>> calibration.n_cases, f"{calibration.as_of:%Y-%m-%d}", len(calibration.projection)
    (2504, '2024-12-31', 12)
    """
    from ..config.load import load_config
    from ..io.caselog import read_case_log

    if not isinstance(log, CaseLog):
        log = read_case_log(log)
    cfg = load_config([]) if cfg is None else cfg
    if executor is None:
        from ..running.executors import make_executor
        from ..running.runner import main_module_hidden

        executor = make_executor(workers)
        try:
            with main_module_hidden():  # a script or notebook without a __main__ guard runs workers too
                return calibrate(log, cfg, fixed, fit, settings, workers, projection_years, name, progress, executor)
        finally:
            executor.close(cancel=True)
    parameters = check_calibration(log, cfg, fit, fixed)
    cases, as_of = log.cases, log.as_of
    start = cases["referral_date"].min()
    period_days = float((as_of - start) / pd.Timedelta(days=1)) + 1.0
    referrals = fit_referral_model(cases["referral_date"], start, as_of, settings.level)
    estimates = tuple(direct_estimates(cases, as_of, cfg, referrals, settings.level, settings.seed))
    estimated = with_estimates(cfg, estimates, fixed)
    observed = summarise_milestones(milestones_from_log(cases, start, as_of), period_days)
    result = None
    if parameters:
        replay = period_config(estimated, cases["referral_date"], start, period_days, settings.replications,
                               referrals, settings.warm_up_months)
        result = fit_by_simulation(replay, observed, parameters, period_days, executor, settings, progress)
        estimated = with_values(estimated, result.parameters, result.values)
    replay = period_config(estimated, cases["referral_date"], start, period_days, 2, referrals,
                           settings.warm_up_months)
    backlog = open_cases(cases, as_of, post_arrest_days(replay))
    demand = dataclasses.replace(
        estimated.demand, bulk_package_probability=0.0,
        # no open case is no backlog: zero counts, or the model would start from the config's
        initial_backlog=dataclasses.replace(estimated.demand.initial_backlog, counts=ByGrade(0, 0, 0, 0), csv=None,
                                            cases=backlog_cases(backlog.table)))
    calibrated = dataclasses.replace(estimated, demand=demand, force=name)
    calibrated.validate()
    projection = referrals.project(12 * projection_years, as_of + pd.Timedelta(days=1), seed=settings.seed)
    return Calibration(log.name, start, as_of, period_days, len(cases), calibrated, estimates, result, referrals,
                       projection, backlog, observed, tuple(fixed), log.warnings)

