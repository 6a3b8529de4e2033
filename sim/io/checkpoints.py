"""A run's finished replications kept one file each (``replications/NNNNNN.npz`` in its run
folder) as they finish, so an interrupted or crashed run loses none of them and the same
command resumes it.

Each file is a numpy ``.npz`` archive of the replication's columns, with what is not an
array (pool use, labels, names, the configuration hash) as one JSON text; it is read back
without pickle, so a file cannot run code. A file is written under a temporary name and
renamed into place: it is whole or absent.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Iterable

import numpy as np

from ..model import ReplicationOutput
from .atomic import atomic_write

__all__ = ["CHECKPOINT_FOLDER", "discard_replications", "kept_count", "load_replications", "save_replication"]

CHECKPOINT_FOLDER = "replications"
_FORMAT = 1
_CASE_PREFIX = "cases/"


def _path(folder: Path, replication: int) -> Path:
    return Path(folder) / CHECKPOINT_FOLDER / f"{replication:06d}.npz"


def save_replication(folder: str | Path, output: ReplicationOutput, config_key: str) -> Path:
    """Keep ``output`` as ``folder/replications/NNNNNN.npz``, tagged with ``config_key``
    (the configuration hash) so that it is only ever reused for the same configuration."""
    path = _path(Path(folder), output.replication)
    path.parent.mkdir(parents=True, exist_ok=True)
    about = {"format": _FORMAT, "config_hash": config_key, "replication": output.replication,
             "series_labels": [list(label) for label in output.series_labels], "pools": output.pools,
             "force_names": list(output.force_names), "owners": list(output.owners),
             "case_columns": list(output.cases)}
    arrays = {f"{_CASE_PREFIX}{name}": column for name, column in output.cases.items()}
    arrays.update(snapshot_days=output.snapshot_days, snapshots=output.snapshots, about=np.array(json.dumps(about)))

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as file:  # a file object: np.savez would add '.npz' to the temporary name
            np.savez(file, **arrays)

    atomic_write(path, write)
    return path


_UNREADABLE = (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile)
"""What reading a damaged or foreign file raises."""


def _about(archive) -> dict:
    """The description kept beside a replication's arrays (ValueError if of another format)."""
    about = json.loads(str(archive["about"]))
    if about.get("format") != _FORMAT:
        raise ValueError(f"format {about.get('format')!r}")
    return about


def _read(path: Path) -> tuple[ReplicationOutput, str]:
    """The replication kept in ``path`` and its configuration hash."""
    with np.load(path, allow_pickle=False) as archive:
        about = _about(archive)
        return ReplicationOutput(
            replication=int(about["replication"]),
            cases={name: archive[f"{_CASE_PREFIX}{name}"] for name in about["case_columns"]},
            snapshot_days=archive["snapshot_days"],
            snapshots=archive["snapshots"],
            series_labels=[tuple(label) for label in about["series_labels"]],
            pools=about["pools"],
            force_names=tuple(about["force_names"]),
            owners=tuple(about["owners"]),
        ), about["config_hash"]


def load_replications(folder: str | Path, config_key: str,
                      replications: Iterable[int]) -> tuple[list[ReplicationOutput], list[Path]]:
    """The kept replications of ``folder`` among ``replications`` made with configuration
    ``config_key``, in replication order, and the files found damaged (unreadable, or not
    what their name says), which are deleted so that their replications run again. Files
    of another configuration are ignored."""
    wanted = set(replications)
    kept, damaged = [], []
    for replication in sorted(wanted):
        path = _path(Path(folder), replication)
        if not path.is_file():
            continue
        try:
            output, key = _read(path)
        except _UNREADABLE:
            damaged.append(path)
            path.unlink(missing_ok=True)
            continue
        if key != config_key:
            continue
        if output.replication != replication:
            damaged.append(path)
            path.unlink(missing_ok=True)
            continue
        kept.append(output)
    return kept, damaged


def discard_replications(folder: str | Path) -> None:
    """Delete ``folder/replications/``, once the run's tables are complete."""
    shutil.rmtree(Path(folder) / CHECKPOINT_FOLDER, ignore_errors=True)


def kept_count(folder: str | Path, config_key: str, replications: Iterable[int]) -> int:
    """How many of ``replications`` ``folder`` keeps for configuration ``config_key``,
    reading only each file's description (damaged files are not counted)."""
    count = 0
    for replication in set(replications):
        path = _path(Path(folder), replication)
        if not path.is_file():
            continue
        try:
            with np.load(path, allow_pickle=False) as archive:
                about = _about(archive)
        except _UNREADABLE:
            continue
        count += about.get("config_hash") == config_key and about.get("replication") == replication
    return count
