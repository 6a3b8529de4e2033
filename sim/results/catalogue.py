"""The catalogue of metrics: every metric the summary gives, once, with its unit, what it
measures and which way is better; the columns that key a metric's row; and the named
selections of (metric, by, grade) keys that other modules read (the headline differences,
the tail a sensitivity analysis regresses, the outputs a replication study follows).

A metric's row is keyed by ``KEY_COLUMNS``: the ``force`` (or the region's total, or the
unit's owner), the ``metric`` (a name below), ``by`` (how its cases were chosen,
``BREAKDOWNS``) and ``grade`` (the grade within ``by``, or ``all``); the tables show the
force's ``region`` beside it (``ROW_COLUMNS``). Within one force a row is a
(metric, by, grade) ``MetricKey``: the selections are tuples of those.

Metrics that come one per stage, pool, quantile or fixed day are families
(``MetricFamily``): the family names its members (``STAGE_TIME.name("planning")`` is
``"mean_time_days_planning"``) and tells a member's name back (``member_of``).

>>> from sim.results.catalogue import METRICS, STAGE_TIME, metric
>>> metric("share_past_target").unit
'share'
>>> STAGE_TIME.member_of("mean_time_days_planning")
'planning'
>>> "utilisation_investigators" in METRICS
True
"""

from __future__ import annotations

from dataclasses import dataclass

from ..domain import EIGHTEEN_MONTHS_DAYS, GRADES, OUTCOMES, STAGES, TIMED_STAGES

KEY_COLUMNS = ["force", "metric", "by", "grade"]
"""The columns that key a metric's row in the per-replication metrics, the summary, the
comparison, the sensitivity indices and the replication study's tables."""
ROW_COLUMNS = ["force", "region", *KEY_COLUMNS[1:]]
"""The columns that name a metric's row in those tables: the key, with the ``force``
label's region beside it (``SimConfig.region_of_owner``: a function of ``force``, so not
part of the key; ``""`` where there is none)."""
REPLICATION_METRIC_COLUMNS = ["scenario", "replication", *ROW_COLUMNS, "value"]
"""``replication_metrics``: one row per replication and key."""
SUMMARY_COLUMNS = [*ROW_COLUMNS, "estimate", "ci_low", "ci_high", "n_replications", "note"]
"""``summarise``: one row per key, the mean over replications and its interval."""
SUMMARY_COLUMN_TYPES: dict[str, str] = {"force": "string", "region": "string", "metric": "string", "by": "string",
                                        "grade": "string", "estimate": "float64", "ci_low": "float64",
                                        "ci_high": "float64", "n_replications": "int64", "note": "string"}
"""The Arrow type of each summary column, as a sweep table (``sweep.parquet``) stores it."""


def regions_by_force(table) -> dict[str, str]:
    """Each ``force`` label's region as the ``region`` column of ``table`` (a frame of one of
    the tables above) gives it: the first value that is not missing (a CSV read with pandas'
    defaults reads ``""`` as missing). Empty if the table has no ``region`` column (a
    frame made by hand, or written before the column existed): its forces have no region."""
    if "region" not in table.columns:
        return {}
    known = table[["force", "region"]].dropna().drop_duplicates("force")
    return dict(zip(known["force"], known["region"]))

MetricKey = tuple[str, str, str]
"""(metric, by, grade): one row of a summary within one force."""

BREAKDOWNS: dict[str, str] = {
    "all": "every measured referral of the run (or the whole force, for counts at the end)",
    "true_risk": "referrals of one true risk grade",
    "assigned_grade": "referrals of one grade as the assessment gave it",
    "misgraded_high_risk": "truly very-high and high-risk referrals graded lower",
    "initial_backlog": "the cases already waiting at day 0",
    "pool": "one staff pool or capacity (utilisation rows)",
}
"""The values of the ``by`` column, and which cases each row describes."""
HIGH_RISK_GRADES: tuple[str, ...] = GRADES[:2]
"""The true risks whose misgrading the ``misgraded_high_risk`` rows follow (VH and H)."""

POOLS: dict[str, str] = {
    "intake": "intake staff, contracted hours",
    "research": "researchers, contracted hours",
    "assessment": "risk assessors, contracted hours",
    "investigators": "investigators' hands-on time, contracted hours",
    "caseload": "investigators' caseload slots, slot-days",
    "court": "warrant hearing slots, places booked",
    "search_teams": "search-team executions, places booked",
}
"""The capacities whose use the ``utilisation_*`` metrics report (``Results.pools``)."""

LOWER = "lower"
HIGHER = "higher"
NEITHER = ""


@dataclass(frozen=True)
class Metric:
    """One metric of the summary: its ``name`` (the ``metric`` column), ``unit``, what it
    measures, and which way is ``better`` (``"lower"``, ``"higher"``, or ``""`` where
    neither is, as for a count of cases or a utilisation)."""

    name: str
    unit: str
    meaning: str
    better: str = LOWER


