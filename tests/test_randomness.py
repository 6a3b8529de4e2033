"""Named streams and distribution samplers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.core.distributions import Dist
from sim.core.distributions import quantile, variance
from sim.core.rng import Streams, stream


def test_same_name_same_numbers_and_names_independent():
    a = stream(7, 3, "arrivals").random(5)
    assert np.array_equal(a, stream(7, 3, "arrivals").random(5))
    assert not np.array_equal(a, stream(7, 3, "true_risk").random(5))
    assert not np.array_equal(a, stream(7, 4, "arrivals").random(5))
    assert not np.array_equal(a, stream(8, 3, "arrivals").random(5))


def test_using_one_stream_leaves_others_unchanged():
    s1, s2 = Streams(1, 0), Streams(1, 0)
    s1.uniforms("extra", 1000)  # a draw elsewhere must not shift this stream
    assert np.array_equal(s1.uniforms("child", 10), s2.uniforms("child", 10))


SPECS = [
    Dist("fixed", value=2.5),
    Dist("exponential", mean=3.0),
    Dist("uniform", low=1.0, high=5.0),
    Dist("triangular", low=2.0, mode=4.0, high=8.0),
    Dist("triangular", low=1.0, mode=1.0, high=3.0),
    Dist("lognormal", mean=4.0, cv=0.5),
    Dist("gamma", mean=10.0, cv=0.8),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.dist)
def test_sample_moments_match_theory(spec):
    n = 200_000
    x = quantile(spec, np.random.default_rng(11).random(n))
    mean, var = spec.mean_value, variance(spec)
    if var == 0:
        assert np.all(x == mean)
        return
    # 99.9 % intervals for the sample mean and variance (variance via its own sample variance).
    z = stats.norm.ppf(0.9995)
    assert abs(x.mean() - mean) < z * np.sqrt(var / n)
    sq = (x - x.mean()) ** 2
    assert abs(sq.mean() - var) < z * sq.std() / np.sqrt(n)


def test_triangular_quantile_is_monotone_and_bounded():
    spec = Dist("triangular", low=2.0, mode=3.0, high=9.0)
    u = np.linspace(0, 1, 1001)
    x = quantile(spec, u)
    assert np.all(np.diff(x) >= 0) and x[0] == 2.0 and x[-1] == pytest.approx(9.0)
