"""Metrics per replication and their summary across replications with confidence intervals.

``replication_metrics`` gives one long row per (replication, force, metric, by, grade): the unit a
paired comparison between scenarios works on. ``summarise`` averages each over replications
with a Student-t interval (replications are independent and identically distributed).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from ..domain import EIGHTEEN_MONTHS_DAYS, GRADES, REGION, STAGES, TIMED_STAGES
from .metrics import km_quantiles, km_share_waiting_past

if TYPE_CHECKING:
    from .tables import Results

QUANTILES = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99}
SUMMARY_COLUMNS = ["force", "metric", "by", "grade", "estimate", "ci_low", "ci_high", "n_replications", "note"]


def _arrest_metrics(df: pd.DataFrame, target_days: float | None, horizon_days: float) -> dict[str, float]:
    d = df["followup_days"].to_numpy()
    arrested = ~df["censored"].to_numpy()
    out: dict[str, float] = {"cases": float(len(df))}
    qv = km_quantiles(d, arrested, list(QUANTILES.values()))
    for name, v in zip(QUANTILES, qv):
        out[f"time_to_arrest_{name}_days"] = v
    tta = df["time_to_arrest_days"].to_numpy()
    out["time_to_arrest_max_days"] = float(np.nanmax(tta)) if arrested.any() else np.nan
    out["longest_wait_days"] = float(d.max()) if len(d) else np.nan
    observable = horizon_days - df["arrival_day"].min() if len(df) else None
    past = km_share_waiting_past(d, arrested, EIGHTEEN_MONTHS_DAYS, observable)[0]
    out["share_past_18_months"] = past
    out["cases_past_18_months"] = float((d > EIGHTEEN_MONTHS_DAYS).sum())
    if target_days is not None:
        out["share_past_target"] = km_share_waiting_past(d, arrested, target_days, observable)[0]
    return out


def replication_metrics(results: "Results") -> pd.DataFrame:
    """Every metric of every replication: columns scenario, replication, force, metric, by,
    grade, value. ``force`` is the total's label (``SimConfig.total_name``) for the whole
    region, then, in a region of several forces, each force's name for its own cases; rows
    of staff use are labelled with the unit's owner."""
    cfg = results.config
    measured, all_cases, pools = results.measured, results.cases, results.pools
    groups = [(cfg.total_name, None)] + ([(n, n) for n in cfg.force_names] if cfg.forces else [])
    rows: list[tuple] = []
    for rep in sorted(all_cases["replication"].unique()):
        m_rep = measured[measured["replication"] == rep]
        c_rep = all_cases[all_cases["replication"] == rep]
        for label, name in groups:
            def add(metric, by, grade, value, label=label):
                rows.append((cfg.scenario, int(rep), label, metric, by, grade, float(value)))

            m = m_rep if name is None else m_rep[m_rep["force"] == name]
            c = c_rep if name is None else c_rep[c_rep["force"] == name]
            _case_metrics(cfg, m, c, add)
        for force, metric, value in _use_metrics(cfg, pools[pools["replication"] == rep]):
            rows.append((cfg.scenario, int(rep), force, metric, "pool", "all", float(value)))
    return pd.DataFrame(rows, columns=["scenario", "replication", "force", "metric", "by", "grade", "value"])


def _use_metrics(cfg, p: pd.DataFrame) -> list[tuple[str, str, float]]:
    """(force, metric, value) of staff use: each unit a force owns (or the surge unit), and
    in a region of several forces each pool's total over the region."""
    out = [(r["force"], f"utilisation_{r['pool']}", r["utilisation"]) for _, r in p.iterrows()
           if not cfg.forces or r["force"] != REGION]
    if cfg.forces:
        total = p.groupby("pool", sort=False)[["busy", "available"]].sum()
        out += [(REGION, f"utilisation_{pool}", r["busy"] / r["available"]) for pool, r in total.iterrows()]
    return out


