"""What every command shares: bad input reported as one line with exit code 2, the folder a
command writes into, and saving its figures."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import signal
import sys
import threading
from pathlib import Path
from typing import Callable, Mapping, TypeVar

from ..errors import ConfigError

Command = TypeVar("Command", bound=Callable)


INTERRUPTED_EXIT_CODE = 130
"""The shell's code for a command stopped by Ctrl-C (128 + SIGINT)."""


def command(prog: str) -> Callable[[Command], Command]:
    """Decorate a command with the failure handling every command shares:

    - bad input (a ``ConfigError``, raised by the validation of its config and arguments
      before anything is written) prints one line, ``PROG: error: KEY=VALUE: what is
      allowed``, on stderr and exits with code 2, without a traceback;
    - Ctrl-C or SIGTERM (turned into ``KeyboardInterrupt`` while the command runs) prints
      one line, ``PROG: interrupted`` followed by the interrupt's message if the command
      gave one (where its finished work was kept), and exits with code 130.

    Every other exception passes through.

    >>> @command("casesim-demo")
    ... def demo(argv=None):
    ...     raise ConfigError("run.replications", 0, "at least 1")
    >>> import contextlib, io
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err):
    ...     try:
    ...         demo()
    ...     except SystemExit as stop:
    ...         print(stop.code)
    2
    >>> err.getvalue()
    'casesim-demo: error: run.replications=0: at least 1\\n'
    """

    def decorate(run_command: Command) -> Command:
        @functools.wraps(run_command)
        def run(*args, **kwargs):
            try:
                with _sigterm_as_interrupt():
                    return run_command(*args, **kwargs)
            except ConfigError as exc:
                print(f"{prog}: error: {exc}", file=sys.stderr)
                raise SystemExit(2) from None
            except KeyboardInterrupt as exc:
                said = str(exc)
                print(f"\n{prog}: interrupted" + (f"; {said}" if said else ""), file=sys.stderr)
                raise SystemExit(INTERRUPTED_EXIT_CODE) from None

        return run  # type: ignore[return-value]

    return decorate


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """While inside, SIGTERM (a scheduler or ``kill`` stopping the command) raises
    ``KeyboardInterrupt`` as Ctrl-C does, so both keep finished work the same way. Only the
    main thread may set a signal handler; elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors follow the house rule: one line on stderr, the
    error first (``PROG: error: ...; see PROG --help``), exit code 2."""

    def error(self, message: str):  # noqa: D102 - argparse's hook
        print(f"{self.prog}: error: {message}; see {self.prog} --help", file=sys.stderr)
        raise SystemExit(2)


def output_folder(chosen: str | None, default: str) -> Path:
    """The folder a command writes into: ``chosen`` (its ``--out``) or else ``default``, in
    which ``{time}`` stands for the current local time, ``YYYY-MM-DD_HH-MM-SS``, so each run
    gets a folder of its own. Nothing is created: the writers create the folder once the
    input has been validated and the work is done, so bad input leaves no folder behind.

    >>> str(output_folder("results/mine", "outputs/compare/{time}"))
    'results/mine'
    >>> len(output_folder(None, "outputs/compare/{time}").name)
    19
    """
    if chosen:
        return Path(chosen)
    return Path(default.replace("{time}", f"{dt.datetime.now():%Y-%m-%d_%H-%M-%S}"))


def save_figures(folder: Path, figures: Mapping[str, object]) -> None:
    """Save each figure (a matplotlib Figure, by file name) as ``folder/figures/NAME`` at the
    figures' common resolution; ``figures/`` is created if missing."""
    from ..present.style import DPI  # matplotlib only when figures are made

    (folder / "figures").mkdir(parents=True, exist_ok=True)
    for name, figure in figures.items():
        figure.savefig(folder / "figures" / name, dpi=DPI)
