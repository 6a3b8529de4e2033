"""The levers a planner sets in the workbench: one field per configuration key, in the words
and units a planner thinks in, grouped as a force is organised. Each field's meaning,
default and source come from the data dictionary (``sim.app.dictionary``); its value is
checked by the configuration's own schema, as on the command line.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from ..calibration.overlay import yaml_value
from ..domain import GRADES
from ..errors import ConfigError
from .dictionary import Entry, parameter_entries


@dataclasses.dataclass(frozen=True)
class Field:
    """A configuration key as a form field.

    ``kind`` is ``int``, ``float``, ``bool``, ``grades`` (a set of risk grades) or
    ``choice`` (one of ``choices``); ``blank`` says that an empty field means "none"
    (the key's YAML ``null``); ``region`` that the key only acts in a region of forces."""

    key: str
    label: str
    unit: str
    kind: str = "float"
    choices: tuple[str, ...] = ()
    blank: bool = False
    region: bool = False

    @property
    def input_id(self) -> str:
        """The field's HTML id: the key with its dots as double underscores."""
        return self.key.replace(".", "__")

    @property
    def entry(self) -> Entry:
        """The key's row of the data dictionary."""
        return parameter_entries()[self.key]

    def override(self, value: Any) -> str:
        """``key=value`` as a command-line override, e.g. ``staffing.investigators=24``.

        >>> FIELDS_BY_KEY["stages.warrant.out_of_hours_grades"].override(("VH", "H"))
        'stages.warrant.out_of_hours_grades=[VH, H]'
        >>> FIELDS_BY_KEY["training.programme.investigators_trained_share"].override(None)
        'training.programme.investigators_trained_share=null'
        """
        return f"{self.key}={yaml_value(value)}"

    def parse(self, given: Any) -> Any:
        """The value the form holds (a number, a flag, a list of grades, text) as the config
        takes it; ConfigError naming the key if it is not one (an empty number, say)."""
        if self.kind == "bool":
            return bool(given)
        if self.kind == "grades":
            return tuple(grade for grade in GRADES if grade in (given or ()))
        if self.kind == "choice":
            return str(given)
        if given is None or (isinstance(given, str) and not given.strip()):
            if self.blank:
                return None
            raise ConfigError(self.key, "", f"a number ({self.unit}); the field is empty")
        try:
            number = float(given)
        except (TypeError, ValueError):
            raise ConfigError(self.key, given, f"a number ({self.unit})") from None
        return int(number) if self.kind == "int" and number.is_integer() else number


_SHARE = "share, 0 to 1"
FIELDS: tuple[Field, ...] = (
    # Demand
    Field("demand.referrals_per_month", "Referrals a month at the start", "referrals a month"),
    Field("demand.growth_per_year", "Yearly growth of referrals", "fraction a year (0.19 is 19 %)"),
    # Staff
    Field("staffing.intake_researchers", "Intake researchers", "people", "int"),
    Field("staffing.researchers", "Researchers", "people", "int"),
    Field("staffing.assessors", "Risk assessors", "people", "int"),
    Field("staffing.investigators", "Investigators", "people", "int"),
    Field("staffing.caseload_limit", "Cases an investigator holds at once", "cases", "int"),
    Field("staffing.search_teams", "Search teams", "teams", "int"),
    Field("staffing.availability", "Share of contracted time on cases", _SHARE),
    # Training
    Field("training.assessors_trained_share", "Trained risk assessors", _SHARE),
    Field("training.researchers_trained_share", "Trained researchers", _SHARE),
    Field("training.investigators_trained_share", "Trained investigators", _SHARE),
    # Warrants
    Field("stages.warrant.slots_per_sitting_day", "Warrant hearings a court sitting day", "hearings a day", "int"),
    Field("stages.warrant.out_of_hours_grades", "Grades heard by the remote out-of-hours panel", "risk grades",
          "grades"),
    # Review, standards and allocation
    Field("stages.review.analyst_cases_per_review", "Cases an analyst reviews each round", "cases", "int"),
    Field("stages.review.analyst_interval_days", "Days between analyst reviews", "days"),
    Field("stages.review.minimum_standards", "National minimum standards", "on or off", "bool"),
    Field("stages.allocation_rule", "Order in which waiting cases get an investigator", "rule", "choice",
          ("grade", "due_date")),
    # Recruitment
    Field("staffing.recruitment.investigators", "Investigators recruited", "people", "int"),
    Field("staffing.recruitment.researchers", "Researchers recruited", "people", "int"),
    Field("staffing.recruitment.start_day", "Recruitment starts on day", "days from the start"),
    Field("staffing.recruitment.lead_time_days", "Days from advert to start", "days"),
    Field("staffing.recruitment.attrition_per_year", "Investigators leaving a year", "fraction a year"),
    # Training programme
    Field("training.programme.start_day", "Training programme starts on day", "days from the start"),
    Field("training.programme.duration_days", "Training programme lasts", "days"),
    Field("training.programme.assessors_trained_share", "Trained risk assessors at its end", _SHARE, blank=True),
    Field("training.programme.researchers_trained_share", "Trained researchers at its end", _SHARE, blank=True),
    Field("training.programme.investigators_trained_share", "Trained investigators at its end", _SHARE, blank=True),
    # The region's collaboration
    Field("collaboration.pooling.investigators", "Forces lend each other investigators", "on or off", "bool",
          region=True),
    Field("collaboration.pooling.search_teams", "Forces lend each other search teams", "on or off", "bool",
          region=True),
    Field("collaboration.triage_hub.enabled", "One regional team grades every referral", "on or off", "bool",
          region=True),
    Field("collaboration.surge.investigators", "Investigators of the regional surge unit", "people", "int",
          region=True),
    Field("collaboration.surge.queue_threshold", "Cases waiting before overflow goes to the surge unit", "cases",
          "int", region=True),
    # The run
    Field("run.replications", "Replications", "runs", "int"),
    Field("run.horizon_days", "Days simulated", "days"),
    Field("run.seed", "Random seed", "number", "int"),
)
FIELDS_BY_KEY = {field.key: field for field in FIELDS}

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Demand", ("demand.",)),
    ("Staff", ("staffing.intake", "staffing.researchers", "staffing.assessors", "staffing.investigators",
               "staffing.caseload", "staffing.search", "staffing.availability")),
    ("Training", ("training.assessors", "training.researchers", "training.investigators")),
    ("Warrants", ("stages.warrant.",)),
    ("Review, standards and allocation", ("stages.review.", "stages.allocation")),
    ("Recruitment", ("staffing.recruitment.",)),
    ("Training programme", ("training.programme.",)),
    ("The region's collaboration (regions only)", ("collaboration.",)),
    ("The run", ("run.",)),
)
"""Each group's title and the key prefixes of its fields, in the form's order."""


def grouped(fields: Sequence[Field] = FIELDS) -> list[tuple[str, list[Field]]]:
    """The fields under their group titles, each field in the first group that claims it."""
    placed: set[str] = set()
    out = []
    for title, prefixes in GROUPS:
        members = [f for f in fields if f.key not in placed and f.key.startswith(prefixes)]
        placed.update(f.key for f in members)
        out.append((title, members))
    return out


def fields_for(cfg: Any, fields: Sequence[Field] = FIELDS) -> list[Field]:
    """The fields that act on ``cfg``: the region's only where it lists forces."""
    return [field for field in fields if cfg.forces or not field.region]


def value_at(cfg: Any, key: str) -> Any:
    """The value of dotted ``key`` in a config."""
    value = cfg
    for part in key.split("."):
        value = getattr(value, part)
    return value


def field_of(error: ConfigError) -> Field | None:
    """The field a ConfigError is about: its key, or the key it is an entry of
    (``stages.warrant.out_of_hours_grades[0]``), or None if no field holds it."""
    key = error.key.split("[", 1)[0]
    for field in FIELDS:
        if key == field.key:
            return field
    return None
