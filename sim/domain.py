"""The domain's vocabulary: risk grades, stages, outcomes and sources, each one named table,
and the few fixed figures every layer shares.

Codes are ``IntEnum`` members: the model stores them in numpy columns and uses them as
list indices (a grade's code is also its SimPy priority, lower served first); the tables
turn them back into names with the tuples below, which are derived from the enums so they
cannot fall out of step.
"""

from __future__ import annotations

from enum import IntEnum


class Grade(IntEnum):
    """Risk grades, most urgent first; the code is the SimPy priority (lower = served first)."""

    VH = 0
    H = 1
    M = 2
    L = 3


GRADES: tuple[str, ...] = tuple(g.name for g in Grade)
"""Grade names in code order: ``("VH", "H", "M", "L")``."""
UNGRADED = len(Grade)
"""The work-in-progress column of cases not yet graded."""
WIP_GRADES: tuple[str, ...] = (*GRADES, "ungraded")


class Stage(IntEnum):
    """The stages a case moves through, in order (also the work-in-progress table's rows)."""

    INTAKE = 0
    RESEARCH = 1
    ASSESSMENT = 2
    ALLOCATION = 3
    PLANNING = 4
    WARRANT = 5
    EXECUTION = 6
    POST_ARREST = 7


STAGES: tuple[str, ...] = tuple(s.name.lower() for s in Stage)
"""Stage names in order, as used in config groups, streams, resources and column prefixes."""
TIMED_STAGES: tuple[str, ...] = STAGES[: Stage.POST_ARREST]
"""Stages with queue/start/end timestamps on the case record (post-arrest work has none)."""
BACKLOG_STAGES: tuple[str, ...] = tuple(s.name.lower() for s in Stage if s >= Stage.RESEARCH)
"""Where a case of the initial backlog may be at day 0: waiting for research, assessment or
an investigator, or already allocated one (planning, a warrant applied for, a warrant granted
and not yet executed, or the warrant executed and the post-arrest work not yet done)."""
GRADED_BACKLOG_STAGES: tuple[str, ...] = tuple(s for s in BACKLOG_STAGES if Stage[s.upper()] >= Stage.ALLOCATION)
"""Backlog stages a case reaches only once graded, so its assigned grade must be given."""
TIMESTAMP_COLUMNS: tuple[str, ...] = tuple(f"{s}_{k}_day" for s in TIMED_STAGES for k in ("queue", "start", "end"))
"""Stage timestamp columns, in days: when the case joined the stage's queue, started service
(got the resource), and left the stage."""


class Outcome(IntEnum):
    """How a case ends (``OPEN``: not yet ended at the horizon)."""

    OPEN = 0
    ARREST = 1
    VOLUNTARY_INTERVIEW = 2
    NO_TRACE = 3
    DUPLICATE = 4
    UNTRACEABLE = 5
    WARRANT_REFUSED = 6
    WARRANT_LAPSED = 7


OUTCOMES: tuple[str, ...] = tuple(o.name.lower() for o in Outcome)


class Source(IntEnum):
    """Where a referral comes from: an NCA package or a report made to the force directly."""

    NCA = 0
    DIRECT = 1


SOURCES: tuple[str, ...] = tuple(s.name.lower() for s in Source)

EIGHTEEN_MONTHS_DAYS = 548.0
"""HMICFRS's worst delay (docs/sources.md, A6), 18 months, in days."""
DAYS_PER_YEAR = 365.0
DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0

REGION = "region"
"""The ``force`` label of region totals and of units the forces share."""
SURGE = "surge"
"""The ``force`` label of the regional surge unit (ROCU)."""
NATION = "nation"
"""The ``force`` label of the totals of forces in several regions (``forces=england_and_wales``)."""


def region_label(region: str) -> str:
    """The ``force`` label of a region's totals, and of the units its forces share, in a run
    of several regions: ``region south_west``.

    >>> region_label("south_west")
    'region south_west'
    """
    return f"{REGION} {region}"
