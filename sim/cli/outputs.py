"""What a run, a comparison and a staffing search write into their folders, shared by the
commands (which then print what they found) and the planner's workbench (``sim.app``, which
shows it): tables, figures and the one-page report, each kept as it finishes.

Each function takes a folder already claimed for it and an optional ``on_replication``
called as every replication finishes, so that a caller can show progress; interrupts pass
through as the functions they call raise them (``Interrupted`` from a run, ``KeyboardInterrupt``
from the rest), the finished work kept.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

from .common import save_figures

if TYPE_CHECKING:
    import pandas as pd

    from ..config.schema import SimConfig
    from ..model import ReplicationOutput
    from ..results.comparison import Comparison
    from ..results.findings import Finding
    from ..running.search import SearchResult, Target

ReplicationCallback = Callable[["ReplicationOutput"], None]


@dataclasses.dataclass(frozen=True)
class RunReport:
    """What a finished run says: its headline tables (by assigned grade and by true risk),
    its findings and the sentence on what the force achieves."""

    sheets: dict[str, "pd.DataFrame"]
    findings: list["Finding"]
    outcomes: str
    national: "pd.DataFrame | None" = None
    """A run of several regions: the nation's and each region's headline (``national.csv``)."""


def run_to_folder(cfg: "SimConfig", folder: str | Path, given: Sequence[str] = (), started: float | None = None,
                  on_replication: ReplicationCallback | None = None) -> RunReport:
    """Run ``cfg`` into the run folder ``folder`` (resuming what a stopped run of this
    configuration kept there): its tables, figures and ``report.html``. ``given`` are the
    overrides it was asked for, recorded in the manifest and the report."""
    from ..config.schema import SimConfig
    from ..present.console import outcomes_text
    from ..present.plots import save_all  # matplotlib only when figures are made
    from ..present.run_report import write_run_report
    from ..results.headline import headline_sheets
    from ..running.resumable import run_in_folder

    said: dict = {}

    def finish(results, summary, findings) -> None:
        figures = save_all(results, f"{folder}/figures")
        national, national_figures = (_national_outputs(results, summary, Path(folder))
                                      if len(cfg.regions()) > 1 else (None, []))
        said.update(sheets=headline_sheets(summary, cfg), findings=findings,
                    outcomes=outcomes_text(summary, cfg.total_name), national=national)
        # a region's forces are not keys of the single-force baseline: its overrides say what changed
        write_run_report(f"{folder}/report.html", cfg, said["sheets"], findings, [*figures, *national_figures],
                         None if cfg.forces else SimConfig(), overrides=given, outcomes=said["outcomes"],
                         national=national)

    run_in_folder(cfg, folder, given, started, finish=finish, on_replication=on_replication)
    return RunReport(said["sheets"], said["findings"], said["outcomes"], said["national"])


def _national_outputs(results, summary: "pd.DataFrame", folder: Path) -> tuple["pd.DataFrame", list[Path]]:
    """A run of several regions: ``national.csv`` (the nation's and each region's headline),
    ``national_forces.csv`` (the forces ranked by referrals past 18 months) and the nation's
    figures; the headline table and the figures' paths."""
    from ..io.atomic import atomic_write
    from ..present.national_figures import save_national
    from ..results.national import force_ranking, national_table

    national = national_table(results, summary)
    ranking = force_ranking(results)
    atomic_write(folder / "national.csv", lambda path: national.to_csv(path, index=False))
    atomic_write(folder / "national_forces.csv", lambda path: ranking.to_csv(path, index=False))
    return national, save_national(results, folder / "figures", national=national, ranking=ranking)


