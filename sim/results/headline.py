"""The headline tables a planner opens in a spreadsheet (``headline.xlsx``, ``headline.csv``):
time to arrest by assigned grade and by true risk, taken from a run's summary, under
readable column names and rounded to what the numbers can bear.

One tidy frame per sheet: ``"Headlines"`` for the whole run (the region's totals in a
region of several forces), then one per force in such a region, each under its force's
name; and the plain-language findings, one a row. Writing them as files is
``sim.io.spreadsheet``'s part. Every column is in docs/outputs.md.

>>> import pandas as pd
>>> from sim.config.schema import SimConfig
>>> cfg = SimConfig()
>>> summary = pd.DataFrame([(cfg.total_name, "time_to_arrest_p50_days", "true_risk", "H", 17.14, 16.52, 17.71, 10, "")],
...                        columns=["force", "metric", "by", "grade", "estimate", "ci_low", "ci_high",
...                                 "n_replications", "note"])
>>> sheet = headline_sheets(summary, cfg)["Headlines"]
>>> sheet.set_index(["Grouped by", "Risk grade"]).loc[("True risk", "H (high)"),
...     ["Median days to arrest", "Median: 95 % interval low", "Median: 95 % interval high"]].tolist()
[17.1, 16.5, 17.7]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config.schema import SimConfig
from ..domain import GRADES
from .catalogue import TIME_TO_ARREST
from .summary import SummaryRows, rows_by_force

__all__ = ["FINDINGS_SHEET", "HEADLINE_COLUMNS", "HEADLINE_SHEET", "NO_FINDINGS", "comparison_headline_sheets",
           "findings_table", "headline_rows", "headline_sheets"]

HEADLINE_SHEET = "Headlines"
"""The sheet of the whole run: the force's, or the region's totals."""
FINDINGS_SHEET = "Findings"
NO_FINDINGS = "No findings"
"""The Findings sheet's one row when no findings are given."""

DAYS, PERCENT, COUNT = "days", "percent", "count"
"""How a column is rounded: days to 1 decimal, shares as percentages to 1 decimal, counts whole."""
INTERVAL = "95 % interval"  # the run folder's summary is always summarised at the 95 % level


@dataclass(frozen=True)
class Measure:
    """One metric of the summary as a headline column: its readable ``heading``, how it is
    rounded (``kind``: days, percent or count) and, if its interval is shown, the name its
    two interval columns start with."""

    metric: str
    heading: str
    kind: str
    interval: str | None = None

    def interval_headings(self) -> tuple[str, str]:
        """The headings of the interval's low and high columns."""
        unit = " (%)" if self.kind == PERCENT else ""
        return f"{self.interval}: {INTERVAL} low{unit}", f"{self.interval}: {INTERVAL} high{unit}"


MEASURES: tuple[Measure, ...] = (
    Measure("cases", "Cases", COUNT),
    Measure(TIME_TO_ARREST.name("p50"), "Median days to arrest", DAYS, "Median"),
    Measure(TIME_TO_ARREST.name("p90"), "90th percentile (days)", DAYS, "90th percentile"),
    Measure("share_past_target", "Share past target (%)", PERCENT, "Share past target"),
    Measure("cases_past_18_months", "Cases past 18 months", COUNT),
)
"""The headline's measures, in the order of their columns."""

GROUPINGS: dict[str, str] = {
    "assigned_grade": "Assigned grade",
    "true_risk": "True risk",
    "all": "All referrals",
    "misgraded_high_risk": "True VH or H, graded lower",
}
"""The summary's ``by`` values the headline shows, in its row order, and what it calls them."""
GRADE_NAMES: dict[str, str] = {"VH": "VH (very high)", "H": "H (high)", "M": "M (medium)", "L": "L (low)", "all": "All"}

LABEL_COLUMNS = ["Force", "Region", "Grouped by", "Risk grade", "Target (days)"]
HEADLINE_COLUMNS: list[str] = [
    *LABEL_COLUMNS,
    *[heading for m in MEASURES for heading in (m.heading, *(m.interval_headings() if m.interval else ()))],
    "Replications", "Note",
]
"""The columns of every headline sheet (a comparison's put ``Scenario`` first)."""
COLUMN_KINDS: dict[str, str] = {
    "Target (days)": DAYS, "Replications": COUNT,
    **{heading: m.kind for m in MEASURES for heading in (m.heading, *(m.interval_headings() if m.interval else ()))},
}
"""How each numeric column is rounded (and so shown in a spreadsheet)."""


