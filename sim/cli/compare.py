"""``casesim-compare``: the baseline and scenarios of ``configs/scenario/``, paired; writes
comparison.csv, summary.csv, manifest.json, figures/ and report.html."""

from __future__ import annotations

from typing import Sequence

from ..errors import ConfigError
from .common import Parser, claim_output_folder, command, warn_overloaded


@command("casesim-compare")
def main(argv: Sequence[str] | None = None) -> None:
    """``casesim-compare SCENARIO [SCENARIO ...] [key=value ...] [--out DIR]``: the baseline
    and each scenario of ``configs/scenario/`` on the same replications, paired. Each run
    is written as it finishes: Ctrl-C keeps the finished ones (``manifest.json`` says
    ``"complete": false``)."""
    parser = Parser(prog="casesim-compare", description=main.__doc__)
    parser.add_argument("items", nargs="+", metavar="SCENARIO or key=value",
                        help="scenario names (configs/scenario/) and overrides applied to every run")
    parser.add_argument("--out", help="output folder (default: a new outputs/compare/DATE_TIME)")
    parser.add_argument("--uncertainty", metavar="SWEEP",
                        help="also run the two-level sweep SWEEP (configs/sweep/, with sweep.uncertainty) for "
                             "the baseline and these scenarios at the same draws, into OUT/uncertainty: does each "
                             "benefit survive the parameters' uncertainty?")
    args = parser.parse_intermixed_args(argv)
    names = [item for item in args.items if "=" not in item]
    overrides = [item for item in args.items if "=" in item]
    if not names:
        raise ConfigError("scenarios", "", "name at least one scenario from configs/scenario/")
    # The two-level sweep's points are validated with the scenarios, before anything runs.
    design = _uncertainty_design(args.uncertainty, names, overrides) if args.uncertainty else None

    from ..results.findings import no_comparison_findings
    from ..running.runner import check_cluster_of
    from ..running.scenarios import load_scenarios
    from .outputs import compare_to_folder

    baseline, scenarios = load_scenarios(names, overrides)
    for cfg in (baseline, *scenarios):
        warn_overloaded("casesim-compare", cfg, cfg.scenario)
    check_cluster_of(baseline)  # run.scheduler/run.local_cluster: before the folder is made
    folder = claim_output_folder(args.out, "outputs/compare/{time}")
    comparison, findings = compare_to_folder(baseline, scenarios, folder, overrides)
    from ..present.console import findings_text
    from ..present.report import difference_table

    print(difference_table(comparison.table, comparison.total_name).drop(columns="Note").to_string(index=False))
    print("\n" + (findings_text(findings, top=len(findings)) if findings else
                  no_comparison_findings(comparison.baseline.config.run.replications)))
    print(f"\nwrote {folder} (report.html first)")
    if design is not None:
        _run_uncertainty(args.uncertainty, design, folder / "uncertainty", baseline)


def _uncertainty_design(sweep: str, names: Sequence[str], overrides: Sequence[str]):
    """The points of two-level sweep ``sweep`` for the baseline and scenarios ``names``,
    every one validated before anything runs; ConfigError if the sweep declares no
    uncertain parameters."""
    from ..config.design import design_points, read_spec

    if read_spec(sweep).uncertainty is None:
        raise ConfigError("--uncertainty", sweep, "a sweep with a sweep.uncertainty block (configs/sweep/uncertainty.yaml is one)")
    scenarios = ",".join(dict.fromkeys(["baseline", *names]))
    sweep_overrides = [f"scenario={scenarios}", *overrides]
    return sweep_overrides, design_points(sweep, sweep_overrides)


def _run_uncertainty(sweep: str, design, folder, baseline) -> None:
    """Run the two-level ``design`` (the overrides and the ``design_points`` that
    ``_uncertainty_design`` gives) into ``folder`` on the workers the comparison used, and
    write and print its benefit tables (``collect.write_uncertainty_outputs``)."""
    from ..running.executors import make_executor
    from ..running.sweep import run_sweep
    from .collect import write_uncertainty_outputs

    sweep_overrides, points_design = design
    points = points_design[1]
    run = baseline.run
    executor = make_executor(run.workers, run.scheduler or None, run.local_cluster or None)
    print(f"\nparameter uncertainty: {len(points)} points of sweep {sweep} into {folder}")
    outcome = run_sweep(sweep, sweep_overrides, folder, executor, progress=run.progress, design=points_design)
    if outcome.failed:
        raise ConfigError("--uncertainty", sweep, f"{len(outcome.failed)} points failed: see {folder}/failed/")
    write_uncertainty_outputs(folder)

