"""Collecting a sweep (``casesim-sweep``) or a Hydra multirun into one tidy table.

Every finished design point or multirun job leaves a folder with ``point.json`` (its
parameters and status) and ``summary.parquet``; a failed one leaves ``point.json`` and
``error.txt``. ``collect`` finds them all under a folder and writes ``sweep.parquet``: one row
per point x summary row, the point's parameters as columns, and a ``status`` column
(``ok``, ``failed``, or ``missing`` for a point of ``design.json`` with no folder yet).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .outputs import atomic_write

TIMING_COLUMNS = ("simulation_seconds",)
"""Columns that differ between runs of the same sweep (how long it took)."""


def _point_rows(folder: Path) -> tuple[dict, pd.DataFrame | None]:
    info = json.loads((folder / "point.json").read_text())
    summary = folder / "summary.parquet"
    frame = pd.read_parquet(summary) if info.get("status") == "ok" and summary.is_file() else None
    return info, frame


def collect(directory: str | Path, write: bool = True) -> pd.DataFrame:
    """Every point under ``directory`` as one tidy frame (written to ``sweep.parquet``
    there unless ``write`` is false). Rows are ordered by the design (``design.json``) when
    there is one, else by folder name."""
    root = Path(directory)
    infos: dict[str, tuple[dict, pd.DataFrame | None]] = {}
    def natural(path: Path) -> tuple:  # multirun job 10 after job 9, not after job 1
        return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in path.relative_to(root).parts)

    for path in sorted(root.rglob("point.json"), key=natural):
        if "partial" in path.relative_to(root).parts or path.parent.name.startswith(".tmp-"):
            continue
        info, frame = _point_rows(path.parent)
        key = info["point"]
        if key in infos and infos[key][0].get("status") == "ok":
            continue  # a point finished after an earlier failure: the result stands
        infos[key] = (info, frame)
    order = list(infos)
    design = root / "design.json"
    if design.is_file():
        planned = json.loads(design.read_text())["points"]
        order = [p["point"] for p in planned]
        for p in planned:
            infos.setdefault(p["point"], ({"point": p["point"], "params": p["params"], "status": "missing"}, None))
    param_names = list(dict.fromkeys(k for key in order for k in infos[key][0].get("params", {})))
    parts = []
    for key in order:
        info, frame = infos[key]
        if frame is None:
            frame = pd.DataFrame({"force": [None], "metric": [None]})
        frame = frame.copy()
        frame.insert(0, "status", info.get("status", "ok"))
        frame.insert(0, "point", key)
        for name in reversed(param_names):
            frame.insert(2, name, info.get("params", {}).get(name, np.nan))
        frame["replications"] = info.get("replications", 0)
        frame["simulation_seconds"] = info.get("simulation_seconds", np.nan)
        parts.append(frame)
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["point", "status"])
    if write:
        root.mkdir(parents=True, exist_ok=True)
        atomic_write(root / "sweep.parquet", lambda t: table.to_parquet(t, index=False))
    return table


def status_counts(table: pd.DataFrame) -> dict[str, int]:
    """Points by status (``ok``, ``failed``, ``missing``)."""
    return table.drop_duplicates("point")["status"].value_counts().to_dict()
