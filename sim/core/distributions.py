"""Distributions of durations and efforts: one class per kind, each with its parameters'
checks, its sampling, its mean and its variance.

Samples come from uniforms drawn beforehand, one per case, so a case keeps its draw when a
scenario changes a distribution's parameters (common random numbers), and a whole column of
cases is transformed at once by inverse transform (:meth:`Distribution.quantile`).

A distribution is configuration: a frozen dataclass whose ``dist`` field names its kind, as
the YAML does (``{dist: uniform, low: 1, high: 5}``), so a manifest written with
``dataclasses.asdict`` says which kind was used. Calling the base class with a kind builds
that kind:

>>> Distribution("uniform", low=1.0, high=5.0)
Uniform(low=1.0, high=5.0)
>>> Triangular(2.0, 4.0, 9.0).mean_value
5.0
>>> Uniform(1.0, 5.0).quantile(np.array([0.0, 0.5, 0.75])).tolist()
[1.0, 3.0, 4.0]
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABCMeta, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..errors import ConfigError, check, check_non_negative

LARGEST_PARAMETER = 1e15
"""The largest parameter any kind takes: 1e15 hours is over a hundred billion years, past
any use, and below it means, variances and quantiles stay finite numbers."""
_LARGEST_PARAMETER_ALLOWED = "must be at most 1e15 (over a hundred billion years, in hours or days)"

CV_RANGE = (1e-6, 100.0)
"""The coefficients of variation a kind set by its mean and cv takes. Below the least, the
distribution is a fixed value in all but name (``dist: fixed`` says so); above the largest,
nearly every draw is 0 and a rare one astronomically large, and the quantile arithmetic
overflows long before a cv of 1e200."""


class _BuiltByKind(ABCMeta):
    # Calling the base class itself builds the kind it names, as the YAML reads:
    # Distribution("uniform", low=1, high=5) is Uniform(low=1, high=5).
    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is Distribution:
            return _build(*args, **kwargs)
        return super().__call__(*args, **kwargs)


@dataclass(frozen=True)
class Distribution(metaclass=_BuiltByKind):
    """A distribution of a duration or effort; the unit is in the name of the key holding it.

    Each kind is a subclass whose fields are its parameters (each >= 0); ``dist`` names the
    kind. A parameter missing from the input is held as None until :meth:`validate` reports it.
    """

    dist: str = field(default="", init=False)
    scale_parameters: ClassVar[tuple[str, ...]] = ()
    """The parameters in the variable's own unit: multiplied by a factor, they multiply every
    sample by it (the others, a cv, are shape)."""

    def scaled(self, factor: float) -> Distribution:
        """This distribution with every sample multiplied by ``factor`` (> 0): its mean times
        ``factor``, its shape (cv, the mode's place) kept.

        >>> Triangular(2.0, 4.0, 8.0).scaled(1.5)
        Triangular(low=3.0, mode=6.0, high=12.0)
        """
        return dataclasses.replace(self, **{name: getattr(self, name) * factor for name in self.scale_parameters})

    @classmethod
    def parameter_names(cls) -> tuple[str, ...]:
        """The kind's parameters, in the order its constructor takes them."""
        return tuple(f.name for f in dataclasses.fields(cls) if f.init)

    def check_numbers(self, key: str) -> None:
        """Raise ConfigError naming ``key.<parameter>`` unless every parameter is given and a
        finite number >= 0: past this, ``mean_value`` is a number."""
        for name in self.parameter_names():
            value = getattr(self, name)
            where = f"{key}.{name}"
            check(value is not None, where, value, f"required for dist={self.dist}")
            check(isinstance(value, (int, float)) and not isinstance(value, bool), where, value, "a number")
            check(math.isfinite(value), where, value, "a finite number")
            check_non_negative(where, value)

    def validate(self, key: str) -> None:
        """Raise ConfigError naming ``key.<parameter>`` unless every parameter is given, a
        number from 0 to ``LARGEST_PARAMETER`` and consistent with the others (so the mean,
        the variance and every quantile are finite numbers)."""
        self.check_numbers(key)
        self._check_consistent(key)
        for name in self.parameter_names():
            value = getattr(self, name)
            check(value <= LARGEST_PARAMETER, f"{key}.{name}", value, _LARGEST_PARAMETER_ALLOWED)

    def _check_consistent(self, key: str) -> None:
        """Checks between parameters, past each being given and >= 0 (none by default)."""

    @abstractmethod
    def quantile(self, u: np.ndarray) -> np.ndarray:
        """The ``u``-quantiles (same unit as the distribution), elementwise: ``u`` uniforms
        in [0, 1) become samples by inverse transform."""

    @property
    @abstractmethod
    def mean_value(self) -> float:
        """The mean, in the unit of the key holding the distribution."""

    @property
    @abstractmethod
    def variance_value(self) -> float:
        """The variance, in the squared unit of the key holding the distribution."""

    @property
    def is_zero(self) -> bool:
        """Whether every sample is 0 (a stage that takes no time)."""
        return self.mean_value == 0 and self.variance_value == 0


@dataclass(frozen=True)
class Fixed(Distribution):
    """Always ``value``."""

    scale_parameters: ClassVar[tuple[str, ...]] = ("value",)

    value: float
    dist: str = field(default="fixed", init=False, repr=False)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), float(self.value))

    @property
    def mean_value(self) -> float:
        return float(self.value)

    @property
    def variance_value(self) -> float:
        return 0.0


