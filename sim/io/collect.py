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
import pyarrow as pa
import pyarrow.parquet as pq

from ..results.catalogue import SUMMARY_COLUMN_TYPES

TIMING_COLUMNS = ("simulation_seconds",)
"""Columns that differ between runs of the same sweep (how long it took)."""

ROW_GROUP_POINTS = 64
"""Points written to ``sweep.parquet`` at once: one row group per point would grow the file's
metadata (and the writer's memory) with the points."""


def collect(directory: str | Path, write: bool = True, table: bool = True) -> pd.DataFrame | None:
    """Every point under ``directory`` as one tidy table, written to ``sweep.parquet`` there
    (unless ``write`` is false) one point at a time, so memory does not grow with the
    points; returned as a frame if ``table``. Rows are ordered by the design
    (``design.json``) when there is one, else by folder (multirun job 10 after job 9)."""
    root = Path(directory)
    infos = _point_infos(root)
    order = _design_order(root, infos)
    layout = _SweepTableLayout.of([infos[key] for key in order])
    parts = _write_points(root, [infos[key] for key in order], layout, write, keep=table)
    if not table:
        return None
    return layout.concat(parts).to_pandas()


def _point_infos(root: Path) -> dict[str, dict]:
    """Every point's ``point.json`` under ``root``, by point key, in natural folder order
    (job 10 after job 9); an ``ok`` point wins over a failure of the same point."""

    def natural(path: Path) -> tuple:
        return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in path.relative_to(root).parts)

    infos: dict[str, dict] = {}
    for path in sorted(root.rglob("point.json"), key=natural):
        if "partial" in path.relative_to(root).parts or path.parent.name.startswith(".tmp-"):
            continue
        info = _point_info(path)
        key = info["point"]
        if key in infos and infos[key].get("status") == "ok":
            continue  # a point finished after an earlier failure: the result stands
        infos[key] = info
    return infos


def _point_info(path: Path) -> dict:
    info = json.loads(path.read_text())
    info.pop("config", None)  # kept in the point's folder; not needed to collect
    info["folder"] = str(path.parent)
    return info


def _design_order(root: Path, infos: dict[str, dict]) -> list[str]:
    """The points' keys in the design's order when ``root`` has a ``design.json`` (adding to
    ``infos`` the planned points with no folder yet, as ``missing``), else as found."""
    design = root / "design.json"
    if not design.is_file():
        return list(infos)
    planned = json.loads(design.read_text())["points"]
    for point in planned:
        infos.setdefault(point["point"], {"point": point["point"], "params": point["params"], "status": "missing"})
    return [point["point"] for point in planned]


class _SweepTableLayout:
    """The columns of ``sweep.parquet``: point, status, one per parameter, the summary's,
    replications and simulation seconds, with their Arrow types."""

    def __init__(self, parameters: list[str], schema: pa.Schema):
        self.parameters = parameters
        self.schema = schema
        self.text_parameters = {name for name in parameters if schema.field(name).type == pa.string()}

    @classmethod
    def of(cls, infos: list[dict]) -> _SweepTableLayout:
        """The layout of the points ``infos``: every parameter any of them has, in order of appearance."""
        parameters = list(dict.fromkeys(name for info in infos for name in info.get("params", {})))
        schema = pa.schema([("point", pa.string()), ("status", pa.string())]
                           + [(name, _param_type([info.get("params", {}).get(name) for info in infos]))
                              for name in parameters]
                           + [(name, pa.type_for_alias(kind)) for name, kind in SUMMARY_COLUMN_TYPES.items()]
                           + [("replications", pa.int64()), ("simulation_seconds", pa.float64())])
        return cls(parameters, schema)

    def point_table(self, info: dict) -> pa.Table:
        """One point's rows: its summary (one empty row for a failed or missing point) beside
        its parameters, status, replications and seconds."""
        summary = Path(info.get("folder", "")) / "summary.parquet"
        finished = info.get("status") == "ok" and summary.is_file()
        frame = pd.read_parquet(summary) if finished else pd.DataFrame({"force": [None]})
        frame = frame.reindex(columns=list(SUMMARY_COLUMN_TYPES))
        frame.insert(0, "status", info.get("status", "ok"))
        frame.insert(0, "point", info["point"])
        params = info.get("params", {})
        for position, name in enumerate(self.parameters):
            value = params.get(name)
            as_text = name in self.text_parameters and value is not None
            frame.insert(2 + position, name, str(value) if as_text else value)
        frame["replications"] = int(info.get("replications", 0))
        frame["simulation_seconds"] = float(info.get("simulation_seconds", np.nan))
        return pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False)

    def concat(self, parts: list[pa.Table]) -> pa.Table:
        """The points' tables as one (an empty table of this layout if there are none)."""
        return pa.concat_tables(parts) if parts else self.schema.empty_table()


def _param_type(values: list) -> pa.DataType:
    """The Arrow type of a parameter column: whole numbers, numbers, true/false, else text."""
    given = [value for value in values if value is not None]
    if given and all(isinstance(value, bool) for value in given):
        return pa.bool_()
    if all(isinstance(value, int) and not isinstance(value, bool) for value in given):
        return pa.int64()
    if all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in given):
        return pa.float64()
    return pa.string()


def _write_points(root: Path, infos: list[dict], layout: _SweepTableLayout, write: bool,
                  keep: bool) -> list[pa.Table]:
    """Each point's table, written to ``root/sweep.parquet`` (if ``write``) in row groups of
    ``ROW_GROUP_POINTS`` points through a temporary file renamed into place; the tables are
    returned if ``keep``, else dropped once written."""
    kept: list[pa.Table] = []
    group: list[pa.Table] = []
    partial_file = root / ".sweep.parquet.tmp"
    writer = pq.ParquetWriter(partial_file, layout.schema) if write else None
    try:
        for position, info in enumerate(infos):
            point_table = layout.point_table(info)
            group.append(point_table)
            if keep:
                kept.append(point_table)
            if writer is not None and (len(group) == ROW_GROUP_POINTS or position == len(infos) - 1):
                writer.write_table(pa.concat_tables(group))
                group = []
    finally:
        if writer is not None:
            writer.close()
    if write:
        partial_file.replace(root / "sweep.parquet")
    return kept


def status_counts(sweep: str | Path | pd.DataFrame) -> dict[str, int]:
    """Points by status (``ok``, ``failed``, ``missing``) in a collected table, or in the
    ``sweep.parquet`` of a folder."""
    if not isinstance(sweep, pd.DataFrame):
        sweep = pd.read_parquet(Path(sweep) / "sweep.parquet", columns=["point", "status"])
    return sweep.drop_duplicates("point")["status"].value_counts().to_dict()
