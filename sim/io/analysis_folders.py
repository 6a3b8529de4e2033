"""The folders of the analyses beyond a single run: a scenario comparison, a staffing
search, a replication study, and the sensitivity indices of a sampled sweep.

Tables and manifests only: the figures and the HTML report are drawn above this layer
(``sim.present``), by the commands or a notebook. Each folder's ``manifest.json`` is
written last and says whether the work finished (``"complete"``): a folder is marked
unfinished (:func:`start_folder`) before its work starts, and work stopped part way is kept
with ``"complete": false``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from ..config.design import sample_spec
from ..config.schema import SimConfig
from ..errors import ConfigError
from ..results.comparison import Comparison
from ..results.input_uncertainty import benefit_under_uncertainty, input_uncertainty
from ..results.sensitivity import regression_indices, sensitivity_indices
from .atomic import atomic_write
from .manifest import manifest, provenance, replication_study_manifest, write_manifest
from .spreadsheet import write_comparison_headline


def start_folder(folder: str | Path, description: Mapping[str, Any]) -> Path:
    """Mark ``folder`` (which must exist) as holding no finished result yet, before any work:
    ``manifest.json`` is ``{"complete": false, **description}``, so a folder whose work is
    stopped part way never looks like a finished one (or, if it held one, like that). The
    writers below rewrite it, last, as results are kept. Returns the manifest's path."""
    return write_manifest(folder, {"complete": False, **description})


def abandon_folder(folder: str | Path) -> bool:
    """After work stopped before any result was kept: remove the manifest
    :func:`start_folder` wrote, and ``folder`` itself if nothing else is in it (a folder
    the user chose that holds other files is left with its ``complete: false`` manifest).
    True if the folder is gone."""
    folder = Path(folder)
    others = [path for path in folder.iterdir() if path.name != "manifest.json"]
    if others:
        return False
    (folder / "manifest.json").unlink(missing_ok=True)
    folder.rmdir()
    return True


def write_comparison_folder(comparison: Comparison, folder: str | Path, overrides: Sequence[str] = (),
                            wall_time_seconds: float = float("nan"), scenarios: Sequence[str] | None = None,
                            summaries: Mapping[str, pd.DataFrame] | None = None,
                            complete: bool = True, findings: Sequence[str] | None = None) -> dict[str, Path]:
    """Write a comparison into ``folder`` (created): ``summary.csv`` (each run's summary,
    the baseline's first, with a ``scenario`` column; ``summaries`` by scenario if already
    computed), ``headline.xlsx`` and ``headline.csv`` (their headline tables),
    ``comparison.csv`` (the paired differences, if a scenario finished) and, last,
    ``manifest.json``: ``complete``, the ``scenarios`` asked for (default: those in
    ``comparison``), those ``finished``, and one run manifest per finished scenario under
    ``runs`` (``wall_time_seconds`` is the comparison's). A comparison stopped part way is
    written with ``complete=False``. ``findings`` fill the workbook's Findings sheet.
    Returns the paths by name."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    runs = comparison.all_results
    summaries = summaries or {}
    paths = {"summary": folder / "summary.csv"}
    summary = pd.concat([(summaries[name] if name in summaries else results.summary()).assign(scenario=name)
                         for name, results in runs.items()], ignore_index=True)
    summary = summary[["scenario", *summary.columns.drop("scenario")]]
    atomic_write(paths["summary"], lambda tmp: summary.to_csv(tmp, index=False))
    paths.update(write_comparison_headline(folder, summary, {name: results.config for name, results in runs.items()},
                                           findings))
    if comparison.scenarios:
        paths["comparison"] = folder / "comparison.csv"
        atomic_write(paths["comparison"], lambda tmp: comparison.table.to_csv(tmp, index=False))
    content = {"complete": complete, "scenarios": list(runs if scenarios is None else scenarios),
               "finished": list(runs),
               "runs": {name: manifest(results, overrides, wall_time_seconds) for name, results in runs.items()}}
    paths["manifest"] = write_manifest(folder, content)
    return paths


def search_description(config: SimConfig, target: Any, overrides: Sequence[str] = (),
                       grid: Mapping[str, Sequence[float]] | None = None, costs: Mapping[str, float] | None = None,
                       max_investigators: int | None = None,
                       wall_time_seconds: float = float("nan")) -> dict[str, Any]:
    """What a staffing search's manifest records: the target (a ``sim.Target``), the grid
    and costs of a mix search or the most investigators of a bisection, and the
    provenance of ``config`` (the configuration searched around) with its ``overrides``."""
    searched = {"grid": {key: list(levels) for key, levels in grid.items()}, "costs": dict(costs or {})} if grid \
        else {"investigators": {"low": config.staffing.investigators, "high": max_investigators}}
    return {"target": dataclasses.asdict(target), **searched,
            **provenance(config, overrides, wall_time_seconds)}


def write_search_folder(runs: pd.DataFrame, folder: str | Path, description: Mapping[str, Any] | None = None,
                        complete: bool = True) -> Path:
    """Write a staffing search's levels run (``SearchResult.runs``, or the levels run so
    far) as ``folder/runs.csv`` (the folder created) and, last, ``manifest.json``:
    ``complete``, the ``levels_run`` and the search's ``description``
    (:func:`search_description`), if given. Returns the path of ``runs.csv``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "runs.csv"
    atomic_write(path, lambda tmp: runs.to_csv(tmp, index=False))
    if description is not None:
        write_manifest(folder, {"complete": complete, "levels_run": len(runs), **description})
    return path


