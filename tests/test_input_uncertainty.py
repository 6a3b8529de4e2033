"""The two-level design's variance split and the benefit under input uncertainty, on tables
built from a known random-effects model."""

import numpy as np
import pandas as pd
import pytest

from sim.results.input_uncertainty import (
    BENEFIT_COLUMNS,
    UNCERTAINTY_COLUMNS,
    benefit_under_uncertainty,
    input_uncertainty,
    variance_split,
)

METRIC = ("time_to_arrest_p50_days", "true_risk", "H")


def _table(rng, samples: int, replications, input_sd: float, simulation_sd: float, scenario="baseline",
           effect_of=lambda theta: 10.0 * theta, offset: float = 0.0, thetas=None) -> pd.DataFrame:
    """Replication values Y = 100 + f(theta_i) + offset + e_ij, theta_i ~ N(0, input_sd / 10)."""
    thetas = rng.normal(0.0, input_sd / 10.0, samples) if thetas is None else thetas
    rows = []
    for i, theta in enumerate(thetas):
        n = replications(i) if callable(replications) else replications
        for j, e in enumerate(rng.normal(0.0, simulation_sd, n)):
            rows.append({"scenario": scenario, "replication": j, "force": "medium_force", "region": "",
                         "metric": METRIC[0], "by": METRIC[1], "grade": METRIC[2],
                         "value": 100.0 + effect_of(theta) + offset + e, "theta": float(theta), "run.seed": 1 + i})
    return pd.DataFrame(rows)


def test_the_split_recovers_known_variance_components():
    rng = np.random.default_rng(5)
    table = _table(rng, samples=600, replications=5, input_sd=2.0, simulation_sd=3.0)
    row = input_uncertainty(table, ["theta", "run.seed"]).iloc[0]
    assert row["input_variance"] == pytest.approx(4.0, rel=0.15)
    assert row["simulation_variance"] == pytest.approx(9.0, rel=0.05)
    # A sample mean of 5 replications: 4 / (4 + 9 / 5) of its variance is the parameters'.
    assert row["input_share"] == pytest.approx(4.0 / (4.0 + 9.0 / 5), abs=0.05)
    assert row["estimate"] == pytest.approx(100.0, abs=0.3)
    assert row["ci_low"] < 100.0 < row["ci_high"]
    # The range of the sample means: +-1.96 sd of (input + simulation / n).
    assert row["range_high"] - row["range_low"] == pytest.approx(2 * 1.96 * np.sqrt(4.0 + 9.0 / 5), rel=0.1)
    assert list(input_uncertainty(table, ["theta"]).columns) == UNCERTAINTY_COLUMNS


def test_unequal_replications_and_no_input_effect():
    rng = np.random.default_rng(8)
    table = _table(rng, samples=400, replications=lambda i: 2 + i % 6, input_sd=0.0, simulation_sd=2.0)
    row = input_uncertainty(table, ["run.seed"]).iloc[0]
    assert row["simulation_variance"] == pytest.approx(4.0, rel=0.06)
    assert row["input_variance"] < 0.15
    assert row["input_share"] < 0.1
    assert row["replications"] == pytest.approx(np.mean([2 + i % 6 for i in range(400)]))


def test_the_split_by_hand():
    split = variance_split([np.array([1.0, 3.0, 2.0]), np.array([5.0, 7.0])])
    # MSW = (2 + 2) / 3; means 2 and 6, grand 3.6; MSB = 3 * 2.56 + 2 * 5.76 = 19.2; n0 = (5 - 13/5) = 2.4
    assert split.simulation_variance == pytest.approx(4 / 3)
    assert split.input_variance == pytest.approx((19.2 - 4 / 3) / 2.4)
    assert split.mean == pytest.approx(4.0)
    with pytest.raises(ValueError, match="two outer samples"):
        variance_split([np.array([1.0, 2.0])])
    with pytest.raises(ValueError, match="two replications"):
        variance_split([np.array([1.0]), np.array([2.0])])


def test_a_metric_undefined_in_a_whole_sample_has_no_estimate():
    rng = np.random.default_rng(1)
    table = _table(rng, samples=10, replications=3, input_sd=1.0, simulation_sd=1.0)
    table.loc[table["run.seed"] == 4, "value"] = np.nan
    row = input_uncertainty(table, ["theta"]).iloc[0]
    assert np.isnan(row["estimate"]) and row["note"] == "undefined in every replication of 1 of 10 samples"
    table.loc[(table["run.seed"] == 4) & (table["replication"] == 0), "value"] = 5.0
    assert np.isfinite(input_uncertainty(table, ["theta"]).iloc[0]["estimate"])


def test_a_benefit_survives_only_when_it_outweighs_the_uncertainty():
    rng = np.random.default_rng(3)
    thetas = rng.normal(0.0, 0.08, 200)
    base = _table(rng, 200, 4, 2.0, 1.0, thetas=thetas)
    # The scenario cuts the median by 4 days, more where theta is high: between about -2 and -6.
    fast = _table(rng, 200, 4, 2.0, 1.0, scenario="fast_warrants", offset=-4.0,
                  effect_of=lambda t: 10.0 * t - 10.0 * t, thetas=thetas)
    both = pd.concat([base, fast], ignore_index=True)
    row = benefit_under_uncertainty(both, ["theta", "run.seed"], "fast_warrants",
                                    parameter_words="court capacity").iloc[0]
    assert list(row.index) == BENEFIT_COLUMNS
    assert row["mean_difference"] == pytest.approx(-4.0, abs=0.3)
    assert row["range_low"] < -4.0 < row["range_high"] < 0
    assert row["share_better"] == 1.0 and row["survives"]
    assert "fast_warrants changes the median time to arrest of truly high-risk cases (medium_force) by" in row["sentence"]
    assert "court capacity" in row["sentence"]
    # A benefit of 0.5 days against a spread of +-4: the range crosses zero.
    small = _table(rng, 200, 4, 2.0, 1.0, scenario="fast_warrants", offset=-0.5, effect_of=lambda t: 0.0 * t,
                   thetas=thetas)
    row = benefit_under_uncertainty(pd.concat([base, small]), ["theta"], "fast_warrants").iloc[0]
    assert row["range_low"] < 0 < row["range_high"] and not row["survives"]
    assert 0.3 < row["share_better"] < 0.9


def test_a_scenario_not_in_the_table_is_named():
    table = _table(np.random.default_rng(0), 3, 2, 1.0, 1.0)
    with pytest.raises(KeyError, match="'fast' is not in the table"):
        benefit_under_uncertainty(table, ["theta"], "fast")
    with pytest.raises(KeyError, match="uncertain parameters"):
        input_uncertainty(table, ["stages.warrant.slots_per_sitting_day"])
