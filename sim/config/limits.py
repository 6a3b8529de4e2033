"""The largest (and a few smallest) values the schema accepts, each with its reason.

Every count, horizon, duration and rate has a bound far beyond any real use, so that a typo
(an extra zero, ``1e9`` for ``1e3``) or an absurd value is refused with one line before a
run starts instead of exhausting memory, overflowing, or running for ever. The reason is
said in the error message:

>>> from sim.config.limits import REPLICATIONS
>>> REPLICATIONS.allowed()
'must be at most 100,000 (far more than any confidence interval needs)'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import check


def format_number(value: float) -> str:
    """``value`` as the messages print it: whole numbers with thousands separators."""
    if isinstance(value, int) or float(value).is_integer() and abs(value) < 1e16:
        return f"{int(value):,}"
    return f"{value:.6g}"


@dataclass(frozen=True)
class Limit:
    """A bound on a kind of key: ``value`` and why it lies there (said when it is broken)."""

    value: float
    why: str
    lowest: bool = False  # a least value, not a largest

    def allowed(self) -> str:
        """What is allowed, as an error message says it."""
        word = "least" if self.lowest else "most"
        return f"must be at {word} {format_number(self.value)} ({self.why})"

    def check(self, key: str, value: Any) -> None:
        """Raise ConfigError naming ``key`` unless ``value`` keeps within the bound."""
        ok = value >= self.value if self.lowest else value <= self.value
        check(ok, key, value, self.allowed())


MAX_CASES_PER_REPLICATION = 2_000_000
"""Cases one force may expect in a replication: a guard against a typo (a rate per year given
per month, an extra zero) exhausting memory; a hundred times a large force's four years."""

CASES = Limit(MAX_CASES_PER_REPLICATION, "cases in one replication")

# Run control.
REPLICATIONS = Limit(100_000, "far more than any confidence interval needs")
SEED = Limit(2**63 - 1, "a 64-bit integer, as manifests and tables store it")
# The model projects demand and staff over years; a century is past any plan, and keeps
# every time (and the growth of demand over it) far inside floating-point range.
HORIZON_DAYS = Limit(36_525, "a century")
WORKERS = Limit(1_024, "local processes; far more than any machine's cores")
# A sampling or review interval of a minute is finer than any working rhythm, yet the clock
# still moves on by it at a century's horizon (a tinier step would leave it standing).
INTERVAL_DAYS = Limit(1 / 1440, "a minute, in days", lowest=True)

# Days of any kind (ages, lead times, programmes, validity, targets, mean delays): a century.
DAYS = Limit(36_525, "a century")

# Demand.
GROWTH_PER_YEAR = Limit(10.0, "an elevenfold rise every year")
# One month's referrals past the cases a whole replication may hold is a typo (a year's count,
# an extra zero) even where the month lies beyond the horizon.
REFERRALS_PER_MONTH = Limit(MAX_CASES_PER_REPLICATION, "referrals in one month: as many cases as a whole replication may hold")
REFERRAL_SCHEDULE_MONTHS = Limit(1_200, "a century, the longest horizon")
SUSPECTS_PER_PACKAGE = Limit(10_000, "mean extra suspects in one bulk package")

# People and places.
HEADCOUNT = Limit(10_000, "people in one unit; far more than any force's child abuse teams")
CASELOAD = Limit(1_000, "cases one investigator holds at once")
DAILY_PLACES = Limit(10_000, "places a court or the search teams have in one day")
SPEEDUP = Limit(1_000, "people working one urgent case at once")
ATTRITION_PER_YEAR = Limit(365, "staff staying a day on average")
FORCES = Limit(100, "forces in one region; the UK has fewer than fifty")

# Money.
PRICE = Limit(10_000_000, "pounds for one post a year, one day or one hearing; far beyond any police pay")

# Below these, an hour of effort takes so long in elapsed time that the clock overflows.
WORKING_DAY_HOURS = Limit(1 / 60, "a minute, in hours", lowest=True)
AVAILABILITY = Limit(0.001, "a thousandth of contracted hours left for casework", lowest=True)

# Work.
# Some six years of one person's working hours for one case at one stage: an effort past it
# is a typo, and would leave every case open and every median undefined.
EFFORT_HOURS = Limit(10_000, "hours of effort on average: some six working years for one case at one stage")
EFFORT_MULTIPLIER = Limit(100, "times the effort of a trained colleague")
# Each application a warrant may take stores two draws per case, drawn before the run.
APPLICATIONS = Limit(100, "applications for one warrant")
