"""Sensitivity analysis: regression indices recover known effects on synthetic sweep tables,
Sobol' indices the Ishigami function's and Morris measures a linear function's (through the
same design, pairing and analysis as a sweep), the figures show them, the presets vary real
[E] keys, and a small sweep of the model gives the same indices with the same seed."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from scipy.stats import qmc  # noqa: E402

from sim import plots  # noqa: E402
from sim.config.convert import leaves
from sim.config.schema import SimConfig  # noqa: E402
from sim.config.design import design_points  # noqa: E402
from sim.config.design import read_spec, rows_of, sample_spec, sample_values, unit_sample  # noqa: E402
from sim.present.style import parameter_label  # noqa: E402
from sim.results.sensitivity import (  # noqa: E402
                                    INDEX_COLUMNS,
                                    METHOD_INDICES,
                                    TAIL_METRICS,
                                    morris_indices,
                                    regression_indices,
                                    sensitivity_indices,
                                    sobol_indices,
)

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
    sel = (ind["index"] == kind) & (ind["metric"] == key[0]) & (ind["by"] == key[1]) & (ind["grade"] == key[2])
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
    assert list(ind.columns) == INDEX_COLUMNS and set(ind["method"]) == {"regression"}
    # The SRC of a known slope is slope x sd(parameter) / sd(metric) over the design.
    true = dict(zip("abc", slope * x.std(axis=0, ddof=1) / y.std(ddof=1)))
    src = _rows(ind, "src")
    for p in "abc":
        assert src.loc[p, "value"] == pytest.approx(true[p], abs=0.01)
    for p in "ab":  # the interval covers the truth and excludes 0
        assert src.loc[p, "ci_low"] < true[p] < src.loc[p, "ci_high"]
        assert not src.loc[p, "ci_low"] < 0 < src.loc[p, "ci_high"]
    r2 = src["r_squared"].iloc[0]
    assert r2 > 0.99 and (src["r_squared"] == r2).all()
    # R^2 = SRC' C SRC exactly (C: the parameters' correlations); with the design's columns
    # uncorrelated the squared SRCs alone decompose the explained variance.
    beta = src.loc[list("abc"), "value"].to_numpy()
    assert beta @ np.corrcoef(x.T) @ beta == pytest.approx(r2, abs=1e-9)
    assert (beta ** 2).sum() == pytest.approx(r2, abs=0.02)
    # The irrelevant parameter: near 0, its interval covers 0.
    assert abs(src.loc["c", "value"]) < 0.02
    assert src.loc["c", "ci_low"] < 0 < src.loc["c", "ci_high"]
    assert (src["n_points"] == n).all() and (src["n_undefined"] == 0).all() and (src["note"] == "").all()
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
    assert srrc.loc["a", "value"] > 0.97
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
    assert (got["n_undefined"] == 6).all() and (got["n_points"] == n - 6).all()  # the failed point is not counted
    assert got["note"].str.contains("6 of 60 points without a value dropped").all()
    assert got["r_squared"].iloc[0] == pytest.approx(1.0)
    full = _rows(ind, "src", other)
    assert (full["n_undefined"] == 0).all() and (full["n_points"] == n).all()


def test_constant_parameter_or_metric_gives_no_coefficient_and_says_why():
    n = 40
    x = _design(n, [0, 0], [1, 1])
    x = np.c_[x, np.full(n, 5.0)]
    flat = ("flat", "all", "all")
    table = _table(x, ["a", "b", "k"], {KEY: x[:, 0] - x[:, 1], flat: np.full(n, 3.0)})
    ind = regression_indices(table, ["a", "b", "k"], [KEY, flat], resamples=50)
    src = _rows(ind, "src")
    assert np.isnan(src.loc["k", "value"]) and "parameter constant" in src.loc["k", "note"]
    assert src.loc["a", "value"] == pytest.approx(-src.loc["b", "value"], abs=0.02)
    f = _rows(ind, "src", flat)
    assert f["value"].isna().all() and f["r_squared"].isna().all()
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
    assert np.allclose(first["value"], other["value"])  # the fit itself is not random


def test_region_total_rows_are_used_when_forces_are_listed():
    n = 40
    x = _design(n, [0, 0], [1, 1])
    region, force_a = _table(x, ["a", "b"], {KEY: x[:, 0]}, "region"), _table(x, ["a", "b"], {KEY: x[:, 1]}, "a")
    table = pd.concat([region, force_a[force_a["status"] == "ok"]], ignore_index=True)
    ind = regression_indices(table, ["a", "b"], [KEY], resamples=20)
    src = _rows(ind, "src")
    assert set(ind["force"]) == {"region"} and src.loc["a", "value"] == pytest.approx(1.0)
    own = _rows(regression_indices(table, ["a", "b"], [KEY], force="a", resamples=20), "src")
    assert own.loc["b", "value"] == pytest.approx(1.0)


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
    names = ["staffing.investigators", "x", "stages.warrant.refusal_probability", "z"]
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
            expected = _rows(ind, kind, key)["value"]
            for b in bars:
                assert b.get_width() == pytest.approx(expected[b.get_gid().removeprefix("bar_")])
            at = dict(zip(np.round(ax.get_yticks(), 6), (t.get_text() for t in ax.get_yticklabels())))
            for b in bars:  # each bar is labelled with its parameter, in words
                name = b.get_gid().removeprefix("bar_")
                assert at[round(b.get_y() + b.get_height() / 2, 6)] == parameter_label(name)
            assert "R² = " in ax.get_title() and key[0] in ax.get_title()
    with pytest.raises(ValueError, match="kind"):
        plots.tornado_plot(ind, kind="sobol")
    with pytest.raises(ValueError, match="regression"):  # a table of another method's indices
        plots.tornado_plot(ind.assign(method="morris"))


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
    assert (ind["n_points"] + ind["n_undefined"] == 64).all()
    # A run this short still separates high-risk waits: some parameter has a definite effect.
    h = _rows(ind, "srrc", ("share_past_target", "true_risk", "H"))
    assert np.isfinite(h["r_squared"]).all() and (h["ci_low"] * h["ci_high"] > 0).any()


# --------------------------------------------------------------------------- Sobol' and Morris


def _design_table(spec, metrics: dict, shuffle: int | None = None, perturb: float = 0.0,
                  failed_rows: tuple[int, ...] = ()) -> pd.DataFrame:
    """A sweep table of the design ``spec`` as a sweep writes it: rows of the design that give
    the same values run as one point, each point's ``estimate`` of each metric is
    ``metrics[key](values)``; a failed point for each of ``failed_rows``; the table's rows
    shuffled with ``shuffle`` (so that only the values can pair a row with its point), the
    float values multiplied by ``1 + perturb`` (a round trip through a file)."""
    points: dict[tuple, dict] = {}
    for i, row in enumerate(sample_values(spec)):
        points.setdefault(tuple(row.values()), {"row": i, "values": row})
    records = []
    for n, point in enumerate(points.values()):
        values = {k: (v * (1 + perturb) if isinstance(v, float) else v) for k, v in point["values"].items()}
        failed = point["row"] in failed_rows
        for key, f in metrics.items():
            records.append({"point": f"p{n:05d}", "status": "failed" if failed else "ok", **values,
                            "force": None if failed else "medium_force", "metric": None if failed else key[0],
                            "by": None if failed else key[1], "grade": None if failed else key[2],
                            "estimate": np.nan if failed else f(point["values"])})
    table = pd.DataFrame(records)
    return table.sample(frac=1.0, random_state=shuffle).reset_index(drop=True) if shuffle is not None else table


ISHIGAMI_S1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
ISHIGAMI_ST = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}
"""The Ishigami function's indices (a = 7, b = 0.1; Ishigami & Homma 1990, as in SALib's tests)."""


def _ishigami(row: dict, a: float = 7.0, b: float = 0.1) -> float:
    return float(np.sin(row["x1"]) + a * np.sin(row["x2"]) ** 2 + b * row["x3"] ** 4 * np.sin(row["x1"]))


def test_sobol_indices_of_the_ishigami_function_match_the_analytic_ones():
    """The whole path: the design drawn from its block, run (here: the function), collected
    as a sweep table in another order and analysed, recovers the known indices."""
    ranges = {x: [-np.pi, np.pi] for x in ("x1", "x2", "x3")}
    spec = sample_spec({"method": "saltelli", "base_samples": 1024, "seed": 5, "ranges": ranges})
    assert spec.points == 1024 * (3 + 2) == len(unit_sample(spec))
    table = _design_table(spec, {KEY: _ishigami}, shuffle=3, perturb=1e-15)
    ind = sobol_indices(table, spec, [KEY], resamples=500)
    assert list(ind.columns) == INDEX_COLUMNS and set(ind["method"]) == {"sobol"}
    assert len(ind) == 2 * 3 and ind["r_squared"].isna().all()
    for index, truth in (("S1", ISHIGAMI_S1), ("ST", ISHIGAMI_ST)):
        got = _rows(ind, index)
        for p, true in truth.items():
            assert got.loc[p, "value"] == pytest.approx(true, abs=0.04), (index, p)
            assert got.loc[p, "ci_low"] < true < got.loc[p, "ci_high"], (index, p)
            assert got.loc[p, "ci_high"] - got.loc[p, "ci_low"] < 0.25
    assert (ind["n_points"] == spec.points).all() and (ind["n_undefined"] == 0).all() and (ind["note"] == "").all()
    pd.testing.assert_frame_equal(sensitivity_indices(table, spec, [KEY], resamples=500), ind)


def test_morris_effects_of_a_linear_function_are_its_slopes_times_the_ranges():
    """An elementary effect is the change over a step divided by the step's share of the
    range: for y = sum(c_i x_i), mu* = |c_i| (high - low), mu = c_i (high - low), sigma = 0."""
    ranges = {"a": [0.0, 1.0], "b": [10.0, 14.0], "c": [0.0, 100.0]}
    slope = {"a": 3.0, "b": -2.0, "c": 0.0}
    spec = sample_spec({"method": "morris", "trajectories": 20, "levels": 6, "seed": 2, "ranges": ranges})
    assert spec.points == 20 * (3 + 1)
    table = _design_table(spec, {KEY: lambda r: sum(slope[k] * r[k] for k in slope)}, shuffle=1)
    ind = morris_indices(table, spec, [KEY], resamples=100)
    assert list(ind.columns) == INDEX_COLUMNS and set(ind["index"]) == set(METHOD_INDICES["morris"])
    for p, (low, high) in ranges.items():
        assert _rows(ind, "mu_star").loc[p, "value"] == pytest.approx(abs(slope[p]) * (high - low), abs=1e-9)
        assert _rows(ind, "mu").loc[p, "value"] == pytest.approx(slope[p] * (high - low), abs=1e-9)
        assert _rows(ind, "sigma").loc[p, "value"] == pytest.approx(0.0, abs=1e-9)
    assert _rows(ind, "sigma")["ci_low"].isna().all() and _rows(ind, "mu_star")["ci_low"].notna().all()


def test_morris_ranks_a_strong_a_weak_and_an_idle_parameter_and_sees_an_interaction():
    """y = 10 a + a b + 0 c on the unit cube: a's effect is largest, b's depends on a (sigma
    > 0), c has none; a's sigma is positive too (its effect depends on b)."""
    spec = sample_spec({"method": "morris", "trajectories": 30, "seed": 9,
                        "ranges": {"a": [0.0, 1.0], "b": [0.0, 1.0], "c": [0.0, 1.0]}})
    table = _design_table(spec, {KEY: lambda r: 10 * r["a"] + r["a"] * r["b"]})
    ind = morris_indices(table, spec, [KEY], resamples=100)
    mu_star, sigma = _rows(ind, "mu_star")["value"], _rows(ind, "sigma")["value"]
    assert mu_star["c"] == 0 < mu_star["b"] < mu_star["a"]
    assert 10 <= mu_star["a"] <= 11 and 0 <= mu_star["b"] <= 1
    assert sigma["b"] > 0 and sigma["a"] > 0 and sigma["c"] == 0


