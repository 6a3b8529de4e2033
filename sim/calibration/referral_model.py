"""Referrals a month from a case log: their level, growth and season, and a projection.

Method: a log-linear count model of the referrals in each calendar month the log covers,
``log E[count] = log(days observed) + b0 + b1 * years + seasonal terms``, fitted as a
generalised linear model (statsmodels) with the Poisson variance scaled by the Pearson
dispersion (quasi-Poisson), so counts more variable than Poisson widen every interval rather
than being ignored. A month only partly inside the log (its first, and the month of the extract
date) counts for the days observed. One seasonal harmonic (a sine and cosine of the month) is
included when the log covers at least two whole years: with less, a season cannot be told from
the trend. Growth per year is ``exp(b1) - 1``, continuously compounded as casesim's own demand
grows. Projections draw the coefficients from their estimated normal distribution (the
mean's uncertainty: the "low" and "high" scenarios) and then counts with the fitted dispersion
(the prediction band: what a month could bring).

References: McCullagh & Nelder (1989), Generalized Linear Models, 2nd ed., ch. 6 (log-linear
models, quasi-likelihood); Seabold & Perktold (2010), statsmodels, Proc. 9th Python in Science
Conf.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..domain import DAYS_PER_MONTH, DAYS_PER_YEAR

MIN_MONTHS = 6
"""Fewer whole or part months than this and growth cannot be estimated from the log."""

SEASONAL_MONTHS = 24
"""The log must cover this many months for a seasonal term to be fitted."""


@dataclass(frozen=True)
class ReferralModel:
    """The fitted count model. ``monthly``: the observed months (``month`` start date,
    ``days`` observed, ``referrals``); ``coefficients`` and ``covariance`` of (intercept per
    day, growth per year on the log scale, and the seasonal sine and cosine if ``seasonal``);
    ``dispersion``: the Pearson dispersion (1 is Poisson); ``origin``: the date years count
    from; ``level``: the interval level."""

    monthly: pd.DataFrame
    coefficients: np.ndarray
    covariance: np.ndarray
    dispersion: float
    seasonal: bool
    origin: pd.Timestamp
    level: float

    def _design(self, months: pd.DatetimeIndex) -> np.ndarray:
        """The model's design rows for calendar months starting at ``months``, at mid-month."""
        middle = months + pd.Timedelta(days=DAYS_PER_MONTH / 2)
        years = np.asarray((middle - self.origin) / pd.Timedelta(days=DAYS_PER_YEAR), dtype=float)
        columns = [np.ones(len(months)), years]
        if self.seasonal:
            angle = 2 * np.pi * (np.asarray(months.month) - 1) / 12
            columns += [np.sin(angle), np.cos(angle)]
        return np.column_stack(columns)

    @property
    def growth_per_year(self) -> tuple[float, float, float]:
        """Growth a year (a fraction: 0.19 is +19 %), with its interval."""
        z = _z(self.level)
        b, se = self.coefficients[1], math.sqrt(self.covariance[1, 1])
        return math.expm1(b), math.expm1(b - z * se), math.expm1(b + z * se)

    def trend_per_month(self, date: pd.Timestamp) -> tuple[float, float, float]:
        """Expected referrals a month at ``date`` with the season averaged out, and its interval."""
        x = np.array([1.0, float((pd.Timestamp(date) - self.origin) / pd.Timedelta(days=DAYS_PER_YEAR))])
        b, cov = self.coefficients[:2], self.covariance[:2, :2]
        mean, se = float(x @ b), math.sqrt(float(x @ cov @ x))
        z = _z(self.level)
        return tuple(DAYS_PER_MONTH * math.exp(v) for v in (mean, mean - z * se, mean + z * se))  # type: ignore[return-value]

    @property
    def seasonal_factors(self) -> np.ndarray:
        """Each calendar month's referrals relative to the year's average (January first);
        all 1 without a seasonal term."""
        if not self.seasonal:
            return np.ones(12)
        angle = 2 * np.pi * np.arange(12) / 12
        effect = np.exp(self.coefficients[2] * np.sin(angle) + self.coefficients[3] * np.cos(angle))
        return effect / effect.mean()

    def project(self, months: int, start: pd.Timestamp, draws: int = 4000, seed: int = 0) -> pd.DataFrame:
        """Referrals in each of ``months`` calendar months from the month of ``start``: the
        central expectation, the interval of the expectation (``low``, ``high``: the
        coefficients' uncertainty) and the prediction band of the count itself
        (``predicted_low``, ``predicted_high``), at the model's level."""
        first = pd.Timestamp(start).to_period("M").to_timestamp()
        index = pd.date_range(first, periods=months, freq="MS")
        design = self._design(index)
        days = np.asarray(index.days_in_month, dtype=float)
        rng = np.random.default_rng(seed)
        b = rng.multivariate_normal(self.coefficients, self.covariance, size=draws, method="cholesky")
        expected = np.exp(b @ design.T) * days  # draws x months
        counts = _overdispersed_counts(rng, expected, self.dispersion)
        tail = (1 - self.level) / 2
        central = np.exp(design @ self.coefficients) * days
        return pd.DataFrame({
            "month": index, "central": central,
            "low": np.quantile(expected, tail, axis=0), "high": np.quantile(expected, 1 - tail, axis=0),
            "predicted_low": np.quantile(counts, tail, axis=0), "predicted_high": np.quantile(counts, 1 - tail, axis=0),
        })


