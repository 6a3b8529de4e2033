"""``fit_survival`` gives scipy's Kaplan-Meier estimate bit for bit (the summary's numbers
rest on it): the same times, survival levels and values between and at the steps, with
ties, with nothing censored and with everything censored; and the restricted means and shares
taken from it are the area under scipy's curve and its values."""

from __future__ import annotations

import numpy as np
import pytest

from sim.results.metrics import (
    fit_survival,
    kaplan_meier,
    km_restricted_mean,
    survival_restricted_mean,
    survival_share_past,
)


@pytest.mark.parametrize("seed", range(40))
def test_the_fit_is_scipys_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    durations = rng.exponential(30.0, n)
    if seed % 2:  # whole and half days: many ties
        durations = np.round(durations * 2) / 2
    arrested = rng.random(n) < rng.random()
    if seed % 5 == 0:
        arrested[:] = True
    if seed % 7 == 0:
        arrested[:] = False
    theirs, ours = kaplan_meier(durations, arrested), fit_survival(durations, arrested)
    np.testing.assert_array_equal(ours.quantiles, theirs.quantiles)
    np.testing.assert_array_equal(ours.probabilities, theirs.probabilities)
    at = np.concatenate([[-1.0, 0.0, 1.0, 7.0, 30.0, 548.0, 1e9], durations,
                         np.nextafter(durations, np.inf), np.nextafter(durations, -np.inf)])
    np.testing.assert_array_equal(ours.evaluate(at), np.asarray(theirs.evaluate(at)))


def test_no_cases_no_fit():
    assert fit_survival(np.array([]), np.array([], dtype=bool)) is None


def _scipy_area(sf, tau: float) -> float:
    """The area under scipy's survival function from 0 to tau, piece by piece: its value at
    the middle of each stretch between steps (exact for a step function)."""
    edges = np.unique(np.concatenate([[0.0, tau], sf.quantiles[(sf.quantiles > 0) & (sf.quantiles < tau)]]))
    middles = (edges[:-1] + edges[1:]) / 2
    return float(np.sum(np.diff(edges) * np.asarray(sf.evaluate(middles))))


@pytest.mark.parametrize("seed", range(40))
def test_restricted_means_and_shares_agree_with_scipys_ecdf(seed):
    """The summary's restricted mean and shares still waiting, from one ``fit_survival``,
    are scipy's: the area under ``scipy.stats.ecdf(...).sf`` and its value at each day."""
    rng = np.random.default_rng(1000 + seed)
    n = int(rng.integers(1, 300))
    durations = rng.exponential(rng.uniform(20.0, 400.0), n)
    if seed % 2:
        durations = np.round(durations)
    arrested = rng.random(n) < rng.random()
    if seed % 5 == 0:
        arrested[:] = True
    theirs, ours = kaplan_meier(durations, arrested), fit_survival(durations, arrested)
    taus = np.array([7.0, 30.0, 90.0, 180.0, 365.0, 548.0])
    observable = float(durations.max()) + 1.0
    means = survival_restricted_mean(ours, durations, taus, observable_days=observable)
    shares = survival_share_past(ours, durations, taus, observable_days=observable)
    for k, tau in enumerate(taus):
        if tau <= observable or np.asarray(theirs.evaluate(tau)) == 0:
            assert means[k] == pytest.approx(_scipy_area(theirs, tau), rel=1e-12, abs=1e-12)
            assert shares[k] == np.asarray(theirs.evaluate(tau))
        else:  # beyond what could be seen, someone still waiting: no value
            assert np.isnan(means[k]) and np.isnan(shares[k])
    # the same from scipy's own fit, and from the public one-call function
    np.testing.assert_array_equal(survival_restricted_mean(theirs, durations, taus, observable), means)
    np.testing.assert_array_equal([km_restricted_mean(durations, arrested, 548.0, observable)], means[-1:])
