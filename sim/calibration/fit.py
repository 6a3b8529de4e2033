"""The simulation fit: the parameters no log records, chosen so that the model, run over the
log's own period and referrals, reproduces what the force observed.

Method (history matching with Gaussian-process emulators, in waves):

1. Design: a Latin hypercube of points over the fitted parameters' ranges, each run for a few
   replications with common random numbers (the same seeds at every point), on the log's
   period with its month-by-month referrals, and summarised as the log is
   (:mod:`sim.calibration.summaries`).
2. Emulate: a Gaussian process per statistic over the parameters
   (:mod:`sim.calibration.emulator`).
3. Rule out: a parameter value is implausible when the emulator puts some statistic too far
   from the observed one, measured in the standard deviations of everything that separates
   them: the emulator's uncertainty, one history's chance variation about the model's mean
   (the observed log is one history), and the model's discrepancy (no model is the force).
   Values whose largest implausibility over the statistics exceeds 3.5 are ruled out, wave
   after wave: past 3 by Pukelsheim's three-sigma rule, raised to 3.5 so that, over some
   twenty statistics, the chance that noise alone rules out the true value stays near 1 %.
   (The largest, not the second-largest some studies use: a parameter such as the search
   teams moves one statistic alone, which must be able to rule it out.)
4. Waves: the next design points are drawn from the values not yet ruled out, run and
   emulated again, so the emulators sharpen where the data point.
5. Result: the value not ruled out that the emulators put closest to the observed statistics
   is run for more replications; if its runs come closer to them than those of every design
   point run so far (measured on the runs themselves, not the emulator), it is the fitted
   value, else that design point is. Its interval is the central range of the values not
   ruled out; each statistic's observed value is set against the fitted value's runs (the
   residuals).

References: Vernon, Goldstein & Bower (2010), Galaxy formation: a Bayesian uncertainty
analysis, Bayesian Analysis 5:619; Andrianakis et al. (2015), Bayesian history matching of
complex infectious disease models using emulation, PLoS Comput Biol 11:e1003968; Craig,
Goldstein, Seheult & Smith (1997), Pressure matching for hydrocarbon reservoirs, Case Studies
in Bayesian Statistics 3:37; Pukelsheim (1994), The three sigma rule, Am Stat 48:88.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from scipy.stats import qmc

from ..config.schema import SimConfig
from ..model.replication import run_replication
from ..running.executors import Lost
from .emulator import SD_FLOOR, SummaryEmulator, emulated_scale
from .fitted_parameters import FittedParameter, with_values
from .milestones import milestones_from_run
from .summaries import summarise_milestones

MISS_Z = 3.0
"""A statistic observed further than this from the fitted model's runs (in standard
deviations of their variation and the discrepancy) is reported as missed."""

MIN_FINITE_SHARE = 0.8
"""A statistic is used only if the design's runs compute it this often (a wait no case
completes at most parameter values tells nothing)."""


@dataclass(frozen=True)
class FitSettings:
    """How hard the fit works: ``replications`` at each design point;
    ``points_per_parameter`` design points a fitted parameter in the first wave, and
    ``refine_points_per_parameter`` in each later one (``waves`` in all);
    ``check_replications`` at each of the two finalists for the fitted value; ``candidates`` parameter values the emulators
    judge; ``cutoff``: the implausibility past which a value is ruled out;
    ``discrepancy_sd``: how far (on the emulated scale: 0.08 is about 8 % of a
    wait or a count) the model may miss a statistic at its best parameters
    (no model is the force: without it, a statistic the simulation reproduces very
    precisely would pin a parameter on differences too small to trust); the intervals'
    ``level``; the ``seed`` of the design and the sampler; ``warm_up_months`` simulated
    before the log's first day, so that its first referrals meet a force at work."""

    replications: int = 4
    points_per_parameter: int = 8
    refine_points_per_parameter: int = 5
    waves: int = 3
    check_replications: int = 20
    candidates: int = 16384
    discrepancy_sd: float = 0.08
    cutoff: float = 3.5
    warm_up_months: int = 12
    level: float = 0.95
    seed: int = 0


