"""Every configuration key changes some output (or is run control, listed below with why)."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

import sim
from sim.config.convert import leaves, replace_path
from sim.config.schema import ByGrade, ForceConfig, SimConfig
from sim.core.distributions import Distribution, Fixed

# Keys that must not change results: they say how to run, not what to simulate.
RUN_CONTROL = {
    "run.workers": "results are identical for any worker count (tests/test_model.py::test_serial_equals_parallel)",
    "run.progress": "display only",
    "run.scheduler": "results are identical on a Dask cluster (tests/test_nation.py::test_regions_on_a_dask_cluster_"
                     "give_the_regions_run_in_turn)",
    "run.local_cluster": "results are identical on a Dask cluster (the same test)",
    "demand.initial_backlog.csv": "read into demand.initial_backlog.cases by the loader (tests/test_config.py)",
    "demand.initial_backlog.cases": "filled from the CSV; exercised in test_backlog_csv_changes_the_run",
}

# A short, stressed run in which every branch (refusals, lapses, rework, bulk packages,
# non-specialists, backlog stages) occurs.
BASE = ["run.replications=1", "run.horizon_days=300", "run.progress=false", "stages.warrant.validity_days=20",
        "staffing.search_teams=1", "demand.bulk_package_probability=0.2"]

# Perturbations for keys whose generic change would be invalid or too small to show.
SPECIAL = {
    "demand.risk_mix": ByGrade(0.40, 0.33, 0.20, 0.07),
    "demand.referrals_by_month": (80.0, 20.0, 60.0),
    "demand.initial_backlog.stage": "research",
    "stages.safeguarding.urgent_grades": ("VH",),
    "stages.warrant.same_day_grades": ("VH", "H", "M", "L"),
    "stages.warrant.out_of_hours_grades": ("VH", "H"),
    "stages.execution.urgent_grades": ("VH",),
    "stages.planning.urgent_grades": ("VH", "H", "M"),
    "stages.round_the_clock_grades": (),
    "stages.round_the_clock_speedup": 1.0,
    "stages.allocation_rule": "due_date",
    "calendar.working_days_per_week": 6,
    "calendar.day_start_hour": 9.0,
    "calendar.enabled": False,
    "stages.warrant.max_applications": 1,
    "stages.warrant.validity_days": 3.0,
    "run.warmup_days": 100.0,
    "run.monitor_interval_days": 2.0,
    "training.over_grade_probability_trained": 0.5,
    "training.over_grade_probability_untrained": 0.5,
    "training.under_grade_to_low_share": 0.9,
    "stages.execution.voluntary_interview_probability": 0.2,
    "stages.execution.arrest_probability": 0.3,
    "stages.research.comms_data_urgent_risks": ("VH", "H", "M", "L"),
    "stages.warrant.refusal_probability": 0.3,
    "stages.warrant.refusal_probability_per_year_of_age": 0.9,
}


# Keys that act only together with others: each is perturbed against a base in which its
# companions are switched on.
CONTEXT = {
    "staffing.recruitment.": ["staffing.recruitment.investigators=4", "staffing.recruitment.researchers=2",
                              "staffing.recruitment.lead_time_days=60", "staffing.recruitment.learning_days=120",
                              "staffing.recruitment.attrition_per_year=0.5"],
    "stages.review.": ["stages.review.analyst_cases_per_review=10", "stages.review.minimum_standards=true"],
    "training.programme.": ["training.programme.duration_days=200", "training.programme.start_day=10",
                            "training.programme.assessors_trained_share=0.9",
                            "training.programme.researchers_trained_share=0.9",
                            "training.programme.investigators_trained_share=0.9"],
    "collaboration.pooling.": ["forces=three_forces", "collaboration.pooling.investigators=true",
                               "collaboration.pooling.search_teams=true"],
    "collaboration.triage_hub.": ["collaboration.triage_hub.enabled=true"],
    "collaboration.surge.": ["collaboration.surge.investigators=4", "collaboration.surge.queue_threshold=2"],
    # last: the keys of collaboration not claimed above (scope), on the nation's regions, pooled
    "collaboration.": ["forces=england_and_wales", "collaboration.pooling.investigators=true"],
}
SPECIAL.update({
    "training.programme.assessors_trained_share": 1.0,
    "training.programme.researchers_trained_share": 1.0,
    "training.programme.investigators_trained_share": 1.0,
    "staffing.recruitment.learning_productivity": 0.9,
    "stages.review.analyst_grades": ("L",),
    "forces": (ForceConfig(name="north"), ForceConfig(name="south")),
    "collaboration.triage_hub.assessors": 1,
    "collaboration.surge.grades": ("L",),
    "collaboration.scope": "nation",
})


def context(key: str) -> tuple[str, ...]:
    return tuple(next((v for k, v in CONTEXT.items() if key.startswith(k)), []))


def perturbed(key: str, value):
    if key in SPECIAL:
        return SPECIAL[key]
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1 if value < 5 else max(1, value // 2)
    if isinstance(value, float):
        if "probability" in key or "share" in key or key.endswith("availability"):
            return value / 2 if value > 0.5 else min(1.0, value * 2 + 0.1)
        return value * 2 + 1.0
    if isinstance(value, str):
        return value + "_x"
    if isinstance(value, ByGrade):
        return ByGrade(*(v * 2 + 1 for v in value.as_tuple()))
    if isinstance(value, Distribution):  # stretched: every parameter but the coefficient of variation
        if isinstance(value, Fixed):
            return Fixed(value.value * 2 + 0.5)
        return dataclasses.replace(value, **{k: getattr(value, k) * 2 + 0.5 for k in value.parameter_names() if k != "cv"})
    raise TypeError(key)


def fingerprint(res: sim.Results) -> list[pd.DataFrame]:
    return [res.cases, res.timeseries, res.pools, res.summary()]


_BASES: dict = {}


def base_for(extra: tuple[str, ...]):
    if extra not in _BASES:
        cfg = sim.load_config(BASE + list(extra))
        _BASES[extra] = cfg, fingerprint(sim.simulate(cfg))
    return _BASES[extra]


@pytest.fixture(scope="module")
def base():
    return base_for(())


KEYS = [k for k in leaves(SimConfig()) if k not in RUN_CONTROL]


def test_every_key_is_tried_or_exempt_for_a_reason():
    """The exemptions name real keys (none outlives its key), and the walk reaches the
    nested sections, so no parameter escapes the test below."""
    every = leaves(SimConfig())
    assert set(RUN_CONTROL) <= set(every)
    assert set(KEYS) | set(RUN_CONTROL) == set(every)
    for nested in ("stages.review.detection_probability", "staffing.recruitment.attrition_per_year",
                   "training.programme.course_days", "demand.initial_backlog.max_age_days", "targets_days"):
        assert nested in KEYS
    assert set(CONTEXT) <= {k.rsplit(".", 1)[0] + "." for k in KEYS}


@pytest.mark.parametrize("key", KEYS)
def test_key_changes_some_output(key):
    cfg, before = base_for(context(key))
    value = leaves(cfg)[key]
    new = replace_path(cfg, key, perturbed(key, value)).validate()
    after = fingerprint(sim.simulate(new))
    same = all(a.shape == b.shape and a.equals(b) for a, b in zip(before, after))
    assert not same, f"{key}: {value!r} -> {perturbed(key, value)!r} changed nothing"


def test_backlog_csv_changes_the_run(tmp_path, base):
    cfg, before = base
    p = tmp_path / "b.csv"
    p.write_text("age_days,stage,assigned_grade,true_risk\n500,allocation,L,H\n20,research,,\n")
    new = sim.load_config(BASE + [f"demand.initial_backlog.csv={p}"])
    res = sim.simulate(new)
    b = res.cases[res.cases["backlog"]]
    assert len(b) == 2 * new.run.replications
    assert b["arrival_day"].min() == -500
    assert (b["true_risk"].astype(str).tolist()[:1] == ["H"])
