"""The nation's tables, for a run of forces in several regions (``forces=england_and_wales``):
the nation's and each region's headline by assigned grade (``national.csv``), and the
forces ranked by their referrals waiting past 18 months (``national_forces.csv``). Every
column is in docs/outputs.md.

**Past 18 months.** A referral is past 18 months when its follow-up passed 548 days without
an arrest or voluntary interview before it: arrested after more than 548 days, closed
without one after more than 548 days, or still open at the horizon and already older than
548 days (the summary's ``cases_past_18_months``; referrals of the measurement window, the
day-0 backlog not counted). Only a referral that arrived at least 548 days before the
horizon can get there, so both measures are of those **old enough**: the count **a year**
(the count over the run divided by the years from the warm-up's end to 548 days before the
horizon, :func:`eligible_years`), and the **share** of the referrals old enough that waited
past 18 months. Each is computed per replication and given as the mean over replications
with a Student-t 95 % interval, as the summary's metrics are.

The share is not the summary's Kaplan-Meier ``share_past_18_months``: that estimate treats a
referral closed without an arrest as if it might still be waiting (censored), so where no
referral waited 548 days it can still stand well above zero. The medians, 90th
percentiles and shares within target are the summary's own.

>>> import dataclasses
>>> from sim.config.schema import SimConfig
>>> cfg = SimConfig()
>>> eligible_years(cfg.replace(run=dataclasses.replace(cfg.run, horizon_days=548 + 730, warmup_days=0)))
2.0
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config.schema import SimConfig
from ..domain import DAYS_PER_YEAR, EIGHTEEN_MONTHS_DAYS, GRADES, NATION, region_label
from .summary import RunTables, SummaryRows, rows_by_force, t_interval

__all__ = ["FORCE_COLUMNS", "NATIONAL_COLUMNS", "TOO_SHORT", "eligible_years", "force_ranking", "national_table",
           "region_rows"]

TOO_SHORT = "the run ends before any referral can wait 548 days (horizon within warm-up + 548 days)"
"""The note of a count a year and a share that do not exist."""

_INTERVAL = ("_low", "_high")
_SUMMARY_METRICS = ("cases", "time_to_arrest_p50_days", "time_to_arrest_p90_days", "share_past_target")
"""The summary's metrics the table shows."""


def _with_interval(name: str) -> list[str]:
    return [name, *(name + end for end in _INTERVAL)]


NATIONAL_COLUMNS: list[str] = [
    "level", "area", "grade", "target_days", "referrals",
    *_with_interval("median_days"), *_with_interval("p90_days"), *_with_interval("share_within_target"),
    *_with_interval("past_18_months_per_year"), *_with_interval("share_past_18_months"),
    "replications", "note",
]
"""The columns of ``national.csv``, in order."""
FORCE_COLUMNS: list[str] = [
    "rank", "force", "region", "referrals", *_with_interval("past_18_months_per_year"),
    *_with_interval("share_past_18_months"), "replications", "note",
]
"""The columns of ``national_forces.csv``, in order."""


def eligible_years(config: SimConfig) -> float:
    """Years of referrals that can be past 18 months within the run: from the warm-up's end
    to 548 days before the horizon (0 when the run is shorter), in years of 365 days."""
    run = config.run
    return max(run.horizon_days - run.warmup_days - EIGHTEEN_MONTHS_DAYS, 0.0) / DAYS_PER_YEAR


def national_table(results: RunTables, summary: pd.DataFrame | None = None) -> pd.DataFrame:
    """The nation's headline and each region's (``NATIONAL_COLUMNS``): for the nation, then
    each region in the order ``config.regions()`` lists them, one row per assigned grade
    (VH, H, M, L) and one for all referrals (``grade = all``: no target, no share within
    it). Values are means over replications with their 95 % intervals; shares are fractions
    (0-1). The medians, 90th percentiles and shares within target come from ``summary``
    (``results.summary()`` if not given), past 18 months from ``results``' referrals."""
    config = results.config
    summary = results.summary() if summary is None else summary
    past = _past_18_months(results)
    areas = [("nation", NATION, config.total_name, list(config.force_names))]
    areas += [("region", region, region_label(region), [config.force_names[k] for k in members])
              for region, members in config.regions().items()]
    targets = dict(zip(GRADES, config.targets_days.as_tuple()))
    # one row per key in a summary; the first if a caller joined two
    by_area = rows_by_force(summary, _SUMMARY_METRICS, keep="first")
    records = []
    for level, area, label, forces in areas:
        rows = by_area.get(label, {})
        of_area = past[past["force"].isin(forces)]
        for grade in (*GRADES, "all"):
            by = "assigned_grade" if grade != "all" else "all"
            record: dict[str, object] = {"level": level, "area": area, "grade": grade,
                                         "target_days": targets.get(grade, np.nan)}
            notes: list[str] = []
            record["referrals"] = _value(rows, "cases", by, grade, notes)[0]
            _put(record, "median_days", _value(rows, "time_to_arrest_p50_days", by, grade, notes))
            _put(record, "p90_days", _value(rows, "time_to_arrest_p90_days", by, grade, notes))
            if grade == "all":
                _put(record, "share_within_target", (np.nan, np.nan, np.nan))
            else:
                share, low, high = _value(rows, "share_past_target", by, grade, notes)
                _put(record, "share_within_target", (1 - share, 1 - high, 1 - low))
            _put_past(record, of_area if grade == "all" else of_area[of_area["grade"] == grade], config, notes)
            record["replications"] = _replications(rows, by, grade)
            record["note"] = "; ".join(dict.fromkeys(notes))
            records.append(record)
    return pd.DataFrame.from_records(records, columns=NATIONAL_COLUMNS)


