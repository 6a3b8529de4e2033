"""Writing a file so that a run dying part way leaves no half-written file behind a
complete-looking name, and creating a folder no other run shares."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from pathlib import Path
from typing import Callable

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Write via ``write(tmp_path)`` and rename into place, so no half-written file is left.
    Ctrl-C or SIGTERM arriving meanwhile takes effect once the file is in place."""
    tmp = path.with_name(f".{path.name}.tmp")
    with _stop_signals_deferred():
        try:
            write(tmp)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


@contextlib.contextmanager
def _stop_signals_deferred():
    """While inside, a stop signal is noted rather than handled; on leaving, the handler that
    was in place handles it (for Ctrl-C, a KeyboardInterrupt). A writer interrupted part
    way (numpy's zip writer, say) can otherwise fail with an error of its own that hides the
    interrupt. Only the main thread can set handlers; ignored or default signals are left as
    they are."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    handlers = {sig: signal.getsignal(sig) for sig in _STOP_SIGNALS}
    deferred = {sig: handler for sig, handler in handlers.items() if callable(handler)}
    for sig in deferred:
        signal.signal(sig, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        for sig, handler in deferred.items():
            signal.signal(sig, handler)
    for signum in caught[:1]:
        deferred[signum](signum, None)


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
