"""A national run (``forces=england_and_wales``: 43 forces in 10 regions) written into a
run folder as ``casesim`` writes it (``sim.cli.outputs.run_to_folder``, then the console's
tables and findings), each step after the replications timed apart: the tables, the
summary, the findings, each file, each figure, the report and the console; and the
simulation itself, in the same run. Prints a table of wall seconds, the ratio
post-processing / simulation and the peak memory.

The steps are timed by wrapping the functions the run calls (the same ones, not a copy of
the pipeline), each step's time its own: a step called inside another (the summary asked
for again by a figure, say) is counted where it is called, once, and not in its caller.
A figure's time runs from the previous figure saved (or the figures' start) to the end of
its ``savefig``, so drawing and writing the PNG are both in it.

Run: ``python benchmarks/bench_outputs.py [--years 1] [--replications 2] [--workers 2]
[--folder DIR] [--profile FILE]`` (``--profile``: cProfile statistics of the whole run,
the main process, into FILE; ``python -m pstats FILE`` reads them).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import dataclasses
import functools
import io
import json
import resource
import sys
import tempfile
import time
from pathlib import Path


SIMULATION = "simulation (replications, on the workers)"


@dataclasses.dataclass
class _Open:
    """A step under way: when it began, the time taken so far by steps inside it (and
    figures saved in it), and where the next figure's time starts."""

    start: float
    inner: float = 0.0
    mark: float = 0.0
    inner_at_mark: float = 0.0


