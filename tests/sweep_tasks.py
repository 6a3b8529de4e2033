"""Task wrappers for tests/test_sweep.py that must run inside spawned worker processes (which
import them by module path: tests/ is on sys.path, and the pool passes sys.path on)."""

from __future__ import annotations

import os


def die_once(marker: str, fn, arg):
    """End this worker process abruptly the first time any process calls it (``marker``
    is created atomically, so exactly one call dies); afterwards just ``fn(arg)``."""
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return fn(arg)
    os.close(fd)
    os._exit(1)



def die_for_point(key: str, fn, chunks):
    """End this worker process abruptly whenever its task holds a chunk of point ``key`` (a
    task that kills every worker it meets); other tasks just run."""
    if any(c.key == key for c in chunks):
        os._exit(1)
    return fn(chunks)
