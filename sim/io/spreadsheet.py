"""The headline tables as files a planner opens in Excel: ``headline.xlsx`` (a sheet of
headlines, one per force in a region of several, and the findings) and ``headline.csv``
(every headline row in one table), in a run folder and a comparison folder.

The tables themselves (readable names, rounding) are ``sim.results.headline``'s; here they
are only laid out: the header row frozen with the columns that name a row, each column wide
enough to read, numbers shown to the precision they were rounded to. Each file is written
whole or not at all. The sheets and columns: docs/outputs.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from ..config.schema import SimConfig
from ..results.headline import (
    COLUMN_KINDS,
    COUNT,
    FINDINGS_SHEET,
    comparison_headline_sheets,
    findings_table,
    headline_rows,
    headline_sheets,
)
from .atomic import atomic_write

__all__ = ["HEADLINE_CSV", "HEADLINE_XLSX", "sheet_title", "write_comparison_headline", "write_headline",
           "write_run_headline"]

HEADLINE_XLSX = "headline.xlsx"
HEADLINE_CSV = "headline.csv"
MAX_TITLE = 31  # Excel's longest sheet name
MAX_WIDTH = 60  # characters: a wider column is wrapped instead
FINDING_WIDTH = 100
_NOT_IN_TITLE = re.compile(r"[\[\]:*?/\\]")
ROW_NAMES = ("Scenario", "Force", "Region", "Grouped by", "Risk grade")
"""The columns that name a row: frozen beside the header, in view while scrolling right."""


def write_run_headline(folder: str | Path, summary: pd.DataFrame, config: SimConfig,
                       findings: Sequence[str] | None = None) -> dict[str, Path]:
    """Write a run's ``headline.xlsx`` and ``headline.csv`` into ``folder`` from its
    ``summary`` and ``config`` (``findings``: plain-language lines for the Findings sheet).
    Returns the paths by name (``headline_xlsx``, ``headline_csv``)."""
    return write_headline(folder, headline_sheets(summary, config), findings)


def write_comparison_headline(folder: str | Path, summary: pd.DataFrame, configs: Mapping[str, SimConfig],
                              findings: Sequence[str] | None = None) -> dict[str, Path]:
    """Write a comparison's ``headline.xlsx`` and ``headline.csv`` into ``folder``: ``summary``
    holds each run's summary with a ``scenario`` column, ``configs`` each run's
    configuration by scenario (the baseline's first). Returns the paths by name."""
    return write_headline(folder, comparison_headline_sheets(summary, configs), findings)


def write_headline(folder: str | Path, sheets: Mapping[str, pd.DataFrame],
                   findings: Sequence[str] | None = None) -> dict[str, Path]:
    """Write ``sheets`` (title -> table, as ``sim.results.headline`` builds them) and a
    Findings sheet (``findings``, or "No findings") as ``folder/headline.xlsx``, and every
    headline row as ``folder/headline.csv`` (UTF-8 with a byte-order mark, so Excel reads
    any force's name as written). Returns the paths by name."""
    folder = Path(folder)
    paths = {"headline_xlsx": folder / HEADLINE_XLSX, "headline_csv": folder / HEADLINE_CSV}
    titles: list[str] = []
    for name in sheets:  # a force named like the Findings sheet gives way to it
        titles.append(sheet_title(name, [FINDINGS_SHEET, *titles]))
    workbook = [*zip(titles, sheets.values()), (FINDINGS_SHEET, findings_table(findings))]
    atomic_write(paths["headline_xlsx"], lambda tmp: _write_workbook(workbook, tmp))
    atomic_write(paths["headline_csv"],
                 lambda tmp: headline_rows(sheets).to_csv(tmp, index=False, encoding="utf-8-sig"))
    return paths


def sheet_title(name: str, taken: Sequence[str] = ()) -> str:
    """``name`` as an Excel sheet's name: the characters Excel refuses (``[]:*?/\\``) as
    ``_``, no apostrophe at either end, at most 31 characters, and not one of ``taken``
    (Excel compares them in any letter case): `` (2)``, `` (3)``, ... added if it is.

    >>> sheet_title("North/East: [pilot]")
    'North_East_ _pilot_'
    >>> sheet_title("headlines", ["Headlines"])
    'headlines (2)'
    """
    base = _NOT_IN_TITLE.sub("_", name).strip("'")[:MAX_TITLE] or "Sheet"
    used = {title.lower() for title in taken}
    title, k = base, 1
    while title.lower() in used:
        k += 1
        suffix = f" ({k})"
        title = base[: MAX_TITLE - len(suffix)] + suffix
    return title


def _write_workbook(sheets: Sequence[tuple[str, pd.DataFrame]], path: Path) -> None:
    """Write each (sheet's title, table) as a sheet of the workbook at ``path``."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, table in sheets:
        sheet = workbook.create_sheet(title)
        sheet.append(list(table.columns))
        for row in table.itertuples(index=False):
            sheet.append([_cell(value) for value in row])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        labels = sum(1 for column in table.columns if column in ROW_NAMES)
        sheet.freeze_panes = sheet.cell(row=2, column=labels + 1)
        for k, column in enumerate(table.columns, start=1):
            letter = get_column_letter(k)
            kind = COLUMN_KINDS.get(column)
            if kind is not None:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=k, max_col=k):
                    cell.number_format = "0" if kind == COUNT else "0.0"
            sheet.column_dimensions[letter].width = _width(column, table[column])
            if column == "Finding" or column == "Note":
                for (cell,) in sheet.iter_rows(min_row=2, min_col=k, max_col=k):
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
    workbook.save(path)


def _cell(value: object) -> object:
    """A table's value as openpyxl takes it: blank for a missing one, plain Python numbers."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # a numpy scalar
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    return value


def _width(heading: str, values: pd.Series) -> float:
    """A column's width in characters: its longest value, or its heading's longest word (the
    heading wraps), with a margin; findings are wrapped at a page's width."""
    if heading == "Finding":
        return FINDING_WIDTH
    shown = [len(f"{value:.1f}") if isinstance(value, float) else len(str(value))
             for value in values if _cell(value) is not None]
    longest_word = max(len(word) for word in heading.split())
    wanted = max([longest_word, min(len(heading), 24), *shown])
    return min(wanted + 2, MAX_WIDTH)
