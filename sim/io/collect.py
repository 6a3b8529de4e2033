"""Collecting a sweep (``casesim-sweep``) or a Hydra multirun into one tidy table.

Every finished design point or multirun job leaves a folder with ``point.json`` (its
parameters and status) and ``summary.parquet``; a failed one leaves ``point.json`` and
``error.txt``. ``collect`` finds them all under a folder and writes ``sweep.parquet``: one row
per point x summary row, the point's parameters as columns, and a ``status`` column
(``ok``, ``failed``, or ``missing`` for a point of ``design.json`` with no folder yet). A
point whose files do not match its ``point.json`` (``sim.io.points.read_point``) is
reported and collected as ``failed``. A sweep whose replications were chosen per point
(``run.replications=auto``) has columns for the rule and its outcome too.

A ``casesim-sweep`` folder (one with ``design.json`` or ``points/``) also gets
``replications.parquet``: every replication's metrics of every ``ok`` point (its
``metrics.parquet``) beside the point's key and parameters, for models of one's own. Both
tables are written point by point through temporary files renamed into place, so neither
the memory used nor a failure part way depends on the size of the sweep.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..results.catalogue import SUMMARY_COLUMN_TYPES
from .points import POINT_FILE, DamagedPoint, read_point

TIMING_COLUMNS = ("simulation_seconds",)
"""Columns that differ between runs of the same sweep (how long it took)."""

ROW_GROUP_POINTS = 64
"""Points written to ``sweep.parquet`` at once: one row group per point would grow the file's
metadata (and the writer's memory) with the points."""

ROW_GROUP_REPLICATION_ROWS = 1 << 17
"""Rows of ``replications.parquet`` gathered before they are written as one row group (some
131,000: a few MB held at once, whatever the size of the sweep)."""

RULE_COLUMNS: dict[str, pa.DataType] = {"precision": pa.float64(), "max_replications": pa.int64(),
                                        "precision_reached": pa.bool_(), "recommended_replications": pa.int64(),
                                        "precision_note": pa.string()}
"""The columns ``sweep.parquet`` has when a sweep's replications were chosen per point
(``run.replications=auto``): the rule (``precision``, ``max_replications``) and its outcome."""

REPLICATION_VALUE_COLUMNS = ("replication", "force", "region", "metric", "by", "grade", "value")
"""The columns of ``replications.parquet`` after the point's key and parameters: a point's
``metrics.parquet`` (``catalogue.REPLICATION_METRIC_COLUMNS``) without its ``scenario``,
which the parameters and the point's config say."""


def collect(directory: str | Path, write: bool = True, table: bool = True,
            report: Callable[[str], None] | None = None) -> pd.DataFrame | None:
    """Every point under ``directory`` as one tidy table, written to ``sweep.parquet`` there
    (unless ``write`` is false) one point at a time, so memory does not grow with the
    points; returned as a frame if ``table``. Rows are ordered by the design
    (``design.json``) when there is one, else by folder (multirun job 10 after job 9). A
    sweep's folder (``design.json`` or ``points/`` in it) gets ``replications.parquet``
    too, written in the same pass: each ``ok`` point's per-replication metrics.

    Each point's files are checked against its ``point.json`` (``sim.io.points.read_point``):
    a damaged point is ``failed`` in the table, and ``report`` (by default: stderr) is
    given one line naming it, the damaged file and what is wrong; so is a damaged
    ``design.json``, whose points are then collected in folder order. A write that fails
    leaves no ``.sweep.parquet.tmp`` (nor ``.replications.parquet.tmp``) behind."""
    root = Path(directory)
    report = report or _to_stderr
    infos = _point_infos(root, report)
    order = _design_order(root, infos, report)
    layout = _SweepTableLayout.of([infos[key] for key in order])
    replications = write and ((root / "design.json").is_file() or (root / "points").is_dir())
    parts = _write_points(root, [infos[key] for key in order], layout, write, keep=table, report=report,
                          replications=replications)
    if not table:
        return None
    return layout.concat(parts).to_pandas()


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr)


