"""A run that keeps every finished replication in its run folder as it finishes, so that an
interrupt or a crash loses none of them and the same command resumes the run.

The folder's ``manifest.json`` is written first with ``"complete": false``; each finished
replication is kept in ``replications/`` (``sim.io.checkpoints``); on Ctrl-C, SIGTERM or an
exception in a replication the tables are written from the replications finished so far,
the manifest still saying ``"complete": false`` and how many replications they hold; only
when every table and figure is written does the manifest say ``"complete": true``, and the
kept replications are then deleted.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Sequence

import pandas as pd

from ..config.design import config_hash
from ..config.schema import SimConfig
from ..io.checkpoints import discard_replications, load_replications, save_replication
from ..io.manifest import manifest, run_manifest, write_manifest
from ..io.run_folder import write_run_folder
from ..model import ReplicationOutput
from ..results import Results, build_results
from ..results.findings import Finding, run_findings
from .runner import Interrupted, run_replications

__all__ = ["run_in_folder"]


def run_in_folder(cfg: SimConfig, folder: str | Path, overrides: Sequence[str] = (),
                  started: float | None = None,
                  finish: Callable[[Results, pd.DataFrame, list[Finding]], None] | None = None,
                  on_replication: Callable[[ReplicationOutput], None] | None = None,
                  ) -> tuple[Results, pd.DataFrame]:
    """Run ``cfg``'s replications into the run folder ``folder``, reusing the replications
    a stopped run of the same configuration kept there; write its tables, call
    ``finish(results, summary, findings)`` (figures and the report, say) and only then mark the folder complete.
    ``started`` (a ``time.perf_counter()`` reading) times the manifest's wall time;
    ``on_replication(output)``, if given, is called as each replication is kept.

    On Ctrl-C or SIGTERM this raises ``Interrupted`` (its ``finished``: every replication
    the folder now holds) after writing the partial run; on an exception in a replication
    the partial run is written and the exception passes on. Returns the results and their
    summary."""
    folder = Path(folder)
    started = time.perf_counter() if started is None else started
    key = config_hash(cfg)
    wanted = cfg.run.replications
    kept, _ = load_replications(folder, key, range(wanted))
    folder.mkdir(parents=True, exist_ok=True)

    def seconds() -> float:
        return time.perf_counter() - started

    # Marked incomplete before the first replication: a folder is never taken for a finished run.
    write_manifest(folder, run_manifest(cfg, overrides, seconds(), False, len(kept)))
    done = {output.replication for output in kept}
    finished_now: list[ReplicationOutput] = []

    def keep(output: ReplicationOutput) -> None:
        save_replication(folder, output, key)
        finished_now.append(output)
        if on_replication is not None:
            on_replication(output)

    def kept_message(outputs: list[ReplicationOutput]) -> str:
        return f"finished {len(outputs)} of {wanted} replications, kept in {folder}"

    try:
        new = run_replications(cfg, [r for r in range(wanted) if r not in done], on_finished=keep)
    except Interrupted as stop:
        outputs = _write_partial(cfg, folder, key, kept, finished_now, stop.finished, overrides, seconds())
        raise Interrupted(outputs, kept_message(outputs)) from None
    except Exception as exc:
        outputs = _write_partial(cfg, folder, key, kept, finished_now, finished_now, overrides, seconds())
        if hasattr(exc, "add_note"):  # Python 3.11 and later
            exc.add_note(kept_message(outputs))
        raise
    outputs = sorted([*kept, *new], key=lambda output: output.replication)
    try:
        results = build_results(cfg, outputs)
        summary = results.summary()
        findings = run_findings(results, summary)
        write_run_folder(results, folder, overrides, seconds(), summary, complete=False,
                         findings=[finding.text for finding in findings])
        if finish is not None:
            finish(results, summary, findings)
        write_manifest(folder, manifest(results, overrides, seconds()))  # complete: after every table and figure
    except KeyboardInterrupt:  # every replication is kept: a rerun only writes the tables again
        raise Interrupted(outputs, kept_message(outputs)) from None
    discard_replications(folder)
    return results, summary


PARTIAL_RUN_FINDINGS = ("Not yet computed: the run stopped before all its replications finished; the same "
                        "command resumes it and writes the findings.")
"""A partial run's Findings sheet: its tables are kept, its findings come with the whole run."""


def _write_partial(cfg: SimConfig, folder: Path, key: str, kept: list[ReplicationOutput],
                   saved: list[ReplicationOutput], finished: list[ReplicationOutput], overrides: Sequence[str],
                   wall_time_seconds: float) -> list[ReplicationOutput]:
    """Write the tables of the replications finished so far (``kept`` from before, and
    ``finished`` in this run, of which ``saved`` are already on disk) with a manifest
    saying the run is not complete; returns them in replication order."""
    on_disk = {output.replication for output in saved}
    for output in finished:  # one that finished as the interrupt came may not be kept yet
        if output.replication not in on_disk:
            save_replication(folder, output, key)
    outputs = sorted({o.replication: o for o in [*kept, *finished]}.values(), key=lambda o: o.replication)
    if outputs:
        results = build_results(cfg, outputs)
        write_run_folder(results, folder, overrides, wall_time_seconds, complete=False, replications_done=len(outputs),
                         findings=[PARTIAL_RUN_FINDINGS])
    else:
        write_manifest(folder, run_manifest(cfg, overrides, wall_time_seconds, False, 0))
    return outputs
