"""The figures: right number of panels, survival curves that behave like survival curves,
reference lines where they belong, legends off the data, one colour per scenario, a title
on every figure, sizes fit for a page, and PNG files on disk."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib import cbook  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

import sim  # noqa: E402
from sim import plots  # noqa: E402
from sim.domain import DAYS_PER_MONTH, EIGHTEEN_MONTHS_DAYS, GRADES  # noqa: E402
from sim.results import Results  # noqa: E402
from sim.results.catalogue import HEADLINE, REPLICATION_KEYS, TAIL_METRICS, metric  # noqa: E402
from sim.results.comparison import headline_differences  # noqa: E402
from sim.config.design import sample_spec, sample_values  # noqa: E402
from sim.results.sensitivity import regression_indices, sensitivity_indices  # noqa: E402
from sim.results.warmup import welch  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def res() -> Results:
    cfg = sim.load_config(["run.replications=2", "run.horizon_days=365", "run.warmup_days=30",
                           "run.progress=false"])
    return sim.simulate(cfg)


SCENARIOS = ("more_investigators", "more_researchers", "fast_warrants", "analyst_review", "training")
"""Five scenarios: the forest plot's size limit is stated for five."""
QUICK_COMPARISON = ["run.replications=2", "run.horizon_days=200", "run.progress=false"]


@pytest.fixture(scope="module")
def comparison():
    """The baseline and five scenarios, short and paired."""
    return sim.compare(sim.load_config(QUICK_COMPARISON),
                       [sim.load_config([*QUICK_COMPARISON, f"scenario={name}"]) for name in SCENARIOS], progress=False)


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
    _assert_eighteen_months_line(ax)
    assert plots.EIGHTEEN_MONTHS_LABEL in _legend_texts(ax.get_legend())
    _assert_days_axis(ax)


def _assert_eighteen_months_line(ax) -> None:
    """One 18-month line, dashed red: a style neither a curve nor a target has."""
    eighteen = _by_gid(ax, "eighteen_months")
    assert len(eighteen) == 1
    line = eighteen["eighteen_months"]
    assert np.allclose(line.get_xdata(), EIGHTEEN_MONTHS_DAYS)
    assert line.get_linestyle() == "--" and to_hex(line.get_color()) == to_hex(plots.EIGHTEEN_MONTHS_COLOUR)
    assert line.get_label() == plots.EIGHTEEN_MONTHS_LABEL
    curve_styles = {(ln.get_linestyle(), to_hex(ln.get_color())) for ln in _by_gid(ax, "km_").values()}
    target_styles = {(ln.get_linestyle(), to_hex(ln.get_color())) for ln in _by_gid(ax, "target_").values()}
    assert ("--", to_hex(plots.EIGHTEEN_MONTHS_COLOUR)) not in curve_styles | target_styles
    assert {style for style, _ in target_styles} == {":"}  # targets dotted
    assert all(style == "-" for style, _ in curve_styles)


def _assert_days_axis(ax) -> None:
    """Log days, labelled in days with the weeks and months beside them."""
    assert ax.get_xscale() == "log"
    assert ax.get_xlim()[1] > EIGHTEEN_MONTHS_DAYS  # the 18-month line is inside the frame
    assert "days" in ax.get_xlabel()
    ax.figure.canvas.draw()
    labels = {round(float(tick), 6): label.get_text()
              for tick, label in zip(ax.get_xticks(), ax.get_xticklabels())}
    assert labels[7] == "7 d\n1 wk" and labels[30] == "30 d\n1 mo" and labels[365] == "365 d\n1 yr"


def _legend_texts(legend) -> list[str]:
    assert legend is not None
    return [text.get_text() for text in legend.get_texts()]


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
        assert lines[f"target_{g}"].get_linestyle() == ":"
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
    # A calendar axis: ticks every whole month (1 for a year's run), labelled in months.
    assert "months from the start" in by_grade.get_xlabel()
    fig.canvas.draw()
    low, high = by_grade.get_xlim()
    shown = [(tick, label.get_text()) for tick, label in zip(by_grade.get_xticks(), by_grade.get_xticklabels())
             if low <= tick <= high]
    months = np.asarray([tick for tick, _ in shown]) / DAYS_PER_MONTH
    assert np.allclose(months, np.round(months)) and np.allclose(np.diff(months), 1)
    assert [label for _, label in shown] == [f"{m:.0f}" for m in months]


