"""casesim: a discrete-event model of how police forces handle referrals of online child
sexual abuse, from the referral reaching the force to the suspect's arrest.

The public names below are loaded on first use, so ``import sim.model`` (or ``import sim``
alone) loads neither pandas, Hydra nor matplotlib until a name that needs them is touched.

>>> import sim
>>> cfg = sim.load_config(["run.replications=2", "run.horizon_days=200", "run.progress=false"])
>>> res = sim.simulate(cfg)
>>> summary = res.summary()        # one row per metric, with a 95 % interval over replications
>>> list(summary.columns)
['force', 'region', 'metric', 'by', 'grade', 'estimate', 'ci_low', 'ci_high', 'n_replications', 'note']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# Public name -> the module that defines it.
_HOMES = {
    "ConfigError": "sim.errors",
    "SimConfig": "sim.config.schema",
    "load_config": "sim.config.load",
    "Results": "sim.results.tables",
    "replication_metrics": "sim.results.summary",
    "summarise": "sim.results.summary",
    "Comparison": "sim.results.comparison",
    "simulate": "sim.running.runner",
    "run_replications": "sim.running.runner",
    "compare": "sim.running.scenarios",
    "load_scenarios": "sim.running.scenarios",
    "ReplicationStudy": "sim.running.replication_study",
    "replication_study": "sim.running.replication_study",
    "Target": "sim.running.search",
    "search_investigators": "sim.running.search",
    "search_mix": "sim.running.search",
    "CaseLog": "sim.io.caselog",
    "read_case_log": "sim.io.caselog",
    "Calibration": "sim.calibration.calibrate",
    "calibrate": "sim.calibration.calibrate",
    "EXAMPLE_CASE_LOG": "sim.data",
}
_SUBMODULES = {"plots": "sim.plots"}

__all__ = sorted(_HOMES)
__version__ = "0.1.0"

if TYPE_CHECKING:  # for type checkers and editors; at run time the names load lazily
    from .config.load import load_config
    from .config.schema import SimConfig
    from .errors import ConfigError
    from .results.comparison import Comparison
    from .results.summary import replication_metrics, summarise
    from .results.tables import Results
    from .running.replication_study import ReplicationStudy, replication_study
    from .running.runner import run_replications, simulate
    from .running.scenarios import compare, load_scenarios
    from .running.search import Target, search_investigators, search_mix
    from .io.caselog import CaseLog, read_case_log
    from .calibration.calibrate import Calibration, calibrate
    from .data import EXAMPLE_CASE_LOG


def __getattr__(name: str):
    if name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(_SUBMODULES[name])
    else:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES, *_SUBMODULES])
