"""The calibration's figures and its self-contained HTML report: what the log says of the
force, what the simulation fit chose and how well the calibrated model reproduces the log,
and the projected referrals."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Mapping

import numpy as np
from matplotlib.figure import Figure

from ..calibration.calibrate import Calibration
from ..calibration.folder import calibration_table
from ..io.atomic import atomic_write
from .report import html_table, page_start, png_data
from .style import new_axes

OBSERVED, MODEL, BAND = "#222222", "#1f77b4", "#9ecae1"


def referrals_figure(calibration: Calibration) -> Figure:
    """Referrals a month: observed (each month's count at a whole month's pace), the fitted
    trend and season, and the projection with the interval of its expectation and the band
    a month's count may fall in."""
    fig, ax = new_axes(None, figsize=(9, 4.8))
    monthly = calibration.referrals.monthly
    pace = monthly["referrals"] * monthly["month"].dt.days_in_month / monthly["days"]
    ax.plot(monthly["month"], pace, "o", color=OBSERVED, ms=4, label="observed (a part month at its pace)")
    fitted = calibration.referrals.project(len(monthly), monthly["month"].iloc[0], draws=500)
    ax.plot(fitted["month"], fitted["central"], color=MODEL, lw=1.5, label="fitted trend and season")
    projection = calibration.projection
    ax.fill_between(projection["month"], projection["predicted_low"], projection["predicted_high"], color=BAND,
                    alpha=0.35, lw=0, label="projection: a month's count (95 %)")
    ax.fill_between(projection["month"], projection["low"], projection["high"], color=MODEL, alpha=0.35, lw=0,
                    label="projection: expected (95 %)")
    ax.plot(projection["month"], projection["central"], color=MODEL, lw=1.5, ls="--", label="projection: central")
    ax.axvline(calibration.as_of, color="#777777", lw=1, ls=":")
    ax.set_ylabel("referrals a month")
    ax.set_ylim(bottom=0)
    ax.set_title(f"Referrals: growth {calibration.referrals.growth_per_year[0]:+.0%} a year")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return fig


def fit_figure(calibration: Calibration) -> Figure:
    """Each statistic the fit matched: the observed value's distance from the calibrated
    model's runs, in standard deviations of their variation and the allowed discrepancy
    (within 2 is as close as one history of the force would be)."""
    residuals = calibration.fit.residuals
    height = max(3.0, 0.22 * len(residuals) + 1.2)
    fig, ax = new_axes(None, figsize=(8, height))
    y = np.arange(len(residuals))[::-1]
    z = residuals["z"].to_numpy(dtype=float)
    far = np.abs(z) > 2
    ax.axvspan(-2, 2, color=BAND, alpha=0.35, lw=0, label="within 2 standard deviations")
    ax.axvline(0, color="#777777", lw=1)
    ax.plot(z[~far], y[~far], "o", color=MODEL, ms=5)
    ax.plot(z[far], y[far], "o", color="#d62728", ms=5, label="further off")
    ax.set_yticks(y, [label.replace("_", " ") for label in residuals["statistic"]], fontsize=7)
    ax.set_xlabel("observed minus the calibrated model's mean, in standard deviations (runs and discrepancy)")
    ax.set_title("How closely the calibrated model reproduces the log")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    return fig


def parameters_figure(calibration: Calibration) -> Figure:
    """Each fitted parameter on its searched range: the values not ruled out (bar) and the
    value chosen (dot)."""
    fit = calibration.fit
    fig, ax = new_axes(None, figsize=(8, 0.6 * len(fit.parameters) + 1.4))
    for k, (parameter, row) in enumerate(zip(fit.parameters, fit.table.itertuples(index=False))):
        y = len(fit.parameters) - 1 - k
        low, high, value = (float(parameter.to_unit(v)) for v in (row.low, row.high, row.value))
        ax.plot([0, 1], [y, y], color="#dddddd", lw=6, solid_capstyle="butt")
        ax.plot([low, high], [y, y], color=BAND, lw=6, solid_capstyle="butt")
        ax.plot([value], [y], "o", color=MODEL, ms=7)
        ax.text(1.02, y, f"{row.value:.3g} ({row.low:.3g} to {row.high:.3g}) {parameter.unit}", va="center",
                fontsize=8)
    ax.set_yticks(range(len(fit.parameters))[::-1], [p.key for p in fit.parameters], fontsize=8)
    ax.set_xticks([0, 1], ["least searched", "most searched"])
    ax.set_xlim(-0.02, 1.0)
    ax.set_title("Fitted parameters: chosen value and the values not ruled out")
    return fig