def design_points(settings: FitSettings, parameters: int) -> tuple[int, int]:
    """Design points of the first wave and of each later one (at most: a later wave draws
    no more than the values left)."""
    return max(settings.points_per_parameter * parameters, 10), max(settings.refine_points_per_parameter * parameters, 5)


def planned_runs(settings: FitSettings, parameters: int) -> int:
    """The replications a fit of ``parameters`` runs at most: its waves' design points and
    the two finalists."""
    first, later = design_points(settings, parameters)
    return settings.replications * (first + (settings.waves - 1) * later) + 2 * settings.check_replications


QUICK_SETTINGS = FitSettings(replications=2, points_per_parameter=4, refine_points_per_parameter=2, waves=2,
                             check_replications=6, candidates=4096)
"""A rough fit in about a sixth of the runs: for trying things out, and the tests."""


@dataclass(frozen=True)
class FitResult:
    """What the fit found. ``table``: each fitted parameter's value (the best design point),
    the interval of values not ruled out, and its unit; ``residuals``: each statistic
    observed and simulated at the best point; ``design``: every design point run, with its
    statistics' means; ``plausible``: the candidate values not ruled out, and their share of
    all candidates (``plausible_share``: 0 would mean none reproduces the log, and the least
    implausible were kept); ``runs``: replications simulated; ``seconds`` taken."""

    parameters: tuple[FittedParameter, ...]
    values: tuple[float, ...]
    table: pd.DataFrame
    residuals: pd.DataFrame
    design: pd.DataFrame
    plausible: pd.DataFrame
    plausible_share: float
    runs: int
    seconds: float

    @property
    def misses(self) -> pd.DataFrame:
        """The statistics the fitted model misses: observed more than ``MISS_Z`` standard
        deviations (runs and discrepancy) from its runs' mean. Where there are some, the
        model's process differs from the force's there, whatever the parameters."""
        return self.residuals[self.residuals["z"].abs() > MISS_Z]

    def misses_line(self) -> str:
        """One sentence on the statistics missed ('' if none)."""
        misses = self.misses
        if misses.empty:
            return ""
        names = ", ".join(name.replace("_", " ") for name in misses["statistic"][:4])
        more = f" and {len(misses) - 4} more" if len(misses) > 4 else ""
        return (f"the calibrated model misses {len(misses)} of the log's {len(self.residuals)} statistics by more "
                f"than {MISS_Z:g} standard deviations ({names}{more}): its process differs from this force's "
                "there, whatever the parameters")


def summary_of_run(task: tuple[SimConfig, int, float]) -> dict[str, float]:
    """The statistics of replication ``r`` of ``cfg`` over the log's ``period_days``, the
    run's last (a task for an executor: one argument, picklable)."""
    cfg, replication, period_days = task
    output = run_replication(cfg, replication)
    origin_day = math.ceil(cfg.run.horizon_days) - math.ceil(period_days)  # the warm-up before the log's period
    return summarise_milestones(milestones_from_run(output.cases, cfg.run.horizon_days, origin_day), period_days)


