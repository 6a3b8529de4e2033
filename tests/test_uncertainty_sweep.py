"""Two-level sweeps: the uncertain parameters' declaration, their outer samples, and the
tables a sweep over them writes."""

import json

import numpy as np
import pandas as pd
import pytest

from sim.cli import sweep_main
from sim.config.design import design_points
from sim.config.uncertainty import outer_samples, uncertainty_spec
from sim.core.distributions import Beta, Triangular
from sim.errors import ConfigError
from sim.results.input_uncertainty import BENEFIT_COLUMNS, UNCERTAINTY_COLUMNS

BLOCK = {"samples": 40, "seed": 3, "parameters": {
    "stages.warrant.refusal_probability": {"dist": "beta", "a": 2, "b": 98},
    "staffing.investigators": {"dist": "triangular", "low": 14, "mode": 20, "high": 26}}}


def test_outer_samples_follow_their_distributions_and_carry_their_own_seed():
    spec = uncertainty_spec(BLOCK)
    assert spec.parameters[0].distribution == Beta(2, 98) and not spec.parameters[0].whole
    assert spec.parameters[1].distribution == Triangular(14, 20, 26) and spec.parameters[1].whole
    rows = outer_samples(spec)
    assert rows == outer_samples(uncertainty_spec(BLOCK))  # the same spec, the same draws
    assert [r["run.seed"] for r in rows] == list(range(3, 43))
    refusal = np.array([r["stages.warrant.refusal_probability"] for r in rows])
    # A Latin hypercube puts one draw in each 1/40 of the distribution: its mean is close.
    assert refusal.mean() == pytest.approx(0.02, rel=0.05) and (refusal > 0).all() and (refusal < 0.2).all()
    staff = [r["staffing.investigators"] for r in rows]
    assert all(isinstance(v, int) for v in staff) and 14 <= min(staff) and max(staff) <= 26
    assert np.mean(staff) == pytest.approx(20, abs=0.5)
    other = outer_samples(uncertainty_spec({**BLOCK, "seed": 4}))
    assert [r["staffing.investigators"] for r in other] != staff


@pytest.mark.parametrize("change, message", [
    ({"samples": 1}, "sweep.uncertainty.samples=1: a whole number of outer samples from 2"),
    ({"seed": -1}, "sweep.uncertainty.seed=-1: a whole number >= 0"),
    ({"draws": 3}, "sweep.uncertainty.draws=3: unknown key; allowed: samples, seed, parameters"),
    ({"parameters": {}}, "sweep.uncertainty.parameters=None: at least one parameter"),
    ({"parameters": {"staffing.detectives": {"dist": "uniform", "low": 1, "high": 2}}},
     "sweep.uncertainty.parameters.staffing.detectives=None: no such key in the config (staffing has:"),
    ({"parameters": {"scenario": {"dist": "uniform", "low": 1, "high": 2}}},
     "sweep.uncertainty.parameters.scenario={'dist': 'uniform', 'low': 1, 'high': 2}: a number parameter; this key holds str"),
    ({"parameters": {"run.seed": {"dist": "uniform", "low": 1, "high": 2}}}, "each outer sample sets run.seed itself"),
    ({"parameters": {"staffing.availability": {"dist": "weibull", "low": 1}}},
     "sweep.uncertainty.parameters.staffing.availability.dist='weibull': one of fixed,"),
    ({"parameters": {"staffing.availability": {"dist": "beta", "a": 2}}},
     "sweep.uncertainty.parameters.staffing.availability.b=None: required for dist=beta"),
    ({"parameters": {"staffing.availability": {"dist": "beta", "a": 2, "b": 3, "mode": 1}}},
     "sweep.uncertainty.parameters.staffing.availability.mode=1: not used by dist=beta"),
    ({"parameters": {"staffing.availability": {"dist": "triangular", "low": 0.7, "mode": 0.6, "high": 0.8}}},
     "sweep.uncertainty.parameters.staffing.availability.mode=0.6: must lie in [low, high]"),
    ({"parameters": {"staffing.availability": 0.6}}, "staffing.availability=0.6: a distribution"),
])
def test_a_bad_declaration_is_named_in_one_line(change, message):
    with pytest.raises(ConfigError) as caught:
        uncertainty_spec({**BLOCK, **change})
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_the_preset_pairs_its_scenarios_at_each_sample_and_refuses_to_override_a_draw():
    spec, points = design_points("uncertainty")
    samples = spec.uncertainty.samples
    assert len(points) == 2 * samples
    base, fast = points[:samples], points[samples:]
    assert {p.config.scenario for p in base} == {"baseline"} and {p.config.scenario for p in fast} == {"fast_warrants"}
    for b, f in zip(base, fast):  # the same draw and seed for both scenarios
        assert {k: v for k, v in b.params.items() if k != "scenario"} == {k: v for k, v in f.params.items() if k != "scenario"}
        assert b.config.run.seed == f.config.run.seed == b.params["run.seed"]
        assert b.config.stages.warrant.refusal_probability == b.params["stages.warrant.refusal_probability"]
        assert f.config.stages.warrant.slots_per_sitting_day == 6  # the scenario's own change kept
    for key in ("staffing.availability", "run.seed"):
        with pytest.raises(ConfigError, match=f"{key}='1': drawn for each outer sample"):
            design_points("uncertainty", [f"{key}=1"])


