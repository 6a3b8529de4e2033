"""Sweep designs: which configurations a sweep runs, composed once and varied by merging.

A sweep file (``configs/sweep/NAME.yaml``) is an ordinary config overlay (``casesim -m
+sweep=NAME`` uses it with Hydra's own sweeper) whose ``hydra.sweeper.params`` list a grid in
Hydra's sweep syntax (``16,20,24``, ``range(10,30,5)``), and whose optional ``sweep:`` block
asks for a sampled design over parameter ranges (Latin hypercube or Sobol, from
``scipy.stats.qmc``) or draws of uncertain parameters from their distributions (a two-level
design: ``sweep.uncertainty``, ``sim.config.uncertainty``), and sets the sweep runner's batch
size. ``casesim-sweep`` composes the
base configuration once (once per combination of config-group choices in the grid), then
builds each design point by merging its values into that base with OmegaConf: no fresh
compose per point. Like the rest of the loader, this module may use Hydra and OmegaConf; the
model never sees them.

``run.replications=auto`` on the command line of ``casesim-sweep`` asks for each point's
replications to be chosen by a ``ReplicationRule`` (a precision and a maximum) instead of
fixed: the points are built with ``run.replications`` set to the maximum, and each point's
key hashes the rule as well as the configuration, so a sweep run again with another
precision or maximum writes new points instead of taking another rule's as done. Anywhere
else (``casesim``, a multirun) ``auto`` is refused by the loader.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import itertools
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from ..errors import ConfigError
from . import limits
from .load import CONFIG_DIR, build_config, compose_mapping
from .schema import SimConfig
from .uncertainty import SEED_KEY, UncertaintySpec, outer_samples, uncertainty_spec

SAMPLE_METHODS = ("lhs", "sobol")
AUTO = "auto"
"""The value of ``run.replications`` that asks a sweep to choose each point's replications."""
MAX_AUTO_REPLICATIONS = limits.REPLICATIONS.value
"""The largest ``max_replications`` of a rule: ``run.replications``'s own bound."""


@dataclass(frozen=True)
class ReplicationRule:
    """How a sweep with ``run.replications=auto`` chooses each point's replications: a
    first batch of ``first_replications`` (Hoad et al.'s minimum of ``min_replications``,
    3, and the ``k_limit`` look-ahead replications that can confirm it), then batches of one
    look-ahead more (``k_limit`` replications up to 100, ``k_limit`` % beyond), until the
    point's headline outputs reach a relative half-width of ``precision`` (a fraction of the
    mean; 0.05 = +/- 5 %) of their ``level`` interval, or ``max_replications`` are run. The
    stopping rule is ``sim.results.replication_count.check_precision``."""

    precision: float = 0.05
    max_replications: int = 100
    level: float = 0.95
    k_limit: int = 5
    min_replications: int = 3

    def __post_init__(self) -> None:
        precision, most = self.precision, self.max_replications
        ok = isinstance(precision, (int, float)) and not isinstance(precision, bool) and 0 < precision < 1
        if not ok:  # NaN fails too
            raise ConfigError("precision", precision,
                              "a relative half-width in (0, 1), e.g. 0.05 for ±5 % of the mean")
        for name, value, low, high in (("min_replications", self.min_replications, 2, 100),
                                       ("k_limit", self.k_limit, 0, 100)):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ConfigError(name, value, f"a whole number from {low} to {high}")
        if not (isinstance(self.level, float) and 0 < self.level < 1):
            raise ConfigError("level", self.level, "a confidence level in (0, 1)")
        whole = isinstance(most, int) and not isinstance(most, bool)
        if not (whole and self.first_replications <= most <= MAX_AUTO_REPLICATIONS):
            raise ConfigError("max_replications", most, self.max_allowed())

    @property
    def first_replications(self) -> int:
        """The first batch: the fewest replications that can confirm a precision (up to
        n = 100 the look-ahead is ``k_limit`` replications)."""
        return self.min_replications + self.k_limit

    def max_allowed(self) -> str:
        """What a maximum may be, as an error message says it."""
        return (f"a whole number from {self.first_replications} ({self.min_replications} replications, Hoad et al.'s "
                f"minimum, and a look-ahead of {self.k_limit} to confirm them) to {MAX_AUTO_REPLICATIONS:,.0f}")

    def record(self) -> dict[str, Any]:
        """The rule as design.json and point.json record it."""
        return {**dataclasses.asdict(self), "first_replications": self.first_replications}


