"""The data dictionaries list every key and every output column."""

from __future__ import annotations

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
        m.startswith(p.strip("`*")) for p in ("`mean_wait_days_*`", "`mean_time_days_*`", "`utilisation_*`", "`backlog_at_end_*`"))]
    assert not missing
