"""What makes an output folder self-describing: the resolved config, overrides, seed, package
versions, the source tree's git revision and the wall time, written as ``manifest.json``."""

from __future__ import annotations

import dataclasses
import functools
import json
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Sequence

from ..config.design import config_hash
from ..config.schema import SimConfig
from ..results import Results
from .atomic import atomic_write

PACKAGES = ("casesim", "simpy", "numpy", "scipy", "pandas", "pyarrow", "hydra-core", "omegaconf", "matplotlib", "tqdm")


def package_versions() -> dict[str, str]:
    """The Python version and the version of each package in PACKAGES (or 'not installed')."""
    return dict(_package_versions())


@functools.cache  # what this process imported: asked once, though folders rewrite manifests as work finishes
def _package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


@functools.cache  # the tree this process's code came from: two git commands once, not per manifest
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


def manifest(results: Results, overrides: Sequence[str], wall_time_seconds: float, complete: bool = True,
             replications_done: int | None = None) -> dict[str, Any]:
    """The manifest of a run: its scenario, force, seed and replications, whether it is
    ``complete`` and how many replications its tables hold (all of them unless
    ``replications_done`` says otherwise), its provenance and the cases simulated."""
    config = results.config
    done = config.run.replications if replications_done is None else replications_done
    return run_manifest(config, overrides, wall_time_seconds, complete, done, int(len(results.cases)))


def run_manifest(config: SimConfig, overrides: Sequence[str], wall_time_seconds: float, complete: bool,
                 replications_done: int, cases_simulated: int = 0) -> dict[str, Any]:
    """The manifest of a run folder, also while its replications run: ``complete`` is true
    only once every table and figure is written; ``replications_done`` replications (of
    ``replications``) are in its tables; ``config_hash`` names the configuration (as a
    sweep point's key: how it is run, workers and progress bar, left out), which is how a
    rerun of the same command finds the run to resume."""
    return {
        "scenario": config.scenario,
        "force": config.force,
        "seed": config.run.seed,
        "replications": config.run.replications,
        "complete": complete,
        "replications_done": replications_done,
        "config_hash": config_hash(config),
        **provenance(config, overrides, wall_time_seconds),
        "cases_simulated": cases_simulated,
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
