"""What every command shares: bad input reported as one line with exit code 2, the folder a
command writes into, and saving its figures."""

from __future__ import annotations

import datetime as dt
import functools
import sys
from pathlib import Path
from typing import Callable, Mapping, TypeVar

from ..errors import ConfigError

Command = TypeVar("Command", bound=Callable)


def exit_2_on_bad_input(prog: str) -> Callable[[Command], Command]:
    """Decorate a command so that bad input (a ``ConfigError``, raised by the validation of
    its config and arguments before anything is written) prints one line,
    ``PROG: error: KEY=VALUE: what is allowed``, on stderr and exits with code 2, without a
    traceback. Every other exception passes through.

    >>> @exit_2_on_bad_input("casesim-demo")
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

    def decorate(command: Command) -> Command:
        @functools.wraps(command)
        def run(*args, **kwargs):
            try:
                return command(*args, **kwargs)
            except ConfigError as exc:
                print(f"{prog}: error: {exc}", file=sys.stderr)
                raise SystemExit(2) from None

        return run  # type: ignore[return-value]

    return decorate


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
