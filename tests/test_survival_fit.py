"""``fit_survival`` gives scipy's Kaplan-Meier estimate bit for bit (the summary's numbers
rest on it): the same times, survival levels and values between and at the steps, with
ties, with nothing censored and with everything censored."""

from __future__ import annotations

import numpy as np
import pytest

from sim.results.metrics import fit_survival, kaplan_meier


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