def _point_infos(root: Path, report: Callable[[str], None]) -> dict[str, dict]:
    """Every point's ``point.json`` under ``root``, by point key, in natural folder order
    (job 10 after job 9); an ``ok`` point wins over a failure of the same point. A damaged
    point is reported and kept as ``failed``."""

    def natural(path: Path) -> tuple:
        return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in path.relative_to(root).parts)

    infos: dict[str, dict] = {}
    for folder in sorted(_point_folders(root), key=natural):
        try:
            info = read_point(folder)
        except DamagedPoint as damage:
            info = _damaged_info(root, folder, damage, report)
        info.pop("config", None)  # kept in the point's folder; not needed to collect
        info["folder"] = str(folder)
        key = info["point"]
        if key in infos and infos[key].get("status") == "ok":
            continue  # a point finished after an earlier failure: the result stands
        infos[key] = info
    return infos


def _point_folders(root: Path) -> set[Path]:
    """The folders of points under ``root``: every folder with a point.json (a sweep's
    batches, points set aside as damaged and points being assembled aside), and every
    folder of a sweep's ``points/`` and ``failed/``, whose point.json may be lost."""
    folders = {path.parent for path in root.rglob(POINT_FILE)}
    for kind in ("points", "failed"):
        if (root / kind).is_dir():
            folders.update(path for path in (root / kind).iterdir() if path.is_dir())
    return {folder for folder in folders
            if folder.relative_to(root).parts[:1] not in (("partial",), ("damaged",))
            and not folder.name.startswith(".tmp-")}


def _damaged_info(root: Path, folder: Path, damage: DamagedPoint, report: Callable[[str], None]) -> dict:
    """A damaged point as a ``failed`` one, reported: its key from its point.json if that
    reads, else from its folder (``points/KEY``, ``failed/KEY``; a multirun job's number)."""
    info = damage.info or {}
    parts = folder.relative_to(root).parts
    if isinstance(info.get("point"), str):
        key = info["point"]
    elif len(parts) == 2 and parts[0] in ("points", "failed"):
        key = parts[1]
    else:
        key = "/".join(parts) or folder.name
    report(f"damaged point {key}: {_shown(root, damage.file)}: {damage.problem}; marked failed")
    params = info.get("params") if isinstance(info.get("params"), dict) else {}
    return {"point": key, "params": params, "status": "failed"}


def _shown(root: Path, path: Path) -> str:
    """``path`` as it is shown in a report: inside the folder collected, relative to it."""
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(path)


def design_problem(directory: str | Path) -> str | None:
    """What is wrong with the ``design.json`` of a sweep folder, in a few words; None if
    there is none or it is a design (an object with ``points``, each a ``point`` key and
    its ``params``)."""
    try:
        _read_design(Path(directory) / "design.json")
    except _DamagedDesign as damage:
        return str(damage)
    return None


class _DamagedDesign(Exception):
    """A design.json that is not a sweep's design."""


def _read_design(path: Path) -> dict | None:
    """The design in ``path`` (None if there is no such file), its ``points`` each a
    ``point`` key and ``params``; _DamagedDesign if it is not a design."""
    if not path.is_file():
        return None
    try:
        design = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise _DamagedDesign(f"not JSON ({getattr(exc, 'msg', None) or ' '.join(str(exc).split())})") from None
    points = design.get("points") if isinstance(design, dict) else None
    if not isinstance(points, list):
        raise _DamagedDesign("not a sweep design (no list of 'points')")
    for point in points:
        if not (isinstance(point, dict) and isinstance(point.get("point"), str)
                and isinstance(point.get("params", {}), dict)):
            raise _DamagedDesign(f"not a sweep design (a point is {point!r})")
    sampled = design.get("sampled_parameters", [])
    if not (isinstance(sampled, list) and all(isinstance(name, str) for name in sampled)):
        raise _DamagedDesign(f"not a sweep design ('sampled_parameters' is {sampled!r})")
    if not isinstance(design.get("replication_rule", {}), dict):
        raise _DamagedDesign(f"not a sweep design ('replication_rule' is {design['replication_rule']!r})")
    if not isinstance(design.get("sample", {}), dict):
        raise _DamagedDesign(f"not a sweep design ('sample' is {design['sample']!r})")
    return design


