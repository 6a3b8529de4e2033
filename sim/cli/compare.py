"""``casesim-compare``: the baseline and scenarios of ``configs/scenario/``, paired; writes
comparison.csv, summary.csv, manifest.json, figures/ and report.html."""

from __future__ import annotations

import time
from typing import Sequence

from ..errors import ConfigError
from .common import Parser, claim_output_folder, command, kept_nothing, save_figures, warn_overloaded


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

    from ..io.analysis_folders import start_folder, write_comparison_folder
    from ..results.findings import comparison_findings, no_comparison_findings
    from ..results.summary import summarise_metrics
    from ..running.scenarios import compare, load_scenarios

    baseline, scenarios = load_scenarios(names, overrides)
    for cfg in (baseline, *scenarios):
        warn_overloaded("casesim-compare", cfg, cfg.scenario)
    folder = claim_output_folder(args.out, "outputs/compare/{time}")
    requested = [cfg.scenario for cfg in (baseline, *scenarios)]
    start_folder(folder, {"scenarios": requested, "finished": []})
    started = time.perf_counter()
    summaries = {}

    def keep(comparison, name, metrics) -> None:
        summaries[name] = summarise_metrics(metrics)
        write_comparison_folder(comparison, folder, overrides, time.perf_counter() - started, requested, summaries,
                                complete=False)

    try:
        comparison = compare(baseline, scenarios, on_finished=keep)
        _draw(comparison, folder)
        findings = comparison_findings(comparison.table, comparison.total_name)
        write_comparison_folder(comparison, folder, overrides, time.perf_counter() - started, requested, summaries,
                                findings=[f.text for f in findings])
    except KeyboardInterrupt:
        if not summaries:
            raise KeyboardInterrupt(f"no run had finished; {kept_nothing(folder)}") from None
        raise KeyboardInterrupt(f"finished runs kept in {folder} ({', '.join(summaries)}: {len(summaries)} of "
                                f"{len(requested)}; manifest.json says complete: false)") from None
    from ..present.console import findings_text
    from ..present.report import difference_table

    print(difference_table(comparison.table, comparison.total_name).drop(columns="Note").to_string(index=False))
    print("\n" + (findings_text(findings, top=len(findings)) if findings else
                  no_comparison_findings(comparison.baseline.config.run.replications)))
    print(f"\nwrote {folder} (report.html first)")


def _draw(comparison, folder) -> None:
    """The comparison's figures and its HTML report, into ``folder``."""
    from ..present import plots
    from ..present.report import write_report

    figures = {
        "Time to arrest by true risk": plots.survival_comparison(comparison.all_results, "true_risk"),
        "Differences from the baseline": plots.forest_plot(comparison.table, comparison.total_name),
    }
    save_figures(folder, dict(zip(("survival_comparison.png", "forest.png"), figures.values())))
    write_report(comparison, folder / "report.html", figures)
