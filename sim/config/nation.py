"""The nation's forces (``forces=england_and_wales``) built from the table of the 43
territorial police forces of England and Wales (``configs/forces/england_and_wales.csv``:
each force, its region and its population), so that the regions and the forces' sizes are
data, and the YAML Hydra reads follows from them by one documented rule:

- each force's referrals a month are the national figure (``NATIONAL_REFERRALS_PER_MONTH``,
  source 'size') times its share of the population of England and Wales (source 'nation'):
  no per-force count of referrals is published;
- its staff and court hearings are the baseline medium force's (50 referrals a month)
  scaled by its referrals and rounded up, so at least one of each post and hearing: no
  force more stretched than the baseline, whatever its size (rounded to the nearest, a
  force of 30-37 referrals would have one search team where the baseline's two for 50 are
  already busy, and its queue for them would grow without bound); today's queue is the
  baseline's scaled, rounded to the nearest case.

``python -m sim.config.nation`` rewrites ``configs/forces/england_and_wales.yaml`` from the
table; ``tests/test_nation.py`` checks the YAML still follows from it.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from .schema import SimConfig

NATIONAL_REFERRALS_PER_MONTH = 1700.0
"""Referrals reaching the 43 forces a month (source 'size': over 20,000 a year, B2/B3)."""
HEADCOUNTS = ("intake_researchers", "researchers", "assessors", "investigators", "search_teams")
"""The posts scaled with a force's referrals."""


def read_table(path: str | Path) -> list[dict[str, str | int]]:
    """The table's rows: ``force``, ``region`` and ``population`` (people)."""
    with open(path, newline="", encoding="utf-8") as handle:
        return [{"force": row["force"], "region": row["region"], "population": int(row["population"])}
                for row in csv.DictReader(handle)]


def force_entries(rows: list[dict], base: SimConfig = SimConfig(),
                  national_referrals_per_month: float = NATIONAL_REFERRALS_PER_MONTH) -> list[dict]:
    """Each force of ``rows`` as a ``forces`` entry: its name and region, its referrals a
    month by population share of ``national_referrals_per_month``, and ``base``'s staff and
    court hearings (rounded up) and queue scaled by its referrals against ``base``'s."""
    total = sum(row["population"] for row in rows)
    entries = []
    for row in rows:
        referrals = round(national_referrals_per_month * row["population"] / total, 1)
        scale = referrals / base.demand.referrals_per_month
        counts = base.demand.initial_backlog.counts
        entries.append({
            "name": row["force"], "region": row["region"],
            "demand": {"referrals_per_month": referrals,
                       "initial_backlog": {"counts": {g: round(v * scale) for g, v in
                                                      zip(("VH", "H", "M", "L"), counts.as_tuple())}}},
            "staffing": {name: _rounded_up(getattr(base.staffing, name) * scale) for name in HEADCOUNTS},
            "stages": {"warrant": {"slots_per_sitting_day": _rounded_up(base.stages.warrant.slots_per_sitting_day
                                                                        * scale)}},
        })
    return entries


def _rounded_up(count: float) -> int:
    """A scaled headcount rounded up (a float's last bit of error aside), at least one."""
    return max(1, math.ceil(count - 1e-9))


def nation_yaml(rows: list[dict]) -> str:
    """``configs/forces/england_and_wales.yaml``'s text for the table's ``rows``."""
    lines = ["# @package _global_",
             "# The 43 territorial police forces of England and Wales in their regions, written by",
             "# `python -m sim.config.nation` from england_and_wales.csv (source 'nation': population;",
             "# 'size': 1,700 referrals a month nationally). Do not edit by hand: edit the table.",
             "forces:"]
    for entry in force_entries(rows):
        counts = entry["demand"]["initial_backlog"]["counts"]
        staff = ", ".join(f"{name}: {value}" for name, value in entry["staffing"].items())
        lines += [f"  - name: {entry['name']}",
                  f"    region: {entry['region']}",
                  f"    demand: {{referrals_per_month: {entry['demand']['referrals_per_month']}, initial_backlog: "
                  f"{{counts: {{{', '.join(f'{g}: {v}' for g, v in counts.items())}}}}}}}",
                  f"    staffing: {{{staff}}}",
                  f"    stages: {{warrant: {{slots_per_sitting_day: "
                  f"{entry['stages']['warrant']['slots_per_sitting_day']}}}}}"]
    return "\n".join(lines) + "\n"


def main() -> None:
    from .load import CONFIG_DIR

    table = CONFIG_DIR / "forces" / "england_and_wales.csv"
    (CONFIG_DIR / "forces" / "england_and_wales.yaml").write_text(nation_yaml(read_table(table)), encoding="utf-8")


if __name__ == "__main__":
    main()
