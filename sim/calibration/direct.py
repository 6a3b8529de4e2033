"""The parameters a case log records directly, estimated with their intervals.

Each estimate names the config key it sets, its value and interval, the method and how many
cases it rests on:

- referrals a month at the extract date and their growth a year: the count model of
  :mod:`sim.calibration.referral_model`;
- shares (direct reports, children in the household, duplicates, suspects untraceable at
  research, arrests and voluntary interviews among executed warrants): the observed share with
  a Wilson score interval (Wilson 1927; Brown, Cai & DasGupta 2001), each from the cases that
  reached the point where the share is decided;
- the warrant's refusal and its rise with the intelligence's age: a binomial model with an
  identity link, ``P(refused) = p0 + p1 * age in years``, as the model has it (McCullagh &
  Nelder 1989, ch. 4), with Wald intervals;
- the risk mix: the shares of the grades assessors gave, corrected for grading errors by
  solving ``given = C' true`` with the grading matrix C of the configured error rates, the
  interval by drawing the given shares from their Dirichlet posterior (Jeffreys prior);
- grading errors, where reviews are recorded (``regraded_to``): among cases a review found
  high risk, the share graded medium or low (under-grading), and among those it found medium
  or low, the share graded high (over-grading); the trained and untrained rates keep their
  ratio and are scaled to the observed average over the configured trained share.

An estimate resting on fewer than ``MIN_CASES`` cases is not made: the config keeps its value,
reported as "estimate, not in the data".
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from ..config.schema import SimConfig
from ..domain import DAYS_PER_YEAR, GRADES
from ..model.demand import grading_matrix
from .referral_model import ReferralModel

MIN_CASES = 20
"""The fewest cases an estimate may rest on."""

DUPLICATE_SETTLED_DAYS = 14
"""Cases referred this close to the extract date may not yet be known as duplicates: they
are left out of the duplicate share."""

HIGH, LOW_RISK = ("VH", "H"), ("M", "L")


@dataclass(frozen=True)
class Estimate:
    """One parameter from the log: ``key`` the config key it sets (``None``: reported, not
    set), ``value`` with its interval ``low``-``high`` at the calibration's level, the
    ``method``, the number of cases ``n`` it rests on, and ``unit``."""

    key: str
    value: float
    low: float
    high: float
    method: str
    n: int
    unit: str = ""
    sets_config: bool = True


def wilson(successes: int, n: int, level: float) -> tuple[float, float, float]:
    """The share ``successes / n`` with its Wilson score interval at ``level``."""
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(successes, n, alpha=1 - level, method="wilson")
    return successes / n, float(low), float(high)


def _share(key: str, successes: int, n: int, level: float, method: str) -> list[Estimate]:
    if n < MIN_CASES:
        return []
    value, low, high = wilson(int(successes), int(n), level)
    return [Estimate(key, value, low, high, method, int(n), "share")]


def direct_estimates(cases: pd.DataFrame, as_of: pd.Timestamp, cfg: SimConfig, referrals: ReferralModel,
                     level: float = 0.95, seed: int = 0) -> list[Estimate]:
    """Every parameter the log's ``cases`` (``CaseLog.cases``, observed up to ``as_of``)
    determine directly, for a force configured as ``cfg`` (its grading error rates and
    trained shares correct the risk mix). See the module's methods."""
    outcome = cases["outcome"].astype(object).fillna("")
    executed = cases["enforcement_date"].notna()
    graded = cases["grade"].notna()
    out = _demand(referrals, as_of)
    out += _share("demand.direct_report_share", (cases["source"] == "direct").sum(), len(cases), level,
                  "share of referrals reported directly, not by the NCA (Wilson)")
    child = cases["child_in_household"].dropna()
    out += _share("demand.child_in_household_probability", int(child.sum()), len(child), level,
                  "share of cases with a child in the suspect's household, where recorded (Wilson)")
    settled = cases["referral_date"] <= as_of - pd.Timedelta(days=DUPLICATE_SETTLED_DAYS)
    out += _share("stages.intake.duplicate_probability", (settled & (outcome == "duplicate")).sum(), settled.sum(),
                  level, f"share of referrals found to be duplicates (referred {DUPLICATE_SETTLED_DAYS}+ days "
                         "before the extract) (Wilson)")
    untraced = (outcome == "untraceable") & ~executed
    out += _share("stages.research.untraceable_probability", untraced.sum(), (untraced | graded).sum(), level,
                  "share untraceable at research among cases that left research (untraceable or graded) (Wilson)")
    n_executed = int(executed.sum())
    out += _share("stages.execution.arrest_probability", (executed & (outcome == "arrest")).sum(), n_executed, level,
                  "share of executed warrants ending in arrest (Wilson)")
    out += _share("stages.execution.voluntary_interview_probability",
                  (executed & (outcome == "voluntary_interview")).sum(), n_executed, level,
                  "share of executed warrants ending in a voluntary interview (Wilson)")
    out += _refusal(cases, level)
    out += _risk_mix(cases["grade"][graded].astype(str), cfg, level, seed)
    out += _grading_errors(cases, cfg, level)
    return out


