"""A self-contained HTML report of a scenario comparison: figures embedded, the headline
differences with confidence intervals, what each scenario changes, and the assumptions."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from ..config.convert import changed_parameters
from ..results.catalogue import KEY_COLUMNS
from ..results.comparison import Comparison, headline_differences

ASSUMPTIONS = (
    "Every scenario runs the same replications with the same seed: replication r of each sees the same "
    "referrals and the same intrinsic draws (common random numbers), so differences are paired.",
    "Time to arrest runs from the referral reaching the force to the executed warrant that ends in arrest or "
    "voluntary interview; cases not arrested are right-censored (Kaplan-Meier), never dropped.",
    "Distributions describe referrals arriving during the run; the day-0 backlog has its own rows.",
    "Intervals are 95 % Student-t intervals over replications of the paired differences.",
    "Defaults are a calibration of a stressed medium force, not a measurement of any one force; each parameter's "
    "source, or [E] for an estimate, is listed in docs/parameters.md.",
)


HEADLINE_TABLE_COLUMNS = ["scenario", *KEY_COLUMNS[1:], "baseline", "value", "difference", "ci_low", "ci_high", "note"]
"""The columns of the report's tables of headline differences."""


def png_data(fig: Figure) -> str:
    """``fig`` as a base64 PNG, to embed in HTML."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def page_start(title: str, width_px: int = 1200) -> str:
    """The opening of a self-contained HTML report titled ``title``: the page's look (fonts,
    tables, images) shared by every report."""
    return ("<!doctype html><html><head><meta charset='utf-8'><title>" + html.escape(title) + "</title><style>"
            f"body{{font-family:sans-serif;max-width:{width_px}px;margin:2em auto;color:#222}}"
            "table.t{border-collapse:collapse;font-size:13px}table.t td,table.t th{padding:3px 8px;"
            "border-bottom:1px solid #ddd;text-align:right}img{max-width:100%}</style></head><body>")


def html_table(frame: pd.DataFrame) -> str:
    """``frame`` as an HTML table, numbers to three significant figures, missing as a dash."""
    return frame.to_html(index=False, float_format=lambda v: f"{v:,.3g}", border=0, classes="t", na_rep="–")


def render(comparison: Comparison, figures: dict[str, Figure]) -> str:
    """The report as one HTML string."""
    base = comparison.baseline.config
    parts = [
        page_start("casesim comparison"),
        f"<h1>Scenarios against the baseline: {html.escape(', '.join(base.force_names))}</h1>",
        f"<p>{base.run.replications} replications of {base.run.horizon_days:g} days, seed {base.run.seed}; "
        f"scenarios: {', '.join(html.escape(name) for name in comparison.scenarios)}.</p>",
        "<h2>Headline differences (scenario − baseline)</h2>",
        _headline_table(comparison, comparison.total_name),
    ]
    if base.forces:  # a region: the same differences force by force
        for force in base.force_names:
            parts += [f"<h3>{html.escape(force)}</h3>", _headline_table(comparison, force)]
    for title, fig in figures.items():
        parts.append(f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' "
                     f"src='data:image/png;base64,{png_data(fig)}'>")
    parts.append("<h2>What each scenario changes</h2>")
    for name, results in comparison.scenarios.items():
        changed = pd.DataFrame(changed_parameters(base, results.config),
                               columns=["parameter", "baseline", "scenario"]).astype(str)
        parts.append(f"<h3>{html.escape(name)}</h3>"
                     + (html_table(changed) if len(changed) else "<p>No parameter changed.</p>"))
    parts.append("<h2>Assumptions</h2><ul>" + "".join(f"<li>{html.escape(assumption)}</li>"
                                                      for assumption in ASSUMPTIONS) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _headline_table(comparison: Comparison, force: str) -> str:
    """The headline differences of ``force`` as an HTML table."""
    return html_table(headline_differences(comparison.table, force)[HEADLINE_TABLE_COLUMNS])


def write_report(comparison: Comparison, path: str | Path, figures: dict[str, Figure]) -> Path:
    """Write the report (``render``) to ``path`` and return it."""
    path = Path(path)
    path.write_text(render(comparison, figures), encoding="utf-8")
    return path
