"""Metrics per replication and their summary across replications with confidence intervals.

``replication_metrics`` gives one long row per (replication, force, metric, by, grade): the unit a
paired comparison between scenarios works on. ``summarise`` averages each over replications
with a Student-t interval (replications are independent and identically distributed). The
metrics' names, units and meanings are in ``sim.results.catalogue``.

This module reads a run's tables through ``RunTables`` (what ``Results`` provides), so it
never imports ``sim.results.tables``: ``Results.summary()`` calls ``summarise`` without an
import cycle.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from typing import Literal, Protocol

import numpy as np
import pandas as pd
from scipy import stats

from ..config.schema import COSTED_POOLS, SimConfig
from ..core.calendar import Calendar
from ..domain import EIGHTEEN_MONTHS_DAYS, GRADES, OUTCOMES, REGION, STAGES, TIMED_STAGES, region_label
from .catalogue import (
    HIGH_RISK_GRADES,
    KEY_COLUMNS,
    METRICS,
    OUTCOME_SHARE,
    REPLICATION_METRIC_COLUMNS,
    RESTRICTED_MEAN_DAYS,
    RESTRICTED_MEAN_TIME_TO_ARREST,
    ROW_COLUMNS,
    SHARE_WAITING_DAYS,
    SHARE_WAITING_PAST,
    STAGE_BACKLOG,
    STAGE_TIME,
    STAGE_WAIT,
    SUMMARY_COLUMNS,
    TIME_FROM_DAY0_TO_ARREST,
    TIME_TO_ARREST,
    TIME_TO_ARREST_QUANTILES,
    TIME_TO_SAFEGUARDING,
    UTILISATION,
    regions_by_force,
)
from .metrics import fit_survival, km_quantiles, survival_quantiles, survival_restricted_mean, survival_share_past

__all__ = ["SUMMARY_COLUMNS", "SUMMARY_VALUES", "RunTables", "SummaryRows", "replication_metrics", "rows_by_force",
           "summarise", "summarise_metrics", "t_interval", "t_quantile", "table_by_true_risk"]

SUMMARY_VALUES: tuple[str, ...] = tuple(SUMMARY_COLUMNS[len(ROW_COLUMNS):])
"""The summary's value columns: estimate, ci_low, ci_high, n_replications, note."""
SummaryRows = dict[tuple[str, str, str], dict[str, object]]
"""One force's rows of a summary by (metric, by, grade), each its value columns by name."""

MetricRow = tuple[str, str, str, float]
"""(metric, by, grade, value): one metric of the replication and force being measured."""


class RunTables(Protocol):
    """The tables of one scenario's run that the metrics read (``sim.results.Results``)."""

    config: SimConfig
    cases: pd.DataFrame
    pools: pd.DataFrame

    @property
    def measured(self) -> pd.DataFrame: ...


