"""The command-line entry points: ``casesim`` (a Hydra app; ``python -m sim`` is the same),
``casesim-compare``, ``casesim-search``, ``casesim-sweep``, ``casesim-collect`` and
``casesim-replications``.

Overrides are validated before Hydra creates anything, every point of a multirun included:
a bad key, type or value prints one line naming it and exits with code 2, writing nothing.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from typing import Sequence

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from ..config.convert import normalise_overrides
from ..config.load import CONFIG_DIR, build_config, load_config
from ..errors import ConfigError
from ..io.run_folder import write_run_folder
from ..results.summary import table_by_true_risk
from ..running.runner import simulate

# Hydra flags that take a value, flags after which no simulation runs, and flags that point
# Hydra at other config folders (their configs are validated in the job instead).
_VALUE_FLAGS = {"--config-name", "-cn", "--config-path", "-cp", "--config-dir", "-cd", "--cfg", "-c",
                "--package", "-p", "--experimental-rerun"}
_NO_RUN_FLAGS = {"--help", "-h", "--hydra-help", "--info", "-i", "--cfg", "-c", "--shell-completion", "-sc",
                 "--version"}
_OTHER_CONFIG_FLAGS = {"--config-path", "-cp", "--config-dir", "-cd"}


def _split(argv: Sequence[str]) -> tuple[list[str], str, bool]:
    """(config overrides, config name, whether to validate them here: a single run on the
    built-in configs)."""
    overrides, name, runs, skip = [], "config", True, False
    for k, a in enumerate(argv):
        if skip:
            skip = False
            continue
        flag = a.split("=", 1)[0]
        if flag in _NO_RUN_FLAGS or flag in _OTHER_CONFIG_FLAGS or flag in ("--multirun", "-m"):
            runs = False
        if flag in _VALUE_FLAGS and "=" not in a:
            skip = True
            if flag in ("--config-name", "-cn") and k + 1 < len(argv):
                name = argv[k + 1]
        elif flag in ("--config-name", "-cn"):
            name = a.split("=", 1)[1]
        if not a.startswith("-") and not a.lstrip("+~").startswith("hydra."):
            overrides.append(a)
    return overrides, name, runs


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: validate, then hand over to Hydra."""
    argv = list(sys.argv[1:] if argv is None else argv)
    overrides, name, runs = _split(argv)
    multirun = any(a in ("-m", "--multirun") for a in argv)
    if runs or (multirun and name == "config" and not set(argv) & (_NO_RUN_FLAGS | _OTHER_CONFIG_FLAGS)):
        try:
            if multirun:
                from ..config.design import multirun_points

                multirun_points(overrides)
            else:
                load_config(overrides, config_name=name)
        except ConfigError as exc:
            print(f"casesim: error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
    sys.argv = [sys.argv[0], *_normalised(argv, multirun)]
    _hydra_main()


def _normalised(argv: list[str], multirun: bool) -> list[str]:
    """``normalise_overrides``, except for a key a ``+sweep=NAME`` preset varies: Hydra's
    sweeper must see the command line's value under the preset's own key to replace it."""
    preset: set[str] = set()
    if multirun:
        from ..config.design import read_spec

        for a in argv:
            key, _, value = a.partition("=")
            if key == "+sweep" and value:
                try:
                    preset = {k for k, _ in read_spec(value).grid}
                except ConfigError:
                    pass  # reported by the validation above
    out = normalise_overrides(argv)
    return [a if a.split("=", 1)[0] in preset else b for a, b in zip(argv, out)]


@hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")
def _hydra_main(dcfg: DictConfig) -> None:
    started = time.perf_counter()
    hc = HydraConfig.get()
    multirun = hc.mode == RunMode.MULTIRUN
    try:
        cfg = build_config(OmegaConf.to_container(dcfg, resolve=True))
    except ConfigError as exc:  # a config from another folder, validated only here
        print(f"casesim: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    folder = hc.runtime.output_dir
    given = [o[2:] if o.startswith("++") else o for o in hc.overrides.task]  # as the user wrote them
    if not multirun:
        _single_run(cfg, folder, given, started)
        return
    # A job of a multirun: replications run serially when jobs run side by side (no
    # processes inside processes), a failure is recorded and the sweep goes on, and the job
    # leaves a point folder that ``casesim-collect`` reads.
    from ..config.design import config_hash
    from ..io.run_folder import write_point

    if "BasicLauncher" not in str(hc.launcher.get("_target_", "")):
        cfg = cfg.replace(run=dataclasses.replace(cfg.run, workers=1, progress=False))
    params = _job_params(hc.overrides.task)
    key = config_hash(cfg)
    try:
        results = simulate(cfg)
        summary = results.summary()
        write_run_folder(results, folder, given, time.perf_counter() - started, summary)
        write_point(folder, key, params, cfg, summary, time.perf_counter() - started)
        print(f"{hc.job.num}: {', '.join(given)}: done")
    except Exception:  # noqa: BLE001 - one failed job must not stop the multirun
        import traceback

        write_point(folder, key, params, cfg, None, time.perf_counter() - started, traceback.format_exc())
        print(f"casesim: job {hc.job.num} ({', '.join(given)}) failed; see {folder}/error.txt", file=sys.stderr)


def _single_run(cfg, folder: str, given: list[str], started: float) -> None:
    results = simulate(cfg)
    summary = results.summary()
    from ..present.plots import save_all  # matplotlib only when figures are made

    save_all(results, f"{folder}/figures")
    write_run_folder(results, folder, given, time.perf_counter() - started, summary)
    print(table_by_true_risk(summary, cfg).to_string())
    print(f"\nwrote {folder}")


def _job_params(task_overrides) -> dict:
    """A multirun job's own overrides as parameters (typed as YAML reads them)."""
    from ..config.design import yaml_value

    params = {}
    for o in task_overrides:
        key, _, value = o.lstrip("+~").partition("=")
        if not key.startswith("hydra."):
            params[key] = yaml_value(value)
    return params


class CollectMultirun(Callback):
    """Hydra callback (``hydra.callbacks`` in config.yaml): when a multirun ends, collect its
    jobs into ``sweep.parquet`` in the sweep folder."""

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        from ..io.collect import collect, status_counts

        collect(config.hydra.sweep.dir, table=False)
        print(f"collected {status_counts(config.hydra.sweep.dir)} into {config.hydra.sweep.dir}/sweep.parquet")


def compare_main(argv: Sequence[str] | None = None) -> None:
    """``casesim-compare SCENARIO [SCENARIO ...] [key=value ...] [--out DIR]``: the baseline
    and each scenario of ``configs/scenario/`` on the same replications, paired."""
    import argparse
    import datetime as dt
    import json
    from pathlib import Path

    from ..io.manifest import manifest
    from ..io.run_folder import atomic_write
    from ..running.scenarios import compare, load_scenarios

    parser = argparse.ArgumentParser(prog="casesim-compare", description=compare_main.__doc__)
    parser.add_argument("items", nargs="+", metavar="SCENARIO or key=value",
                        help="scenario names (configs/scenario/) and overrides applied to every run")
    parser.add_argument("--out", help="output folder (default outputs/compare/DATE_TIME)")
    args = parser.parse_args(argv)
    names = [a for a in args.items if "=" not in a]
    overrides = [a for a in args.items if "=" in a]
    try:
        if not names:
            raise ConfigError("scenarios", "", "name at least one scenario from configs/scenario/")
        base, scenarios = load_scenarios(names, overrides)
    except ConfigError as exc:
        print(f"casesim-compare: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    started = time.perf_counter()
    out = Path(args.out or f"outputs/compare/{dt.datetime.now():%Y-%m-%d_%H-%M-%S}")
    result = compare(base, scenarios)
    from ..present import plots
    from ..present.report import write_report
    from ..results.comparison import headline_differences

    (out / "figures").mkdir(parents=True, exist_ok=True)
    atomic_write(out / "comparison.csv", lambda p: result.table.to_csv(p, index=False))
    figures = {
        "Time to arrest by true risk": plots.survival_comparison(result.all_results, "true_risk"),
        "Differences from the baseline": plots.forest_plot(result.table, result.total_name),
    }
    for (title, fig), name in zip(figures.items(), ("survival_comparison.png", "forest.png")):
        fig.savefig(out / "figures" / name, dpi=plots.DPI)
    write_report(result, out / "report.html", figures)
    info = {name: manifest(res, overrides, time.perf_counter() - started) for name, res in result.all_results.items()}
    atomic_write(out / "manifest.json", lambda p: p.write_text(json.dumps(info, indent=2, default=str)))

    h = headline_differences(result.table, result.total_name)[["scenario", "metric", "by", "grade", "baseline", "difference", "ci_low", "ci_high"]]
    print(h.round(3).to_string(index=False))
    print(f"\nwrote {out}")


def search_main(argv: Sequence[str] | None = None) -> None:
    """``casesim-search [key=value ...] [--grid KEY=V1,V2,...] [--cost KEY=PER_UNIT] ...``:
    the fewest investigators (or, with --grid, the cheapest mix) meeting a service target
    with the given confidence, on common random numbers; writes runs.csv."""
    import argparse
    from pathlib import Path

    from ..running.search import Target, search_investigators, search_mix

    p = argparse.ArgumentParser(prog="casesim-search", description=search_main.__doc__)
    p.add_argument("overrides", nargs="*", help="config overrides, e.g. scenario=fast_warrants run.replications=20")
    p.add_argument("--risks", default="VH,H", help="true risks the target is for (default VH,H)")
    p.add_argument("--within-days", type=float, default=7.0)
    p.add_argument("--max-share-late", type=float, default=0.01)
    p.add_argument("--confidence", type=float, default=0.9)
    p.add_argument("--max-investigators", type=int, default=60)
    p.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...")
    p.add_argument("--cost", action="append", default=[], metavar="KEY=PER_UNIT")
    p.add_argument("--out", default="outputs/search", help="folder for runs.csv")
    a = p.parse_args(argv)
    try:
        cfg = load_config(a.overrides)
        risks = tuple(r.strip() for r in a.risks.split(","))
        bad = [r for r in risks if r not in ("VH", "H", "M", "L")]
        if bad:
            raise ConfigError("--risks", a.risks, "grades from VH, H, M, L, comma-separated")
        if not (0 < a.confidence < 1 and 0 < a.max_share_late < 1):
            raise ConfigError("--confidence/--max-share-late", (a.confidence, a.max_share_late), "each in (0, 1)")
        grid = {k: [float(v) for v in vs.split(",")] for k, _, vs in (g.partition("=") for g in a.grid)}
        costs = {k: float(v) for k, _, v in (c.partition("=") for c in a.cost)}
    except ConfigError as exc:
        print(f"casesim-search: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except ValueError as exc:
        print(f"casesim-search: error: --grid/--cost: {exc}; write KEY=1,2,3 and KEY=cost", file=sys.stderr)
        raise SystemExit(2) from None
    target = Target(risks, a.within_days, a.max_share_late, 0, a.confidence)
    try:
        result = search_mix(cfg, grid, costs, target) if grid else search_investigators(
            cfg, target, high=a.max_investigators)
    except ConfigError as exc:
        print(f"casesim-search: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    result.runs.to_csv(out / "runs.csv", index=False)
    print(result.runs.to_string(index=False))
    if result.answer is None:
        print("\nno level searched meets the target")
    else:
        print(f"\nanswer: {result.answer}")
    print(f"wrote {out / 'runs.csv'}")


def sweep_main(argv: Sequence[str] | None = None) -> None:
    """``casesim-sweep NAME [key=value ...]``: run sweep ``configs/sweep/NAME.yaml`` in
    batches, locally or on Dask; resumable (re-run the same command to finish an interrupted
    sweep) and collected into OUT/sweep.parquet."""
    import argparse

    from ..running.executors import make_executor
    from ..running.sweep import run_sweep

    p = argparse.ArgumentParser(prog="casesim-sweep", description=sweep_main.__doc__)
    p.add_argument("name", help="a sweep in configs/sweep/ (e.g. smoke, staffing_training, sensitivity)")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="applied to every design point")
    p.add_argument("--out", help="output folder (default outputs/sweep/NAME; the same folder resumes)")
    p.add_argument("--workers", type=int, default=1, help="local processes (default 1: this process)")
    p.add_argument("--scheduler", help="a Dask scheduler, tcp://HOST:8786 (needs casesim[dask])")
    p.add_argument("--local-cluster", type=int, metavar="N", help="start a Dask LocalCluster of N workers")
    p.add_argument("--batch-seconds", type=float, help="seconds of simulation per task (default: the sweep's)")
    p.add_argument("--no-progress", action="store_true")
    a = p.parse_args(argv)
    try:
        if a.workers < 1 or (a.local_cluster is not None and a.local_cluster < 1):
            raise ConfigError("--workers/--local-cluster", (a.workers, a.local_cluster), "at least 1")
        if a.batch_seconds is not None and a.batch_seconds <= 0:
            raise ConfigError("--batch-seconds", a.batch_seconds, "must be > 0")
        from ..config.design import design_points

        design = design_points(a.name, a.overrides)  # every point validated before any executor starts
        executor = make_executor(a.workers, a.scheduler, a.local_cluster)
    except ConfigError as exc:
        print(f"casesim-sweep: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    out = a.out or f"outputs/sweep/{a.name}"
    print(f"sweep {a.name} on {executor.description} into {out}")
    try:
        outcome = run_sweep(a.name, a.overrides, out, executor, progress=not a.no_progress,
                            batch_seconds=a.batch_seconds, design=design)
    except KeyboardInterrupt:
        print(f"\ninterrupted: finished batches are kept in {out}; run the same command to resume", file=sys.stderr)
        raise SystemExit(130) from None
    print(f"{outcome.points} points: {outcome.already_done} already done, {outcome.completed} completed now, "
          f"{len(outcome.failed)} failed; {outcome.replications_run} replications in {outcome.wall_seconds:.1f} s")
    for key in outcome.failed:
        print(f"  failed: {out}/failed/{key}/error.txt", file=sys.stderr)
    print(f"wrote {out}/sweep.parquet")
    _sensitivity_outputs(out)
    if outcome.failed:
        raise SystemExit(1)


def _sensitivity_outputs(directory) -> None:
    """For a sweep over a sampled design: regression sensitivity indices of the tail metrics
    (sensitivity.csv) and their tornado plot (figures/tornado.png)."""
    import json
    from pathlib import Path

    import pandas as pd

    from ..io.run_folder import atomic_write
    from ..results.sensitivity import regression_indices

    design = Path(directory) / "design.json"
    sampled = json.loads(design.read_text()).get("sampled_parameters") if design.is_file() else None
    if not sampled:
        return
    table = pd.read_parquet(Path(directory) / "sweep.parquet")
    if (table["status"] == "ok").sum() == 0:
        return
    indices = regression_indices(table, sampled)
    atomic_write(Path(directory) / "sensitivity.csv", lambda p: indices.to_csv(p, index=False))
    from ..present import plots

    (Path(directory) / "figures").mkdir(exist_ok=True)
    plots.tornado_plot(indices).savefig(Path(directory) / "figures" / "tornado.png", dpi=plots.DPI)
    print(f"wrote {Path(directory) / 'sensitivity.csv'} and figures/tornado.png")


def collect_main(argv: Sequence[str] | None = None) -> None:
    """``casesim-collect DIR``: gather every design point (or multirun job) under DIR into
    DIR/sweep.parquet and list failed and missing points."""
    import argparse
    from pathlib import Path

    import pandas as pd

    from ..io.collect import collect, status_counts

    p = argparse.ArgumentParser(prog="casesim-collect", description=collect_main.__doc__)
    p.add_argument("directory")
    a = p.parse_args(argv)
    if not Path(a.directory).is_dir():
        print(f"casesim-collect: error: {a.directory!r}: no such folder", file=sys.stderr)
        raise SystemExit(2)
    collect(a.directory, table=False)
    print(f"{status_counts(a.directory)} -> {Path(a.directory) / 'sweep.parquet'}")
    points = pd.read_parquet(Path(a.directory) / "sweep.parquet", columns=["point", "status"]).drop_duplicates("point")
    for status in ("failed", "missing"):
        for key in points.loc[points["status"] == status, "point"]:
            print(f"  {status}: {key}")
    _sensitivity_outputs(a.directory)


def replications_main(argv: Sequence[str] | None = None) -> None:
    """``casesim-replications [key=value ...] [--max N] [--precision P] [--out DIR]``: how many
    replications the configuration needs for a confidence interval of +/- P of the mean on
    the headline outputs (the replications algorithm of Hoad, Robinson & Davies, 2010);
    writes trajectory.csv, recommendation.csv, figures/replications.png and manifest.json."""
    import argparse
    import dataclasses
    import datetime as dt
    import json
    from pathlib import Path

    from ..io.manifest import git_revision, package_versions
    from ..io.run_folder import atomic_write
    from ..running.replication_study import replication_study

    p = argparse.ArgumentParser(prog="casesim-replications", description=replications_main.__doc__)
    p.add_argument("overrides", nargs="*", help="config overrides, e.g. scenario=fast_warrants run.workers=2")
    p.add_argument("--max", type=int, default=40, dest="max_replications",
                   help="replications to run, 0..MAX-1 (default 40; run.replications is not used)")
    p.add_argument("--precision", type=float, default=0.05,
                   help="relative half-width wanted, a fraction of the mean (default 0.05 = ±5 %%)")
    p.add_argument("--out", help="output folder (default outputs/replications/DATE_TIME)")
    a = p.parse_args(argv)
    try:
        cfg = load_config(a.overrides)
        if a.max_replications < 3:
            raise ConfigError("--max", a.max_replications, "at least 3 replications (the algorithm starts from 3)")
        if not 0 < a.precision < 1:
            raise ConfigError("--precision", a.precision, "a relative half-width in (0, 1), e.g. 0.05 for ±5 %")
    except ConfigError as exc:
        print(f"casesim-replications: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    started = time.perf_counter()
    study = replication_study(cfg, max_replications=a.max_replications, precision=a.precision)
    out = Path(a.out or f"outputs/replications/{dt.datetime.now():%Y-%m-%d_%H-%M-%S}")
    (out / "figures").mkdir(parents=True, exist_ok=True)
    atomic_write(out / "trajectory.csv", lambda f: study.trajectory.to_csv(f, index=False))
    atomic_write(out / "recommendation.csv", lambda f: study.recommendation.to_csv(f, index=False))
    from ..present import plots

    plots.replications_plot(study.trajectory, a.precision).savefig(out / "figures" / "replications.png", dpi=plots.DPI)
    info = {"scenario": cfg.scenario, "seed": cfg.run.seed, "max_replications": a.max_replications,
            "precision": a.precision, "overrides": list(a.overrides), "config": dataclasses.asdict(cfg),
            "versions": package_versions(), "git_revision": git_revision(), "command": sys.argv,
            "wall_time_seconds": round(time.perf_counter() - started, 3)}
    atomic_write(out / "manifest.json", lambda f: f.write_text(json.dumps(info, indent=2, default=str)))
    cols = ["metric", "by", "grade", "mean", "relative_half_width", "recommended_replications",
            "projected_replications", "note"]
    print(study.recommendation[cols].round(3).to_string(index=False))
    needed = study.replications_needed
    print(f"\n{needed} replications give ±{a.precision:.0%} on every output above" if needed is not None else
          f"\n{a.max_replications} replications do not confirm ±{a.precision:.0%} on every output: "
          "see projected_replications and the notes")
    print(f"wrote {out}")
