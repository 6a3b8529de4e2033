"""Figures for analysts: the sensitivity tornado, the replication-count trajectory and the
warm-up (Welch) plot."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from ..results.catalogue import KEY_COLUMNS
from .style import metric_label, metric_title, rows_of_key

# --------------------------------------------------------------------------- sensitivity

SENSITIVITY_KIND_LABELS = {"src": "standardised regression coefficient (SRC)",
                           "srrc": "standardised rank regression coefficient (SRRC)"}
INCREASES_COLOUR = "#b2182b"  # raising the parameter raises the metric (for the tail: worse)
DECREASES_COLOUR = "#2166ac"


def tornado_plot(indices: pd.DataFrame, kind: str = "src") -> Figure:
    """One panel per metric of ``indices`` (``sim.results.sensitivity.regression_indices``):
    a horizontal bar per parameter, its standardised coefficient of kind ``kind`` (``src``
    or ``srrc``) with the bootstrap interval as whiskers, the largest in magnitude on top.
    Red bars raise the metric as the parameter rises, blue bars lower it. The panel title
    gives R^2 of the fit, the share of the metric's variance over the design the linear (or
    rank) model explains: with a low R^2 the bars do not tell the whole story."""
    if kind not in SENSITIVITY_KIND_LABELS:
        raise ValueError(f"kind={kind!r}: use one of {', '.join(SENSITIVITY_KIND_LABELS)}")
    rows = indices[indices["kind"] == kind]
    if rows.empty:
        raise ValueError(f"no {kind} rows in the indices table")
    row_key = KEY_COLUMNS[1:]  # (metric, by, grade)
    keys = list(dict.fromkeys(rows[row_key].itertuples(index=False, name=None)))
    n_params = rows.groupby(row_key, sort=False).size().max()
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
    rows = rows.assign(_size=rows["coefficient"].abs().fillna(-1.0)).sort_values("_size", ascending=False,
                                                                                 kind="stable")
    y = np.arange(len(rows))[::-1]
    coefficient = rows["coefficient"].to_numpy(dtype=float)
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
    ax.set_yticks(y, list(rows["parameter"]), fontsize=8)
    ax.grid(True, axis="x", alpha=0.3)
    first = rows.iloc[0]
    r_squared = first["r_squared"]
    fit = f"R² = {r_squared:.2f}" if np.isfinite(r_squared) else "no fit"
    dropped = f", {int(first['n_dropped'])} dropped (no value)" if first["n_dropped"] else ""
    ax.set_title(f"{metric_label(*key)}: {fit}, {int(first['n_points'])} points{dropped}", fontsize=10)
    if not np.isfinite(coefficient).any():  # say why the panel is empty rather than leave it blank
        why = next((note for note in rows["note"] if note), "no coefficient")
        ax.text(0.5, 0.5, why.replace("; ", "\n"), transform=ax.transAxes, ha="center", va="center", fontsize=9,
                color="dimgrey", bbox={"facecolor": "white", "edgecolor": "none"}, gid="no_fit")
    return reach


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