def test_morris_steps_over_a_whole_number_range_are_uneven_as_documented():
    """Levels 0, 1/3, 2/3, 1 of [16, 24] are 16, 19, 22 and 24: a step of 2/3 moves 6 or 5,
    so the effect of y = n is 9 or 7.5, not the 8 of a continuous range."""
    spec = sample_spec({"method": "morris", "trajectories": 30, "seed": 4,
                        "ranges": {"n": [16, 24], "a": [0.0, 1.0]}})
    assert {row["n"] for row in sample_values(spec)} == {16, 19, 22, 24}
    ind = morris_indices(_design_table(spec, {KEY: lambda r: float(r["n"])}), spec, [KEY], resamples=50)
    effects = _rows(ind, "mu_star")["value"]
    assert 7.5 < effects["n"] < 9 and effects["a"] == 0
    assert _rows(ind, "sigma").loc["n", "value"] > 0


def test_rows_that_round_to_one_point_share_its_result():
    """A whole-number range with few values makes rows of a Saltelli design give the same
    configuration, run once: the indices are those of the table with a point per row."""
    spec = sample_spec({"method": "saltelli", "base_samples": 64, "seed": 2,
                        "ranges": {"n": [1, 3], "a": [0.0, 1.0], "b": [0.0, 1.0]}})
    rows = sample_values(spec)
    assert len({tuple(r.values()) for r in rows}) < len(rows)
    f = {KEY: lambda r: r["n"] ** 2 + 3 * r["a"] + r["a"] * r["b"]}
    shared = sobol_indices(_design_table(spec, f, shuffle=11), spec, [KEY], resamples=100)
    one_each = pd.DataFrame([{"point": f"r{i}", "status": "ok", **row, "force": "medium_force", "metric": KEY[0],
                              "by": KEY[1], "grade": KEY[2], "estimate": f[KEY](row)} for i, row in enumerate(rows)])  # a point per row, in order
    separate = sobol_indices(one_each, spec, [KEY], resamples=100)
    pd.testing.assert_frame_equal(shared.drop(columns="n_points"), separate.drop(columns="n_points"))
    assert (shared["n_points"] == len({tuple(r.values()) for r in rows})).all()


