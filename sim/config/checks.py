"""Bounds declared on the schema's fields, and the walker that checks them.

A field says what its value must satisfy where it is declared, not through its name::

    duplicate_probability: float = probability(0.07)
    replications: int = at_least_one(10, at_most=limits.REPLICATIONS)

and :func:`check_declared` checks every declared field of a section and of the sections
nested in it, so a new field is checked as soon as it is declared. A field's kind of value
(``CHECK``: a probability, a number >= 0, ...) and its limits (``LIMITS``: the largest value
allowed, and why; for a distribution, the largest mean) are declared apart: the limits are
in :mod:`sim.config.limits`. Bounds that relate several fields stay in the sections' own
``validate`` methods.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from ..core.distributions import Distribution
from ..domain import GRADES
from ..errors import check, check_non_negative, check_probability
from .limits import DAYS, EFFORT_HOURS, Limit, format_number

CHECK = "check"
"""The field-metadata key holding a field's check: a function of (dotted key, value)."""

LIMITS = "limits"
"""The field-metadata key holding a field's limits (``sim.config.limits.Limit``)."""

Check = Callable[[str, Any], None]


def check_positive(key: str, value: float) -> None:
    check(value > 0, key, value, "must be > 0")


def check_at_least_one(key: str, value: int) -> None:
    check(value >= 1, key, value, "must be >= 1")


def check_grades(key: str, grades: tuple[str, ...]) -> None:
    for grade in grades:
        check(grade in GRADES, key, list(grades), f"unknown grade {grade!r}; grades are {', '.join(GRADES)}")


def check_limit(key: str, value: Any, limit: Limit) -> None:
    """Raise ConfigError naming ``key`` unless ``value`` keeps within ``limit``; a
    distribution's mean must (its unit is the key's)."""
    if not isinstance(value, Distribution):
        limit.check(key, value)
        return
    mean = value.mean_value
    word = "least" if limit.lowest else "most"
    check(mean >= limit.value if limit.lowest else mean <= limit.value, key, value,
          f"the mean ({format_number(mean)}) must be at {word} {format_number(limit.value)} ({limit.why})")


def declared(default: Any, checked_by: Check | None = None, limits: tuple[Limit, ...] = ()) -> Any:
    """A dataclass field with ``default`` whose value ``checked_by`` checks and must keep
    within ``limits`` (a null value, meaning "not set", is not checked)."""
    metadata: dict[str, Any] = {LIMITS: tuple(limits)}
    if checked_by is not None:
        metadata[CHECK] = checked_by
    return dataclasses.field(default=default, metadata=metadata)


def _given(*limits: Limit | None) -> tuple[Limit, ...]:
    return tuple(limit for limit in limits if limit is not None)


def probability(default: float | None) -> Any:
    """A probability, or a share of a whole: in [0, 1]."""
    return declared(default, check_probability)


def non_negative(default: float, at_most: Limit | None = None) -> Any:
    """A number >= 0 (and at most ``at_most``)."""
    return declared(default, check_non_negative, _given(at_most))


def positive(default: float, at_most: Limit | None = None, at_least: Limit | None = None) -> Any:
    """A number > 0 (and within ``at_least`` and ``at_most``)."""
    return declared(default, check_positive, _given(at_least, at_most))


def at_least_one(default: int, at_most: Limit | None = None) -> Any:
    """A count >= 1 (and at most ``at_most``)."""
    return declared(default, check_at_least_one, _given(at_most))


def bounded(default: Any, *limits: Limit) -> Any:
    """A value within ``limits`` (its least value, if any other, checked by its section)."""
    return declared(default, None, limits)


def grade_list(default: tuple[str, ...]) -> Any:
    """Risk grades, each one of VH, H, M, L."""
    return declared(default, check_grades)


def effort_in_hours(default: Distribution) -> Any:
    """A distribution of hands-on effort in hours, its mean at most ``limits.EFFORT_HOURS``."""
    return bounded(default, EFFORT_HOURS)


def delay_in_days(default: Distribution) -> Any:
    """A distribution of elapsed days, its mean at most ``limits.DAYS``."""
    return bounded(default, DAYS)


def check_declared(section: Any, key: str) -> None:
    """Check every declared field of dataclass ``section`` (``key``: its dotted path).
    A nested value that validates itself (a distribution, a section with ``validate(key)``)
    is asked to; any other nested dataclass is walked into. Then the field's limits, but a
    distribution's first: a mean past its key's limit is named in the key's unit (hours of
    effort, days) before the parameters are checked against each other."""
    for f in dataclasses.fields(section):
        value = getattr(section, f.name)
        where = f"{key}.{f.name}"
        limits = f.metadata.get(LIMITS, ()) if value is not None else ()
        checked_by = f.metadata.get(CHECK)
        if checked_by is not None:
            if value is not None:
                checked_by(where, value)
        elif isinstance(value, Distribution):
            value.check_numbers(where)
            for limit in limits:
                check_limit(where, value, limit)
            limits = ()
            value.validate(where)
        elif dataclasses.is_dataclass(value):
            validate = getattr(value, "validate", None)
            if validate is not None:
                validate(where)
            else:
                check_declared(value, where)
        for limit in limits:
            check_limit(where, value, limit)
