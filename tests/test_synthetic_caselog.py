"""The synthetic case logs: the process's parameters show in the log it writes (so tests of
the calibration can check that it recovers them), the rows keep the case-log format, the
shipped example log is what its command makes, and the generator owes nothing to the model."""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from sim.calibration import synthetic
from sim.calibration.synthetic import (
    COLUMNS, EXAMPLE_PATH, EXAMPLE_SEED, STAGE_ORDER, SyntheticForce, expected_monthly_referrals,
    synthetic_case_log, write_synthetic_case_log,
)
from sim.domain import DAYS_PER_MONTH, DAYS_PER_YEAR, GRADES
from sim.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
DATES = ("referral_date", "graded_date", "allocated_date", "warrant_applied_date", "warrant_decision_date",
         "enforcement_date", "closed_date")
BASE = SyntheticForce()
# A different force: every share moved, so agreeing with the parameters cannot be luck.
OTHER = replace(BASE, direct_share=0.30, grade_mix=(0.10, 0.30, 0.30, 0.30), duplicate_probability=0.15,
                untraceable_probability=0.03, child_in_household_probability=0.5, arrest_probability=0.7,
                voluntary_interview_probability=0.1)


def dates(log: pd.DataFrame) -> dict[str, pd.Series]:
    return {c: pd.to_datetime(log[c], format="%Y-%m-%d") for c in DATES}


def within_binomial(hits: int, n: int, p: float, z: float = 4.0) -> bool:
    """``hits`` of ``n`` agree with probability ``p`` within ``z`` standard errors."""
    return abs(hits / n - p) <= z * np.sqrt(p * (1 - p) / n)


@pytest.fixture(scope="module")
def example() -> pd.DataFrame:
    return synthetic_case_log(BASE, EXAMPLE_SEED)


def test_monthly_counts_follow_the_rate_growth_and_season(example):
    when = dates(example)["referral_date"].dt.to_period("M")
    counts = when.value_counts().sort_index()
    months = pd.period_range(str(BASE.start_date), periods=BASE.months, freq="M")
    assert list(counts.index) == list(months)
    days = np.array([m.days_in_month for m in months], dtype=float)
    start = np.array([(m.start_time - pd.Timestamp(BASE.start_date)).days for m in months])
    years = (start + days / 2) / DAYS_PER_YEAR
    angle = 2 * np.pi * (months.month.to_numpy() - 1) / 12
    design = np.column_stack([np.ones(len(months)), years, np.cos(angle), np.sin(angle)])
    fit = sm.GLM(counts.to_numpy(), design, family=sm.families.Poisson(), offset=np.log(days / DAYS_PER_MONTH)).fit()
    b, se = fit.params, fit.bse

    # The rate at the start and its growth, each within 3 standard errors, and the growth's
    # error small enough that a force without growth would fail.
    assert abs(b[0] - np.log(BASE.referrals_per_month)) < 3 * se[0]
    assert abs(b[1] - np.log1p(BASE.growth_per_year)) < 3 * se[1] < b[1]
    # The season: log(1 + A cos x) has first harmonic 2 (1 - sqrt(1 - A^2)) / A, peaking where set.
    amplitude = np.hypot(b[2], b[3])
    a = BASE.seasonal_amplitude
    assert abs(amplitude - 2 * (1 - np.sqrt(1 - a * a)) / a) < 3 * max(se[2], se[3]) < amplitude
    peak_month = (np.degrees(np.arctan2(b[3], b[2])) / 30) % 12 + 1
    assert abs(peak_month - BASE.seasonal_peak_month) < 1
    # The counts scatter about the stated means as Poisson counts do (not overdispersed).
    expected = expected_monthly_referrals(BASE).to_numpy()
    chi2 = ((counts.to_numpy() - expected) ** 2 / expected).sum()
    assert chi2 < stats.chi2.ppf(0.999, BASE.months)


