"""The figures: right number of panels, survival curves that behave like survival curves,
reference lines where they belong, and PNG files on disk."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

import sim  # noqa: E402
from sim import plots  # noqa: E402
from sim.domain import EIGHTEEN_MONTHS_DAYS, GRADES  # noqa: E402
from sim.results import Results  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def res() -> Results:
    cfg = sim.load_config(["run.replications=2", "run.horizon_days=365", "run.warmup_days=30",
                           "run.progress=false"])
    return sim.simulate(cfg)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _by_gid(ax, prefix: str) -> dict[str, Line2D]:
    return {ln.get_gid(): ln for ln in ax.get_lines() if (ln.get_gid() or "").startswith(prefix)}


def _assert_survival_lines(ax, expected: set[str]) -> None:
    curves = _by_gid(ax, "km_")
    assert set(curves) == expected
    for gid, ln in curves.items():
        x, y = np.asarray(ln.get_xdata(), float), np.asarray(ln.get_ydata(), float)
        assert y[0] == 1.0, f"{gid} starts at {y[0]}"
        assert np.all(np.diff(y) <= 1e-12), f"{gid} increases"
        assert np.all((y >= 0) & (y <= 1))
        assert np.all(np.diff(x) >= 0) and x[0] > 0  # time runs forward on a log axis
    eighteen = _by_gid(ax, "eighteen_months")
    assert len(eighteen) == 1
    assert np.allclose(eighteen["eighteen_months"].get_xdata(), EIGHTEEN_MONTHS_DAYS)
    assert plots.EIGHTEEN_MONTHS_LABEL in [t.get_text() for t in ax.texts]
    assert ax.get_xscale() == "log"
    assert ax.get_xlim()[1] > EIGHTEEN_MONTHS_DAYS  # the 18-month line is inside the frame
    assert "days" in ax.get_xlabel()


@pytest.mark.parametrize("by", ["true_risk", "assigned_grade"])
def test_survival_by_grade(res, by):
    fig = plots.survival_by_grade(res, by=by)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    _assert_survival_lines(ax, {f"km_{g}" for g in GRADES})
    targets = dict(zip(GRADES, res.config.targets_days.as_tuple()))
    lines = _by_gid(ax, "target_")
    for g in GRADES:
        assert np.allclose(lines[f"target_{g}"].get_xdata(), targets[g])
        assert lines[f"target_{g}"].get_color() == plots.GRADE_COLOURS[g]
        assert _by_gid(ax, f"km_{g}")[f"km_{g}"].get_color() == plots.GRADE_COLOURS[g]


def test_survival_curve_matches_kaplan_meier(res):
    """The drawn curve is the results layer's estimate, pooled over replications, warm-up out."""
    ax = plots.survival_by_grade(res, "true_risk").axes[0]
    ln = _by_gid(ax, "km_M")["km_M"]
    m = res.referrals[res.referrals["true_risk"] == "M"]
    sf = sim.results.kaplan_meier(m["followup_days"], ~m["censored"])
    x, y = np.asarray(ln.get_xdata(), float), np.asarray(ln.get_ydata(), float)
    inside = (x > x[0]) & (x < x[-1])
    assert np.allclose(y[inside], sf.evaluate(x[inside]))
    assert np.isclose(x[-1], m["followup_days"].max())  # flat to the longest follow-up


def test_survival_by_grade_draws_into_given_axes(res):
    fig, (a, b) = plt.subplots(1, 2)
    assert plots.survival_by_grade(res, "assigned_grade", ax=b) is fig
    assert not a.get_lines() and _by_gid(b, "km_")


def test_survival_by_grade_rejects_unknown_grouping(res):
    with pytest.raises(ValueError, match="by='outcome'"):
        plots.survival_by_grade(res, by="outcome")


def test_survival_with_a_grade_missing(res):
    cases = res.cases[res.cases["true_risk"] != "VH"]
    thin = Results(res.config, cases, res.timeseries, res.pools)
    _assert_survival_lines(plots.survival_by_grade(thin, "true_risk").axes[0], {"km_H", "km_M", "km_L"})


def test_survival_figure(res):
    fig = plots.survival_figure(res)
    assert len(fig.axes) == 3
    _assert_survival_lines(fig.axes[0], {f"km_{g}" for g in GRADES})
    _assert_survival_lines(fig.axes[1], {f"km_{g}" for g in GRADES})
    _assert_survival_lines(fig.axes[2], {"km_correct", "km_misgraded"})
    assert fig.axes[0].get_title() != fig.axes[1].get_title()


def test_wip_over_time(res):
    fig = plots.wip_over_time(res)
    assert len(fig.axes) == 2
    by_stage, by_grade = fig.axes
    stages = list(dict.fromkeys(res.timeseries.loc[res.timeseries["series"] == "wip", "name"].astype(str)))
    assert len([c for c in by_stage.collections if isinstance(c, PolyCollection)]) == len(stages)
    labels = by_stage.get_legend_handles_labels()[1]
    assert labels == [plots.STAGE_LABELS.get(s, s) for s in stages]
    assert by_grade.get_legend_handles_labels()[1]  # something is waiting for an investigator
    # The stack's top is the mean total of open referrals over replications.
    w = res.timeseries[res.timeseries["series"] == "wip"]
    total = w.groupby(["replication", "day"])["value"].sum().groupby("day").mean()
    assert by_stage.get_ylim()[1] >= total.max()
    assert by_stage.get_xlim() == (total.index.min(), total.index.max())


def test_where_the_time_goes(res):
    fig = plots.where_the_time_goes(res)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    s = res.summary()
    rows = s[s["metric"].str.startswith("mean_time_days_") & (s["by"] == "assigned_grade")]
    stages = rows["metric"].unique()
    bars = ax.patches
    assert len(bars) == len(GRADES) * len(stages)
    # Bars come stage by stage, grades VH..L within each; widths are the summary's estimates.
    for k, metric in enumerate(stages):
        est = rows[rows["metric"] == metric].set_index("grade")["estimate"].reindex(list(GRADES)).fillna(0)
        widths = [b.get_width() for b in bars[k * len(GRADES):(k + 1) * len(GRADES)]]
        assert np.allclose(widths, est.to_numpy())
    targets = dict(zip(GRADES, res.config.targets_days.as_tuple()))
    marks = _by_gid(ax, "target_")
    assert {g: marks[f"target_{g}"].get_xdata()[0] for g in GRADES} == targets


def test_save_all(res, tmp_path):
    before = set(plt.get_fignums())
    folder = tmp_path / "run" / "figures"
    paths = plots.save_all(res, folder)
    assert [p.name for p in paths] == ["survival.png", "wip.png", "where_the_time_goes.png"]
    for p in paths:
        assert p.parent == folder
        data = p.read_bytes()
        assert len(data) > 10_000 and data[:8] == PNG_SIGNATURE
    assert set(plt.get_fignums()) == before  # the figures were closed
