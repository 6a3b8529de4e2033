"""Loading a config: Hydra composes the YAML in ``configs/``, the strict converter builds a
validated :class:`SimConfig`, and each backlog CSV named is read in.

``load_config`` composes with Hydra's compose API, the same files the ``casesim`` command
reads: an unknown key, a wrong type or a value out of range raises :class:`ConfigError`
naming the key path, the value and what is allowed, before any simulation starts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
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
        unknown = [x for x in entry if x not in ("name", "region", *FORCE_SECTIONS)]
        if unknown:
            raise ConfigError(f"forces[{k}].{unknown[0]}", entry[unknown[0]],
                              f"unknown key; allowed here: name, region, {', '.join(FORCE_SECTIONS)}")
        if "name" not in entry:
            raise ConfigError(f"forces[{k}].name", None, "every force needs a name")
        if not isinstance(entry["name"], str):
            raise ConfigError(f"forces[{k}].name", entry["name"], "a string")
        whole = {"name": entry["name"]}
        if "region" in entry:
            if not isinstance(entry["region"], str):
                raise ConfigError(f"forces[{k}].region", entry["region"], "a string")
            whole["region"] = entry["region"]
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
    run = data.get("run")
    if isinstance(run, Mapping) and run.get("replications") == "auto":
        # casesim-sweep takes auto off the overrides before it composes (sim.config.design)
        raise ConfigError("run.replications", "auto", "a whole number >= 1; auto (replications chosen until a "
                          "precision is reached) only in casesim-sweep; for one configuration see casesim-replications")
    cfg = from_mapping(SimConfig, _expand_forces(data))
    forces = tuple(dataclasses.replace(f, demand=_read_backlog(f.demand, base_dir)) for f in cfg.forces)
    cfg = dataclasses.replace(cfg, demand=_read_backlog(cfg.demand, base_dir), forces=forces)
    return cfg.validate()


@dataclasses.dataclass(frozen=True)
class Composed:
    """A composed configuration: ``mapping``, the config as a plain dict with every
    interpolation resolved (Hydra's own settings left out), and ``hydra``, Hydra's settings
    as written (``run.dir`` and ``sweep.dir`` with their ``${now:...}`` unresolved)."""

    mapping: dict[str, Any]
    hydra: dict[str, Any]


# An interpolation that reads the environment: its value (a token, a password) would be
# copied into manifest.json and every table's config.
_ENVIRONMENT_INTERPOLATION = re.compile(r"\$\{\s*(oc\.)?env\s*:")


def compose_config(overrides: Sequence[str] = (), config_name: str = "config",
                   config_dir: str | Path | None = None) -> Composed:
    """Compose ``config_name`` with Hydra from ``configs/`` and, if given, ``config_dir``
    (searched after ``configs/``, as ``casesim --config-dir`` does, so a YAML of your own can
    build on ``config``). Every failure is a ConfigError naming what to fix: Hydra's own
    errors (unknown group option, bad override syntax), a config name not found
    (``config_name``), a folder that does not exist (``config_dir``), YAML that does not
    parse (its file and line), and ``${oc.env:...}`` outside ``hydra.*``."""
    from hydra import compose
    from hydra.errors import HydraException, MissingConfigException
    from omegaconf import OmegaConf, open_dict
    from omegaconf.errors import OmegaConfBaseException
    from yaml import MarkedYAMLError, YAMLError

    extra_dir = _existing_folder(config_dir)
    overrides, per_force = split_force_overrides(overrides)
    _refuse_group_structures(overrides, extra_dir)
    try:
        with _config_search_path(extra_dir):
            composed = compose(config_name=config_name, overrides=normalise_overrides(overrides),
                               return_hydra_config=True)
        hydra = OmegaConf.to_container(composed.hydra, resolve=False)
        with open_dict(composed):
            del composed["hydra"]
        _refuse_environment_values(OmegaConf.to_container(composed, resolve=False))
        _refuse_whole_force_in_region(hydra["runtime"]["choices"])
        mapping = apply_force_overrides(OmegaConf.to_container(composed, resolve=True), per_force)
        return Composed(mapping, hydra)  # type: ignore[arg-type]
    except MarkedYAMLError as exc:
        raise ConfigError("config_name", config_name, _yaml_error_line(exc)) from None
    except YAMLError as exc:
        raise ConfigError("config_name", config_name, f"not valid YAML: {' '.join(str(exc).split())}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError("config_name", config_name, f"a config file is not UTF-8 text ({exc.reason} at byte "
                                                      f"{exc.start})") from None
    except MissingConfigException as exc:
        if str(exc).startswith("Cannot find primary config"):
            where = " or ".join(str(d) for d in (CONFIG_DIR, extra_dir) if d is not None)
            raise ConfigError("config_name", config_name, f"no {config_name}.yaml in {where}") from None
        raise _override_error(exc, overrides) from None
    except (HydraException, OmegaConfBaseException) as exc:
        if "must be a DictConfig" in str(exc):  # the whole file is a list or a value
            raise ConfigError("config_name", config_name, "must be a mapping of config keys") from None
        raise _override_error(exc, overrides) from None
    except ValueError as exc:  # Hydra's own check that a group's choice is a name (after OmegaConf's ValueErrors)
        if "Config group override" not in str(exc):
            raise
        raise _group_choice_error(overrides, extra_dir) from None
    except OSError as exc:  # Hydra's file reader: a file it cannot read, or not a mapping at all
        detail = " ".join(str(exc).split())
        allowed = ("must be a mapping of config keys" if "Invalid loaded object type" in detail
                   else f"cannot be read: {detail}")
        raise ConfigError("config_name", config_name, allowed) from None


def compose_mapping(overrides: Sequence[str] = (), config_name: str = "config",
                    config_dir: str | Path | None = None) -> dict[str, Any]:
    """Compose the YAML in ``configs/`` (and ``config_dir``, see :func:`compose_config`)
    with Hydra and return it as a plain dict."""
    return compose_config(overrides, config_name, config_dir).mapping


_FORCE_OVERRIDE = re.compile(r"^[+~]*forces\.(?![0-9]+\.)([^.=]+)\.([^=]+)=(.*)$", re.DOTALL)


def split_force_overrides(overrides: Sequence[str]) -> tuple[list[str], list[str]]:
    """Overrides Hydra composes, and those that change one force of the region by its name,
    ``forces.NAME.KEY=VALUE`` (``forces.large_force.staffing.investigators=50``), which
    Hydra cannot: the loader applies them after composing (:func:`apply_force_overrides`).

    >>> split_force_overrides(["forces=three_forces", "forces.large_force.staffing.investigators=50"])
    (['forces=three_forces'], ['forces.large_force.staffing.investigators=50'])
    """
    plain, per_force = [], []
    for text in overrides:
        (per_force if _FORCE_OVERRIDE.match(text) else plain).append(text)
    return plain, per_force


def apply_force_overrides(mapping: dict[str, Any], per_force: Sequence[str]) -> dict[str, Any]:
    """``mapping`` (composed YAML) with each ``forces.NAME.KEY=VALUE`` set in the entry of
    ``forces`` named NAME; ConfigError naming the override if there is no such force or the
    key is not one a force has."""
    if not per_force:
        return mapping
    from .design import parse_override

    forces = mapping.get("forces") or []
    names = [entry.get("name") for entry in forces if isinstance(entry, Mapping)]
    for text in per_force:
        match = _FORCE_OVERRIDE.match(text)
        assert match is not None
        name, path, _ = match.groups()
        key = f"forces.{name}.{path}"
        value = parse_override(f"{path}={match.group(3)}").value()  # the value as Hydra reads it
        if not names:
            raise ConfigError(key, value, "this configuration lists no forces: choose a region first "
                                          "(forces=three_forces, forces=england_and_wales)")
        if name not in names:
            raise ConfigError(key, value, f"{name!r} is not a force of this region; its forces are "
                                          f"{', '.join(map(str, names))}")
        parts = path.split(".")
        if parts[0] not in ("region", *FORCE_SECTIONS):
            raise ConfigError(key, value, f"a force's own key: region, or a key under {', '.join(FORCE_SECTIONS)}")
        entry = forces[names.index(name)]
        for part in parts[:-1]:
            entry = entry.setdefault(part, {})
            if not isinstance(entry, dict):
                raise ConfigError(key, value, f"{part} is a value, not a section")
        entry[parts[-1]] = value
    return mapping


def _refuse_group_structures(overrides: Sequence[str], extra_dir: Path | None) -> None:
    """ConfigError for a config group given a list or a mapping (``forces=[...]``), which
    Hydra would meet with a traceback: a group takes the name of one of its options."""
    for text in overrides:
        key, _, value = text.partition("=")
        group = key.lstrip("+~")
        options = _group_options(group, extra_dir)
        if options and value.lstrip().startswith(("[", "{")):
            raise ConfigError(group, value, f"a config group: the name of one of its options, {', '.join(options)}; "
                                            "a list or mapping of your own goes in a YAML (--config-dir, --config-name)")


def _group_options(group: str, extra_dir: Path | None) -> list[str]:
    """The options of config group ``group`` (none if it is not a group), in ``configs/``
    and ``extra_dir``."""
    folders = [folder / group for folder in (CONFIG_DIR, extra_dir) if folder is not None]
    return sorted({path.stem for folder in folders if folder.is_dir() for path in folder.glob("*.yaml")})


def _group_choice_error(overrides: Sequence[str], extra_dir: Path | None) -> ConfigError:
    """The ConfigError for a config group given a value that is not an option's name
    (``scenario=false``, ``run=3``): it names the group and its options."""
    for text in overrides:
        key, _, value = text.partition("=")
        group = key.lstrip("+~")
        options = _group_options(group, extra_dir)
        if options and (value in ("true", "false", "null") or _is_number(value)):
            return ConfigError(group, value, f"a config group: the name of one of its options, {', '.join(options)}")
    return ConfigError("overrides", " ".join(overrides), "a config group is given a value that is not an option's name")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _existing_folder(config_dir: str | Path | None) -> Path | None:
    if config_dir is None:
        return None
    folder = Path(config_dir).resolve()
    if not folder.is_dir():
        raise ConfigError("config_dir", str(config_dir), "no such folder" if not folder.exists() else "not a folder")
    return folder


@contextlib.contextmanager
def _config_search_path(extra_dir: Path | None):
    """While inside, Hydra's compose API searches ``configs/`` then ``extra_dir``: the
    search path ``casesim --config-dir`` gets, built with the same Hydra functions, so what
    is validated here is what the command runs."""
    from hydra import version
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path
    from hydra.core.config_search_path import SearchPathQuery
    from hydra.core.global_hydra import GlobalHydra
    from hydra.initialize import get_gh_backup, restore_gh_from_backup

    backup = get_gh_backup()
    version.setbase("1.3")
    search_path = create_config_search_path(str(CONFIG_DIR.resolve()))
    if extra_dir is not None:
        search_path.prepend(provider="command-line", path=f"file://{extra_dir}",
                            anchor=SearchPathQuery(provider="schema"))
    GlobalHydra.instance().clear()
    Hydra.create_main_hydra2(task_name="casesim", config_search_path=search_path)
    try:
        yield
    finally:
        restore_gh_from_backup(backup)


def _refuse_environment_values(data: Any, path: str = "") -> None:
    """ConfigError at the first value that interpolates an environment variable."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            _refuse_environment_values(value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list):
        for k, value in enumerate(data):
            _refuse_environment_values(value, f"{path}[{k}]")
    elif isinstance(data, str) and _ENVIRONMENT_INTERPOLATION.search(data):
        raise ConfigError(path, data, "reads an environment variable, whose value would be copied into "
                                      "manifest.json and the tables: write the value itself (oc.env only under hydra.*)")


def _refuse_whole_force_in_region(choices: Mapping[str, Any]) -> None:
    """ConfigError for a whole-force preset other than the baseline's with a region of
    forces: each force of the region builds on the top-level force, so ``force=large`` would
    quietly make the region's medium force a large one."""
    preset, region = choices.get("force"), choices.get("forces")
    if preset not in (None, "medium") and region not in (None, "single"):
        raise ConfigError("force", preset, f"a whole-force preset is for a force run alone; the region "
                                           f"forces={region} sizes each of its forces itself (change one by "
                                           "its entry in configs/forces/, or run force=... without forces=)")


def _yaml_error_line(exc: Any) -> str:
    """'FILE line L, column C: not valid YAML: PROBLEM (CONTEXT from line L)'."""
    mark = exc.problem_mark or exc.context_mark
    where = f"{mark.name} line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    context = ""
    if exc.context and exc.context_mark is not None:
        context = f" ({exc.context} from line {exc.context_mark.line + 1})"
    return f"{where}not valid YAML: {' '.join(str(exc.problem or exc).split())}{context}"


def _override_error(exc: Exception, overrides: Sequence[str]) -> ConfigError:
    """The ConfigError for a Hydra or OmegaConf error: the override it names, if any."""
    msg = " ".join(str(exc).split()).split(" Config search path")[0]
    # A key counts as named only as a whole word: `force` is not named by 'forces/...'.
    bad = next((o for o in overrides
                if re.search(rf"(?<![\w.]){re.escape(o.split('=', 1)[0].lstrip('+~'))}(?!\w)", msg)),
               " ".join(overrides))
    key, _, value = bad.partition("=")
    if "Could not override" in msg or "Key '" in msg and "not in struct" in msg:
        return ConfigError(key.lstrip("+~"), value, f"unknown key; allowed here: {', '.join(allowed_keys(key.lstrip('+~')))}")
    return ConfigError(key or "overrides", value, msg)


def load_config(overrides: Sequence[str] = (), config_name: str = "config",
                config_dir: str | Path | None = None) -> SimConfig:
    """Compose ``configs/config.yaml`` with Hydra-style ``overrides`` (as on the command line,
    e.g. ``["staffing.investigators=20", "run.replications=5"]``) into a validated SimConfig.
    ``config_name`` and ``config_dir`` name a YAML of your own, as ``casesim --config-name
    NAME --config-dir DIR`` does (``DIR`` is searched after ``configs/``)."""
    data = compose_mapping(overrides, config_name, config_dir)
    return build_config(data)
