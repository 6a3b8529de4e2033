"""Figures for analysts: the sensitivity tornado, Sobol' index bars and the Morris plane; the
replication-count trajectory and the warm-up (Welch) plot."""

from __future__ import annotations

import math
import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from ..results.catalogue import KEY_COLUMNS, metric
from .style import difference_unit, display_unit, metric_label, metric_title, parameter_label, rows_of_key

# --------------------------------------------------------------------------- sensitivity

SENSITIVITY_KIND_LABELS = {"src": "standardised regression coefficient (SRC)",
                           "srrc": "standardised rank regression coefficient (SRRC)"}
INCREASES_COLOUR = "#b2182b"  # raising the parameter raises the metric (for the tail: worse)
DECREASES_COLOUR = "#2166ac"
SOBOL_COLOURS = {"S1": "#9ecae1", "ST": "#08519c"}  # the part alone lighter than the whole
SOBOL_WORDS = {"S1": "S1: first order (the parameter alone)", "ST": "ST: total (alone and in interactions)"}
MORRIS_COLOUR = "#08519c"
_ROW_KEY = KEY_COLUMNS[1:]  # (metric, by, grade)



PANEL_TITLE_CHARACTERS = 70
"""The longest line of a panel's title: about what a panel half a figure wide holds at 10 points."""

def _panel_title(ax, text: str) -> None:
    """A panel's title in a grid two panels wide, wrapped to the panel's width (a metric's
    words and its counts can be longer than such a panel is wide)."""
    ax.set_title(textwrap.fill(text, PANEL_TITLE_CHARACTERS), fontsize=10)

def _method_rows(indices: pd.DataFrame, method: str, design: str) -> pd.DataFrame:
    """The rows of ``method`` in a sensitivity table; ValueError naming the design that gives
    them if there are none."""
    rows = indices[indices["method"] == method]
    if rows.empty:
        raise ValueError(f"no {method} rows in the indices table (they come from a {design} design)")
    return rows


def _keys(rows: pd.DataFrame) -> list[tuple[str, str, str]]:
    """The (metric, by, grade) rows of a sensitivity table, in its order."""
    return list(dict.fromkeys(rows[_ROW_KEY].itertuples(index=False, name=None)))


def _say_why_empty(ax, rows: pd.DataFrame, what: str) -> None:
    """Write in an empty panel why it is empty (the rows' first note), rather than leave it blank."""
    why = next((note for note in rows["note"] if isinstance(note, str) and note), f"no {what}")
    ax.text(0.5, 0.5, why.replace("; ", "\n").replace(": ", ":\n", 1), transform=ax.transAxes, ha="center",
            va="center", fontsize=9, color="dimgrey", wrap=True, bbox={"facecolor": "white", "edgecolor": "none"},
            gid="no_fit")


def tornado_plot(indices: pd.DataFrame, kind: str = "src") -> Figure:
    """One panel per metric of the regression rows of ``indices`` (``method`` ``regression``:
    ``sim.results.sensitivity.regression_indices``): a horizontal bar per parameter (in words,
    ``parameter_label``), its standardised coefficient of kind ``kind`` (``src`` or ``srrc``)
    with the bootstrap interval as whiskers, the largest in magnitude on top. Red bars raise
    the metric as the parameter rises, blue bars lower it. The panel title gives R^2 of the
    fit, the share of the metric's variance over the design the linear (or rank) model
    explains: with a low R^2 the bars do not tell the whole story."""
    if kind not in SENSITIVITY_KIND_LABELS:
        raise ValueError(f"kind={kind!r}: use one of {', '.join(SENSITIVITY_KIND_LABELS)}")
    rows = _method_rows(indices, "regression", "lhs or sobol")
    rows = rows[rows["index"] == kind]
    if rows.empty:
        raise ValueError(f"no {kind} rows in the indices table")
    keys = _keys(rows)
    n_params = rows.groupby(_ROW_KEY, sort=False).size().max()
    fig, axes = plt.subplots(len(keys), 1, figsize=(9, len(keys) * (0.32 * n_params + 1.3) + 0.6),
                             layout="constrained", squeeze=False)
    reach = 1.0  # the largest |interval end| drawn: every panel shares the scale
    for ax, key in zip(axes[:, 0], keys):
        reach = max(reach, _tornado_panel(ax, rows_of_key(rows, key), key))
    for ax in axes[:, 0]:
        ax.set_xlim(-reach * 1.05, reach * 1.05)
    unit = "metric's" if kind == "src" else "metric's rank's"
    axes[-1, 0].set_xlabel(f"{SENSITIVITY_KIND_LABELS[kind]}\n(the {unit} standard deviations per standard deviation "
                           f"of the parameter)", fontsize=8)
    fig.suptitle(f"Sensitivity of the metrics to the parameters ({kind.upper()})\nwhiskers: bootstrap interval; "
                 f"red: raising the parameter raises the metric, blue: lowers it", fontsize=11)
    return fig