def region_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The regions' totals over all referrals (``grade = all``) of a ``national_table``."""
    return table[(table["level"] == "region") & (table["grade"] == "all")].reset_index(drop=True)


def force_ranking(results: RunTables) -> pd.DataFrame:
    """Every force ranked by its referrals past 18 months a year, most first (``FORCE_COLUMNS``;
    ties by the share past 18 months, then by name), with its region; ``rank`` counts from 1.
    The bar chart of forces draws them in this order."""
    config = results.config
    past = _past_18_months(results)
    region_of = config.region_of
    records = []
    for force in config.force_names:
        notes: list[str] = []
        of_force = past[past["force"] == force]
        record: dict[str, object] = {"force": force, "region": region_of.get(force, ""),
                                     "referrals": float(_by_replication(of_force, "referrals").mean())}
        _put_past(record, of_force, config, notes)
        record["replications"] = float(of_force["replication"].nunique())
        record["note"] = "; ".join(dict.fromkeys(notes))
        records.append(record)
    table = pd.DataFrame.from_records(records)
    order = np.lexsort((table["force"].to_numpy(dtype=str),
                        -table["share_past_18_months"].fillna(-1.0).to_numpy(dtype=float),
                        -table["past_18_months_per_year"].fillna(-1.0).to_numpy(dtype=float)))
    table = table.iloc[order].reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table[FORCE_COLUMNS]


def _past_18_months(results: RunTables) -> pd.DataFrame:
    """Per replication, force and assigned grade (``ungraded`` for referrals not yet graded):
    the referrals, those old enough to wait 548 days within the run (``eligible``) and those
    whose follow-up passed 548 days (``past``). Every replication, force and grade is listed,
    with zeros where there were none."""
    config = results.config
    cases = results.measured
    referrals = cases[~cases["backlog"]]
    last_day = config.run.horizon_days - EIGHTEEN_MONTHS_DAYS
    frame = pd.DataFrame({
        "replication": referrals["replication"].to_numpy(),
        "force": referrals["force"].astype(str).to_numpy(),
        "grade": referrals["assigned_grade"].astype(object).fillna("ungraded").to_numpy(),
        "referrals": 1,
        "eligible": (referrals["arrival_day"] <= last_day).to_numpy(dtype=int),
        "past": (referrals["followup_days"] > EIGHTEEN_MONTHS_DAYS).to_numpy(dtype=int),
    })
    counts = frame.groupby(["replication", "force", "grade"]).sum()
    full = pd.MultiIndex.from_product([sorted(results.cases["replication"].unique()), list(config.force_names),
                                       [*GRADES, "ungraded"]], names=["replication", "force", "grade"])
    return counts.reindex(full, fill_value=0).reset_index()


def _by_replication(rows: pd.DataFrame, column: str) -> pd.Series:
    return rows.groupby("replication")[column].sum()


def _put_past(record: dict, rows: pd.DataFrame, config: SimConfig, notes: list[str]) -> None:
    """The count a year and the share past 18 months of ``rows`` (of ``_past_18_months``),
    summed over forces and grades in each replication, into ``record``."""
    years = eligible_years(config)
    if years <= 0:
        notes.append(TOO_SHORT)
        _put(record, "past_18_months_per_year", (np.nan, np.nan, np.nan))
        _put(record, "share_past_18_months", (np.nan, np.nan, np.nan))
        return
    past, eligible = _by_replication(rows, "past"), _by_replication(rows, "eligible")
    _put(record, "past_18_months_per_year", _interval(past.to_numpy(dtype=float) / years, 0.0, np.inf))
    shares = (past / eligible.where(eligible > 0)).dropna().to_numpy(dtype=float)
    if len(shares) < len(past):
        notes.append(f"share past 18 months: no referral old enough in {len(past) - len(shares)} of "
                     f"{len(past)} replications")
    _put(record, "share_past_18_months", _interval(shares, 0.0, 1.0) if len(shares) else (np.nan, np.nan, np.nan))


def _interval(values: np.ndarray, floor: float, ceiling: float) -> tuple[float, float, float]:
    """The mean and 95 % t interval of replication values, kept inside the measure's range."""
    mean, low, high = t_interval(values)
    return mean, float(np.clip(low, floor, ceiling)), float(np.clip(high, floor, ceiling))


def _value(rows: SummaryRows, metric: str, by: str, grade: str, notes: list[str]) -> tuple[float, float, float]:
    """(estimate, ci_low, ci_high) of one summary row, its note kept; NaNs when there is none."""
    row = rows.get((metric, by, grade))
    if row is None:
        return np.nan, np.nan, np.nan
    if isinstance(row["note"], str) and row["note"]:
        notes.append(f"{metric}: {row['note']}")
    return float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"])


def _put(record: dict, name: str, value: tuple[float, float, float]) -> None:
    for column, v in zip(_with_interval(name), value):
        record[column] = v


def _replications(rows: SummaryRows, by: str, grade: str) -> float:
    row = rows.get(("cases", by, grade))
    return np.nan if row is None else float(row["n_replications"])
