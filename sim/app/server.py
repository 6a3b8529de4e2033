"""The workbench as a Shiny app: a planner sets up a scenario without code, runs it, compares
scenarios with today and searches for the staffing that meets a target, all in the
browser. Every run is a job in its own process (``sim.app.jobs``); the server only checks
the planner's input with the configuration's own schema, starts jobs and shows their
folders.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from shiny import App, reactive, render, ui

from ..config.load import load_config
from ..config.schema import SimConfig
from ..domain import GRADES
from ..errors import ConfigError
from . import page
from .dictionary import sources_markdown
from .fields import FIELDS, field_of, fields_for
from .jobs import Job, JobBoard, read_json
from .scenarios import Base, Scenario, changes, own_yaml, presets, scenario_dict, slug

MAX_SCENARIOS = 5
"""The most scenarios a comparison holds beside the baseline (each is a whole run)."""
SEARCH_NAMES = {"risks": "Risk grades", "within_days": "Days to arrest", "max_share_late": "Share late",
                "confidence": "Confidence", "high": "Most investigators"}
"""The staffing search's form fields, by the name ``check_search`` gives them, as the page labels them."""
DOWNLOADS = (("dl_report", "report.html", "The report (HTML)"),
             ("dl_headline_csv", "headline.csv", "Headline table (CSV)"),
             ("dl_headline_xlsx", "headline.xlsx", "Headline table (Excel)"),
             ("dl_summary_csv", "summary.csv", "Every metric (CSV)"),
             ("dl_comparison_csv", "comparison.csv", "Paired differences (CSV)"),
             ("dl_runs_csv", "runs.csv", "Levels searched (CSV)"))
"""Each download: its id, the file of the job's folder it gives, and its button's words."""