@pytest.mark.parametrize("method, analyse", [("saltelli", sobol_indices), ("morris", morris_indices)])
def test_a_metric_undefined_at_some_point_gets_missing_indices_and_a_note(method, analyse):
    size = {"base_samples": 16} if method == "saltelli" else {"trajectories": 6}
    spec = sample_spec({"method": method, "seed": 3, **size,
                        "ranges": {"a": [0.0, 1.0], "b": [0.0, 1.0], "c": [0.0, 1.0]}})
    quantile = ("q", "true_risk", "H")
    table = _design_table(spec, {KEY: lambda r: r["a"] + 2 * r["b"],
                                 quantile: lambda r: np.nan if r["c"] > 0.8 else r["c"]})
    distinct = {tuple(row.values()) for row in sample_values(spec)}  # Morris trajectories can meet
    undefined = sum(values[2] > 0.8 for values in distinct)
    assert undefined > 0
    ind = analyse(table, spec, [KEY, quantile], resamples=50)
    assert len(ind) == 2 * len(METHOD_INDICES[analyse.__name__.removesuffix("_indices")]) * 3
    bad = ind[ind["metric"] == "q"]
    assert bad["value"].isna().all() and bad["ci_low"].isna().all() and (bad["n_undefined"] == undefined).all()
    assert bad["note"].str.contains(f"undefined at {undefined} of {len(distinct)} design points").all()
    good = ind[(ind["metric"] == "m") & ind["index"].isin(["S1", "ST", "mu_star"])]
    assert good["value"].notna().all() and (good["note"] == "").all()
    # A failed point: no metric can be analysed, and the note says so.
    failed = analyse(_design_table(spec, {KEY: lambda r: r["a"]}, failed_rows=(5,)), spec, [KEY], resamples=50)
    assert failed["value"].isna().all()
    rows = [tuple(row.values()) for row in sample_values(spec)]
    lost = rows.count(rows[5])  # every row the failed point stood for
    assert failed["note"].str.contains(f"{lost} of {spec.points} design rows have no finished point").all()