def _demand(referrals: ReferralModel, as_of: pd.Timestamp) -> list[Estimate]:
    """Referrals a month at the extract date and growth a year, from the count model."""
    n = int(referrals.monthly["referrals"].sum())
    season = " and a seasonal term" if referrals.seasonal else ""
    method = (f"log-linear model of {len(referrals.monthly)} months' referral counts (quasi-Poisson, dispersion "
              f"{referrals.dispersion:.2f}) with a trend{season}")
    rate, rate_low, rate_high = referrals.trend_per_month(as_of)
    growth, growth_low, growth_high = referrals.growth_per_year
    return [Estimate("demand.referrals_per_month", rate, rate_low, rate_high,
                     method + "; its trend at the extract date, season averaged out", n, "referrals a month"),
            Estimate("demand.growth_per_year", growth, growth_low, growth_high, method, n, "fraction a year")]


def _refusal(cases: pd.DataFrame, level: float) -> list[Estimate]:
    """The warrant's refusal probability and its rise a year of the intelligence's age."""
    import statsmodels.api as sm
    from scipy import stats

    decided = cases["warrant_decision"].notna() & cases["warrant_decision_date"].notna()
    rows = cases[decided]
    if len(rows) < MIN_CASES:
        return []
    refused = (rows["warrant_decision"] == "refused").to_numpy(float)
    age_years = ((rows["warrant_decision_date"] - rows["referral_date"]) / pd.Timedelta(days=DAYS_PER_YEAR)).to_numpy()
    n = len(rows)
    if refused.sum() < 5 or np.ptp(age_years) == 0:  # too few refusals to see a slope: a constant share
        return _share("stages.warrant.refusal_probability", int(refused.sum()), n, level,
                      "share of warrant decisions that were refusals (Wilson; too few refusals to fit the rise with age)")
    family = sm.families.Binomial(link=sm.families.links.Identity())
    try:
        with warnings.catch_warnings():  # the identity link is the model's own form; its range is checked below
            warnings.simplefilter("ignore")
            fit = sm.GLM(refused, sm.add_constant(age_years), family=family).fit()
    except (ValueError, np.linalg.LinAlgError, FloatingPointError):
        fit = None
    if fit is None or not np.all(np.isfinite(fit.params)) or fit.params[0] < 0:
        return _share("stages.warrant.refusal_probability", int(refused.sum()), n, level,
                      "share of warrant decisions that were refusals (Wilson; the rise with age could not be fitted)")
    z = float(stats.norm.ppf(0.5 + level / 2))
    (p0, p1), (se0, se1) = fit.params, fit.bse
    method = "binomial model, identity link, of refusal on the intelligence's age at the decision (Wald intervals)"
    return [Estimate("stages.warrant.refusal_probability", p0, max(p0 - z * se0, 0.0), p0 + z * se0,
                     method + ": refusal at age 0", n, "share"),
            Estimate("stages.warrant.refusal_probability_per_year_of_age", max(p1, 0.0), max(p1 - z * se1, 0.0),
                     max(p1 + z * se1, 0.0), method + ": rise a year of age (at least 0)", n, "share a year")]


