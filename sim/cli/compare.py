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
    args = parser.parse_intermixed_args(argv)
    names = [item for item in args.items if "=" not in item]
    overrides = [item for item in args.items if "=" in item]
    if not names:
        raise ConfigError("scenarios", "", "name at least one scenario from configs/scenario/")

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

