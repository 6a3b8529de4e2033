"""What makes an output folder self-describing: the resolved config, overrides, seed, package
versions, the source tree's git revision and the wall time, written as ``manifest.json``."""

from __future__ import annotations

import dataclasses
import json
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Sequence

from ..config.schema import SimConfig
from ..results import Results
from .atomic import atomic_write

PACKAGES = ("casesim", "simpy", "numpy", "scipy", "pandas", "pyarrow", "hydra-core", "omegaconf", "matplotlib", "tqdm")


def package_versions() -> dict[str, str]:
    """The Python version and the version of each package in PACKAGES (or 'not installed')."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


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


def provenance(config: SimConfig, overrides: Sequence[str], wall_time_seconds: float) -> dict[str, Any]:
    """What every manifest records about how its folder was made: the overrides as given, the
    whole resolved config, package versions, git revision, the command line and the wall
    time in seconds."""
    return {
        "overrides": list(overrides),
        "config": dataclasses.asdict(config),
        "versions": package_versions(),
        "git_revision": git_revision(),
        "command": sys.argv,
        "wall_time_seconds": round(wall_time_seconds, 3),
    }


def manifest(results: Results, overrides: Sequence[str], wall_time_seconds: float) -> dict[str, Any]:
    """The manifest of a run: its scenario, force, seed and replications, its provenance and
    the cases simulated."""
    config = results.config
    return {
        "scenario": config.scenario,
        "force": config.force,
        "seed": config.run.seed,
        "replications": config.run.replications,
        **provenance(config, overrides, wall_time_seconds),
        "cases_simulated": int(len(results.cases)),
    }


def replication_study_manifest(config: SimConfig, overrides: Sequence[str], max_replications: int, precision: float,
                               wall_time_seconds: float) -> dict[str, Any]:
    """The manifest of a replication study: its scenario and seed, the replications run
    (0..``max_replications``-1), the relative half-width wanted (``precision``, a fraction of
    the mean) and its provenance."""
    return {
        "scenario": config.scenario,
        "seed": config.run.seed,
        "max_replications": max_replications,
        "precision": precision,
        **provenance(config, overrides, wall_time_seconds),
    }


def write_manifest(folder: str | Path, content: dict[str, Any]) -> Path:
    """Write ``content`` (a manifest, or manifests by name) as ``folder/manifest.json``; the
    folder must exist. Returns the file's path."""
    path = Path(folder) / "manifest.json"
    text = json.dumps(content, indent=2, default=str)
    atomic_write(path, lambda tmp: tmp.write_text(text))
    return path