def true_risk_mix(given_mix: np.ndarray, cfg: SimConfig) -> np.ndarray:
    """The true-risk mix that, graded with ``cfg``'s error rates at its trained share, gives
    the grades in ``given_mix`` (VH, H, M, L shares): the solution of ``C' true = given``,
    clipped at 0 and renormalised where noise would make a share negative."""
    share = cfg.training.assessors_trained_share
    confusion = share * grading_matrix(cfg, True) + (1 - share) * grading_matrix(cfg, False)
    true = np.linalg.solve(confusion.T, np.asarray(given_mix, dtype=float))
    true = np.clip(true, 0.0, None)
    return true / true.sum()


def _risk_mix(grades: pd.Series, cfg: SimConfig, level: float, seed: int) -> list[Estimate]:
    if len(grades) < MIN_CASES:
        return []
    counts = np.array([(grades == g).sum() for g in GRADES], dtype=float)
    value = true_risk_mix(counts / counts.sum(), cfg)
    rng = np.random.default_rng(seed)
    draws = np.array([true_risk_mix(mix, cfg) for mix in rng.dirichlet(counts + 0.5, size=2000)])
    tail = (1 - level) / 2
    low, high = np.quantile(draws, tail, axis=0), np.quantile(draws, 1 - tail, axis=0)
    method = ("grades given, corrected for grading errors at the configured error rates and trained share "
              "(Dirichlet draws for the interval)")
    out = [Estimate(f"demand.risk_mix.{g}", float(value[k]), float(low[k]), float(high[k]), method, len(grades),
                    "share") for k, g in enumerate(GRADES)]
    out += [Estimate(f"grades given: {g}", counts[k] / counts.sum(), *wilson(int(counts[k]), len(grades), level)[1:],
                     "share of graded cases given this grade (Wilson)", len(grades), "share", sets_config=False)
            for k, g in enumerate(GRADES)]
    return out


def _grading_errors(cases: pd.DataFrame, cfg: SimConfig, level: float) -> list[Estimate]:
    """Under- and over-grading from reviews, as trained and untrained rates keeping their ratio."""
    reviewed = cases[cases["regraded_to"].notna() & cases["grade"].notna()]
    given, found = reviewed["grade"].astype(str), reviewed["regraded_to"].astype(str)
    training = cfg.training
    share = training.assessors_trained_share
    out: list[Estimate] = []
    for kind, truly, wrongly in (("under", HIGH, LOW_RISK), ("over", LOW_RISK, ("H",))):
        rows = found.isin(truly)
        n = int(rows.sum())
        if n < MIN_CASES:
            continue
        value, low, high = wilson(int((rows & given.isin(wrongly)).sum()), n, level)
        trained = getattr(training, f"{kind}_grade_probability_trained")
        untrained = getattr(training, f"{kind}_grade_probability_untrained")
        average = share * trained + (1 - share) * untrained
        scale = [v / average if average > 0 else 0.0 for v in (value, low, high)]
        what = "high-risk cases graded medium or low" if kind == "under" else "medium- or low-risk cases graded high"
        method = (f"share of reviewed {what} (Wilson); trained and untrained rates scaled to it at the "
                  f"configured trained share {share:g}")
        out.append(Estimate(f"{kind}-grading rate found by reviews", value, low, high,
                            f"share of reviewed {what} (Wilson)", n, "share", sets_config=False))
        if average <= 0:  # configured never to err: no ratio to keep, so the rates are left as set
            continue
        for who, base in (("trained", trained), ("untrained", untrained)):
            values = [min(base * s, 1.0) for s in scale]
            out.append(Estimate(f"training.{kind}_grade_probability_{who}", *values, method, n, "share"))
    return out


def estimates_table(estimates: Sequence[Estimate]) -> pd.DataFrame:
    """The estimates as a table, one row each."""
    return pd.DataFrame([vars(e) for e in estimates])