@dataclass(frozen=True)
class MetricFamily:
    """Metrics that come one per member (a stage, a pool, a quantile): ``template`` holds
    ``{member}`` where the member's name goes; ``meaning`` may too."""

    template: str
    members: tuple[str, ...]
    unit: str
    meaning: str
    better: str = LOWER

    def name(self, member: str) -> str:
        """The metric's name for ``member``."""
        return self.template.format(member=member)

    def member_of(self, metric_name: str) -> str | None:
        """The member whose metric ``metric_name`` is, or None if it is not of this family."""
        return next((m for m in self.members if self.name(m) == metric_name), None)

    def metrics(self) -> tuple[Metric, ...]:
        """Every member's metric."""
        return tuple(Metric(self.name(m), self.unit, self.meaning.format(member=m), self.better)
                     for m in self.members)


TIME_TO_ARREST_QUANTILES: dict[str, float] = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99}
"""The Kaplan-Meier quantiles of time to arrest the summary gives, by name."""
QUANTILE_WORDS: dict[str, str] = {"p50": "median", "p90": "90th percentile", "p95": "95th percentile",
                                  "p99": "99th percentile"}
"""How the reports, findings and figures write each quantile."""

TIME_TO_ARREST = MetricFamily(
    "time_to_arrest_{member}_days", tuple(TIME_TO_ARREST_QUANTILES), "days",
    "Kaplan-Meier {member} quantile of days from referral to arrest")
SHARE_WAITING_DAYS: dict[str, float] = {"30": 30.0, "90": 90.0, "180": 180.0, "365": 365.0}
"""The fixed days at which the summary gives the Kaplan-Meier share still waiting, by name
(``share_waiting_past_{member}_days``). The fifth point of the family, 548 days, is the
older ``share_past_18_months``, not repeated here."""
SHARE_WAITING_PAST = MetricFamily(
    "share_waiting_past_{member}_days", tuple(SHARE_WAITING_DAYS), "share",
    "Kaplan-Meier share not arrested by {member} days after referral (548 days: share_past_18_months)")
RESTRICTED_MEAN_DAYS = EIGHTEEN_MONTHS_DAYS
"""The horizon (tau) of the restricted mean time to arrest, days: 18 months."""
RESTRICTED_MEAN_TIME_TO_ARREST = "restricted_mean_time_to_arrest_548_days"
"""The restricted mean's metric name (its horizon in it)."""
TIME_FROM_DAY0_TO_ARREST = MetricFamily(
    "time_from_day0_to_arrest_{member}_days", ("p50", "p90"), "days",
    "initial backlog: Kaplan-Meier {member} quantile of days from day 0 to arrest")
TIME_TO_SAFEGUARDING = MetricFamily(
    "time_to_safeguarding_{member}_days", ("p50", "p90"), "days",
    "Kaplan-Meier {member} quantile of days from referral to safeguarding referral (children in the household)")
STAGE_WAIT = MetricFamily(
    "mean_wait_days_{member}", TIMED_STAGES, "days",
    "mean days waiting for the {member} stage's resource, over cases that entered it")
STAGE_TIME = MetricFamily(
    "mean_time_days_{member}", TIMED_STAGES, "days",
    "mean days in the {member} stage, waiting and worked, over cases that entered it")
STAGE_BACKLOG = MetricFamily(
    "backlog_at_end_{member}", STAGES, "cases", "cases open at the horizon in the {member} stage")
UTILISATION = MetricFamily(
    "utilisation_{member}", tuple(POOLS), "share of capacity",
    "use of the {member} capacity inside the window (above 1 where urgent work comes on top)", NEITHER)

OUTCOME_SHARE = MetricFamily(
    "share_ending_{member}", OUTCOMES, "share",
    "share of the referrals measured whose case ended as {member} by the horizon (open: not ended)", NEITHER)

FAMILIES: tuple[MetricFamily, ...] = (TIME_TO_ARREST, SHARE_WAITING_PAST, TIME_FROM_DAY0_TO_ARREST, TIME_TO_SAFEGUARDING,
                                      STAGE_WAIT, STAGE_TIME, STAGE_BACKLOG, UTILISATION, OUTCOME_SHARE)

