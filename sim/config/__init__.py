"""The configuration layer: the schema (frozen dataclasses and their validation), the bounds
its fields declare (``checks``), the strict converter from plain mappings, the loader that
composes ``configs/`` with Hydra, the backlog CSV reader and sweep designs.

Hydra and OmegaConf are imported only inside the functions that compose YAML, so importing
this package (as the model does, for the schema) loads neither.
"""

from ..errors import ConfigError
from .backlog import read_backlog_csv
from .convert import changed_parameters, from_mapping, leaves, normalise_overrides, replace_path
from .load import CONFIG_DIR, build_config, compose_mapping, load_config
from .schema import SimConfig

__all__ = ["CONFIG_DIR", "ConfigError", "SimConfig", "build_config", "changed_parameters", "compose_mapping",
           "from_mapping", "leaves", "load_config", "normalise_overrides", "read_backlog_csv", "replace_path"]
