"""Bounds declared on the schema's fields, and the walker that checks them.

A field says what its value must satisfy where it is declared, not through its name::

    duplicate_probability: float = probability(0.07)

and :func:`check_declared` checks every declared field of a section and of the sections
nested in it, so a new field is checked as soon as it is declared. Bounds that relate
several fields stay in the sections' own ``validate`` methods.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from ..domain import GRADES
from ..errors import check, check_non_negative, check_probability

CHECK = "check"
"""The field-metadata key holding a field's check: a function of (dotted key, value)."""

Check = Callable[[str, Any], None]


def check_positive(key: str, value: float) -> None:
    check(value > 0, key, value, "must be > 0")


def check_at_least_one(key: str, value: int) -> None:
    check(value >= 1, key, value, "must be >= 1")


def check_grades(key: str, grades: tuple[str, ...]) -> None:
    for grade in grades:
        check(grade in GRADES, key, list(grades), f"unknown grade {grade!r}; grades are {', '.join(GRADES)}")


def declared(default: Any, checked_by: Check) -> Any:
    """A dataclass field with ``default`` whose value ``checked_by`` checks (a null value,
    meaning "not set", is not checked)."""
    return dataclasses.field(default=default, metadata={CHECK: checked_by})


def probability(default: float | None) -> Any:
    """A probability, or a share of a whole: in [0, 1]."""
    return declared(default, check_probability)


def non_negative(default: float) -> Any:
    """A number >= 0."""
    return declared(default, check_non_negative)


def positive(default: float) -> Any:
    """A number > 0."""
    return declared(default, check_positive)


def at_least_one(default: int) -> Any:
    """A count >= 1."""
    return declared(default, check_at_least_one)


def grade_list(default: tuple[str, ...]) -> Any:
    """Risk grades, each one of VH, H, M, L."""
    return declared(default, check_grades)


def check_declared(section: Any, key: str) -> None:
    """Check every declared field of dataclass ``section`` (``key``: its dotted path).
    A nested value that validates itself (a distribution, a section with ``validate(key)``)
    is asked to; any other nested dataclass is walked into."""
    for f in dataclasses.fields(section):
        value = getattr(section, f.name)
        where = f"{key}.{f.name}"
        checked_by = f.metadata.get(CHECK)
        if checked_by is not None:
            if value is not None:
                checked_by(where, value)
        elif dataclasses.is_dataclass(value):
            validate = getattr(value, "validate", None)
            if validate is not None:
                validate(where)
            else:
                check_declared(value, where)
