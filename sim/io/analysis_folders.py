"""The folders of the analyses beyond a single run: a scenario comparison, a staffing
search, a replication study, and the sensitivity indices of a sampled sweep.

Tables and manifests only: the figures and the HTML report are drawn above this layer
(``sim.present``), by the commands or a notebook.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from ..results.comparison import Comparison
from ..results.sensitivity import regression_indices
from .atomic import atomic_write
from .manifest import manifest, replication_study_manifest, write_manifest


def write_comparison_folder(comparison: Comparison, folder: str | Path, overrides: Sequence[str] = (),
                            wall_time_seconds: float = float("nan")) -> dict[str, Path]:
    """Write ``comparison.csv`` (the paired differences) and ``manifest.json`` (one manifest
    per scenario, the baseline first; ``wall_time_seconds`` is the comparison's) into
    ``folder`` (created); returns the paths by name."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    table_path = folder / "comparison.csv"
    atomic_write(table_path, lambda tmp: comparison.table.to_csv(tmp, index=False))
    manifests = {name: manifest(results, overrides, wall_time_seconds)
                 for name, results in comparison.all_results.items()}
    return {"comparison": table_path, "manifest": write_manifest(folder, manifests)}


def write_search_folder(runs: pd.DataFrame, folder: str | Path) -> Path:
    """Write a staffing search's levels run (``SearchResult.runs``) as ``folder/runs.csv``
    (the folder created); returns its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "runs.csv"
    atomic_write(path, lambda tmp: runs.to_csv(tmp, index=False))
    return path


def write_replication_study_folder(study: Any, folder: str | Path, overrides: Sequence[str], max_replications: int,
                                   wall_time_seconds: float = float("nan")) -> dict[str, Path]:
    """Write a replication study (a ``sim.ReplicationStudy`` of replications
    0..``max_replications``-1, run with ``overrides``) into ``folder`` (created):
    ``trajectory.csv``, ``recommendation.csv`` and ``manifest.json``; returns the paths by
    name."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"trajectory": folder / "trajectory.csv", "recommendation": folder / "recommendation.csv"}
    atomic_write(paths["trajectory"], lambda tmp: study.trajectory.to_csv(tmp, index=False))
    atomic_write(paths["recommendation"], lambda tmp: study.recommendation.to_csv(tmp, index=False))
    content = replication_study_manifest(study.config, overrides, max_replications, study.precision,
                                         wall_time_seconds)
    paths["manifest"] = write_manifest(folder, content)
    return paths


def write_sensitivity_table(sweep_folder: str | Path) -> pd.DataFrame | None:
    """For a collected sweep over a sampled design (``sampled_parameters`` in its
    ``design.json``): the regression sensitivity indices of the tail metrics, written as
    ``sensitivity.csv`` in the folder and returned. None (and nothing written) for a sweep
    without sampled parameters or without a finished point."""
    folder = Path(sweep_folder)
    design = folder / "design.json"
    sampled = json.loads(design.read_text()).get("sampled_parameters") if design.is_file() else None
    if not sampled:
        return None
    table = pd.read_parquet(folder / "sweep.parquet")
    if (table["status"] == "ok").sum() == 0:
        return None
    indices = regression_indices(table, sampled)
    atomic_write(folder / "sensitivity.csv", lambda tmp: indices.to_csv(tmp, index=False))
    return indices
