"""The parameter data dictionary (``docs/parameters.md``) and the sources page
(``docs/sources.md``) read for the workbench, so that each field shows what the
documentation says of its key: its meaning, its default and its source.

The two pages are the documentation's own, read as they are (one table row a key), so the
workbench and the documentation cannot disagree.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from pathlib import Path


def _docs_dir() -> Path:
    """``docs/`` beside the package in a source checkout, else the copy installed in it."""
    package = Path(__file__).resolve().parent.parent
    source = package.parent / "docs"
    return source if (source / "parameters.md").is_file() else package / "docs"


DOCS_DIR = _docs_dir()
_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|(.*)\|\s*$")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")


@dataclasses.dataclass(frozen=True)
class Entry:
    """A key's row of the data dictionary, as plain text (links reduced to their words)."""

    key: str
    meaning: str
    default: str
    source: str


def plain(markdown: str) -> str:
    """A table cell's markdown as plain text: links become their words, code marks and
    bold go.

    >>> plain("[E] from [size](sources.md#size) (**B12**, `x`)")
    '[E] from size (B12, x)'
    """
    return _LINK.sub(r"\1", markdown).replace("**", "").replace("`", "").strip()


@functools.lru_cache(maxsize=1)
def parameter_entries() -> dict[str, Entry]:
    """Every key of the data dictionary with its meaning, default and source."""
    entries = {}
    for line in (DOCS_DIR / "parameters.md").read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match is None:
            continue
        cells = [plain(cell) for cell in match.group(2).split("|")]
        if len(cells) == 3:
            entries[match.group(1)] = Entry(match.group(1), *cells)
    return entries


def sources_markdown() -> str:
    """The sources page, as markdown, with the links to its sibling pages made plain (they
    are not served by the workbench)."""
    text = (DOCS_DIR / "sources.md").read_text(encoding="utf-8")
    return re.sub(r"\[([^\]]+)\]\((?!https?:)[^)]*\)", r"\1", text)