def asks_auto(overrides: Sequence[str]) -> bool:
    """Whether ``overrides`` set ``run.replications=auto`` (the last value given wins)."""
    auto = False
    for text in overrides:
        key, eq, value = text.partition("=")
        if eq and key.lstrip("+~") == "run.replications":
            auto = value.strip() == AUTO
    return auto


@dataclass(frozen=True)
class SampleSpec:
    """A sampled design: ``points`` draws of the parameters in ``ranges`` (dotted key ->
    [low, high]; a range whose ends are both whole numbers is sampled as whole numbers)."""

    method: str = "lhs"
    points: int = 64
    seed: int = 1
    ranges: tuple[tuple[str, float, float, bool], ...] = ()


@dataclass(frozen=True)
class SweepSpec:
    """What ``configs/sweep/NAME.yaml`` asks for, besides its config overrides."""

    name: str
    grid: tuple[tuple[str, tuple[str, ...]], ...] = ()
    sample: SampleSpec | None = None
    batch_seconds: float = 1.0
    uncertainty: UncertaintySpec | None = None
    replications: ReplicationRule | None = None  # run.replications=auto on the command line


@dataclass
class DesignPoint:
    """One configuration of a sweep: its parameters (as given in the design) and config."""

    params: dict[str, Any]
    config: SimConfig
    key: str = field(default="")