def _design_order(root: Path, infos: dict[str, dict], report: Callable[[str], None]) -> list[str]:
    """The points' keys in the design's order when ``root`` has a ``design.json`` (adding to
    ``infos`` the planned points with no folder yet, as ``missing``, with the design's
    replication rule if it has one), else as found. A damaged design.json is reported, and
    the points are then taken as found."""
    try:
        design = _read_design(root / "design.json")
    except _DamagedDesign as damage:
        report(f"damaged design.json: {damage}; points collected in folder order, "
               "without the design's missing points")
        return list(infos)
    if design is None:
        return list(infos)
    rule = design.get("replication_rule")
    for point in design["points"]:
        params = point.get("params", {})
        info = infos.setdefault(point["point"], {"point": point["point"], "params": params, "status": "missing"})
        if not info.get("params"):  # a damaged point.json lost them; the design has them
            info["params"] = params
        if rule is not None and not isinstance(info.get("replication_rule"), dict):
            info["replication_rule"] = rule
    return [point["point"] for point in design["points"]]


class _SweepTableLayout:
    """The columns of ``sweep.parquet`` (point, status, one per parameter, the summary's,
    replications, the replication rule's if any point has one, and simulation seconds) and
    of ``replications.parquet``, with their Arrow types."""

    def __init__(self, parameters: list[str], schema: pa.Schema, replications_schema: pa.Schema):
        self.parameters = parameters
        self.schema = schema
        self.replications_schema = replications_schema
        self.text_parameters = {name for name in parameters if schema.field(name).type == pa.string()}
        self.rule = RULE_COLUMNS.keys() <= set(schema.names)

    @classmethod
    def of(cls, infos: list[dict]) -> _SweepTableLayout:
        """The layout of the points ``infos``: every parameter any of them has, in order of
        appearance; the rule's columns if any of them was run under one."""
        parameters = list(dict.fromkeys(name for info in infos for name in info.get("params", {})))
        types = {name: _param_type([info.get("params", {}).get(name) for info in infos]) for name in parameters}
        rule = any(isinstance(info.get("replication_rule"), dict) for info in infos)
        schema = pa.schema([("point", pa.string()), ("status", pa.string()), *types.items()]
                           + [(name, pa.type_for_alias(kind)) for name, kind in SUMMARY_COLUMN_TYPES.items()]
                           + [("replications", pa.int64()), *(RULE_COLUMNS.items() if rule else ())]
                           + [("simulation_seconds", pa.float64())])
        # Labels repeat on every row: dictionary-encoded, they cost a few bytes a row, and a
        # reader gets categorical columns.
        replications_schema = pa.schema([("point", LABELS)]
                                        + [(name, LABELS if kind == pa.string() else kind)
                                           for name, kind in types.items()]
                                        + [(name, pa.int64() if name == "replication" else pa.float64()
                                            if name == "value" else LABELS) for name in REPLICATION_VALUE_COLUMNS])
        return cls(parameters, schema, replications_schema)

    def point_table(self, info: dict, summary: pd.DataFrame | None = None) -> pa.Table:
        """One point's rows: its ``summary`` (one empty row for a failed or missing point)
        beside its parameters, status, replications, rule and seconds."""
        frame = summary if summary is not None else pd.DataFrame({"force": [None]})
        frame = frame.reindex(columns=list(SUMMARY_COLUMN_TYPES))
        frame.insert(0, "status", info.get("status", "ok"))
        frame.insert(0, "point", info["point"])
        params = info.get("params", {})
        for position, name in enumerate(self.parameters):
            value = params.get(name)
            as_text = name in self.text_parameters and value is not None
            frame.insert(2 + position, name, str(value) if as_text else value)
        frame["replications"] = int(info.get("replications", 0))
        if self.rule:
            for name, value in _rule_values(info).items():
                frame[name] = value
        seconds = info.get("simulation_seconds")
        frame["simulation_seconds"] = float(np.nan if seconds is None else seconds)
        return pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False)

    def replication_rows(self, info: dict, metrics: pa.Table) -> pa.Table:
        """One point's rows of ``replications.parquet``: its key and parameters beside each
        row of its per-replication ``metrics`` (a metrics.parquet as read)."""
        rows = metrics.num_rows
        columns: dict[str, pa.Array] = {"point": _labels(info["point"], rows)}
        params = info.get("params", {})
        for name in self.parameters:
            kind, value = self.replications_schema.field(name).type, params.get(name)
            if pa.types.is_dictionary(kind):
                columns[name] = _labels(None if value is None else str(value), rows)
            else:
                columns[name] = pa.nulls(rows, kind) if value is None else pa.repeat(pa.scalar(value, kind), rows)
        for name in REPLICATION_VALUE_COLUMNS:
            kind = self.replications_schema.field(name).type
            if name not in metrics.column_names:  # region, in points summarised before it was a column
                columns[name] = _labels(None, rows) if pa.types.is_dictionary(kind) else pa.nulls(rows, kind)
                continue
            column = metrics.column(name).combine_chunks()
            columns[name] = pc.dictionary_encode(column.cast(pa.string())) if pa.types.is_dictionary(kind) \
                else column.cast(kind)
        return pa.Table.from_pydict(columns, schema=self.replications_schema)

    def concat(self, parts: list[pa.Table]) -> pa.Table:
        """The points' tables as one (an empty table of this layout if there are none)."""
        return pa.concat_tables(parts) if parts else self.schema.empty_table()


