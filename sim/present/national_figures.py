"""The nation's figures, for a run of forces in several regions (``forces=england_and_wales``):
how long the nation's referrals wait for an arrest by assigned grade, the forces and regions
ranked by their referrals waiting past 18 months, and a map-like grid of the forces in their
regions coloured by the share past 18 months.

The survival curves are :func:`sim.present.run_figures.survival_by_grade`'s; the numbers
of the other two come from the tables of ``sim.results.national`` (``national_table``,
``force_ranking``), so the bar chart's order is the table's ranking. Where each region is
drawn on the grid is data: ``sim/data/region_grid.csv``. No GIS library is needed.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import PercentFormatter

from ..config.schema import SimConfig
from ..results import Results
from ..results.national import eligible_years, force_ranking, national_table, region_rows
from .national_cells import region_words
from .region_grid import RegionBlock, read_region_grid
from .run_figures import survival_by_grade
from .style import DPI, UNGRADED_COLOUR, legend_right

__all__ = ["FIGURE_NAMES", "REGION_COLOURS", "RegionBlock", "force_grid", "grid_layout", "national_survival",
           "past_18_months_bars", "read_region_grid", "save_national"]

REGION_COLOURS: tuple[str, ...] = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#8c564b",
                                   "#7b3294", "#a6a000", "#17becf", "#404040")
"""Each region's colour in the bar chart, in the order the run lists its regions (ten
distinct, colour-blind-safe first; after ten they repeat)."""
GRID_COLOURMAP = "YlOrRd"
"""The grid's tiles, from pale (few referrals past 18 months) to dark red (many)."""
FIGURE_NAMES = ("national_survival.png", "national_past_18_months.png", "national_grid.png")
"""The files ``save_national`` writes, in the order the report shows them."""
PAST_18_MONTHS_WORDS = "referrals a year waiting past 18 months"
_TILE = 0.9  # a tile's side, in grid units: the rest of each unit is the gap between tiles
_LABEL_BAND = 0.4  # grid units above a block for its region's name


def force_words(name: str) -> str:
    """A force's or region's name as written on a figure: ``devon_and_cornwall`` ->
    ``devon and cornwall``."""
    return name.replace("_", " ")


def tile_words(name: str) -> str:
    """A force's name as written on its tile: words of at most 11 letters a line, a long
    county name broken before its "shire" (``northampton-`` / ``shire``)."""
    words = []
    for word in force_words(name).split():
        words += [word[:-5] + "-", "shire"] if len(word) > 11 and word.endswith("shire") else [word]
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= 11 and not lines[-1].endswith("-"):
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines)


def region_colours(regions) -> dict[str, str]:
    """Each region's colour, in the order given."""
    return {region: REGION_COLOURS[k % len(REGION_COLOURS)] for k, region in enumerate(regions)}


def _about(config: SimConfig) -> str:
    regions = config.regions()
    return f"{len(config.force_names)} forces in {len(regions)} regions, {config.run.replications} replications"


# --------------------------------------------------------------------------- survival


def national_survival(results: Results) -> Figure:
    """The nation's referrals still waiting for an arrest or voluntary interview, by assigned
    grade: :func:`~sim.present.run_figures.survival_by_grade` over every force's referrals
    (Kaplan-Meier, censoring-aware, pooled over replications), each grade's target dotted
    in its colour and the 18-month line dashed red."""
    fig = survival_by_grade(results, "assigned_grade")
    ax = fig.axes[0]
    ax.set_title(f"The nation: referrals still waiting for an arrest, by assigned grade\n"
                 f"({_about(results.config)} pooled; shaded: 95 % band)")
    return fig


# --------------------------------------------------------------------------- ranked bars