def config_hash(cfg: SimConfig) -> str:
    """A short stable hash of a resolved configuration (how it is run excluded: workers,
    cluster, progress bar), naming the design point's folder."""
    data = dataclasses.asdict(dataclasses.replace(cfg, run=cfg.run.results_only()))
    # Keys added to run control since hashes were first written are left out, so that a
    # sweep folder written before keeps its points' names (and resumes).
    for added in ("scheduler", "local_cluster"):
        del data["run"][added]
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def point_key(cfg: SimConfig, rule: ReplicationRule | None = None) -> str:
    """A design point's key: ``config_hash(cfg)``, or, for a point whose replications
    ``rule`` chooses, a short hash of that and the rule."""
    if rule is None:
        return config_hash(cfg)
    text = json.dumps({"config": config_hash(cfg), "replications": AUTO, **rule.record()}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


SWEEP_NAME = re.compile(r"[A-Za-z0-9_-]+")
"""A sweep's name: a plain file name, so that it stays inside configs/sweep/ and its default
output folder inside outputs/sweep/."""


def sweep_file(name: str):
    """The path of sweep ``name`` in ``configs/sweep/``; ConfigError if there is none, or if
    the name is not a plain name (letters, digits, _ and -).

    >>> sweep_file("smoke").name
    'smoke.yaml'
    >>> sweep_file("../../x")
    Traceback (most recent call last):
    ...
    sim.errors.ConfigError: sweep='../../x': a plain name (letters, digits, _ and -); sweeps: ...
    """
    known = sorted(p.stem for p in (CONFIG_DIR / "sweep").glob("*.yaml"))
    if not SWEEP_NAME.fullmatch(str(name)):
        raise ConfigError("sweep", name, f"a plain name (letters, digits, _ and -); sweeps: {', '.join(known)}")
    path = CONFIG_DIR / "sweep" / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError("sweep", name, f"no configs/sweep/{name}.yaml; sweeps: {', '.join(known)}")
    return path


def read_spec(name: str) -> SweepSpec:
    """Parse the grid (``hydra.sweeper.params``) and the ``sweep:`` block of a sweep file."""
    from omegaconf import OmegaConf

    raw = OmegaConf.to_container(OmegaConf.load(sweep_file(name)), resolve=False) or {}
    params = ((raw.get("hydra") or {}).get("sweeper") or {}).get("params") or {}
    grid = tuple((str(k), tuple(_sweep_values(str(k), v))) for k, v in params.items())
    block = raw.get("sweep") or {}
    unknown = sorted(set(block) - {"sample", "batch_seconds", "uncertainty"})
    if unknown:
        raise ConfigError(f"sweep.{unknown[0]}", block[unknown[0]],
                          "unknown key; allowed here: sample, batch_seconds, uncertainty")
    batch = block.get("batch_seconds", 1.0)
    if not isinstance(batch, (int, float)) or batch <= 0:
        raise ConfigError("sweep.batch_seconds", batch, "seconds of simulation per task: a number > 0")
    sample = _sample_spec(block["sample"]) if block.get("sample") else None
    uncertainty = uncertainty_spec(block["uncertainty"]) if "uncertainty" in block else None
    if sample is not None and uncertainty is not None:
        raise ConfigError("sweep.uncertainty", "(given with sweep.sample)",
                          "one design a sweep: a sample over ranges (sensitivity) or draws of uncertain parameters")
    if not grid and sample is None and uncertainty is None:
        raise ConfigError("sweep", name, "lists no grid (hydra.sweeper.params), no sweep.sample and no "
                                         "sweep.uncertainty: nothing to vary")
    return SweepSpec(name, grid, sample, float(batch), uncertainty)


def _sweep_values(key: str, value: Any) -> list[str]:
    """The values of one grid parameter, parsed with Hydra's own override grammar."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    text = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
    try:
        o = OverridesParser.create().parse_overrides([f"{key}={text}"])[0]
    except HydraException as exc:
        raise ConfigError(f"hydra.sweeper.params.{key}", text, " ".join(str(exc).split())) from None
    return list(o.sweep_string_iterator()) if o.is_sweep_override() else [o.get_value_element_as_str()]


def _sample_spec(block: Mapping[str, Any]) -> SampleSpec:
    unknown = sorted(set(block) - {"method", "points", "seed", "ranges"})
    if unknown:
        raise ConfigError(f"sweep.sample.{unknown[0]}", block[unknown[0]], "unknown key; allowed: method, points, seed, ranges")
    method = block.get("method", "lhs")
    if method not in SAMPLE_METHODS:
        raise ConfigError("sweep.sample.method", method, f"one of {', '.join(SAMPLE_METHODS)}")
    points = block.get("points", 64)
    if not isinstance(points, int) or points < 2:
        raise ConfigError("sweep.sample.points", points, "a whole number >= 2")
    if method == "sobol" and points & (points - 1):
        raise ConfigError("sweep.sample.points", points, "a power of two for a Sobol design (e.g. 64, 128)")
    ranges = []
    for k, r in (block.get("ranges") or {}).items():
        if not (isinstance(r, (list, tuple)) and len(r) == 2 and all(isinstance(x, (int, float)) for x in r) and r[0] < r[1]):
            raise ConfigError(f"sweep.sample.ranges.{k}", r, "[low, high] with low < high")
        ranges.append((str(k), float(r[0]), float(r[1]), all(isinstance(x, int) for x in r)))
    if not ranges:
        raise ConfigError("sweep.sample.ranges", None, "at least one parameter: KEY: [low, high]")
    return SampleSpec(method, points, int(block.get("seed", 1)), tuple(ranges))


def sample_values(spec: SampleSpec) -> list[dict[str, float]]:
    """The sampled design: ``spec.points`` rows over the ranges (scipy.stats.qmc, scrambled
    with ``spec.seed``, so the same spec gives the same points)."""
    from scipy.stats import qmc

    d = len(spec.ranges)
    engine = qmc.LatinHypercube(d=d, seed=spec.seed) if spec.method == "lhs" else qmc.Sobol(d=d, seed=spec.seed)
    unit = engine.random(spec.points)
    rows = []
    for u in unit:
        row = {}
        for (key, lo, hi, whole), x in zip(spec.ranges, u):
            if whole:  # each whole number in [lo, hi] equally likely
                row[key] = int(min(hi, math.floor(lo + x * (hi - lo + 1))))
            else:
                row[key] = float(lo + x * (hi - lo))
        rows.append(row)
    return rows


def _is_group(key: str) -> bool:
    return "." not in key and (CONFIG_DIR / key).is_dir()


def design_points(name: str, overrides: Sequence[str] = (),
                  replications: ReplicationRule | None = None) -> tuple[SweepSpec, list[DesignPoint]]:
    """Every design point of sweep ``name`` with ``overrides`` on top, validated: a bad
    value anywhere raises ConfigError before anything runs. The grid's points come first
    (every combination, in the order listed), each crossed with the sampled design or the
    outer samples of the uncertain parameters, if any. With ``run.replications=auto`` among the overrides, each point's replications are
    chosen by ``replications`` (default ``ReplicationRule()``), which the returned spec
    holds; a rule given without ``auto`` is refused."""
    spec = read_spec(name)
    if asks_auto(overrides):
        rule = replications or ReplicationRule()
        # Composed with the most replications the rule may run; the key hashes the rule too.
        overrides = [text for text in overrides if text.partition("=")[0].lstrip("+~") != "run.replications"]
        overrides.append(f"run.replications={rule.max_replications}")
        spec = dataclasses.replace(spec, replications=rule)
    elif replications is not None:
        raise ConfigError("run.replications", next((text.partition("=")[2] for text in reversed(overrides)
                                                     if text.partition("=")[0].lstrip("+~") == "run.replications"),
                                                    None), "auto, for a sweep given a precision or a maximum")
    # As Hydra's sweeper does: a command-line value (or list of values) for a grid key
    # replaces the grid's; one for a sampled key would be overwritten by the sample: refused.
    grid, fixed = dict(spec.grid), []
    sampled = {k for k, *_ in spec.sample.ranges} if spec.sample else set()
    uncertain = set(spec.uncertainty.keys) if spec.uncertainty else set()
    for text in overrides:
        key, eq, value = text.partition("=")
        key = key.lstrip("+~")
        if eq and key in sampled:
            raise ConfigError(key, value, f"varied by sweep.sample.ranges in configs/sweep/{name}.yaml: "
                                          "change its range there")
        if eq and key in uncertain:
            where = ("sweep.uncertainty.seed (sample i runs with seed + i)" if key == SEED_KEY else
                     "sweep.uncertainty.parameters")
            raise ConfigError(key, value, f"drawn for each outer sample of configs/sweep/{name}.yaml: change {where} there")
        if eq and key in grid:
            grid[key] = tuple(_sweep_values(key, value))
        else:
            fixed.append(text)
    samples = (sample_values(spec.sample) if spec.sample else
               outer_samples(spec.uncertainty) if spec.uncertainty else [{}])
    return spec, build_points(list(grid.items()), samples, [f"+sweep={name}", *fixed], rule=spec.replications)


def parse_override(text: str):
    """Override ``text`` as Hydra's grammar reads it (a ``hydra`` ``Override``: key, value,
    whether it sweeps); ConfigError naming the key if it does not parse."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    try:
        return OverridesParser.create().parse_overrides([text])[0]
    except HydraException as exc:
        key, _, value = text.partition("=")
        raise ConfigError(key.lstrip("+~"), value, " ".join(str(exc).split())) from None


