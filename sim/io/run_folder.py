"""The run folder: tidy tables, the summary and a self-describing manifest.

Files are written under a temporary name and renamed into place, so a run that dies part
way leaves no half-written file behind a complete-looking name; ``manifest.json`` says
whether the folder is ``complete``, so a folder whose run stopped part way never looks
finished. A running run holds its folder (an operating-system lock, released when the
process ends however it ends), so no other run writes into it or resumes it meanwhile.
"""

from __future__ import annotations

import glob
import json
import os
from pathlib import Path
from typing import Sequence

import pandas as pd

from ..results import Results
from .atomic import atomic_write
from .manifest import manifest, write_manifest
from .spreadsheet import write_run_headline

__all__ = ["FolderHold", "hold_folder", "partial_runs", "read_manifest", "write_run_folder"]


def write_run_folder(results: Results, folder: str | Path, overrides: Sequence[str] = (),
                     wall_time_seconds: float = float("nan"), summary: pd.DataFrame | None = None,
                     complete: bool = True, replications_done: int | None = None,
                     findings: Sequence[str] | None = None) -> dict[str, Path]:
    """Write cases.parquet, timeseries.parquet, pools.csv, summary.csv, headline.xlsx (with
    ``findings`` on its Findings sheet), headline.csv and then manifest.json into ``folder``;
    the manifest says whether the run is ``complete`` and how many replications the tables
    hold (default: all). Returns the paths by name."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    summary = results.summary() if summary is None else summary
    paths = {
        "cases": folder / "cases.parquet",
        "timeseries": folder / "timeseries.parquet",
        "pools": folder / "pools.csv",
        "summary": folder / "summary.csv",
        "manifest": folder / "manifest.json",
    }
    atomic_write(paths["cases"], lambda p: results.cases.to_parquet(p, index=False))
    atomic_write(paths["timeseries"], lambda p: results.timeseries.to_parquet(p, index=False))
    atomic_write(paths["pools"], lambda p: results.pools.to_csv(p, index=False))
    atomic_write(paths["summary"], lambda p: summary.to_csv(p, index=False))
    paths.update(write_run_headline(folder, summary, results.config, findings))
    write_manifest(folder, manifest(results, overrides, wall_time_seconds, complete, replications_done))
    return paths


def read_manifest(folder: str | Path) -> dict | None:
    """``folder/manifest.json`` as a dict; None if there is none or it cannot be read."""
    try:
        content = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return content if isinstance(content, dict) else None


def partial_runs(pattern: str, config_key: str) -> list[Path]:
    """The run folders matching the glob ``pattern`` whose manifest says they are not
    complete and were made with configuration ``config_key``: the most recently written
    first."""
    found = []
    for name in glob.glob(pattern):
        content = read_manifest(name)
        if content and content.get("complete") is False and content.get("config_hash") == config_key:
            found.append((os.path.getmtime(Path(name) / "manifest.json"), Path(name)))
    return [folder for _, folder in sorted(found, reverse=True)]


class FolderHold:
    """A folder held by this process until :meth:`release` (or the process ends)."""

    def __init__(self, folder: Path, descriptor: int | None):
        self.folder, self._descriptor = folder, descriptor

    def release(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)  # closing the descriptor releases the lock
            self._descriptor = None


def hold_folder(folder: str | Path) -> FolderHold | None:
    """Hold ``folder`` (which must exist) for this process: None if another process holds
    it. Where the operating system has no ``flock`` (Windows) every hold succeeds."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks on folders
        return FolderHold(Path(folder), None)
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(descriptor)
        return None
    return FolderHold(Path(folder), descriptor)
