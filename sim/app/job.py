"""One workbench job, in its own process: ``python -m sim.app.job FOLDER`` runs what
``FOLDER/job.json`` asks (a run, a comparison or a staffing search) into ``FOLDER`` with the
same code as the commands (``sim.cli.outputs``), and keeps ``job.json`` saying how far it
has come. SIGTERM (the page's cancel button) and Ctrl-C stop it as they stop a command:
what finished is kept, and ``job.json`` says ``cancelled``.

When the work is done it writes ``view.json``, what the page shows beside the figures: the
sentences on outcomes, the findings and the tables as HTML.
"""

from __future__ import annotations

import html
import os
import shutil
import sys
import traceback
from pathlib import Path
from typing import Any, Mapping

from ..errors import ConfigError
from .jobs import read_json, write_json
from .scenarios import Scenario, scenario_from, scenario_yaml, slug


class _Record:
    """``job.json`` kept up to date: every change is written whole at once."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.data = read_json(folder / "job.json")
        self.data["pid"] = os.getpid()

    def update(self, **changes: Any) -> None:
        self.data.update(changes)
        write_json(self.folder / "job.json", self.data)

    def replication_done(self, _output: Any = None) -> None:
        done = self.data["done"] + 1
        self.update(done=done, message="running" if done < self.data["total"] else
                    "writing the tables, figures and report")


def main(argv: list[str] | None = None) -> int:
    """Run the job in the folder named by ``argv[0]``; the exit code is 0 if it finished,
    130 if it was cancelled and 1 if it failed."""
    from ..cli.common import sigterm_as_interrupt
    from ..running.runner import Interrupted

    folder = Path((sys.argv[1:] if argv is None else argv)[0])
    record = _Record(folder)
    record.update(message="composing the configuration")
    try:
        with sigterm_as_interrupt():
            view = _run(record.data["kind"], record.data["spec"], folder, record)
    except (KeyboardInterrupt, Interrupted) as stop:
        said = str(stop)
        record.update(state="cancelled", message="cancelled" + (f": {said}" if said else ""))
        return 130
    except ConfigError as error:
        record.update(state="failed", message=str(error))
        return 1
    except Exception as error:  # the page says what went wrong; job.log has the traceback
        traceback.print_exc()
        record.update(state="failed", message=f"{type(error).__name__}: {error}")
        return 1
    write_json(folder / "view.json", view)
    record.update(state="finished", done=record.data["total"], message="finished")
    return 0


def _run(kind: str, spec: Mapping[str, Any], folder: Path, record: _Record) -> dict:
    scenarios = [scenario_from(entry) for entry in spec["scenarios"]]
    run_settings = list(spec.get("run", ()))
    _write_scenario_yamls(scenarios, folder / "scenarios", run_settings)
    run_settings.append("run.progress=false")  # progress is job.json's; no bar in job.log
    record.update(message="running")
    if kind == "run":
        return _single_run(scenarios[0], run_settings, folder, record)
    if kind == "compare":
        return _comparison(scenarios, run_settings, folder, record)
    if kind == "search":
        return _search(scenarios[0], run_settings, spec["target"], int(spec["high"]), folder, record)
    raise ConfigError("kind", kind, "run, compare or search")


def _single_run(scenario: Scenario, run_settings: list[str], folder: Path, record: _Record) -> dict:
    from ..cli.outputs import run_to_folder
    from ..present.report import findings_html
    from ..present.run_report import headline_html
    from ..results.headline import HEADLINE_SHEET

    cfg = scenario.config(run_settings)
    said = run_to_folder(cfg, folder, [*scenario.overrides, *run_settings], on_replication=record.replication_done)
    tables = [("", headline_html(said.sheets[HEADLINE_SHEET]))]
    if cfg.forces:
        tables += [(force, headline_html(said.sheets[force])) for force in cfg.force_names if force in said.sheets]
    return {"outcomes": said.outcomes, "findings_html": findings_html(said.findings),
            "findings": [finding.text for finding in said.findings], "tables": tables,
            "figures": _figures(folder)}


def _figures(folder: Path) -> list[str]:
    """The figures a job wrote, by file name."""
    return sorted(path.name for path in (folder / "figures").glob("*.png"))


def _comparison(scenarios: list[Scenario], run_settings: list[str], folder: Path, record: _Record) -> dict:
    from ..cli.outputs import compare_to_folder
    from ..present.report import difference_html, findings_html
    from ..results.findings import no_comparison_findings

    baseline, others = scenarios[0], scenarios[1:]
    comparison, findings = compare_to_folder(baseline.config(run_settings), [s.config(run_settings) for s in others],
                                             folder, run_settings, on_replication=record.replication_done)
    return {"outcomes": "" if findings else no_comparison_findings(comparison.baseline.config.run.replications),
            "findings_html": findings_html(findings), "findings": [finding.text for finding in findings],
            "tables": [("", difference_html(comparison, comparison.total_name))],
            "figures": _figures(folder)}


def _search(scenario: Scenario, run_settings: list[str], target: Mapping[str, Any], high: int, folder: Path,
            record: _Record) -> dict:
    from ..cli.outputs import search_to_folder
    from ..present.console import search_answer, search_table
    from ..present.report import html_table
    from ..running.search import Target

    cfg = scenario.config(run_settings)
    wanted = Target(tuple(target["risks"]), float(target["within_days"]), float(target["max_share_late"]), 0,
                    float(target["confidence"]))
    result = search_to_folder(cfg, wanted, folder, [*scenario.overrides, *run_settings], high=high,
                              on_replication=record.replication_done)
    goal = (f"Target: with {wanted.confidence:.0%} confidence, at most {wanted.max_share_late:.1%} of referrals of "
            f"true risk {', '.join(wanted.risks)} wait more than {wanted.within_days:g} days for an arrest, and none "
            "waits past 18 months.")
    return {"outcomes": search_answer(result.answer), "findings_html": f"<p class='target'>{html.escape(goal)}</p>",
            "findings": [goal],
            "tables": [("", html_table(search_table(result.runs)))], "figures": []}


def _write_scenario_yamls(scenarios: list[Scenario], where: Path, run_settings: list[str]) -> None:
    """Each scenario's YAML, the YAMLs of the planner's own they start from and the
    backlog CSVs they read, side by side: ``casesim --config-dir . --config-name NAME``
    in that folder runs each scenario as the workbench ran it."""
    where.mkdir(parents=True, exist_ok=True)
    csv_names: dict[str, str] = {}
    for scenario in scenarios:
        if scenario.base.config_dir is not None:
            own = Path(scenario.base.config_dir) / f"{scenario.base.config_name}.yaml"
            shutil.copyfile(own, where / own.name)
        for override in scenario.overrides:
            key, _, value = override.partition("=")
            if key.endswith("initial_backlog.csv") and value not in ("", "null"):
                csv_names[value] = Path(value).name
                shutil.copyfile(value, where / Path(value).name)
    for scenario in scenarios:
        (where / f"{slug(scenario.name)}.yaml").write_text(scenario_yaml(scenario, csv_names, run_settings), encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