def multirun_points(overrides: Sequence[str], config_name: str = "config",
                    config_dir: str | Path | None = None) -> list[DesignPoint]:
    """The jobs ``casesim -m OVERRIDES`` will run, validated the same way (a grid preset
    named by ``+sweep=NAME`` included), so a bad value fails before the first job;
    ``config_name`` and ``config_dir`` as ``--config-name`` and ``--config-dir`` (see
    ``sim.config.load.compose_mapping``)."""
    grid: dict[str, tuple[str, ...]] = {}
    preset: dict[str, tuple[str, ...]] = {}
    fixed: list[str] = []
    preset_keys_given: set[str] = set()
    for text in overrides:
        o = parse_override(text)
        key = o.key_or_group
        if key.startswith("hydra.") or key == "hydra":
            continue
        if o.is_sweep_override():
            grid[key] = tuple(o.sweep_string_iterator())
        else:
            fixed.append(text)
            preset_keys_given.add(key)
            if key == "sweep":
                spec = read_spec(o.get_value_element_as_str())
                if spec.sample is not None:
                    raise ConfigError("sweep", spec.name, "has a sampled design, which Hydra's sweeper cannot run: "
                                      f"use casesim-sweep {spec.name}")
                preset = dict(spec.grid)
    # As Hydra's sweeper does: the command line's values for a key replace the preset's
    # (a single value too: it is applied after the preset's in each job).
    preset = {k: v for k, v in preset.items() if k not in preset_keys_given}
    return build_points(list({**preset, **grid}.items()), [{}], fixed, config_name, config_dir)