def replication_metrics(results: RunTables) -> pd.DataFrame:
    """Every metric of every replication: columns scenario, replication, force, region,
    metric, by, grade, value. ``force`` is the total's label (``SimConfig.total_name``) for
    the whole region, then, for forces of several regions, each region's (``region NAME``),
    then, in a region of several forces, each force's name for its own cases; rows of staff
    use are labelled with the unit's owner. ``region`` is the label's
    (``SimConfig.region_of_owner``)."""
    cfg = results.config
    all_cases, pools = results.cases, results.pools
    regions = cfg.regions()
    by_region = [(region_label(region), [cfg.force_names[k] for k in members]) for region, members in regions.items()] \
        if len(regions) > 1 else []
    groups = [(cfg.total_name, None), *by_region] + ([(name, [name]) for name in cfg.force_names] if cfg.forces else [])
    cases = _CaseColumns(all_cases)
    replication_of, in_warmup = cases.values("replication"), cases.values("in_warmup")
    # a group's cases are picked by position, in the table's order, as a boolean mask would pick them
    pools_of = {int(key): positions for key, positions in pools.groupby("replication", sort=False).indices.items()}
    rows: list[tuple] = []
    for replication in sorted(pd.unique(replication_of)):
        of_replication = np.flatnonzero(replication_of == replication)
        for label, force in groups:
            every = of_replication if force is None else of_replication[cases.isin("force", force)[of_replication]]
            every_case = cases.at(every)
            measured_cases = cases.at(every[~in_warmup[every]])
            for metric_name, by, grade, value in _case_metrics(cfg, measured_cases, every_case):
                rows.append((cfg.scenario, int(replication), label, metric_name, by, grade, float(value)))
        pools_rep = pools.take(pools_of.get(int(replication), np.array([], dtype=np.intp)))
        for owner, metric_name, value in _use_metrics(cfg, pools_rep):
            rows.append((cfg.scenario, int(replication), owner, metric_name, "pool", "all", float(value)))
        for owner, metric_name, value in _cost_metrics(cfg, pools_rep, cases.at(of_replication)):
            rows.append((cfg.scenario, int(replication), owner, metric_name, "all", "all", float(value)))
    per_rep = pd.DataFrame(rows, columns=[column for column in REPLICATION_METRIC_COLUMNS if column != "region"])
    region_of = {label: cfg.region_of_owner(label) for label in pd.unique(per_rep["force"])}  # once a label
    per_rep.insert(per_rep.columns.get_loc("force") + 1, "region", per_rep["force"].map(region_of))
    return per_rep


class _CaseColumns:
    """The cases table's columns as numpy arrays, each read once: a label column (a
    categorical) as its codes, so that picking cases by a label compares integers."""

    def __init__(self, table: pd.DataFrame):
        self._table = table
        self._values: dict[str, np.ndarray] = {}
        self._codes: dict[str, tuple[np.ndarray, dict]] = {}

    def __len__(self) -> int:
        return len(self._table)

    def values(self, name: str) -> np.ndarray:
        if name not in self._values:
            self._values[name] = self._table[name].to_numpy()
        return self._values[name]

    def codes(self, name: str) -> tuple[np.ndarray, dict]:
        """The column's codes (-1 where missing) and each label's code."""
        if name not in self._codes:
            column = self._table[name]
            if isinstance(column.dtype, pd.CategoricalDtype):
                codes, labels = column.cat.codes.to_numpy(), column.cat.categories
            else:
                codes, labels = pd.factorize(column)
            self._codes[name] = (np.asarray(codes), {label: code for code, label in enumerate(labels)})
        return self._codes[name]

    def isin(self, name: str, labels) -> np.ndarray:
        codes, code_of = self.codes(name)
        return _picked(codes, code_of, labels)

    def at(self, positions: np.ndarray) -> "_Cases":
        return _Cases(self, np.asarray(positions, dtype=np.intp))


def _picked(codes: np.ndarray, code_of: dict, labels) -> np.ndarray:
    """Which ``codes`` (-1: missing) stand for one of ``labels``: a look-up table by code,
    faster than ``np.isin`` for the many small picks of a national run."""
    wanted = np.zeros(len(code_of) + 1, dtype=bool)
    wanted[[code_of[label] + 1 for label in labels if label in code_of]] = True
    return wanted[codes.astype(np.intp) + 1]


class _Cases:
    """Some of the cases (``positions`` in the table, in its order): each column asked for
    is taken once, as numpy values (a label column as codes)."""

    def __init__(self, columns: _CaseColumns, positions: np.ndarray):
        self._columns, self.positions = columns, positions
        self._taken: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._taken:
            self._taken[name] = self._columns.values(name)[self.positions]
        return self._taken[name]

    def codes(self, name: str) -> np.ndarray:
        key = f"codes of {name}"
        if key not in self._taken:
            self._taken[key] = self._columns.codes(name)[0][self.positions]
        return self._taken[key]

    def is_(self, name: str, label: str) -> np.ndarray:
        """Which of these cases have ``label`` in column ``name``."""
        return self.isin(name, [label])

    def isin(self, name: str, labels) -> np.ndarray:
        return _picked(self.codes(name), self._columns.codes(name)[1], labels)

    def notna(self, name: str) -> np.ndarray:
        return self.codes(name) >= 0

    def where(self, chosen: np.ndarray) -> "_Cases":
        """The cases ``chosen`` (a boolean mask over these) picks."""
        return _Cases(self._columns, self.positions[chosen])


