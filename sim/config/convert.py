"""Plain mappings (composed YAML) to schema dataclasses, strictly; and the dotted-key view
of a config: its leaves, a copy with one key replaced, and which keys the schema allows."""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from typing import Any, Literal, Mapping, Sequence

from ..core.distributions import PARAMETER_NAMES, Distribution, distribution_class
from ..errors import ConfigError, check
from .schema import ByGrade, ForceConfig, SimConfig


def _type_name(tp: Any) -> str:
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(tp, str(tp))


_EXACT_FLOAT_INTEGER = 2**53
"""Floats hold every whole number up to this one exactly, and skip some past it."""


def _finite_float(value: int | float) -> float | None:
    """``value`` as a float, or None if it is infinite, NaN or too large for one (an integer
    of 400 digits, say)."""
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _convert(tp: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _convert(args[0], value, key)
    if origin is tuple:
        (inner, _) = typing.get_args(tp)
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise ConfigError(key, value, "a list")
        return tuple(_convert(inner, v, f"{key}[{i}]") for i, v in enumerate(value))
    if origin is Literal:
        allowed = typing.get_args(tp)
        check(value in allowed, key, value, f"one of {', '.join(map(str, allowed))}")
        return value
    if isinstance(tp, type) and issubclass(tp, Distribution):
        return _distribution(value, key)
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(key, value, "a mapping of keys")
        return from_mapping(tp, value, key)
    if tp is bool:
        check(isinstance(value, bool), key, value, "true or false")
        return value
    if tp is int:
        whole_float = isinstance(value, float) and value.is_integer()
        ok = isinstance(value, int) and not isinstance(value, bool) or whole_float
        check(ok, key, value, _type_name(int))
        check(not whole_float or abs(value) <= _EXACT_FLOAT_INTEGER, key, value,
              f"an integer; one written as a float (1e6) must be at most {_EXACT_FLOAT_INTEGER:,} "
              "(past it floats skip whole numbers)")
        return int(value)
    if tp is float:
        number = _finite_float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        check(number is not None, key, value, "a finite number")
        return number
    if tp is str:
        check(isinstance(value, str), key, value, "a string")
        return value
    raise TypeError(f"unsupported type {tp} at {key}")  # a schema bug, not user input


_DISTRIBUTION_KEYS = ("dist", *PARAMETER_NAMES)


def _distribution(value: Any, key: str) -> Distribution:
    """The distribution a mapping such as ``{dist: uniform, low: 1, high: 5}`` describes (no
    ``dist``: fixed). The kind's missing parameters are left for its ``validate`` to report."""
    if isinstance(value, Distribution):
        return value
    if not isinstance(value, Mapping):
        raise ConfigError(key, value, "a mapping of keys")
    for name, given in value.items():
        check(name in _DISTRIBUTION_KEYS, f"{key}.{name}", given,
              f"unknown key; allowed here: {', '.join(_DISTRIBUTION_KEYS)}")
    cls = distribution_class(value.get("dist", "fixed"), key)
    # YAML and overrides merge key by key, so a distribution that replaces another (a
    # triangular by an exponential, say) arrives carrying the old one's parameters: only the
    # kind's own are used, but each given must still be a number.
    numbers = {name: _convert(float | None, given, f"{key}.{name}") for name, given in value.items() if name != "dist"}
    return cls(**{name: numbers.get(name) for name in cls.parameter_names()})


@functools.lru_cache(maxsize=None)
def _type_hints(cls: type) -> dict[str, Any]:
    # Resolving the annotations is the slowest step of building a config; a sweep builds thousands.
    return typing.get_type_hints(cls)


def from_mapping(cls: type, data: Mapping[str, Any], key: str = "") -> Any:
    """Build dataclass ``cls`` from a plain mapping, rejecting unknown keys and wrong types."""
    hints = _type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if not f.name.startswith("_")]
    kwargs = {}
    for k, v in data.items():
        path = f"{key}.{k}" if key else str(k)
        if k not in names:
            raise ConfigError(path, v, f"unknown key; allowed here: {', '.join(names)}")
        kwargs[k] = _convert(hints[k], v, path)
    for f in dataclasses.fields(cls):
        required = f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        check(not required or f.name in kwargs, f"{key}.{f.name}" if key else f.name, None, "required")
    return cls(**kwargs)