class StepClock:
    """Wall seconds by step, each step's own (time in steps called inside it excluded)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._open: list[_Open] = []

    @property
    def running(self) -> bool:
        return bool(self._open)

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    @contextlib.contextmanager
    def step(self, name: str):
        start = time.perf_counter()
        frame = _Open(start, mark=start)
        self._open.append(frame)
        try:
            yield
        finally:
            self._open.pop()
            elapsed = time.perf_counter() - start
            self.add(name, elapsed - frame.inner)
            if self._open:
                self._open[-1].inner += elapsed

    def wrap(self, name, function):
        """``function`` timed as step ``name`` (a string, or a function of the call's
        arguments giving one)."""
        @functools.wraps(function)
        def timed(*args, **kwargs):
            with self.step(name(*args, **kwargs) if callable(name) else name):
                return function(*args, **kwargs)
        return timed

    def figure_saved(self, name: str) -> None:
        """A figure was saved: its step is the time since the previous figure saved in the
        open step (or since that step began), less what steps inside it took then; that
        time leaves the open step."""
        now = time.perf_counter()
        frame = self._open[-1]
        own = (now - frame.mark) - (frame.inner - frame.inner_at_mark)
        self.add(name, own)
        frame.inner += own
        frame.mark, frame.inner_at_mark = now, frame.inner


def _instrument(clock: StepClock) -> None:
    """Wrap, wherever the package holds them, the functions a run calls after its
    replications, and ``Figure.savefig``."""
    import matplotlib.figure

    from sim.io import atomic, checkpoints, manifest
    from sim.present import run_figures, run_report
    from sim.results import findings, headline, tables
    from sim.running import resumable

    def file_step(path, *_args, **_kwargs) -> str:
        path = Path(path)
        if path.parent.name == checkpoints.CHECKPOINT_FOLDER:
            return "keep each replication (replications/*.npz)"
        return f"write {path.name}"

    replaced = {
        atomic.atomic_write: clock.wrap(file_step, atomic.atomic_write),
        resumable.run_replications: clock.wrap(SIMULATION, resumable.run_replications),
        tables.build_results: clock.wrap("tables (cases, time series, pools)", tables.build_results),
        findings.run_findings: clock.wrap("findings", findings.run_findings),
        headline.headline_sheets: clock.wrap("headline tables", headline.headline_sheets),
        run_report.write_run_report: clock.wrap("report.html", run_report.write_run_report),
        run_figures.save_all: clock.wrap("figures: other", run_figures.save_all),
        checkpoints.discard_replications: clock.wrap("discard replications/", checkpoints.discard_replications),
        manifest.manifest: clock.wrap("manifest (provenance)", manifest.manifest),
    }
    for module in [m for name, m in list(sys.modules.items()) if name.startswith("sim") and m is not None]:
        for attribute, value in list(vars(module).items()):
            if not attribute.startswith("__") and callable(value) and value in replaced:
                setattr(module, attribute, replaced[value])
    summary = tables.Results.summary
    tables.Results.summary = clock.wrap("summary", summary)

    savefig = matplotlib.figure.Figure.savefig

    @functools.wraps(savefig)
    def timed_savefig(self, fname, *args, **kwargs):
        with contextlib.ExitStack() as outside:
            if not clock.running:  # a figure saved outside every step: its saving alone
                outside.enter_context(clock.step("figures: other"))
            out = savefig(self, fname, *args, **kwargs)
            clock.figure_saved(f"figure {Path(str(fname)).name}")
        return out

    matplotlib.figure.Figure.savefig = timed_savefig


def _console(clock: StepClock, said, cfg) -> None:
    """What ``casesim`` prints after a run (``sim.cli.run._single_run``), into a buffer."""
    from sim.present.console import findings_text, headline_text, wrapped

    with clock.step("console (headline, findings)"):
        text = io.StringIO()
        print(headline_text(said.sheets, cfg.force_names if cfg.forces else ()), file=text)
        print("\n" + wrapped(said.outcomes), file=text)
        print("\n" + findings_text(said.findings), file=text)


def peak_rss_mib() -> tuple[float, float]:
    """Peak resident memory so far of this process and of its largest finished child, MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=float, default=1.0, help="the horizon, years of 365 days")
    parser.add_argument("--replications", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--folder", type=Path, default=None,
                        help="the run folder (default: a temporary one, deleted after)")
    parser.add_argument("--profile", type=Path, default=None, help="write cProfile statistics of the run here")
    args = parser.parse_args()

    # loaded before the wrapping, so every module that holds a wrapped function has it
    import sim.cli.outputs  # noqa: F401
    import sim.io.run_folder  # noqa: F401
    import sim.present.plots  # noqa: F401
    import sim.present.run_report  # noqa: F401
    import sim.running.resumable  # noqa: F401
    from sim.cli.outputs import run_to_folder

    cfg = sim.load_config(["forces=england_and_wales", f"run.replications={args.replications}",
                           f"run.horizon_days={args.years * 365:g}", f"run.workers={args.workers}",
                           "run.progress=false"])
    clock = StepClock()
    _instrument(clock)
    with contextlib.ExitStack() as stack:
        folder = args.folder or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench_outputs_")))
        profile = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        if profile:
            profile.enable()
        said = run_to_folder(cfg, folder)
        _console(clock, said, cfg)
        if profile:
            profile.disable()
            profile.dump_stats(args.profile)
        total = time.perf_counter() - started
        cases = json.loads((folder / "manifest.json").read_text())["cases_simulated"]
    own, child = peak_rss_mib()

    simulated = clock.seconds.pop(SIMULATION)
    clock.add("other (not in a step above)", total - simulated - sum(clock.seconds.values()))
    post = total - simulated
    print(f"national run: {args.replications} replications x {args.years:g} years, {args.workers} workers, "
          f"{cases:,} cases")
    width = max(len(name) for name in clock.seconds) + 2
    print(f"{'step':<{width}} {'seconds':>8} {'share of post':>13}")
    for name, seconds in sorted(clock.seconds.items(), key=lambda item: -item[1]):
        print(f"{name:<{width}} {seconds:>8.2f} {seconds / post:>13.0%}")
    print(f"{'post-processing, in all':<{width}} {post:>8.2f}")
    print(f"{SIMULATION:<{width}} {simulated:>8.2f}")
    print(f"{'whole run':<{width}} {total:>8.2f}")
    print(f"post-processing / simulation: {post / simulated:.2f}")
    print(f"peak memory: {own:,.0f} MiB (main process), {child:,.0f} MiB (largest worker)")


if __name__ == "__main__":
    main()