_SINGLE_METRICS: tuple[Metric, ...] = (
    Metric("cases", "cases", "cases counted", NEITHER),
    Metric("time_to_arrest_max_days", "days", "longest observed referral-to-arrest time"),
    Metric("longest_wait_days", "days", "longest follow-up of any case, arrested or not"),
    Metric("share_past_target", "share", "Kaplan-Meier share not arrested by the grade's target"),
    Metric("share_past_18_months", "share", "Kaplan-Meier share not arrested by 548 days"),
    Metric("cases_past_18_months", "cases", "cases whose follow-up passed 548 days without an arrest before it"),
    Metric(RESTRICTED_MEAN_TIME_TO_ARREST, "days",
           "restricted mean days from referral to arrest up to 548 days: the area under the Kaplan-Meier survival "
           "curve from 0 to 548 days, the mean wait with every wait cut at 548 days"),
    Metric("share_open_at_end", "share", "initial backlog: share still open at the horizon"),
    Metric("child_days_at_risk_per_year", "child-days per year",
           "days from referral to the earlier of arrest and safeguarding referral, summed over cases with a child "
           "in the household, per year of the window"),
    Metric("backlog_at_end", "cases", "cases open at the horizon"),
    Metric("arrests_per_month", "arrests per month", "arrests inside the window, per month (voluntary interviews "
           "not counted)", HIGHER),
    Metric("voluntary_interviews_per_month", "interviews per month",
           "voluntary interviews after a warrant's execution inside the window, per month", HIGHER),
    Metric("enforcements_per_month", "enforcements per month",
           "arrests and voluntary interviews inside the window, per month: the events that end time to arrest", HIGHER),
    Metric("staffing_cost_per_year", "pounds a year",
           "what the posts in post (search teams too) and the warrant hearings held cost a year, at the prices "
           "of the costs settings", NEITHER),
    Metric("cost_per_arrest", "pounds", "the staffing cost of the window over its arrests (voluntary interviews "
           "not counted)"),
    Metric("handed_over_share", "share", "share of cases handed between units at least once", NEITHER),
)

METRICS: dict[str, Metric] = {m.name: m for m in (*_SINGLE_METRICS, *(m for f in FAMILIES for m in f.metrics()))}
"""Every metric the summary can give, by name."""


def metric(name: str) -> Metric:
    """The catalogue's entry for metric ``name``; KeyError naming the catalogue if it has none."""
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a metric of sim.results.catalogue") from None


# The metrics a planner reads first (the forest plot's rows and the report's table).
HEADLINE: tuple[MetricKey, ...] = (
    *[(TIME_TO_ARREST.name(q), "true_risk", g) for g in GRADES for q in ("p50", "p90")],
    *[("share_past_target", "assigned_grade", g) for g in GRADES],
    ("longest_wait_days", "misgraded_high_risk", "all"),
    ("cases_past_18_months", "all", "all"),
    ("child_days_at_risk_per_year", "all", "all"),
    ("backlog_at_end", "all", "all"),
    (UTILISATION.name("investigators"), "pool", "all"),
)
"""The headline differences of a comparison, in the order they are shown."""

TAIL_METRICS: tuple[MetricKey, ...] = (
    (RESTRICTED_MEAN_TIME_TO_ARREST, "all", "all"),
    ("share_past_18_months", "all", "all"),
    ("cases_past_18_months", "all", "all"),
    (RESTRICTED_MEAN_TIME_TO_ARREST, "true_risk", "H"),
    ("share_past_target", "true_risk", "H"),
    ("time_to_arrest_p99_days", "all", "all"),
)
"""The tail of the time-to-arrest distribution, the default metrics of a sensitivity analysis.
First five that a congested design defines at every point, however many referrals are
still waiting when the run ends (given runs that can follow a referral for 18 months): the
restricted mean days to arrest up to 18 months (the whole curve's area to 548 days), the
Kaplan-Meier share and the count of referrals waiting past 18 months, the truly high-risk
referrals' restricted mean (their part of the tail), and their share not arrested within
the 7-day target (near 1 around the stressed baseline, so a weak signal there). Last, as
an extra, the 99th percentile of days to arrest: it does not exist where more than 1 % of
referrals are never arrested within follow-up (most points of the preset around the
stressed baseline), and such points drop out of its fit (``n_dropped``). A quantile of the
high-risk referrals (their 90th percentile) is left out for the same reason: the
restricted mean measures that part of the tail at every point."""

REPLICATION_KEYS: tuple[MetricKey, ...] = (
    ("time_to_arrest_p50_days", "true_risk", "H"),
    ("time_to_arrest_p90_days", "true_risk", "H"),
    ("time_to_arrest_p50_days", "true_risk", "L"),
    ("time_to_arrest_p50_days", "misgraded_high_risk", "all"),
    ("longest_wait_days", "misgraded_high_risk", "all"),
    ("cases_past_18_months", "all", "all"),
    ("child_days_at_risk_per_year", "all", "all"),
    ("backlog_at_end", "all", "all"),
)
"""The tail and backlog outputs a replication study follows by default. The low-risk 90th
percentile is left out: in the baseline it lies beyond the four years in about one
replication in six, so it has no mean to be precise about."""

SELECTIONS: dict[str, tuple[MetricKey, ...]] = {"headline": HEADLINE, "tail": TAIL_METRICS,
                                                "replication": REPLICATION_KEYS}
"""Every named selection, by name."""