def _cost_metrics(cfg: SimConfig, pools: pd.DataFrame, every_case: "_Cases") -> list[tuple[str, str, float]]:
    """(force, metric, value) of cost (``cfg.costs``, pounds): the staffing cost a year of
    each force's own units and of the whole run (a region's shared units in its total only),
    and the whole run's cost per arrest. Posts are paid for as they are in post (recruits
    from their arrival), search teams for every working day they are in post (as
    ``post_cost_per_year`` prices one more), warrant hearings as they are held."""
    cal = Calendar(cfg.calendar)
    window_hours = cal.work_hours_until(cfg.run.horizon_days) - cal.work_hours_until(cfg.run.warmup_days)
    years = _window_years(cfg)
    per_team_day = {name: fc.stages.execution.warrants_per_team_per_day
                    for name, fc in zip(cfg.force_names, cfg.force_configs())}

    def cost_per_year(row) -> float:
        price = getattr(cfg.costs, COSTED_POOLS[row["pool"]])
        if row["pool"] == "court":
            return row["busy"] / years * price
        if row["pool"] == "search_teams":  # the teams in post: their working days, used or not
            days = row["available"] / per_team_day.get(row["force"], cfg.stages.execution.warrants_per_team_per_day)
            return days / years * price
        return row["available"] / window_hours * price  # the posts in post, on average

    costed = pools[pools["pool"].isin(list(COSTED_POOLS))]
    by_owner = costed.assign(cost=[cost_per_year(row) for _, row in costed.iterrows()]).groupby("force")["cost"].sum()
    out = [(owner, "staffing_cost_per_year", cost) for owner, cost in by_owner.items()
           if cfg.forces and owner in cfg.force_names]
    total = float(by_owner.sum())
    arrests = (~every_case["censored"] & (every_case["arrest_day"] >= cfg.run.warmup_days)
               & every_case.is_("outcome", "arrest")).sum()
    out += [(cfg.total_name, "staffing_cost_per_year", total),
            (cfg.total_name, "cost_per_arrest", total * years / arrests if arrests else np.nan)]
    return out


def _use_metrics(cfg: SimConfig, pools: pd.DataFrame) -> list[tuple[str, str, float]]:
    """(force, metric, value) of staff use: each unit a force owns (or the surge unit), and
    in a region of several forces each pool's total over the region."""
    out = [(row["force"], UTILISATION.name(row["pool"]), row["utilisation"]) for _, row in pools.iterrows()
           if not cfg.forces or row["force"] != REGION]
    if cfg.forces:
        total = pools.groupby("pool", sort=False)[["busy", "available"]].sum()
        out += [(cfg.total_name, UTILISATION.name(pool), row["busy"] / row["available"])
                for pool, row in total.iterrows()]
    return out


def _case_metrics(cfg: SimConfig, measured: _Cases, every_case: _Cases) -> list[MetricRow]:
    """The metrics of one replication's cases: ``measured`` those outside the warm-up,
    ``every_case`` all of them."""
    # Time-to-arrest distributions are of referrals seen from the moment they arrive. The
    # initial backlog is seen only from day 0, part-way through its wait (a left-truncated
    # cohort), so it has rows of its own.
    backlog = measured["backlog"]
    referrals = measured.where(~backlog)
    return [*_time_to_arrest_rows(cfg, referrals),
            *_initial_backlog_rows(measured.where(backlog)),
            *_safeguarding_and_harm_rows(cfg, referrals, every_case),
            *_stage_time_rows(cfg, measured),
            *_end_of_run_rows(cfg, measured, every_case)]


