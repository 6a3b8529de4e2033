"""Censoring-aware distribution metrics: Kaplan-Meier via ``scipy.stats.ecdf``.

A case not yet arrested when observation stops (still open at the horizon, or gone without
arrest) is right-censored at its follow-up time, never dropped: dropping it would hide
exactly the long waits the model exists to show.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def kaplan_meier(durations: np.ndarray, arrested: np.ndarray):
    """Survival function of time to arrest; ``None`` if there are no cases."""
    durations = np.asarray(durations, dtype=float)
    arrested = np.asarray(arrested, dtype=bool)
    if durations.size == 0:
        return None
    data = stats.CensoredData(uncensored=durations[arrested], right=durations[~arrested])
    return stats.ecdf(data).sf


class StepSurvival:
    """A Kaplan-Meier survival function as ``scipy.stats.ecdf(...).sf`` gives it (the same
    ``quantiles``, ``probabilities`` and ``evaluate``, by the same arithmetic), without the
    objects scipy builds around it: a national run's summary fits it thousands of times.
    ``fit_survival`` builds it; ``kaplan_meier`` stays scipy's own, with its confidence band."""

    def __init__(self, quantiles: np.ndarray, probabilities: np.ndarray):
        self.quantiles, self.probabilities = quantiles, probabilities

    def evaluate(self, x) -> np.ndarray:
        """The survival at ``x``: a step function, continuous from the right, 1 before the
        first time (as scipy's ``interp1d(kind="previous")`` over the times from -inf to
        inf evaluates it)."""
        x = np.asarray(x)
        knots = np.insert(self.quantiles, [0, len(self.quantiles)], [-np.inf, np.inf])
        levels = np.insert(self.probabilities, [0, len(self.probabilities)], [1, 0])
        shifted = np.nextafter(knots, -np.inf)
        index = np.searchsorted(shifted, x, side="left").clip(1, len(knots)).astype(np.intp)
        return levels[index - 1]


def fit_survival(durations: np.ndarray, arrested: np.ndarray) -> StepSurvival | None:
    """``kaplan_meier(durations, arrested)``'s estimate, as a ``StepSurvival``: scipy's
    arithmetic for data with no censoring (one minus the empirical CDF) and for right-censored
    data (the product over event times), step for step; ``None`` if there are no cases."""
    durations = np.asarray(durations, dtype=float)
    arrested = np.asarray(arrested, dtype=bool)
    if durations.size == 0:
        return None
    died_at, lost_at = durations[arrested], durations[~arrested]
    if lost_at.size == 0:  # scipy.stats._survival._ecdf_uncensored
        times, counts = np.unique(np.sort(died_at), return_counts=True)
        return StepSurvival(times, 1 - np.cumsum(counts) / died_at.size)
    # scipy.stats._survival._ecdf_right_censored
    times = np.concatenate((died_at, lost_at))
    died = np.asarray([1] * died_at.size + [0] * lost_at.size)
    order = np.argsort(times)
    times, died = times[order], died[order]
    at_risk = np.arange(times.size, 0, -1)
    unique = np.diff(times, prepend=-np.inf, append=np.inf) > 0
    deaths_so_far = np.cumsum(died)[unique[1:]]
    at_risk, deaths = at_risk[unique[:-1]], np.diff(deaths_so_far, prepend=0)
    return StepSurvival(times[unique[:-1]], np.cumprod((at_risk - deaths) / at_risk))


def km_quantiles(durations: np.ndarray, arrested: np.ndarray, qs) -> np.ndarray:
    """Quantiles of time to arrest (days): the first time the survival falls to 1-q or
    below; NaN where it never does within follow-up (too many still waiting)."""
    return survival_quantiles(fit_survival(durations, arrested), qs)


def survival_quantiles(survival, qs) -> np.ndarray:
    """``km_quantiles`` of a survival function already fitted (``fit_survival`` or
    ``kaplan_meier``; None for no cases), so that one fit serves every quantile and share of
    the same cases."""
    qs = np.atleast_1d(np.asarray(qs, dtype=float))
    if survival is None or survival.quantiles.size == 0:
        return np.full(qs.shape, np.nan)
    times, still_waiting = survival.quantiles, survival.probabilities
    out = np.full(qs.shape, np.nan)
    for k, q in enumerate(qs):
        reached = np.nonzero(still_waiting <= 1 - q + 1e-12)[0]
        if reached.size:
            out[k] = times[reached[0]]
    return out


