"""Warm-up: Welch's moving average and MSER-5 on synthetic series with a known transient,
the tidy frames built from a time series, the plot, and a real run started empty."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import sim  # noqa: E402
from sim import plots  # noqa: E402
from sim.results.warmup import (MSER_COLUMNS, WELCH_COLUMNS, mser, replication_average, suggest_warmup,  # noqa: E402
                                trend_r_squared, welch, welch_moving_average)

SEEDS = range(20)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _transient(n: int, end: int, height: float, seed: int, noise: float = 1.0) -> np.ndarray:
    """A bias falling linearly from ``height`` to 0 over the first ``end`` samples, then a
    flat steady state at 0, plus white noise."""
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    return np.where(t < end, height * (1 - t / end), 0.0) + rng.normal(0.0, noise, n)


def _timeseries(values: np.ndarray, interval: float = 1.0) -> pd.DataFrame:
    """A frame shaped like ``Results.timeseries``: replications x days x (stage, grade), the
    wip rows of replication r holding ``values[r]`` split over two stages and two grades,
    plus busy rows that must be ignored."""
    rows = []
    reps, m = values.shape
    for r in range(reps):
        for i in range(m):
            day = i * interval
            for stage, share in (("research", 0.25), ("planning", 0.75)):
                for grade, g_share in (("H", 0.5), ("L", 0.5)):
                    rows.append((r, day, "wip", stage, grade, values[r, i] * share * g_share, "north"))
            rows.append((r, day, "busy", "investigators", "all", 1000.0, "north"))
    return pd.DataFrame(rows, columns=["replication", "day", "series", "name", "grade", "value", "force"])


# --------------------------------------------------------------------------- Welch's moving average


def test_moving_average_of_a_constant_is_that_constant_where_defined():
    y = np.full(50, 3.25)
    for w in (0, 1, 5, 12):
        ma = welch_moving_average(y, w)
        assert np.allclose(ma[: 50 - w], 3.25)
        assert np.isnan(ma[50 - w:]).all() and np.isnan(ma).sum() == w


def test_window_shrinks_at_the_start_and_is_undefined_at_the_end():
    y = np.array([4.0, 0.0, 2.0, 10.0, 1.0, 7.0, 3.0, 5.0, 6.0, 8.0])
    ma = welch_moving_average(y, 2)
    assert ma[0] == y[0]                          # the first point is itself
    assert ma[1] == pytest.approx(y[:3].mean())   # one either side
    for i in range(2, 8):                         # full window: two either side
        assert ma[i] == pytest.approx(y[i - 2:i + 3].mean())
    assert np.isnan(ma[8:]).all()                 # the last w points have no full window


def test_symmetric_windows_reproduce_a_straight_line_and_zero_window_is_identity():
    y = 2.0 + 0.5 * np.arange(40)
    ma = welch_moving_average(y, 6)
    assert np.allclose(ma[:34], y[:34])
    rng = np.random.default_rng(0)
    z = rng.normal(size=30)
    assert np.array_equal(welch_moving_average(z, 0), z)


def test_moving_average_smooths_noise():
    y = np.random.default_rng(1).normal(10.0, 1.0, 2000)
    ma = welch_moving_average(y, 25)
    assert np.nanstd(ma[25:]) < 0.25 * y.std()  # about 1/sqrt(51) of the noise


def test_moving_average_rejects_bad_windows():
    with pytest.raises(ValueError, match="samples"):
        welch_moving_average(np.arange(10.0), 5)  # needs 11 samples
    with pytest.raises(ValueError, match="whole number"):
        welch_moving_average(np.arange(10.0), -1)


# --------------------------------------------------------------------------- MSER-5


def test_mser_statistic_matches_its_definition():
    y = _transient(400, 60, 5.0, seed=3)
    res = mser(y, batch_size=5)
    z = y.reshape(80, 5).mean(axis=1)
    brute = [((z[d:] - z[d:].mean()) ** 2).sum() / (80 - d) ** 2 for d in range(41)]
    assert res.max_batches == 40
    assert np.allclose(res.statistic, brute)
    assert np.allclose(res.kept_mean, [z[d:].mean() for d in range(41)])
    assert res.batches == int(np.argmin(brute)) and res.truncation == 5 * res.batches


@pytest.mark.parametrize("seed", SEEDS)
def test_mser5_finds_the_end_of_a_known_transient(seed):
    y = _transient(2000, 200, 10.0, seed)
    res = mser(y)
    assert 150 <= res.truncation <= 260
    assert not res.at_limit


def test_mser5_finds_an_exponential_transient():
    t = np.arange(3000)
    found = []
    for seed in SEEDS:
        y = 20.0 * np.exp(-t / 50.0) + np.random.default_rng(seed).normal(0.0, 1.0, t.size)
        found.append(mser(y).truncation)
    # The bias falls below the noise's standard deviation at about 50 ln 20 = 150 samples.
    assert 100 <= np.median(found) <= 250
    assert max(found) < 400


def test_mser5_truncates_almost_nothing_from_a_stationary_series():
    found = [mser(np.random.default_rng(seed).normal(5.0, 1.0, 2000)).truncation for seed in SEEDS]
    assert np.median(found) == 0
    assert max(found) <= 0.05 * 2000


def test_mser5_flags_a_trend_as_having_no_steady_state():
    t = np.arange(2000)
    for seed in SEEDS:
        y = 0.01 * t + np.random.default_rng(seed).normal(0.0, 0.5, t.size)
        res = mser(y)
        assert res.at_limit and res.batches == res.max_batches == 200


def test_mser_rejects_bad_input():
    with pytest.raises(ValueError, match="batches"):
        mser(np.arange(15.0))
    with pytest.raises(ValueError, match="NaN"):
        mser(np.r_[np.arange(40.0), np.nan])
    with pytest.raises(ValueError, match="batch_size"):
        mser(np.arange(40.0), batch_size=0)


# --------------------------------------------------------------------------- frames


def test_replication_average_sums_the_selection_and_averages_replications():
    values = np.array([[0.0, 4.0, 8.0, 8.0], [2.0, 6.0, 10.0, 12.0]])
    ts = _timeseries(values)
    ave = replication_average(ts)
    assert list(ave.columns) == ["quantity", "day", "replication_mean", "replications"]
    assert np.allclose(ave["replication_mean"], values.mean(axis=0))  # busy rows left out
    assert (ave["replications"] == 2).all() and list(ave["day"]) == [0.0, 1.0, 2.0, 3.0]
    one = replication_average(ts, name="planning", grade=["H"])
    assert np.allclose(one["replication_mean"], values.mean(axis=0) * 0.75 * 0.5)
    assert "planning" in one["quantity"].iloc[0] and "H" in one["quantity"].iloc[0]
    busy = replication_average(ts, series="busy", name="investigators", force="north")
    assert np.allclose(busy["replication_mean"], 1000.0)
    with pytest.raises(ValueError, match="no rows"):
        replication_average(ts, name="allocation")


def test_welch_frame_is_tidy_with_windows_in_days():
    rng = np.random.default_rng(5)
    values = np.vstack([_transient(120, 20, 6.0, seed=s) + 10 for s in range(3)]) + rng.normal(0, 0.1, (3, 120))
    ts = _timeseries(values, interval=2.0)  # sampled every 2 days: a 10-day window is 5 samples
    frame = welch(ts, windows_days=(0, 10.0))
    assert list(frame.columns) == WELCH_COLUMNS
    assert len(frame) == 2 * 120 and set(frame["window_days"]) == {0.0, 10.0}
    w10 = frame[frame["window_days"] == 10.0]
    assert w10["moving_average"].isna().sum() == 5
    assert np.allclose(w10["moving_average"].iloc[:115],
                       welch_moving_average(values.mean(axis=0), 5)[:115])
    w0 = frame[frame["window_days"] == 0.0]
    assert np.allclose(w0["moving_average"], w0["replication_mean"])
    # A replication average can be passed instead of the time series.
    again = welch(replication_average(ts), windows_days=10.0)
    assert np.allclose(again["moving_average"].iloc[:115], w10["moving_average"].iloc[:115])


def test_suggest_warmup_reads_days_from_a_welch_frame():
    reps = np.vstack([_transient(1000, 100, 8.0, seed=s, noise=2.0) for s in range(5)]) + 40
    frame = welch(_timeseries(reps, interval=0.5), windows_days=(5, 20))
    s = suggest_warmup(frame)  # the windows' repeated rows are read once
    assert not s.at_limit and s.note == ""
    m = mser(reps.mean(axis=0))  # the suggestion is MSER-5 of the replication average
    assert s.truncated_samples == m.truncation and np.allclose(s.table["mser"], m.statistic)
    assert s.warmup_days == pytest.approx(0.5 * s.truncated_samples)
    assert 35.0 <= s.warmup_days <= 65.0  # the transient ends at sample 100: day 50
    assert list(s.table.columns) == MSER_COLUMNS
    assert len(s.table) == 101
    assert "referrals open" in s.quantity


def test_suggest_warmup_refuses_a_growing_series():
    t = np.arange(600.0)
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"quantity": "x", "day": t, "replication_mean": 100 + 0.2 * t + rng.normal(0, 2, t.size),
                          "replications": 3})
    s = suggest_warmup(frame)
    assert s.at_limit and np.isnan(s.warmup_days) and "not stationary" in s.note


def test_suggest_warmup_refuses_a_series_growing_ever_faster():
    """A queue under growing demand: MSER alone keeps everything (the spread is largest at the
    end, so deleting early data never helps), the trend check catches it."""
    t = np.arange(1460.0)
    rng = np.random.default_rng(8)
    values = 110 + 0.0002 * t ** 2 + rng.normal(0, 4, t.size)
    frame = pd.DataFrame({"day": t, "replication_mean": values})
    assert mser(values).truncation == 0
    s = suggest_warmup(frame)
    assert s.trending and not s.at_limit and s.trend_r_squared > 0.8
    assert np.isnan(s.warmup_days) and "still trends" in s.note


def test_trend_r_squared():
    assert trend_r_squared(3.0 + 2.0 * np.arange(20)) == pytest.approx(1.0)
    assert trend_r_squared(np.full(20, 7.0)) == 0.0
    assert trend_r_squared(np.r_[np.arange(10.0), np.arange(10.0)[::-1]]) < 0.01  # up then down: no line


@pytest.mark.parametrize("seed", SEEDS)
def test_a_wandering_stationary_series_is_not_called_trending(seed):
    """Autocorrelated noise (AR(1), phi = 0.9) after a transient: MSER cuts near the
    transient's end and the slow wandering kept is not mistaken for a trend."""
    rng = np.random.default_rng(seed)
    e = rng.normal(0.0, 1.0, 2000)
    ar = np.zeros(2000)
    for i in range(1, 2000):
        ar[i] = 0.9 * ar[i - 1] + e[i]
    t = np.arange(2000)
    y = 40 + np.where(t < 150, -30 * (1 - t / 150), 0.0) + ar
    s = suggest_warmup(pd.DataFrame({"day": t.astype(float), "replication_mean": y}))
    assert not s.trending and not s.at_limit and s.trend_r_squared < 0.3
    assert 100 <= s.warmup_days <= 250