class _Runner:
    """Runs design points through an executor: every replication of every point at once."""

    def __init__(self, cfg: SimConfig, parameters: Sequence[FittedParameter], period_days: float, executor,
                 progress: Callable[[int], None] | None):
        self.cfg, self.parameters, self.period_days = cfg, tuple(parameters), period_days
        self.executor, self.progress, self.runs = executor, progress, 0

    def config_at(self, unit_point: np.ndarray, replications: int) -> SimConfig:
        values = [p.from_unit(u) for p, u in zip(self.parameters, unit_point)]
        cfg = with_values(self.cfg, self.parameters, values)
        cfg = dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, replications=replications))
        cfg.validate()
        return cfg

    def snap(self, unit_points: np.ndarray) -> np.ndarray:
        """Points moved to the values their runs use (whole numbers where whole)."""
        return np.column_stack([p.snapped(column) for p, column in zip(self.parameters, np.atleast_2d(unit_points).T)])

    def run(self, unit_points: np.ndarray, replications: int) -> list[list[dict]]:
        """Each point's replications' statistics (points x replications)."""
        configs = [self.config_at(point, replications) for point in unit_points]
        futures = {}
        for k, cfg in enumerate(configs):
            for r in range(replications):
                futures[self.executor.submit(summary_of_run, (cfg, r, self.period_days))] = (k, r)
        out: list[list[dict]] = [[{} for _ in range(replications)] for _ in configs]
        lost = []
        for future in self.executor.as_completed(list(futures)):
            k, r = futures[future]
            try:
                out[k][r] = self.executor.result(future)
            except Lost:  # its worker died (killed, out of memory): run it again below
                lost.append((k, r))
                continue
            self._ran()
        for k, r in lost:
            out[k][r] = self.executor.result(self.executor.submit(summary_of_run, (configs[k], r, self.period_days)))
            self._ran()
        return out

    def _ran(self) -> None:
        self.runs += 1
        if self.progress is not None:
            self.progress(1)


def _as_array(runs: list[list[dict]], names: Sequence[str]) -> np.ndarray:
    """Points x replications x statistics, on the emulated scale."""
    return emulated_scale(np.array([[[run.get(name, math.nan) for name in names] for run in point] for point in runs],
                                   dtype=float))


def usable_statistics(observed: dict[str, float], runs: list[list[dict]]) -> tuple[str, ...]:
    """The statistics the fit can use: observed, computed by most runs, and moved by the
    parameters (they differ between design points)."""
    names = [name for name, value in observed.items() if math.isfinite(value)]
    values = _as_array(runs, names)
    finite = np.mean(~np.isnan(values), axis=(0, 1))
    with warnings.catch_warnings():  # a point where no run computes a statistic: NaN, as meant
        warnings.simplefilter("ignore", RuntimeWarning)
        point_means = np.nanmean(values, axis=1) if values.size else values
    moved = np.nanstd(point_means, axis=0) > SD_FLOOR
    return tuple(name for name, ok, varies in zip(names, finite >= MIN_FINITE_SHARE, moved) if ok and varies)


def implausibility(observed: np.ndarray, mean: np.ndarray, emulator_variance: np.ndarray,
                   replication_variance: np.ndarray, discrepancy_sd: float) -> np.ndarray:
    """Each statistic's implausibility at each candidate (candidates x statistics): the
    observed value's distance from the emulated mean in standard deviations of the
    emulator, one history's variation and the model's discrepancy."""
    total = emulator_variance + replication_variance + discrepancy_sd**2
    return np.abs(observed[None, :] - mean) / np.sqrt(total)


def _closest_point(target: np.ndarray, runs: np.ndarray, discrepancy_sd: float) -> int:
    """The design point whose runs' means come closest to the observed statistics: the least
    sum of squared distances, each in standard deviations of the runs' variation and the
    discrepancy (a statistic a point never computes counts as far off)."""
    with warnings.catch_warnings():  # a statistic a point never computes: NaN, counted as far off below
        warnings.simplefilter("ignore", RuntimeWarning)
        means = np.nanmean(runs, axis=1)
        variances = np.nanvar(runs, axis=1, ddof=1) if runs.shape[1] > 1 else np.zeros_like(means)
    distance = (target[None, :] - means) ** 2 / (np.nan_to_num(variances) + SD_FLOOR**2 + discrepancy_sd**2)
    return int(np.argmin(np.nansum(np.where(np.isnan(distance), 100.0, distance), axis=1)))


