"""The nation's figures and tables: referrals past 18 months counted as documented, the
nation's and regions' headline from the summary, the bar chart in the table's order, the
grid's tiles one per force inside its region's block, the survival curves by assigned grade
in the house style, and the files a run of several regions writes."""

from __future__ import annotations

import dataclasses

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from test_plots import PNG_SIGNATURE, _assert_survival_lines, _drawn_points, _laid_out  # noqa: E402

import sim  # noqa: E402
from sim.domain import EIGHTEEN_MONTHS_DAYS, GRADES  # noqa: E402
from sim.present import national_figures as nf  # noqa: E402
from sim.present.console import headline_text  # noqa: E402
from sim.present.national_cells import NATION_WORDS, region_words  # noqa: E402
from sim.present.region_grid import read_region_grid  # noqa: E402
from sim.present.style import DPI  # noqa: E402
from sim.results.headline import headline_sheets  # noqa: E402
from sim.results.national import (  # noqa: E402
    FORCE_COLUMNS,
    NATIONAL_COLUMNS,
    eligible_years,
    force_ranking,
    national_table,
    region_rows,
)

STRESSED_REGIONS = ("north_east", "southern_wales")


def _stressed_config() -> sim.SimConfig:
    """The forces of two regions of the nation with fewer than half their investigators, for
    800 days: queues grow, so referrals wait past 18 months, and differently by force."""
    cfg = sim.load_config(["forces=england_and_wales", "run.replications=2", "run.horizon_days=800",
                           "run.progress=false"])
    forces = tuple(dataclasses.replace(f, staffing=dataclasses.replace(
        f.staffing, investigators=max(1, round(f.staffing.investigators * 0.45))))
        for f in cfg.forces if f.region in STRESSED_REGIONS)
    return cfg.replace(forces=forces)


@pytest.fixture(scope="module")
def stressed():
    results = sim.simulate(_stressed_config())
    return results, results.summary()


@pytest.fixture(scope="module")
def nation() -> sim.SimConfig:
    return sim.load_config(["forces=england_and_wales"])


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# --------------------------------------------------------------------------- the tables


def test_past_18_months_is_counted_a_year_of_referrals_old_enough(stressed):
    """A force's count is its referrals (the day-0 backlog and any warm-up left out) whose
    follow-up passed 548 days, a replication's mean, over the years of referrals that
    arrived at least 548 days before the horizon."""
    results, summary = stressed
    ranking = force_ranking(results).set_index("force")
    years = eligible_years(results.config)
    assert years == pytest.approx((800 - EIGHTEEN_MONTHS_DAYS) / 365)
    referrals = results.referrals
    counted = 0
    for force, row in ranking.iterrows():
        of_force = referrals[referrals["force"] == force]
        past = (of_force["followup_days"] > EIGHTEEN_MONTHS_DAYS).groupby(of_force["replication"]).sum()
        old_enough = (of_force["arrival_day"] <= 800 - EIGHTEEN_MONTHS_DAYS).groupby(of_force["replication"]).sum()
        assert row["past_18_months_per_year"] == pytest.approx(past.mean() / years)
        assert row["share_past_18_months"] == pytest.approx((past / old_enough).mean())
        for name in ("past_18_months_per_year", "share_past_18_months"):
            assert row[f"{name}_low"] <= row[name] <= row[f"{name}_high"]
        # the count is the summary's, put a year
        in_summary = summary[(summary["force"] == force) & (summary["metric"] == "cases_past_18_months")
                             & (summary["by"] == "all")]["estimate"].iloc[0]
        assert row["past_18_months_per_year"] == pytest.approx(in_summary / years)
        counted += past.sum()
    assert counted > 0, "the stressed forces have referrals past 18 months: the check above is not empty"


def test_forces_are_ranked_most_past_18_months_first(stressed):
    results, summary = stressed
    ranking = force_ranking(results)
    assert list(ranking.columns) == FORCE_COLUMNS
    assert ranking["rank"].tolist() == list(range(1, len(ranking) + 1))
    assert set(ranking["force"]) == set(results.config.force_names)
    values = ranking["past_18_months_per_year"].to_numpy()
    assert np.all(np.diff(values) <= 0)
    assert len(set(np.round(values, 6))) > 2, "the forces differ: the order is not decided by ties"
    assert dict(zip(ranking["force"], ranking["region"])) == results.config.region_of