@pytest.mark.parametrize("force", [BASE, OTHER], ids=["default", "other"])
def test_shares_are_the_parameters_within_binomial_error(force):
    log = synthetic_case_log(force, EXAMPLE_SEED)
    d = dates(log)
    as_of = pd.Timestamp(force.end_date)

    assert within_binomial((log["source"] == "direct").sum(), len(log), force.direct_share)
    # A referral's intake ends within intake_days' high, its research within research's high.
    intake_done = d["referral_date"] <= as_of - pd.Timedelta(days=force.intake_days[1] + 1)
    assert within_binomial((log["outcome"][intake_done] == "duplicate").sum(), intake_done.sum(),
                           force.duplicate_probability)
    researched = intake_done & (log["outcome"] != "duplicate") & (
        d["referral_date"] <= as_of - pd.Timedelta(days=force.intake_days[1] + force.research_days_routine[2] + 1))
    untraceable_at_research = (log["outcome"] == "untraceable") & log["enforcement_date"].isna()
    assert within_binomial((untraceable_at_research & researched).sum(), researched.sum(),
                           force.untraceable_probability)
    graded = log["grade"].notna()
    for grade, share in zip(GRADES, force.grade_mix):
        assert within_binomial((log["grade"][graded] == grade).sum(), graded.sum(), share)
    assert within_binomial((log["child_in_household"][graded] == "true").sum(), graded.sum(),
                           force.child_in_household_probability)
    enforced = log["enforcement_date"].notna()
    outcomes = log["outcome"][enforced]
    assert within_binomial((outcomes == "arrest").sum(), enforced.sum(), force.arrest_probability)
    assert within_binomial((outcomes == "voluntary_interview").sum(), enforced.sum(),
                           force.voluntary_interview_probability)
    assert within_binomial((outcomes == "untraceable").sum(), enforced.sum(),
                           1 - force.arrest_probability - force.voluntary_interview_probability)
    # Cases graded long enough ago for any review to have happened.
    settled = graded & (d["referral_date"] <= as_of - pd.Timedelta(days=force.review_after_days[1] + 15))
    assert within_binomial(log["regraded_to"][settled].notna().sum(), settled.sum(), force.review_share)
    assert within_binomial(d["graded_date"][graded].isna().sum(), graded.sum(), force.graded_date_missing_share)


def test_reviews_show_the_misgrading_rate():
    force = replace(BASE, review_share=1.0, review_after_days=(0.0, 0.0))
    log = synthetic_case_log(force, EXAMPLE_SEED)
    reviewed = log[log["regraded_to"].notna()]
    assert len(reviewed) == log["grade"].notna().sum()
    truly_high = reviewed["regraded_to"].isin(["VH", "H"])
    graded_low = reviewed["grade"].isin(["M", "L"])
    assert within_binomial((truly_high & graded_low).sum(), truly_high.sum(), force.high_risk_graded_low_probability)
    # Only under-grading: a case graded VH or H, or truly M or L, kept its grade.
    kept = ~(truly_high & graded_low)
    assert (reviewed["grade"][kept] == reviewed["regraded_to"][kept]).all()


def refusal_slope(force: SyntheticForce) -> tuple[np.ndarray, np.ndarray]:
    """The linear probability model of a refusal on the intelligence's age in years at the
    decision: (intercept, slope) and their robust standard errors."""
    log = synthetic_case_log(force, EXAMPLE_SEED)
    d = dates(log)
    decided = log["warrant_decision"].notna()
    age_years = (d["warrant_decision_date"] - d["referral_date"]).dt.days[decided] / DAYS_PER_YEAR
    refused = (log["warrant_decision"][decided] == "refused").astype(float)
    fit = sm.OLS(refused.to_numpy(), sm.add_constant(age_years.to_numpy())).fit(cov_type="HC1")
    return fit.params, fit.bse


def test_refusals_rise_with_the_age_of_the_intelligence_as_set():
    # A slower force (fewer investigators) spreads the ages out to two years and more.
    slow = replace(BASE, investigators=14, refusal_probability=0.05, refusal_probability_per_year_of_age=0.3,
                   warrant_decision_date_missing_share=0.0, out_of_order_rows=0)
    (p0, p1), (se0, se1) = refusal_slope(slow)
    assert abs(p0 - 0.05) < 3 * se0
    assert abs(p1 - 0.3) < 3 * se1 < 0.15
    (_, flat), (_, se_flat) = refusal_slope(replace(slow, refusal_probability_per_year_of_age=0.0))
    assert abs(flat) < 3 * se_flat


