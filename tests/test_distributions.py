"""Distributions: each kind's sampling against its own mean and variance, its quantiles, its
checks and their messages, and how the YAML form becomes a kind."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import stats

import sim
from sim.config.convert import allowed_keys, leaves, replace_path
from sim.core.distributions import (DISTRIBUTIONS, Beta, Distribution, Exponential, Fixed, Gamma, LogNormal, Triangular,
                                    Uniform)
from sim.errors import ConfigError

EXAMPLES = [
    Fixed(2.5),
    Exponential(3.0),
    Uniform(1.0, 5.0),
    Triangular(2.0, 4.0, 8.0),
    Triangular(1.0, 1.0, 3.0),  # the mode at an end
    Triangular(1.0, 3.0, 3.0),
    LogNormal(4.0, 0.5),
    Gamma(10.0, 0.8),
    Gamma(2.0, 2.0),  # shape below 1: a peak at 0
    Beta(2.0, 30.0),  # a probability near 6 %
    Beta(0.5, 0.5, 2.0, 6.0),  # U-shaped, stretched
]


def test_there_is_an_example_of_every_kind():
    assert {type(d) for d in EXAMPLES} == set(DISTRIBUTIONS.values())


@pytest.mark.parametrize("spec", EXAMPLES, ids=repr)
def test_sample_mean_and_variance_match_the_distributions_own(spec):
    n = 200_000
    x = spec.quantile(np.random.default_rng(11).random(n))
    mean, var = spec.mean_value, spec.variance_value
    if var == 0:
        assert np.all(x == mean)
        return
    # 99.9 % intervals for the sample mean and variance (the variance's from the sample
    # variance of the squared deviations).
    z = stats.norm.ppf(0.9995)
    assert abs(x.mean() - mean) < z * np.sqrt(var / n)
    squared = (x - x.mean()) ** 2
    assert abs(squared.mean() - var) < z * squared.std() / np.sqrt(n)


@pytest.mark.parametrize("spec", EXAMPLES, ids=repr)
def test_quantile_is_monotone_elementwise_and_keeps_the_shape(spec):
    u = np.linspace(0, 0.999, 1000)
    x = spec.quantile(u)
    assert x.shape == u.shape and np.all(np.diff(x) >= 0) and np.all(x >= 0)
    grid = u.reshape(10, 100)
    assert np.array_equal(spec.quantile(grid), x.reshape(10, 100))
    assert spec.quantile(np.empty(0)).shape == (0,)


@pytest.mark.parametrize("spec", EXAMPLES, ids=repr)
@pytest.mark.parametrize("factor", [0.4, 2.5])
def test_scaled_multiplies_every_sample_and_keeps_the_kind(spec, factor):
    u = np.linspace(0, 0.999, 101)
    scaled = spec.scaled(factor)
    assert type(scaled) is type(spec)
    assert np.allclose(scaled.quantile(u), factor * spec.quantile(u), rtol=1e-12, atol=0)
    assert scaled.mean_value == pytest.approx(factor * spec.mean_value)
    assert scaled.variance_value == pytest.approx(factor**2 * spec.variance_value)


@pytest.mark.parametrize("spec,reference", [
    (Exponential(3.0), stats.expon(scale=3.0)),
    (Uniform(1.0, 5.0), stats.uniform(loc=1.0, scale=4.0)),
    (Triangular(2.0, 3.0, 9.0), stats.triang(c=1 / 7, loc=2.0, scale=7.0)),
    (LogNormal(4.0, 0.5), stats.lognorm(s=np.sqrt(np.log1p(0.25)), scale=4.0 / np.sqrt(1.25))),
    (Gamma(10.0, 0.8), stats.gamma(a=1 / 0.64, scale=10.0 * 0.64)),
], ids=lambda x: type(x).__name__)
def test_quantile_is_the_inverse_cdf(spec, reference):
    u = np.linspace(0.001, 0.999, 99)
    assert spec.quantile(u) == pytest.approx(reference.ppf(u), rel=1e-9)
    assert spec.mean_value == pytest.approx(reference.mean()) and spec.variance_value == pytest.approx(reference.var())


def test_triangular_quantile_reaches_its_ends():
    x = Triangular(2.0, 3.0, 9.0).quantile(np.array([0.0, 1.0]))
    assert x[0] == 2.0 and x[1] == pytest.approx(9.0)
    assert np.all(Triangular(4.0, 4.0, 4.0).quantile(np.array([0.0, 0.3, 0.99])) == 4.0)


def test_is_zero_only_when_every_sample_is_zero():
    assert Fixed(0.0).is_zero and Uniform(0.0, 0.0).is_zero and Triangular(0.0, 0.0, 0.0).is_zero
    assert not Fixed(0.5).is_zero and not Uniform(0.0, 1.0).is_zero and not Exponential(1.0).is_zero


# ------------------------------------------------------------------ checks and their messages

BAD = [
    (Distribution("exponential"), "x.mean", "required for dist=exponential"),
    (Distribution("triangular", low=1.0, high=3.0), "x.mode", "required for dist=triangular"),
    (Fixed(-1.0), "x.value", "must be >= 0"),
    (Uniform(-1.0, 2.0), "x.low", "must be >= 0"),
    (Uniform(3.0, 2.0), "x.high", "must be >= low (3.0)"),
    (Triangular(1.0, 5.0, 3.0), "x.mode", "must lie in [low, high] = [1.0, 3.0]"),
    (Triangular(1.0, 2.0, 0.5), "x.high", "must be >= low (1.0)"),
    (Exponential(0.0), "x.mean", "must be > 0"),
    (LogNormal(0.0, 1.0), "x.mean", "must be > 0"),
    (LogNormal(1.0, 0.0), "x.cv", "must be > 0"),
    (Gamma(1.0, -0.5), "x.cv", "must be >= 0"),
    (Gamma(1.0, 0.0), "x.cv", "must be > 0"),
]


@pytest.mark.parametrize("spec,key,message", BAD, ids=lambda x: x if isinstance(x, str) else repr(x))
def test_validate_names_the_parameter_its_value_and_what_is_allowed(spec, key, message):
    with pytest.raises(ConfigError) as err:
        spec.validate("x")
    assert err.value.key == key and message in err.value.allowed
    assert err.value.value == getattr(spec, key.split(".")[1])


@pytest.mark.parametrize("spec", EXAMPLES, ids=repr)
def test_good_parameters_pass(spec):
    spec.validate("x")


def test_building_by_kind_name():
    assert Distribution("uniform", low=1.0, high=5.0) == Uniform(1.0, 5.0)
    assert Distribution(value=2.0) == Fixed(2.0)  # no kind: fixed, as in the YAML
    with pytest.raises(ConfigError, match="dist='weibull': one of fixed, exponential, uniform"):
        Distribution("weibull", mean=1.0)
    with pytest.raises(ConfigError, match=r"mean=2.0: not used by dist=fixed \(it takes value\)"):
        Distribution("fixed", value=1.0, mean=2.0)


def test_each_kind_records_its_name_in_the_config_dict():
    for kind, cls in DISTRIBUTIONS.items():
        spec = next(d for d in EXAMPLES if type(d) is cls)
        record = dataclasses.asdict(spec)
        assert record["dist"] == kind == spec.dist
        assert list(record) == ["dist", *cls.parameter_names()]
        assert Distribution(**record) == spec  # the record rebuilds it
        with pytest.raises(dataclasses.FrozenInstanceError):
            spec.dist = "fixed"  # type: ignore[misc]


# ------------------------------------------------------------------ the YAML form


def test_yaml_mapping_builds_the_kind_it_names():
    cfg = sim.load_config(["stages.planning.effort_hours={dist: lognormal, mean: 10, cv: 0.5}"])
    assert cfg.stages.planning.effort_hours == LogNormal(10.0, 0.5)
    assert type(cfg.stages.warrant.effort_hours) is Uniform


def test_a_replaced_kinds_parameters_are_dropped():
    # The merged mapping still carries the triangular's low, mode and high.
    cfg = sim.load_config(["stages.planning.effort_hours.dist=gamma", "stages.planning.effort_hours.mean=12",
                           "stages.planning.effort_hours.cv=0.3"])
    assert cfg.stages.planning.effort_hours == Gamma(12.0, 0.3)


@pytest.mark.parametrize("overrides,key,fragment", [
    (["stages.planning.effort_hours.dist=weibull"], "stages.planning.effort_hours.dist", "one of fixed, exponential"),
    (["stages.planning.effort_hours.dist=uniform", "stages.planning.effort_hours.high=1"],
     "stages.planning.effort_hours.high", "must be >= low (5.0)"),
    (["stages.planning.effort_hours.dist=lognormal"], "stages.planning.effort_hours.mean", "required for dist=lognormal"),
    (["stages.planning.effort_hours.low=-2"], "stages.planning.effort_hours.low", "must be >= 0"),
    (["stages.planning.effort_hours.low=abc"], "stages.planning.effort_hours.low", "a finite number"),
    (["+stages.planning.effort_hours.shape=2"], "stages.planning.effort_hours.shape", "unknown key; allowed here: dist, value"),
    (["stages.planning.effort_hours=3"], "stages.planning.effort_hours", "a mapping of keys"),
    (["collaboration.surge.handoff_days.high=0.5"], "collaboration.surge.handoff_days.high", "must be >= low (1.0)"),
])
def test_bad_distribution_input_names_the_key(overrides, key, fragment):
    with pytest.raises(ConfigError) as err:
        sim.load_config(overrides)
    assert err.value.key == key and fragment in str(err.value)


def test_a_distribution_is_one_parameter_whose_fields_can_be_replaced():
    cfg = sim.load_config()
    params = leaves(cfg)
    assert params["stages.planning.effort_hours"] == Triangular(5.0, 10.0, 20.0)
    assert not any(k.startswith("stages.planning.effort_hours.") for k in params)
    changed = replace_path(cfg, "stages.planning.effort_hours.mode", 12.0).validate()
    assert changed.stages.planning.effort_hours == Triangular(5.0, 12.0, 20.0)
    assert set(allowed_keys("stages.planning.effort_hours.mean")) == {"dist", "value", "mean", "cv", "low", "mode", "high",
                                                                      "a", "b"}
