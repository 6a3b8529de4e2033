"""The run folder: tidy tables, the summary and a self-describing manifest.

Files are written under a temporary name and renamed into place, so a run that dies part
way leaves no half-written file behind a complete-looking name.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from .results import Results

PACKAGES = ("casesim", "simpy", "numpy", "scipy", "pandas", "pyarrow", "hydra-core", "omegaconf", "matplotlib", "tqdm")


def atomic_write(path: Path, write) -> None:
    """Write via ``write(tmp_path)`` and rename into place, so no half-written file is left."""
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_revision() -> str:
    """The source tree's commit (with '+dirty' if it has uncommitted changes), or 'unknown'."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10)
        if rev.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return rev.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def manifest(results: Results, overrides: Sequence[str], wall_time_seconds: float) -> dict[str, Any]:
    cfg = results.config
    return {
        "scenario": cfg.scenario,
        "force": cfg.force,
        "seed": cfg.run.seed,
        "replications": cfg.run.replications,
        "overrides": list(overrides),
        "config": dataclasses.asdict(cfg),
        "versions": package_versions(),
        "git_revision": git_revision(),
        "command": sys.argv,
        "wall_time_seconds": round(wall_time_seconds, 3),
        "cases_simulated": int(len(results.cases)),
    }


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
    text = json.dumps(manifest(results, overrides, wall_time_seconds), indent=2, default=str)
    atomic_write(paths["manifest"], lambda p: p.write_text(text))
    return paths


def write_point(folder: str | Path, key: str, params: dict, cfg, summary: pd.DataFrame | None,
                wall_time_seconds: float, error: str | None = None) -> None:
    """The files ``sim.collect`` reads from a run folder: point.json (the point's key,
    parameters, status and config) and summary.parquet, or error.txt if it failed."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    info = {"point": key, "params": params, "status": "ok" if error is None else "failed",
            "replications": cfg.run.replications if error is None else 0, "simulation_seconds": wall_time_seconds,
            "config": dataclasses.asdict(cfg)}
    if error is None:
        atomic_write(folder / "summary.parquet", lambda p: summary.to_parquet(p, index=False))
    else:
        atomic_write(folder / "error.txt", lambda p: p.write_text(f"{error}\n\nconfiguration:\n"
                                                                  f"{json.dumps(info['config'], indent=1, default=str)}\n"))
    atomic_write(folder / "point.json", lambda p: p.write_text(json.dumps(info, indent=1, default=str)))
