"""Sweep designs: which configurations a sweep runs, composed once and varied by merging.

A sweep file (``configs/sweep/NAME.yaml``) is an ordinary config overlay (``casesim -m
+sweep=NAME`` uses it with Hydra's own sweeper) whose ``hydra.sweeper.params`` list a grid in
Hydra's sweep syntax (``16,20,24``, ``range(10,30,5)``), and whose optional ``sweep:`` block
asks for a sampled design over parameter ranges and sets the sweep runner's batch size. A
sampled design is a Latin hypercube (``lhs``) or a scrambled Sobol' sequence (``sobol``), both
from ``scipy.stats.qmc`` and analysed by regression; Saltelli's scheme for Sobol' indices
(``saltelli``) or Morris' elementary-effect trajectories (``morris``), both drawn by SALib
(Herman & Usher 2017) and analysed by it (``sim.results.sensitivity``). A two-level design
draws uncertain parameters from their distributions instead (``sweep.uncertainty``,
``sim.config.uncertainty``). ``casesim-sweep`` composes the
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

import contextlib
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

SAMPLE_METHODS = ("lhs", "sobol", "saltelli", "morris")
"""The sampled designs: ``lhs`` a Latin hypercube and ``sobol`` a scrambled Sobol' sequence
(``scipy.stats.qmc``: space-filling points for regression indices); ``saltelli`` the
Saltelli/Sobol' scheme whose points give Sobol' first-order and total indices, and ``morris``
Morris' one-at-a-time trajectories whose points give elementary effects (both ``SALib``)."""

_SIZE_KEYS = {"lhs": ("points",), "sobol": ("points",), "saltelli": ("base_samples",),
              "morris": ("trajectories", "levels", "candidates")}
"""The keys that size each method's design, besides ``method``, ``seed`` and ``ranges``."""
_COMMON_KEYS = ("method", "seed", "ranges")
MAX_SEED = 2**32 - 1  # the most numpy's legacy generator takes, which older SALib releases seed
_BOUNDARY = 1e-9  # a unit value this close below a whole-number boundary counts as on it
MAX_DESIGN_POINTS = 1_000_000
MAX_CANDIDATES = 1_000
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
    """A sampled design of ``points`` rows over the parameters in ``ranges`` ((dotted key,
    low, high, whole): a range whose ends are both whole numbers is sampled as whole numbers).

    ``points`` is the number of rows of every method: given for ``lhs`` and ``sobol``;
    ``base_samples`` x (parameters + 2) for ``saltelli`` (N base samples, a power of two:
    matrices A and B and one A-with-a-column-of-B a parameter); ``trajectories`` x
    (parameters + 1) for ``morris`` (r trajectories on a grid of ``levels`` levels, each
    moving one parameter at a time; with ``candidates`` > 0, the r chosen from that many
    for their spread, Campolongo et al. 2007)."""

    method: str = "lhs"
    points: int = 64
    seed: int = 1
    ranges: tuple[tuple[str, float, float, bool], ...] = ()
    base_samples: int = 0
    trajectories: int = 0
    levels: int = 4
    candidates: int = 0

    @property
    def names(self) -> list[str]:
        """The sampled parameters' dotted keys, in the design's column order."""
        return [key for key, *_ in self.ranges]

    def as_block(self) -> dict[str, Any]:
        """The ``sweep.sample`` block that gives this design (as ``design.json`` records it):
        ``sample_spec(spec.as_block()) == spec``."""
        block: dict[str, Any] = {"method": self.method, "seed": self.seed}
        for key in _SIZE_KEYS[self.method]:
            if key != "candidates" or self.candidates:
                block[key] = getattr(self, key)
        block["ranges"] = {key: ([int(lo), int(hi)] if whole else [lo, hi]) for key, lo, hi, whole in self.ranges}
        return block


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


SAMPLE_OVERRIDE = "sweep.sample."
"""The prefix of a command-line value for a key of the sweep file's ``sweep.sample`` block
(``sweep.sample.trajectories=4``): it changes the design, not the configuration."""