def test_variance_indices_are_seeded_and_leave_numpys_global_generator_alone():
    spec = sample_spec({"method": "morris", "trajectories": 8, "seed": 6,
                        "ranges": {"a": [0.0, 1.0], "b": [0.0, 1.0]}})
    table = _design_table(spec, {KEY: lambda r: r["a"] ** 3 + r["a"] * r["b"]})
    np.random.seed(123)
    state = np.random.get_state()
    first = morris_indices(table, spec, [KEY], resamples=100, seed=3)
    again = morris_indices(table, spec, [KEY], resamples=100, seed=3)
    after = np.random.get_state()
    assert (state[1] == after[1]).all() and state[2] == after[2]
    pd.testing.assert_frame_equal(first, again)
    other = morris_indices(table, spec, [KEY], resamples=100, seed=4)
    assert np.allclose(first["value"], other["value"])  # the measures themselves are not random
    assert not np.allclose(_rows(first, "mu_star")["ci_low"], _rows(other, "mu_star")["ci_low"])
    assert (unit_sample(spec) == unit_sample(spec)).all()
    with pytest.raises(ValueError, match="seed"):
        morris_indices(table, spec, [KEY], seed=0)
    with pytest.raises(ValueError, match="saltelli"):
        sobol_indices(table, spec, [KEY])


