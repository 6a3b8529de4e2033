"""Findings in plain words, computed from a run's numbers: what limits the force (the binding
bottleneck and the next one), which units cannot keep up, which targets are met, how long the
misgraded high-risk suspects wait, and, for a comparison, what each lever changed and why a
lever moved a metric the wrong way.

Every sentence is built from the run's own tables (the summary, the pools and the work in
progress over time) and the configuration (headcounts, referrals), so a finding appears only
when the numbers say it: a test builds a configuration that triggers each one and one that
does not. The command line prints the first few under its table; the reports open with them.

A unit *cannot keep up* when its queue grows without bound: it works at ``SATURATED`` of its
capacity or more (over the run, or over its last tenth) and the cases at its stage grow to the
end of the run (``GROWING``). What *limits the force most* is, among the units working at
``BUSY`` or more, the one whose queue grew most (by use where no queue grew); the next is the
one after it. Measured use can pass 1 where urgent work comes on top of the hours or places a
unit has (worked overtime, or booked over the list). Findings are each force's: the units a
region shares (pooled teams, a triage hub, a surge unit) are in the pools table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..domain import DAYS_PER_YEAR, GRADES
from ..model.offered_load import start_load
from .catalogue import HEADLINE, LOWER, QUANTILE_WORDS, STAGE_BACKLOG, TIME_TO_ARREST, UTILISATION, metric
from .summary import SummaryRows, rows_by_force
from .tables import Results

SATURATED = 0.95
"""Measured use of capacity from which a unit counts as full: a queue in front of it grows
with any rise in demand."""
GROWING = 1.25
"""The cases at a unit's stage at the end of the run over their level a fifth of the way in,
from which the queue counts as growing without bound (and at least ``GROWING_CASES`` more)."""
GROWING_CASES = 20
BUSY = 0.80
"""Use of capacity below which no unit is called a bottleneck."""
SHIFT = 0.03
"""The rise in a capacity's use (a share of capacity) from which a comparison names it as the
constraint a lever moved the load onto."""
TARGET_MET_SHARE = 0.10
"""A grade's target counts as met when at most this share of its cases miss it."""

UNIT_WORDS: dict[str, tuple[str, str, str, str, str]] = {
    # pool: (the unit, one of its members, several, the stage whose queue it serves, what to add)
    "intake": ("intake", "intake researcher", "intake researchers", "intake", "intake staff"),
    "research": ("research", "researcher", "researchers", "research", "researchers"),
    "assessment": ("risk assessment", "assessor", "assessors", "assessment", "assessors"),
    "investigators": ("investigators' hands-on time", "investigator", "investigators", "planning", "investigators"),
    "caseload": ("investigators' caseload", "caseload slot", "caseload slots", "allocation",
                 "investigators or a higher caseload limit"),
    "court": ("warrant hearings", "hearing slot a sitting day", "hearing slots a sitting day", "warrant",
              "hearing slots"),
    "search_teams": ("search teams", "search team", "search teams", "execution", "search teams"),
}
"""How findings name each capacity of ``sim.results.catalogue.POOLS``."""
STAGE_WORDS = {"intake": "at intake", "research": "in research", "assessment": "waiting for risk assessment",
               "allocation": "waiting for an investigator", "planning": "at enforcement planning",
               "warrant": "at the warrant stage", "execution": "waiting for a search team",
               "post_arrest": "in post-arrest work"}
"""Where a stage's cases are, in words: "N cases {words}"."""
GRADE_WORDS = {"VH": "very high risk", "H": "high risk", "M": "medium risk", "L": "low risk"}


@dataclass(frozen=True)
class Finding:
    """One finding: its ``topic`` (``overload``, ``bottleneck``, ``targets``, ``misgraded``,
    ``lever`` or ``cost``), the ``force`` it is about (or the region's total) and its
    ``text``, one or two sentences with their numbers."""

    topic: str
    force: str
    text: str


def run_findings(results: Results, summary: pd.DataFrame | None = None) -> list[Finding]:
    """The findings of one run: what limits each force, its targets, its misgraded tail, then
    a warning for each unit that cannot keep up (``summary`` is ``results.summary()``, passed
    when already computed)."""
    summary = results.summary() if summary is None else summary
    run = _RunLookup(results, summary)
    findings: list[Finding] = []
    for force in _forces(results):
        rows = _Rows(run.rows_of(force))
        findings += overloaded_units(run, rows, force)
        findings += bottlenecks(run, rows, force)
        findings += targets(run, rows, force)
        findings += misgraded_tail(run, rows, force)
    order = ("bottleneck", "targets", "misgraded", "overload")
    return sorted(findings, key=lambda f: order.index(f.topic))