def test_the_national_table_is_the_nation_then_each_region_by_assigned_grade(stressed):
    results, summary = stressed
    cfg = results.config
    table = national_table(results, summary)
    assert list(table.columns) == NATIONAL_COLUMNS
    areas = list(dict.fromkeys(table["area"]))
    assert areas == ["nation", *cfg.regions()]
    assert table.groupby("area", sort=False)["grade"].apply(list).tolist() == [[*GRADES, "all"]] * len(areas)
    # the nation's referrals are its regions'; within target is one less the share past target
    totals = table[table["grade"] == "all"].set_index("area")
    for column in ("referrals", "past_18_months_per_year"):
        assert totals.loc["nation", column] == pytest.approx(totals[column].drop("nation").sum())
    assert totals.loc["nation", "past_18_months_per_year"] > 0
    nation_h = table[(table["area"] == "nation") & (table["grade"] == "H")].iloc[0]
    past = summary[(summary["force"] == cfg.total_name) & (summary["metric"] == "share_past_target")
                   & (summary["by"] == "assigned_grade") & (summary["grade"] == "H")].iloc[0]
    assert nation_h["share_within_target"] == pytest.approx(1 - past["estimate"])
    assert nation_h["share_within_target_low"] == pytest.approx(1 - past["ci_high"])
    assert nation_h["target_days"] == cfg.targets_days.as_tuple()[1]
    assert table.loc[table["grade"] == "all", "share_within_target"].isna().all()
    regions = region_rows(table)
    assert regions["area"].tolist() == list(cfg.regions())


def test_a_run_too_short_for_18_months_says_so_instead_of_a_count():
    cfg = sim.load_config(["forces=england_and_wales", "run.replications=2", "run.horizon_days=60",
                           "run.progress=false"])
    cfg = cfg.replace(forces=tuple(f for f in cfg.forces if f.region in STRESSED_REGIONS))
    results = sim.simulate(cfg)
    summary = results.summary()
    ranking = force_ranking(results)
    assert ranking["past_18_months_per_year"].isna().all() and ranking["share_past_18_months"].isna().all()
    assert ranking["note"].str.contains("548 days").all()
    fig = nf.past_18_months_bars(ranking, region_rows(national_table(results, summary)), cfg)
    assert any("548 days" in text.get_text() for text in fig.axes[0].texts)


# --------------------------------------------------------------------------- the bar chart


def test_the_bar_chart_is_in_the_tables_order_coloured_by_region(stressed):
    results, summary = stressed
    cfg = results.config
    ranking = force_ranking(results)
    fig = nf.past_18_months_bars(ranking, region_rows(national_table(results, summary)), cfg)
    ax = fig.axes[0]
    bars = sorted((p for p in ax.patches if (p.get_gid() or "").startswith("force_")), key=lambda p: -p.get_y())
    assert [bar.get_gid()[len("force_"):] for bar in bars] == ranking["force"].tolist()  # top to bottom
    assert [bar.get_width() for bar in bars] == pytest.approx(ranking["past_18_months_per_year"].tolist())
    labels = [t.get_text() for t in sorted(ax.get_yticklabels(), key=lambda t: -t.get_position()[1])]
    assert labels == [nf.force_words(force) for force in ranking["force"]]
    colours = nf.region_colours(cfg.regions())
    assert [to_hex(bar.get_facecolor()) for bar in bars] == [to_hex(colours[r]) for r in ranking["region"]]
    regions_ax = fig.axes[1]
    region_bars = sorted((p for p in regions_ax.patches if (p.get_gid() or "").startswith("region_")),
                         key=lambda p: -p.get_y())
    widths = [bar.get_width() for bar in region_bars]
    assert widths == sorted(widths, reverse=True) and len(widths) == len(STRESSED_REGIONS)
    # a region's total is its forces' (counts add up)
    by_region = ranking.groupby("region")["past_18_months_per_year"].sum()
    assert sorted(widths) == pytest.approx(sorted(by_region.tolist()))
    legend_texts = [t.get_text() for t in fig.axes[2].get_legend().get_texts()]
    assert legend_texts == ["North East", "Southern Wales"] == [nf.region_words(r) for r in cfg.regions()]
    assert "a year" in ax.get_xlabel()


