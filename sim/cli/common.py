"""What every command shares: bad input reported as one line with exit code 2, the folder a
command writes into, and saving its figures."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import os
import re
import signal
import sys
import threading
from pathlib import Path
from typing import Callable, Mapping, TypeVar

from ..errors import ConfigError
from ..io.atomic import new_folder

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
                with sigterm_as_interrupt():
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
def sigterm_as_interrupt():
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


_ROLE = re.compile(r":[a-z]+:`(~?)([^`]*)`")  # :func:`name`; :class:`~sim.Target` shows Target
_LITERAL = re.compile(r"``(.*?)``|`([^`]*)`", re.DOTALL)


def plain_text(text: str) -> str:
    """``text`` (a docstring) as a terminal should show it: reStructuredText roles reduced
    to their target's name, literals to their text.

    >>> plain_text("``casesim-search``: see :func:`~sim.running.search.search_mix` and `Target`")
    'casesim-search: see search_mix and Target'
    """
    text = _ROLE.sub(lambda match: match.group(2).rsplit(".", 1)[-1] if match.group(1) else match.group(2), text)
    return _LITERAL.sub(lambda match: match.group(1) if match.group(1) is not None else match.group(2), text)


class HelpFormatter(argparse.HelpFormatter):
    """Every command's ``--help``: the description and help texts without docstring markup
    (:func:`plain_text`), and after each option's help its default, ``(default: VALUE)``,
    unless it has none (None, off, empty) or the help already says it in words."""

    def _format_text(self, text: str) -> str:
        return super()._format_text(plain_text(text))

    def _get_help_string(self, action: argparse.Action) -> str:
        help_text = plain_text(action.help or "")
        default = action.default
        no_default = default is None or default is False or default is argparse.SUPPRESS or default == []
        if action.option_strings and "(default" not in help_text and not no_default:
            help_text += " (default: %(default)s)"
        return help_text


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors follow the house rule: one line on stderr, the
    error first (``PROG: error: ...; see PROG --help``), exit code 2; its help is laid out
    by :class:`HelpFormatter`."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # noqa: D102 - argparse's hook
        print(f"{self.prog}: error: {message}; see {self.prog} --help", file=sys.stderr)
        raise SystemExit(2)


def output_folder(chosen: str | None, default: str) -> Path:
    """The folder a command writes into: ``chosen`` (its ``--out``) or else ``default``, in
    which ``{time}`` stands for the current local time, ``YYYY-MM-DD_HH-MM-SS``. Nothing is
    created: :func:`claim_output_folder` creates it.

    >>> str(output_folder("results/mine", "outputs/compare/{time}"))
    'results/mine'
    >>> len(output_folder(None, "outputs/compare/{time}").name)
    19
    """
    if chosen:
        return Path(chosen)
    return Path(default.replace("{time}", f"{dt.datetime.now():%Y-%m-%d_%H-%M-%S}"))


def claim_output_folder(chosen: str | None, default: str, key: str = "--out") -> Path:
    """Create the folder a command writes into, once its input is valid and before any
    simulation, so that a folder it cannot write is reported (as ``ConfigError`` on ``key``)
    before the work rather than after it.

    ``chosen`` (the user's ``--out``) is used as given: created if missing, kept if it is
    already a folder. The ``default`` (see :func:`output_folder`) is always a new folder:
    created atomically, with ``_2``, ``_3``, ... appended if a command started in the same
    second took the name, so two commands never write into one folder.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> first = claim_output_folder(None, f"{root}/runs/same")
    >>> second = claim_output_folder(None, f"{root}/runs/same")
    >>> first.name, second.name
    ('same', 'same_2')
    >>> (root / "a file").write_text("")
    0
    >>> claim_output_folder(str(root / "a file"), "unused")
    Traceback (most recent call last):
    ...
    sim.errors.ConfigError: --out='.../a file': is a file, not a folder
    """
    folder = output_folder(chosen, default)
    try:
        if chosen:
            if folder.exists() and not folder.is_dir():
                raise ConfigError(key, str(folder), "is a file, not a folder")
            folder.mkdir(parents=True, exist_ok=True)
            _check_writable(folder, key)
            return folder
        try:
            return new_folder(folder)
        except FileExistsError:
            if folder.parent.is_dir():
                raise ConfigError(key, str(folder), "no free folder name left beside it") from None
            raise
    except (NotADirectoryError, FileExistsError):
        raise ConfigError(key, str(folder), "a path inside a file; choose a folder") from None
    except PermissionError:
        raise ConfigError(key, str(folder), "cannot be created here (permission denied); choose a writable folder") from None
    except OSError as exc:
        raise ConfigError(key, str(folder), f"cannot be created: {exc.strerror or exc}") from None


def _check_writable(folder: Path, key: str) -> None:
    """Raise ConfigError unless a file can be created in ``folder``."""
    probe = folder / f".casesim-write-test-{os.getpid()}"
    try:
        probe.touch()
        probe.unlink()
    except OSError:
        raise ConfigError(key, str(folder), "is not writable; choose a writable folder") from None


def warn_overloaded(prog: str, cfg, label: str = "") -> None:
    """Before a run: one line on stderr, ``PROG: warning: ...``, for each unit whose load at
    day 0 exceeds 1.5 times what it can do (``sim.model.offered_load.overload_warnings``),
    so a configuration that jams a unit from the first day says so before its results do.
    ``label`` (a scenario's name) starts each warning if given."""
    from ..model.offered_load import overload_warnings

    for warning in overload_warnings(cfg):
        print(f"{prog}: warning: {label + ': ' if label else ''}{warning}", file=sys.stderr)


def say_regions(prog: str, cfg) -> None:
    """Before a run of forces in several regions: one line on stdout saying how it runs, a
    simulation a region (side by side with ``run.workers`` above 1 or on a Dask cluster),
    or, with ``collaboration.scope=nation``, one simulation of every force in one process."""
    from ..running.runner import split_by_region

    labels = {region for region in cfg.region_of.values() if region}
    if len(labels) < 2:
        return
    if cfg.collaboration.scope == "nation":
        print(f"{prog}: collaboration.scope=nation: the {len(labels)} regions' forces work together, so they run as "
              "one simulation in one process")
        return
    run = cfg.run
    if run.on_dask():
        where = f"the Dask scheduler {run.scheduler}" if run.scheduler else f"a Dask cluster of {run.local_cluster} workers"
        side = f", side by side on {where}"
    elif run.workers == 1:
        side = " in turn (run.workers=2 runs two at a time)"
    elif split_by_region(cfg, run.replications, run.workers):
        side = f", {run.workers} at a time"
    else:
        side = f"; a replication's regions in turn, {run.workers} replications at a time"
    print(f"{prog}: {len(labels)} regions that share nothing, each its own simulation{side}")


def kept_nothing(folder: Path) -> str:
    """After a command was stopped before it kept any result: remove the folder it claimed
    (``sim.io.analysis_folders.abandon_folder``) and say, for the interrupt's message, what
    became of it."""
    from ..io.analysis_folders import abandon_folder

    return "nothing kept" if abandon_folder(folder) else f"{folder}/manifest.json says complete: false"


def save_figures(folder: Path, figures: Mapping[str, object]) -> None:
    """Save each figure (a matplotlib Figure, by file name) as ``folder/figures/NAME`` at the
    figures' common resolution; ``figures/`` is created if missing."""
    from ..present.style import DPI  # matplotlib only when figures are made

    (folder / "figures").mkdir(parents=True, exist_ok=True)
    for name, figure in figures.items():
        figure.savefig(folder / "figures" / name, dpi=DPI)
