"""The command-line entry points, one module per command over ``common.py`` (one-line
errors, output folders, figures):

- ``casesim`` (and ``python -m sim``): ``run.py``, the Hydra app, multirun included;
- ``casesim-compare``: ``compare.py``;  ``casesim-search``: ``search.py``;
- ``casesim-sweep``: ``sweep.py``;  ``casesim-collect``: ``collect.py``;
- ``casesim-replications``: ``replications.py``;
- ``casesim-calibrate``: ``calibrate.py``;  ``casesim-backtest``: ``backtest.py``.

The names below (``sim.cli.compare_main`` is ``sim.cli.compare.main``, ...) load their
command's module on first use, so one command's ``--help`` does not import the others'
libraries (Hydra for ``casesim``).
"""

from __future__ import annotations

import importlib

# Public name -> (module, name in that module).
_COMMANDS = {
    "main": ("sim.cli.run", "main"),
    "CollectMultirun": ("sim.cli.run", "CollectMultirun"),
    "compare_main": ("sim.cli.compare", "main"),
    "search_main": ("sim.cli.search", "main"),
    "sweep_main": ("sim.cli.sweep", "main"),
    "collect_main": ("sim.cli.collect", "main"),
    "replications_main": ("sim.cli.replications", "main"),
    "calibrate_main": ("sim.cli.calibrate", "main"),
    "backtest_main": ("sim.cli.backtest", "main"),
}

__all__ = sorted(_COMMANDS)


def __getattr__(name: str):
    if name not in _COMMANDS:
        raise AttributeError(f"module 'sim.cli' has no attribute {name!r}")
    module, attribute = _COMMANDS[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_COMMANDS])