def km_share_waiting_past(durations: np.ndarray, arrested: np.ndarray, t_days,
                          observable_days: float | None = None) -> np.ndarray:
    """Estimated share of cases not arrested by ``t_days`` (Kaplan-Meier survival at t).
    NaN where t lies beyond what the run could observe (``observable_days``: the longest
    possible follow-up; by default the longest actual one), unless the share is already 0.
    Up to that point the curve stays flat after the last arrest: anyone still at risk
    would have been seen."""
    durations = np.asarray(durations, dtype=float)
    return survival_share_past(fit_survival(durations, arrested), durations, t_days, observable_days)


def survival_share_past(survival, durations: np.ndarray, t_days, observable_days: float | None = None) -> np.ndarray:
    """``km_share_waiting_past`` of a survival function already fitted to ``durations``
    (``fit_survival`` or ``kaplan_meier``; None for no cases)."""
    times_days = np.atleast_1d(np.asarray(t_days, dtype=float))
    if survival is None:
        return np.full(times_days.shape, np.nan)
    out = np.asarray(survival.evaluate(times_days), dtype=float)
    limit_days = np.asarray(durations, dtype=float).max() if observable_days is None else observable_days
    known = (times_days <= limit_days) | (out == 0)
    return np.where(known, out, np.nan)


def km_restricted_mean(durations: np.ndarray, events: np.ndarray, tau_days: float,
                       observable_days: float | None = None) -> float:
    """Restricted mean time to the event up to ``tau_days`` (days): the area under the
    Kaplan-Meier survival curve from 0 to tau, the mean wait with every wait cut at tau.
    Unlike a quantile it is defined however many are still waiting. The curve is known up
    to ``observable_days`` (the longest possible follow-up; by default the longest actual
    one), flat after the last event; NaN if tau lies beyond it (unless the curve has reached
    0) or there are no cases. Reference: Royston & Parmar (2013), BMC Med Res Methodol 13:152.

    >>> round(km_restricted_mean(np.array([2.0, 4.0, 10.0]), np.array([True, True, False]), 6.0), 9)
    4.0
    """
    durations = np.asarray(durations, dtype=float)
    return float(survival_restricted_mean(fit_survival(durations, events), durations, tau_days, observable_days)[0])


def survival_restricted_mean(survival, durations: np.ndarray, tau_days,
                             observable_days: float | None = None) -> np.ndarray:
    """``km_restricted_mean`` of a survival function already fitted to ``durations``
    (``fit_survival`` or ``kaplan_meier``; None for no cases), one value (days) for each
    horizon in ``tau_days`` (each at least 0), so that the fit behind a summary's quantiles
    and shares serves its restricted means too."""
    taus_days = np.atleast_1d(np.asarray(tau_days, dtype=float))
    if (taus_days < 0).any():
        raise ValueError(f"tau_days={tau_days!r}: a restricted mean's horizon is at least 0 days")
    if survival is None:
        return np.full(taus_days.shape, np.nan)
    times, levels = np.asarray(survival.quantiles, dtype=float), np.asarray(survival.probabilities, dtype=float)
    # the curve is 1 from day 0 to its first step, then each level to the next step; a step
    # before day 0 (a negative duration) starts the area at its level
    heights = np.concatenate([[1.0], levels])
    out = np.empty(taus_days.shape)
    for k, tau in enumerate(taus_days):
        edges = np.concatenate([[0.0], np.clip(times, 0.0, tau), [tau]])
        out[k] = np.sum(np.diff(edges) * heights)
    limit_days = np.asarray(durations, dtype=float).max() if observable_days is None else observable_days
    reached_zero = levels.size > 0 and levels[-1] <= 0
    return np.where((taus_days <= limit_days) | reached_zero, out, np.nan)
