"""The parameters no case log records, which the simulation fit chooses: what each one is, the
range it is searched over, and how a value of it changes a config.

An effort is fitted as a factor on the configured distribution (its shape kept: a force's
research taking twice as long takes twice as long at every quantile); availability, the
court's hearing slots and the search teams as values. A force fixes what it knows (its
court's list, its teams) in its own YAML or on the command line, and a fixed parameter is
never fitted.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..config.convert import replace_path
from ..config.schema import SimConfig
from ..errors import ConfigError


@dataclass(frozen=True)
class FittedParameter:
    """A parameter the fit chooses: config ``key``, searched from ``low`` to ``high`` (on a
    log scale if ``log_scale``: a capacity's effect is steepest at its fewest, where one more
    team can halve a wait). ``factor``: the value multiplies the configured distribution
    at ``key``; else it is the key's value (a whole number if ``whole``). ``moves`` says which
    observed waits it moves most (for the report)."""

    key: str
    low: float
    high: float
    unit: str
    moves: str
    factor: bool = False
    log_scale: bool = False
    whole: bool = False

    def to_unit(self, value: np.ndarray) -> np.ndarray:
        """Values as points of [0, 1]: where in its range each lies (on its scale)."""
        value = np.asarray(value, dtype=float)
        if self.log_scale:
            return (np.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (value - self.low) / (self.high - self.low)

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Points of [0, 1] as values (not rounded)."""
        u = np.asarray(u, dtype=float)
        if self.log_scale:
            return np.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * (self.high - self.low)

    def run_value(self, value: float) -> float:
        """The value a run uses: whole numbers rounded."""
        return float(round(value)) if self.whole else float(value)

    def snapped(self, u: np.ndarray) -> np.ndarray:
        """Points of [0, 1] moved to where the values a run uses lie (whole numbers for a
        whole parameter), so an emulator learns from the inputs the runs really had."""
        if not self.whole:
            return np.asarray(u, dtype=float)
        return self.to_unit(np.round(self.from_unit(u)))


FACTOR_RANGE = (0.25, 4.0)
"""A distribution's factor is searched from a quarter to four times the configured one."""


def factor_of(key: str, moves: str) -> FittedParameter:
    """A distribution at ``key`` (an effort in hours, or a delay in days) fitted as a factor
    on its configured values, searched over FACTOR_RANGE on a log scale."""
    what = "effort" if key.endswith("_hours") else "delay"
    return FittedParameter(key, *FACTOR_RANGE, f"x the configured {what}", moves, factor=True, log_scale=True)


DEFAULT_PARAMETERS: tuple[FittedParameter, ...] = (
    factor_of("stages.research.effort_hours", "referral to grading"),
    factor_of("stages.planning.effort_hours", "allocation to the warrant application"),
    factor_of("stages.post_arrest.effort_hours", "how long investigators hold a case, so the wait for one"),
    FittedParameter("staffing.availability", 0.35, 0.95, "share of contracted hours", "every wait for staff"),
    FittedParameter("stages.warrant.slots_per_sitting_day", 1.0, 12.0, "hearings a sitting day",
                    "the application to the court's decision", log_scale=True, whole=True),
    FittedParameter("staffing.search_teams", 1.0, 10.0, "teams", "a granted warrant to its execution",
                    log_scale=True, whole=True),
)
"""What the fit chooses unless told otherwise (``--fit``)."""

FITTABLE = {p.key: p for p in DEFAULT_PARAMETERS} | {
    p.key: p for p in (
        factor_of("stages.intake.effort_hours", "referral to grading"),
        factor_of("stages.research.comms_data_days", "referral to grading"),
        factor_of("stages.warrant.effort_hours", "allocation to the warrant application"),
        factor_of("stages.planning.lag_days", "allocation to the warrant application"),
        factor_of("stages.execution.lag_days", "a granted warrant to its execution"),
        FittedParameter("staffing.caseload_limit", 3.0, 20.0, "cases an investigator holds",
                        "the wait for an investigator", log_scale=True, whole=True),
        FittedParameter("training.assessors_trained_share", 0.0, 1.0, "share", "grading errors"),
        FittedParameter("training.researchers_trained_share", 0.0, 1.0, "share", "referral to grading"),
        FittedParameter("training.investigators_trained_share", 0.0, 1.0, "share", "warrant rework"),
    )}
"""Every parameter the fit can choose, by key."""


def config_value(cfg: SimConfig, key: str) -> Any:
    """The value at dotted ``key`` of ``cfg``."""
    return functools.reduce(getattr, key.split("."), cfg)


def with_values(cfg: SimConfig, parameters: Sequence[FittedParameter], values: Sequence[float]) -> SimConfig:
    """``cfg`` with each parameter set to its value (a factor scales the configured
    distribution); not validated."""
    for parameter, value in zip(parameters, values):
        value = parameter.run_value(value)
        if parameter.factor:
            configured = config_value(cfg, parameter.key)
            cfg = replace_path(cfg, parameter.key, configured.scaled(value))
        else:
            current = config_value(cfg, parameter.key)
            cfg = replace_path(cfg, parameter.key, int(value) if isinstance(current, int) else value)
    return cfg


def choose_parameters(keys: Sequence[str] | None, fixed: Sequence[str]) -> tuple[FittedParameter, ...]:
    """The parameters to fit: ``keys`` (default: DEFAULT_PARAMETERS), less any the force
    fixes (``fixed``: keys its own YAML or the command line sets). An unknown key is a
    ConfigError naming the ones allowed."""
    if keys is None:
        chosen = list(DEFAULT_PARAMETERS)
    else:
        unknown = [key for key in keys if key not in FITTABLE]
        if unknown:
            raise ConfigError("--fit", unknown[0], f"one of {', '.join(FITTABLE)}")
        chosen = [FITTABLE[key] for key in dict.fromkeys(keys)]
    return tuple(p for p in chosen if p.key not in set(fixed))
