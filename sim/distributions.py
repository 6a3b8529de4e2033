"""Distribution specs (``sim.config.Dist``) turned into samples by inverse transform.

Samples come from uniforms drawn beforehand, one per case, so a case keeps its draw when a
scenario changes a distribution's parameters (common random numbers), and a whole column of
cases is transformed at once.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from .config import Dist


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