def read_spec(name: str, sample_overrides: Sequence[str] = ()) -> SweepSpec:
    """Parse the grid (``hydra.sweeper.params``) and the ``sweep:`` block of a sweep file,
    with ``sample_overrides`` (``sweep.sample.KEY=VALUE``, ``sweep.sample.ranges.KEY=[low,
    high]``) set into its ``sweep.sample`` block first."""
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
    sample_block = _with_sample_overrides(name, block.get("sample"), sample_overrides)
    sample = _sample_spec(sample_block) if sample_block else None
    uncertainty = uncertainty_spec(block["uncertainty"]) if "uncertainty" in block else None
    if sample is not None and uncertainty is not None:
        raise ConfigError("sweep.uncertainty", "(given with sweep.sample)",
                          "one design a sweep: a sample over ranges (sensitivity) or draws of uncertain parameters")
    if not grid and sample is None and uncertainty is None:
        raise ConfigError("sweep", name, "lists no grid (hydra.sweeper.params), no sweep.sample and no "
                                         "sweep.uncertainty: nothing to vary")
    if grid and sample is not None and sample.method in ("saltelli", "morris"):
        # Their estimators pair the design's own rows: crossed with a grid, every row would
        # stand for several points.
        raise ConfigError("hydra.sweeper.params", ",".join(k for k, _ in grid),
                          f"a {sample.method} design cannot be crossed with a grid: fix those keys "
                          "(key=value) and run one sweep per value")
    return SweepSpec(name, grid, sample, float(batch), uncertainty)


def _with_sample_overrides(name: str, block: Mapping[str, Any] | None,
                           overrides: Sequence[str]) -> dict[str, Any] | None:
    """The ``sweep.sample`` block with each ``sweep.sample.KEY=VALUE`` of ``overrides`` set."""
    if not overrides:
        return dict(block) if block else None
    if not block:
        key, _, value = overrides[0].partition("=")
        raise ConfigError(key, value, f"configs/sweep/{name}.yaml has no sweep.sample block to change")
    out = copy.deepcopy(dict(block))
    for text in overrides:
        key, eq, value = text.partition("=")
        path = key[len(SAMPLE_OVERRIDE):]
        if not eq or not path:
            raise ConfigError(key, value, "sweep.sample.KEY=VALUE, e.g. sweep.sample.seed=2")
        if path.startswith("ranges."):
            out.setdefault("ranges", {})
            out["ranges"] = {**(out["ranges"] or {}), path[len("ranges."):]: yaml_value(value)}
        else:
            out[path] = yaml_value(value)
    return out


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


