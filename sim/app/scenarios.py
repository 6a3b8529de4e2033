"""A scenario as the workbench holds it: where it starts (the baseline, a shipped preset, or
a YAML of the planner's own) and the fields changed from there, as command-line overrides.
It is composed and checked by ``sim.load_config``, exactly as ``casesim`` would compose
it, and written out as a YAML that reproduces it on the command line.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..config.load import load_config
from ..calibration.overlay import nested_lines
from ..config.load import CONFIG_DIR
from ..config.schema import SimConfig
from ..errors import ConfigError
from .fields import FIELDS, Field, value_at

CONFIG_GROUPS = tuple(sorted(path.name for path in CONFIG_DIR.iterdir() if path.is_dir()))
"""The config groups (``force``, ``forces``, ``scenario``, ...): an override naming one picks a file."""


@dataclasses.dataclass(frozen=True)
class Base:
    """Where a scenario starts: group choices and overrides on ``config_name`` (``config``,
    the baseline, or a YAML of the planner's own in ``config_dir``)."""

    label: str
    overrides: tuple[str, ...] = ()
    config_name: str = "config"
    config_dir: str | None = None

    def config(self, extra: Sequence[str] = ()) -> SimConfig:
        """The base's configuration, with ``extra`` overrides on top (ConfigError if bad)."""
        return load_config([*self.overrides, *extra], self.config_name, self.config_dir)


def presets() -> dict[str, Base]:
    """The starting points shipped with casesim, by label: the baseline, the force sizes,
    the region of three forces, and every scenario of ``configs/scenario/``."""
    bases = [Base("Baseline: a stressed medium force"),
             Base("A small force", ("force=small",)), Base("A large force", ("force=large",)),
             Base("A region of three forces", ("forces=three_forces",))]
    for path in sorted((CONFIG_DIR / "scenario").glob("*.yaml")):
        if path.stem != "baseline":
            bases.append(Base(f"Scenario: {path.stem.replace('_', ' ')}", (f"scenario={path.stem}",)))
    return {base.label: base for base in bases}


def own_yaml(path: str | Path) -> Base:
    """A YAML of the planner's own (a force overlay, or ``casesim-calibrate``'s
    ``my_force.yaml``) as a base; ConfigError if it does not compose."""
    path = Path(path)
    base = Base(f"Your YAML: {path.stem.removeprefix('own_')}", (), path.stem, str(path.parent))
    base.config()
    return base


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A named scenario: its base and the overrides the planner's fields make."""

    name: str
    base: Base
    changes: tuple[str, ...] = ()

    @property
    def overrides(self) -> list[str]:
        """Everything given to ``load_config``: the base's overrides, then the fields'."""
        return [*self.base.overrides, *self.changes]

    def config(self, extra: Sequence[str] = ()) -> SimConfig:
        """The composed, validated configuration, named ``name`` in every table."""
        return dataclasses.replace(self.base.config([*self.changes, *extra]), scenario=self.name)


def changes(values: Mapping[str, Any], base: SimConfig, fields: Sequence[Field] = FIELDS
            ) -> tuple[tuple[str, ...], dict[str, str]]:
    """The overrides that the form's ``values`` (by key) make to ``base``, and the fields
    whose value is not even of the right kind (by key, the one-line message)."""
    made, wrong = [], {}
    for field in fields:
        if field.key not in values:
            continue
        try:
            value = field.parse(values[field.key])
        except ConfigError as error:
            wrong[field.key] = str(error)
            continue
        current = value_at(base, field.key)
        if value != (tuple(current) if isinstance(current, (tuple, list)) else current):
            made.append(field.override(value))
    return tuple(made), wrong


def slug(name: str) -> str:
    """A scenario's name as a file name.

    >>> slug("More investigators (24)")
    'more_investigators_24'
    """
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "scenario"


def scenario_yaml(scenario: Scenario, csv_names: Mapping[str, str] | None = None, extra: Sequence[str] = ()) -> str:
    """A YAML that ``casesim --config-dir . --config-name SLUG`` runs as ``scenario``: the
    base's config and group choices in its defaults list, the other overrides (and
    ``extra``, a comparison's run settings) as keys. ``csv_names`` renames backlog CSVs
    (their paths here, by the name beside the YAML)."""
    choices, keys = [], {}
    for override in [*scenario.overrides, *extra]:
        key, _, value = override.partition("=")
        key = key.lstrip("+~")
        if key in CONFIG_GROUPS:
            choices.append(f"  - override /{key}: {value}")
        else:
            keys[key] = (csv_names or {}).get(value, value) if key.endswith("initial_backlog.csv") else value
    name = slug(scenario.name)
    lines = [f"# casesim scenario '{scenario.name}', set up in the workbench (casesim-app).",
             f"# Run it from the folder holding this file: casesim --config-dir . --config-name {name}",
             "defaults:", f"  - {scenario.base.config_name}", *choices, "  - _self_", "",
             f"scenario: {_quoted(scenario.name)}"]
    return "\n".join(lines + nested_lines(keys)) + "\n"


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"



def scenario_dict(scenario: Scenario) -> dict[str, Any]:
    """A scenario as plain data (for a job's ``job.json``)."""
    return dataclasses.asdict(scenario)


def scenario_from(data: Mapping[str, Any]) -> Scenario:
    """A scenario from :func:`scenario_dict`'s data."""
    base = data["base"]
    return Scenario(data["name"], Base(base["label"], tuple(base["overrides"]), base["config_name"],
                                       base["config_dir"]), tuple(data["changes"]))