def test_the_analysis_follows_the_design():
    lhs = sample_spec({"method": "lhs", "points": 40, "ranges": {"a": [0.0, 1.0], "b": [0.0, 1.0]}})
    rows = rows_of(lhs, unit_sample(lhs))
    table = pd.DataFrame([{"point": f"p{i}", "status": "ok", **row, "force": "f", "metric": "m", "by": "all",
                           "grade": "all", "estimate": row["a"] - row["b"]} for i, row in enumerate(rows)])
    ind = sensitivity_indices(table, lhs, [KEY], resamples=20)
    assert set(ind["method"]) == {"regression"} and set(ind["index"]) == {"src", "srrc"}


def _plot_table(method: str, metrics: dict, names: list[str], undefined: tuple = ()) -> pd.DataFrame:
    """A small sensitivity table of ``method`` (``saltelli`` or ``morris``) over ``names`` on
    the unit cube; the metrics in ``undefined`` have no value at one point."""
    size = {"base_samples": 64} if method == "saltelli" else {"trajectories": 12}
    spec = sample_spec({"method": method, "seed": 1, **size, "ranges": {n: [0.0, 1.0] for n in names}})
    functions = {key: (lambda r, f=f: np.nan if r[names[0]] > 0.9 else f(r)) if key in undefined else f
                 for key, f in metrics.items()}
    return sensitivity_indices(_design_table(spec, functions), spec, list(metrics), resamples=50)


