"""The one-page report of a run (``report.html``, self-contained): the findings in plain words
first, then the headline table by assigned grade and by true risk with intervals, the
figures, what was run (scenario, the parameters changed from the baseline, replications) and
the assumptions. A planner reads it top to bottom; nothing on it is an internal name."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Sequence

import pandas as pd

from ..config.schema import SimConfig
from ..results.findings import Finding
from ..results.headline import HEADLINE_SHEET, MEASURES
from .headline_cells import cell_text
from .national_cells import national_cells
from .report import ASSUMPTIONS, changed_parameters_html, findings_html, page_start

FIGURE_TITLES = {"survival.png": "Still waiting for arrest, by grade",
                 "where_the_time_goes.png": "Where the time goes",
                 "wip.png": "Cases in progress over the run",
                 "national_survival.png": "The nation: still waiting for arrest, by assigned grade",
                 "national_past_18_months.png": "The nation: waiting past 18 months, by force and region",
                 "national_grid.png": "The nation: forces in their regions, by share past 18 months"}
"""The run folder's figures, in the order the report shows them, with their headings."""
_HEADINGS = {"Target (days)": "Target (days)", "Cases": "Cases", "Median days to arrest": "Median days",
             "90th percentile (days)": "90th percentile (days)", "Share past target (%)": "Past target (%)",
             "Cases past 18 months": "Waiting past 18 months"}


def render_run_report(config: SimConfig, sheets: dict[str, pd.DataFrame], findings: Sequence[Finding],
                      figures: Sequence[Path], baseline: SimConfig | None = None, outcomes: str = "",
                      overrides: Sequence[str] = (), national: pd.DataFrame | None = None) -> str:
    """The report as one HTML string: ``sheets`` are the run's headline sheets
    (``sim.results.headline.headline_sheets``), ``findings`` its findings, ``figures`` the
    PNG files to embed (those named in ``FIGURE_TITLES``, in its order), ``baseline`` the
    configuration the changed parameters are listed against (none: not listed) and
    ``outcomes`` the sentences on arrests and outcomes (``sim.present.console.outcomes_text``)
    and ``overrides`` those given on the command line. A run of several regions given its
    ``national`` table (``sim.results.national.national_table``) shows it, the nation's and
    each region's rows, in place of a table per force."""
    forces = ", ".join(config.force_names)
    run = config.run
    parts = [
        page_start(f"casesim: {config.scenario}"),
        f"<h1>{html.escape(config.scenario)}: {html.escape(forces)}</h1>",
        f"<p class='meta'>{_count(run.replications, 'replication')} of {run.horizon_days / 365:.1f} years "
        f"({run.horizon_days:g} days{f', the first {run.warmup_days:g} a warm-up' if run.warmup_days else ''}), "
        f"seed {run.seed}.</p>",
        "<h2>What the run shows</h2>",
        f"<p>{html.escape(outcomes)}</p>" if outcomes else "",
        findings_html(findings),
        "<h2>Time from referral to arrest or voluntary interview</h2>",
        "<p>Means over the replications, with 95 % intervals in brackets; a dash where the value "
        "is not reached (the note says in how many replications).</p>",
        headline_html(sheets[HEADLINE_SHEET]),
    ]
    if national is not None:
        parts += ["<h2>The nation and its regions, by assigned grade</h2>",
                  "<p>Means over the replications, with 95 % intervals in brackets. Past 18 months: referrals "
                  "not arrested or interviewed within 548 days, counted a year of those that arrived at least 548 "
                  "days before the end, and their share of those referrals. Each force's numbers are in "
                  "<code>national_forces.csv</code> and <code>headline.csv</code>.</p>",
                  national_html(national)]
    elif config.forces:
        for force in config.force_names:
            if force in sheets:
                parts += [f"<h3>{html.escape(force)}</h3>", headline_html(sheets[force])]
    by_name = {Path(path).name: Path(path) for path in figures}
    for name, title in FIGURE_TITLES.items():
        if name in by_name:
            data = base64.b64encode(by_name[name].read_bytes()).decode("ascii")
            parts.append(f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' src='data:image/png;base64,{data}'>")
    parts.append("<h2>What was run</h2>" + what_was_run_html(config, baseline, overrides))
    parts.append("<h2>Assumptions</h2><ul>" + "".join(f"<li>{html.escape(a)}</li>" for a in ASSUMPTIONS) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def headline_html(sheet: pd.DataFrame) -> str:
    """A headline sheet as an HTML table: one block by assigned grade, one by true risk, the
    truly high-risk referrals graded lower and all referrals; notes in the last column."""
    columns = ["Target (days)", *(m.heading for m in MEASURES)]
    head = "".join(f"<th>{html.escape(_HEADINGS[c])}</th>" for c in ["Target (days)", *(m.heading for m in MEASURES)])
    rows = [f"<tr><th class='l'>Grouped by</th><th class='l'>Grade</th>{head}<th class='l'>Note</th></tr>"]
    for _, row in sheet.iterrows():
        cells = "".join(f"<td>{html.escape(cell_text(row, c))}</td>" for c in columns)
        note = row["Note"] if isinstance(row["Note"], str) else ""
        rows.append(f"<tr><td class='l'>{html.escape(row['Grouped by'])}</td><td class='l'>{html.escape(row['Risk grade'])}"
                    f"</td>{cells}<td class='l note'>{html.escape(note)}</td></tr>")
    return "<table class='t'>" + "".join(rows) + "</table>"


def national_html(national: pd.DataFrame) -> str:
    """The nation's headline table (``national_table``) as an HTML table, an area's name on
    its first row."""
    cells = national_cells(national)
    head = "".join(f"<th class='{'l' if k < 2 else ''}'>{html.escape(c)}</th>" for k, c in enumerate(cells.columns))
    rows = [f"<tr>{head}</tr>"]
    previous = None
    for row in cells.itertuples(index=False):
        area = row[0] if row[0] != previous else ""
        previous = row[0]
        rows.append(f"<tr><td class='l'>{html.escape(area)}</td><td class='l'>{html.escape(row[1])}</td>"
                    + "".join(f"<td>{html.escape(c)}</td>" for c in row[2:]) + "</tr>")
    return "<table class='t'>" + "".join(rows) + "</table>"


def what_was_run_html(config: SimConfig, baseline: SimConfig | None, overrides: Sequence[str] = ()) -> str:
    """The scenario, its run settings, the overrides it was given and every parameter it
    changes from ``baseline`` (none: not listed, as for a region, whose forces the
    single-force baseline does not have)."""
    run = config.run
    settings = (f"<p>Scenario <strong>{html.escape(config.scenario)}</strong>; {_count(run.replications, 'replication')}; "
                f"{run.horizon_days:g} days; warm-up {run.warmup_days:g} days; seed {run.seed}"
                + (f"; forces {html.escape(', '.join(config.force_names))}" if config.forces else "") + ".</p>")
    if overrides:
        settings += ("<p>Given on the command line: " + ", ".join(f"<code>{html.escape(o)}</code>" for o in overrides)
                     + ".</p>")
    if baseline is None:
        return settings
    return settings + "<p>Parameters that differ from the baseline:</p>" + changed_parameters_html(baseline, config)


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def write_run_report(path: str | Path, *args, **kwargs) -> Path:
    """Write ``render_run_report(*args, **kwargs)`` to ``path`` and return it."""
    path = Path(path)
    path.write_text(render_run_report(*args, **kwargs), encoding="utf-8")
    return path