def compare_to_folder(baseline: "SimConfig", scenarios: Sequence["SimConfig"], folder: Path,
                      overrides: Sequence[str] = (),
                      on_replication: ReplicationCallback | None = None) -> tuple["Comparison", list["Finding"]]:
    """The baseline and ``scenarios`` paired, into ``folder`` (marked unfinished first):
    each run's tables as it finishes, then the comparison's figures, ``report.html`` and
    ``comparison.csv``. ``overrides`` are those applied to every run. A ``KeyboardInterrupt``
    says which runs were kept."""
    from ..io.analysis_folders import start_folder, write_comparison_folder
    from ..results.findings import comparison_findings
    from ..results.summary import summarise_metrics
    from ..running.scenarios import compare

    requested = [cfg.scenario for cfg in (baseline, *scenarios)]
    start_folder(folder, {"scenarios": requested, "finished": []})
    started = time.perf_counter()
    summaries = {}

    def keep(comparison, name, metrics) -> None:
        summaries[name] = summarise_metrics(metrics)
        write_comparison_folder(comparison, folder, overrides, time.perf_counter() - started, requested, summaries,
                                complete=False)

    try:
        comparison = compare(baseline, scenarios, on_finished=keep, on_replication=on_replication)
        _draw_comparison(comparison, folder)
        if len(baseline.regions()) > 1:
            _national_comparison(comparison, summaries, folder)
        findings = comparison_findings(comparison.table, comparison.total_name)
        write_comparison_folder(comparison, folder, overrides, time.perf_counter() - started, requested, summaries,
                                findings=[f.text for f in findings])
    except KeyboardInterrupt:
        from .common import kept_nothing

        if not summaries:
            raise KeyboardInterrupt(f"no run had finished; {kept_nothing(folder)}") from None
        raise KeyboardInterrupt(f"finished runs kept in {folder} ({', '.join(summaries)}: {len(summaries)} of "
                                f"{len(requested)}; manifest.json says complete: false)") from None
    return comparison, findings


def _draw_comparison(comparison: "Comparison", folder: Path) -> None:
    """The comparison's figures and its HTML report, into ``folder``."""
    from ..present import plots
    from ..present.report import write_report

    figures = {
        "Time to arrest by true risk": plots.survival_comparison(comparison.all_results, "true_risk"),
        "Differences from the baseline": plots.forest_plot(comparison.table, comparison.total_name),
    }
    save_figures(folder, dict(zip(("survival_comparison.png", "forest.png"), figures.values())))
    write_report(comparison, folder / "report.html", figures)


def _national_comparison(comparison: "Comparison", summaries: Mapping[str, "pd.DataFrame"], folder: Path) -> None:
    """A comparison of runs of several regions: ``national.csv`` and ``national_forces.csv``,
    each run's tables one after another under a ``scenario`` column, the baseline's first."""
    import pandas as pd

    from ..io.atomic import atomic_write
    from ..results.national import force_ranking, national_table

    runs = comparison.all_results
    national = pd.concat([national_table(results, summaries[name]).assign(scenario=name) for name, results in
                          runs.items()], ignore_index=True)
    ranking = pd.concat([force_ranking(results).assign(scenario=name) for name, results in runs.items()],
                        ignore_index=True)
    for name, table in (("national.csv", national), ("national_forces.csv", ranking)):
        table = table[["scenario", *table.columns[:-1]]]
        atomic_write(folder / name, lambda path, table=table: table.to_csv(path, index=False))


def search_to_folder(cfg: "SimConfig", target: "Target", folder: Path, overrides: Sequence[str] = (),
                     grid: Mapping[str, Sequence[float]] | None = None, costs: Mapping[str, float] | None = None,
                     high: int = 60, on_replication: ReplicationCallback | None = None) -> "SearchResult":
    """The fewest investigators up to ``high`` (or, with ``grid``, the cheapest mix priced by
    ``costs``) meeting ``target``, into ``folder``: ``runs.csv`` and ``manifest.json``, each
    level as it finishes. A ``KeyboardInterrupt`` says how many levels were kept."""
    from ..io.analysis_folders import search_description, start_folder, write_search_folder
    from ..running.search import search_investigators, search_mix
    from .common import kept_nothing

    grid, costs = dict(grid or {}), dict(costs or {})
    started = time.perf_counter()

    def description() -> dict:
        return search_description(cfg, target, overrides, grid, costs, high, time.perf_counter() - started)

    start_folder(folder, {"levels_run": 0, **description()})
    levels_kept = 0

    def keep(runs) -> None:
        nonlocal levels_kept
        write_search_folder(runs, folder, description(), complete=False)
        levels_kept = len(runs)

    try:
        if grid:
            result = search_mix(cfg, grid, costs, target, on_level=keep, on_replication=on_replication)
        else:
            result = search_investigators(cfg, target, high=high, on_level=keep, on_replication=on_replication)
        write_search_folder(result.runs, folder, description())
    except KeyboardInterrupt:
        if not levels_kept:
            raise KeyboardInterrupt(f"no level had finished; {kept_nothing(folder)}") from None
        raise KeyboardInterrupt(f"finished levels ({levels_kept}) kept in {folder}/runs.csv "
                                "(manifest.json says complete: false)") from None
    return result