def test_sobol_plot_bars_s1_and_st_largest_total_on_top_in_words():
    names = ["staffing.investigators", "demand.referrals_per_month", "c"]
    metrics = {("cases_past_18_months", "all", "all"): lambda r: 4 * r[names[0]] + r[names[1]] ** 2,
               ("share_past_target", "true_risk", "H"): lambda r: r[names[1]] * r["c"],
               ("time_to_arrest_p99_days", "all", "all"): lambda r: r["c"]}
    ind = _plot_table("saltelli", metrics, names, undefined=(("time_to_arrest_p99_days", "all", "all"),))
    fig = plots.sobol_plot(ind)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == len(metrics)
    for ax, key in zip(axes, metrics):
        rows = ind[(ind["metric"] == key[0]) & (ind["by"] == key[1])]
        st_bars = sorted((p for p in ax.patches if (p.get_gid() or "").startswith("ST_")), key=lambda b: -b.get_y())
        s1_bars = {p.get_gid().removeprefix("S1_"): p for p in ax.patches if (p.get_gid() or "").startswith("S1_")}
        assert len(st_bars) == len(s1_bars) == len(names)
        labels = dict(zip(np.round(ax.get_yticks(), 6), (t.get_text() for t in ax.get_yticklabels())))
        if rows["value"].isna().all():  # said, not drawn
            assert any("undefined at" in t.get_text() for t in ax.texts)
            continue
        widths = [b.get_width() for b in st_bars]
        assert widths == sorted(widths, reverse=True)
        for bar in st_bars:
            name = bar.get_gid().removeprefix("ST_")
            st = rows[(rows["index"] == "ST") & (rows["parameter"] == name)]["value"].iloc[0]
            s1 = rows[(rows["index"] == "S1") & (rows["parameter"] == name)]["value"].iloc[0]
            assert bar.get_width() == pytest.approx(st) and s1_bars[name].get_width() == pytest.approx(s1)
            # both bars of a parameter sit around its label
            middle = (bar.get_y() + s1_bars[name].get_y() + s1_bars[name].get_height()) / 2
            assert labels[round(middle, 6)] == parameter_label(name)
    assert "investigators (people)" in [t.get_text() for t in axes[0].get_yticklabels()]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any(text.startswith("S1") for text in legend) and any(text.startswith("ST") for text in legend)


def test_morris_plot_puts_each_parameter_at_its_mu_star_and_sigma_labelled_without_overlaps():
    names = ["staffing.investigators", "demand.referrals_per_month", "staffing.search_teams",
             "training.assessors_trained_share", "e", "f"]
    metrics = {("share_past_18_months", "all", "all"): lambda r: 0.2 * r[names[0]] + 0.05 * r[names[1]] * r[names[2]],
               ("cases_past_18_months", "all", "all"): lambda r: 30 * r[names[3]] ** 2 + r["e"],
               ("time_to_arrest_p99_days", "all", "all"): lambda r: r["f"]}
    ind = _plot_table("morris", metrics, names, undefined=(("time_to_arrest_p99_days", "all", "all"),))
    fig = plots.morris_plot(ind)
    renderer = fig.canvas.get_renderer()
    fig.canvas.draw()
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == len(metrics)
    share_factor = 100  # shares are shown in percentage points
    for ax, key, factor in zip(axes, metrics, (share_factor, 1, 1)):
        rows = ind[ind["metric"] == key[0]]
        if rows["value"].isna().all():
            assert any("undefined at" in t.get_text() for t in ax.texts)
            continue
        points = next(c for c in ax.collections if c.get_gid() == "parameters").get_offsets()
        mu_star = rows[rows["index"] == "mu_star"].set_index("parameter")["value"] * factor
        sigma = rows[rows["index"] == "sigma"].set_index("parameter")["value"] * factor
        assert sorted(map(tuple, np.round(points, 9))) == sorted(zip(np.round(mu_star[names], 9),
                                                                     np.round(sigma[names], 9)))
        labels = [t for t in ax.texts if (t.get_gid() or "").startswith("label_")]
        assert sorted(t.get_text() for t in labels) == sorted(parameter_label(n) for n in names)
        boxes = [Text.get_window_extent(t, renderer) for t in labels]  # the words, not the leader lines
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert not a.overlaps(b), "two labels overlap"
        assert "percentage points" in ax.get_xlabel() if factor == share_factor else "cases" in ax.get_xlabel()
    with pytest.raises(ValueError, match="morris"):
        plots.morris_plot(ind.assign(method="sobol"))


# --------------------------------------------------------------------------- the variance presets