def create_app(root: str | Path) -> App:
    """The workbench, keeping its jobs under ``root``."""
    board = JobBoard(root)
    uploads = board.root / ".uploads"
    bases = presets()
    baseline = load_config()

    app_ui = ui.page_navbar(
        ui.nav_panel("Set up and run", _setup_panel(bases), value="setup"),
        ui.nav_panel("Compare", _compare_panel(baseline), value="compare"),
        ui.nav_panel("Staffing for a target", _search_panel(), value="search"),
        ui.nav_panel("Runs", ui.output_ui("jobs"), value="runs"),
        ui.nav_panel("Results", ui.output_ui("results"), value="results"),
        ui.nav_panel("Sources", ui.div(ui.markdown(sources_markdown()), class_="container"), value="sources"),
        title="casesim workbench", id="tabs", window_title="casesim workbench",
        header=ui.head_content(ui.tags.script(f"$(function() {{{page.SCRIPT}}});"), ui.tags.style(page.STYLE)),
    )

    def server(input, output, session):
        own: reactive.Value[dict[str, Base]] = reactive.value({})
        backlog: reactive.Value[str | None] = reactive.value(None)
        compared: reactive.Value[list[Scenario]] = reactive.value([])
        selected: reactive.Value[str | None] = reactive.value(None)
        search_refused: reactive.Value[str] = reactive.value("")
        session_uploads = uploads / uuid.uuid4().hex  # kept after the session: its jobs read them

        @reactive.calc
        def base() -> Base:
            return {**bases, **own()}.get(input.base(), bases[next(iter(bases))])

        @reactive.calc
        def base_config():
            try:
                return base().config(), ""
            except ConfigError as error:
                return None, str(error)

        @render.ui
        def form():
            cfg, said = base_config()
            if cfg is None:
                return ui.p(said, class_="field-error")
            return page.form(cfg, baseline, FIELDS)

        @reactive.calc
        def checked() -> tuple[tuple[Scenario, SimConfig] | None, dict[str, str], str]:
            """The scenario the form describes with its configuration, or the errors that stop
            it: by field, or for the whole form."""
            cfg, said = base_config()
            if cfg is None:
                return None, {}, said
            shown = fields_for(cfg)
            values = {f.key: input[f.input_id]() for f in shown if f.input_id in input}
            made, wrong = changes(values, cfg, shown)
            errors = {f.input_id: wrong[f.key] for f in shown if f.key in wrong}
            name = (input.name() or "").strip()
            if not name or name == "baseline":
                errors["name"] = f"name={name!r}: a name for the scenario, other than 'baseline'"
            if backlog() is not None:
                made = (*made, f"demand.initial_backlog.csv={backlog()}")
            if errors:
                return None, errors, ""
            scenario = Scenario(name, base(), made)
            try:
                return (scenario, scenario.config()), {}, ""
            except ConfigError as error:
                field = field_of(error)
                return None, ({field.input_id: str(error)} if field else {}), "" if field else str(error)

        @reactive.effect
        async def _mark_fields():
            _, errors, _ = checked()
            await session.send_custom_message("field_errors", errors)

        @render.ui
        def form_error():
            _, errors, said = checked()
            if said:
                return ui.div(said, class_="field-error", id="form-error")
            if errors:
                return ui.div(f"Not ready to run: {next(iter(errors.values()))}", class_="field-error",
                              id="form-error")
            return ui.div(id="form-error", class_="field-error")

        def kept(files, name: str) -> Path | None:
            """The file a planner uploaded, kept as ``name`` in this session's folder."""
            if not files:
                return None
            session_uploads.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(files[0]["datapath"], session_uploads / name)
            return (session_uploads / name).resolve()

        @reactive.effect
        @reactive.event(input.own_yaml)
        def _load_own_yaml():
            files = input.own_yaml()
            name = Path(files[0]["name"]) if files else None
            if name is not None and name.suffix not in (".yaml", ".yml"):
                ui.notification_show(f"Your YAML={name.name!r}: a .yaml file", type="error")
                return
            # own_: a name no shipped config or group has, which would be found first
            target = kept(files, f"own_{slug(name.stem)}.yaml") if name else None
            if target is None:
                return
            try:
                loaded = own_yaml(target)
            except ConfigError as error:
                ui.notification_show(str(error), type="error", duration=None)
                return
            own.set({**own(), loaded.label: loaded})
            ui.update_select("base", choices=list({**bases, **own()}), selected=loaded.label)

        @reactive.effect
        @reactive.event(input.backlog_csv)
        def _load_backlog():
            files = input.backlog_csv()
            # a plain name: the path becomes an override, whose grammar a space or comma would break
            target = kept(files, f"{slug(Path(files[0]['name']).stem)}.csv") if files else None
            if target is not None:
                backlog.set(str(target))

        @reactive.effect
        @reactive.event(input.clear_backlog)
        def _clear_backlog():
            backlog.set(None)

        @render.ui
        def backlog_state():
            return ui.p(f"Today's queue from {Path(backlog()).name}." if backlog() else
                        "Today's queue: the starting point's counts.", class_="help", id="backlog-state")

        def show(job_id: str) -> None:
            selected.set(job_id)
            ui.update_navset("tabs", selected="results")

        def refuse(message: str) -> None:
            ui.notification_show(f"Not run: {message}", type="error", duration=8)

        def ready() -> tuple[Scenario, SimConfig] | None:
            """The form's scenario and its configuration, or None after saying what stops it."""
            found, errors, said = checked()
            if found is None:
                refuse(said or next(iter(errors.values()), "the form is not complete"))
            return found

        @reactive.effect
        @reactive.event(input.run)
        def _run():
            if (found := ready()) is None:
                return
            scenario, cfg = found
            show(board.start("run", scenario.name, {"scenarios": [scenario_dict(scenario)]}, cfg.run.replications).id)

        @reactive.effect
        @reactive.event(input.add)
        def _add():
            if (found := ready()) is None:
                return
            scenario, held = found[0], compared()
            if any(s.name == scenario.name for s in held):
                refuse(f"name={scenario.name!r}: the comparison already holds a scenario of this name")
            elif len(held) >= MAX_SCENARIOS:
                refuse(f"scenarios: at most {MAX_SCENARIOS} beside the baseline; remove one first")
            else:
                compared.set([*held, scenario])
                ui.notification_show(f"Added '{scenario.name}' to the comparison ({len(held) + 1} of "
                                     f"{MAX_SCENARIOS}).", duration=4)

        @reactive.effect
        @reactive.event(input.remove_scenario)
        def _remove():
            compared.set([s for s in compared() if s.name != input.remove_scenario()])

        @render.ui
        def compared_list():
            held = compared()
            if not held:
                return ui.p("No scenario yet: set one up and press 'Add to comparison'.", id="compared-none")
            first = held[0].base
            rows = [ui.tags.tr(ui.tags.td(s.name), ui.tags.td(s.base.label),
                               ui.tags.td(", ".join(s.changes) or "no change"),
                               ui.tags.td(page.event_button("Remove", "remove_scenario", s.name, "btn-outline-secondary")))
                    for s in held]
            return ui.div(ui.p(f"Baseline: today, as '{first.label}' with no change."),
                          ui.tags.table(ui.tags.tr(ui.tags.th("Scenario"), ui.tags.th("Starts from"),
                                                   ui.tags.th("Changes"), ui.tags.th("")), *rows,
                                        class_="table table-sm", id="compared"))

        @reactive.effect
        @reactive.event(input.run_compare)
        def _run_compare():
            held = compared()
            if not held:
                refuse("scenarios: add at least one scenario to compare with the baseline")
                return
            everyone = [Scenario("baseline", held[0].base, ()), *held]
            try:
                from ..running.scenarios import check_pairable

                run = [f"run.replications={_number(input.c_replications(), 'run.replications')}",
                       f"run.horizon_days={_number(input.c_horizon_days(), 'run.horizon_days')}",
                       f"run.seed={_number(input.c_seed(), 'run.seed')}"]
                configs = [s.config(run) for s in everyone]
                check_pairable(configs[0], configs[1:])
            except ConfigError as error:
                refuse(str(error))
                return
            title = "baseline against " + ", ".join(s.name for s in held)
            spec = {"scenarios": [scenario_dict(s) for s in everyone], "run": run}
            show(board.start("compare", title, spec, len(everyone) * configs[0].run.replications).id)

        @reactive.effect
        @reactive.event(input.run_search)
        def _run_search():
            from ..running.search import Target, check_search, search_levels

            if (found := ready()) is None:
                return
            scenario, cfg = found
            try:
                target = Target(tuple(input.s_risks()), _number(input.s_within_days(), "Days to arrest"),
                                _number(input.s_max_share_late(), "Share late"), 0,
                                _number(input.s_confidence(), "Confidence"))
                high = _number(input.s_high(), "Most investigators")
                check_search(cfg, target, high=high, names=SEARCH_NAMES)
            except ConfigError as error:
                search_refused.set(str(error))
                refuse(str(error))
                return
            search_refused.set("")
            spec = {"scenarios": [scenario_dict(scenario)], "high": int(high),
                    "target": {"risks": list(target.risks), "within_days": target.within_days,
                               "max_share_late": target.max_share_late, "confidence": target.confidence}}
            total = search_levels(cfg.staffing.investigators, int(high)) * cfg.run.replications
            show(board.start("search", f"{scenario.name}: fewest investigators", spec, total).id)

        @render.ui
        def search_error():
            return ui.div(search_refused(), class_="field-error", id="search-error")

        @reactive.effect
        @reactive.event(input.open_job)
        def _open():
            if board.job(input.open_job()) is not None:
                show(input.open_job())

        @reactive.effect
        @reactive.event(input.cancel_job)
        def _cancel():
            if board.cancel(input.cancel_job()):
                ui.notification_show("Cancelling: the replications finished are kept.", duration=4)

        @reactive.effect
        def _job_from_address():
            wanted = parse_qs(session.input[".clientdata_url_search"]().lstrip("?")).get("job", [None])[0]
            with reactive.isolate():
                if wanted and selected() is None and board.job(wanted) is not None:
                    show(wanted)

        @reactive.effect
        async def _address_of_job():
            if selected() is not None:
                await session.send_custom_message("show_job", selected())

        @render.ui
        def jobs():
            reactive.invalidate_later(1.0)
            return page.jobs_table(board.jobs())

        @reactive.calc
        def job() -> Job | None:
            job_id = selected()
            if job_id is None:
                return None
            found = board.job(job_id)
            if found is not None and found.state == "running":
                reactive.invalidate_later(0.5)
            return found

        @render.ui
        def results():
            current = job()
            if current is None:
                return ui.p("Nothing to show yet: run a scenario, or open one under Runs.")
            view = read_json(current.folder / "view.json") or None
            buttons = [ui.download_button(id_, words) for id_, name, words in DOWNLOADS
                       if (current.folder / name).is_file()]
            if (current.folder / "scenarios").is_dir():
                buttons.append(ui.download_button("dl_scenarios", "Scenario YAML (zip)"))
            return page.job_results(current, view, buttons)

        def folder_file(name: str) -> str:
            current = job()
            if current is None or not (current.folder / name).is_file():
                raise ValueError(f"{name} is not in this job's folder")
            return str(current.folder / name)

        for id_, name, _ in DOWNLOADS:
            _download(output, id_, name, folder_file)

        @render.download_button(filename=lambda: f"{job().id if job() else 'casesim'}_scenarios.zip")
        def dl_scenarios():
            current = job()
            archive = shutil.make_archive(str(session_uploads / f"{current.id}_scenarios"), "zip",
                                          current.folder / "scenarios")
            return archive

    app = App(app_ui, server)
    app.on_shutdown(board.close)  # Ctrl-C or SIGTERM on the workbench: its runs keep what they finished
    return app