def test_the_forty_three_forces_fit_a_readable_bar_chart(nation):
    """Every force named in type at least 8 points, the chart at most 1,200 px tall."""
    ranking = pd.DataFrame({"rank": range(1, 44), "force": nation.force_names,
                            "region": [nation.region_of[f] for f in nation.force_names],
                            "past_18_months_per_year": np.linspace(50, 0, 43),
                            "past_18_months_per_year_low": np.linspace(40, 0, 43),
                            "past_18_months_per_year_high": np.linspace(60, 1, 43),
                            "share_past_18_months": np.linspace(0.1, 0, 43)})
    regions = pd.DataFrame({"area": list(nation.regions()), "past_18_months_per_year": np.arange(10.0),
                            "past_18_months_per_year_low": np.arange(10.0) - 1,
                            "past_18_months_per_year_high": np.arange(10.0) + 1,
                            "share_past_18_months": np.arange(10.0) / 100})
    fig = nf.past_18_months_bars(ranking, regions, nation)
    labels = fig.axes[0].get_yticklabels()
    assert len(labels) == 43 and min(label.get_fontsize() for label in labels) >= 8
    renderer = _laid_out(fig)
    boxes = sorted((label.get_window_extent(renderer) for label in labels), key=lambda b: b.y0)
    assert all(lower.y1 <= upper.y0 + 0.5 for lower, upper in zip(boxes, boxes[1:])), "force names overlap"
    width_px, height_px = fig.get_size_inches() * DPI
    assert width_px <= 2600 and height_px <= 1200


# --------------------------------------------------------------------------- the grid


def test_the_grid_has_a_tile_per_force_inside_its_regions_block(nation, stressed):
    results, summary = stressed
    fig = nf.force_grid(force_ranking(results), nation)
    ax = fig.axes[0]
    tiles = {p.get_gid()[len("tile_"):]: p for p in ax.patches if (p.get_gid() or "").startswith("tile_")}
    blocks = {p.get_gid()[len("block_"):]: p for p in ax.patches if (p.get_gid() or "").startswith("block_")}
    assert len(tiles) == 43 and set(tiles) == set(nation.force_names)
    assert set(blocks) == set(nation.regions())
    for force, tile in tiles.items():
        block = blocks[nation.region_of[force]]
        x0, y0 = block.get_x(), block.get_y()
        assert x0 <= tile.get_x() and tile.get_x() + tile.get_width() <= x0 + block.get_width(), force
        assert y0 <= tile.get_y() and tile.get_y() + tile.get_height() <= y0 + block.get_height(), force
        for region, other in blocks.items():
            if region != nation.region_of[force]:
                assert not _overlap(tile, other), f"{force} lies in {region}'s block"
    names = [b for b in blocks]
    assert not any(_overlap(blocks[a], blocks[b]) for i, a in enumerate(names) for b in names[i + 1:])
    # a force with a share is coloured by it; the others are grey, and say so
    coloured = {f for f in results.config.force_names}
    shades = {to_hex(tiles[f].get_facecolor()) for f in coloured}
    assert len(shades) > 1
    assert all(to_hex(tiles[f].get_facecolor()) == to_hex(nf.UNGRADED_COLOUR) for f in tiles if f not in coloured)
    assert len(fig.axes) == 2 and "share" in fig.axes[1].get_ylabel()
    texts = {t.get_text().replace("\n", " ").replace("- ", "-") for t in ax.texts}
    assert {nf.tile_words(f).replace("\n", " ").replace("- ", "-") for f in nation.force_names} <= texts


def _overlap(a: Rectangle, b: Rectangle) -> bool:
    return (a.get_x() < b.get_x() + b.get_width() and b.get_x() < a.get_x() + a.get_width()
            and a.get_y() < b.get_y() + b.get_height() and b.get_y() < a.get_y() + a.get_height())


