"""Shared fixtures: small, fast configurations and their results (built once a session)."""

from __future__ import annotations

import os

import matplotlib
import pytest

import sim

matplotlib.use("Agg")
os.environ.setdefault("CASESIM_QUICK", "1")

# A short, stressed run: every stage and branch is exercised within a few seconds.
QUICK = ["run.replications=2", "run.horizon_days=400", "run.progress=false"]


@pytest.fixture(scope="session")
def quick_cfg() -> sim.SimConfig:
    return sim.load_config(QUICK)


@pytest.fixture(scope="session")
def quick_results(quick_cfg) -> sim.Results:
    return sim.simulate(quick_cfg)


@pytest.fixture(scope="session")
def baseline_results() -> sim.Results:
    """One full-length baseline replication (3 years)."""
    return sim.simulate(sim.load_config(["run.replications=1", "run.progress=false"]))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Playwright's browser: Debian's Chromium (tests/browser.py), as root without its sandbox."""
    from browser import CHROMIUM

    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": ["--no-sandbox"]}
