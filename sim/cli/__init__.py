"""The command-line entry points (``casesim``, ``casesim-compare``, ``casesim-search``,
``casesim-sweep``, ``casesim-collect``, ``casesim-replications``)."""

from .commands import CollectMultirun, collect_main, compare_main, main, replications_main, search_main, sweep_main

__all__ = ["CollectMultirun", "collect_main", "compare_main", "main", "replications_main", "search_main", "sweep_main"]