def leaves(cfg: Any, prefix: str = "") -> dict[str, Any]:
    """Every parameter of a config by dotted key; a distribution or a per-grade set counts
    as one parameter, and each force of a region has its own keys (``forces[0].demand...``)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cfg):
        if f.name.startswith("_"):
            continue
        v = getattr(cfg, f.name)
        if dataclasses.is_dataclass(v) and not isinstance(v, (Distribution, ByGrade)):
            out.update(leaves(v, f"{prefix}{f.name}."))
        elif isinstance(v, tuple) and v and all(isinstance(x, ForceConfig) for x in v):
            for k, item in enumerate(v):
                out.update(leaves(item, f"{prefix}{f.name}[{k}]."))
        else:
            out[f"{prefix}{f.name}"] = v
    return out


def replace_path(cfg: Any, key: str, value: Any) -> Any:
    """A copy of ``cfg`` with dotted ``key`` (as :func:`leaves` names it, ``forces[0].demand...``
    included) set to ``value`` (not validated)."""
    head, _, rest = key.partition(".")
    name, indexed, index = head.partition("[")
    if indexed:  # one force of a region
        items = list(getattr(cfg, name))
        k = int(index.rstrip("]"))
        items[k] = replace_path(items[k], rest, value) if rest else value
        return dataclasses.replace(cfg, **{name: tuple(items)})
    inner = replace_path(getattr(cfg, head), rest, value) if rest else value
    return dataclasses.replace(cfg, **{head: inner})


def _schema_has(path: str) -> bool:
    """Whether dotted ``path`` (two parts or more) names a field of the schema."""
    parts = path.split(".")
    return len(parts) > 1 and parts[-1] in allowed_keys(path) and all(
        p in allowed_keys(".".join(parts[: k + 1])) for k, p in enumerate(parts[:-1]))


def normalise_overrides(overrides: Sequence[str]) -> list[str]:
    """Let a plain ``key=value`` set any schema field, even one the composed YAML does not
    hold (a distribution's parameter when its kind changes, say): Hydra wants ``++`` for
    that. Group choices (``demand=large_force``) and explicit prefixes are left alone."""
    out = []
    for o in overrides:
        key, eq, _ = o.partition("=")
        out.append(f"++{o}" if eq and not key.startswith(("+", "~")) and _schema_has(key) else o)
    return out


def allowed_keys(path: str) -> list[str]:
    """The keys the schema allows beside the last part of a dotted ``path``."""
    cls: Any = SimConfig
    for part in path.split(".")[:-1]:
        hints = typing.get_type_hints(cls) if dataclasses.is_dataclass(cls) else {}
        if part not in hints or not dataclasses.is_dataclass(hints[part]):
            break
        cls = hints[part]
    if issubclass(cls, Distribution):  # any kind's parameters: an override may change the kind
        return list(_DISTRIBUTION_KEYS)
    return [f.name for f in dataclasses.fields(cls) if not f.name.startswith("_")]


def changed_parameters(baseline: SimConfig, scenario: SimConfig) -> list[tuple[str, Any, Any]]:
    """(key, baseline value, scenario value) for every parameter the scenario changes; a key
    only one of them has (a region's forces against a single force) has None on the other side."""
    a, b = leaves(baseline), leaves(scenario)
    keys = [*a, *(k for k in b if k not in a)]
    return [(k, a.get(k), b.get(k)) for k in keys if a.get(k) != b.get(k) and k != "scenario"]