def test_the_grids_positions_are_a_table_with_every_region_of_the_nation(nation):
    blocks = nf.read_region_grid()
    assert set(blocks) == set(nation.regions())
    tiles, outlines = nf.grid_layout(nation)
    # north above south, west left of east, as the regions lie
    centre = {r: (x + w / 2, y + h / 2) for r, (x, y, w, h) in outlines.items()}
    assert centre["north_east"][1] > centre["yorkshire_and_humber"][1] > centre["east_midlands"][1] > \
        centre["london"][1] > centre["south_west"][1]
    assert centre["southern_wales"][0] < centre["west_midlands"][0] < centre["east_midlands"][0] < \
        centre["eastern"][0]
    # a region the table does not know goes under the map
    cfg = nation.replace(forces=tuple(dataclasses.replace(f, region="my_region") if f.name == "kent" else f
                                      for f in nation.forces))
    tiles, outlines = nf.grid_layout(cfg)
    assert outlines["my_region"][1] < min(y for r, (_, y, _, _) in outlines.items() if r != "my_region")
    assert len(tiles) == 43


def test_the_region_grid_is_one_table_the_figures_and_the_text_share(nation, tmp_path):
    blocks = read_region_grid()
    assert nf.read_region_grid is read_region_grid
    assert all(region_words(region) == block.name for region, block in blocks.items())
    assert region_words("my_own_region") == "my own region"
    # each call gets a dict of its own: emptying one leaves the next caller's whole
    blocks.clear()
    assert set(read_region_grid()) == set(nation.regions())
    # another file is read as given
    other = tmp_path / "grid.csv"
    other.write_text("region,name,x,y,columns\nnorth_east,The North East,1.5,2,3\n", encoding="utf-8")
    assert read_region_grid(other) == {"north_east": nf.RegionBlock("north_east", "The North East", 1.5, 2.0, 3)}


# --------------------------------------------------------------------------- survival and house style


@pytest.fixture(scope="module")
def every_figure(stressed):
    results, summary = stressed
    cfg = results.config
    ranking = force_ranking(results)
    figures = {"survival": nf.national_survival(results),
               "past_18_months": nf.past_18_months_bars(ranking, region_rows(national_table(results, summary)), cfg),
               "grid": nf.force_grid(ranking, cfg)}
    yield figures
    for fig in figures.values():
        plt.close(fig)


def test_the_nations_survival_is_the_run_figures_by_assigned_grade(every_figure, stressed):
    ax = every_figure["survival"].axes[0]
    _assert_survival_lines(ax, {f"km_{grade}" for grade in GRADES})
    assert "nation" in ax.get_title() and "assigned grade" in ax.get_title()
    results, _ = stressed
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    for grade in GRADES:  # every referral of the grade, pooled over forces and replications
        n = int((results.referrals["assigned_grade"] == grade).sum())
        assert any(label.startswith(f"{grade} (") and f"n={n:,}" in label for label in labels)


@pytest.mark.parametrize("name", ["survival", "past_18_months", "grid"])
def test_figures_have_titles_fit_a_page_and_keep_legends_off_the_data(every_figure, name):
    fig = every_figure[name]
    title = fig.get_suptitle() or fig.axes[0].get_title()
    assert len(title) > 20
    width_px, height_px = fig.get_size_inches() * DPI
    assert width_px <= 2600 and height_px <= 1200, (width_px, height_px)
    renderer = _laid_out(fig)
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend() is not None)]
    assert legends or name == "grid"  # the grid's colours are on its colour bar
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            for line in ax.get_lines():
                if line.get_visible() and line not in legend.get_lines():
                    points = _drawn_points(line, ax)
                    assert not ((points[:, 0] >= box.x0) & (points[:, 0] <= box.x1) & (points[:, 1] >= box.y0)
                                & (points[:, 1] <= box.y1)).any(), f"{name}: legend on {line.get_label()}"
            for patch in ax.patches:
                if patch.get_visible() and patch.get_width() > 0:
                    assert not box.overlaps(patch.get_window_extent(renderer)), f"{name}: legend on a bar or tile"
            for text in [ax.xaxis.label, ax.yaxis.label, ax.title, *ax.get_xticklabels(), *ax.get_yticklabels()]:
                if text.get_text() and text.get_visible():
                    assert not box.overlaps(text.get_window_extent(renderer)), f"{name}: legend on {text.get_text()!r}"