def _case_metrics(cfg, m: pd.DataFrame, c: pd.DataFrame, add) -> None:
    """The metrics of one replication's cases: ``m`` those measured, ``c`` all of them."""
    targets = dict(zip(GRADES, cfg.targets_days.as_tuple()))
    window_years = (cfg.run.horizon_days - cfg.run.warmup_days) / 365.0
    horizon = cfg.run.horizon_days
    # Time-to-arrest distributions are of referrals seen from the moment they arrive. The
    # initial backlog is seen only from day 0, part-way through its wait (a left-truncated
    # cohort), so it has rows of its own.
    new = m[~m["backlog"]]
    for by in ("true_risk", "assigned_grade"):
        for g in GRADES:
            sub = new[new[by] == g]
            for k, v in _arrest_metrics(sub, targets[g], horizon).items():
                add(k, by, g, v)
    for k, v in _arrest_metrics(new, None, horizon).items():
        add(k, "all", "all", v)
    misgraded_high = new[new["misgraded"] & new["true_risk"].isin(["VH", "H"])]
    for k, v in _arrest_metrics(misgraded_high, None, horizon).items():
        add(k, "misgraded_high_risk", "all", v)
    old = m[m["backlog"]]
    if len(old):
        end_day = (old["arrival_day"] + old["followup_days"]).to_numpy()  # followed from day 0
        qv = km_quantiles(end_day, ~old["censored"].to_numpy(), [0.5, 0.9])
        add("cases", "initial_backlog", "all", len(old))
        add("time_from_day0_to_arrest_p50_days", "initial_backlog", "all", qv[0])
        add("time_from_day0_to_arrest_p90_days", "initial_backlog", "all", qv[1])
        add("cases_past_18_months", "initial_backlog", "all", (old["followup_days"] > EIGHTEEN_MONTHS_DAYS).sum())
        add("share_open_at_end", "initial_backlog", "all", old["stage_at_end"].notna().mean())

    # Safeguarding and harm.
    child = new[new["child_in_household"] & new["assessment_end_day"].notna()]
    sg_done = child["safeguarding_day"].notna()
    sg_time = np.where(sg_done, child["safeguarding_day"], horizon) - child["arrival_day"]
    qv = km_quantiles(sg_time, sg_done.to_numpy(), [0.5, 0.9])
    add("time_to_safeguarding_p50_days", "all", "all", qv[0])
    add("time_to_safeguarding_p90_days", "all", "all", qv[1])
    # Harm and throughput inside the window count every case, those that arrived during a
    # warm-up included: their days and arrests after it belong to the window.
    add("child_days_at_risk_per_year", "all", "all", _child_days_at_risk(c, cfg) / window_years)

    # Where the time goes: mean wait for, and mean time in, each stage, over every case
    # that entered it; one still there at the horizon counts its time so far (so where a
    # queue grows these are lower bounds, but not the far lower mean of those served).
    grade_of = m["assigned_grade"].to_numpy()
    for stage in TIMED_STAGES:
        q, s, e = (m[f"{stage}_{k}_day"].to_numpy() for k in ("queue", "start", "end"))
        entered = ~np.isnan(q)
        wait = np.where(np.isnan(s), horizon, s) - q
        stay = np.where(np.isnan(e), horizon, e) - q
        for g in (*GRADES, "all"):
            sel = entered if g == "all" else entered & (grade_of == g)
            by = "assigned_grade" if g != "all" else "all"
            add(f"mean_wait_days_{stage}", by, g, wait[sel].mean() if sel.any() else np.nan)
            add(f"mean_time_days_{stage}", by, g, stay[sel].mean() if sel.any() else np.nan)

    # The state at the end (all cases, warm-up included: the queue is the queue).
    open_ = c[c["stage_at_end"].notna()]
    add("backlog_at_end", "all", "all", len(open_))
    for g in GRADES:
        add("backlog_at_end", "assigned_grade", g, (open_["assigned_grade"] == g).sum())
    for stage in STAGES:
        add(f"backlog_at_end_{stage}", "all", "all", (open_["stage_at_end"] == stage).sum())
    add("arrests_per_month", "all", "all", (~c["censored"] & (c["arrest_day"] >= cfg.run.warmup_days)).sum()
        / (window_years * 12))
    add("handed_over_share", "all", "all", (m["handoff_days"] > 0).mean() if len(m) else np.nan)


