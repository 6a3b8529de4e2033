"""The calibrated force as YAML a planner can read and run: ``my_force.yaml`` builds on
casesim's baseline and lists only what differs from it, each value with where it came from
(the log, the simulation fit, the force's own setting), and a projection overlay for each of
the central, low and high demand projections builds on it.

``casesim --config-dir DIR --config-name my_force`` runs the force;
``--config-name my_force_projection_high`` runs it on the high projection.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Mapping

import yaml

from ..config.convert import changed_parameters
from ..config.schema import ByGrade, SimConfig
from ..core.distributions import Distribution
from ..domain import DAYS_PER_MONTH

PROJECTIONS = ("central", "low", "high")
"""The projections an overlay is written for: the expected referrals, and the interval of
that expectation (the trend's uncertainty, not a month's chance variation, which the model
draws itself)."""


def yaml_value(value: Any) -> str:
    """A config value as YAML flow text: a distribution or per-grade set as an inline mapping,
    a tuple as an inline list, floats with a decimal point (YAML 1.1 reads ``1e-05`` as text)."""
    if isinstance(value, Distribution):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.init}
        return "{" + ", ".join([f"dist: {value.dist}"] + [f"{k}: {yaml_value(v)}" for k, v in fields.items()]) + "}"
    if isinstance(value, ByGrade):
        return "{" + ", ".join(f"{g}: {yaml_value(v)}" for g, v in zip(("VH", "H", "M", "L"), value.as_tuple())) + "}"
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(yaml_value(v) for v in value) + "]"
    if isinstance(value, bool) or value is None:
        return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value}")
        text = f"{value:.10g}"
        if "e" in text or "." not in text:
            text = f"{value:.10f}".rstrip("0")
            text = text + "0" if text.endswith(".") else text
        return text
    if isinstance(value, int):
        return str(value)
    return yaml.safe_dump(str(value), default_flow_style=True).strip().removesuffix("...").strip()


def nested_lines(texts: Mapping[str, str]) -> list[str]:
    """YAML lines for dotted keys, nested by their parts, in key order; ``texts`` gives each
    key's value as YAML text (with a comment after it, if any).

    >>> nested_lines({"staffing.investigators": "24", "staffing.researchers": "5   # more"})
    ['staffing:', '  investigators: 24', '  researchers: 5   # more']
    """
    lines: list[str] = []
    opened: list[str] = []
    for key in sorted(texts, key=lambda k: k.split(".")):
        parts = key.split(".")
        common = 0
        while common < min(len(opened), len(parts) - 1) and opened[common] == parts[common]:
            common += 1
        opened = opened[:common]
        for depth in range(common, len(parts) - 1):
            lines.append("  " * depth + f"{parts[depth]}:")
            opened.append(parts[depth])
        lines.append("  " * (len(parts) - 1) + f"{parts[-1]}: {texts[key]}")
    return lines


def _commented(value: Any, comment: str) -> str:
    """A value as YAML text, its comment after it."""
    return f"{yaml_value(value)}   # {comment}" if comment else yaml_value(value)


def force_overlay(baseline: SimConfig, calibrated: SimConfig, sources: Mapping[str, str], header: str,
                  backlog_csv: Path) -> str:
    """``my_force.yaml``'s text: every key ``calibrated`` changes from ``baseline`` with the
    comment ``sources`` gives it, the backlog read from ``backlog_csv``; ``header`` opens it."""
    changed = {key: (value, sources.get(key, "")) for key, _, value in changed_parameters(baseline, calibrated)
               if not key.startswith("run.") and key != "demand.initial_backlog.cases"}
    changed["demand.initial_backlog.csv"] = (str(backlog_csv.resolve()), "the cases open at the extract date")
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines += ["defaults:", "  - config", "  - _self_", ""]
    return "\n".join(lines + nested_lines({k: _commented(*v) for k, v in changed.items()})) + "\n"


def projection_overlay(force_config_name: str, monthly: Any, which: str, header: str) -> str:
    """A projection overlay's text: the force's config with ``demand.referrals_by_month`` set
    to the projection's column ``which`` (calendar months, turned into model months of
    ``DAYS_PER_MONTH`` days at the same daily rate)."""
    per_model_month = [round(float(v) * DAYS_PER_MONTH / days, 3)
                       for v, days in zip(monthly[which], monthly["month"].dt.days_in_month)]
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines += ["defaults:", f"  - {force_config_name}", "  - _self_", "", "demand:",
              f"  referrals_by_month: {yaml_value(tuple(per_model_month))}"]
    return "\n".join(lines) + "\n"