def fit_by_simulation(cfg: SimConfig, observed: dict[str, float], parameters: Sequence[FittedParameter],
                      period_days: float, executor, settings: FitSettings = FitSettings(),
                      progress: Callable[[int], None] | None = None) -> FitResult:
    """Fit ``parameters`` so that ``cfg`` (set up for the log's period: its horizon, its
    referrals month by month, no warm-up) reproduces the ``observed`` statistics of the log
    (:func:`~sim.calibration.summaries.summarise_milestones` over ``period_days``). Runs go
    through ``executor`` (``sim.running.executors``); ``progress(k)`` is told of each run."""
    started = time.perf_counter()
    rng = np.random.default_rng(settings.seed)
    d = len(parameters)
    runner = _Runner(cfg, parameters, period_days, executor, progress)
    first_points, later_points = design_points(settings, d)
    x = runner.snap(qmc.LatinHypercube(d, seed=rng).random(first_points))
    runs = runner.run(x, settings.replications)
    names = usable_statistics(observed, runs)
    if not names:
        raise ValueError("no statistic of the log can be compared with the simulation: "
                         "the log records too few dates or too few cases")
    target = emulated_scale_vector(observed, names)
    waves = [np.zeros(len(x), int)]
    # candidates at the values runs can use (whole numbers where whole), so none is judged
    # at a value no run could have
    candidates = runner.snap(qmc.Sobol(d, scramble=True, seed=rng).random(settings.candidates))
    alive = np.ones(len(candidates), bool)
    none_plausible = False
    for wave in range(settings.waves):
        emulator = SummaryEmulator(x, _as_array(runs, names), names, settings.seed)
        mean, emulator_variance, replication_variance = emulator.predict(candidates[alive])
        worst = implausibility(target, mean, emulator_variance, replication_variance,
                               settings.discrepancy_sd).max(axis=1)
        if np.any(worst < settings.cutoff):
            alive[np.nonzero(alive)[0][worst >= settings.cutoff]] = False
        else:  # nothing is plausible: keep the least implausible hundredth, and say so in the result
            none_plausible = True
            keep = worst <= np.quantile(worst, 0.01)
            alive[np.nonzero(alive)[0][~keep]] = False
        if wave == settings.waves - 1:
            break
        living = np.nonzero(alive)[0]
        extra = candidates[rng.choice(living, size=min(later_points, len(living)), replace=False)]
        x = np.vstack([x, extra])
        runs += runner.run(extra, settings.replications)
        waves.append(np.full(len(extra), wave + 1, int))
    # The emulators' best guess and the design point whose few runs came closest, each run
    # as long: the closer of the two is the fitted value (a design point picked from many on
    # a few runs each may be close by chance).
    living = np.nonzero(alive)[0]
    guess = candidates[living[np.argmin(np.sum(implausibility(
        target, *emulator.predict(candidates[living]), settings.discrepancy_sd) ** 2, axis=1))]]
    # the closest design point among those not ruled out (all of them, if every one is)
    design_worst = implausibility(target, *emulator.predict(x), settings.discrepancy_sd).max(axis=1)
    eligible = design_worst < settings.cutoff if np.any(design_worst < settings.cutoff) else np.ones(len(x), bool)
    closest = x[eligible][_closest_point(target, _as_array([r for r, e in zip(runs, eligible) if e], names),
                                         settings.discrepancy_sd)]
    finalists = runner.run(np.vstack([guess, closest]), settings.check_replications)
    chosen = _closest_point(target, _as_array(finalists, names), settings.discrepancy_sd)
    best_unit, check = (guess, closest)[chosen], [finalists[chosen]]
    tail = (1 - settings.level) / 2
    plausible = _plausible_in_their_box(candidates[alive], emulator, target, runner, settings, rng)
    low_unit, high_unit = np.quantile(plausible, [tail, 1 - tail], axis=0)
    values = tuple(p.run_value(float(p.from_unit(u))) for p, u in zip(parameters, best_unit))
    table = pd.DataFrame({
        "key": [p.key for p in parameters],
        "value": values,
        "low": [p.run_value(float(p.from_unit(u))) for p, u in zip(parameters, low_unit)],
        "high": [p.run_value(float(p.from_unit(u))) for p, u in zip(parameters, high_unit)],
        "unit": [p.unit for p in parameters],
        "moves": [p.moves for p in parameters],
    })
    return FitResult(
        parameters=tuple(parameters), values=values, table=table,
        residuals=_residuals(observed, names, check, tail, settings.discrepancy_sd),
        design=_design_table(parameters, x, np.concatenate(waves), runs, names),
        plausible=pd.DataFrame({p.key: p.from_unit(column) for p, column in zip(parameters, plausible.T)}),
        plausible_share=0.0 if none_plausible else float(alive.mean()), runs=runner.runs, seconds=time.perf_counter() - started)