def write_replication_study_folder(study: Any, folder: str | Path, overrides: Sequence[str], max_replications: int,
                                   wall_time_seconds: float = float("nan"), complete: bool = True) -> dict[str, Path]:
    """Write a replication study (a ``sim.ReplicationStudy`` of replications
    0..``max_replications``-1, run with ``overrides``; with ``complete=False``, of the
    replications finished before it was stopped) into ``folder`` (created):
    ``trajectory.csv``, ``recommendation.csv`` and, last, ``manifest.json`` (``complete``
    and ``replications_finished`` among its fields); returns the paths by name."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"trajectory": folder / "trajectory.csv", "recommendation": folder / "recommendation.csv"}
    atomic_write(paths["trajectory"], lambda tmp: study.trajectory.to_csv(tmp, index=False))
    atomic_write(paths["recommendation"], lambda tmp: study.recommendation.to_csv(tmp, index=False))
    finished = int(study.metrics["replication"].nunique())
    content = {"complete": complete, "replications_finished": finished,
               **replication_study_manifest(study.config, overrides, max_replications, study.precision,
                                            wall_time_seconds)}
    paths["manifest"] = write_manifest(folder, content)
    return paths


def write_sensitivity_table(sweep_folder: str | Path) -> pd.DataFrame | None:
    """For a collected sweep over a sampled design (``sampled_parameters`` in its
    ``design.json``): the sensitivity indices of the tail metrics the design supports
    (``sim.results.sensitivity.sensitivity_indices``: regression, Sobol' or Morris, the
    design drawn again from the ``sample`` block ``design.json`` records), written as
    ``sensitivity.csv`` in the folder and returned. None (and nothing written) for a sweep
    without sampled parameters or without a finished point. A design written before the
    block was recorded gets regression indices. ConfigError if the recorded block is not a
    design."""
    folder = Path(sweep_folder)
    design = folder / "design.json"
    record = _design_record(folder)
    sampled = record.get("sampled_parameters")
    if not sampled:
        return None
    table = pd.read_parquet(folder / "sweep.parquet")
    if (table["status"] == "ok").sum() == 0:
        return None
    if record.get("sample"):
        try:
            spec = sample_spec(record["sample"])
        except ConfigError as exc:
            raise ConfigError(f"{design}: {exc.key}", exc.value, exc.allowed) from None
        indices = sensitivity_indices(table, spec)
    else:
        indices = regression_indices(table, sampled)
    atomic_write(folder / "sensitivity.csv", lambda tmp: indices.to_csv(tmp, index=False))
    return indices


def write_uncertainty_tables(sweep_folder: str | Path) -> tuple[pd.DataFrame, pd.DataFrame | None] | None:
    """For a collected two-level sweep (``uncertain_parameters`` in its ``design.json``): each
    metric row's estimate over the parameters' uncertainty and its variance split
    (``uncertainty.csv``, ``sim.results.input_uncertainty.input_uncertainty``) and, when the
    grid runs ``baseline`` beside other scenarios, each one's benefit over the samples
    (``benefit.csv``, ``benefit_under_uncertainty``), from ``replications.parquet``. Both
    written in the folder and returned (the second None without scenarios to compare);
    None, and nothing written, for another sweep or one without a finished point."""
    folder = Path(sweep_folder)
    uncertain = _design_record(folder).get("uncertain_parameters")
    table_file = folder / "replications.parquet"
    if not uncertain or not table_file.is_file():
        return None
    per_rep = pd.read_parquet(table_file)
    if per_rep.empty:
        return None
    drawn = [key for key in uncertain if key != "run.seed"]
    words = (" and ".join(drawn) if len(drawn) <= 2 else
             f"its {len(drawn)} uncertain parameters")
    summary = input_uncertainty(per_rep, uncertain)
    atomic_write(folder / "uncertainty.csv", lambda tmp: summary.to_csv(tmp, index=False))
    scenarios = list(pd.unique(per_rep["scenario"].astype(str))) if "scenario" in per_rep.columns else []
    if "baseline" not in scenarios or len(scenarios) < 2:
        return summary, None
    benefit = pd.concat([benefit_under_uncertainty(per_rep, uncertain, name, "baseline", parameter_words=words)
                         for name in scenarios if name != "baseline"], ignore_index=True)
    atomic_write(folder / "benefit.csv", lambda tmp: benefit.to_csv(tmp, index=False))
    return summary, benefit


def _design_record(folder: Path) -> dict:
    """A sweep folder's ``design.json`` as written (``SweepFolder.write_design``); empty if
    it has none."""
    design = folder / "design.json"
    return json.loads(design.read_text()) if design.is_file() else {}