def _time_to_arrest_rows(cfg: SimConfig, referrals: _Cases) -> list[MetricRow]:
    """Time to arrest by true risk and by assigned grade, over all referrals, and over the
    truly high-risk referrals that were misgraded."""
    rows: list[MetricRow] = []
    targets_days = dict(zip(GRADES, cfg.targets_days.as_tuple()))
    horizon_days = cfg.run.horizon_days
    for by in ("true_risk", "assigned_grade"):
        for grade in GRADES:
            of_grade = referrals.where(referrals.is_(by, grade))
            for name, value in _arrest_metrics(of_grade, targets_days[grade], horizon_days).items():
                rows.append((name, by, grade, value))
    for name, value in _arrest_metrics(referrals, None, horizon_days).items():
        rows.append((name, "all", "all", value))
    misgraded_high = referrals.where(referrals["misgraded"] & referrals.isin("true_risk", HIGH_RISK_GRADES))
    for name, value in _arrest_metrics(misgraded_high, None, horizon_days).items():
        rows.append((name, "misgraded_high_risk", "all", value))
    return rows


def _arrest_metrics(cases: _Cases, target_days: float | None, horizon_days: float) -> dict[str, float]:
    """Time-to-arrest metrics of ``cases`` (Kaplan-Meier, censored at follow-up), and the
    share past ``target_days`` when a target is given. The shares at fixed days, the share
    past the target and the restricted mean stay defined however many cases are still
    waiting (a quantile does not): each is missing only where its day lies beyond the
    longest follow-up the run allowed these cases and the curve has not reached 0."""
    followup = cases["followup_days"]
    arrested = ~cases["censored"]
    out: dict[str, float] = {"cases": float(len(cases))}
    survival = fit_survival(followup, arrested)  # one fit for the quantiles, the shares and the restricted mean
    quantiles = survival_quantiles(survival, list(TIME_TO_ARREST_QUANTILES.values()))
    for name, value in zip(TIME_TO_ARREST_QUANTILES, quantiles):
        out[TIME_TO_ARREST.name(name)] = value
    time_to_arrest = cases["time_to_arrest_days"]
    out["time_to_arrest_max_days"] = float(np.nanmax(time_to_arrest)) if arrested.any() else np.nan
    out["longest_wait_days"] = float(followup.max()) if len(followup) else np.nan
    # a referral arriving on day a can be followed for at most horizon - a days
    observable_days = horizon_days - cases["arrival_day"].min() if len(cases) else None
    days = [*SHARE_WAITING_DAYS.values(), EIGHTEEN_MONTHS_DAYS, *([] if target_days is None else [target_days])]
    shares = survival_share_past(survival, followup, days, observable_days)
    for name, share in zip(SHARE_WAITING_DAYS, shares):
        out[SHARE_WAITING_PAST.name(name)] = share
    out["share_past_18_months"] = shares[len(SHARE_WAITING_DAYS)]
    out["cases_past_18_months"] = float((followup > EIGHTEEN_MONTHS_DAYS).sum())
    out[RESTRICTED_MEAN_TIME_TO_ARREST] = survival_restricted_mean(survival, followup, RESTRICTED_MEAN_DAYS,
                                                                   observable_days)[0]
    if target_days is not None:
        out["share_past_target"] = shares[-1]
    return out


