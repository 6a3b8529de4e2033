"""The backtest's figures and report: each series observed after the cut against the band of
the replications, with the coverage and the verdict."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Mapping

from matplotlib.figure import Figure

from ..calibration.backtest import Backtest
from ..io.atomic import atomic_write
from .report import html_table, page_start, png_data

OBSERVED, MODEL, BAND = "#222222", "#1f77b4", "#9ecae1"

TITLES = {"enforcements_a_month": "Enforcements a month",
          "open_at_month_end": "Cases open at each month's end, by the grade known then",
          "still_waiting_for_enforcement": "New referrals still waiting for enforcement (Kaplan-Meier), by grade"}


def series_figure(result: Backtest, series: str) -> Figure:
    """One series: a panel a group, the observed points over the replications' band."""
    rows = result.table[result.table["series"] == series]
    groups = list(dict.fromkeys(rows["group"]))
    fig = Figure(figsize=(min(3.2 * len(groups), 14), 3.4) if len(groups) > 1 else (8, 4), layout="constrained")
    axes = fig.subplots(1, len(groups), squeeze=False)[0]
    for ax, group in zip(axes, groups):
        part = rows[rows["group"] == group]
        x = part["day"] if series == "still_waiting_for_enforcement" else part["date"]
        ax.fill_between(x, part["simulated_low"], part["simulated_high"], color=BAND, alpha=0.6, lw=0,
                        label=f"model: central {result.level:.0%}", step="mid" if series != "enforcements_a_month" else None)
        ax.plot(x, part["simulated_median"], color=MODEL, lw=1.2, label="model: median")
        inside = part["inside"] == 1
        ax.plot(x[inside], part["observed"][inside], "o", color=OBSERVED, ms=3.5, label="observed, inside")
        ax.plot(x[~inside & part["inside"].notna()], part["observed"][~inside & part["inside"].notna()], "o",
                color="#d62728", ms=3.5, label="observed, outside")
        coverage = part["inside"].dropna().mean()
        ax.set_title(f"{group if group != 'all' else ''} ({coverage:.0%} inside)".strip(), fontsize=9)
        if series == "still_waiting_for_enforcement":
            ax.set_xlabel("days since referral", fontsize=8)
            ax.set_ylim(0, 1.02)
        else:
            ax.tick_params(axis="x", labelrotation=45, labelsize=7)
        ax.set_ylim(bottom=0)
    axes[0].legend(fontsize=7, frameon=False, loc="best")
    fig.suptitle(TITLES[series], fontsize=10)
    return fig


def backtest_figures(result: Backtest) -> dict[str, Figure]:
    """The backtest's figures by file name."""
    return {f"backtest_{series}.png": series_figure(result, series) for series in TITLES}


def render_backtest_report(result: Backtest, figures: Mapping[str, Figure], command: str) -> str:
    """The report as one HTML string."""
    calibration = result.calibration
    parts = [
        page_start("casesim backtest"),
        f"<h1>Backtest of {html.escape(calibration.log_name)}</h1>",
        f"<p>Calibrated on the log as it stood at the end of {result.train_until:%d %B %Y} "
        f"({calibration.n_cases:,} referrals, {len(calibration.backlog.table):,} of them open then); the months to "
        f"{result.as_of:%d %B %Y} predicted by {result.replications} replications from those open cases, with "
        f"referrals projected from the trend seen before the cut. Made by <code>{html.escape(command)}</code>.</p>",
        f"<h2>Coverage {result.overall_coverage:.0%}: {html.escape(result.verdict)}</h2>",
        f"<p>The share of observed points inside the model's central {result.level:.0%} band; a model as "
        f"uncertain as the force itself covers about {result.level:.0%}.</p>",
        html_table(result.coverage),
    ]
    for name, figure in figures.items():
        parts.append(f"<img alt='{name}' src='data:image/png;base64,{png_data(figure)}'>")
    parts += ["<p>The calibration the backtest made is in <code>calibration/</code>, with its own report "
              "tables; backtest.csv holds every point.</p>", "</body></html>"]
    return "\n".join(parts)


def write_backtest_report(result: Backtest, path: Path, figures: Mapping[str, Figure], command: str) -> Path:
    """Write the report to ``path``; returns it."""
    text = render_backtest_report(result, figures, command)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path
