"""Random values for every config key: a config, or one line of ConfigError, never a traceback.

For every parameter of the composed config (``sim.config.convert.leaves``; a distribution's
kind and parameters, and a per-grade set's grades, one by one), values of the right type and
of wrong ones (huge and tiny numbers, NaN, infinities, negatives, strings, booleans, lists,
mappings, null) are set on a tiny quick config. Loading must either give a validated config,
which then simulates without error (one run for each key, if it is small enough to be
quick), or raise ConfigError with one line; any other exception is a defect. The draws are
derandomized, so every run (and CI) tries the same values.
"""

from __future__ import annotations

import copy
import math
import typing
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.config.convert import leaves
from sim.config.load import build_config, compose_mapping
from sim.config.memory import memory_estimate
from sim.config.schema import ByGrade, SimConfig
from sim.core.distributions import DIST_KINDS, DISTRIBUTIONS, PARAMETER_NAMES, Distribution
from sim.domain import BACKLOG_STAGES, GRADES
from sim.errors import ConfigError

QUICK = ["run.horizon_days=30", "run.replications=1", "run.progress=false"]
BASE_CONFIG = sim.load_config(QUICK)
BASE_MAPPING = compose_mapping(QUICK)


def _fuzzed_keys(cfg: SimConfig) -> list[str]:
    """Every leaf key; a distribution's kind and each parameter, and a per-grade set's grades,
    as keys of their own too."""
    keys = []
    for key, value in leaves(cfg).items():
        keys.append(key)
        if isinstance(value, Distribution):
            keys += [f"{key}.{name}" for name in ("dist", *PARAMETER_NAMES)]
        elif isinstance(value, ByGrade):
            keys += [f"{key}.{grade}" for grade in GRADES]
    return keys


KEYS = _fuzzed_keys(BASE_CONFIG)

SPECIAL_NUMBERS = [0, 1, -1, 0.5, -0.5, 1e-300, 5e-324, 1e15, 1e300, -1e300, 2**53 + 1, 2**63, 10**400,
                   36_525, 100_000, 1e9, math.nan, math.inf, -math.inf]
TEXT = st.text(alphabet=st.sampled_from(list("abcVHML_-. 0123456789")), max_size=10)
SCALARS = st.one_of(
    st.booleans(), st.none(), TEXT,
    st.integers(min_value=-1_000, max_value=1_000), st.integers(),
    st.floats(), st.floats(min_value=0, max_value=100), st.sampled_from(SPECIAL_NUMBERS),
    st.sampled_from([*GRADES, *BACKLOG_STAGES, *DIST_KINDS, "X"]),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.lists(st.sampled_from([*GRADES, "X"]), max_size=4),
    st.dictionaries(st.sampled_from(["VH", "dist", "mean", "low", "high", "name", "age_days", "x"]), SCALARS,
                    max_size=3),
)


NUMBERS = st.one_of(st.floats(), st.floats(min_value=0, max_value=50), st.sampled_from(SPECIAL_NUMBERS))


@st.composite
def distributions(draw) -> dict[str, Any]:
    """A distribution as the YAML gives one: a kind and each of its parameters."""
    kind = draw(st.sampled_from(DIST_KINDS))
    names = DISTRIBUTIONS[kind].parameter_names()
    return {"dist": kind, **{name: draw(NUMBERS) for name in names}}


def _right_type(key: str) -> st.SearchStrategy:
    """Values of the type the key takes (so that the checks past the type are reached too)."""
    name = key.rsplit(".", 1)[-1]
    if name == "dist":
        return st.sampled_from(DIST_KINDS)
    if name in PARAMETER_NAMES or name in GRADES:
        return NUMBERS
    value = leaves(BASE_CONFIG).get(key)
    if isinstance(value, Distribution):
        return distributions()
    if isinstance(value, ByGrade):
        return st.fixed_dictionaries({grade: NUMBERS for grade in GRADES})
    if key == "demand.initial_backlog.cases":
        return st.lists(st.fixed_dictionaries({"age_days": NUMBERS, "stage": st.sampled_from([*BACKLOG_STAGES, "x"]),
                                               "assigned_grade": st.sampled_from([*GRADES, None, "X"])}), max_size=3)
    if key == "forces":
        return st.lists(st.fixed_dictionaries({"name": TEXT}, optional={"staffing": st.fixed_dictionaries(
            {"investigators": st.integers(min_value=-2, max_value=40)})}), max_size=3)
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.one_of(st.integers(min_value=-5, max_value=50), st.integers(), st.sampled_from(SPECIAL_NUMBERS))
    if isinstance(value, float) or value is None:
        return NUMBERS
    if isinstance(value, tuple):
        return st.lists(st.sampled_from([*GRADES, "X"]), max_size=4)
    return TEXT