def past_18_months_bars(ranking: pd.DataFrame, regions: pd.DataFrame, config: SimConfig) -> Figure:
    """Referrals a year waiting past 18 months: every force as a horizontal bar, ranked most
    first from the top in the order of ``ranking`` (``force_ranking``), coloured by its
    region, with its 95 % interval over replications (left); the regions' totals ranked the
    same way, in the same colours (right, ``region_rows`` of ``national_table``). A
    referral is past 18 months when its follow-up passed 548 days without an arrest; the
    count is a year of referrals old enough to get there (``sim.results.national``)."""
    colours = region_colours(config.regions())
    n_forces = len(ranking)
    height_in = max(5.5, 0.185 * n_forces + 1.9)  # 43 forces: 1,180 px tall at DPI
    fig = plt.figure(figsize=(13, height_in), layout="constrained")
    grid = fig.add_gridspec(2, 2, width_ratios=[3, 2], height_ratios=[max(len(regions), 1) + 2, 9])
    ax_forces = fig.add_subplot(grid[:, 0])
    ax_regions = fig.add_subplot(grid[0, 1])
    ax_legend = fig.add_subplot(grid[1, 1])
    ax_legend.axis("off")
    _bars(ax_forces, ranking["force"].astype(str).tolist(), ranking,
          [colours.get(r, UNGRADED_COLOUR) for r in ranking["region"]], "force_")
    ax_forces.set_title("Forces, ranked")
    by_region = regions.sort_values(["past_18_months_per_year", "share_past_18_months", "area"],
                                    ascending=[False, False, True], na_position="last").reset_index(drop=True)
    _bars(ax_regions, by_region["area"].astype(str).tolist(), by_region,
          [colours.get(r, UNGRADED_COLOUR) for r in by_region["area"]], "region_", words=region_words)
    ax_regions.set_title("Regions' totals, ranked")
    handles = [Patch(color=colours[r], label=region_words(r)) for r in colours]
    ax_legend.legend(handles=handles, loc="upper left", title="region (bar colour)", fontsize=8, title_fontsize=8,
                     ncols=2, frameon=False)
    years = eligible_years(config)
    fig.suptitle(f"Referrals waiting past 18 months, by force and by region ({_about(config)};\n"
                 f"bars: mean, lines: 95 % interval)", fontsize=12)
    note = ("Past 18 months: no arrest or voluntary interview within 548 days (arrested later, closed later, or "
            "still open at the end). Counted a year of the referrals that arrived at least 548 days before the "
            f"run's end ({years:.1f} years of them in this run). After each bar: the share of those referrals that "
            "waited past 18 months.")
    ax_legend.text(0.0, 0.0, textwrap.fill(note, 80), transform=ax_legend.transAxes, fontsize=8, va="bottom",
                   ha="left", color="dimgrey")
    return fig


def _bars(ax: Axes, names: list[str], table: pd.DataFrame, colours: list[str], gid: str,
          words=force_words) -> None:
    """Horizontal bars of ``past_18_months_per_year`` with their intervals, the first name at
    the top; a value that does not exist is said in words where its bar would be."""
    values = table["past_18_months_per_year"].to_numpy(dtype=float)
    shares = table["share_past_18_months"].to_numpy(dtype=float)
    low = table["past_18_months_per_year_low"].to_numpy(dtype=float)
    high = table["past_18_months_per_year_high"].to_numpy(dtype=float)
    y = np.arange(len(names))[::-1]
    drawn = np.nan_to_num(values)
    bars = ax.barh(y, drawn, color=colours, height=0.72, edgecolor="white", lw=0.4)
    for bar, name in zip(bars, names):
        bar.set_gid(gid + name)
    with np.errstate(invalid="ignore"):
        err = np.vstack([np.clip(drawn - low, 0, None), np.clip(high - drawn, 0, None)])
    has_interval = np.isfinite(err).all(axis=0)
    if has_interval.any():
        ax.errorbar(drawn[has_interval], y[has_interval], xerr=err[:, has_interval], fmt="none", ecolor="black",
                    elinewidth=0.9, capsize=2)
    ax.set_yticks(y, [words(n) for n in names], fontsize=8)
    ax.set_ylim(-0.6, len(names) - 0.4)
    top = np.nanmax(high) if np.isfinite(high).any() else (np.nanmax(values) if np.isfinite(values).any() else 0)
    reach = max(float(top) * 1.25, 1.0)  # room after the longest interval for its share
    ax.set_xlim(0, reach)
    ends = np.where(np.isfinite(high), high, drawn)
    for y_k, end, share in zip(y, ends, shares):
        if np.isfinite(share):
            ax.text(end + reach * 0.01, y_k, f"{share * 100:.1f} %", va="center", ha="left", fontsize=6.5,
                    color="dimgrey")
    if not np.isfinite(values).any():
        ax.text(0.5, 0.5, "no value: the run ends before\nany referral can wait 548 days", transform=ax.transAxes,
                ha="center", va="center", fontsize=9, color="dimgrey")
    elif not np.nansum(values):
        ax.text(0.5, 0.5, "no referral waited past 18 months",
                transform=ax.transAxes, ha="center", va="center", fontsize=9, color="dimgrey")
    ax.set_xlabel(f"{PAST_18_MONTHS_WORDS} (mean over replications)", fontsize=8)
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_axisbelow(True)


# --------------------------------------------------------------------------- the grid


def grid_layout(config: SimConfig, blocks: dict[str, RegionBlock] | None = None
                ) -> tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float, float, float]]]:
    """Each force's tile (its lower-left corner, by force) and each region's block (x, y,
    width, height, by region): a region's forces fill its block row by row from the top
    left, in the order the configuration lists them. A region without a block in
    ``blocks`` (``read_region_grid()``) is placed in a row under the map."""
    blocks = read_region_grid() if blocks is None else blocks
    tiles: dict[str, tuple[float, float]] = {}
    outlines: dict[str, tuple[float, float, float, float]] = {}
    spare_x = 0.0
    for region, members in config.regions().items():
        forces = [config.force_names[k] for k in members]
        block = blocks.get(region)
        if block is None:  # a region of the user's own: under the map, left to right
            columns = max(1, min(len(forces), 3))
            rows = math.ceil(len(forces) / columns)
            block = RegionBlock(region, region_words(region) or "forces", spare_x, -rows - 1.0, columns)
            spare_x += columns + 0.4
        rows = math.ceil(len(forces) / block.columns)
        for k, force in enumerate(forces):
            row, column = divmod(k, block.columns)
            tiles[force] = (block.x + column, block.y + rows - 1 - row)
        outlines[region] = (block.x, block.y, float(block.columns), float(rows))
    return tiles, outlines