def restricted_mean_wait_days(log: pd.DataFrame, grade: str, start: str, end: str, as_of) -> float:
    """The mean wait from one stage's date to the next of ``grade``'s cases, a case still
    waiting counted up to ``as_of`` (a lower bound that grows with every real wait)."""
    d = dates(log)
    later = list(DATES[DATES.index(end):])
    # A case whose end date is blank but which has moved on (a later date or an outcome) had
    # its date left out of the record: not counted.
    moved_on = log[later].notna().any(axis=1) | log["outcome"].notna()
    rows = (log["grade"] == grade) & d[start].notna() & (d[end].notna() | ~moved_on)
    ended = d[end][rows].fillna(pd.Timestamp(as_of))
    return float((ended - d[start][rows]).dt.days.mean())


def test_capacity_sets_the_waits():
    as_of = BASE.end_date

    def wait(force: SyntheticForce, grade: str, start: str, end: str) -> float:
        return restricted_mean_wait_days(synthetic_case_log(force, EXAMPLE_SEED), grade, start, end, as_of)

    low = [wait(replace(BASE, investigators=n), "L", "graded_date", "allocated_date") for n in (40, 20, 10)]
    assert low[0] < low[1] < low[2] and low[2] > 1.5 * low[1]
    # The stressed default: very high risk allocated within days, low risk waiting months.
    assert wait(BASE, "VH", "graded_date", "allocated_date") < 3
    assert low[1] > 60
    # The court's hearings and the search teams are capacities too: fewer, longer waits.
    court = [wait(replace(BASE, hearings_per_working_day=n), "M", "warrant_applied_date", "warrant_decision_date")
             for n in (3, 1)]
    assert court[1] > court[0] + 1
    search = [wait(replace(BASE, search_teams=n), "M", "warrant_decision_date", "enforcement_date") for n in (2, 1)]
    assert search[1] > search[0] + 1


def test_the_log_is_stressed_like_the_default_force(example):
    # Some low-risk case of the default force waits more than a year from its referral.
    d = dates(example)
    low = example["grade"] == "L"
    end = d["enforcement_date"].fillna(d["closed_date"]).fillna(pd.Timestamp(BASE.end_date))
    assert ((end - d["referral_date"]).dt.days[low] > 365).any()
    # The warm-up makes the first months busy: without it the first cases meet an idle team.
    def first_quarter_medium_wait(force):
        log = synthetic_case_log(force, EXAMPLE_SEED, as_of="2022-03-31")
        return restricted_mean_wait_days(log, "M", "graded_date", "allocated_date", "2022-03-31")

    assert first_quarter_medium_wait(replace(BASE, warm_up_months=0)) < 1 < first_quarter_medium_wait(BASE)


def test_a_seed_reproduces_its_log_and_another_does_not():
    small = replace(BASE, months=6)
    assert synthetic_case_log(small, 3).equals(synthetic_case_log(small, 3))
    assert not synthetic_case_log(small, 3)["referral_date"].equals(synthetic_case_log(small, 4)["referral_date"])


def test_a_parameter_leaves_unrelated_columns_as_they_were(example):
    # Outcomes do not move the queue: everything but the outcome column stays.
    arrests = synthetic_case_log(replace(BASE, arrest_probability=0.2), EXAMPLE_SEED)
    assert (arrests["outcome"] != example["outcome"]).any()
    assert arrests.drop(columns="outcome").equals(example.drop(columns="outcome"))
    # More duplicates change the queue, but not the referrals, their sources or grades.
    dups = synthetic_case_log(replace(BASE, duplicate_probability=0.2), EXAMPLE_SEED)
    for column in ("case_id", "referral_date", "source"):
        assert dups[column].equals(example[column])
    both = dups["grade"].notna() & example["grade"].notna()
    assert dups["grade"][both].equals(example["grade"][both])
    # The warm-up's referrals have streams of their own.
    longer = synthetic_case_log(replace(BASE, warm_up_months=24), EXAMPLE_SEED)
    assert longer["referral_date"].equals(example["referral_date"]) and longer["source"].equals(example["source"])