def _with(mapping: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """A copy of the composed ``mapping`` with dotted ``key`` set to ``value``."""
    out = copy.deepcopy(mapping)
    *path, last = key.split(".")
    node = out
    for part in path:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[last] = value
    return out


def _quick_to_run(cfg: SimConfig) -> bool:
    """Whether ``cfg`` simulates in well under a second (a sample of the configs accepted)."""
    review = cfg.stages.review
    return (cfg.run.horizon_days <= 120 and cfg.run.replications <= 2 and not cfg.forces
            and cfg.expected_cases() <= 3_000 and memory_estimate(cfg).data_bytes() <= 50 * 2**20
            and (review.analyst_cases_per_review == 0 or review.analyst_interval_days >= 0.5))


def _accepts_or_refuses_in_one_line(load: typing.Callable[[], SimConfig]) -> SimConfig | None:
    try:
        cfg = load()
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(exc), repr(exc)
        return None
    assert isinstance(cfg, SimConfig)
    return cfg


SIMULATED: set[str] = set()
PROPERTY = settings(max_examples=8, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("key", KEYS)
@PROPERTY
@given(data=st.data())
def test_every_key_takes_a_value_or_refuses_it_in_one_line(key, data):
    value = data.draw(st.one_of(_right_type(key), VALUES), label=key)
    cfg = _accepts_or_refuses_in_one_line(lambda: build_config(_with(BASE_MAPPING, key, value)))
    if cfg is not None and cfg != BASE_CONFIG and key not in SIMULATED and _quick_to_run(cfg):
        SIMULATED.add(key)  # one run a key keeps the test quick
        results = sim.simulate(cfg, workers=1, progress=False)
        assert (results.cases["arrival_day"] < cfg.run.horizon_days).all()
        assert len(results.summary()) > 0


def _override(value: Any) -> str:
    """``value`` written as on the command line (Hydra's override grammar)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, list):
        return "[" + ",".join(_override(v) for v in value) + "]"
    return "{" + ",".join(f"{k}:{_override(v)}" for k, v in value.items()) + "}"


@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(KEYS), data=st.data())
def test_an_override_on_the_command_line_gives_a_config_or_one_line(key, data):
    value = data.draw(st.one_of(_right_type(key), VALUES), label=key)
    _accepts_or_refuses_in_one_line(lambda: sim.load_config([*QUICK, f"{key}={_override(value)}"]))


def _yaml_keys(mapping: dict[str, Any], prefix: str = "") -> list[str]:
    """Every dotted key the composed YAML sets (a non-empty mapping's keys, not itself)."""
    keys = []
    for name, value in mapping.items():
        if isinstance(value, dict) and value:
            keys += _yaml_keys(value, f"{prefix}{name}.")
        else:
            keys.append(f"{prefix}{name}")
    return keys


def test_the_keys_fuzzed_are_every_parameter():
    # Every key the shipped YAML sets is fuzzed, itself or as part of the distribution or
    # per-grade set it belongs to; those are reached one by one too.
    yaml_keys = _yaml_keys(BASE_MAPPING)
    assert len(yaml_keys) > 100
    assert [key for key in yaml_keys if not any(key == k or key.startswith(f"{k}.") for k in KEYS)] == []
    assert {"stages.research.effort_hours.cv", "targets_days.VH", "run.horizon_days", "forces"} <= set(KEYS)
