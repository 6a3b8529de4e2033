"""casesim: a discrete-event model of how police forces handle referrals of online child
sexual abuse, from the referral reaching the force to the suspect's arrest.

>>> import sim
>>> cfg = sim.load_config(["run.replications=2"])
>>> res = sim.simulate(cfg)
>>> res.summary()
"""

from .comparison import Comparison, compare, load_scenarios
from .config import ConfigError, SimConfig, load_config
from .results import Results, replication_metrics, summarise
from .replications import ReplicationStudy, replication_study
from .runner import run_replications, simulate
from .search import Target, search_investigators, search_mix

__all__ = ["Comparison", "ConfigError", "ReplicationStudy", "Results", "SimConfig", "Target", "compare", "load_config",
           "load_scenarios", "replication_metrics", "replication_study", "run_replications", "search_investigators",
           "search_mix", "simulate", "summarise"]
__version__ = "0.1.0"


def __getattr__(name: str):
    # ``sim.plots`` on first use, so ``import sim`` does not load matplotlib.
    if name == "plots":
        import importlib

        return importlib.import_module(".plots", __name__)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
