"""What ``casesim`` prints when a run ends: the headline table by assigned grade and by true
risk, each value with its 95 % interval and unit, a note wherever a value does not exist (a
percentile not reached), then the run's findings in plain words and a warning for each unit
that cannot keep up. Plain text, as wide as a terminal; the tables come from
``sim.results.headline`` and the sentences from ``sim.results.findings``."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..results.findings import Finding, money_text
from ..results.headline import HEADLINE_SHEET, MEASURES
from .headline_cells import cell_text
from .national_cells import SHORT_HEADINGS, national_cells

WIDTH = 100
"""Characters a printed line holds."""
TOP_FINDINGS = 3
"""Findings printed under the table (every warning is printed besides); the report and
``headline.xlsx`` hold them all."""
_COLUMNS = ["Target (days)", *(m.heading for m in MEASURES)]
_SHORT = {"Target (days)": "target", "Cases": "cases", "Median days to arrest": "median days",
          "90th percentile (days)": "90th pct days", "Share past target (%)": "past target %",
          "Cases past 18 months": "past 18 months"}


def headline_text(sheets: dict[str, pd.DataFrame], forces: Sequence[str] = (),
                  national: pd.DataFrame | None = None) -> str:
    """The headline sheet (``sim.results.headline.headline_sheets``) as text: one block by
    assigned grade and one by true risk, for the whole run; a region of several forces
    (``forces``) gets a line per force and grouping below it. Notes instead of blanks. A run
    of several regions given its ``national`` table (``sim.results.national.national_table``)
    gets the nation's and each region's lines instead of one block per force (each force's
    are in ``headline.csv`` and ``national_forces.csv``)."""
    table = sheets[HEADLINE_SHEET]
    lines = [_title(table)]
    if national is not None:
        lines.append(f"The nation, {len(forces)} forces:")
    elif forces:
        lines.append(f"The whole region, {len(forces)} forces ({', '.join(forces)}):")
    for grouping in ("Assigned grade", "True risk"):
        rows = table[table["Grouped by"] == grouping]
        lines.append(_block(grouping, rows))
    lines += _notes(table)
    if national is not None:
        return "\n\n".join([*lines, national_text(national)])
    for force in forces:
        if force in sheets:
            rows = sheets[force]
            lines.append(f"The force {force}:\n" + _block("Assigned grade", rows[rows["Grouped by"] == "Assigned grade"]))
            lines += _notes(rows[rows["Grouped by"] == "Assigned grade"])
    return "\n\n".join(lines)


def national_text(national: pd.DataFrame) -> str:
    """The nation's and each region's headline by assigned grade (``national_table``) as
    aligned text, one block an area, with what past 18 months counts. The grades' targets
    are in the headline above it."""
    cells = national_cells(national).drop(columns=["Target (days)"])
    header = [SHORT_HEADINGS[h] for h in cells.columns[1:]]
    rows = [list(row) for row in cells.itertuples(index=False)]
    widths = [max(len(line[k]) for line in [header, *(row[1:] for row in rows)]) for k in range(len(header))]

    def line(cells_of_row) -> str:
        return "  ".join(c.ljust(w) if k == 0 else c.rjust(w)
                         for k, (c, w) in enumerate(zip(cells_of_row, widths)))

    blocks = []
    for area in dict.fromkeys(row[0] for row in rows):
        blocks.append(f"{area}:\n" + "\n".join([line(header), *(line(row[1:]) for row in rows if row[0] == area)]))
    return wrapped("The nation and its regions by assigned grade, mean of the replications (95 % interval in "
                   "brackets); past 18 months: referrals not arrested within 548 days, a year of those that "
                   "arrived at least 548 days before the end, and their share of those referrals.") \
        + "\n\n" + "\n\n".join(blocks)


def _notes(rows: pd.DataFrame) -> list[str]:
    """Why a cell shows a dash, or a mean over fewer replications: the summary's notes."""
    notes = [f"  {_row_name(row)}: {row['Note']}" for _, row in rows.iterrows()
             if isinstance(row["Note"], str) and row["Note"]]
    return ["Not every value exists in every replication:\n" + "\n".join(notes)] if notes else []


def findings_text(findings: Sequence[Finding], top: int = TOP_FINDINGS) -> str:
    """The first ``top`` findings other than warnings, then every warning, one paragraph each."""
    plain = [f for f in findings if f.topic != "overload"][:top]
    warnings = [f for f in findings if f.topic == "overload"]
    lines = [wrapped(f.text, "- ") for f in plain] + [wrapped(f.text, "warning: ") for f in warnings]
    return "\n".join(lines)


def wrapped(text: str, first: str = "") -> str:
    """``text`` wrapped to ``WIDTH``, after ``first`` on its first line, later lines indented
    when ``first`` is given."""
    # a number keeps its unit on its line: "91 %" is not broken after the 91
    glued = textwrap.fill(text.replace(" %", "\u00a0%"), WIDTH, initial_indent=first,
                          subsequent_indent=" " * 2 if first else "")
    return glued.replace("\u00a0%", " %")


def _row_name(row: pd.Series) -> str:
    grade = row["Risk grade"]
    return row["Grouped by"] if grade == "All" else f"{row['Grouped by']} {grade}"


