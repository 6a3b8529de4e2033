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

TIMING_COLUMNS = ("simulation_seconds",)
"""Columns that differ between runs of the same sweep (how long it took)."""


ROW_GROUP_POINTS = 64
SUMMARY_FIELDS = (("force", "string"), ("metric", "string"), ("by", "string"), ("grade", "string"),
                  ("estimate", "float64"), ("ci_low", "float64"), ("ci_high", "float64"), ("n_replications", "int64"),
                  ("note", "string"))


def _point_info(path: Path) -> dict:
    info = json.loads(path.read_text())
    info.pop("config", None)  # kept in the point's folder; not needed to collect
    info["folder"] = str(path.parent)
    return info


def _param_type(values: list):
    """The Arrow type of a parameter column: whole numbers, numbers, true/false, else text."""
    import pyarrow as pa

    vals = [v for v in values if v is not None]
    if vals and all(isinstance(v, bool) for v in vals):
        return pa.bool_()
    if all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        return pa.int64()
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
        return pa.float64()
    return pa.string()


def collect(directory: str | Path, write: bool = True, table: bool = True) -> pd.DataFrame | None:
    """Every point under ``directory`` as one tidy table, written to ``sweep.parquet`` there
    (unless ``write`` is false) one point at a time, so memory does not grow with the
    points; returned as a frame if ``table``. Rows are ordered by the design
    (``design.json``) when there is one, else by folder (multirun job 10 after job 9)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = Path(directory)

    def natural(path: Path) -> tuple:
        return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in path.relative_to(root).parts)

    infos: dict[str, dict] = {}
    for path in sorted(root.rglob("point.json"), key=natural):
        if "partial" in path.relative_to(root).parts or path.parent.name.startswith(".tmp-"):
            continue
        info = _point_info(path)
        key = info["point"]
        if key in infos and infos[key].get("status") == "ok":
            continue  # a point finished after an earlier failure: the result stands
        infos[key] = info
    order = list(infos)
    design = root / "design.json"
    if design.is_file():
        planned = json.loads(design.read_text())["points"]
        order = [p["point"] for p in planned]
        for p in planned:
            infos.setdefault(p["point"], {"point": p["point"], "params": p["params"], "status": "missing"})
    names = list(dict.fromkeys(k for key in order for k in infos[key].get("params", {})))
    schema = pa.schema([("point", pa.string()), ("status", pa.string())]
                       + [(n, _param_type([infos[k].get("params", {}).get(n) for k in order])) for n in names]
                       + [(n, pa.type_for_alias(t)) for n, t in SUMMARY_FIELDS]
                       + [("replications", pa.int64()), ("simulation_seconds", pa.float64())])
    text_params = {n for n in names if schema.field(n).type == pa.string()}

    def rows(info: dict) -> pa.Table:
        summary = Path(info.get("folder", "")) / "summary.parquet"
        ok = info.get("status") == "ok" and summary.is_file()
        frame = pd.read_parquet(summary) if ok else pd.DataFrame({"force": [None]})
        frame = frame.reindex(columns=[n for n, _ in SUMMARY_FIELDS])
        frame.insert(0, "status", info.get("status", "ok"))
        frame.insert(0, "point", info["point"])
        for k, n in enumerate(names):
            v = info.get("params", {}).get(n)
            frame.insert(2 + k, n, str(v) if n in text_params and v is not None else v)
        frame["replications"] = int(info.get("replications", 0))
        frame["simulation_seconds"] = float(info.get("simulation_seconds", np.nan))
        return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)

    parts: list[pa.Table] = []
    group: list[pa.Table] = []
    tmp = root / ".sweep.parquet.tmp"
    writer = pq.ParquetWriter(tmp, schema) if write else None
    try:
        for k, key in enumerate(order):
            t = rows(infos[key])
            group.append(t)
            if table:
                parts.append(t)
            # Row groups of many points: one per point would grow the file's metadata (and
            # the writer's memory) with the points.
            if writer is not None and (len(group) == ROW_GROUP_POINTS or k == len(order) - 1):
                writer.write_table(pa.concat_tables(group))
                group = []
    finally:
        if writer is not None:
            writer.close()
    if write:
        tmp.replace(root / "sweep.parquet")
    if not table:
        return None
    return pa.concat_tables(parts).to_pandas() if parts else schema.empty_table().to_pandas()


def status_counts(sweep: str | Path | pd.DataFrame) -> dict[str, int]:
    """Points by status (``ok``, ``failed``, ``missing``) in a collected table, or in the
    ``sweep.parquet`` of a folder."""
    if not isinstance(sweep, pd.DataFrame):
        sweep = pd.read_parquet(Path(sweep) / "sweep.parquet", columns=["point", "status"])
    return sweep.drop_duplicates("point")["status"].value_counts().to_dict()
