"""The workbench's jobs: each run, comparison or staffing search runs in a process of its
own (``python -m sim.app.job FOLDER``), never in the web server's, so a long run blocks no
page, no other tab and no other planner.

A job is a folder under the board's root. ``job.json`` holds what was asked (``spec``) and
how far it has come (``state``, ``done`` of ``total`` replications, a ``message``); the job
process rewrites it whole as each replication finishes, and the folder fills with the same
files the commands write (a run folder, a comparison folder, a search folder). Everything
a page shows is read from these folders, so a planner can leave a job and come back to it
from any tab, and the board lists every job the folder holds, those of earlier sessions
too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Mapping

from ..io.atomic import atomic_write, new_folder

@dataclasses.dataclass(frozen=True)
class Job:
    """A job as its ``job.json`` describes it. ``state`` is ``running``, ``finished``,
    ``failed``, ``cancelled`` or ``stopped``: its process ended without saying how (killed,
    say)."""

    folder: Path
    kind: str  # run, compare or search
    title: str
    created: str  # local time, ISO 8601
    state: str
    done: int
    total: int
    message: str = ""
    spec: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def id(self) -> str:
        """The job's name: its folder's."""
        return self.folder.name

    @property
    def share_done(self) -> float:
        """The share of its replications finished, 0 to 1."""
        return min(self.done / self.total, 1.0) if self.total else 0.0


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` whole (a reader never sees half of it)."""
    text = json.dumps(data, indent=1)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def read_json(path: Path) -> dict:
    """The JSON mapping in ``path``, or an empty one if there is none to read."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def read_job(folder: Path, running: bool | None = None) -> Job | None:
    """The job in ``folder``, or None if it holds none (or its record cannot be read).
    ``running`` says whether its process still runs, if the caller knows (it started it);
    else the system is asked for the process the record names."""
    record = read_json(folder / "job.json")
    if not record:
        return None
    state = record.get("state", "stopped")
    if running is None:
        # a job not yet started writing has no pid: running, as its starter knows
        running = "pid" not in record or _alive(record["pid"])
    if state == "running" and not running:
        state = "stopped"
    return Job(folder, record.get("kind", "run"), record.get("title", folder.name), record.get("created", ""),
               state, int(record.get("done", 0)), int(record.get("total", 0)), record.get("message", ""),
               record.get("spec", {}))


def _alive(pid: Any) -> bool:
    """Whether process ``pid`` (not a child of this one: a child is asked through its
    ``Popen``) is still running."""
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobBoard:
    """The jobs under ``root``: started, listed, cancelled. Shared by every page the
    workbench serves; the folders are the truth, so two boards on one root agree."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._processes: dict[str, subprocess.Popen] = {}
        self._lock = threading.Lock()

    def start(self, kind: str, title: str, spec: Mapping[str, Any], total: int) -> Job:
        """Start a job of ``kind`` (run, compare, search) on ``spec`` (what
        ``sim.app.job`` runs) in a new folder; ``total`` is the replications it will run at
        most, for its progress. Returns it at once, running."""
        stamp = dt.datetime.now()
        folder = new_folder(self.root / f"{stamp:%Y-%m-%d_%H-%M-%S}_{kind}")
        record = {"kind": kind, "title": title, "created": stamp.isoformat(timespec="seconds"), "state": "running",
                  "done": 0, "total": total, "message": "starting", "spec": dict(spec)}
        write_json(folder / "job.json", record)
        log = open(folder / "job.log", "wb")
        with log:
            process = subprocess.Popen([sys.executable, "-m", "sim.app.job", str(folder)], stdout=log,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        with self._lock:
            self._processes[folder.name] = process
        job = self._read(folder)
        assert job is not None
        return job

    def _read(self, folder: Path) -> Job | None:
        with self._lock:
            process = self._processes.get(folder.name)
        return read_job(folder, None if process is None else process.poll() is None)

    def jobs(self) -> list[Job]:
        """Every job under the root, newest first."""
        found = [self._read(folder) for folder in self.root.iterdir() if folder.is_dir()]
        return sorted((job for job in found if job is not None), key=lambda job: job.id, reverse=True)

    def job(self, job_id: str) -> Job | None:
        """The job named ``job_id``, or None."""
        if not job_id or "/" in job_id or job_id.startswith("."):
            return None
        return self._read(self.root / job_id)

    def cancel(self, job_id: str) -> bool:
        """Stop a running job as Ctrl-C stops a command: it keeps what it finished and says
        ``cancelled``. True if a job was running."""
        job = self.job(job_id)
        if job is None or job.state != "running":
            return False
        pid = read_json(job.folder / "job.json").get("pid")
        with self._lock:
            process = self._processes.get(job_id)
        try:
            if process is not None:
                process.send_signal(signal.SIGTERM)
            elif isinstance(pid, int):
                os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return False
        return True

    def close(self, grace_seconds: float = 2.0) -> None:
        """Cancel every job this board started that still runs, and wait for them (the
        workbench's shutdown). A job already stopping (Ctrl-C in the terminal reaches it too)
        is given ``grace_seconds`` to keep what it finished before it is told again."""
        with self._lock:
            processes = [p for p in self._processes.values() if p.poll() is None]
        for process in processes:
            try:
                process.wait(timeout=grace_seconds / max(len(processes), 1))
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
