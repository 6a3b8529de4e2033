"""Writing a file so that a run dying part way leaves no half-written file behind a
complete-looking name."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Write via ``write(tmp_path)`` and rename into place, so no half-written file is left."""
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)