def test_save_national_writes_and_closes_the_figures(stressed, tmp_path):
    results, summary = stressed
    before = set(plt.get_fignums())
    paths = nf.save_national(results, tmp_path / "figures", summary)
    assert [p.name for p in paths] == list(nf.FIGURE_NAMES)
    for path in paths:
        assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert set(plt.get_fignums()) == before


# --------------------------------------------------------------------------- a run's folder, report and console


def test_a_run_of_several_regions_writes_the_nations_files(tmp_path):
    from sim.cli.outputs import run_to_folder

    cfg = _stressed_config()
    cfg = cfg.replace(run=dataclasses.replace(cfg.run, horizon_days=120.0))
    said = run_to_folder(cfg, tmp_path / "run")
    folder = tmp_path / "run"
    national = pd.read_csv(folder / "national.csv")
    assert list(national.columns) == NATIONAL_COLUMNS
    assert national["area"].iloc[0] == "nation" and len(national) == 5 * (1 + len(STRESSED_REGIONS))
    forces = pd.read_csv(folder / "national_forces.csv")
    assert list(forces.columns) == FORCE_COLUMNS and len(forces) == len(cfg.forces)
    for name in nf.FIGURE_NAMES:
        assert (folder / "figures" / name).read_bytes()[:8] == PNG_SIGNATURE
    report = (folder / "report.html").read_text()
    assert "The nation and its regions" in report and NATION_WORDS in report
    assert report.count("data:image/png") == 6  # the run's three figures and the nation's three
    pd.testing.assert_frame_equal(said.national.reset_index(drop=True), national.fillna({"note": ""}),
                                  check_dtype=False, check_exact=False, atol=1e-9)
    text = headline_text(said.sheets, cfg.force_names, said.national)
    assert f"{NATION_WORDS}:" in text and "North East:" in text
    assert "The force " not in text  # the nation's regions, not a block per force


@pytest.mark.slow  # two runs, a comparison's figures and report: about a minute on two busy cores
def test_a_comparison_of_runs_of_several_regions_writes_each_runs_national_tables(tmp_path):
    from sim.cli.outputs import compare_to_folder

    stressed = _stressed_config()
    stressed = stressed.replace(run=dataclasses.replace(stressed.run, horizon_days=90.0))
    staffed = sim.load_config(["forces=england_and_wales", "run.replications=2", "run.horizon_days=90",
                               "run.progress=false"])
    staffed = staffed.replace(scenario="full_staffing",
                              forces=tuple(f for f in staffed.forces if f.region in STRESSED_REGIONS))
    (tmp_path / "compare").mkdir()
    compare_to_folder(stressed, [staffed], tmp_path / "compare")
    national = pd.read_csv(tmp_path / "compare" / "national.csv")
    assert list(national.columns) == ["scenario", *NATIONAL_COLUMNS]
    assert list(dict.fromkeys(national["scenario"])) == [stressed.scenario, "full_staffing"]
    assert (national.groupby("scenario").size() == 5 * (1 + len(STRESSED_REGIONS))).all()
    forces = pd.read_csv(tmp_path / "compare" / "national_forces.csv")
    assert list(forces.columns) == ["scenario", *FORCE_COLUMNS] and len(forces) == 2 * len(staffed.forces)
    # common random numbers: the same referrals in both runs, so the same counts by region
    referrals = national[national["grade"] == "all"].pivot(index="area", columns="scenario", values="referrals")
    assert (referrals[stressed.scenario] == referrals["full_staffing"]).all()
    assert referrals.loc["nation", "full_staffing"] == pytest.approx(referrals["full_staffing"].drop("nation").sum())