def stage_order_breaks(log: pd.DataFrame) -> pd.Series:
    """Rows with a recorded stage date before an earlier stage's, or a closed date before any."""
    d = dates(log)
    broken = pd.Series(False, index=log.index)
    for k, later in enumerate(STAGE_ORDER):
        for earlier in STAGE_ORDER[:k]:
            broken |= d[later] < d[earlier]
    for other in STAGE_ORDER:
        broken |= d["closed_date"] < d[other]
    return broken


@pytest.mark.parametrize("as_of", [None, "2023-06-15"])
def test_every_row_keeps_the_format(as_of):
    log = synthetic_case_log(BASE, EXAMPLE_SEED, as_of=as_of)
    cutoff = pd.Timestamp(as_of or BASE.end_date)
    assert tuple(log.columns) == COLUMNS
    assert log["case_id"].notna().all() and log["case_id"].is_unique
    d = dates(log)  # every date parses as YYYY-MM-DD
    assert d["referral_date"].notna().all() and d["referral_date"].is_monotonic_increasing
    for column in DATES:
        assert (d[column].dropna() >= d["referral_date"][d[column].notna()]).all(), column
        assert (d[column].dropna() <= cutoff).all(), column
    assert d["referral_date"].max() > cutoff - pd.Timedelta(days=7)
    assert set(log["source"]) <= {"nca", "direct"}
    for column in ("grade", "regraded_to"):
        assert set(log[column].dropna()) <= set(GRADES)
    assert set(log["warrant_decision"].dropna()) <= {"granted", "refused"}
    assert set(log["outcome"].dropna()) <= {"arrest", "voluntary_interview", "no_further_action", "untraceable",
                                            "duplicate"}
    assert set(log["child_in_household"].dropna()) <= {"true", "false"}
    # Outcomes agree with the dates: enforcement for arrests, interviews and suspects not
    # found; a closed date for the rest; neither while open; a refusal ends the case.
    enforced, closed, outcome = log["enforcement_date"].notna(), log["closed_date"].notna(), log["outcome"]
    assert outcome[enforced].isin(["arrest", "voluntary_interview", "untraceable"]).all()
    assert outcome[closed].isin(["no_further_action", "untraceable", "duplicate"]).all()
    assert not (enforced & closed).any() and (outcome.isna() == ~(enforced | closed)).all()
    assert (outcome[log["warrant_decision"] == "refused"] == "no_further_action").all()
    assert log["grade"][outcome.isin(["duplicate"])].isna().all()
    # Open cases: some at every stage, as a stressed force's extract has them.
    assert outcome.isna().sum() > 100
    # Missing dates are a few per cent, and exactly the stated rows are out of stage order.
    assert 0 < d["graded_date"][log["grade"].notna()].isna().mean() < 0.1
    assert stage_order_breaks(log).sum() == BASE.out_of_order_rows


def test_an_earlier_extract_only_censors():
    force = replace(BASE, out_of_order_rows=0)
    full, early = synthetic_case_log(force, EXAMPLE_SEED), synthetic_case_log(force, EXAMPLE_SEED, as_of="2023-06-15")
    cutoff = pd.Timestamp("2023-06-15")
    d = dates(full)
    seen = full[d["referral_date"] <= cutoff]
    assert early["case_id"].equals(seen["case_id"])
    for column in DATES:
        expected = seen[column].where(d[column][seen.index] <= cutoff)
        assert early[column].equals(expected), column
    ended_by_then = (d["enforcement_date"].fillna(d["closed_date"]) <= cutoff)[seen.index]
    assert early["outcome"].equals(seen["outcome"].where(ended_by_then))