LABELS = pa.dictionary(pa.int32(), pa.string())
"""The Arrow type of a text column of ``replications.parquet``."""


def _labels(text: str | None, rows: int) -> pa.DictionaryArray:
    """``text`` on each of ``rows`` rows as a dictionary-encoded column (missing if None)."""
    if text is None:
        return pa.DictionaryArray.from_arrays(pa.nulls(rows, pa.int32()), pa.array([], pa.string()))
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, dtype=np.int32)), pa.array([text], pa.string()))


def _rule_values(info: dict) -> dict[str, object]:
    """A point's values of the rule's columns (``RULE_COLUMNS``): the rule its point.json or
    the design records (None where it has none, or a value of the wrong kind), and, for an
    ``ok`` point, the rule's outcome."""
    rule = info.get("replication_rule")
    rule = rule if isinstance(rule, dict) else {}

    def given(name: str, *kinds: type):
        value = rule.get(name)
        if isinstance(value, bool) != (kinds == (bool,)):  # JSON's true is no number, 1 no truth value
            return None
        return value if isinstance(value, kinds) else None

    ok = info.get("status") == "ok"
    return {"precision": given("precision", int, float), "max_replications": given("max_replications", int),
            "precision_reached": given("precision_reached", bool) if ok else None,
            "recommended_replications": given("recommended_replications", int) if ok else None,
            "precision_note": given("note", str) if ok else None}


def _param_type(values: list) -> pa.DataType:
    """The Arrow type of a parameter column: whole numbers, numbers, true/false, else text."""
    given = [value for value in values if value is not None]
    if given and all(isinstance(value, bool) for value in given):
        return pa.bool_()
    if all(isinstance(value, int) and not isinstance(value, bool) and -2**63 <= value < 2**63 for value in given):
        return pa.int64()
    if all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in given):
        return pa.float64()
    return pa.string()