def _tornado_panel(ax, rows: pd.DataFrame, key: tuple[str, str, str]) -> float:
    """One metric's bars (``rows``: its indices of one kind); the largest |interval end| drawn."""
    # Largest |coefficient| on top; parameters without one (constant, no fit) at the bottom.
    rows = rows.assign(_size=rows["value"].abs().fillna(-1.0)).sort_values("_size", ascending=False, kind="stable")
    y = np.arange(len(rows))[::-1]
    coefficient = rows["value"].to_numpy(dtype=float)
    low, high = rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float)
    width = np.nan_to_num(coefficient)
    colours = [INCREASES_COLOUR if value >= 0 else DECREASES_COLOUR for value in width]
    bars = ax.barh(y, width, color=colours, height=0.65)
    for bar, name in zip(bars, rows["parameter"]):
        bar.set_gid(f"bar_{name}")
    reach = 0.0
    has_interval = np.isfinite(low) & np.isfinite(high) & np.isfinite(coefficient)
    if has_interval.any():
        whiskers = np.vstack([coefficient[has_interval] - low[has_interval],
                              high[has_interval] - coefficient[has_interval]])
        ax.errorbar(coefficient[has_interval], y[has_interval], xerr=whiskers, fmt="none", ecolor="black", capsize=3,
                    lw=1, gid="ci")
        reach = float(np.nanmax(np.abs(np.r_[low[has_interval], high[has_interval]])))
    ax.axvline(0, color="black", lw=1)
    ax.set_yticks(y, [parameter_label(name) for name in rows["parameter"]], fontsize=8)
    ax.grid(True, axis="x", alpha=0.3)
    first = rows.iloc[0]
    r_squared = first["r_squared"]
    fit = f"R² = {r_squared:.2f}" if np.isfinite(r_squared) else "no fit"
    dropped = f", {int(first['n_undefined'])} dropped (no value)" if first["n_undefined"] else ""
    ax.set_title(f"{metric_label(*key)}: {fit}, {int(first['n_points'])} points{dropped}", fontsize=10)
    if not np.isfinite(coefficient).any():
        _say_why_empty(ax, rows, "coefficient")
    return reach


def _wide(rows: pd.DataFrame) -> pd.DataFrame:
    """One metric's rows of one method as one row per parameter (in the table's order) and a
    column per index's value, low and high end (``S1``, ``S1_low``, ``S1_high``, ...)."""
    order = list(dict.fromkeys(rows["parameter"]))
    wide = rows.pivot(index="parameter", columns="index", values=["value", "ci_low", "ci_high"]).reindex(order)
    wide.columns = [index if part == "value" else f"{index}_{'low' if part == 'ci_low' else 'high'}"
                    for part, index in wide.columns]
    return wide


