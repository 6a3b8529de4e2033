"""Uncertain parameters of a two-level sweep: what each may plausibly be, and the outer samples.

A sweep file's ``sweep.uncertainty`` block declares a distribution for each parameter whose
value is an estimate (docs/parameters.md marks them [E]), in the form the model's durations
use (``sim.core.distributions``: ``{dist: beta, a: 2, b: 48}``, ``{dist: triangular, low: 2,
mode: 3, high: 4}``, ...), and how many outer samples to draw::

    sweep:
      uncertainty:
        samples: 32
        seed: 1
        parameters:
          stages.warrant.refusal_probability: {dist: beta, a: 2, b: 48}
          stages.warrant.slots_per_sitting_day: {dist: uniform, low: 2, high: 4}

``outer_samples`` draws them: a Latin hypercube of ``samples`` rows (scrambled with ``seed``),
each column through its parameter's quantile function, so each draw is spread evenly over
its distribution. A parameter the schema holds as a whole number is rounded to the nearest
one. Sample ``i`` also sets ``run.seed`` to ``seed + i``: the samples' simulations are
independent of one another (the variance split needs that), and every scenario of the
sweep's grid runs sample ``i`` with the same seed (common random numbers), so a scenario's
difference from another at each sample is paired. The inner replications are the run's own
(``run.replications``). ``sim.results.input_uncertainty`` analyses the result.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass
from typing import Any, Mapping

from ..core.distributions import Distribution, distribution_class
from ..errors import ConfigError
from .schema import SimConfig

SEED_KEY = "run.seed"
"""The key each outer sample sets besides its parameters."""
MAX_SAMPLES = 10_000
"""The most outer samples a sweep may draw: far past any use (each is a point of the sweep)."""


@dataclass(frozen=True)
class UncertainParameter:
    """One uncertain parameter: its dotted config key, its distribution, and whether the
    schema holds it as a whole number (a draw is then rounded)."""

    key: str
    distribution: Distribution
    whole: bool


@dataclass(frozen=True)
class UncertaintySpec:
    """``sweep.uncertainty``: ``samples`` outer draws of ``parameters``, scrambled with ``seed``."""

    samples: int
    seed: int
    parameters: tuple[UncertainParameter, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        """The parameters' keys, then ``run.seed``: the columns that name an outer sample."""
        return (*(p.key for p in self.parameters), SEED_KEY)


def schema_type(key: str) -> Any:
    """The type the schema gives dotted ``key`` (``int`` for ``staffing.investigators``);
    ConfigError naming the key if the schema has no such field."""
    cls: Any = SimConfig
    parts = key.split(".")
    for k, part in enumerate(parts):
        hints = typing.get_type_hints(cls) if dataclasses.is_dataclass(cls) else {}
        if part not in hints:
            allowed = ", ".join(sorted(hints)) or "none: it is not a section"
            raise ConfigError(f"sweep.uncertainty.parameters.{key}", None,
                              f"no such key in the config ({'.'.join(parts[:k]) or 'the top level'} has: {allowed})")
        cls = hints[part]
    return cls


def uncertainty_spec(block: Mapping[str, Any]) -> UncertaintySpec:
    """Parse and check a ``sweep.uncertainty`` block; ConfigError (key, value, what is allowed)
    on the first thing wrong."""
    where = "sweep.uncertainty"
    if not isinstance(block, Mapping):
        raise ConfigError(where, block, "a mapping with samples, seed and parameters")
    unknown = sorted(set(block) - {"samples", "seed", "parameters"})
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}", block[unknown[0]], "unknown key; allowed: samples, seed, parameters")
    samples = block.get("samples", 32)
    if isinstance(samples, bool) or not isinstance(samples, int) or not 2 <= samples <= MAX_SAMPLES:
        raise ConfigError(f"{where}.samples", samples, f"a whole number of outer samples from 2 to {MAX_SAMPLES:,}")
    seed = block.get("seed", 1)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"{where}.seed", seed, "a whole number >= 0")
    given = block.get("parameters") or {}
    if not isinstance(given, Mapping) or not given:
        raise ConfigError(f"{where}.parameters", given or None,
                          "at least one parameter: KEY: {dist: KIND, ...} (sim.core.distributions' kinds)")
    parameters = []
    for key, spec in given.items():
        key = str(key)
        at = f"{where}.parameters.{key}"
        if key == SEED_KEY:
            raise ConfigError(at, spec, "each outer sample sets run.seed itself (seed + its number)")
        kind = schema_type(key)
        if kind not in (int, float):
            raise ConfigError(at, spec, f"a number parameter; this key holds {getattr(kind, '__name__', kind)}")
        if not isinstance(spec, Mapping) or "dist" not in spec:
            raise ConfigError(at, spec, "a distribution: {dist: KIND, its parameters}")
        cls = distribution_class(spec["dist"], at)
        names = cls.parameter_names()
        for name in spec:
            if name != "dist" and name not in names:
                raise ConfigError(f"{at}.{name}", spec[name], f"not used by dist={spec['dist']} (it takes {', '.join(names)})")
        required = {f.name for f in dataclasses.fields(cls) if f.init and f.default is dataclasses.MISSING}
        # A required parameter left out is passed as None, for validate to name it.
        distribution = cls(**{name: spec.get(name) for name in names if name in spec or name in required})
        distribution.validate(at)
        parameters.append(UncertainParameter(key, distribution, kind is int))
    return UncertaintySpec(samples, seed, tuple(parameters))


def outer_samples(spec: UncertaintySpec) -> list[dict[str, Any]]:
    """The outer samples: ``spec.samples`` rows of parameter values (see the module's notes),
    each with its ``run.seed``; the same spec gives the same rows."""
    import numpy as np
    from scipy.stats import qmc

    unit = qmc.LatinHypercube(d=len(spec.parameters), seed=spec.seed).random(spec.samples)
    columns = []
    for parameter, u in zip(spec.parameters, unit.T):
        values = parameter.distribution.quantile(u)
        columns.append([int(math.floor(v + 0.5)) for v in values] if parameter.whole else
                       [float(v) for v in np.asarray(values, dtype=float)])
    return [{**{p.key: column[i] for p, column in zip(spec.parameters, columns)}, SEED_KEY: spec.seed + i}
            for i in range(spec.samples)]