def _write_points(root: Path, infos: list[dict], layout: _SweepTableLayout, write: bool,
                  keep: bool, report: Callable[[str], None], replications: bool = False) -> list[pa.Table]:
    """Each point's table, written to ``root/sweep.parquet`` (if ``write``) in row groups of
    ``ROW_GROUP_POINTS`` points, and (if ``replications``) each ``ok`` point's
    per-replication metrics to ``root/replications.parquet`` in row groups of some
    ``ROW_GROUP_REPLICATION_ROWS`` rows; each through a temporary file renamed into place
    once both are whole (and removed if the writing fails). The points' tables are returned
    if ``keep``, else dropped once written."""
    kept: list[pa.Table] = []
    group: list[pa.Table] = []
    replication_group: list[pa.Table] = []
    partial_file, replications_file = root / ".sweep.parquet.tmp", root / ".replications.parquet.tmp"
    try:
        with contextlib.ExitStack() as open_writers:
            writer = open_writers.enter_context(pq.ParquetWriter(partial_file, layout.schema)) if write else None
            replication_writer = open_writers.enter_context(
                pq.ParquetWriter(replications_file, layout.replications_schema)) if replications else None
            for position, info in enumerate(infos):
                point_table, metrics = _point_rows(root, layout, info, report, replication_writer is not None)
                group.append(point_table)
                if keep:
                    kept.append(point_table)
                if writer is not None and (len(group) == ROW_GROUP_POINTS or position == len(infos) - 1):
                    writer.write_table(pa.concat_tables(group))
                    group = []
                if metrics is not None:
                    replication_group.append(layout.replication_rows(info, metrics))
                    if sum(part.num_rows for part in replication_group) >= ROW_GROUP_REPLICATION_ROWS:
                        _write_row_group(replication_writer, replication_group)
                        replication_group = []
            if replication_group:
                _write_row_group(replication_writer, replication_group)
        if replications:
            replications_file.replace(root / "replications.parquet")
        if write:
            partial_file.replace(root / "sweep.parquet")
    except BaseException:
        for temporary in (partial_file, replications_file):
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
        raise
    return kept


def _write_row_group(writer: pq.ParquetWriter, parts: list[pa.Table]) -> None:
    """Points' rows of ``replications.parquet`` as one row group, each text column with one
    dictionary."""
    writer.write_table(pa.concat_tables(parts).unify_dictionaries().combine_chunks())


def _point_rows(root: Path, layout: _SweepTableLayout, info: dict, report: Callable[[str], None],
                replications: bool = False) -> tuple[pa.Table, pa.Table | None]:
    """A point's rows in the layout, and (if ``replications``) its per-replication metrics
    as read from its metrics.parquet (None for a point without one: failed, missing, a
    multirun's job). An ``ok`` point whose summary or metrics cannot be read (its files
    checked whole by size only, or written before checksums) is reported and becomes a
    ``failed`` row, without metrics."""
    if info.get("status") != "ok":
        return layout.point_table(info), None
    folder = Path(info["folder"])
    reading = folder / "summary.parquet"
    try:
        rows = layout.point_table(info, pd.read_parquet(reading))
        metrics = None
        reading = folder / "metrics.parquet"
        if replications and reading.is_file():
            metrics = pq.read_table(reading)
            missing = {"replication", "metric", "value"} - set(metrics.column_names)
            if missing:
                raise ValueError(f"no column {', '.join(sorted(missing))}")
        return rows, metrics
    except (OSError, ValueError, TypeError, KeyError, pa.ArrowException) as exc:
        report(f"damaged point {info['point']}: {_shown(root, reading)}: unreadable "
               f"({' '.join(str(exc).split())[:200]}); marked failed")
        return layout.point_table({**info, "status": "failed", "replications": 0}), None


def status_counts(sweep: str | Path | pd.DataFrame) -> dict[str, int]:
    """Points by status (``ok``, ``failed``, ``missing``) in a collected table, or in the
    ``sweep.parquet`` of a folder."""
    if not isinstance(sweep, pd.DataFrame):
        sweep = pd.read_parquet(Path(sweep) / "sweep.parquet", columns=["point", "status"])
    return sweep.drop_duplicates("point")["status"].value_counts().to_dict()