def test_where_the_time_goes(res):
    fig = plots.where_the_time_goes(res)
    assert len(fig.axes) == len(GRADES)  # a panel per assigned grade, VH on top
    s = res.summary()
    rows = s[s["metric"].str.startswith("mean_time_days_") & (s["by"] == "assigned_grade")]
    stages = rows["metric"].unique()
    targets = dict(zip(GRADES, res.config.targets_days.as_tuple()))
    for ax, grade in zip(fig.axes, GRADES):
        assert ax.get_yticklabels()[0].get_text().startswith(grade)
        bars = ax.patches
        assert len(bars) == len(stages)
        # Bars come stage by stage, end to end; widths are the summary's estimates.
        est = rows[rows["grade"] == grade].set_index("metric")["estimate"].reindex(stages).fillna(0)
        assert np.allclose([b.get_width() for b in bars], est.to_numpy())
        assert np.allclose([b.get_x() for b in bars], np.r_[0, np.cumsum(est.to_numpy())[:-1]])
        mark = _by_gid(ax, "target_")[f"target_{grade}"]
        assert mark.get_xdata()[0] == targets[grade] and mark.get_linestyle() == ":"


def test_where_the_time_goes_shows_the_very_high_risk_bar(res):
    """VH's journey of about a day is as visible as L's of months: every grade's bar spans
    at least half its panel's width on the page."""
    fig = plots.where_the_time_goes(res)
    fig.canvas.draw()
    for ax, grade in zip(fig.axes, GRADES):
        drawn = sum(bar.get_window_extent().width for bar in ax.patches)
        assert drawn >= 0.5 * ax.bbox.width, grade


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


# --------------------------------------------------------------------------- a comparison


def test_survival_comparison(comparison):
    fig = plots.survival_comparison(comparison.all_results, "true_risk")
    names = list(comparison.all_results)
    assert len(fig.axes) == len(GRADES)
    for ax, grade in zip(fig.axes, GRADES):
        curves = _by_gid(ax, "km_")
        assert set(curves) == {f"km_{name}" for name in names}
        baseline = curves[f"km_{names[0]}"]
        assert to_hex(baseline.get_color()) == to_hex(plots.BASELINE_COLOUR) and baseline.get_linestyle() == "-"
        assert all(baseline.get_linewidth() > curve.get_linewidth() for gid, curve in curves.items()
                   if gid != f"km_{names[0]}")
        assert set(_by_gid(ax, "target_")) == {f"target_{grade}"}
        _assert_eighteen_months_line(ax)
        _assert_days_axis(ax)
    (legend,) = fig.legends
    texts = _legend_texts(legend)
    assert set(names) <= set(texts) and plots.EIGHTEEN_MONTHS_LABEL in texts
    assert any("target" in text for text in texts)


def _forest_panels(fig):
    """The forest plot's panels that hold a metric, by their (metric, by, grade) in HEADLINE order."""
    return [ax for ax in fig.axes if ax.axison]


def test_forest_plot_is_one_compact_small_multiple(comparison):
    table, force = comparison.table, comparison.total_name
    fig = plots.forest_plot(table, force)
    width_px, height_px = fig.get_size_inches() * plots.DPI
    assert height_px <= 1200 and width_px <= 2000  # five scenarios on one page
    headline = headline_differences(table, force)
    keys = [key for key in HEADLINE if not headline[(headline["metric"] == key[0]) & (headline["by"] == key[1])
                                                     & (headline["grade"] == key[2])].empty]
    panels = _forest_panels(fig)
    assert len(panels) == len(keys)
    for ax, (name, by, grade) in zip(panels, keys):
        title = ax.get_title()
        assert "_" not in title and "baseline" in title  # words, not the metric's key
        entry = metric(name)
        if entry.unit.startswith("share"):
            assert "%" in title and "percentage points" in ax.get_xlabel()
        else:
            assert "%" not in title
        # The better side: shaded and named as the catalogue says, none where neither is.
        shaded = {patch.get_gid() for patch in ax.patches if (patch.get_gid() or "").startswith("better_")}
        assert shaded == ({f"better_{entry.better}"} if entry.better else set())
        if entry.better:
            assert f"better ({entry.better})" in ax.get_xlabel()
        else:
            assert "neither side is better" in ax.get_xlabel()
        rows = headline[(headline["metric"] == name) & (headline["by"] == by) & (headline["grade"] == grade)]
        factor = 100.0 if entry.unit.startswith("share") else 1.0
        for scenario in SCENARIOS:
            points = _by_gid(ax, f"difference_{scenario}")
            expected = rows.loc[rows["scenario"] == scenario, "difference"].iloc[0]
            if not np.isfinite(expected):
                assert not points
                continue
            assert np.isclose(points[f"difference_{scenario}"].get_xdata()[0], expected * factor)
            assert ax.get_xlim()[0] <= 0 <= ax.get_xlim()[1]
    labels = [label.get_text() for label in panels[0].get_yticklabels()]
    assert labels == list(SCENARIOS)  # the comparison's order, first on top