def test_a_run_of_one_region_writes_no_national_files(tmp_path):
    from sim.cli.outputs import run_to_folder

    cfg = sim.load_config(["forces=three_forces", "run.replications=1", "run.horizon_days=60", "run.progress=false"])
    assert len(cfg.regions()) == 1
    said = run_to_folder(cfg, tmp_path / "run")
    assert said.national is None
    assert not (tmp_path / "run" / "national.csv").exists()
    assert not (tmp_path / "run" / "figures" / "national_grid.png").exists()
    sheets = headline_sheets(pd.read_csv(tmp_path / "run" / "summary.csv"), cfg)
    assert "The force " in headline_text(sheets, cfg.force_names)


# --------------------------------------------------------------------------- plausible against published figures

PUBLISHED_ARRESTS_PER_MONTH = {
    "NPCC, 2018: around 400 a month (UK, co-ordinated NCA and police activity)": 400,
    "IICSA, 2020: 400 to 450 a month since 2016 (UK law enforcement)": (400, 450),
    "NCA, January 2021: 4,760 arrests from April to September 2020 (UK)": 4760 / 6,
    "NCA, 2026: 500 to 800 a month a few years ago, about 1,000 a month now (UK)": (500, 1000),
}
"""Published monthly arrests for online child sexual abuse (docs/sources.md#arrests)."""
ACCEPTED_ARRESTS_PER_MONTH = (400.0, 1000.0)
"""The range the nation's mean arrests a month must lie in (docs/sources.md#arrests)."""


@pytest.mark.slow  # a year of the nation, twice: about a minute on two busy cores
def test_the_nations_arrests_a_month_are_plausible_against_published_figures():
    """The baseline nation's arrests a month (voluntary interviews not counted, as the
    published figures count arrests) lie between the lowest and the highest monthly figure
    published for the UK over 2016-2026, 400 and 1,000 (docs/sources.md#arrests).

    Why those bounds. The model's national demand, 1,700 referrals a month, is the NCA's
    total for UK forces in 2021 (more than 20,000 a year) spread over the 43 forces
    (docs/sources.md#size), so the nation's volume compares with the UK's published
    figures, not with England and Wales's share of them. Lower bound: about 400 a month
    was published for 2016-2019 (NPCC 2018, IICSA 2020), when the NCA sent forces about
    10,000 packages a year, half the model's referrals; arrests then rose with the
    referrals (about 790 a month over April-September 2020), so a nation handling twice
    those referrals and arresting fewer than 400 a month would have lost the link from
    referral to arrest. Upper bound: the published figures count every arrest for online
    child sexual abuse (NCA packages, reports made to forces, proactive work, the NCA's own
    operations), of which the referrals modelled are a part, and the highest of them, about
    1,000 a month in 2026, came after the leads reaching the NCA had doubled again; the
    model's referral-driven arrests at 2021 demand cannot plausibly exceed it.

    One year, the first 90 days a warm-up (the day-0 queues are worked down in the first
    weeks), two replications run a region at a time in two processes.
    """
    low, high = ACCEPTED_ARRESTS_PER_MONTH
    published = [v for value in PUBLISHED_ARRESTS_PER_MONTH.values() for v in np.atleast_1d(value)]
    assert (low, high) == (min(published), max(published))  # the range is the published figures' own
    cfg = sim.load_config(["forces=england_and_wales", "run.replications=2", "run.horizon_days=365",
                           "run.warmup_days=90", "run.workers=2", "run.progress=false"])
    summary = sim.simulate(cfg).summary()
    rows = summary[(summary["force"] == "nation") & (summary["by"] == "all")].set_index("metric")
    arrests = rows.loc["arrests_per_month", "estimate"]
    assert low <= arrests <= high, f"{arrests:.0f} arrests a month, outside the published {low:.0f}-{high:.0f}"
    # the nation's arrests are its forces' together, not one force's scaled
    by_force = summary[(summary["metric"] == "arrests_per_month") & summary["force"].isin(cfg.force_names)]
    assert by_force["estimate"].sum() == pytest.approx(arrests)


def test_every_national_file_and_column_is_documented():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "outputs.md").read_text()
    for name in ("national.csv", "national_forces.csv", *(f"figures/{figure}" for figure in nf.FIGURE_NAMES)):
        assert f"`{name}`" in text, name
    assert [c for c in {*NATIONAL_COLUMNS, *FORCE_COLUMNS} if f"`{c}`" not in text] == []