def test_a_two_level_sweep_writes_its_split_and_the_benefit(tmp_path, capsys):
    out = tmp_path / "unc"
    sweep_main(["uncertainty", "--out", str(out), "--no-progress", "run.horizon_days=150", "run.replications=2"])
    printed = capsys.readouterr().out
    design = json.loads((out / "design.json").read_text())
    assert design["uncertain_parameters"][-1] == "run.seed"
    split = pd.read_csv(out / "uncertainty.csv", keep_default_na=False, na_values=[""])
    benefit = pd.read_csv(out / "benefit.csv", keep_default_na=False, na_values=[""])
    assert list(split.columns) == UNCERTAINTY_COLUMNS and list(benefit.columns) == BENEFIT_COLUMNS
    assert set(split["scenario"]) == {"baseline", "fast_warrants"} and (split["outer_samples"] == 16).all()
    assert set(benefit["scenario"]) == {"fast_warrants"}
    # The benefit of one row worked from replications.parquet by hand.
    reps = pd.read_parquet(out / "replications.parquet")
    reps = reps[(reps["metric"] == "backlog_at_end") & (reps["by"] == "all") & (reps["grade"] == "all")]
    means = reps.groupby(["scenario", "run.seed"], observed=True)["value"].mean().unstack("scenario")
    differences = (means["fast_warrants"] - means["baseline"]).to_numpy()
    row = benefit[(benefit["metric"] == "backlog_at_end") & (benefit["by"] == "all")].iloc[0]
    assert row["mean_difference"] == pytest.approx(differences.mean())
    assert row["range_low"] == pytest.approx(np.quantile(differences, 0.025))
    shares = split["input_share"].dropna()  # none where a metric does not vary at all
    assert len(shares) > len(split) / 2 and shares.between(0, 1).all()
    assert "wrote" in printed and "uncertainty.csv and benefit.csv" in printed
    assert "fast_warrants changes the" in printed


def test_compare_reports_whether_each_benefit_survives_the_uncertainty(tmp_path, capsys):
    from sim.cli import compare_main

    out = tmp_path / "cmp"
    compare_main(["fast_warrants", "--uncertainty", "uncertainty", "--out", str(out), "run.horizon_days=150",
                  "run.replications=2", "run.progress=false"])
    printed = capsys.readouterr().out
    benefit = pd.read_csv(out / "uncertainty" / "benefit.csv", keep_default_na=False, na_values=[""])
    assert set(benefit["scenario"]) == {"fast_warrants"} and (benefit["outer_samples"] == 16).all()
    assert (out / "comparison.csv").is_file() and (out / "uncertainty" / "uncertainty.csv").is_file()
    assert "parameter uncertainty: 32 points of sweep uncertainty" in printed
    assert "fast_warrants changes the median time to arrest of truly high-risk cases" in printed


@pytest.mark.parametrize("argv, message", [
    (["fast_warrants", "--uncertainty", "smoke"], "--uncertainty='smoke': a sweep with a sweep.uncertainty block"),
    (["fast_warrants", "--uncertainty", "nosuch"], "sweep='nosuch': no configs/sweep/nosuch.yaml"),
    (["fast_warrants", "--uncertainty", "uncertainty", "staffing.availability=0.5"],
     "staffing.availability='0.5': drawn for each outer sample"),
])
def test_compare_refuses_a_bad_uncertainty_sweep_before_anything_runs(tmp_path, argv, message):
    import subprocess
    import sys

    out = tmp_path / "cmp"
    done = subprocess.run([sys.executable, "-c", "from sim.cli import compare_main; compare_main()", *argv,
                           "--out", str(out)], capture_output=True, text=True)
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not out.exists()