def _download(output: Any, id_: str, name: str, folder_file) -> None:
    """Register download ``id_``: the file ``name`` of the job shown."""

    @render.download_button(filename=name)
    def handler():
        return folder_file(name)

    output(handler, id=id_)


def _number(value: Any, name: str) -> float:
    """A number field's value (a whole number as an int); ConfigError naming it if empty."""
    if value is None:
        raise ConfigError(name, "", "a number; the field is empty")
    number = float(value)
    return int(number) if number.is_integer() else number


def _setup_panel(bases: dict[str, Base]) -> ui.Tag:
    return ui.layout_sidebar(
        ui.sidebar(
            ui.input_select("base", "Start from", list(bases)),
            ui.input_file("own_yaml", "Or load your own YAML (a force, or casesim-calibrate's my_force.yaml)",
                          accept=[".yaml", ".yml"]),
            ui.input_file("backlog_csv", "Today's queue (a backlog CSV, optional)", accept=[".csv"]),
            ui.output_ui("backlog_state"),
            ui.input_action_link("clear_backlog", "Use the starting point's queue"),
            ui.input_text("name", "Scenario name", "My scenario"),
            ui.div(id="err_name", class_="field-error"),
            ui.input_action_button("run", "Run", class_="btn-primary"),
            ui.input_action_button("add", "Add to comparison"),
            ui.output_ui("form_error"),
            width=340,
        ),
        ui.output_ui("form"),
    )


