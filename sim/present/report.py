"""A self-contained HTML report of a scenario comparison: figures embedded, the headline
differences with confidence intervals, what each scenario changes, and the assumptions."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Sequence

import pandas as pd
from matplotlib.figure import Figure

from ..config.convert import changed_parameters
from ..config.schema import SimConfig
from ..results.comparison import Comparison, headline_differences
from ..results.findings import (Finding, comparison_findings, difference_text, interval_text, metric_words,
                                no_comparison_findings, value_text, verdict_of)

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
            "border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}table.t th{background:#f4f4f4}.l{text-align:left!important}"
            ".note{color:#555;font-size:12px;white-space:normal!important}.meta{color:#555}ul.findings li{margin:.4em 0;line-height:1.4}"
            "li.warning{color:#8a3b00}.better{color:#1a6e2e;font-weight:bold}.worse{color:#b00020;font-weight:bold}"
            ".same{color:#555}img{max-width:100%}</style></head><body>")


def html_table(frame: pd.DataFrame) -> str:
    """``frame`` as an HTML table, numbers to three significant figures, missing as a dash."""
    return frame.to_html(index=False, float_format=lambda v: f"{v:,.3g}", border=0, classes="t", na_rep="–")


def render(comparison: Comparison, figures: dict[str, Figure]) -> str:
    """The report as one HTML string: what each scenario changes in plain words first, then
    the headline differences in readable names and units with their intervals, each marked
    better, worse or no real difference; the figures; the parameters each scenario changes;
    the assumptions."""
    base = comparison.baseline.config
    total = comparison.total_name
    findings = comparison_findings(comparison.table, total)
    parts = [
        page_start("casesim comparison"),
        f"<h1>Scenarios against the baseline: {html.escape(', '.join(base.force_names))}</h1>",
        f"<p class='meta'>{base.run.replications:,} replication{'' if base.run.replications == 1 else 's'} of "
        f"{base.run.horizon_days:g} days, seed "
        f"{base.run.seed}, the same cases in every scenario; scenarios: "
        f"{', '.join(html.escape(name) for name in comparison.scenarios)}.</p>",
        "<h2>What the scenarios change</h2>",
        findings_html(findings) if findings else f"<p>{html.escape(no_comparison_findings(base.run.replications))}</p>",
        "<h2>Headline differences</h2>",
        "<p>Scenario minus baseline, paired replication by replication, with its 95 % interval. "
        "<span class='better'>Better</span> or <span class='worse'>worse</span> where the interval "
        "excludes no change.</p>",
        difference_html(comparison, total),
    ]
    if base.forces:  # a region: the same differences force by force
        for force in base.force_names:
            parts += [f"<h3>{html.escape(force)}</h3>", difference_html(comparison, force)]
    for title, fig in figures.items():
        parts.append(f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' "
                     f"src='data:image/png;base64,{png_data(fig)}'>")
    parts.append("<h2>What each scenario changes</h2>")
    for name, results in comparison.scenarios.items():
        parts.append(f"<h3>{html.escape(name)}</h3>" + changed_parameters_html(base, results.config))
    parts.append("<h2>Assumptions</h2><ul>" + "".join(f"<li>{html.escape(assumption)}</li>"
                                                      for assumption in ASSUMPTIONS) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


DIFFERENCE_COLUMNS = ["Scenario", "Measure", "Baseline", "With scenario", "Difference (95 % interval)", "Verdict",
                      "Note"]
"""The columns of the readable table of headline differences (``difference_table``)."""


def difference_table(table: pd.DataFrame, force: str) -> pd.DataFrame:
    """The headline differences of ``force`` (``Comparison.table``'s rows) as text a planner
    reads: the measure in words, baseline and scenario values in their units, the difference
    and its 95 % interval, and the verdict (better, worse, no real difference)."""
    rows = []
    for row in headline_differences(table, force).itertuples(index=False):
        label, unit = metric_words(row.metric, row.by, row.grade)
        difference = f"{difference_text(row.difference, unit)} ({interval_text(row.ci_low, row.ci_high, unit)})"
        rows.append((row.scenario, label[0].upper() + label[1:], value_text(row.baseline, unit), value_text(row.value, unit), difference,
                     verdict_of(row), row.note if isinstance(row.note, str) else ""))
    return pd.DataFrame(rows, columns=DIFFERENCE_COLUMNS)


def difference_html(comparison: Comparison, force: str) -> str:
    """``difference_table`` as HTML, each verdict coloured."""
    style = {"better": "better", "worse": "worse"}
    head = "".join(f"<th class='{'l' if c in ('Scenario', 'Measure', 'Verdict', 'Note') else ''}'>{c}</th>"
                   for c in DIFFERENCE_COLUMNS)
    rows = [f"<tr>{head}</tr>"]
    for row in difference_table(comparison.table, force).itertuples(index=False):
        rows.append(f"<tr><td class='l'>{html.escape(row[0])}</td><td class='l'>{html.escape(row[1])}</td>"
                    f"<td>{html.escape(row[2])}</td><td>{html.escape(row[3])}</td><td>{html.escape(row[4])}</td>"
                    f"<td class='l {style.get(row[5], 'same')}'>{html.escape(row[5])}</td>"
                    f"<td class='l note'>{html.escape(row[6])}</td></tr>")
    return "<table class='t'>" + "".join(rows) + "</table>"


def changed_parameters_html(baseline: SimConfig, config: SimConfig) -> str:
    """Every parameter ``config`` changes from ``baseline``, as a table (or a sentence if none)."""
    changed = changed_parameters(baseline, config)
    if not changed:
        return "<p>No parameter differs from the baseline.</p>"
    rows = "".join(f"<tr><td class='l'><code>{html.escape(key)}</code></td><td>{html.escape(plain_value(before))}</td>"
                   f"<td>{html.escape(plain_value(after))}</td></tr>" for key, before, after in changed)
    return (f"<table class='t'><tr><th class='l'>Parameter</th><th>Baseline</th><th>Scenario</th></tr>{rows}</table>")


def plain_value(value) -> str:
    """A parameter's value as a planner reads it: lists joined, whole numbers without ``.0``,
    a dash where the configuration has no such key."""
    if value is None:
        return "—"
    if isinstance(value, tuple):
        return ", ".join(plain_value(v) for v in value) or "none"
    if isinstance(value, float) and value.is_integer():
        return f"{value:,.0f}"
    return str(value)


def findings_html(findings: Sequence[Finding]) -> str:
    """Findings as a list, warnings marked as such."""
    if not findings:
        return "<p>No findings.</p>"
    items = [f"<li class='warning'><strong>Warning:</strong> {html.escape(f.text)}</li>" if f.topic == "overload"
             else f"<li>{html.escape(f.text)}</li>" for f in findings]
    return "<ul class='findings'>" + "".join(items) + "</ul>"


def write_report(comparison: Comparison, path: str | Path, figures: dict[str, Figure]) -> Path:
    """Write the report (``render``) to ``path`` and return it."""
    path = Path(path)
    path.write_text(render(comparison, figures), encoding="utf-8")
    return path
