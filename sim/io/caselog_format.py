"""The case log's vocabulary: its columns, the values each may hold, and how a cell's text is
read as a date, a category or a truth value (docs/caselog.md).

Every reader here takes the text of a whole column (blanks as ``""``) and returns the typed
column together with a mask of the cells it could not read, so the caller names the first
bad row; nothing here knows about files or rows.
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd

from ..config.backlog import TRUTH
from ..domain import GRADES, SOURCES

CASE_LOG_COLUMNS: tuple[str, ...] = (
    "case_id", "referral_date", "source", "grade", "graded_date", "allocated_date", "warrant_applied_date",
    "warrant_decision", "warrant_decision_date", "enforcement_date", "outcome", "closed_date", "regraded_to",
    "child_in_household",
)
"""Every column of a case log, in the documented order (the canonical frame's order too)."""
REQUIRED_COLUMNS: tuple[str, ...] = ("case_id", "referral_date")
DATE_COLUMNS: tuple[str, ...] = (
    "referral_date", "graded_date", "allocated_date", "warrant_applied_date",
    "warrant_decision_date", "enforcement_date", "closed_date",
)
WARRANT_DECISIONS: tuple[str, ...] = ("granted", "refused")
LOG_OUTCOMES: tuple[str, ...] = ("arrest", "voluntary_interview", "no_further_action", "untraceable", "duplicate")
"""How a case in the log ended; blank = still open at the extract date."""
ENFORCEMENT_OUTCOMES: tuple[str, ...] = ("arrest", "voluntary_interview")
"""Outcomes only a warrant's execution gives: the enforcement_date is the date they closed."""

CATEGORIES: dict[str, tuple[str, ...]] = {
    "source": SOURCES,
    "grade": GRADES,
    "warrant_decision": WARRANT_DECISIONS,
    "outcome": LOG_OUTCOMES,
    "regraded_to": GRADES,
}
"""The fixed categories of each categorical column (grades most urgent first)."""

# The earliest and latest years a date may have: outside them it is a typo (0024, 20024), and
# pandas' nanosecond dates end in 2262 anyway.
FIRST_YEAR, LAST_YEAR = 1900, 2199
DATE_FORMATS = (f"dates are YYYY-MM-DD (a time after it is ignored) or DD/MM/YYYY (day first, never month first), "
                f"in the years {FIRST_YEAR} to {LAST_YEAR}")

_TIME = r"(?:[T ](?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?"
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})" + _TIME)
_UK = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})" + _TIME.replace("[T ]", " "))


def parse_date(text: str) -> date | None:
    """The date ``text`` names (ISO or UK day-first, a time part ignored), or None if it is none."""
    if match := _ISO.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
    elif match := _UK.fullmatch(text):
        day, month, year = (int(part) for part in match.groups())
    else:
        return None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    try:
        return date(year, month, day)
    except ValueError:  # 31/02, month 13
        return None


def distinct(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``text`` as (codes, distinct values): a log repeats its values many times over, so each
    distinct one is read once and the answer taken by code."""
    return pd.factorize(text.to_numpy(dtype=object))


def nonblank(text: pd.Series) -> np.ndarray:
    """The mask of the cells of ``text`` that are not blank."""
    codes, values = distinct(text)
    return np.array([value != "" for value in values], dtype=bool)[codes]


def read_dates(text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """A column of text as datetime64[ns] at midnight (blank -> NaT), and the mask of cells
    that name no date."""
    codes, values = distinct(text)
    days = [parse_date(value) if value else None for value in values]
    dates = np.array([np.datetime64(day, "ns") if day else np.datetime64("NaT", "ns") for day in days],
                     dtype="datetime64[ns]")
    bad = np.array([value != "" and day is None for value, day in zip(values, days)], dtype=bool)
    return pd.Series(dates[codes], index=text.index), bad[codes]


def _normal_name(text: str) -> str:
    """A category's text as the vocabulary spells it: lower case, spaces and hyphens as underscores."""
    return re.sub(r"[\s\-]+", "_", text.lower())


def read_category(text: pd.Series, column: str) -> tuple[pd.Series, np.ndarray]:
    """A column of text as a Categorical of ``CATEGORIES[column]``, in any letter case (blank ->
    NaN, or ``nca`` for ``source``), and the mask of cells holding another value."""
    categories = CATEGORIES[column]
    spelled = {_normal_name(name): name for name in categories}
    if column == "source":
        spelled[""] = "nca"  # the default: most referrals reach a force as NCA packages
    codes, values = distinct(text)
    # -1, a missing category, for a blank or an unknown value
    known = np.array([categories.index(spelled[_normal_name(value)]) if _normal_name(value) in spelled else -1
                      for value in values], dtype=np.int64)
    bad = np.array([value != "" for value in values], dtype=bool) & (known < 0)
    return pd.Series(pd.Categorical.from_codes(known[codes], categories=categories), index=text.index), bad[codes]


def category_allowed(column: str) -> str:
    """What a categorical column may hold, as a message says it."""
    blank = "blank (nca)" if column == "source" else "blank"
    return f"one of {', '.join(CATEGORIES[column])} (any letter case) or {blank}"


def read_truth(text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """A column of text as pandas "boolean" (true/false, 1/0, yes/no in any letter case; blank
    -> <NA>), and the mask of cells holding anything else."""
    codes, values = distinct(text)
    truths = np.array([TRUTH.get(value.lower()) for value in values], dtype=object)
    bad = np.array([value.lower() not in TRUTH for value in values], dtype=bool)
    return pd.Series(pd.array(truths[codes], dtype="boolean"), index=text.index), bad[codes]


TRUTH_ALLOWED = "true/false, 1/0, yes/no (any letter case) or blank"