def test_suggest_warmup_of_a_stationary_series_is_zero():
    t = np.arange(1000.0)
    frame = pd.DataFrame({"day": t, "replication_mean": np.random.default_rng(4).normal(30, 3, t.size)})
    assert suggest_warmup(frame).warmup_days == 0.0


# --------------------------------------------------------------------------- plot


def test_warmup_plot_draws_a_panel_per_window_and_the_warmup():
    reps = np.vstack([_transient(300, 40, 8.0, seed=s) + 20 for s in range(2)])
    frame = welch(_timeseries(reps), windows_days=(3, 15, 30))
    fig = plots.warmup_plot(frame, 40.0)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    for ax, w in zip(fig.axes, (3, 15, 30)):
        gids = {line.get_gid() for line in ax.get_lines()}
        assert {"mean", f"moving_average_{w}", "warmup"} <= gids
        ma = next(line for line in ax.get_lines() if line.get_gid() == f"moving_average_{w}")
        assert np.isnan(ma.get_ydata()).sum() == w
    bare = plots.warmup_plot(frame, float("nan"))  # no suggestion: nothing marked
    assert not any(line.get_gid() == "warmup" for ax in bare.axes for line in ax.get_lines())


# --------------------------------------------------------------------------- the model


def test_an_empty_stationary_force_has_a_short_warmup():
    """Started empty with constant demand, the force fills up in weeks: the average open
    referrals start at 0, MSER-5 cuts a few weeks, and the level kept is above the start."""
    cfg = sim.load_config(["run.replications=3", "run.horizon_days=400", "run.progress=false",
                           "demand.growth_per_year=0", "staffing=well_staffed",
                           "demand.initial_backlog.counts={VH:0,H:0,M:0,L:0}"])
    res = sim.simulate(cfg)
    frame = welch(res.timeseries, windows_days=7)
    assert frame["replication_mean"].iloc[0] == 0.0
    s = suggest_warmup(frame)
    assert not s.at_limit and 10.0 <= s.warmup_days <= 120.0
    first_week = frame["replication_mean"].iloc[:7].mean()
    kept = frame.loc[frame["day"] >= s.warmup_days, "replication_mean"].mean()
    assert kept > 2 * first_week
