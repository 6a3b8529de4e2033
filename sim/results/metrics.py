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


def km_quantiles(durations: np.ndarray, arrested: np.ndarray, qs) -> np.ndarray:
    """Quantiles of time to arrest (days): the first time the survival falls to 1-q or
    below; NaN where it never does within follow-up (too many still waiting)."""
    qs = np.atleast_1d(np.asarray(qs, dtype=float))
    survival = kaplan_meier(durations, arrested)
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
    times_days = np.atleast_1d(np.asarray(t_days, dtype=float))
    durations = np.asarray(durations, dtype=float)
    survival = kaplan_meier(durations, arrested)
    if survival is None:
        return np.full(times_days.shape, np.nan)
    out = np.asarray(survival.evaluate(times_days), dtype=float)
    limit_days = durations.max() if observable_days is None else observable_days
    known = (times_days <= limit_days) | (out == 0)
    return np.where(known, out, np.nan)