def build_points(grid: Sequence[tuple[str, Sequence[str]]], samples: Sequence[Mapping[str, Any]],
                 overrides: Sequence[str], config_name: str = "config",
                 config_dir: str | Path | None = None, rule: ReplicationRule | None = None) -> list[DesignPoint]:
    """Each combination of the ``grid`` (key, values) crossed with each of ``samples``,
    on top of ``overrides`` (composed from ``config_name``, see ``compose_mapping``): the
    base is composed once per combination of config-group choices, and each point's values
    are set into a copy of it. A point's key is its configuration's hash, and the ``rule``'s
    too if its replications are chosen by one (``point_key``)."""
    grid_keys = [k for k, _ in grid]
    combos = [dict(zip(grid_keys, values)) for values in itertools.product(*(v for _, v in grid))] or [{}]
    bases: dict[tuple, dict] = {}
    points: list[DesignPoint] = []
    seen: set[str] = set()
    sections: dict[Any, Any] = {}  # equal sections of different points shared, not copied
    for combo in combos:
        groups = tuple((k, v) for k, v in combo.items() if _is_group(k))
        if groups not in bases:  # compose once per combination of config-group choices
            data = compose_mapping([*overrides, *[f"{k}={v}" for k, v in groups]], config_name, config_dir)
            data.pop("sweep", None)
            bases[groups] = data
        values = {k: yaml_value(v) for k, v in combo.items() if not _is_group(k)}
        for sample in samples:
            changes = {**values, **sample}
            where = ", ".join([f"{k}={v}" for k, v in changes.items()] + [f"{k}={v}" for k, v in groups]) or "the base"
            try:
                cfg = build_config(_with_values(bases[groups], changes))
            except ConfigError as exc:
                raise ConfigError(exc.key, exc.value, f"{exc.allowed} (design point {where})") from None
            cfg = dataclasses.replace(cfg, run=cfg.run.results_only())
            key = point_key(cfg, rule)
            if key in seen:  # two design points that resolve to one configuration run once
                continue
            seen.add(key)
            # Points differ in a few keys: keeping one copy of each distinct section keeps a
            # design of thousands of points small.
            cfg = dataclasses.replace(cfg, **{f.name: sections.setdefault(getattr(cfg, f.name), getattr(cfg, f.name))
                                              for f in dataclasses.fields(cfg)})
            params = {**{k: yaml_value(v) for k, v in combo.items()}, **sample}
            points.append(DesignPoint(copy.deepcopy(params), cfg, key))
    return points


def _with_values(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict:
    """A copy of the composed (resolved, plain) ``base`` with each dotted key set, as an
    OmegaConf merge of the same dotlist would: a mapping value merges into the mapping it
    replaces, anything else replaces. Far cheaper than a merge per point."""
    out = copy.deepcopy(dict(base))
    for dotted, value in changes.items():
        node = out
        *parents, last = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(dotted, value, f"{part!r} is not a section")
        old = node.get(last)
        node[last] = {**old, **value} if isinstance(old, dict) and isinstance(value, Mapping) else copy.deepcopy(value)
    return out


@functools.lru_cache(maxsize=4096)
def _yaml_value_cached(text: str) -> Any:
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.from_dotlist([f"v={text}"]))["v"]


def yaml_value(text: str) -> Any:
    """A grid value as YAML would read it (16 -> int, 0.5 -> float, names stay strings)."""
    return copy.deepcopy(_yaml_value_cached(text))
