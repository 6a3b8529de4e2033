"""A design point's files (a sweep's point, a multirun's job): ``point.json`` and its
summary, the files ``sim.io.collect`` reads."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd

from .atomic import atomic_write

__all__ = ["write_point"]


def write_point(folder: str | Path, key: str, params: dict, cfg, summary: pd.DataFrame | None,
                wall_time_seconds: float, error: str | None = None) -> None:
    """The files ``sim.io.collect`` reads from a run folder: point.json (the point's key,
    parameters, status and config) and summary.parquet, or error.txt if it failed."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    info = {"point": key, "params": params, "status": "ok" if error is None else "failed",
            "replications": cfg.run.replications if error is None else 0, "simulation_seconds": wall_time_seconds,
            "config": dataclasses.asdict(cfg)}
    if error is None:
        atomic_write(folder / "summary.parquet", lambda p: summary.to_parquet(p, index=False))
    else:
        config_text = json.dumps(info["config"], indent=1, default=str)
        atomic_write(folder / "error.txt", lambda p: p.write_text(f"{error}\n\nconfiguration:\n{config_text}\n"))
    atomic_write(folder / "point.json", lambda p: p.write_text(json.dumps(info, indent=1, default=str)))