# --------------------------------------------------------------------------- one run


class _RunLookup:
    """A run's tables read once for all its forces' findings: the summary's rows, the work in
    progress and staff busy over time, and the pools, each by force; and the load each unit
    starts with. Each piece holds the rows the table has for it, in the table's order, so
    what is computed from it is what filtering the whole table would give."""

    def __init__(self, results: Results, summary: pd.DataFrame):
        self.results, self.config = results, results.config
        self._rows = rows_by_force(summary, columns=("estimate",))
        ts = results.timeseries
        self._replication, self._day = ts["replication"].to_numpy(), ts["day"].to_numpy()
        self._value = ts["value"].to_numpy()
        self._series = {key: positions for key, positions in
                        ts.groupby(["series", "force", "name"], sort=False, observed=True).indices.items()}
        pools = results.pools
        self._capacities = {key: pools["capacity"].to_numpy()[positions] for key, positions in
                            pools.groupby(["force", "pool"], sort=False).indices.items()}
        self._loads = None
        self._referrals = None

    def rows_of(self, force: str) -> SummaryRows:
        """The summary's rows for ``force`` by (metric, by, grade), each its ``estimate``."""
        return self._rows.get(force, {})

    def series(self, series: str, force: str, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The time series rows of ``series`` (``wip``, ``busy``) for ``force`` and ``name``:
        their replications, days and values."""
        positions = self._series.get((series, force, name), np.array([], dtype=np.intp))
        return self._replication[positions], self._day[positions], self._value[positions]

    def capacities(self, force: str, pool: str) -> np.ndarray:
        return self._capacities.get((force, pool), np.array([], dtype=float))

    @property
    def loads(self) -> list:
        """``start_load(cfg)``: the load each unit of each force starts with."""
        if self._loads is None:
            self._loads = start_load(self.config)
        return self._loads

    def referrals_of(self, force: str) -> pd.DataFrame:
        """``results.referrals`` of ``force``."""
        if self._referrals is None:
            referrals = self.results.referrals
            self._referrals = (referrals, referrals.groupby("force", sort=False, observed=True).indices)
        referrals, positions = self._referrals
        return referrals.take(positions.get(force, np.array([], dtype=np.intp)))


class _Rows:
    """The summary's estimates for one force, looked up by (metric, by, grade)."""

    def __init__(self, rows: SummaryRows):
        self.rows = rows

    def get(self, name: str, by: str = "all", grade: str = "all") -> float:
        row = self.rows.get((name, by, grade))
        return np.nan if row is None else float(row["estimate"])


def _forces(results: Results) -> list[str]:
    """The forces findings speak of: each force of a region, or the one force. Units a region
    shares (pooled teams, a triage hub, a surge unit) have no force's cases to speak of; their
    use is in the pools table and the summary."""
    cfg = results.config
    return list(cfg.force_names) if cfg.forces else [cfg.total_name]


def _utilisation(rows: _Rows) -> dict[str, float]:
    """Each pool's measured use of its capacity (mean over replications), where measured."""
    use = {pool: rows.get(UTILISATION.name(pool), "pool") for pool in UNIT_WORDS}
    return {pool: u for pool, u in use.items() if np.isfinite(u)}


def stage_growth(run: _RunLookup, force: str, stage: str) -> tuple[float, float]:
    """(cases at ``stage`` a fifth of the way through the measured window, cases there at the
    end), means over replications, from the work in progress over time."""
    replication, day, value = run.series("wip", force, stage)
    if not len(day):
        return np.nan, np.nan
    cfg_run = run.config.run
    early_day = cfg_run.warmup_days + 0.2 * (cfg_run.horizon_days - cfg_run.warmup_days)
    before = day[day <= early_day]
    return _mean_on(before.max() if len(before) else day.min(), replication, day, value), \
        _mean_on(day.max(), replication, day, value)


def _mean_on(on_day: float, replication: np.ndarray, day: np.ndarray, value: np.ndarray) -> float:
    """The cases summed over a day's rows, mean over the replications that sampled it. The
    values are whole numbers, so their sums are exact and the mean the same as pandas'."""
    chosen = day == on_day
    return float(value[chosen].sum(dtype=np.int64) / len(np.unique(replication[chosen])))


def _size(run: _RunLookup, force: str, pool: str) -> int:
    """The pool's headcount (or slots, or places a working day), as the pools table gives it;
    0 where the force has no such unit of its own."""
    sizes = run.capacities(force, pool)
    return int(round(np.nanmax(sizes))) if len(sizes) else 0  # as pandas' max, missing values skipped


def _referrals_per_month(run: _RunLookup, force: str) -> float:
    loads = [load for load in run.loads if load.force == force]
    return loads[0].referrals_per_month if loads else np.nan


def overloaded_units(run: _RunLookup, rows: _Rows, force: str) -> list[Finding]:
    """A finding for each unit of ``force`` whose queue grows without bound: it works at
    ``SATURATED`` or more of its capacity over the run or at the end, and the cases at its
    stage grow (``GROWING``)."""
    keys = {load.pool: load.key for load in run.loads if load.force == force}
    findings = []
    for pool, u in _utilisation(rows).items():
        unit, one, several, stage, more = UNIT_WORDS[pool]
        early, end = stage_growth(run, force, stage)
        growing = end >= GROWING * early and end - early >= GROWING_CASES
        full_at_end = end_use(run, force, pool)
        if not (growing and max(u, full_at_end) >= SATURATED):
            continue
        size = _size(run, force, pool)
        if size <= 0:
            continue
        key = keys.get(pool, "")
        referrals = _referrals_per_month(run, force)
        use = f"working at {_pct(u)} of capacity" + (f" ({_pct(full_at_end)} at the end)" if full_at_end > u + 0.05 else "")
        text = (f"{_force_prefix(run.results, force)}{unit[0].upper() + unit[1:]} cannot keep up: {size:,} "
                f"{one if size == 1 else several} for {referrals:,.0f} referrals a month at the start, {use}; "
                f"{end:,.0f} cases {STAGE_WORDS[stage]} at the end, up from {early:,.0f}. "
                f"Add {more}{f' ({key})' if key else ''} or expect these waits to keep growing.")
        findings.append(Finding("overload", force, text))
    return findings


def end_use(run: _RunLookup, force: str, pool: str) -> float:
    """Share of ``pool``'s staff or slots busy over the last tenth of the run (mean over
    replications); NaN for capacities the run does not sample (court, search teams)."""
    _, day, value = run.series("busy", force, pool)
    size = _size(run, force, pool)
    if not len(day) or size <= 0:
        return np.nan
    cfg_run = run.config.run
    last = value[day >= cfg_run.horizon_days - 0.1 * (cfg_run.horizon_days - cfg_run.warmup_days)]
    # whole numbers: their float sum is exact, as in pandas' mean
    return float(last.sum(dtype=np.float64) / len(last) / size) if len(last) else np.nan


def bottlenecks(run: _RunLookup, rows: _Rows, force: str) -> list[Finding]:
    """What limits ``force`` most, and next: among the units working at ``BUSY`` or more of
    their capacity, the one whose queue grew most over the run (by use of capacity where no
    queue grew); or that no unit is near its capacity."""
    ranked = []
    for pool, u in _utilisation(rows).items():
        early, end = stage_growth(run, force, UNIT_WORDS[pool][3])
        last = end_use(run, force, pool)
        at_end = bool(last > u + 0.05)
        use = last if at_end else u
        if use >= BUSY:
            ranked.append((end - early if np.isfinite(end - early) else 0.0, use, pool, early, end, at_end))
    prefix = _force_prefix(run.results, force)
    if not ranked:
        use = _utilisation(rows)
        if not use:
            return []
        busiest = max(use, key=use.get)
        return [Finding("bottleneck", force, f"{prefix}No unit is near its capacity: the busiest, "
                                             f"{UNIT_WORDS[busiest][0]}, works at {_pct(use[busiest])}.")]
    ranked.sort(key=lambda r: (-max(r[0], 0.0), -r[1]))

    def words(growth, use, pool, early, end, at_end):
        where = STAGE_WORDS[UNIT_WORDS[pool][3]]
        if not np.isfinite(end):
            queue = ""
        elif growth >= GROWING_CASES:
            queue = f"; {end:,.0f} cases {where} at the end, up from {early:,.0f}"
        elif growth <= -GROWING_CASES:
            queue = f"; {end:,.0f} cases {where} at the end, down from {early:,.0f}"
        else:
            queue = f"; its queue steady at about {end:,.0f} cases"
        return f"{UNIT_WORDS[pool][0]} ({_pct(use)} of capacity{' at the end' if at_end else ''}{queue})"

    text = f"{prefix}What limits the force most is {words(*ranked[0])}"
    if len(ranked) > 1:
        text += f"; next, {words(*ranked[1])}"
    return [Finding("bottleneck", force, text + ".")]


def targets(run: _RunLookup, rows: _Rows, force: str) -> list[Finding]:
    """Which grades' targets are met (at most ``TARGET_MET_SHARE`` of cases past them) and by
    how far the others are missed, by assigned grade."""
    met, missed = [], []
    for grade, target_days in zip(GRADES, run.config.targets_days.as_tuple()):
        late = rows.get("share_past_target", "assigned_grade", grade)
        if not np.isfinite(late):
            continue
        median = rows.get(TIME_TO_ARREST.name("p50"), "assigned_grade", grade)
        words = f"{GRADE_WORDS[grade]} ({target_days:g} day{'' if target_days == 1 else 's'})"
        if late <= TARGET_MET_SHARE:
            met.append(words)
        else:
            median_words = f"median {_days(median)}" if np.isfinite(median) else "median not reached"
            missed.append(f"{words}: {_pct(late)} of cases miss it, {median_words}")
    if not met and not missed:
        return []
    parts = []
    if missed:
        parts.append("Targets missed, " + "; ".join(missed) + ".")
    if met:
        parts.append("Targets met (9 in 10 cases or more): " + ", ".join(met) + ".")
    return [Finding("targets", force, _force_prefix(run.results, force) + " ".join(parts))]


def misgraded_tail(run: _RunLookup, rows: _Rows, force: str) -> list[Finding]:
    """How many of the truly high-risk suspects that were graded are graded medium or low,
    how long they wait (the summary's median), and how many a year wait over a year."""
    results = run.results
    cases = run.referrals_of(force) if results.config.forces else results.referrals
    cases = cases[(cases["force"] == force) & cases["true_risk"].isin(GRADES[:2])
                  & cases["assigned_grade"].notna()]
    low = cases[cases["assigned_grade"].isin(GRADES[2:])]
    if low.empty:
        return []
    one_in = len(cases) / len(low)
    median = rows.get(TIME_TO_ARREST.name("p50"), "misgraded_high_risk")
    waited = low["time_to_arrest_days"].fillna(low["followup_days"]) > DAYS_PER_YEAR
    cfg_run = results.config.run
    years = (cfg_run.horizon_days - cfg_run.warmup_days) / DAYS_PER_YEAR
    per_year = waited.sum() / max(results.cases["replication"].nunique(), 1) / years
    if cfg_run.horizon_days - low["arrival_day"].clip(lower=cfg_run.warmup_days).min() <= DAYS_PER_YEAR:
        many = "the run is too short to see who waits over a year"  # no follow-up reaches a year
    elif per_year >= 1.5:
        many = f"{per_year:,.0f} a year wait over a year"
    elif per_year >= 0.5:
        many = "about one a year waits over a year"
    else:
        many = "fewer than one a year waits over a year" if per_year > 0 else "none waits over a year"
    median_words = f"their median wait for arrest is {_days(median)}" if np.isfinite(median) else \
        "over half of them are not arrested within the run"
    text = (f"{_force_prefix(results, force)}1 in {one_in:.0f} truly high-risk suspects is graded medium or low; "
            f"{median_words}, and {many}.")
    return [Finding("misgraded", force, text)]


# --------------------------------------------------------------------------- comparisons


def comparison_findings(table: pd.DataFrame, force: str) -> list[Finding]:
    """For each scenario of a comparison (``Comparison.table``, one force's rows): its largest
    real improvement among the headline metrics, and each headline metric it made worse
    (the interval of the paired difference excluding 0), with the capacity whose use rose
    most as the reason."""
    rows = table[table["force"] == force]
    findings = []
    for scenario, own in rows.groupby("scenario", sort=False):
        better, worse = [], []
        for row in headline_rows(own).itertuples(index=False):
            verdict = verdict_of(row)
            if verdict in ("better", "worse"):
                (better if verdict == "better" else worse).append(row)
        if better:
            best = max(better, key=lambda r: abs(r.relative_difference) if np.isfinite(r.relative_difference) else 0)
            label, values = _described(best)
            findings.append(Finding("lever", force, f"{scenario} improves the {label}: {values}."))
        cost = _cost_words(scenario, own)
        if cost:
            findings.append(Finding("cost", force, cost))
        if worse:
            reason = _shifted_bottleneck(own)
            measures = "; ".join("the {} worse: {}".format(*_described(row)) for row in worse)
            findings.append(Finding("lever", force, f"{scenario} makes {measures}"
                                                    f"{f'. Why: {reason}' if reason else ''}."))
    return findings


def no_comparison_findings(replications: int) -> str:
    """What a comparison says when it has no finding: with one replication there is no
    interval to tell a difference from noise; otherwise nothing changed beyond it."""
    if replications < 2:
        return "One replication gives no intervals: run more (run.replications) to tell a real difference from noise."
    return "No scenario changes a headline measure by more than its run-to-run noise."


def _cost_words(scenario: str, own: pd.DataFrame) -> str:
    """What ``scenario`` costs a year against the baseline and, where it cuts the child-days
    at risk (its interval below 0), what each child-day avoided costs; "" where costs are
    not in the table or do not change."""
    row = {m: r for m, r in zip(own["metric"], own.itertuples(index=False)) if m in
           ("staffing_cost_per_year", "cost_per_arrest", "child_days_at_risk_per_year")}
    cost = row.get("staffing_cost_per_year")
    if cost is None or not np.isfinite(cost.difference) or abs(cost.difference) < 1:
        return ""
    if cost.ci_low <= 0 <= cost.ci_high:  # the hearings held vary: a change within that is none
        return (f"{scenario} costs about the same a year ({money_text(cost.baseline)} → {money_text(cost.value)}, "
                f"a difference within the run-to-run noise, at the prices in the costs settings).")
    more = "more" if cost.difference > 0 else "less"
    text = (f"{scenario} costs {money_text(abs(cost.difference))} a year {more} ({money_text(cost.baseline)} → "
            f"{money_text(cost.value)}, at the prices in the costs settings)")
    per_arrest = row.get("cost_per_arrest")
    if per_arrest is not None and np.isfinite(per_arrest.value):
        text += f"; {money_text(per_arrest.value)} per arrest against {money_text(per_arrest.baseline)}"
    harm = row.get("child_days_at_risk_per_year")
    if harm is not None and harm.ci_high < 0 and cost.difference > 0:
        text += f"; {money_text(cost.difference / -harm.difference)} per child-day at risk avoided"
    return text + "."


def money_text(pounds: float) -> str:
    """Pounds as a planner reads them: ``£2.97 million``, ``£9,620``."""
    if not np.isfinite(pounds):
        return "n/a"
    if abs(pounds) >= 1e6:
        return f"£{pounds / 1e6:,.2f} million"
    return f"£{pounds:,.0f}"


def headline_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of a comparison table that are headline metrics (``catalogue.HEADLINE``)."""
    keys = rows[["metric", "by", "grade"]].itertuples(index=False)
    return rows[[tuple(key) in HEADLINE for key in keys]]


def verdict_of(row) -> str:
    """``better`` or ``worse`` where a difference's interval excludes 0 and its metric has a
    better direction; ``higher`` or ``lower`` where it has none; ``no interval`` where there
    is none (one replication); else ``no real difference``."""
    if not (np.isfinite(row.ci_low) and np.isfinite(row.ci_high)):
        return "no interval" if np.isfinite(row.difference) else "no value"
    if not (row.ci_low > 0 or row.ci_high < 0):
        return "no real difference"
    direction = metric(row.metric).better
    if not direction:
        return "higher" if row.difference > 0 else "lower"
    return "better" if (row.difference < 0) == (direction == LOWER) else "worse"


def _described(row) -> tuple[str, str]:
    """(the metric row in words, baseline to scenario with the difference and its interval)."""
    label, unit = metric_words(row.metric, row.by, row.grade)
    return label, (f"{value_text(row.baseline, unit)} → {value_text(row.value, unit)} "
                   f"({difference_text(row.difference, unit)}, 95 % interval {interval_text(row.ci_low, row.ci_high, unit)})")


def _shifted_bottleneck(own: pd.DataFrame) -> str:
    """Why a lever made something worse: the capacity whose use rose most (by ``SHIFT`` or
    more, to ``BUSY`` or more) and the stage whose queue at the end grew most (its interval
    above 0), in words; "" if neither."""
    use = own[(own["by"] == "pool") & own["metric"].str.startswith("utilisation_")]
    use = use[(use["value"] >= BUSY) & (use["difference"] >= SHIFT)]
    queues = own[own["metric"].map(STAGE_BACKLOG.member_of).notna() & (own["ci_low"] > 0)]
    queue = ""
    if not queues.empty:
        grew = queues.loc[queues["difference"].idxmax()]
        stage = STAGE_BACKLOG.member_of(grew["metric"])
        queue = f"{grew['baseline']:,.0f} → {grew['value']:,.0f} cases {STAGE_WORDS.get(stage, 'at ' + stage)} at the end"
    if use.empty:
        return f"the queue moved on to the next stage ({queue})" if queue else ""
    rose = use.loc[use["difference"].idxmax()]
    pool = UTILISATION.member_of(rose["metric"])
    return (f"{UNIT_WORDS[pool][0]} became the constraint ({_pct(rose['baseline'])} → {_pct(rose['value'])} "
            f"of capacity{'; ' + queue if queue else ''})")


# --------------------------------------------------------------------------- words


def metric_words(name: str, by: str, grade: str) -> tuple[str, str]:
    """(a planner's words for the metric row, its unit): ``("median time to arrest of truly
    high-risk cases", "days")`` for (``time_to_arrest_p50_days``, ``true_risk``, ``H``)."""
    entry = metric(name)
    risk = GRADE_WORDS.get(grade, grade).replace(" risk", "-risk")
    whose = {"true_risk": f" of truly {risk} cases", "assigned_grade": f" of cases graded {GRADE_WORDS.get(grade, grade)}",
             "misgraded_high_risk": " of misgraded high-risk cases", "initial_backlog": " of the starting backlog",
             "pool": "", "all": ""}[by]
    quantile = TIME_TO_ARREST.member_of(name)
    pool = UTILISATION.member_of(name)
    if quantile:
        what = QUANTILE_WORDS[quantile]
        label = f"{what} time to arrest{whose}"
    elif name == "share_past_target":
        label = f"share{whose} past target"
    elif name == "longest_wait_days":
        label = f"longest wait{whose}"
    elif pool:
        label = f"use of {UNIT_WORDS[pool][0]}"
    else:
        label = {"cases_past_18_months": "cases waiting past 18 months", "child_days_at_risk_per_year":
                 "child-days at risk a year", "backlog_at_end": "cases open at the end"}.get(name, entry.meaning) + whose
    return label, entry.unit


def interval_text(low: float, high: float, unit: str) -> str:
    """An interval of differences, the unit written once: ``"−217.1 to −107.2 days"``."""
    low_text, high_text = difference_text(low, unit), difference_text(high, unit)
    for suffix in (" days", " points"):
        if low_text.endswith(suffix) and high_text.endswith(suffix):
            return f"{low_text.removesuffix(suffix)} to {high_text}"
    return f"{low_text} to {high_text}"


def value_text(value: float, unit: str) -> str:
    """``value`` of a metric in ``unit`` as the reports write it: shares as whole percentages,
    days to 1 decimal, counts whole; ``n/a`` where it does not exist."""
    return _formatter(unit)(value)


def difference_text(value: float, unit: str) -> str:
    """A difference in ``unit`` with its sign (a true minus sign); of shares, in percentage points."""
    if unit in ("share", "share of capacity"):
        return _signed(lambda v: f"{v * 100:.0f} points" if np.isfinite(v) else "n/a", value)
    return _signed(_formatter(unit), value)


def _formatter(unit: str):
    if unit in ("share", "share of capacity"):
        return lambda v: _pct(v) if np.isfinite(v) else "n/a"
    if unit == "days":
        return lambda v: f"{v:,.1f} days" if np.isfinite(v) else "n/a"
    return lambda v: f"{v:,.0f}" if np.isfinite(v) else "n/a"


def _signed(fmt, value: float) -> str:
    text = fmt(abs(value))
    return text if not np.isfinite(value) else ("+" if value >= 0 else "−") + text


def _days(days: float) -> str:
    """Days in words a planner reads: ``1 day``, ``19 days``, ``7 months``."""
    if not np.isfinite(days):
        return "n/a"
    if days < 1.5:
        return f"{days:.1f} days"
    if days < 120:
        return f"{days:.0f} days"
    return f"{days / (DAYS_PER_YEAR / 12):.0f} months"


def _pct(share: float) -> str:
    """A share as a whole percentage, as the reports write it: ``"54 %"``."""
    return f"{share * 100:.0f} %"


def _force_prefix(results: Results, force: str) -> str:
    return f"{force}: " if results.config.forces else ""