def sobol_plot(indices: pd.DataFrame) -> Figure:
    """One panel per metric of the Sobol' rows of ``indices`` (``method`` ``sobol``:
    ``sim.results.sensitivity.sobol_indices``): for each parameter (in words,
    ``parameter_label``) its first-order index S1 (light) and total index ST (dark) as bars,
    with their bootstrap intervals as whiskers, the largest ST on top. Both are shares of the
    metric's variance over the parameters' ranges: ST - S1 is the share the parameter adds in
    interactions, and a parameter whose ST is near 0 does not matter anywhere in its range.
    A metric without indices (undefined at some point) has an empty panel saying why."""
    rows = _method_rows(indices, "sobol", "saltelli")
    keys = _keys(rows)
    n_params = rows["parameter"].nunique()
    ncols = 1 if len(keys) == 1 else 2
    nrows = math.ceil(len(keys) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(7.5 * ncols, nrows * (0.36 * n_params + 1.4) + 0.9),
                             layout="constrained", squeeze=False)
    low, high = 0.0, 1.0  # every panel on one scale, 0 to at least 1 (the whole variance)
    for ax, key in zip(axes.flat, keys):
        drawn_low, drawn_high = _sobol_panel(ax, rows_of_key(rows, key), key)
        low, high = min(low, drawn_low), max(high, drawn_high)
    for position, ax in enumerate(axes.flat):
        ax.set_xlim(low - 0.05, high + 0.05)
        ax.set_visible(position < len(keys))
        if position >= len(keys) - ncols:  # the lowest panel of each column
            ax.set_xlabel("share of the metric's variance over the parameters' ranges", fontsize=9)
    handles = [Patch(color=SOBOL_COLOURS[index], label=SOBOL_WORDS[index]) for index in ("S1", "ST")]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    fig.suptitle("Sobol' indices of the metrics (Saltelli design)\nwhiskers: bootstrap interval", fontsize=11)
    return fig


def _sobol_panel(ax, rows: pd.DataFrame, key: tuple[str, str, str]) -> tuple[float, float]:
    """One metric's S1 and ST bars; the lowest and highest interval ends drawn."""
    wide = _wide(rows)
    wide = wide.assign(_size=wide["ST"].fillna(-1.0)).sort_values("_size", ascending=False, kind="stable")
    y = np.arange(len(wide))[::-1].astype(float)
    height = 0.38
    low, high = 0.0, 0.0
    for index, offset in (("ST", height / 2), ("S1", -height / 2)):
        value = wide[index].to_numpy(dtype=float)
        bars = ax.barh(y + offset, np.nan_to_num(value), height=height, color=SOBOL_COLOURS[index])
        for bar, name in zip(bars, wide.index):
            bar.set_gid(f"{index}_{name}")
        ends = wide[[f"{index}_low", f"{index}_high"]].to_numpy(dtype=float)
        has = np.isfinite(ends).all(axis=1) & np.isfinite(value)
        if has.any():
            whiskers = np.vstack([value[has] - ends[has, 0], ends[has, 1] - value[has]])
            ax.errorbar(value[has], y[has] + offset, xerr=whiskers, fmt="none", ecolor="black", capsize=2.5, lw=0.9,
                        gid=f"ci_{index}")
            low, high = min(low, float(ends[has].min())), max(high, float(ends[has].max()))
    ax.axvline(0, color="black", lw=1)
    ax.set_yticks(y, [parameter_label(name) for name in wide.index], fontsize=8)
    ax.grid(True, axis="x", alpha=0.3)
    first = rows.iloc[0]
    s1_sum = wide["S1"].sum(min_count=1)
    total = f", S1 sum {s1_sum:.2f}" if np.isfinite(s1_sum) else ""
    _panel_title(ax, f"{metric_title(*key)}: {int(first['n_points'])} points{total}")
    if not np.isfinite(wide["ST"].to_numpy(dtype=float)).any():
        _say_why_empty(ax, rows, "index")
    return low, high


def _metric_display(name: str) -> tuple[float, str]:
    """How a difference in metric ``name`` is shown: (factor, unit as written); shares in
    percentage points, a metric outside the catalogue as it is, unitless."""
    try:
        unit = metric(name).unit
    except KeyError:
        return 1.0, ""
    factor, _ = display_unit(unit)
    return factor, difference_unit(unit)