@pytest.mark.parametrize("name, method, per_point", [("sensitivity_sobol", "saltelli", 64 * 14),
                                                     ("sensitivity_morris", "morris", 10 * 13)])
def test_variance_presets_vary_the_sensitivity_presets_parameters_over_its_ranges(name, method, per_point):
    spec, points = design_points(name)
    base = read_spec("sensitivity")
    assert spec.sample.method == method and spec.sample.points == per_point
    assert spec.sample.ranges == base.sample.ranges  # the same twelve [E] estimates, the same ranges
    # whole-number ranges make a few rows give one configuration, run once
    assert 0.9 * per_point <= len(points) <= per_point
    assert len({p.config.run.replications for p in points}) == 1 and len({p.config.run.horizon_days for p in points}) == 1


@pytest.fixture(scope="module")
def model_sweeps(tmp_path_factory):
    """The Morris and Sobol' presets cut to small designs of short runs, each run twice with
    the same seed and once with another: the folders, by (preset, run)."""
    from sim.cli.collect import write_sensitivity_outputs
    from sim.running.sweep import run_sweep

    root = tmp_path_factory.mktemp("variance_sweeps")
    # 560 days: long enough to follow referrals for 18 months, so the tail metrics have values
    short = ["run.replications=1", "run.horizon_days=560"]
    cuts = {"sensitivity_morris": ["sweep.sample.trajectories=2"], "sensitivity_sobol": ["sweep.sample.base_samples=2"]}
    folders = {}
    for name, cut in cuts.items():
        for run, seed in (("first", []), ("again", []), ("other_seed", ["run.seed=7"])):
            folder = root / name / run
            run_sweep(name, [*cut, *short, *seed], out=folder, progress=False)
            write_sensitivity_outputs(folder)
            folders[name, run] = folder
    return folders


@pytest.mark.slow  # six small sweeps of the model: about a minute and a half
@pytest.mark.parametrize("name, method, figure", [("sensitivity_morris", "morris", "morris.png"),
                                                  ("sensitivity_sobol", "sobol", "sobol.png")])
def test_a_variance_sweep_of_the_model_writes_indices_reproducible_with_its_seed(model_sweeps, name, method, figure):
    first, again, other = (pd.read_csv(model_sweeps[name, run] / "sensitivity.csv")
                           for run in ("first", "again", "other_seed"))
    assert list(first.columns) == INDEX_COLUMNS and set(first["method"]) == {method}
    assert len(first) == len(TAIL_METRICS) * len(METHOD_INDICES[method]) * 12
    assert (model_sweeps[name, "first"] / "figures" / figure).is_file()
    assert first["value"].notna().any()  # the file holds indices, not only empty rows
    pd.testing.assert_frame_equal(first, again)
    # design.json records the design used (the sample block with its command-line changes),
    # and sweep.parquet keeps its points in the design's order
    folder = model_sweeps[name, "first"]
    design = json.loads((folder / "design.json").read_text())
    spec = sample_spec(design["sample"])
    # Runs this short leave some tail metrics undefined or constant at some points: the open
    # cases at the end, defined and varying at every point, show the seed at work.
    backlog = [("backlog_at_end", "all", "all")]
    first_backlog, again_backlog, other_backlog = (
        sensitivity_indices(pd.read_parquet(model_sweeps[name, run] / "sweep.parquet"), spec, backlog, resamples=100)
        for run in ("first", "again", "other_seed"))
    assert first_backlog["value"].notna().all() and (first_backlog["note"] == "").all()
    pd.testing.assert_frame_equal(first_backlog, again_backlog)
    assert not np.allclose(first_backlog["value"], other_backlog["value"])
    assert spec.method == ("saltelli" if method == "sobol" else "morris") and spec.points in (2 * 14, 2 * 13)
    table = pd.read_parquet(folder / "sweep.parquet")
    assert list(pd.unique(table["point"])) == [p["point"] for p in design["points"]]
    assert design["sampled_parameters"] == spec.names