def test_the_written_file_reads_back_as_the_frame(tmp_path):
    force = replace(BASE, months=4)
    path = write_synthetic_case_log(tmp_path / "log.csv", force, 5)
    assert pd.read_csv(path, dtype=str).equals(synthetic_case_log(force, 5))
    assert b"\r" not in path.read_bytes()


def test_the_shipped_example_is_what_its_command_writes(tmp_path, example):
    out = tmp_path / "example_caselog.csv"
    done = subprocess.run([sys.executable, "-m", "sim.calibration.synthetic", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == EXAMPLE_PATH.read_bytes()
    assert pd.read_csv(EXAMPLE_PATH, dtype=str).equals(example)
    assert 2_300 < len(example) < 2_700


@pytest.mark.parametrize("argv, message", [
    (["--as-of", "2030-01-01"], "as_of='2030-01-01': a date from 2022-01-01 to 2024-12-31 (the log's period)"),
    (["--as-of", "soon"], "as_of='soon': a date YYYY-MM-DD"),
    (["--seed", "-1"], "seed=-1: a whole number, 0 or more"),
])
def test_bad_command_input_is_one_line_and_writes_nothing(tmp_path, capsys, argv, message):
    out = tmp_path / "log.csv"
    assert synthetic.main(["--out", str(out), *argv]) == 2
    err = capsys.readouterr().err
    assert err == f"python -m sim.calibration.synthetic: error: {message}\n"
    assert not out.exists()


@pytest.mark.parametrize("change, key", [
    ({"direct_share": 1.5}, "direct_share"),
    ({"grade_mix": (0.1, 0.2, 0.3, 0.3)}, "grade_mix"),
    ({"grade_mix": (0.1, 0.2, 0.7)}, "grade_mix"),
    ({"start_date": "2022-01-15"}, "start_date"),
    ({"start_date": "January"}, "start_date"),
    ({"months": 0}, "months"),
    ({"investigators": 0}, "investigators"),
    ({"investigators": 2.5}, "investigators"),
    ({"planning_days_routine": (10.0, 5.0, 20.0)}, "planning_days_routine"),
    ({"arrest_probability": 0.6, "voluntary_interview_probability": 0.5}, "voluntary_interview_probability"),
    ({"grade_mix": (0.3, 0.5, 0.1, 0.1), "high_risk_graded_low_probability": 0.5}, "high_risk_graded_low_probability"),
    ({"out_of_order_rows": -1}, "out_of_order_rows"),
])
def test_bad_parameters_are_refused_by_name(change, key):
    with pytest.raises(ConfigError) as caught:
        SyntheticForce(**change)
    assert caught.value.key == key


def test_too_many_out_of_order_rows_for_the_log_is_refused():
    with pytest.raises(ConfigError, match="out_of_order_rows=10000: at most"):
        synthetic_case_log(replace(BASE, months=2, out_of_order_rows=10_000), 1)


ALLOWED_IMPORTS = {"__future__", "argparse", "datetime", "heapq", "math", "sys", "zlib", "collections",
                   "dataclasses", "pathlib", "numpy", "pandas", "sim.domain", "sim.errors"}


def test_the_generator_owes_nothing_to_the_model():
    tree = ast.parse(Path(synthetic.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add("sim." + node.module if node.level == 2 else node.module)
    assert imported <= ALLOWED_IMPORTS, imported - ALLOWED_IMPORTS
    assert not any(name.startswith(("sim.model", "sim.running", "sim.results", "sim.config", "simpy"))
                   for name in imported)


def test_the_example_reads_through_the_case_log_reader(example):
    from sim.io.caselog import case_log_from_frame, read_case_log

    log = read_case_log(EXAMPLE_PATH)
    assert len(log.cases) == len(example) and log.as_of == pd.Timestamp(BASE.end_date)
    assert log.cases.equals(case_log_from_frame(example).cases)
    # Its warnings: the out-of-order rows, each counted once, and the decisions whose date is missing.
    out_of_order = sum(w.count for w in log.warnings if " before " in w.what)
    assert out_of_order == BASE.out_of_order_rows
    assert {w.what for w in log.warnings if " before " not in w.what} == {
        "warrant_decision without warrant_decision_date"}