def morris_plot(indices: pd.DataFrame) -> Figure:
    """One panel per metric of the Morris rows of ``indices`` (``method`` ``morris``:
    ``sim.results.sensitivity.morris_indices``): each parameter a point at (mu*, sigma),
    labelled in words (``parameter_label``), with the bootstrap interval of mu* as
    whiskers. Both are in the metric's unit (shares in percentage points) over each
    parameter's whole range. Right: the parameter matters; up: its effect changes with where
    it is measured (non-linear, or interacting). Above the dashed line sigma = mu* the
    effects change much with the point, and may change sign; near the origin a parameter
    can be left at its default. A metric without measures (undefined at some point) has an
    empty panel saying why."""
    rows = _method_rows(indices, "morris", "morris")
    keys = _keys(rows)
    ncols = 1 if len(keys) == 1 else 2
    nrows = math.ceil(len(keys) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(7.0 * ncols, 4.8 * nrows + 0.8), layout="constrained",
                             squeeze=False)
    for ax, key in zip(axes.flat, keys):
        _morris_panel(ax, rows_of_key(rows, key), key)
    for ax in list(axes.flat)[len(keys):]:
        ax.set_visible(False)
    handles = [Line2D([], [], marker="o", ls="", color=MORRIS_COLOUR, label="a parameter (whiskers: interval of μ*)"),
               Line2D([], [], color="grey", ls="--", lw=1, label="σ = μ*: above it, effects depend on where they are "
                                                                  "measured (non-linear or interacting)")]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    fig.suptitle("Morris elementary effects of the parameters over their ranges (μ*: influence, σ: non-linearity "
                 "and interactions)", fontsize=11)
    return fig


def _morris_panel(ax, rows: pd.DataFrame, key: tuple[str, str, str]) -> None:
    """One metric's mu*-sigma plane."""
    wide = _wide(rows)
    factor, unit = _metric_display(key[0])
    mu_star = wide["mu_star"].to_numpy(dtype=float) * factor
    sigma = wide["sigma"].to_numpy(dtype=float) * factor
    low, high = (wide[f"mu_star_{end}"].to_numpy(dtype=float) * factor for end in ("low", "high"))
    shown = np.isfinite(mu_star) & np.isfinite(sigma)
    unit_words = f" ({unit})" if unit else ""
    ax.set_xlabel(f"μ*, mean |elementary effect|{unit_words}", fontsize=9)
    ax.set_ylabel(f"σ, spread of the elementary effects{unit_words}", fontsize=9)
    first = rows.iloc[0]
    _panel_title(ax, f"{metric_title(*key)}: {int(first['n_points'])} points")
    ax.grid(True, alpha=0.3)
    if not shown.any():
        _say_why_empty(ax, rows, "elementary effect")
        return
    x_reach = max(float(np.nanmax(np.where(shown, np.fmax(high, mu_star), np.nan))), 1e-12)
    y_reach = max(float(np.nanmax(sigma[shown])), 1e-12)
    ax.set_xlim(0, x_reach * 1.08)
    ax.set_ylim(0, y_reach * 1.12)
    reach = max(x_reach, y_reach) * 2
    ax.plot([0, reach], [0, reach], color="grey", ls="--", lw=1, gid="sigma_equals_mu_star")
    whiskers = np.vstack([mu_star - low, high - mu_star])
    has = shown & np.isfinite(whiskers).all(axis=0)
    if has.any():
        ax.errorbar(mu_star[has], sigma[has], xerr=whiskers[:, has], fmt="none", ecolor="0.45", lw=0.9, capsize=2,
                    gid="ci")
    ax.scatter(mu_star[shown], sigma[shown], s=28, color=MORRIS_COLOUR, zorder=3, gid="parameters")
    parameters = list(wide.index[shown])
    _label_points(ax, mu_star[shown], sigma[shown], [parameter_label(name) for name in parameters],
                  [f"label_{name}" for name in parameters])


def _spread(positions: np.ndarray, gap: float, bottom: float = 0.03, top: float = 0.97) -> np.ndarray:
    """``positions`` (ascending, axes fraction) moved apart to at least ``gap`` from each
    other, kept within [bottom, top] as far as they fit."""
    placed = np.clip(positions, bottom, top).astype(float)
    for k in range(1, len(placed)):
        placed[k] = max(placed[k], placed[k - 1] + gap)
    if len(placed) and placed[-1] > top:
        placed[-1] = top
        for k in range(len(placed) - 2, -1, -1):
            placed[k] = min(placed[k], placed[k + 1] - gap)
    return placed