def headline_sheets(summary: pd.DataFrame, config: SimConfig) -> dict[str, pd.DataFrame]:
    """The headline sheets of one run from its ``summary`` (``summarise``'s columns) and its
    ``config`` (for the targets and the forces): ``"Headlines"`` for the whole run, then in a
    region of several forces one sheet per force, named by the force, in the order listed.
    Each has HEADLINE_COLUMNS, one row per grouping and grade (by assigned grade, by true
    risk, all referrals, the truly high-risk referrals graded lower), rounded: days to 1
    decimal, shares as percentages to 1 decimal, counts (means over replications) whole. A
    force named ``Headlines`` has its sheet named ``Headlines (force)``."""
    lookup = rows_by_force(summary, {m.metric for m in MEASURES})
    names = {HEADLINE_SHEET: config.total_name}
    if config.forces:
        for name in config.force_names:
            names[name if name != HEADLINE_SHEET else f"{name} (force)"] = name
    # every sheet's rows rounded together (rounding is by the value alone), then cut apart
    records = [_force_records(config, force, lookup.get(force, {})) for force in names.values()]
    table = _rounded(pd.DataFrame.from_records([r for rows in records for r in rows], columns=HEADLINE_COLUMNS))
    ends = np.cumsum([len(rows) for rows in records])
    return {sheet: table.iloc[end - len(rows):end].reset_index(drop=True)
            for sheet, rows, end in zip(names, records, ends)}


def comparison_headline_sheets(summary: pd.DataFrame, configs: Mapping[str, SimConfig]) -> dict[str, pd.DataFrame]:
    """The headline sheets of a comparison: ``summary`` holds each run's summary with a
    ``scenario`` column; ``configs`` each run's configuration by scenario, in the order
    shown. Each sheet is :func:`headline_sheets`' with a ``Scenario`` column first, every
    scenario's rows one after another."""
    per_run = [(name, headline_sheets(summary[summary["scenario"] == name], cfg)) for name, cfg in configs.items()]
    names = list(dict.fromkeys(sheet for _, sheets in per_run for sheet in sheets))
    return {sheet: pd.concat([sheets[sheet].assign(Scenario=name)[["Scenario", *HEADLINE_COLUMNS]]
                              for name, sheets in per_run if sheet in sheets], ignore_index=True)
            for sheet in names}


def headline_rows(sheets: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Every headline sheet's rows in one table (``headline.csv``): the ``Force`` column tells
    the whole run's rows (the force's name, or ``region``) from each force's own, and
    ``Region`` names each force's region."""
    return pd.concat(list(sheets.values()), ignore_index=True)


def findings_table(findings: Sequence[str] | None = None) -> pd.DataFrame:
    """The plain-language findings, one a row under ``Finding``; a single row saying
    ``No findings`` when none are given."""
    lines = [str(line) for line in findings or ()]
    return pd.DataFrame({"Finding": lines or [NO_FINDINGS]})


def _force_records(config: SimConfig, force: str, rows: SummaryRows) -> list[dict[str, object]]:
    """One force's (or the total's) headline rows, not yet rounded, from its summary rows."""
    targets_days = dict(zip(GRADES, config.targets_days.as_tuple()))
    keys = [(by, grade) for by in ("assigned_grade", "true_risk") for grade in GRADES]
    keys += [("all", "all"), ("misgraded_high_risk", "all")]
    region = config.region_of_owner(force)
    records = []
    for by, grade in keys:
        record: dict[str, object] = {"Force": force, "Region": region,
                                     "Grouped by": GROUPINGS[by], "Risk grade": GRADE_NAMES[grade],
                                     "Target (days)": targets_days.get(grade, np.nan)}
        notes, replications = [], np.nan
        for m in MEASURES:
            row = rows.get((m.metric, by, grade))
            values = (np.nan, np.nan, np.nan) if row is None else (row["estimate"], row["ci_low"], row["ci_high"])
            record[m.heading] = values[0]
            if m.interval:
                low, high = m.interval_headings()
                record[low], record[high] = values[1], values[2]
            if row is not None:
                replications = row["n_replications"]
                if isinstance(row["note"], str) and row["note"]:
                    notes.append(f"{m.heading}: {row['note']}")
        record["Replications"] = replications
        record["Note"] = "; ".join(notes)
        records.append(record)
    return records


def _rounded(table: pd.DataFrame) -> pd.DataFrame:
    """Each numeric column rounded to its kind: days to 1 decimal, shares as percentages to 1
    decimal, counts whole (nullable integers: a missing value stays blank)."""
    out = table.copy()
    for column, kind in COLUMN_KINDS.items():
        values = pd.to_numeric(out[column], errors="coerce").astype(float)
        if kind == DAYS:
            out[column] = values.round(1)
        elif kind == PERCENT:
            out[column] = (values * 100).round(1)
        else:
            out[column] = values.round().astype("Int64")
    return out
