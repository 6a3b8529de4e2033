"""Calibration from a case log: what the log records is recovered within its intervals, the
calibrated force is a config casesim runs, and the command keeps the house rules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.calibration.calibrate import calibrate, fixed_keys, referral_schedule, with_estimates
from sim.calibration.direct import direct_estimates, true_risk_mix
from sim.calibration.folder import calibration_table, finish_folder, write_calibration
from sim.calibration.open_cases import open_cases
from sim.calibration.referral_model import fit_referral_model
from sim.calibration.synthetic import SyntheticForce, synthetic_case_log
from sim.domain import DAYS_PER_MONTH
from sim.io.caselog import case_log_from_frame

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def synthetic_log():
    """A synthetic force's three years (not casesim's model: its own process), seed 5."""
    return case_log_from_frame(synthetic_case_log(SyntheticForce(), seed=5), name="synthetic.csv")


def _interval(estimates, key):
    found = [e for e in estimates if e.key == key]
    assert found, f"no estimate of {key}"
    return found[0]


def test_what_the_log_records_is_recovered_within_its_intervals(synthetic_log):
    force = SyntheticForce()
    cases, as_of = synthetic_log.cases, synthetic_log.as_of
    start = cases["referral_date"].min()
    referrals = fit_referral_model(cases["referral_date"], start, as_of, level=0.99)
    estimates = direct_estimates(cases, as_of, sim.load_config([]), referrals, level=0.99)
    years = (as_of - start) / pd.Timedelta(days=365.25)
    truths = {
        "demand.referrals_per_month": force.referrals_per_month * (1 + force.growth_per_year) ** years,
        "demand.growth_per_year": force.growth_per_year,
        "demand.direct_report_share": force.direct_share,
        "demand.child_in_household_probability": force.child_in_household_probability,
        "stages.intake.duplicate_probability": force.duplicate_probability,
        "stages.research.untraceable_probability": force.untraceable_probability,
        "stages.execution.arrest_probability": force.arrest_probability,
        "stages.execution.voluntary_interview_probability": force.voluntary_interview_probability,
        "stages.warrant.refusal_probability": force.refusal_probability,
        "stages.warrant.refusal_probability_per_year_of_age": force.refusal_probability_per_year_of_age,
        "under-grading rate found by reviews": force.high_risk_graded_low_probability,
        **{f"grades given: {g}": share for g, share in zip(("VH", "H", "M", "L"), force.grade_mix)},
    }
    for key, truth in truths.items():
        e = _interval(estimates, key)
        assert e.low <= truth <= e.high, f"{key}: {truth} outside [{e.low:.4g}, {e.high:.4g}] ({e.method})"
        assert e.low <= e.value <= e.high and e.n >= 20


def test_the_referral_model_intervals_cover_the_growth_at_their_level():
    # 120 Poisson histories of 36 months growing 15 % a year: the 95 % interval of the growth
    # covers it about 95 % of the time (binomial: 0.95 +/- 3 standard errors, 0.89 to 1.0).
    rng = np.random.default_rng(8)
    start = pd.Timestamp("2021-01-01")
    days = np.arange(1096)
    rate = 50 / DAYS_PER_MONTH * 1.15 ** (days / 365.25)
    covered = 0
    for _ in range(120):
        dates = pd.Series(np.repeat(start + pd.to_timedelta(days, "D"), rng.poisson(rate)))
        model = fit_referral_model(dates, start, dates.max())
        growth, low, high = model.growth_per_year
        covered += low <= 0.15 <= high
    assert 0.89 <= covered / 120 <= 1.0


def test_the_risk_mix_correction_undoes_the_grading_errors():
    cfg = sim.load_config([])
    true = np.array([0.1, 0.2, 0.3, 0.4])
    share = cfg.training.assessors_trained_share
    from sim.model.demand import grading_matrix

    confusion = share * grading_matrix(cfg, True) + (1 - share) * grading_matrix(cfg, False)
    assert np.allclose(true_risk_mix(confusion.T @ true, cfg), true)


def test_open_cases_start_where_their_latest_date_says():
    frame = pd.DataFrame({
        "case_id": ["A", "B", "C", "D", "E", "F", "G"],
        "referral_date": ["2024-01-01"] * 7,
        "grade": ["", "M", "L", "H", "M", "L", "M"],
        "graded_date": ["", "2024-01-03", "2024-01-03", "2024-01-03", "2024-01-03", "2024-01-03", "2024-01-03"],
        "allocated_date": ["", "", "2024-02-01", "2024-01-05", "2024-01-05", "2024-01-05", "2024-01-05"],
        "warrant_applied_date": ["", "", "", "2024-01-09", "2024-01-09", "2024-01-09", "2024-01-09"],
        "warrant_decision": ["", "", "", "", "granted", "refused", "granted"],
        "warrant_decision_date": ["", "", "", "", "2024-01-10", "2024-01-10", "2024-01-10"],
        "enforcement_date": ["", "", "", "", "", "", "2024-01-12"],
        "outcome": [""] * 7,
    })
    enforced = pd.DataFrame({"case_id": ["H", "I"], "referral_date": ["2024-01-01"] * 2, "grade": ["L", "M"],
                             "enforcement_date": ["2024-02-20", "2024-01-20"], "outcome": ["arrest"] * 2})
    log = case_log_from_frame(pd.concat([frame, enforced]).fillna(""), as_of="2024-03-01")
    backlog = open_cases(log.cases, log.as_of)
    assert backlog.table["stage"].tolist() == ["research", "allocation", "planning", "warrant", "execution",
                                               "post_arrest"]
    assert backlog.table["age_days"].tolist() == [60.0] * 6
    assert backlog.left_out == {"warrant refused, case not closed": 1}
    # G executed with no outcome yet; H enforced 10 days before, I 41: within 30 days, H only
    in_window = open_cases(log.cases, log.as_of, post_arrest_days=30.0).table
    assert (in_window["stage"] == "post_arrest").sum() == 2
    assert sorted(in_window[in_window["stage"] == "post_arrest"]["assigned_grade"]) == ["L", "M"]


def test_the_schedule_replays_the_logs_months():
    start = pd.Timestamp("2024-01-01")
    dates = pd.Series(start + pd.to_timedelta([0, 1, 2, 31, 40, 61, 70], "D"))
    schedule = referral_schedule(dates, start, 2.5 * DAYS_PER_MONTH)
    assert schedule[:2] == (3.0, 2.0)
    assert schedule[2] == pytest.approx(2 / 0.5)  # half a month observed, counted at its pace


def test_fixed_keys_are_the_overrides_and_the_users_yaml(tmp_path):
    (tmp_path / "mine.yaml").write_text(
        "defaults: [config, _self_]\nstaffing:\n  search_teams: 3\nstages:\n  research:\n"
        "    effort_hours: {dist: fixed, value: 2.0}\ndemand:\n  risk_mix: {VH: 0.1, H: 0.2, M: 0.3, L: 0.4}\n")
    keys = fixed_keys(["staffing.investigators=30", "scenario=fast_warrants"], "mine", tmp_path)
    assert set(keys) == {"staffing.investigators", "staffing.search_teams", "stages.research.effort_hours",
                         "demand.risk_mix"}


def test_a_fixed_key_is_neither_estimated_nor_fitted(synthetic_log):
    cfg = sim.load_config(["stages.execution.arrest_probability=0.3"])
    calibration = calibrate(synthetic_log, cfg, fixed=("stages.execution.arrest_probability",), fit=[])
    assert calibration.config.stages.execution.arrest_probability == 0.3
    table = calibration_table(calibration).set_index("parameter")
    assert table.loc["stages.execution.arrest_probability", "source"] == "your setting"
    assert table.loc["stages.intake.duplicate_probability", "source"] == "fitted from synthetic.csv"
    with pytest.raises(sim.ConfigError, match="--fit"):
        calibrate(synthetic_log, cfg, fit=["stages.execution.arrest_probability"])


def test_estimates_are_set_to_four_figures_and_the_risk_mix_sums_to_one(synthetic_log):
    calibration = calibrate(synthetic_log, fit=[])
    mix = calibration.config.demand.risk_mix.as_tuple()
    assert sum(mix) == pytest.approx(1.0, abs=1e-12)
    assert all(round(share, 4) == share for share in mix)
    assert calibration.config.demand.referrals_per_month == float(f"{calibration.config.demand.referrals_per_month:.4g}")


def test_the_calibrated_force_is_written_as_yaml_that_loads_back_as_itself(synthetic_log, tmp_path):
    calibration = calibrate(synthetic_log, fit=[], name="north")
    baseline = sim.load_config([])
    write_calibration(calibration, tmp_path, baseline, [], "casesim-calibrate synthetic.csv", 1.0)
    finish_folder(calibration, tmp_path, [], 1.0)
    loaded = sim.load_config([], config_name="north", config_dir=tmp_path)
    from sim.config.convert import leaves

    mine, theirs = leaves(calibration.config), leaves(loaded)
    assert [k for k in mine if mine[k] != theirs[k] and k != "demand.initial_backlog.csv"] == []
    assert len(loaded.demand.initial_backlog.cases) == len(calibration.backlog.table) > 100
    high = sim.load_config([], config_name="north_projection_high", config_dir=tmp_path)
    central = sim.load_config([], config_name="north_projection_central", config_dir=tmp_path)
    assert len(high.demand.referrals_by_month) == 36
    assert all(h >= c for h, c in zip(high.demand.referrals_by_month, central.demand.referrals_by_month))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["complete"] is True and manifest["cases"] == calibration.n_cases
    table = pd.read_csv(tmp_path / "calibration.csv")
    assert {"fitted from synthetic.csv", "estimate, not in the data"} <= set(table["source"])


def test_the_command_calibrates_the_example_and_casesim_runs_the_result(tmp_path):
    out = tmp_path / "cal"
    result = subprocess.run([str(BIN / "casesim-calibrate"), str(sim.EXAMPLE_CASE_LOG), "--fit", "none",
                             "--out", str(out), "--projection-years", "1"], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr
    assert f"run it: casesim --config-dir {out} --config-name my_force" in result.stdout
    for name in ("my_force.yaml", "open_cases.csv", "calibration.csv", "calibration_report.html", "projection.csv",
                 "figures/referrals.png", "manifest.json"):
        assert (out / name).is_file(), name
    run = subprocess.run([str(BIN / "casesim"), "--config-dir", str(out), "--config-name", "my_force",
                          "run.replications=1", "run.horizon_days=30", "run.progress=false",
                          f"hydra.run.dir={tmp_path / 'run'}"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "run" / "summary.csv").is_file()


def test_with_estimates_leaves_fixed_keys(synthetic_log):
    cases, as_of = synthetic_log.cases, synthetic_log.as_of
    cfg = sim.load_config([])
    referrals = fit_referral_model(cases["referral_date"], cases["referral_date"].min(), as_of)
    estimates = direct_estimates(cases, as_of, cfg, referrals)
    changed = with_estimates(cfg, estimates, fixed=("demand",))
    assert changed.demand == cfg.demand
    assert changed.stages.intake.duplicate_probability != cfg.stages.intake.duplicate_probability


def casesim_log(truth_overrides: list[str], seed: int = 99):
    """A case log made by casesim itself at known parameters: a year's warm-up, then three
    years logged (2022 to 2024)."""
    from sim.calibration.simulated_log import case_log_from_run
    from sim.model import run_replication

    horizon = 365.0 + 1096.0
    cfg = sim.load_config([f"run.horizon_days={horizon}", "run.warmup_days=0", "run.progress=false",
                           "demand.bulk_package_probability=0", "demand.initial_backlog.counts={VH:0,H:0,M:0,L:0}",
                           *truth_overrides])
    frame = case_log_from_run(run_replication(cfg, seed), horizon, "2021-01-01")
    return case_log_from_frame(frame[frame["referral_date"] >= "2022-01-01"], as_of="2024-12-31",
                               name="casesim.csv")


@pytest.fixture(scope="module")
def fitted():
    """A log casesim made with research at 1.8 times its default effort and 3 search teams,
    calibrated by the quick fit told to find those two."""
    from sim.calibration.fit import QUICK_SETTINGS

    log = casesim_log(["stages.research.effort_hours={dist:triangular,low:3.6,mode:7.2,high:14.4}",
                       "staffing.search_teams=3"])
    return calibrate(log, fit=["stages.research.effort_hours", "staffing.search_teams"], settings=QUICK_SETTINGS,
                     projection_years=1)


def test_the_fit_recovers_parameters_of_a_log_casesim_made(fitted):
    # the fit rules out values far from the truth and keeps it among those it does not
    table = fitted.fit.table.set_index("key")
    for key, truth in (("stages.research.effort_hours", 1.8), ("staffing.search_teams", 3.0)):
        assert table.loc[key, "low"] <= truth <= table.loc[key, "high"], table
    assert 0 < fitted.fit.plausible_share < 0.5  # the log rules most of the range out
    assert table.loc["stages.research.effort_hours", "high"] / table.loc["stages.research.effort_hours", "low"] < 4
    residuals = fitted.fit.residuals
    assert (residuals["z"].abs() < 4).mean() > 0.8
    from sim.calibration.fit import QUICK_SETTINGS, planned_runs

    assert fitted.fit.runs == planned_runs(QUICK_SETTINGS, 2)  # what the progress bar counts to


@pytest.mark.slow
def test_the_full_fit_recovers_six_parameters_within_its_intervals():
    truth = {"stages.research.effort_hours": 1.2, "stages.planning.effort_hours": 0.8,
             "stages.post_arrest.effort_hours": 1.2, "staffing.availability": 0.65,
             "stages.warrant.slots_per_sitting_day": 3.0, "staffing.search_teams": 2.0}
    from sim.calibration.fitted_parameters import DEFAULT_PARAMETERS, with_values

    base = sim.load_config([])
    true_cfg = with_values(base, DEFAULT_PARAMETERS, [truth[p.key] for p in DEFAULT_PARAMETERS])
    overrides = [f"stages.research.effort_hours={{dist:triangular,low:{2.0 * 1.2},mode:{4.0 * 1.2},high:{8.0 * 1.2}}}",
                 f"stages.planning.effort_hours={{dist:triangular,low:{5.0 * 0.8},mode:{10.0 * 0.8},high:{20.0 * 0.8}}}",
                 f"stages.post_arrest.effort_hours={{dist:triangular,low:{20.0 * 1.2},mode:{30.0 * 1.2},high:{40.0 * 1.2}}}",
                 "staffing.availability=0.65", "stages.warrant.slots_per_sitting_day=3", "staffing.search_teams=2"]
    written = sim.load_config(overrides)
    assert written.stages == true_cfg.stages and written.staffing == true_cfg.staffing
    calibration = calibrate(casesim_log(overrides), workers=2)
    table = calibration.fit.table.set_index("key")
    outside = [key for key, value in truth.items() if not table.loc[key, "low"] <= value <= table.loc[key, "high"]]
    assert not outside, table


def test_a_fitted_calibration_writes_its_tables_figures_and_report(fitted, tmp_path):
    from sim.present.calibration_report import calibration_figures, write_calibration_report

    calibration = fitted
    write_calibration(calibration, tmp_path, sim.load_config([]), [], "casesim-calibrate casesim.csv", 1.0)
    figures = calibration_figures(calibration)
    assert set(figures) == {"referrals.png", "fit.png", "fitted_parameters.png"}
    report = write_calibration_report(calibration, tmp_path / "calibration_report.html", figures, "casesim-calibrate")
    text = report.read_text()
    assert text.count("<img") == 3 and "What the simulation fit chose" in text and "staffing.search_teams" in text
    residuals = pd.read_csv(tmp_path / "fit_residuals.csv")
    assert list(residuals.columns) == ["statistic", "observed", "simulated", "simulated_low", "simulated_high", "z"]
    design = pd.read_csv(tmp_path / "fit_design.csv")
    assert len(design) == calibration.fit.design.shape[0] and set(design["wave"]) == {0, 1}
    assert design["staffing.search_teams"].apply(float.is_integer).all()  # whole values, as the runs used
    table = pd.read_csv(tmp_path / "calibration.csv").set_index("parameter")
    assert table.loc["staffing.search_teams", "source"] == "fitted by simulation to casesim.csv"


def test_statistics_the_fitted_model_misses_are_named():
    from sim.calibration.fit import MISS_Z, FitResult

    residuals = pd.DataFrame({"statistic": ["a_wait", "b_wait", "c_count"], "observed": [1.0, 2.0, 3.0],
                              "simulated": [1.0, 9.0, 3.0], "simulated_low": [0.9, 8.0, 2.0],
                              "simulated_high": [1.1, 10.0, 4.0], "z": [0.5, -MISS_Z - 0.1, MISS_Z]})
    result = FitResult((), (), pd.DataFrame(), residuals, pd.DataFrame(), pd.DataFrame(), 0.1, 1, 1.0)
    assert result.misses["statistic"].tolist() == ["b_wait"]
    assert result.misses_line().startswith("the calibrated model misses 1 of the log's 3 statistics")
    assert "b wait" in result.misses_line()
    assert FitResult((), (), pd.DataFrame(), residuals.iloc[[0]], pd.DataFrame(), pd.DataFrame(), 0.1, 1,
                     1.0).misses_line() == ""


def test_a_force_configured_never_to_misgrade_keeps_its_rates_and_reports_the_reviews(synthetic_log):
    cfg = sim.load_config(["training.under_grade_probability_trained=0", "training.under_grade_probability_untrained=0"])
    calibration = calibrate(synthetic_log, cfg, fit=[])
    assert calibration.config.training.under_grade_probability_untrained == 0
    found = [e for e in calibration.estimates if e.key == "under-grading rate found by reviews"]
    assert found and found[0].value > 0.05