def _label_points(ax, x: np.ndarray, y: np.ndarray, labels: list[str], gids: list[str]) -> None:
    """Label each point (data coordinates) with a leader line: the labels to the right of
    points in the left half of the panel, to the left of the others, at heights spread
    apart (in the points' order from the bottom) so that no two share a line."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    fx, fy = (x - x0) / (x1 - x0), (y - y0) / (y1 - y0)
    order = np.argsort(fy, kind="stable")
    gap = min(0.05, 0.94 / max(len(order) - 1, 1))  # a line of 7.5-point text is under 0.04 of a panel
    for i, label_y in zip(order, _spread(fy[order], gap)):
        right = fx[i] < 0.5
        ax.annotate(labels[i], (x[i], y[i]), xytext=(fx[i] + (0.04 if right else -0.04), label_y),
                    textcoords="axes fraction", ha="left" if right else "right", va="center", fontsize=7.5,
                    arrowprops={"arrowstyle": "-", "color": "0.6", "lw": 0.6, "shrinkA": 0, "shrinkB": 3}, gid=gids[i])


def replications_plot(trajectory: pd.DataFrame, precision: float = 0.05) -> Figure:
    """The replications algorithm's trajectory (``sim.running.replication_study.replication_study``): the
    confidence interval's half-width as a share of the mean after n replications, one line
    per output, against the precision wanted (dashed). Log scale: two replications give
    intervals wider than the mean."""
    fig, ax = plt.subplots(figsize=(10, 5), layout="constrained")
    several = trajectory["force"].nunique() > 1
    for (force, metric, by, grade), rows in trajectory.groupby(KEY_COLUMNS, sort=False):
        label = metric_title(metric, by, grade) + (f" ({force})" if several else "")
        ax.plot(rows["replications"], rows["relative_half_width"], marker=".", lw=1.2, label=label)
    level = trajectory["level"].iloc[0] if len(trajectory) else 0.95
    ax.axhline(precision, color="black", ls="--", lw=1, label=f"precision wanted (±{precision:.0%})")
    ax.set(yscale="log", xlabel="replications", ylabel=f"{level:.0%} CI half-width / mean")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title(f"How precise the estimates are after n replications ({level:.0%} intervals)")
    return fig


# --------------------------------------------------------------------------- warm-up


def warmup_plot(welch_frame: pd.DataFrame, warmup_days: float | None = None) -> Figure:
    """Welch's plot for choosing a warm-up (``sim.results.warmup.welch``): one panel per
    window w, each with the quantity's mean over replications day by day (grey) and its
    moving average (colour; undefined over the last w days). ``warmup_days`` (e.g.
    ``suggest_warmup(...).warmup_days``), if given and not NaN, is shaded and marked by a
    dashed line. Read it with the smallest window whose curve is smooth: the warm-up ends
    where that curve levels out."""
    windows = list(dict.fromkeys(welch_frame["window_days"]))
    if not windows:
        raise ValueError("the Welch frame has no rows")
    fig, axes = plt.subplots(len(windows), 1, figsize=(10, 2.4 * len(windows) + 1.2), sharex=True, sharey=True,
                             layout="constrained", squeeze=False)
    colours = plt.get_cmap("viridis")(np.linspace(0.15, 0.75, len(windows)))
    marked = warmup_days is not None and np.isfinite(warmup_days)
    low = min(0.0, float(np.nanmin(welch_frame["replication_mean"])))
    for ax, window_days, colour in zip(axes[:, 0], windows, colours):
        rows = welch_frame[welch_frame["window_days"] == window_days].sort_values("day")
        day = rows["day"].to_numpy(dtype=float)
        ax.plot(day, rows["replication_mean"], color="0.65", lw=0.8, label="mean over replications", gid="mean")
        ax.plot(day, rows["moving_average"], color=colour, lw=1.8, label=f"moving average, w = {window_days:g} days",
                gid=f"moving_average_{window_days:g}")
        if marked:
            ax.axvspan(day.min(), warmup_days, color="grey", alpha=0.12, lw=0)
            ax.axvline(warmup_days, color="black", ls="--", lw=1, label=f"warm-up: {warmup_days:g} days", gid="warmup")
        ax.set_ylim(bottom=low)
        ax.set_xlim(day.min(), day.max())
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)  # off the curves
    quantity = str(welch_frame["quantity"].iloc[0]) if "quantity" in welch_frame.columns else "value"
    reps = int(welch_frame["replications"].iloc[0]) if "replications" in welch_frame.columns else None
    axes[len(windows) // 2, 0].set_ylabel(quantity)
    axes[-1, 0].set_xlabel("simulated day (day 0 = start of the run)")
    fig.suptitle(f"Welch's method: {quantity}" + (f", mean of {reps} replications" if reps else ""), fontsize=11)
    return fig
