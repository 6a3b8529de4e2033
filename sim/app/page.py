"""The workbench's page, piece by piece: the form of levers, the list of jobs, a job's
progress and its results. Pure builders of HTML (``htmltools`` tags), so that what a
planner sees is decided here and the server only wires it up.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Sequence

from shiny import ui

from ..config.schema import SimConfig
from ..domain import GRADES
from ..present.report import plain_value
from ..present.run_report import FIGURE_TITLES
from .fields import Field, fields_for, grouped, value_at
from .jobs import Job

KIND_WORDS = {"run": "Run", "compare": "Comparison", "search": "Staffing search"}
STATE_WORDS = {"running": "running", "finished": "finished", "failed": "failed", "cancelled": "cancelled",
               "stopped": "stopped (its process ended without finishing)"}
FIGURE_WORDS = {**FIGURE_TITLES, "survival_comparison.png": "Time to arrest by true risk, each scenario",
                "forest.png": "Differences from the baseline, with 95 % intervals"}

SCRIPT = """
Shiny.addCustomMessageHandler('field_errors', function(errors) {
  document.querySelectorAll('.field-error').forEach(function(el) { el.textContent = ''; });
  document.querySelectorAll('.casesim-field').forEach(function(el) { el.classList.remove('has-error'); });
  Object.keys(errors).forEach(function(id) {
    var box = document.getElementById('err_' + id);
    if (box) { box.textContent = errors[id]; box.closest('.casesim-field').classList.add('has-error'); }
  });
});
Shiny.addCustomMessageHandler('show_job', function(id) {
  var url = new URL(window.location);
  url.searchParams.set('job', id);
  window.history.replaceState(null, '', url);
});
"""
STYLE = """
.casesim-field{margin-bottom:.6rem}.casesim-field .help{font-size:.8rem;color:#555;margin-top:-.6rem}
.casesim-field.has-error input,.casesim-field.has-error select{border-color:#b00020;background:#fff5f5}
.field-error{color:#b00020;font-size:.85rem;font-weight:600}
table.t{border-collapse:collapse;margin:.5rem 0 1rem}table.t td,table.t th{border-bottom:1px solid #ddd;
padding:.2rem .5rem;text-align:right}table.t .l{text-align:left}.note{color:#666;font-size:.85rem}
ul.findings li{margin-bottom:.3rem}li.warning{color:#8a3b00}.better{color:#1a6e2e;font-weight:bold}
.worse{color:#b00020;font-weight:bold}.same{color:#555}img.figure{max-width:100%;margin-bottom:1rem}
.job-row td{vertical-align:middle}
"""


def field_input(field: Field, value: Any, baseline_default: str) -> ui.Tag:
    """One lever: its input (holding ``value``, the starting point's), its unit, the
    baseline's default and source from the data dictionary, and a place for its error."""
    label = f"{field.label} ({field.unit})"
    if field.kind == "bool":
        control = ui.input_switch(field.input_id, label, bool(value))
    elif field.kind == "grades":
        control = ui.input_checkbox_group(field.input_id, label, list(GRADES), selected=list(value or ()),
                                          inline=True)
    elif field.kind == "choice":
        control = ui.input_select(field.input_id, label, list(field.choices), selected=str(value))
    else:
        control = ui.input_numeric(field.input_id, label, value)
    entry = field.entry
    source = entry.source if entry.source not in ("", "—") else "none named"
    meaning = entry.meaning[:1].upper() + entry.meaning[1:]
    help_text = f"{meaning}. Baseline default: {baseline_default}. Source: {source}."
    if field.blank:
        help_text += " Leave empty for none."
    return ui.div(control, ui.p(help_text, class_="help"),
                  ui.div(id=f"err_{field.input_id}", class_="field-error"),
                  class_="casesim-field", id=f"field_{field.input_id}")


def form(config: SimConfig, baseline: SimConfig, fields: Sequence[Field]) -> ui.Tag:
    """Every lever, grouped, holding ``config``'s values; the region's only for a region."""
    panels, titles = [], []
    for title, members in grouped(fields_for(config, fields)):
        if members:
            titles.append(title)
            panels.append(ui.accordion_panel(title, *[field_input(f, value_at(config, f.key),
                                                                  plain_value(value_at(baseline, f.key)))
                                                      for f in members]))
    note = ui.p("In a region the levers change every force that does not set its own value in the region's "
                "YAML; to change one force alone, load a YAML of your own.", class_="help") if config.forces else ""
    return ui.div(note, ui.accordion(*panels, id="groups", open=[*titles[:2], titles[-1]],
                                     multiple=True))


def progress_bar(job: Job) -> ui.Tag:
    """A job's progress: its bar and the replications done."""
    percent = round(100 * job.share_done)
    return ui.div(ui.div(ui.div(f"{percent} %", class_="progress-bar", role="progressbar",
                                style=f"width:{percent}%", **{"aria-valuenow": str(percent), "aria-valuemin": "0",
                                                             "aria-valuemax": "100"}),
                         class_="progress", style="height:1.4rem"),
                  ui.p(f"{job.done} of {job.total} replications; {job.message}.", class_="help"),
                  class_="job-progress")


def event_button(label: str, input_name: str, job_id: str, css: str) -> ui.Tag:
    """A button that tells the server ``input_name`` = ``job_id`` (one input for every row)."""
    return ui.tags.button(label, type="button", class_=f"btn btn-sm {css}",
                          onclick=f"Shiny.setInputValue({json.dumps(input_name)}, {json.dumps(job_id)}, "
                                  "{priority: 'event'})")


def jobs_table(jobs: Sequence[Job]) -> ui.Tag:
    """Every job, newest first, with its progress and buttons to open or cancel it."""
    if not jobs:
        return ui.p("No runs yet: set up a scenario and press Run.")
    rows = [ui.tags.tr(ui.tags.th("Started"), ui.tags.th("What"), ui.tags.th("Title"), ui.tags.th("State"),
                       ui.tags.th("Progress"), ui.tags.th(""))]
    for job in jobs:
        buttons = [event_button("Open", "open_job", job.id, "btn-outline-primary")]
        if job.state == "running":
            buttons.append(event_button("Cancel", "cancel_job", job.id, "btn-outline-danger"))
        rows.append(ui.tags.tr(ui.tags.td(job.created.replace("T", " ")), ui.tags.td(KIND_WORDS.get(job.kind, job.kind)),
                               ui.tags.td(job.title), ui.tags.td(STATE_WORDS.get(job.state, job.state)),
                               ui.tags.td(f"{job.done} of {job.total}"), ui.tags.td(*buttons),
                               class_="job-row", **{"data-job": job.id}))
    return ui.tags.table(*rows, class_="table table-sm")


def figure(path: Path) -> ui.Tag:
    """A figure of a job's folder, embedded in the page, its title above it."""
    title = FIGURE_WORDS.get(path.name, path.stem.replace("_", " "))
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return ui.div(ui.h4(title), ui.img(src=f"data:image/png;base64,{data}", alt=title, class_="figure"))


def job_results(job: Job, view: dict | None, downloads: Sequence[ui.Tag]) -> ui.Tag:
    """A job as its page shows it: its progress while it runs; when it has finished, what it
    found in words first, then its tables, figures and downloads."""
    head = ui.div(ui.h3(f"{KIND_WORDS.get(job.kind, job.kind)}: {job.title}"),
                  ui.p(f"Started {job.created.replace('T', ' ')}; {STATE_WORDS.get(job.state, job.state)}.",
                       class_="job-state", **{"data-state": job.state}))
    if job.state == "running":
        return ui.div(head, progress_bar(job), event_button("Cancel this run", "cancel_job", job.id, "btn-danger"),
                      id="job-view")
    if job.state != "finished" or view is None:
        said = job.message or "no result was kept"
        return ui.div(head, ui.p(said, class_="job-message"),
                      ui.p("What finished is kept in its folder: " + str(job.folder), class_="help"), id="job-view")
    parts: list[Any] = [head, ui.h4("What it shows")]
    if view.get("outcomes"):
        parts.append(ui.p(view["outcomes"], class_="outcomes"))
    if view.get("findings_html"):
        parts.append(ui.HTML(view["findings_html"]))
    for force, table in view.get("tables", []):
        if force:
            parts.append(ui.h5(force))
        elif job.kind == "run":
            parts.append(ui.h4("Time from referral to arrest or voluntary interview"))
            parts.append(ui.p("Means over the replications, with 95 % intervals in brackets; a dash where the value "
                              "is not reached.", class_="help"))
        parts.append(ui.HTML(table))
    order = list(FIGURE_WORDS)
    for name in sorted(view.get("figures", []), key=lambda n: order.index(n) if n in order else len(order)):
        path = job.folder / "figures" / name
        if path.is_file():
            parts.append(figure(path))
    parts += [ui.h4("Downloads"), ui.div(*downloads, class_="d-flex flex-wrap gap-2")]
    return ui.div(*parts, id="job-view")

