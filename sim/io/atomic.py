"""Writing a file so that a run dying part way leaves no half-written file behind a
complete-looking name, and creating a folder no other run shares."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Write via ``write(tmp_path)`` and rename into place, so no half-written file is left."""
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)


def new_folder(path: Path, attempts: int = 10_000) -> Path:
    """Create a new folder ``path`` (its parents as needed), or ``path_2``, ``path_3``, ...
    if the name is taken: creating is the claim (it fails if the folder exists), so two
    runs started at once never get the same folder. Returns the folder created;
    FileExistsError if ``attempts`` names are all taken."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in range(1, attempts + 1):
        candidate = path if suffix == 1 else path.with_name(f"{path.name}_{suffix}")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise FileExistsError(path)
