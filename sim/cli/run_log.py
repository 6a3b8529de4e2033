"""``casesim.log``: what a run printed, kept in its folder.

``casesim`` prints its messages (a warning that a unit is overloaded, the run it resumes,
the headline table, where it wrote, an interrupt) rather than logging them, so Hydra's
job log alone would stay empty. The run's folder keeps them: every line the command prints
on stdout or stderr while the run goes on, and those it printed before Hydra started the
run, is appended to ``JOB_NAME.log`` (``casesim.log``) in the run's folder, each with the
time it was printed. Log records (``logging``) reach the same file through Hydra's own
file handler, as before. A run resumed in the same folder adds to the file.

Two decorators do it: :func:`kept_until_the_job` on ``main`` keeps what is printed before
the run starts (and, in a multirun, between its jobs), and :func:`written_in_the_job_folder`
on the Hydra task writes those lines, then everything the job prints, into the job's
folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import re
import sys
import threading
from pathlib import Path
from typing import Callable, Iterator, TextIO, TypeVar

Function = TypeVar("Function", bound=Callable)

_STAMPED = re.compile(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
"""The start of a line that already says when it was printed (``logging``'s time format)."""

_kept: list[str] | None = None
"""Lines printed while ``main`` runs outside a job, for the next job's log; None while a job
runs or when ``main`` does not keep them."""


class _Tee:
    """A text stream that passes everything to ``stream`` and hands each whole line printed,
    stamped with the time, to ``take``. A progress bar redraws its line with carriage
    returns: only what the line shows last is taken. Blank lines are kept, unstamped, as
    the breaks between the blocks of text printed."""

    def __init__(self, stream: TextIO, take: Callable[[str], None]):
        self._stream, self._take, self._pending = stream, take, ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        written = self._stream.write(text)
        with self._lock:
            *lines, pending = (self._pending + text).split("\n")
            self._pending = pending.rsplit("\r", 1)[-1]  # a redrawn line is kept at its latest drawing only
        for line in lines:
            self._line(line)
        return written

    def close_line(self) -> None:
        """Take what was printed without a line end."""
        with self._lock:
            pending, self._pending = self._pending, ""
        if pending:
            self._line(pending)

    def _line(self, line: str) -> None:
        line = line.rsplit("\r", 1)[-1].rstrip()
        if not line or _STAMPED.match(line):  # a log record printed by Hydra's handler has its time
            self._take(f"{line}\n")
        else:
            self._take(f"[{dt.datetime.now():%Y-%m-%d %H:%M:%S}] {line}\n")

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str):  # isatty, encoding, fileno, ...: the stream's own
        return getattr(self._stream, name)


@contextlib.contextmanager
def _teed(take: Callable[[str], None]) -> Iterator[None]:
    """While inside, every line printed on stdout or stderr is also handed to ``take``."""
    out, err = sys.stdout, sys.stderr
    tees = _Tee(out, take), _Tee(err, take)
    sys.stdout, sys.stderr = tees
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err
        for tee in tees:
            tee.close_line()


def _keep(line: str) -> None:
    if _kept is not None:
        _kept.append(line)


def kept_until_the_job(main: Function) -> Function:
    """Decorate ``casesim``'s main: the lines it prints before Hydra runs the job (the run it
    resumes, a warning that a unit is overloaded) and, in a multirun, between jobs are kept
    for the next job's log (:func:`written_in_the_job_folder`); lines no job takes are
    dropped when ``main`` returns."""

    @functools.wraps(main)
    def run(*args, **kwargs):
        global _kept
        _kept = []
        try:
            with _teed(_keep):
                return main(*args, **kwargs)
        finally:
            _kept = None

    return run  # type: ignore[return-value]


def written_in_the_job_folder(task: Function) -> Function:
    """Decorate the Hydra task: its log, ``JOB_NAME.log`` in the job's output folder, gets
    the lines kept before the job (:func:`kept_until_the_job`) and then every line printed
    while the job runs, its interrupt or error message included when the decorated task
    prints one."""

    @functools.wraps(task)
    def run(*args, **kwargs):
        from hydra.core.hydra_config import HydraConfig

        global _kept
        hydra_config = HydraConfig.get()
        path = Path(hydra_config.runtime.output_dir) / f"{hydra_config.job.name}.log"
        before, _kept = _kept, None  # what the job prints is the job's own
        try:
            with path.open("a", encoding="utf-8") as log:
                def write(line: str) -> None:
                    log.write(line)
                    log.flush()  # a run stopped hard keeps every line printed before

                for line in before or ():
                    write(line)
                with _teed(write):
                    return task(*args, **kwargs)
        finally:
            if before is not None:
                _kept = []  # a multirun's next job gets what is printed between the two

    return run  # type: ignore[return-value]