def monthly_referrals(referral_dates: pd.Series, start: pd.Timestamp, as_of: pd.Timestamp) -> pd.DataFrame:
    """Referrals in each calendar month from ``start`` to ``as_of`` (inclusive), with the
    days of each month the log observes (a part month at either end counts its days)."""
    start, as_of = pd.Timestamp(start).normalize(), pd.Timestamp(as_of).normalize()
    months = pd.date_range(start.to_period("M").to_timestamp(), as_of, freq="MS")
    month_of = referral_dates.dt.to_period("M").dt.to_timestamp()
    counts = month_of.value_counts().reindex(months, fill_value=0).to_numpy()
    ends = np.minimum((months + pd.offsets.MonthBegin(1)).to_numpy(), (as_of + pd.Timedelta(days=1)).to_numpy())
    begins = np.maximum(months.to_numpy(), start.to_numpy())
    days = (ends - begins) / np.timedelta64(1, "D")
    return pd.DataFrame({"month": months, "days": days, "referrals": counts})


def fit_referral_model(referral_dates: pd.Series, start: pd.Timestamp, as_of: pd.Timestamp,
                       level: float = 0.95) -> ReferralModel:
    """Fit the count model to the referrals on ``referral_dates`` observed from ``start`` to
    ``as_of`` (see the module's method). Years count from ``as_of``, so the intercept is the
    level at the extract date."""
    import statsmodels.api as sm

    monthly = monthly_referrals(referral_dates, start, as_of)
    monthly = monthly[monthly["days"] > 0].reset_index(drop=True)
    if len(monthly) < MIN_MONTHS:
        raise ValueError(f"the log covers {len(monthly)} months; growth needs at least {MIN_MONTHS}")
    whole_months = float(monthly["days"].sum() / DAYS_PER_MONTH)
    seasonal = whole_months >= SEASONAL_MONTHS
    origin = pd.Timestamp(as_of).normalize()
    model = ReferralModel(monthly, np.zeros(4 if seasonal else 2), np.eye(4 if seasonal else 2), 1.0, seasonal,
                          origin, level)
    design = model._design(pd.DatetimeIndex(monthly["month"]))
    fit = sm.GLM(monthly["referrals"].to_numpy(float), design, family=sm.families.Poisson(),
                 offset=np.log(monthly["days"].to_numpy(float))).fit(scale="X2")
    dispersion = max(float(fit.scale), 1.0)  # under-dispersion is not credited: Poisson at least
    covariance = np.asarray(fit.cov_params()) * dispersion / float(fit.scale)
    return ReferralModel(monthly, np.asarray(fit.params), covariance, dispersion, seasonal, origin, level)


def _overdispersed_counts(rng: np.random.Generator, expected: np.ndarray, dispersion: float) -> np.ndarray:
    """Counts with mean ``expected`` and variance ``dispersion`` times it: Poisson at 1,
    else negative binomial (a gamma-Poisson mixture with that variance)."""
    if dispersion <= 1.0 + 1e-9:
        return rng.poisson(expected)
    shape = expected / (dispersion - 1.0)
    return rng.poisson(rng.gamma(shape, dispersion - 1.0))


def _z(level: float) -> float:
    from scipy import stats

    return float(stats.norm.ppf(0.5 + level / 2))
