"""Regenerate the committed back-test tables in this folder.

Run from the repository root when a change is *meant* to move the model's numbers, then
say in the commit message why they moved:

    .venv/bin/python tests/expected/regenerate.py

``tests/test_backtest.py`` runs the same seeded configurations and fails on any difference
from the committed tables, so an unintended numeric change never passes unnoticed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent

# Small seeded runs that still reach every stage: a lone stressed force, and a region of
# three forces pooling investigators and search teams (hand-offs, the pooled diaries).
RUNS: dict[str, list[str]] = {
    "baseline": ["run.replications=3", "run.horizon_days=730", "run.progress=false", "run.workers=1"],
    "regional_pooling": ["scenario=regional_pooling", "run.replications=2", "run.horizon_days=540",
                         "run.progress=false", "run.workers=1"],
}
TABLES = ("summary", "pools")


def tables(overrides: list[str]) -> dict[str, pd.DataFrame]:
    """The committed tables of one seeded run, as the model makes them today."""
    import sim

    results = sim.simulate(sim.load_config(overrides))
    return {"summary": results.summary(), "pools": results.pools}


def expected_path(run: str, table: str) -> Path:
    return HERE / f"{run}_{table}.csv"


def main() -> int:
    for run, overrides in RUNS.items():
        for table, frame in tables(overrides).items():
            # 17 significant digits: every float64 written back exactly.
            frame.to_csv(expected_path(run, table), index=False, float_format="%.17g")
            print(f"wrote {expected_path(run, table)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