def _child_days_at_risk(m: pd.DataFrame, cfg) -> float:
    """Days children spent in a suspect's household, from the referral (or the window's
    start) to the earlier of arrest and safeguarding referral (else the case's end or the
    horizon), summed over cases with a child in the household."""
    c = m[m["child_in_household"]]
    start = np.maximum(c["arrival_day"].to_numpy(), cfg.run.warmup_days)
    stop = np.fmin(c["arrest_day"].to_numpy(), c["safeguarding_day"].to_numpy())
    stop = np.where(np.isnan(stop), np.fmin(c["exit_day"].to_numpy(), cfg.run.horizon_days), stop)
    stop = np.where(np.isnan(stop), cfg.run.horizon_days, stop)
    return float(np.clip(stop - start, 0, None).sum())


@functools.lru_cache(maxsize=None)
def t_quantile(q: float, df: int) -> float:
    """Student t quantile ``q`` with ``df`` degrees of freedom (cached: a summary asks for the
    same one hundreds of times)."""
    return float(stats.t.ppf(q, df))


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of independent replication values."""
    v = np.asarray(values, dtype=float)
    mean = float(v.mean())
    if len(v) < 2:
        return mean, np.nan, np.nan
    half = t_quantile(0.5 + level / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    return mean, mean - half, mean + half


def summarise(results: "Results", level: float = 0.95) -> pd.DataFrame:
    """One row per (force, metric, by, grade): the mean over replications and its t interval.
    A quantile that some replication never reached (survival still above 1-q at the end of
    follow-up) has no estimate; the note says in how many replications."""
    per_rep = replication_metrics(results)
    return summarise_metrics(per_rep, level)


def _within_range(metric: str, lo: float, hi: float) -> tuple[float, float]:
    """A t interval knows nothing of a metric's range: keep shares in [0, 1] and counts,
    times and rates at or above 0."""
    floor = 0.0
    ceiling = 1.0 if metric.startswith("share_") else np.inf
    return max(lo, floor), min(hi, ceiling)


def summarise_metrics(per_rep: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Summarise a ``replication_metrics`` frame."""
    rows = []
    for (force, metric, by, grade), grp in per_rep.groupby(["force", "metric", "by", "grade"], sort=False):
        v = grp["value"].to_numpy()
        missing = int(np.isnan(v).sum())
        note = ""
        if missing == len(v):
            est = lo = hi = np.nan
            note = "no value in any replication"
        elif missing:
            est = lo = hi = np.nan
            note = f"not reached in {missing} of {len(v)} replications"
        else:
            est, lo, hi = t_interval(v, level)
            lo, hi = _within_range(metric, lo, hi)
        rows.append((force, metric, by, grade, est, lo, hi, len(v), note))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def table_by_true_risk(summary: pd.DataFrame, cfg) -> pd.DataFrame:
    """The planner's first table, for the whole region: by true risk, time to arrest (median, 90th and 99th
    percentile), the share past the grade's target and the cases past 18 months."""
    s = summary[(summary["by"] == "true_risk") & (summary["force"] == cfg.total_name)]
    s = s.set_index(["metric", "grade"])["estimate"]
    rows = {}
    for g, target in zip(GRADES, cfg.targets_days.as_tuple()):
        rows[g] = {
            "target_days": target,
            "median_days": s.get(("time_to_arrest_p50_days", g)),
            "p90_days": s.get(("time_to_arrest_p90_days", g)),
            "p99_days": s.get(("time_to_arrest_p99_days", g)),
            "share_past_target": s.get(("share_past_target", g)),
            "cases_past_18_months": s.get(("cases_past_18_months", g)),
        }
    out = pd.DataFrame.from_dict(rows, orient="index").round(2)
    out.index.name = "true_risk"
    return out