def _title(table: pd.DataFrame) -> str:
    replications = table["Replications"].dropna()
    n = int(replications.max()) if len(replications) else 0
    return (f"Time from referral to arrest or voluntary interview, mean of {n} replication{'s' if n != 1 else ''} "
            f"(95 % interval in brackets)")


def _block(grouping: str, rows: pd.DataFrame) -> str:
    """One grouping's rows as an aligned text table."""
    cells = [["by " + grouping.lower(), *(_SHORT[heading] for heading in _COLUMNS)]]
    for _, row in rows.iterrows():
        cells.append([str(row["Risk grade"]), *(cell_text(row, heading) for heading in _COLUMNS)])
    widths = [max(len(line[k]) for line in cells) for k in range(len(cells[0]))]
    return "\n".join("  ".join(c.ljust(w) if k == 0 else c.rjust(w) for k, (c, w) in enumerate(zip(line, widths)))
                     for line in cells)


OUTCOME_WORDS = {"arrest": "arrest", "voluntary_interview": "voluntary interview", "no_trace": "suspect not found",
                 "duplicate": "duplicate", "untraceable": "untraceable at research",
                 "warrant_refused": "warrant refused", "warrant_lapsed": "warrant lapsed", "open": "still open"}
"""How the outcomes of ``sim.domain.OUTCOMES`` are written."""


def outcomes_text(summary: pd.DataFrame, force: str) -> str:
    """Arrests and voluntary interviews a month, apart and together, how the referrals
    ended, and what the staffing costs, from ``force``'s rows of the summary."""
    rows = summary[(summary["force"] == force) & (summary["by"] == "all")]
    value = dict(zip(rows["metric"], rows["estimate"]))
    enforced, arrests = value.get("enforcements_per_month"), value.get("arrests_per_month")
    interviews = value.get("voluntary_interviews_per_month")
    if enforced is None or pd.isna(enforced):
        return ""
    ended = sorted(((value.get(f"share_ending_{o}", 0.0), words) for o, words in OUTCOME_WORDS.items()),
                   key=lambda item: -item[0])
    shares = ", ".join(f"{words} {share * 100:.0f} %" for share, words in ended if share >= 0.005)
    cost, per_arrest = value.get("staffing_cost_per_year"), value.get("cost_per_arrest")
    costs = ("" if cost is None or pd.isna(cost) else
             f" Staffing costs {money_text(cost)} a year at the prices in the costs settings"
             + (f", {money_text(per_arrest)} per arrest." if per_arrest is not None and not pd.isna(per_arrest) else "."))
    return (f"Each month {enforced:,.0f} suspects are arrested or interviewed voluntarily after a warrant: "
            f"{arrests:,.0f} arrests and {interviews:,.0f} voluntary interviews (the times to arrest count both). "
            f"How the referrals ended: {shares}.{costs}")


def counts_text(counts: dict[str, int]) -> str:
    """Sweep points by status in words: ``"4 points: 3 ok, 1 failed"``."""
    total = sum(counts.values())
    parts = ", ".join(f"{n:,} {status}" for status, n in sorted(counts.items(), key=lambda item: -item[1]))
    return f"{total:,} point{'' if total == 1 else 's'}: {parts}" if total else "no points"


_SEARCH_COLUMNS = {"share_late": "late (%)", "share_late_upper": "upper bound (%)",
                   "worst_cases_past_18_months": "worst past 18 months", "replications": "replications",
                   "meets_target": "meets the target", "cost": "cost a year"}


def search_text(runs: pd.DataFrame, answer: dict | None) -> str:
    """A staffing search's levels (``runs.csv``) as a table a planner reads, then the answer
    in one line (:func:`search_table`, :func:`search_answer`)."""
    return search_table(runs).to_string(index=False) + "\n\n" + search_answer(answer)


def search_table(runs: pd.DataFrame) -> pd.DataFrame:
    """A staffing search's levels (``runs.csv``) in words: headcounts and counts whole,
    shares late as percentages, the verdict in words, costs in pounds."""
    table = pd.DataFrame()
    for column in runs.columns:
        values = runs[column]
        if column in ("share_late", "share_late_upper"):
            table[_SEARCH_COLUMNS[column]] = [f"{v * 100:.1f}" for v in values]
        elif column == "meets_target":
            table[_SEARCH_COLUMNS[column]] = ["yes" if v else "no" for v in values]
        elif column == "cost":
            table[_SEARCH_COLUMNS[column]] = [money_text(v) for v in values]
        else:  # a level searched (a headcount, a share) or a count: whole where it is whole
            table[_SEARCH_COLUMNS.get(column, column)] = [_level_text(v) for v in values]
    return table


def search_answer(answer: dict | None) -> str:
    """A staffing search's answer (``SearchResult.answer``) in one sentence."""
    if answer is None:
        return "No level searched meets the target."
    levels = ", ".join(f"{key} = {_level_text(value)}" for key, value in answer.items() if "." in key)
    cost = f" (costs {money_text(answer['cost'])} a year)" if "cost" in answer else ""
    return f"Answer: {levels}{cost}."


def _level_text(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    number = float(value)
    return f"{number:,.0f}" if number.is_integer() else f"{number:g}"
