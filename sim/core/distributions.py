"""Distributions of durations and efforts: their specification, validation and sampling.

Samples come from uniforms drawn beforehand, one per case, so a case keeps its draw when a
scenario changes a distribution's parameters (common random numbers), and a whole column of
cases is transformed at once by inverse transform.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..errors import check, check_non_negative

DIST_KINDS: tuple[str, ...] = ("fixed", "exponential", "uniform", "triangular", "lognormal", "gamma")


@dataclass(frozen=True)
class Dist:
    """A distribution of a duration or effort; the unit is in the name of the key holding it.

    ``fixed``: value. ``exponential``: mean. ``uniform``: low, high. ``triangular``: low,
    mode, high. ``lognormal`` and ``gamma``: mean and cv (coefficient of variation).
    """

    dist: str = "fixed"
    value: float | None = None
    mean: float | None = None
    cv: float | None = None
    low: float | None = None
    mode: float | None = None
    high: float | None = None

    _NEEDS = {
        "fixed": ("value",),
        "exponential": ("mean",),
        "uniform": ("low", "high"),
        "triangular": ("low", "mode", "high"),
        "lognormal": ("mean", "cv"),
        "gamma": ("mean", "cv"),
    }

    def validate(self, key: str) -> None:
        check(self.dist in DIST_KINDS, f"{key}.dist", self.dist, f"one of {', '.join(DIST_KINDS)}")
        needs = self._NEEDS[self.dist]
        for name in ("value", "mean", "cv", "low", "mode", "high"):
            v = getattr(self, name)
            if name in needs:
                check(v is not None, f"{key}.{name}", v, f"required for dist={self.dist}")
                check_non_negative(f"{key}.{name}", v)
            else:
                check(v is None, f"{key}.{name}", v, f"not used by dist={self.dist} (it takes {', '.join(needs)})")
        if self.dist in ("uniform", "triangular"):
            check(self.low <= self.high, f"{key}.high", self.high, f"must be >= low ({self.low})")
        if self.dist == "triangular":
            check(self.low <= self.mode <= self.high, f"{key}.mode", self.mode, f"must lie in [low, high] = [{self.low}, {self.high}]")
        if self.dist in ("exponential", "lognormal", "gamma"):
            check(self.mean > 0, f"{key}.mean", self.mean, "must be > 0")
        if self.dist in ("lognormal", "gamma"):
            check(self.cv > 0, f"{key}.cv", self.cv, "must be > 0")

    def without_unused(self) -> "Dist":
        """A copy with the parameters its kind does not take cleared. YAML and overrides
        merge key by key, so a distribution that replaces another (a triangular by an
        exponential, say) arrives carrying the old one's parameters."""
        needs = self._NEEDS.get(self.dist)
        if needs is None:
            return self
        return dataclasses.replace(self, **{k: None for k in ("value", "mean", "cv", "low", "mode", "high") if k not in needs})

    @property
    def mean_value(self) -> float:
        """The distribution's mean, in the unit of the key holding it."""
        if self.dist == "fixed":
            return float(self.value)
        if self.dist == "uniform":
            return (self.low + self.high) / 2
        if self.dist == "triangular":
            return (self.low + self.mode + self.high) / 3
        return float(self.mean)

    @property
    def is_zero(self) -> bool:
        return self.dist == "fixed" and self.value == 0


def fixed(value: float) -> Dist:
    return Dist("fixed", value=value)


def tri(low: float, mode: float, high: float) -> Dist:
    return Dist("triangular", low=low, mode=mode, high=high)



def quantile(spec: Dist, u: np.ndarray) -> np.ndarray:
    """The ``u``-quantiles of ``spec`` (same unit as the spec), elementwise."""
    u = np.asarray(u, dtype=float)
    kind = spec.dist
    if kind == "fixed":
        return np.full(u.shape, float(spec.value))
    if kind == "exponential":
        return -spec.mean * np.log1p(-u)
    if kind == "uniform":
        return spec.low + (spec.high - spec.low) * u
    if kind == "triangular":
        a, c, b = spec.low, spec.mode, spec.high
        if b == a:
            return np.full(u.shape, float(a))
        fc = (c - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1 - u) * (b - a) * (b - c))
        return np.where(u < fc, left, right)
    if kind == "lognormal":
        sigma2 = math.log1p(spec.cv**2)
        mu = math.log(spec.mean) - sigma2 / 2
        return stats.lognorm.ppf(u, s=math.sqrt(sigma2), scale=math.exp(mu))
    if kind == "gamma":
        shape = 1 / spec.cv**2
        return stats.gamma.ppf(u, a=shape, scale=spec.mean / shape)
    raise ValueError(f"unknown dist {kind!r}")


def variance(spec: Dist) -> float:
    """The distribution's variance (squared unit of the spec)."""
    kind = spec.dist
    if kind == "fixed":
        return 0.0
    if kind == "exponential":
        return spec.mean**2
    if kind == "uniform":
        return (spec.high - spec.low) ** 2 / 12
    if kind == "triangular":
        a, c, b = spec.low, spec.mode, spec.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18
    return (spec.cv * spec.mean) ** 2
