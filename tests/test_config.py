"""Schema and loader: defaults, composition of every group option, validation messages."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from pathlib import Path

import pytest

import sim
from sim.config.backlog import read_backlog_csv
from sim.config.checks import (CHECK, check_at_least_one, check_declared, check_grades, check_positive, grade_list,
                               probability)
from sim.config.convert import leaves, replace_path
from sim.config.load import CONFIG_DIR
from sim.config.schema import FORCE_SECTIONS, SimConfig
from sim.core.distributions import Dist, Distribution, Exponential, Uniform
from sim.errors import ConfigError, check_non_negative, check_probability

GROUPS = [p.name for p in CONFIG_DIR.iterdir() if p.is_dir()]
ADDED_GROUPS = {"validation", "sweep"}  # not in the defaults list: added with +group=option


def test_yaml_defaults_equal_dataclass_defaults():
    # Two statements of the baseline must not drift apart.
    assert sim.load_config() == SimConfig().validate()


@pytest.mark.parametrize("group,option", [(g, p.stem) for g in GROUPS for p in sorted((CONFIG_DIR / g).glob("*.yaml"))])
def test_every_group_option_composes_and_validates(group, option):
    prefix = "+" if group in ADDED_GROUPS else ""
    cfg = sim.load_config([f"{prefix}{group}={option}"])
    assert isinstance(cfg, SimConfig)


def test_group_options_differ_from_baseline():
    base = sim.load_config()
    for group in GROUPS:
        if group in ADDED_GROUPS:
            continue
        for p in (CONFIG_DIR / group).glob("*.yaml"):
            cfg = sim.load_config([f"{group}={p.stem}"])
            default = {"run": "default", "calendar": "office", "demand": "medium_force", "staffing": "stressed",
                       "training": "half_trained", "stages": "default", "scenario": "baseline", "forces": "single",
                       "force": "medium"}[group]
            assert (cfg == base) == (p.stem == default), f"{group}={p.stem}"


BAD = [
    (["staffing.investigators=-3"], "staffing.investigators", "-3"),
    (["staffing.researchers=0"], "staffing.researchers", "0"),
    (["stages.intake.duplicate_probability=1.5"], "stages.intake.duplicate_probability", "1.5"),
    (["training.assessors_trained_share=-0.1"], "training.assessors_trained_share", "-0.1"),
    (["demand.risk_mix.VH=0.5"], "demand.risk_mix", "sum to 1"),
    (["run.warmup_days=1460"], "run.warmup_days", "1460"),
    (["stages.warrant.same_day_grades=[VH,X]"], "stages.warrant.same_day_grades", "'X'"),
    (["+staffing.detectives=3"], "staffing.detectives", "unknown key"),
    (["staffing.detectives=3"], "staffing.detectives", "unknown key"),
    (["staffing.investigators=many"], "staffing.investigators", "many"),
    (["demand.referrals_per_month=lots"], "demand.referrals_per_month", "lots"),
    (["stages.planning.effort_hours.dist=weibull"], "stages.planning.effort_hours.dist", "weibull"),
    (["stages.planning.effort_hours.mode=50"], "stages.planning.effort_hours.mode", "50"),
    (["demand=no_such_force"], "demand", "no_such_force"),
    (["run.replications=0"], "run.replications", "0"),
    (["demand.referrals_per_month=1e9"], "demand.referrals_per_month", "at most 2,000,000"),
    (["demand.referrals_per_month=0", "demand.initial_backlog.counts={VH:0,H:0,M:0,L:0}"],
     "demand.referrals_per_month", "nothing to simulate"),
]


@pytest.mark.parametrize("overrides,key,fragment", BAD)
def test_bad_input_names_key_and_value(overrides, key, fragment):
    with pytest.raises(ConfigError) as err:
        sim.load_config(overrides)
    msg = str(err.value)
    assert key in msg and fragment in msg
    assert "\n" not in msg


def test_dist_validation_requires_its_parameters():
    with pytest.raises(ConfigError, match="required for dist=exponential"):
        Dist("exponential").validate("x")
    with pytest.raises(ConfigError, match="not used by dist=fixed"):
        Dist("fixed", value=1.0, mean=2.0).validate("x")


def test_changing_a_distributions_kind_by_override():
    # The merged mapping still carries the triangular's low/mode/high; they are cleared.
    cfg = sim.load_config(["stages.planning.effort_hours.dist=exponential", "stages.planning.effort_hours.mean=12"])
    assert cfg.stages.planning.effort_hours == Exponential(12.0)
    with pytest.raises(ConfigError, match="stages.planning.effort_hours.mean"):
        sim.load_config(["stages.planning.effort_hours.dist=exponential"])


# ------------------------------------------------------------------ declared bounds


def _schema_fields(cls: type = SimConfig, prefix: str = ""):
    """(dotted key, field, annotation) of every field of the schema, sections walked into (a
    distribution is one field; a force of a region has the same sections as the top level)."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp) and not issubclass(tp, Distribution):
            yield from _schema_fields(tp, f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}", f, tp


PROBABILITY_WORDS = ("probability", "share")


def test_every_probability_or_share_is_declared_a_probability():
    named = [(key, f) for key, f, tp in _schema_fields() if tp in (float, float | None)
             and any(word in f.name for word in PROBABILITY_WORDS)]
    assert len(named) >= 25  # every section's shares and probabilities, the forces' too
    undeclared = [key for key, f in named if f.metadata.get(CHECK) is not check_probability]
    assert not undeclared