def _whole(key: str, value: Any, least: int, what: str) -> int:
    """``value`` as a whole number >= ``least``; ConfigError naming ``key`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ConfigError(key, value, f"{what}: a whole number >= {least}")
    return value


def _sample_spec(block: Mapping[str, Any]) -> SampleSpec:
    methods_keys = sorted({k for keys in _SIZE_KEYS.values() for k in keys})
    unknown = sorted(set(block) - set(_COMMON_KEYS) - set(methods_keys))
    if unknown:
        raise ConfigError(f"sweep.sample.{unknown[0]}", block[unknown[0]],
                          f"unknown key; allowed: {', '.join([*_COMMON_KEYS, *methods_keys])}")
    method = block.get("method", "lhs")
    if method not in SAMPLE_METHODS:
        raise ConfigError("sweep.sample.method", method, f"one of {', '.join(SAMPLE_METHODS)}")
    for key in sorted(set(block) & set(methods_keys) - set(_SIZE_KEYS[method])):
        raise ConfigError(f"sweep.sample.{key}", block[key], f"not a key of method {method}, which takes "
                                                             f"{', '.join([*_COMMON_KEYS, *_SIZE_KEYS[method]])}")
    seed = block.get("seed", 1)
    # Older SALib releases (before numpy Generators) take a Morris seed of 0 as none: a new design each time.
    least_seed = 1 if method == "morris" else 0
    if isinstance(seed, bool) or not isinstance(seed, int) or not least_seed <= seed <= MAX_SEED:
        raise ConfigError("sweep.sample.seed", seed, f"a whole number from {least_seed} to {MAX_SEED}")
    ranges = []
    for k, r in (block.get("ranges") or {}).items():
        if not (isinstance(r, (list, tuple)) and len(r) == 2 and all(isinstance(x, (int, float)) for x in r) and r[0] < r[1]):
            raise ConfigError(f"sweep.sample.ranges.{k}", r, "[low, high] with low < high")
        ranges.append((str(k), float(r[0]), float(r[1]), all(isinstance(x, int) for x in r)))
    if not ranges:
        raise ConfigError("sweep.sample.ranges", None, "at least one parameter: KEY: [low, high]")
    d = len(ranges)
    if method in ("lhs", "sobol"):
        points = _whole("sweep.sample.points", block.get("points", 64), 2, "design points")
        if method == "sobol" and points & (points - 1):
            raise ConfigError("sweep.sample.points", points, "a power of two for a Sobol design (e.g. 64, 128)")
        return _within_size(SampleSpec(method, points, seed, tuple(ranges)), "points", points)
    if method == "saltelli":
        base = _whole("sweep.sample.base_samples", block.get("base_samples", 64), 2, "base samples N")
        if base & (base - 1):
            # The Sobol' sequence behind the scheme keeps its balance only at powers of two.
            raise ConfigError("sweep.sample.base_samples", base,
                              f"a power of two (e.g. 32, 64, 128: N x {d + 2} design points)")
        return _within_size(SampleSpec(method, base * (d + 2), seed, tuple(ranges), base_samples=base), "base_samples",
                            base)
    trajectories = _whole("sweep.sample.trajectories", block.get("trajectories", 10), 2,
                          "trajectories r (a spread of elementary effects needs two)")
    levels = _whole("sweep.sample.levels", block.get("levels", 4), 2, "grid levels")
    if levels % 2:
        # An odd grid makes the step reach some levels more often than others (Morris 1991).
        raise ConfigError("sweep.sample.levels", levels, "an even whole number >= 2 (e.g. 4, 6, 8)")
    candidates = block.get("candidates", 0)
    if candidates:
        _whole("sweep.sample.candidates", candidates, trajectories + 1,
               "candidate trajectories the r are chosen from (0: none, take r as drawn)")
        if candidates > MAX_CANDIDATES:
            raise ConfigError("sweep.sample.candidates", candidates,
                              f"at most {MAX_CANDIDATES:,} candidate trajectories (choosing among more takes long)")
    spec = SampleSpec(method, trajectories * (d + 1), seed, tuple(ranges), trajectories=trajectories, levels=levels,
                      candidates=int(candidates))
    return _within_size(spec, "trajectories", trajectories)


def _within_size(spec: SampleSpec, key: str, value: int) -> SampleSpec:
    """``spec``, or ConfigError naming its size ``key`` if it has more than ``MAX_DESIGN_POINTS`` rows."""
    if spec.points > MAX_DESIGN_POINTS:
        raise ConfigError(f"sweep.sample.{key}", value, f"gives {spec.points:,} design points; at most "
                                                        f"{MAX_DESIGN_POINTS:,} (each is a configuration held in memory)")
    return spec


def sample_spec(block: Mapping[str, Any]) -> SampleSpec:
    """The design a ``sweep.sample`` block asks for (as written in a sweep file, or as
    ``design.json`` records it: ``SampleSpec.as_block``); ConfigError naming the key of a
    bad value."""
    return _sample_spec(block)


def salib_problem(spec: SampleSpec) -> dict[str, Any]:
    """The SALib problem of a design: its parameters on the unit interval. Every parameter
    is sampled and analysed on [0, 1] and mapped to its range by ``rows_of``, so a whole-number
    range is rounded the same way in every method, and the analysis can re-derive the
    design exactly from the spec."""
    return {"num_vars": len(spec.ranges), "names": spec.names, "bounds": [[0.0, 1.0]] * len(spec.ranges)}


@contextlib.contextmanager
def numpy_global_random_kept():
    """Run SALib calls without changing the state of numpy's global generator for the caller:
    older SALib releases reseed and draw from it in the Morris sampler and the analyses, and
    the Sobol' analysis still draws from it when given no seed."""
    import numpy as np

    state = np.random.get_state()
    try:
        yield
    finally:
        np.random.set_state(state)


