"""Loading a config: Hydra composes the YAML in ``configs/``, the strict converter builds a
validated :class:`SimConfig`, and each backlog CSV named is read in.

``load_config`` composes with Hydra's compose API, the same files the ``casesim`` command
reads: an unknown key, a wrong type or a value out of range raises :class:`ConfigError`
naming the key path, the value and what is allowed, before any simulation starts.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..errors import ConfigError
from .backlog import read_backlog_csv
from .convert import allowed_keys, from_mapping, normalise_overrides
from .schema import FORCE_SECTIONS, DemandConfig, SimConfig


def _config_dir() -> Path:
    """``configs/`` beside the package in a source checkout, else the copy installed in it."""
    package = Path(__file__).resolve().parent.parent
    source = package.parent / "configs"
    return source if (source / "config.yaml").is_file() else package / "configs"


CONFIG_DIR = _config_dir()



def _merged(base: Any, changes: Any) -> Any:
    """``base`` with ``changes`` merged in, mapping by mapping (lists and values replace)."""
    if isinstance(base, Mapping) and isinstance(changes, Mapping):
        out = dict(base)
        for k, v in changes.items():
            out[k] = _merged(base[k], v) if k in base else v
        return out
    return changes


def _expand_forces(data: Mapping[str, Any]) -> dict[str, Any]:
    """Each entry of ``forces`` as a whole force: the top-level demand, staffing and training
    with the entry's own keys merged in."""
    data = dict(data)
    forces = data.get("forces")
    if not forces:
        return data
    if isinstance(forces, (str, bytes)) or not isinstance(forces, Sequence):
        raise ConfigError("forces", forces, "a list of forces, each a mapping with a name")
    out = []
    for k, entry in enumerate(forces):
        if not isinstance(entry, Mapping):
            raise ConfigError(f"forces[{k}]", entry, f"a mapping with name, and any of {', '.join(FORCE_SECTIONS)}")
        unknown = [x for x in entry if x not in ("name", *FORCE_SECTIONS)]
        if unknown:
            raise ConfigError(f"forces[{k}].{unknown[0]}", entry[unknown[0]],
                              f"unknown key; allowed here: name, {', '.join(FORCE_SECTIONS)}")
        if "name" not in entry:
            raise ConfigError(f"forces[{k}].name", None, "every force needs a name")
        if not isinstance(entry["name"], str):
            raise ConfigError(f"forces[{k}].name", entry["name"], "a string")
        whole = {"name": entry["name"]}
        for sect in FORCE_SECTIONS:
            whole[sect] = _merged(data.get(sect, {}), entry.get(sect) or {})
        out.append(whole)
    data["forces"] = out
    return data


def _read_backlog(demand: DemandConfig, base_dir: str | Path | None) -> DemandConfig:
    """``demand`` with its backlog CSV (if it names one) read into ``initial_backlog.cases``;
    a relative path is taken from ``base_dir``, else the working folder."""
    backlog = demand.initial_backlog
    if not backlog.csv:
        return demand
    p = Path(backlog.csv)
    if not p.is_absolute() and base_dir is not None:
        p = Path(base_dir) / p
    return dataclasses.replace(demand, initial_backlog=dataclasses.replace(backlog, cases=read_backlog_csv(p)))


def build_config(data: Mapping[str, Any], base_dir: str | Path | None = None) -> SimConfig:
    """Convert a plain mapping (composed YAML) into a validated SimConfig; reads each backlog
    CSV named (a relative path is taken from ``base_dir``, else the working folder)."""
    data = {k: v for k, v in data.items() if k != "sweep"}  # the sweep runner's own block (sim.config.design)
    cfg = from_mapping(SimConfig, _expand_forces(data))
    forces = tuple(dataclasses.replace(f, demand=_read_backlog(f.demand, base_dir)) for f in cfg.forces)
    cfg = dataclasses.replace(cfg, demand=_read_backlog(cfg.demand, base_dir), forces=forces)
    return cfg.validate()


def compose_mapping(overrides: Sequence[str] = (), config_name: str = "config",
                    config_dir: str | Path | None = None) -> dict[str, Any]:
    """Compose the YAML in ``configs/`` with Hydra and return it as a plain dict.
    Hydra's own errors (unknown group option, bad override syntax) become ConfigError."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    cdir = str(Path(config_dir or CONFIG_DIR).resolve())
    try:
        with initialize_config_dir(config_dir=cdir, version_base="1.3"):
            composed = compose(config_name=config_name, overrides=normalise_overrides(overrides))
        return OmegaConf.to_container(composed, resolve=True)  # type: ignore[return-value]
    except (HydraException, OmegaConfBaseException) as exc:
        msg = " ".join(str(exc).split()).split(" Config search path")[0]
        bad = next((o for o in overrides if o.split("=", 1)[0].lstrip("+~") in msg), " ".join(overrides))
        key, _, value = bad.partition("=")
        if "Could not override" in msg or "Key '" in msg and "not in struct" in msg:
            raise ConfigError(key.lstrip("+~"), value, f"unknown key; allowed here: {', '.join(allowed_keys(key.lstrip('+~')))}") from None
        raise ConfigError(key or "overrides", value, msg) from None


def load_config(overrides: Sequence[str] = (), config_name: str = "config",
                config_dir: str | Path | None = None) -> SimConfig:
    """Compose ``configs/config.yaml`` with Hydra-style ``overrides`` (as on the command line,
    e.g. ``["staffing.investigators=20", "run.replications=5"]``) into a validated SimConfig."""
    data = compose_mapping(overrides, config_name, config_dir)
    return build_config(data)