def _initial_backlog_rows(backlog: _Cases) -> list[MetricRow]:
    """The cases already waiting at day 0, followed from day 0 (nothing if there are none).
    A case whose suspect was arrested before day 0 (the backlog's post-arrest work) waits
    for no arrest: it is left out."""
    arrested_before = backlog.isin("outcome", ["arrest", "voluntary_interview"]) & np.isnan(backlog["arrest_day"])
    backlog = backlog.where(~arrested_before)
    if not len(backlog):
        return []
    end_day = backlog["arrival_day"] + backlog["followup_days"]  # followed from day 0
    p50, p90 = km_quantiles(end_day, ~backlog["censored"], [0.5, 0.9])
    return [("cases", "initial_backlog", "all", len(backlog)),
            (TIME_FROM_DAY0_TO_ARREST.name("p50"), "initial_backlog", "all", p50),
            (TIME_FROM_DAY0_TO_ARREST.name("p90"), "initial_backlog", "all", p90),
            ("cases_past_18_months", "initial_backlog", "all", (backlog["followup_days"] > EIGHTEEN_MONTHS_DAYS).sum()),
            ("share_open_at_end", "initial_backlog", "all", backlog.notna("stage_at_end").mean())]


def _safeguarding_and_harm_rows(cfg: SimConfig, referrals: _Cases, every_case: _Cases) -> list[MetricRow]:
    """Time to the safeguarding referral of assessed referrals with a child in the
    household, and the child-days at risk of every case."""
    horizon_days = cfg.run.horizon_days
    with_child = referrals.where(referrals["child_in_household"] & ~np.isnan(referrals["assessment_end_day"]))
    safeguarded = ~np.isnan(with_child["safeguarding_day"])
    safeguarding_or_horizon = np.where(safeguarded, with_child["safeguarding_day"], horizon_days)
    time_to_safeguarding = safeguarding_or_horizon - with_child["arrival_day"]
    p50, p90 = km_quantiles(time_to_safeguarding, safeguarded, [0.5, 0.9])
    # Harm and throughput inside the window count every case, those that arrived during a
    # warm-up included: their days and arrests after it belong to the window.
    child_days_per_year = _child_days_at_risk(every_case, cfg) / _window_years(cfg)
    return [(TIME_TO_SAFEGUARDING.name("p50"), "all", "all", p50),
            (TIME_TO_SAFEGUARDING.name("p90"), "all", "all", p90),
            ("child_days_at_risk_per_year", "all", "all", child_days_per_year)]


def _stage_time_rows(cfg: SimConfig, measured: _Cases) -> list[MetricRow]:
    """Where the time goes: mean wait for, and mean time in, each stage, over every case
    that entered it, by assigned grade and over all."""
    rows: list[MetricRow] = []
    # One still there at the horizon counts its time so far (so where a queue grows these
    # are lower bounds, but not the far lower mean of those served).
    horizon_days = cfg.run.horizon_days
    of_grade = {grade: measured.is_("assigned_grade", grade) for grade in GRADES}
    for stage in TIMED_STAGES:
        queued, started, ended = (measured[f"{stage}_{moment}_day"] for moment in ("queue", "start", "end"))
        entered = ~np.isnan(queued)
        wait = np.where(np.isnan(started), horizon_days, started) - queued
        stay = np.where(np.isnan(ended), horizon_days, ended) - queued
        for grade in (*GRADES, "all"):
            chosen = entered if grade == "all" else entered & of_grade[grade]
            by = "assigned_grade" if grade != "all" else "all"
            rows.append((STAGE_WAIT.name(stage), by, grade, wait[chosen].mean() if chosen.any() else np.nan))
            rows.append((STAGE_TIME.name(stage), by, grade, stay[chosen].mean() if chosen.any() else np.nan))
    return rows