def unit_sample(spec: SampleSpec):
    """The design on the unit hypercube: a (``spec.points`` x parameters) numpy array in the
    order the method defines (for ``saltelli``: per base sample, the row of A, one row per
    parameter of A with that column from B, the row of B; for ``morris``: each trajectory's
    parameters + 1 rows, one parameter moving a step at each). The same spec gives the same
    array."""
    import numpy as np
    from scipy.stats import qmc

    d = len(spec.ranges)
    if spec.method in ("lhs", "sobol"):
        engine = qmc.LatinHypercube(d=d, seed=spec.seed) if spec.method == "lhs" else qmc.Sobol(d=d, seed=spec.seed)
        return engine.random(spec.points)
    problem = salib_problem(spec)
    with numpy_global_random_kept():
        if spec.method == "saltelli":
            from SALib.sample import sobol as saltelli_sample

            # First-order and total indices only: the second-order ones would need N x (2D + 2) rows.
            unit = saltelli_sample.sample(problem, spec.base_samples, calc_second_order=False, scramble=True,
                                          seed=spec.seed)
        else:
            from SALib.sample import morris as morris_sample

            unit = morris_sample.sample(problem, spec.candidates or spec.trajectories, num_levels=spec.levels,
                                        optimal_trajectories=spec.trajectories if spec.candidates else None,
                                        local_optimization=True, seed=spec.seed)
    return np.asarray(unit, dtype=float)


def rows_of(spec: SampleSpec, unit) -> list[dict[str, float]]:
    """The design's rows in the parameters' own units: each unit-interval value ``u`` mapped
    to ``low + u (high - low)``, or for a whole-number range to the whole number
    ``floor(low + u (high - low + 1))`` (at most ``high``), each equally likely under a
    uniform ``u``. Rounding makes a Morris step over a whole-number range uneven: the 4
    levels 0, 1/3, 2/3, 1 of [16, 24] give 16, 19, 22 and 24, so a step of 2/3 moves 6 or 5."""
    rows = []
    for u in unit:
        row = {}
        for (key, lo, hi, whole), x in zip(spec.ranges, u):
            if whole:
                # Morris' levels (k / (levels - 1)) can fall on a boundary between two whole
                # numbers, where a rounding error below it must not drop to the lower one.
                row[key] = int(min(hi, math.floor(lo + x * (hi - lo + 1) + _BOUNDARY)))
            else:
                row[key] = float(lo + x * (hi - lo))
        rows.append(row)
    return rows


def sample_values(spec: SampleSpec) -> list[dict[str, float]]:
    """The sampled design: ``spec.points`` rows over the ranges (``unit_sample`` mapped to the
    ranges by ``rows_of``; scrambled or drawn with ``spec.seed``, so the same spec gives the
    same points)."""
    return rows_of(spec, unit_sample(spec))


def _is_group(key: str) -> bool:
    return "." not in key and (CONFIG_DIR / key).is_dir()


def design_points(name: str, overrides: Sequence[str] = (),
                  replications: ReplicationRule | None = None) -> tuple[SweepSpec, list[DesignPoint]]:
    """Every design point of sweep ``name`` with ``overrides`` on top, validated: a bad
    value anywhere raises ConfigError before anything runs. The grid's points come first
    (every combination, in the order listed), each crossed with the sampled design or the
    outer samples of the uncertain parameters, if any,
    in the design's row order. An override ``sweep.sample.KEY=VALUE`` changes the sweep
    file's ``sweep.sample`` block (``sweep.sample.trajectories=4``) rather than the
    configuration. With ``run.replications=auto`` among the overrides, each point's
    replications are chosen by ``replications`` (default ``ReplicationRule()``), which the
    returned spec holds; a rule given without ``auto`` is refused."""
    sample_overrides = [text for text in overrides if text.startswith(SAMPLE_OVERRIDE)]
    overrides = [text for text in overrides if not text.startswith(SAMPLE_OVERRIDE)]
    spec = read_spec(name, sample_overrides)
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
                                          "change its range there, or with sweep.sample.ranges.KEY=[low, high]")
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