def test_every_grade_list_is_declared_one():
    lists = [key for key, f, tp in _schema_fields() if tp == tuple[str, ...] and f.name.endswith(("grades", "risks"))]
    assert len(lists) >= 8
    assert all(f.metadata.get(CHECK) is check_grades for key, f, tp in _schema_fields() if key in lists)


@dataclass(frozen=True)
class _Inner:
    speed: float = probability(0.5)  # a name that says nothing of a probability
    mislabelled_probability: float = 0.5  # a name that does, undeclared


@dataclass(frozen=True)
class _Outer:
    inner: _Inner = _Inner()
    delay_days: Distribution = Uniform(1.0, 2.0)
    grades: tuple[str, ...] = grade_list(("VH",))
    share: float | None = probability(None)  # null: not set, not checked


def test_declaring_a_bound_is_what_checks_it():
    check_declared(_Outer(inner=_Inner(speed=1.0, mislabelled_probability=1.5)), "x")  # the name alone checks nothing
    with pytest.raises(ConfigError) as err:
        check_declared(_Outer(inner=_Inner(speed=1.5)), "x")
    assert err.value.key == "x.inner.speed" and str(err.value) == "x.inner.speed=1.5: a probability must lie in [0, 1]"
    with pytest.raises(ConfigError, match=r"^x\.delay_days\.high=0\.5: must be >= low \(1\.0\)$"):
        check_declared(_Outer(delay_days=Uniform(1.0, 0.5)), "x")
    with pytest.raises(ConfigError, match=r"^x\.grades=\['VH', 'Z'\]: unknown grade 'Z'"):
        check_declared(_Outer(grades=("VH", "Z")), "x")


_OUT_OF_BOUNDS = {check_probability: 1.5, check_non_negative: -1, check_positive: 0, check_at_least_one: 0,
                  check_grades: ("VH", "X")}
_DECLARED = [(key, f.metadata[CHECK]) for key, f, _ in _schema_fields() if CHECK in f.metadata]


def test_the_declared_bounds_are_the_known_kinds():
    assert {check for _, check in _DECLARED} == set(_OUT_OF_BOUNDS)
    assert len(_DECLARED) >= 50


@pytest.mark.parametrize("extra", [[], ["forces=three_forces"]], ids=["one force", "region"])
def test_validate_enforces_every_declared_bound(extra):
    """SimConfig.validate reaches every declared field (each force's, in a region), and a
    value out of bounds is reported under its own key."""
    cfg = sim.load_config(extra)
    declared = dict(_DECLARED)
    # A region's top-level demand, staffing, training and stages only seed its forces' own.
    templates = tuple(f"{section}." for section in FORCE_SECTIONS) if cfg.forces else ()
    keys = [k for k in leaves(cfg) if k.split("].", 1)[-1] in declared and not k.startswith(templates)]
    assert len(keys) >= len(declared)
    for key in keys:
        bad = _OUT_OF_BOUNDS[declared[key.split("].", 1)[-1]]]
        with pytest.raises(ConfigError) as err:
            replace_path(cfg, key, bad).validate()
        assert err.value.key == key


def test_config_is_frozen():
    cfg = sim.load_config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.run.seed = 1  # type: ignore[misc]


# ------------------------------------------------------------------ initial backlog CSV


def _csv(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "backlog.csv"
    p.write_text(text)
    return p


def test_backlog_csv_reads_rows(tmp_path):
    p = _csv(tmp_path, "age_days,stage,assigned_grade,true_risk,child_in_household\n"
                       "400,allocation,L,H,true\n30,research,,,\n10.5,allocation,M,,0\n")
    cases = read_backlog_csv(p)
    assert [c.age_days for c in cases] == [400, 30, 10.5]
    assert cases[0].true_risk == "H" and cases[0].child_in_household is True
    assert cases[1].stage == "research" and cases[1].assigned_grade is None
    cfg = sim.load_config([f"demand.initial_backlog.csv={p}"])
    assert len(cfg.demand.initial_backlog.cases) == 3


@pytest.mark.parametrize("row,column", [
    ("abc,allocation,L", "age_days"),
    ("-5,allocation,L", "age_days"),
    ("10,courtroom,L", "stage"),
    ("10,allocation,X", "assigned_grade"),
    ("10,allocation,", "assigned_grade"),
])
def test_backlog_csv_bad_row_names_row_and_column(tmp_path, row, column):
    p = _csv(tmp_path, f"age_days,stage,assigned_grade\n12,allocation,H\n{row}\n")
    with pytest.raises(ConfigError) as err:
        sim.load_config([f"demand.initial_backlog.csv={p}"])
    assert f"row 3 column {column}" in str(err.value)


def test_backlog_csv_missing_file_and_unknown_column(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        sim.load_config([f"demand.initial_backlog.csv={tmp_path / 'nope.csv'}"])
    p = _csv(tmp_path, "age_days,colour\n3,red\n")
    with pytest.raises(ConfigError, match="colour"):
        sim.load_config([f"demand.initial_backlog.csv={p}"])


def test_every_config_group_ships_in_the_package():
    import tomllib

    pyproject = tomllib.loads((CONFIG_DIR.parent / "pyproject.toml").read_text())
    packages = set(pyproject["tool"]["setuptools"]["packages"])
    assert {f"sim.configs.{g}" for g in GROUPS} <= packages