def force_grid(ranking: pd.DataFrame, config: SimConfig, blocks: dict[str, RegionBlock] | None = None) -> Figure:
    """A map-like grid of the forces: each region a block of tiles placed roughly where it
    lies in England and Wales, each force a tile labelled with its name and coloured by the
    share of its referrals old enough that waited past 18 months (``share_past_18_months``
    of ``ranking``, mean over replications), with a colour bar; grey where the share does
    not exist (a run shorter than 548 days after its warm-up)."""
    tiles, outlines = grid_layout(config, blocks)
    blocks = read_region_grid() if blocks is None else blocks
    share = dict(zip(ranking["force"].astype(str), ranking["share_past_18_months"].astype(float)))
    values = np.array([share.get(force, np.nan) for force in tiles], dtype=float)
    top = float(np.nanmax(values)) if np.isfinite(values).any() else 0.0
    norm = Normalize(0.0, max(top, 0.01))
    cmap = plt.get_cmap(GRID_COLOURMAP)
    x_all = [x for x, _, w, _ in outlines.values()] + [x + w for x, _, w, _ in outlines.values()]
    y_all = [y for _, y, _, h in outlines.values()] + [y + h + _LABEL_BAND for _, y, _, h in outlines.values()]
    width, height = max(x_all) - min(x_all), max(y_all) - min(y_all)
    scale = min(11.0 / max(width, 1.0), 8.6 / max(height, 1.0))  # inches a tile, to fit 12 x 10 in
    fig, ax = plt.subplots(figsize=(width * scale + 1.6, height * scale + 1.2), layout="constrained")
    for region, (x, y, w, h) in outlines.items():
        ax.add_patch(Rectangle((x - 0.06, y - 0.06), w - (1 - _TILE) + 0.12, h - (1 - _TILE) + 0.12, fill=False,
                               lw=1.2, ec="dimgrey", gid=f"block_{region}"))
        label = blocks[region].name if region in blocks else region_words(region)
        ax.text(x - 0.04, y + h - (1 - _TILE) + 0.1, label, fontsize=8.5, fontweight="bold", va="bottom", ha="left")
    for (force, (x, y)), value in zip(tiles.items(), values):
        colour = cmap(norm(value)) if np.isfinite(value) else UNGRADED_COLOUR
        ax.add_patch(Rectangle((x, y), _TILE, _TILE, fc=colour, ec="white", lw=0.8, gid=f"tile_{force}"))
        ink = "white" if np.isfinite(value) and norm(value) > 0.6 else "black"
        ax.text(x + _TILE / 2, y + _TILE * 0.6, tile_words(force), ha="center", va="center", fontsize=6.5, color=ink,
                linespacing=1.0)
        ax.text(x + _TILE / 2, y + _TILE * 0.14, f"{value * 100:.1f} %" if np.isfinite(value) else "—",
                ha="center", va="center", fontsize=7, color=ink, fontweight="bold")
    ax.set_xlim(min(x_all) - 0.2, max(x_all) + 0.1)
    ax.set_ylim(min(y_all) - 0.2, max(y_all) + 0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    mappable = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    bar = fig.colorbar(mappable, ax=ax, shrink=0.6, pad=0.02)
    bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    bar.set_label("share of referrals waiting past 18 months (548 days), of those that arrived\n"
                  "at least 548 days before the run's end; mean over replications", fontsize=8)
    if not np.isfinite(values).any():
        legend_right(ax, handles=[Patch(color=UNGRADED_COLOUR, label="no value: the run is shorter than\n548 days "
                                                                    "after its warm-up")])
    ax.set_title(f"Referrals waiting past 18 months, by force in its region\n({_about(config)}; "
                 f"regions placed roughly where they lie)", fontsize=11)
    return fig


# --------------------------------------------------------------------------- all at once


def save_national(results: Results, folder: str | Path, summary: pd.DataFrame | None = None,
                  national: pd.DataFrame | None = None, ranking: pd.DataFrame | None = None) -> list[Path]:
    """Write the nation's figures (``FIGURE_NAMES``) into ``folder`` (created if missing) from
    ``results`` and its ``summary``, ``national_table`` and ``force_ranking`` (each computed
    if not given), close them and return the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = results.config
    if national is None:
        national = national_table(results, results.summary() if summary is None else summary)
    ranking = force_ranking(results) if ranking is None else ranking
    makers = (lambda: national_survival(results),
              lambda: past_18_months_bars(ranking, region_rows(national), config),
              lambda: force_grid(ranking, config))
    paths = []
    for name, make in zip(FIGURE_NAMES, makers):
        fig = make()
        try:
            fig.savefig(folder / name, dpi=DPI)
            paths.append(folder / name)
        finally:
            plt.close(fig)
    return paths
