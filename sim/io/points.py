"""A design point's files (a sweep's point, a multirun's job): ``point.json`` and its
summary, the files ``sim.io.collect`` reads, and the check that they are still whole.

``point.json`` is written last, and records the size and SHA-256 of each of the point's
files (``files``), so a file damaged after its point finished (truncated by a full disk,
overwritten, garbled) is found by :func:`read_point` instead of being read as a result.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from .atomic import atomic_write

__all__ = ["DamagedPoint", "file_problem", "file_record", "parquet_problem", "read_point", "write_point"]

POINT_FILE = "point.json"
STATUSES = ("ok", "failed")


def write_point(folder: str | Path, key: str, params: dict, cfg, summary: pd.DataFrame | None,
                wall_time_seconds: float, error: str | None = None, *, other_files: Sequence[str] = (),
                extra: Mapping[str, Any] | None = None) -> None:
    """The files ``sim.io.collect`` reads from a run folder: point.json (the point's key,
    parameters, status, config, and each file's size and SHA-256) and summary.parquet, or
    error.txt if it failed. ``other_files`` names files of the point already written in
    ``folder`` (a sweep point's metrics.parquet) that point.json vouches for too; it is
    written last, so a point whose point.json is readable had every file whole. ``extra``
    adds entries to point.json (a sweep point's ``replication_rule``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    info = {"point": key, "params": params, "status": "ok" if error is None else "failed",
            "replications": cfg.run.replications if error is None else 0, "simulation_seconds": wall_time_seconds,
            "config": dataclasses.asdict(cfg), **(extra or {})}
    if error is None:
        atomic_write(folder / "summary.parquet", lambda p: summary.to_parquet(p, index=False))
        written = "summary.parquet"
    else:
        config_text = json.dumps(info["config"], indent=1, default=str)
        atomic_write(folder / "error.txt", lambda p: p.write_text(f"{error}\n\nconfiguration:\n{config_text}\n"))
        written = "error.txt"
    info["files"] = {name: file_record(folder / name) for name in (written, *other_files)}
    atomic_write(folder / POINT_FILE, lambda p: p.write_text(json.dumps(info, indent=1, default=str)))


def file_record(path: str | Path) -> dict:
    """A file's size (``bytes``) and SHA-256 (``sha256``, hex), as point.json records them."""
    path = Path(path)
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def file_problem(path: str | Path, record: object) -> str | None:
    """What is wrong with file ``path`` against its ``record`` (from :func:`file_record`),
    in a few words; None if it is as written.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "summary.parquet"
    >>> _ = path.write_bytes(b"PAR1 whole PAR1")
    >>> record = file_record(path)
    >>> file_problem(path, record) is None
    True
    >>> _ = path.write_bytes(b"PAR1 wh")
    >>> file_problem(path, record)
    'truncated: 7 bytes, 15 were written'
    >>> _ = path.write_bytes(b"PAR1 WHOLE PAR1")
    >>> file_problem(path, record)
    'contents changed since written (SHA-256 differs)'
    """
    path = Path(path)
    if not (isinstance(record, dict) and isinstance(record.get("bytes"), int)
            and isinstance(record.get("sha256"), str)):
        return f"no size and SHA-256 recorded for it ({record!r})"
    if not path.is_file():
        return "missing"
    size = path.stat().st_size
    if size != record["bytes"]:
        shape = "truncated" if size < record["bytes"] else "grown"
        return f"{shape}: {size} bytes, {record['bytes']} were written"
    try:
        same = file_record(path)["sha256"] == record["sha256"]
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    return None if same else "contents changed since written (SHA-256 differs)"


def parquet_problem(path: str | Path) -> str | None:
    """What is wrong with a Parquet file that has no recorded checksum (written before
    point.json recorded them): missing, or not whole (its footer unreadable); None if it
    reads."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        return "missing"
    try:
        pq.read_metadata(path)
    except (OSError, pa.ArrowException) as exc:
        return f"not a whole Parquet file ({' '.join(str(exc).split())})"
    return None


class DamagedPoint(Exception):
    """A point folder whose files are not whole: ``file`` is the damaged file, ``problem``
    what is wrong with it, ``info`` the point.json as read (None if it could not be)."""

    def __init__(self, file: Path, problem: str, info: dict | None = None):
        super().__init__(f"{file}: {problem}")
        self.file, self.problem, self.info = Path(file), problem, info


def read_point(folder: str | Path) -> dict:
    """The ``point.json`` of a point folder, once its files are checked against it: each
    file it records has the recorded size and SHA-256 (a point.json from before checksums
    were recorded: its summary.parquet is a whole Parquet file). Raises
    :class:`DamagedPoint` naming the first damaged file otherwise, point.json included
    (missing, empty, not JSON, no ``point``)."""
    folder = Path(folder)
    path = folder / POINT_FILE
    info = _point_json(path)
    files = info.get("files")
    if files is None:  # written before point.json recorded its files
        if info["status"] == "ok":
            problem = parquet_problem(folder / "summary.parquet")
            if problem:
                raise DamagedPoint(folder / "summary.parquet", problem, info)
        return info
    if not isinstance(files, dict) or (info["status"] == "ok" and "summary.parquet" not in files):
        raise DamagedPoint(path, "its 'files' record lists no summary.parquet", info)
    for name, record in files.items():
        if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
            raise DamagedPoint(path, f"its 'files' record names {name!r}, not a file of the folder", info)
        problem = file_problem(folder / name, record)
        if problem:
            raise DamagedPoint(folder / name, problem, info)
    return info


def _point_json(path: Path) -> dict:
    """point.json read and its fields' kinds checked; DamagedPoint if it is not a point's."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DamagedPoint(path, "missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DamagedPoint(path, f"unreadable ({getattr(exc, 'strerror', None) or exc})") from None
    if not text.strip():
        raise DamagedPoint(path, "empty")
    try:
        info = json.loads(text)
    except ValueError as exc:
        where = f" at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise DamagedPoint(path, f"not JSON ({getattr(exc, 'msg', exc)}{where})") from None
    if not isinstance(info, dict):
        raise DamagedPoint(path, f"not a JSON object but {type(info).__name__}")
    if not isinstance(info.get("point"), str) or not info["point"]:
        raise DamagedPoint(path, "no 'point' (the point's key)")
    if info.get("status") not in STATUSES:
        raise DamagedPoint(path, f"status {info.get('status')!r}, not one of {', '.join(STATUSES)}", info)
    if not isinstance(info.get("params", {}), dict):
        raise DamagedPoint(path, f"'params' is {info['params']!r}, not a mapping", info)
    replications = info.get("replications", 0)
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 0:
        raise DamagedPoint(path, f"'replications' is {replications!r}, not a whole number >= 0", info)
    seconds = info.get("simulation_seconds", math.nan)
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float))):
        raise DamagedPoint(path, f"'simulation_seconds' is {seconds!r}, not a number", info)
    return info