def _compare_panel(baseline) -> ui.Tag:
    run = baseline.run
    return ui.div(
        ui.h3("Compare scenarios with today"),
        ui.p("Every scenario and the baseline run on the same replications (common random numbers), so each "
             "difference is paired replication by replication. Add scenarios from 'Set up and run'."),
        ui.output_ui("compared_list"),
        ui.layout_columns(ui.input_numeric("c_replications", "Replications (runs)", run.replications),
                          ui.input_numeric("c_horizon_days", "Days simulated (days)", run.horizon_days),
                          ui.input_numeric("c_seed", "Random seed (number)", run.seed)),
        ui.input_action_button("run_compare", "Run the comparison", class_="btn-primary"),
        class_="container",
    )


def _search_panel() -> ui.Tag:
    from ..running.search import HIGHEST_TRIED, Target

    target = Target()  # the form starts from the search's own defaults
    return ui.div(
        ui.h3("The fewest investigators that meet a target"),
        ui.p("Starting from the scenario set up in 'Set up and run' (its name, starting point and levers), "
             "the search runs investigator levels from today's up to the most given, halving the range each "
             "time, and answers with the fewest that meet the target with the confidence asked."),
        ui.input_checkbox_group("s_risks", "For referrals of true risk", list(GRADES), selected=list(target.risks),
                                inline=True),
        ui.layout_columns(ui.input_numeric("s_within_days", "Arrested within (days)", target.within_days),
                          ui.input_numeric("s_max_share_late", "At most this share later (fraction, 0.01 is 1 %)",
                                           target.max_share_late),
                          ui.input_numeric("s_confidence", "With confidence (fraction)", target.confidence),
                          ui.input_numeric("s_high", "Most investigators to try (people)", HIGHEST_TRIED)),
        ui.input_action_button("run_search", "Find the staffing", class_="btn-primary"),
        ui.output_ui("search_error"),
        class_="container",
    )
