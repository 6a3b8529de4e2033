"""The data dictionaries list every key and every output column; the README's commands write
into folders git ignores."""

from __future__ import annotations

import re
from pathlib import Path

from sim.config.convert import leaves
from sim.config.schema import SimConfig

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_parameter_is_documented():
    text = (DOCS / "parameters.md").read_text()
    missing = [k for k in leaves(SimConfig()) if f"`{k}`" not in text]
    assert not missing


def test_every_output_column_is_documented(quick_results):
    text = (DOCS / "outputs.md").read_text()
    for frame in (quick_results.cases, quick_results.timeseries, quick_results.pools):
        missing = [c for c in frame.columns if f"`{c}`" not in text]
        assert not missing
    metrics = set(quick_results.summary()["metric"])
    missing = [m for m in metrics if f"`{m}`" not in text and not any(
        m.startswith(p.strip("`*")) for p in ("`mean_wait_days_*`", "`mean_time_days_*`", "`utilisation_*`", "`backlog_at_end_*`",
                                              "`share_ending_*`"))]
    assert not missing


def test_every_column_of_the_tables_of_metrics_is_documented(quick_results):
    """The per-replication metrics, the summary, the comparison and the headline: every
    column is named in docs/outputs.md."""
    from sim.results.comparison import paired_differences
    from sim.results.headline import headline_rows, headline_sheets
    from sim.results.summary import replication_metrics

    text = (DOCS / "outputs.md").read_text()
    per_rep = replication_metrics(quick_results)
    summary = quick_results.summary()
    for frame in (per_rep, summary, paired_differences(per_rep, per_rep.assign(scenario="copy")),
                  headline_rows(headline_sheets(summary, quick_results.config))):
        missing = [c for c in frame.columns if f"`{c}`" not in text]
        assert not missing


def test_readme_commands_write_into_git_ignored_folders():
    """The folder each README command example writes into (``--out``, ``hydra.run.dir``,
    ``hydra.sweep.dir``) is one git ignores, so trying the examples leaves the clone clean."""
    root = DOCS.parent
    commands = "\n".join(re.findall(r"```bash\n(.*?)```", (root / "README.md").read_text(), re.DOTALL))
    folders = re.findall(r"(?:--out[ =]|hydra\.(?:run|sweep)\.dir=)(\S+)", commands)
    assert folders  # the examples do name folders
    ignored = {line.strip() for line in (root / ".gitignore").read_text().splitlines() if line.strip().endswith("/")}
    assert [folder for folder in folders if folder.split("/", 1)[0] + "/" not in ignored] == []