def _end_of_run_rows(cfg: SimConfig, measured: _Cases, every_case: _Cases) -> list[MetricRow]:
    """The state at the end (every case, warm-up included: the queue is the queue), the
    enforcements inside the window (arrests and voluntary interviews, each and together),
    how the referrals ended, and the share of measured cases handed over."""
    rows: list[MetricRow] = []
    still_open = every_case.where(every_case.notna("stage_at_end"))
    rows.append(("backlog_at_end", "all", "all", len(still_open)))
    for grade in GRADES:
        rows.append(("backlog_at_end", "assigned_grade", grade, still_open.is_("assigned_grade", grade).sum()))
    for stage in STAGES:
        rows.append((STAGE_BACKLOG.name(stage), "all", "all", still_open.is_("stage_at_end", stage).sum()))
    # a voluntary interview ends the wait as an arrest does (its day is the arrest_day), but a
    # planner holds arrests against the published figures: each is counted apart
    enforced_in_window = ~every_case["censored"] & (every_case["arrest_day"] >= cfg.run.warmup_days)
    months = _window_years(cfg) * 12
    rows.append(("enforcements_per_month", "all", "all", enforced_in_window.sum() / months))
    for name, outcome in (("arrests_per_month", "arrest"), ("voluntary_interviews_per_month", "voluntary_interview")):
        rows.append((name, "all", "all", (enforced_in_window & every_case.is_("outcome", outcome)).sum() / months))
    referrals = measured.where(~measured["backlog"])
    for outcome in OUTCOMES:
        share = referrals.is_("outcome", outcome).mean() if len(referrals) else np.nan
        rows.append((OUTCOME_SHARE.name(outcome), "all", "all", share))
    rows.append(("handed_over_share", "all", "all", (measured["handoff_days"] > 0).mean() if len(measured) else np.nan))
    return rows


def _window_years(cfg: SimConfig) -> float:
    """The measurement window, from the warm-up's end to the horizon, in years."""
    return (cfg.run.horizon_days - cfg.run.warmup_days) / 365.0


def _child_days_at_risk(cases: _Cases, cfg: SimConfig) -> float:
    """Days children spent in a suspect's household, from the referral (or the window's
    start) to the earlier of arrest and safeguarding referral (else the case's end or the
    horizon), summed over cases with a child in the household."""
    with_child = cases.where(cases["child_in_household"])
    start = np.maximum(with_child["arrival_day"], cfg.run.warmup_days)
    stop = np.fmin(with_child["arrest_day"], with_child["safeguarding_day"])
    stop = np.where(np.isnan(stop), np.fmin(with_child["exit_day"], cfg.run.horizon_days), stop)
    stop = np.where(np.isnan(stop), cfg.run.horizon_days, stop)
    return float(np.clip(stop - start, 0, None).sum())