def _plausible_in_their_box(plausible: np.ndarray, emulator: SummaryEmulator, target: np.ndarray, runner: _Runner,
                            settings: FitSettings, rng: np.random.Generator) -> np.ndarray:
    """The values not ruled out, sampled densely: the last wave leaves few of the candidates
    (a few dozen of thousands), too few for the ends of an interval, so as many again are
    drawn uniformly in the box around them (a tenth of each range wider, within it) and
    judged by the last emulators. The prior is uniform and every value outside the box was
    ruled out, so these are a uniform sample of the values not ruled out."""
    if len(plausible) >= settings.candidates // 4:
        return plausible
    low = np.clip(plausible.min(axis=0) - 0.1, 0.0, 1.0)
    high = np.clip(plausible.max(axis=0) + 0.1, 0.0, 1.0)
    box = runner.snap(low + (high - low) * qmc.Sobol(len(low), scramble=True, seed=rng).random(settings.candidates))
    worst = implausibility(target, *emulator.predict(box), settings.discrepancy_sd).max(axis=1)
    inside = box[worst < settings.cutoff]
    return inside if len(inside) > len(plausible) else plausible


def emulated_scale_vector(stats: dict[str, float], names: Sequence[str]) -> np.ndarray:
    """The statistics ``names`` of ``stats`` on the emulated scale, as a vector."""
    return emulated_scale(np.array([stats[name] for name in names], dtype=float))


def _residuals(observed: dict[str, float], names: Sequence[str], check: list[list[dict]], tail: float,
               discrepancy_sd: float) -> pd.DataFrame:
    """Each used statistic: observed, and the check run's mean and central interval; z is
    the observed value's distance from the mean, on the emulated scale, in standard
    deviations of the runs' variation and the allowed discrepancy (as the fit measures it)."""
    rows = []
    for name in names:
        simulated = np.array([run.get(name, math.nan) for run in check[0]], dtype=float)
        simulated = simulated[~np.isnan(simulated)]
        on_scale = emulated_scale(simulated)
        spread = float(np.var(on_scale, ddof=1)) if len(on_scale) > 1 else math.nan
        sd = math.sqrt(max(spread, SD_FLOOR**2) + discrepancy_sd**2)
        z = (float(emulated_scale(observed[name])) - float(np.mean(on_scale))) / sd
        rows.append({"statistic": name, "observed": observed[name], "simulated": float(np.mean(simulated)),
                     "simulated_low": float(np.quantile(simulated, tail)),
                     "simulated_high": float(np.quantile(simulated, 1 - tail)), "z": z})
    return pd.DataFrame(rows)


def _design_table(parameters: Sequence[FittedParameter], x: np.ndarray, waves: np.ndarray,
                  runs: list[list[dict]], names: Sequence[str]) -> pd.DataFrame:
    """Every design point: its wave, parameter values and the mean of each statistic."""
    table = pd.DataFrame({"wave": waves})
    for p, column in zip(parameters, x.T):
        table[p.key] = [p.run_value(v) for v in p.from_unit(column)]
    for name in names:
        values = [[run.get(name, math.nan) for run in point] for point in runs]
        table[name] = [float(np.mean([v for v in point if math.isfinite(v)])) if any(map(math.isfinite, point))
                       else math.nan for point in values]
    return table