@dataclass(frozen=True)
class Exponential(Distribution):
    """Exponential with mean ``mean`` (> 0)."""

    scale_parameters: ClassVar[tuple[str, ...]] = ("mean",)

    mean: float
    dist: str = field(default="exponential", init=False, repr=False)

    def _check_consistent(self, key: str) -> None:
        check(self.mean > 0, f"{key}.mean", self.mean, "must be > 0")

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return -self.mean * np.log1p(-np.asarray(u, dtype=float))

    @property
    def mean_value(self) -> float:
        return float(self.mean)

    @property
    def variance_value(self) -> float:
        return self.mean**2


@dataclass(frozen=True)
class Uniform(Distribution):
    """Uniform on [``low``, ``high``]."""

    scale_parameters: ClassVar[tuple[str, ...]] = ("low", "high")

    low: float
    high: float
    dist: str = field(default="uniform", init=False, repr=False)

    def _check_consistent(self, key: str) -> None:
        check(self.low <= self.high, f"{key}.high", self.high, f"must be >= low ({self.low})")

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * np.asarray(u, dtype=float)

    @property
    def mean_value(self) -> float:
        return (self.low + self.high) / 2

    @property
    def variance_value(self) -> float:
        return (self.high - self.low) ** 2 / 12


@dataclass(frozen=True)
class Triangular(Distribution):
    """Triangular from ``low`` to ``high``, most likely at ``mode``."""

    scale_parameters: ClassVar[tuple[str, ...]] = ("low", "mode", "high")

    low: float
    mode: float
    high: float
    dist: str = field(default="triangular", init=False, repr=False)

    def _check_consistent(self, key: str) -> None:
        check(self.low <= self.high, f"{key}.high", self.high, f"must be >= low ({self.low})")
        check(self.low <= self.mode <= self.high, f"{key}.mode", self.mode,
              f"must lie in [low, high] = [{self.low}, {self.high}]")

    def quantile(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        low, mode, high = self.low, self.mode, self.high
        if high == low:
            return np.full(u.shape, float(low))
        mode_quantile = (mode - low) / (high - low)
        rising = low + np.sqrt(u * (high - low) * (mode - low))
        falling = high - np.sqrt((1 - u) * (high - low) * (high - mode))
        return np.where(u < mode_quantile, rising, falling)

    @property
    def mean_value(self) -> float:
        return (self.low + self.mode + self.high) / 3

    @property
    def variance_value(self) -> float:
        a, c, b = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18


@dataclass(frozen=True)
class _MeanAndCv(Distribution):
    """A kind set by its mean ``mean`` (> 0) and coefficient of variation ``cv`` (> 0)."""

    scale_parameters: ClassVar[tuple[str, ...]] = ("mean",)

    mean: float
    cv: float

    def _check_consistent(self, key: str) -> None:
        check(self.mean > 0, f"{key}.mean", self.mean, "must be > 0")
        check(self.cv > 0, f"{key}.cv", self.cv, "must be > 0")
        low, high = CV_RANGE
        check(low <= self.cv <= high, f"{key}.cv", self.cv,
              f"must lie in [{low:g}, {high:g}] (below: use dist: fixed; above: draws are 0 or astronomical)")

    @property
    def mean_value(self) -> float:
        return float(self.mean)

    @property
    def variance_value(self) -> float:
        return (self.cv * self.mean) ** 2


@dataclass(frozen=True)
class LogNormal(_MeanAndCv):
    """Log-normal with mean ``mean`` (> 0) and coefficient of variation ``cv`` (> 0)."""

    dist: str = field(default="lognormal", init=False, repr=False)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        log_variance = math.log1p(self.cv**2)
        log_mean = math.log(self.mean) - log_variance / 2
        from scipy import stats  # here, not at the top: scipy.stats takes a second to import

        return stats.lognorm.ppf(np.asarray(u, dtype=float), s=math.sqrt(log_variance), scale=math.exp(log_mean))


@dataclass(frozen=True)
class Gamma(_MeanAndCv):
    """Gamma with mean ``mean`` (> 0) and coefficient of variation ``cv`` (> 0)."""

    dist: str = field(default="gamma", init=False, repr=False)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        shape = 1 / self.cv**2
        from scipy import stats

        return stats.gamma.ppf(np.asarray(u, dtype=float), a=shape, scale=self.mean / shape)


@dataclass(frozen=True)
class Beta(Distribution):
    """Beta with shapes ``a`` and ``b`` (> 0), stretched from [0, 1] to [``low``, ``high``]: a
    share or probability that is uncertain (``low`` 0, ``high`` 1, the defaults), or a bounded
    effort whose most likely value is off centre. Its mean is ``low + (high - low) a / (a + b)``.

    >>> Beta(2.0, 6.0).mean_value
    0.25
    """

    scale_parameters: ClassVar[tuple[str, ...]] = ("low", "high")

    a: float
    b: float
    low: float = 0.0
    high: float = 1.0
    dist: str = field(default="beta", init=False, repr=False)

    def _check_consistent(self, key: str) -> None:
        check(self.a > 0, f"{key}.a", self.a, "must be > 0")
        check(self.b > 0, f"{key}.b", self.b, "must be > 0")
        check(self.low <= self.high, f"{key}.high", self.high, f"must be >= low ({self.low})")

    def quantile(self, u: np.ndarray) -> np.ndarray:
        from scipy import stats

        return self.low + (self.high - self.low) * stats.beta.ppf(np.asarray(u, dtype=float), self.a, self.b)

    @property
    def mean_value(self) -> float:
        return self.low + (self.high - self.low) * self.a / (self.a + self.b)

    @property
    def variance_value(self) -> float:
        a, b = self.a, self.b
        return (self.high - self.low) ** 2 * a * b / ((a + b) ** 2 * (a + b + 1))


DISTRIBUTIONS: dict[str, type[Distribution]] = {
    cls.dist: cls for cls in (Fixed, Exponential, Uniform, Triangular, LogNormal, Gamma, Beta)}
"""Each kind's class by the name ``dist`` gives it in the YAML."""

DIST_KINDS: tuple[str, ...] = tuple(DISTRIBUTIONS)

PARAMETER_NAMES: tuple[str, ...] = tuple(dict.fromkeys(
    name for cls in DISTRIBUTIONS.values() for name in cls.parameter_names()))
"""Every parameter some kind takes."""

Dist = Distribution
"""The short name: ``Dist("triangular", low=1, mode=2, high=4)``."""

_KIND_CHOICE = f"one of {', '.join(DIST_KINDS)}"


def distribution_class(kind: Any, key: str) -> type[Distribution]:
    """The class of the kind named ``kind``; ConfigError naming ``key.dist`` if there is none."""
    cls = DISTRIBUTIONS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ConfigError(f"{key}.dist" if key else "dist", kind, _KIND_CHOICE)
    return cls


def _build(dist: str = "fixed", **parameters: Any) -> Distribution:
    """``Distribution(kind, **parameters)``: the kind's instance; a parameter it does not take
    is an error here (the YAML loader drops those a replaced kind left behind)."""
    cls = distribution_class(dist, "")
    for name, value in parameters.items():
        check(name in cls.parameter_names(), name, value,
              f"not used by dist={dist} (it takes {', '.join(cls.parameter_names())})")
    return cls(**{name: parameters.get(name) for name in cls.parameter_names()})
