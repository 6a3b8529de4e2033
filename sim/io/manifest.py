"""What makes a run folder self-describing: the resolved config, overrides, seed, package
versions, the source tree's git revision and the wall time."""

from __future__ import annotations

import dataclasses
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Sequence

from ..results import Results

PACKAGES = ("casesim", "simpy", "numpy", "scipy", "pandas", "pyarrow", "hydra-core", "omegaconf", "matplotlib", "tqdm")


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