@functools.lru_cache(maxsize=None)
def t_quantile(q: float, df: int) -> float:
    """Student t quantile ``q`` with ``df`` degrees of freedom (cached: a summary asks for the
    same one hundreds of times)."""
    return float(stats.t.ppf(q, df))


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of independent replication values."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, np.nan, np.nan
    half_width = t_quantile(0.5 + level / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return mean, mean - half_width, mean + half_width


def summarise(results: RunTables, level: float = 0.95) -> pd.DataFrame:
    """One row per (force, metric, by, grade): the mean over replications and its t interval.
    A quantile that some replication never reached (survival still above 1-q at the end of
    follow-up) has no estimate; the note says in how many replications."""
    return summarise_metrics(replication_metrics(results), level)


def _within_range(metric_name: str, low: float, high: float) -> tuple[float, float]:
    """A t interval knows nothing of a metric's range: keep shares (the catalogue's unit
    ``share``) in [0, 1] and counts, times and rates at or above 0. A utilisation is a share
    of capacity that urgent work can take above 1, so only its floor holds."""
    floor = 0.0
    known = METRICS.get(metric_name)
    ceiling = 1.0 if known is not None and known.unit == "share" else np.inf
    return max(low, floor), min(high, ceiling)


def summarise_metrics(per_rep: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Summarise a ``replication_metrics`` frame (its ``region`` as the frame gives it:
    ``catalogue.regions_by_force``)."""
    rows = []
    # the groups of groupby(KEY_COLUMNS, sort=False, dropna=True), in the order they first
    # appear, each group's values in the table's order: found in one pass over the keys
    keys = per_rep[KEY_COLUMNS]
    complete = ~keys.isna().any(axis=1).to_numpy()
    positions: dict[tuple, list[int]] = {}
    for position, key in enumerate(keys.itertuples(index=False, name=None)):
        if complete[position]:
            positions.setdefault(key, []).append(position)
    all_values = per_rep["value"].to_numpy()
    region_of = regions_by_force(per_rep)
    for (force, metric_name, by, grade), chosen in positions.items():
        values = all_values[chosen]
        missing = int(np.isnan(values).sum())
        note = ""
        if missing == len(values):
            estimate = low = high = np.nan
            note = "no value in any replication"
        elif missing:
            estimate = low = high = np.nan
            note = f"not reached in {missing} of {len(values)} replications"
        else:
            estimate, low, high = t_interval(values, level)
            low, high = _within_range(metric_name, low, high)
        rows.append((force, region_of.get(force, ""), metric_name, by, grade, estimate, low, high, len(values), note))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def rows_by_force(summary: pd.DataFrame, metrics: Collection[str] | None = None,
                  columns: Sequence[str] = SUMMARY_VALUES, keep: Literal["first", "last"] = "last"
                  ) -> dict[str, SummaryRows]:
    """A summary's rows (``summarise``'s columns) by force, then by (metric, by, grade), each
    row a dict of its ``columns`` (the value columns by default; shares as fractions, times
    in days, as the summary has them), read in one pass. ``metrics`` keeps only those
    metrics' rows (all when None). A key that a frame holds twice (summaries joined) keeps
    its ``keep`` row: the first or the last in the frame's order. A key the summary lacks is
    simply absent: the caller chooses what stands for it."""
    names = tuple(columns)
    if keep not in ("first", "last") or not names:
        raise ValueError(f"keep={keep!r}, columns={names!r}: keep is 'first' or 'last', columns at least one")
    if metrics is not None:
        summary = summary[summary["metric"].isin(set(metrics))]
    # each column as a list once, then plain zips: quicker than itertuples on the tens of
    # thousands of rows of a nation's summary, and the same Python values
    if len(names) == 1:  # a display builds a one-entry dict quicker than dict(zip(...))
        rows = [{names[0]: value} for value in summary[names[0]].tolist()]
    else:
        rows = [dict(zip(names, values)) for values in zip(*(summary[name].tolist() for name in names))]
    found: dict[str, SummaryRows] = {}
    last = keep == "last"
    for force, metric, by, grade, row in zip(*(summary[name].tolist() for name in KEY_COLUMNS), rows):
        of_force = found.get(force)
        if of_force is None:
            of_force = found[force] = {}
        key = (metric, by, grade)
        if last or key not in of_force:
            of_force[key] = row
    return found


def table_by_true_risk(summary: pd.DataFrame, cfg: SimConfig) -> pd.DataFrame:
    """The planner's first table, for the whole region: by true risk, time to arrest (median, 90th and 99th
    percentile), the share past the grade's target and the cases past 18 months."""
    region_rows = summary[(summary["by"] == "true_risk") & (summary["force"] == cfg.total_name)]
    estimate = region_rows.set_index(["metric", "grade"])["estimate"]
    rows = {}
    for grade, target_days in zip(GRADES, cfg.targets_days.as_tuple()):
        rows[grade] = {
            "target_days": target_days,
            "median_days": estimate.get((TIME_TO_ARREST.name("p50"), grade)),
            "p90_days": estimate.get((TIME_TO_ARREST.name("p90"), grade)),
            "p99_days": estimate.get((TIME_TO_ARREST.name("p99"), grade)),
            "share_past_target": estimate.get(("share_past_target", grade)),
            "cases_past_18_months": estimate.get(("cases_past_18_months", grade)),
        }
    out = pd.DataFrame.from_dict(rows, orient="index").round(2)
    out.index.name = "true_risk"
    return out
