"""Worker processes started safely: without re-importing the caller's main module (a script
with no ``__main__`` guard, a notebook, ``python -``), born ignoring Ctrl-C so that the parent,
which keeps finished work, is the one to stop them, and stopped at once when it does."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from concurrent.futures import ProcessPoolExecutor


def leave_interrupts_to_the_parent() -> None:
    """In a worker: Ctrl-C reaches the whole process group, and the parent, which keeps
    the finished replications, stops the workers itself; a worker stopped by Ctrl-C
    would break the pool and print a traceback instead."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def born_ignoring_interrupts():
    """While inside, SIGINT is ignored, and so are started processes from their first
    instruction (an ignored signal stays ignored across ``exec``): a Ctrl-C reaching the
    process group while a worker still imports its libraries would otherwise print that
    worker's traceback before its initializer ran. Only the main thread may change it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate the pool's processes: shutting down alone waits for running replications."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):  # no public way before Python 3.14
        if process.is_alive():
            process.terminate()


_main_module_lock = threading.Lock()


@contextlib.contextmanager
def main_module_hidden():
    """While inside, processes started with ``spawn`` do not import the main module:
    ``multiprocessing.spawn.get_preparation_data`` imports it in the child by its
    ``__spec__`` name or runs its ``__file__``, and finds neither here."""
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    with _main_module_lock:
        saved = {name: vars(main)[name] for name in ("__spec__", "__file__") if name in vars(main)}
        main.__spec__ = None
        if "__file__" in saved:
            del main.__file__
        try:
            yield
        finally:
            for name in ("__spec__", "__file__"):
                if name in saved:
                    setattr(main, name, saved[name])
                elif name in vars(main):
                    delattr(main, name)