def test_a_scenario_has_one_colour_in_every_figure_of_a_comparison(comparison):
    names = list(comparison.all_results)
    survival = plots.survival_comparison(comparison.all_results, "true_risk")
    forest = plots.forest_plot(comparison.table, comparison.total_name)
    seen: dict[str, set[str]] = {}
    for fig, prefix in ((survival, "km_"), (forest, "difference_")):
        for ax in fig.axes:
            for gid, line in _by_gid(ax, prefix).items():
                seen.setdefault(gid.removeprefix(prefix), set()).add(to_hex(line.get_color()))
    for label in _forest_panels(forest)[0].get_yticklabels():  # the scenario names, in their colours
        seen[label.get_text()].add(to_hex(label.get_color()))
    assert set(seen) == set(names)
    assert all(len(colours) == 1 for colours in seen.values()), seen
    colours = {name: next(iter(found)) for name, found in seen.items()}
    assert colours[names[0]] == to_hex(plots.BASELINE_COLOUR)
    assert len(set(colours.values())) == len(names)  # no two scenarios alike
    assert colours == {name: to_hex(colour) for name, colour in
                       plots.scenario_colours(names[1:], baseline=names[0]).items()}


@pytest.mark.parametrize("key", sorted(set(HEADLINE) | set(REPLICATION_KEYS) | set(TAIL_METRICS)))
def test_the_metrics_figures_show_have_words_and_units(key):
    """Every metric a figure titles by default reads in words, with its unit: shares in %."""
    title = plots.metric_title(*key)
    unit = metric(key[0]).unit
    assert "_" not in title
    if unit.startswith("share"):
        assert "(%" in title
    elif unit == "days":
        assert "days" in title
    if key[1] in ("true_risk", "assigned_grade"):
        assert f"{key[2]} ({plots.GRADE_NAMES[key[2]]})" in title


# --------------------------------------------------------------------------- every figure


def _analysis_figures(res):
    """The analysts' figures, from small tables in their own shapes."""
    columns = ["force", "metric", "by", "grade", "replications", "relative_half_width", "level"]
    trajectory = pd.DataFrame([(res.config.total_name, "time_to_arrest_p50_days", "true_risk", "H", n, 0.4 / n, 0.95)
                               for n in range(2, 8)], columns=columns)
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, (40, 2))
    sweep = pd.DataFrame([{"point": f"p{i}", "status": "ok", "a": xi[0], "b": xi[1], "force": "f",
                           "metric": "backlog_at_end", "by": "all", "grade": "all",
                           "estimate": 3 * xi[0] - xi[1] + rng.normal(0, 0.1)} for i, xi in enumerate(x)])
    variance = {}
    for method, size in (("saltelli", {"base_samples": 32}), ("morris", {"trajectories": 8})):
        spec = sample_spec({"method": method, "seed": 2, **size, "ranges": {"staffing.investigators": [16.0, 24.0],
                                                                            "demand.referrals_per_month": [40.0, 60.0]}})
        design = pd.DataFrame([{"point": f"p{i}", "status": "ok", **row, "force": "f", "metric": "backlog_at_end",
                                "by": "all", "grade": "all",
                                "estimate": 5 * row["demand.referrals_per_month"] - row["staffing.investigators"] ** 2}
                               for i, row in enumerate(sample_values(spec))])
        variance[method] = sensitivity_indices(design, spec, [("backlog_at_end", "all", "all")], resamples=20)
    return {"replications": plots.replications_plot(trajectory),
            "warmup": plots.warmup_plot(welch(res.timeseries, windows_days=(7, 30)), 30.0),
            "tornado": plots.tornado_plot(regression_indices(sweep, ["a", "b"], [("backlog_at_end", "all", "all")],
                                                             resamples=20)),
            "sobol": plots.sobol_plot(variance["saltelli"]),
            "morris": plots.morris_plot(variance["morris"])}


@pytest.fixture(scope="module")
def every_figure(res, comparison):
    figures = {"survival": plots.survival_figure(res),
               "survival_by_grade": plots.survival_by_grade(res),
               "survival_misgraded": plots.survival_misgraded(res),
               "wip": plots.wip_over_time(res),
               "where_the_time_goes": plots.where_the_time_goes(res),
               "survival_comparison": plots.survival_comparison(comparison.all_results, "true_risk"),
               "forest": plots.forest_plot(comparison.table, comparison.total_name),
               **_analysis_figures(res)}
    yield figures
    for fig in figures.values():
        plt.close(fig)


