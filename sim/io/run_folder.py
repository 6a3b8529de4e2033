"""The run folder: tidy tables, the summary and a self-describing manifest.

Files are written under a temporary name and renamed into place, so a run that dies part
way leaves no half-written file behind a complete-looking name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from ..results import Results
from .atomic import atomic_write
from .manifest import manifest, write_manifest

__all__ = ["write_run_folder"]


def write_run_folder(results: Results, folder: str | Path, overrides: Sequence[str] = (),
                     wall_time_seconds: float = float("nan"), summary: pd.DataFrame | None = None) -> dict[str, Path]:
    """Write cases.parquet, timeseries.parquet, pools.csv, summary.csv and manifest.json
    into ``folder``; returns the paths by name."""
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
    write_manifest(folder, manifest(results, overrides, wall_time_seconds))
    return paths
