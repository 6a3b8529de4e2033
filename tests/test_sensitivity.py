"""Sensitivity analysis: regression indices recover known effects on synthetic sweep tables,
the tornado plot shows them in order, and the sensitivity preset varies real [E] keys."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from scipy.stats import qmc  # noqa: E402

from sim import plots  # noqa: E402
from sim.config.convert import leaves
from sim.config.schema import SimConfig  # noqa: E402
from sim.config.design import design_points  # noqa: E402
from sim.results.sensitivity import INDEX_COLUMNS, TAIL_METRICS, regression_indices  # noqa: E402

DOCS = Path(__file__).resolve().parent.parent / "docs"
KEY = ("m", "all", "all")
RESAMPLES = 400  # enough for a stable 95 % percentile interval, and quick


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _design(n: int, lows, highs, seed: int = 7, optimise: bool = False) -> np.ndarray:
    """A Latin hypercube of ``n`` points over the box [lows, highs] (the sweep's own sampler;
    ``optimise``: with its columns decorrelated, scipy's ``random-cd``)."""
    unit = qmc.LatinHypercube(d=len(lows), seed=seed, optimization="random-cd" if optimise else None).random(n)
    return qmc.scale(unit, lows, highs)


def _table(x: np.ndarray, names: list[str], metrics: dict[tuple, np.ndarray], force: str = "medium_force",
           missing_rows: dict[tuple, list[int]] | None = None) -> pd.DataFrame:
    """A sweep table in the shape of ``sweep.parquet``: one row per point x metric, the
    parameters as columns, plus a failed point (no parameters, no estimate)."""
    rows = []
    for i, xi in enumerate(x):
        for key, y in metrics.items():
            if i in (missing_rows or {}).get(key, []):
                continue
            rows.append({"point": f"p{i:04d}", "status": "ok", **dict(zip(names, xi)), "force": force,
                         "metric": key[0], "by": key[1], "grade": key[2], "estimate": y[i]})
    rows.append({"point": "failed", "status": "failed", **{n: np.nan for n in names}, "force": None,
                 "metric": None, "by": None, "grade": None, "estimate": np.nan})
    return pd.DataFrame(rows)


def _rows(ind: pd.DataFrame, kind: str, key=KEY) -> pd.DataFrame:
    sel = (ind["kind"] == kind) & (ind["metric"] == key[0]) & (ind["by"] == key[1]) & (ind["grade"] == key[2])
    return ind[sel].set_index("parameter")


# --------------------------------------------------------------------------- the indices


def test_src_recovers_known_standardised_coefficients_and_r2():
    # y = 3a - 0.5b + 0c + noise, with a ~ U(0, 1), b ~ U(10, 14), c ~ U(0, 100) irrelevant.
    n, noise_sd = 256, 0.05
    x = _design(n, [0, 10, 0], [1, 14, 100], optimise=True)
    rng = np.random.default_rng(3)
    slope = np.array([3.0, -0.5, 0.0])
    y = x @ slope + rng.normal(0, noise_sd, n)
    ind = regression_indices(_table(x, ["a", "b", "c"], {KEY: y}), ["a", "b", "c"], [KEY], resamples=RESAMPLES)
    assert list(ind.columns) == INDEX_COLUMNS
    # The SRC of a known slope is slope x sd(parameter) / sd(metric) over the design.
    true = dict(zip("abc", slope * x.std(axis=0, ddof=1) / y.std(ddof=1)))
    src = _rows(ind, "src")
    for p in "abc":
        assert src.loc[p, "coefficient"] == pytest.approx(true[p], abs=0.01)
    for p in "ab":  # the interval covers the truth and excludes 0
        assert src.loc[p, "ci_low"] < true[p] < src.loc[p, "ci_high"]
        assert not src.loc[p, "ci_low"] < 0 < src.loc[p, "ci_high"]
    r2 = src["r_squared"].iloc[0]
    assert r2 > 0.99 and (src["r_squared"] == r2).all()
    # R^2 = SRC' C SRC exactly (C: the parameters' correlations); with the design's columns
    # uncorrelated the squared SRCs alone decompose the explained variance.
    beta = src.loc[list("abc"), "coefficient"].to_numpy()
    assert beta @ np.corrcoef(x.T) @ beta == pytest.approx(r2, abs=1e-9)
    assert (beta ** 2).sum() == pytest.approx(r2, abs=0.02)
    # The irrelevant parameter: near 0, its interval covers 0.
    assert abs(src.loc["c", "coefficient"]) < 0.02
    assert src.loc["c", "ci_low"] < 0 < src.loc["c", "ci_high"]
    assert (src["n_points"] == n).all() and (src["n_dropped"] == 0).all() and (src["note"] == "").all()
    assert set(ind["force"]) == {"medium_force"}


def test_srrc_captures_a_monotone_non_linear_effect_better_than_src():
    n = 128
    x = _design(n, [0, 0], [1, 1])
    rng = np.random.default_rng(5)
    y = np.exp(8 * x[:, 0]) * rng.lognormal(0, 0.05, n)  # convex, monotone in a; b irrelevant
    ind = regression_indices(_table(x, ["a", "b"], {KEY: y}), ["a", "b"], [KEY], resamples=RESAMPLES)
    src, srrc = _rows(ind, "src"), _rows(ind, "srrc")
    assert srrc["r_squared"].iloc[0] > 0.95
    assert srrc["r_squared"].iloc[0] > src["r_squared"].iloc[0] + 0.15
    assert srrc.loc["a", "coefficient"] > 0.97
    assert srrc.loc["b", "ci_low"] < 0 < srrc.loc["b", "ci_high"]


def test_points_without_a_value_are_dropped_and_counted():
    n = 60
    x = _design(n, [0, 0], [1, 1])
    y = 2 * x[:, 0] + x[:, 1]
    y_nan = y.copy()
    y_nan[[1, 5, 9, 20]] = np.nan  # e.g. a quantile not reached in some replication
    other = ("other", "true_risk", "H")
    table = _table(x, ["a", "b"], {KEY: y_nan, other: y}, missing_rows={KEY: [30, 31]})
    ind = regression_indices(table, ["a", "b"], [KEY, other], resamples=50)
    got = _rows(ind, "src")
    assert (got["n_dropped"] == 6).all() and (got["n_points"] == n - 6).all()  # the failed point is not counted
    assert got["note"].str.contains("6 of 60 points without a value dropped").all()
    assert got["r_squared"].iloc[0] == pytest.approx(1.0)
    full = _rows(ind, "src", other)
    assert (full["n_dropped"] == 0).all() and (full["n_points"] == n).all()


def test_constant_parameter_or_metric_gives_no_coefficient_and_says_why():
    n = 40
    x = _design(n, [0, 0], [1, 1])
    x = np.c_[x, np.full(n, 5.0)]
    flat = ("flat", "all", "all")
    table = _table(x, ["a", "b", "k"], {KEY: x[:, 0] - x[:, 1], flat: np.full(n, 3.0)})
    ind = regression_indices(table, ["a", "b", "k"], [KEY, flat], resamples=50)
    src = _rows(ind, "src")
    assert np.isnan(src.loc["k", "coefficient"]) and "parameter constant" in src.loc["k", "note"]
    assert src.loc["a", "coefficient"] == pytest.approx(-src.loc["b", "coefficient"], abs=0.02)
    f = _rows(ind, "src", flat)
    assert f["coefficient"].isna().all() and f["r_squared"].isna().all()
    assert f.loc[["a", "b"], "note"].str.contains("metric constant").all()


def test_bootstrap_is_seeded_and_ignores_global_random_state():
    x = _design(50, [0, 0], [1, 1])
    y = x[:, 0] + np.random.default_rng(1).normal(0, 0.3, 50)
    table = _table(x, ["a", "b"], {KEY: y})
    np.random.seed(0)
    first = regression_indices(table, ["a", "b"], [KEY], resamples=100, seed=11)
    np.random.seed(99)
    again = regression_indices(table, ["a", "b"], [KEY], resamples=100, seed=11)
    pd.testing.assert_frame_equal(first, again)
    other = regression_indices(table, ["a", "b"], [KEY], resamples=100, seed=12)
    assert not np.allclose(first["ci_low"], other["ci_low"])
    assert np.allclose(first["coefficient"], other["coefficient"])  # the fit itself is not random


def test_region_total_rows_are_used_when_forces_are_listed():
    n = 40
    x = _design(n, [0, 0], [1, 1])
    region, force_a = _table(x, ["a", "b"], {KEY: x[:, 0]}, "region"), _table(x, ["a", "b"], {KEY: x[:, 1]}, "a")
    table = pd.concat([region, force_a[force_a["status"] == "ok"]], ignore_index=True)
    ind = regression_indices(table, ["a", "b"], [KEY], resamples=20)
    src = _rows(ind, "src")
    assert set(ind["force"]) == {"region"} and src.loc["a", "coefficient"] == pytest.approx(1.0)
    own = _rows(regression_indices(table, ["a", "b"], [KEY], force="a", resamples=20), "src")
    assert own.loc["b", "coefficient"] == pytest.approx(1.0)


def test_bad_arguments_are_rejected():
    x = _design(20, [0], [1])
    table = _table(x, ["a"], {KEY: x[:, 0]})
    with pytest.raises(ValueError, match="nope"):
        regression_indices(table, ["nope"], [KEY])
    with pytest.raises(ValueError, match="kinds"):
        regression_indices(table, ["a"], [KEY], kinds=["sobol"])


# --------------------------------------------------------------------------- the tornado plot


def test_tornado_plot_one_panel_per_metric_bars_sorted_by_size():
    n = 80
    x = _design(n, [0, 0, 0, 0], [1, 1, 1, 1])
    names = ["w", "x", "y", "z"]
    metrics = {("m1", "all", "all"): 0.2 * x[:, 0] - 1.0 * x[:, 1] + 0.5 * x[:, 2],
               ("m2", "true_risk", "H"): np.exp(3 * x[:, 3]) - x[:, 0],
               ("m3", "all", "all"): x[:, 2] + 0.05 * np.sin(40 * x[:, 1])}
    ind = regression_indices(_table(x, names, metrics), names, list(metrics), resamples=50)
    for kind in ("src", "srrc"):
        fig = plots.tornado_plot(ind, kind=kind)
        assert isinstance(fig, Figure)
        assert len(fig.axes) == len(metrics)
        for ax, key in zip(fig.axes, metrics):
            bars = [p for p in ax.patches if (p.get_gid() or "").startswith("bar_")]
            assert len(bars) == len(names)
            top_down = sorted(bars, key=lambda b: -b.get_y())
            widths = np.abs([b.get_width() for b in top_down])
            assert (np.diff(widths) <= 1e-12).all()
            expected = _rows(ind, kind, key)["coefficient"]
            for b in bars:
                assert b.get_width() == pytest.approx(expected[b.get_gid().removeprefix("bar_")])
            at = dict(zip(np.round(ax.get_yticks(), 6), (t.get_text() for t in ax.get_yticklabels())))
            for b in bars:  # each bar is labelled with its parameter
                assert at[round(b.get_y() + b.get_height() / 2, 6)] == b.get_gid().removeprefix("bar_")
            assert "R² = " in ax.get_title() and key[0] in ax.get_title()
    with pytest.raises(ValueError, match="kind"):
        plots.tornado_plot(ind, kind="sobol")


# --------------------------------------------------------------------------- the preset


@pytest.fixture(scope="module")
def preset():
    return design_points("sensitivity")


def _documented_row(key: str, text: str) -> str:
    """The row of docs/parameters.md for ``key``, or for the distribution it is a parameter
    of (``stages.planning.effort_hours.mode`` -> ``stages.planning.effort_hours``)."""
    for k in (key, key.rsplit(".", 1)[0]):
        rows = [line for line in text.splitlines() if line.startswith(f"| `{k}` |")]
        if rows:
            return rows[0]
    raise AssertionError(f"{key} has no row in docs/parameters.md")


def _get(cfg, key: str):
    for part in key.split("."):
        cfg = getattr(cfg, part)
    return cfg


def test_sensitivity_preset_composes_and_varies_estimates(preset):
    spec, points = preset
    assert spec.sample is not None and spec.sample.method == "lhs"
    assert len(points) == spec.sample.points == 64
    keys = [k for k, *_ in spec.sample.ranges]
    assert 8 <= len(keys) <= 12 and len(set(keys)) == len(keys)
    schema, text, default = set(leaves(SimConfig())), (DOCS / "parameters.md").read_text(), SimConfig()
    for key, lo, hi, _ in spec.sample.ranges:
        assert key in schema or key.rsplit(".", 1)[0] in schema, key
        assert "[E]" in _documented_row(key, text), key
        assert lo <= _get(default, key) <= hi, f"{key}: the default lies outside the range"
    for p in points:
        assert p.config.run.replications == 5
        assert set(p.params) == set(keys)
        for key, value in p.params.items():  # every sampled value reaches the configuration
            assert _get(p.config, key) == pytest.approx(value), key
    for key, lo, hi, whole in spec.sample.ranges:  # the design spans each range
        values = np.array([p.params[key] for p in points], dtype=float)
        assert values.min() >= lo and values.max() <= hi
        if whole:
            assert set(values) == set(range(int(lo), int(hi) + 1)), key
        else:
            assert values.max() - values.min() >= 0.9 * (hi - lo), key


def test_sensitivity_sweep_end_to_end(tmp_path, preset):
    """The preset, cut to one short replication a point, through the sweep runner: the
    indices table has a row per tail metric x kind x parameter."""
    from sim.running.sweep import run_sweep

    spec, _ = preset
    keys = [k for k, *_ in spec.sample.ranges]
    run_sweep("sensitivity", ["run.replications=1", "run.horizon_days=120"], out=tmp_path, progress=False)
    table = pd.read_parquet(tmp_path / "sweep.parquet")
    assert set(table["status"]) == {"ok"} and table["point"].nunique() == 64
    ind = regression_indices(table, keys, TAIL_METRICS, resamples=100)
    assert len(ind) == len(TAIL_METRICS) * 2 * len(keys)
    for key in TAIL_METRICS:
        for kind in ("src", "srrc"):
            assert sorted(_rows(ind, kind, key).index) == sorted(keys)
    assert set(ind["force"]) == {"medium_force"}
    assert (ind["n_points"] + ind["n_dropped"] == 64).all()
    # A run this short still separates high-risk waits: some parameter has a definite effect.
    h = _rows(ind, "srrc", ("share_past_target", "true_risk", "H"))
    assert np.isfinite(h["r_squared"]).all() and (h["ci_low"] * h["ci_high"] > 0).any()