def _laid_out(fig):
    """The renderer of ``fig`` drawn on a canvas of its own (the pyplot one may be closed),
    so that every box is where the PNG has it."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


FIGURES = ("survival", "survival_by_grade", "survival_misgraded", "wip", "where_the_time_goes",
           "survival_comparison", "forest", "replications", "warmup", "tornado", "sobol", "morris")


def _drawn_points(line: Line2D, ax) -> np.ndarray:
    """Display coordinates of ``line`` as drawn (its steps, every 2 px along each segment),
    inside ``ax``'s frame only (the rest is clipped)."""
    x, y = (np.asarray(values, dtype=float) for values in (line.get_xdata(), line.get_ydata()))
    x, y = cbook.STEP_LOOKUP_MAP[line.get_drawstyle()](x, y)
    with np.errstate(all="ignore"):
        points = line.get_transform().transform(np.column_stack([x, y]))
    dense = [points[:1]]
    for start, end in zip(points[:-1], points[1:]):
        if not (np.isfinite(start).all() and np.isfinite(end).all()):
            continue
        steps = max(1, int(np.ceil(np.hypot(*(end - start)) / 2.0)))
        dense.append(start + np.outer(np.linspace(0, 1, steps + 1)[1:], end - start))
    points = np.vstack(dense)
    points = points[np.isfinite(points).all(axis=1)]
    box = ax.bbox
    inside = ((points[:, 0] >= box.x0) & (points[:, 0] <= box.x1) & (points[:, 1] >= box.y0)
              & (points[:, 1] <= box.y1))
    return points[inside]


@pytest.mark.parametrize("name", FIGURES)
def test_legends_do_not_cover_the_data(every_figure, name):
    """No legend, inside an axes or outside, contains a point of any line as drawn, and none
    covers an axis's labels or title."""
    fig = every_figure[name]
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend() is not None)]
    assert legends or name == "tornado", f"{name} has no legend"  # the tornado's colours are in its title
    renderer = _laid_out(fig)
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            for line in ax.get_lines():
                if not line.get_visible() or line in legend.get_lines():
                    continue
                points = _drawn_points(line, ax)
                covered = ((points[:, 0] >= box.x0) & (points[:, 0] <= box.x1) & (points[:, 1] >= box.y0)
                           & (points[:, 1] <= box.y1))
                assert not covered.any(), f"{name}: the legend covers {line.get_label() or line.get_gid()}"
            texts = [ax.xaxis.label, ax.yaxis.label, ax.title, *ax.get_xticklabels(), *ax.get_yticklabels()]
            for text in texts:
                if text.get_text() and text.get_visible():
                    assert not box.overlaps(text.get_window_extent(renderer)), f"{name}: legend on {text.get_text()!r}"


@pytest.mark.parametrize("name", FIGURES)
def test_every_figure_has_a_title(every_figure, name):
    fig = every_figure[name]
    title = fig.get_suptitle() or (fig.axes[0].get_title() if len(fig.axes) == 1 else "")
    assert len(title) > 10


@pytest.mark.parametrize("name", FIGURES)
def test_figure_sizes_fit_a_page(every_figure, name):
    """At the saved resolution, a run's or a five-scenario comparison's figure is at most
    2,600 px wide and 1,200 px tall."""
    width_px, height_px = every_figure[name].get_size_inches() * plots.DPI
    assert width_px <= 2600 and height_px <= 1200, (width_px, height_px)


def test_a_part_of_a_comparison_keeps_the_whole_comparisons_colours(comparison):
    """Drawn alone, a scenario takes the first colour unless given the comparison's own."""
    names = list(comparison.all_results)
    whole = plots.scenario_colours(names[1:], baseline=names[0])
    one = comparison.table[comparison.table["scenario"] == SCENARIOS[2]]
    alone = _by_gid(plots.forest_plot(one, comparison.total_name).axes[0], "difference_")
    matched = _by_gid(plots.forest_plot(one, comparison.total_name, colours=whole).axes[0], "difference_")
    gid = f"difference_{SCENARIOS[2]}"
    assert to_hex(alone[gid].get_color()) == to_hex(plots.SCENARIO_COLOURS[0])
    assert to_hex(matched[gid].get_color()) == to_hex(whole[SCENARIOS[2]]) != to_hex(plots.SCENARIO_COLOURS[0])
