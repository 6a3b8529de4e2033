"""Schema and loader: defaults, composition of every group option, validation messages."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import sim
from sim.config.backlog import read_backlog_csv
from sim.config.load import CONFIG_DIR
from sim.config.schema import SimConfig
from sim.core.distributions import Dist
from sim.errors import ConfigError

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
                       "training": "half_trained", "stages": "default", "scenario": "baseline", "forces": "single"}[group]
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
    assert cfg.stages.planning.effort_hours == Dist("exponential", mean=12.0)
    with pytest.raises(ConfigError, match="stages.planning.effort_hours.mean"):
        sim.load_config(["stages.planning.effort_hours.dist=exponential"])


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