def calibration_figures(calibration: Calibration) -> dict[str, Figure]:
    """The calibration's figures by file name."""
    figures = {"referrals.png": referrals_figure(calibration)}
    if calibration.fit is not None:
        figures["fit.png"] = fit_figure(calibration)
        figures["fitted_parameters.png"] = parameters_figure(calibration)
    return figures


def render_calibration_report(calibration: Calibration, figures: Mapping[str, Figure], command: str) -> str:
    """The report as one HTML string."""
    name, log = calibration.config.force, html.escape(calibration.log_name)
    table = calibration_table(calibration)
    from_log = table[table["source"].str.startswith("fitted from")]
    parts = [
        page_start("casesim calibration", 1100),
        f"<h1>{html.escape(name)}, calibrated from {log}</h1>",
        f"<p>{calibration.n_cases:,} referrals from {calibration.start:%d %B %Y} to the extract date "
        f"{calibration.as_of:%d %B %Y}; {len(calibration.backlog.table):,} cases open then, the calibrated force's "
        f"starting backlog. Made by <code>{html.escape(command)}</code>.</p>",
        "<h2>What the log says directly</h2>",
        html_table(from_log[["parameter", "value", "low", "high", "method", "n"]]),
    ]
    if calibration.fit is not None:
        fit = calibration.fit
        parts += [
            "<h2>What the simulation fit chose</h2>",
            f"<p>{fit.runs:,} simulated replications of the log's own period and referrals, in {fit.seconds:.0f} s. "
            f"The interval is the range of values the log does not rule out ({fit.plausible_share:.1%} of the range "
            "searched): everything consistent with the log within one history's chance variation, the emulator's "
            "uncertainty and the model's allowed discrepancy (about 8 % of each wait or count).</p>",
            html_table(fit.table),
            _image(figures, "fitted_parameters.png"),
            "<h2>How closely the calibrated model reproduces the log</h2>",
            _image(figures, "fit.png"),
            html_table(fit.residuals),
        ]
        if fit.misses_line():
            parts.insert(-2, f"<p><strong>Warning</strong>: {html.escape(fit.misses_line())}. Read the residuals "
                             "below before relying on the calibrated force for those waits.</p>")
        if fit.plausible_share == 0:
            parts.insert(-3, "<p><strong>No parameter values reproduce the log within its noise</strong>: the "
                             "closest are reported. Look at the statistics furthest off below.</p>")
    yearly = calibration.projection.assign(year=calibration.projection["month"].dt.year).groupby("year")[
        ["central", "low", "high", "predicted_low", "predicted_high"]].sum().reset_index()
    parts += [
        "<h2>Referrals, and their projection</h2>", _image(figures, "referrals.png"),
        "<p>Projected referrals a year (the interval of the expectation; the yearly sum of each month's "
        "prediction band is wider than a year's):</p>", html_table(yearly),
        "<h2>The log's warnings</h2>",
        ("<ul>" + "".join(f"<li>{html.escape(str(w))}</li>" for w in calibration.warnings) + "</ul>"
         if calibration.warnings else "<p>None.</p>"),
    ]
    if calibration.backlog.left_out:
        parts.append("<p>Open cases left out of the backlog: " + "; ".join(
            f"{n} ({html.escape(reason)})" for reason, n in calibration.backlog.left_out.items()) + ".</p>")
    parts += [
        "<h2>Run it</h2>",
        f"<p><code>casesim --config-dir DIR --config-name {html.escape(name)}</code> runs the calibrated force "
        f"from the extract date; <code>--config-name {html.escape(name)}_projection_high</code> (or _central, "
        "_low) on a projection of its referrals. calibration.csv lists every parameter with its source.</p>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _image(figures: Mapping[str, Figure], name: str) -> str:
    return f"<img alt='{name}' src='data:image/png;base64,{png_data(figures[name])}'>" if name in figures else ""


def write_calibration_report(calibration: Calibration, path: Path, figures: Mapping[str, Figure],
                             command: str) -> Path:
    """Write the report to ``path``; returns it."""
    text = render_calibration_report(calibration, figures, command)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path

