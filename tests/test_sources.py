"""Every source the configs and docs cite has an entry in docs/sources.md, and every entry
says where its figure comes from.

Citations are found where the project writes them:

* YAML comments in ``configs/``: codes such as ``A10``, ``A2/A3``, ``H6, H7`` (``source: A10``,
  ``[E] E1: ...``, ``(F1, F2, E1, F8)``) and named entries in single quotes (``'avail'``,
  ``'B-mix'``, ``'S-research'``);
* Markdown (``README.md``, ``docs/*.md``): links into sources.md (``[A10](docs/sources.md#a10)``)
  and any bare code such as ``A6``;
* Python under ``sim/``: references written ``docs/sources.md, A6`` or ``sources.md#a6``.

No simulation runs here: the scan reads text only.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "docs" / "sources.md"

# A code is a capital letter and one or two digits, optionally joined to a second by "/" (A2/A3).
CODE = r"[A-Z]\d{1,2}(?:/[A-Z]\d{1,2})?"
CODE_RE = re.compile(rf"\b{CODE}\b")
# In prose (Markdown) only the letters sources.md uses count, so "Q1" or "H.264" are not
# taken for citations; links into sources.md are always checked.
PROSE_CODE_RE = re.compile(r"\b[A-K]\d{1,2}(?:/[A-K]\d{1,2})?\b")
# Named entries in YAML comments: 'avail', 'B-mix', 'S-post-arrest' (no spaces inside).
NAMED_RE = re.compile(r"'([A-Za-z][A-Za-z0-9-]*)'")
# Markdown links into sources.md: (sources.md#a10), (docs/sources.md#b-mix), (#a10) inside it.
LINK_RE = re.compile(r"\]\((?:(?:docs/)?sources\.md)?#([^)\s]+)\)")
SOURCES_LINK_RE = re.compile(r"\]\((?:docs/)?sources\.md#([^)\s]+)\)")
# References from Python: "docs/sources.md, A6" or "sources.md#a6".
PY_REF_RE = re.compile(rf"sources\.md(?:#([a-z0-9-]+)|,\s*({CODE}|[A-Za-z][A-Za-z0-9-]*))")
URL_RE = re.compile(r"<?(https?://[^\s>)]+)")

# Published entries whose public address has not been found yet. They say so in the entry
# ("not yet traced"); a new one has to be added here on purpose, and one that gains an
# address has to be taken off.
UNTRACED = {"B14", "F1"}

# The outside reference the figures were first collected in: no project file may cite it
# by name, since readers of the project cannot see it.
FORBIDDEN_NAME = "CALIBRATION" + ".md"


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation other than '-' dropped."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.strip().lower()).replace(" ", "-")


def parse_entries(text: str) -> dict[str, str]:
    """Entries of sources.md: level-3 heading (the code) -> its body."""
    parts = re.split(r"^### +(.+?)\s*$", text, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def known_codes(entries: dict[str, str]) -> set[str]:
    """Every code an entry answers to: its heading, the parts of a joint heading, its anchor."""
    codes: set[str] = set()
    for heading in entries:
        codes |= {heading, slug(heading)}
        if "/" in heading:
            codes |= set(heading.split("/"))
    return codes


def resolves(code: str, codes: set[str]) -> bool:
    return code in codes or all(part in codes for part in code.split("/"))


def yaml_comment(line: str) -> str:
    """The comment part of a YAML line (configs use ' #' only to start comments)."""
    if line.lstrip().startswith("#"):
        return line.lstrip()[1:]
    return line.split(" #", 1)[1] if " #" in line else ""


def citations_in_yaml(text: str) -> set[str]:
    found: set[str] = set()
    for line in text.splitlines():
        comment = yaml_comment(line)
        if comment.strip().startswith("@package"):
            continue
        found |= set(CODE_RE.findall(comment))
        found |= set(NAMED_RE.findall(comment))
    return found


def citations_in_markdown(text: str) -> set[str]:
    return set(SOURCES_LINK_RE.findall(text)) | set(PROSE_CODE_RE.findall(text))


def citations_in_python(text: str) -> set[str]:
    return {anchor or code for anchor, code in PY_REF_RE.findall(text)}


def unresolved(citations: dict[Path, set[str]], codes: set[str]) -> dict[str, list[str]]:
    missing = {str(path.relative_to(ROOT)) if path.is_absolute() else str(path):
               sorted(c for c in found if not resolves(c, codes))
               for path, found in citations.items()}
    return {path: codes for path, codes in missing.items() if codes}


def cited_files() -> dict[Path, set[str]]:
    """Every citation, by file, across configs, README, docs and sim/."""
    citations: dict[Path, set[str]] = {}
    for path in sorted((ROOT / "configs").rglob("*.yaml")):
        citations[path] = citations_in_yaml(path.read_text())
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        if path != SOURCES:
            citations[path] = citations_in_markdown(path.read_text())
    for path in sorted((ROOT / "sim").rglob("*.py")):
        citations[path] = citations_in_python(path.read_text())
    return citations


@pytest.fixture(scope="module")
def entries() -> dict[str, str]:
    return parse_entries(SOURCES.read_text())


@pytest.fixture(scope="module")
def codes(entries) -> set[str]:
    return known_codes(entries)


def test_every_cited_code_has_an_entry(codes):
    assert not unresolved(cited_files(), codes)


def test_links_inside_sources_resolve(codes):
    anchors = set(LINK_RE.findall(SOURCES.read_text()))
    assert anchors and not sorted(a for a in anchors if a not in codes)


def test_the_scanner_finds_real_citations(codes):
    """Guards against a scan that finds nothing and so passes vacuously."""
    cited = cited_files()
    assert "A10" in cited[ROOT / "configs" / "config.yaml"]
    assert {"avail", "rec"} <= cited[ROOT / "configs" / "config.yaml"]
    assert {"A2/A3", "B-mix", "D-mix", "I2"} <= cited[ROOT / "configs" / "demand" / "medium_force.yaml"]
    assert {"H6", "H7", "H3", "I1", "I4", "J1"} <= cited[ROOT / "configs" / "stages" / "default.yaml"]
    assert {"a10", "i1i4", "levers"} <= cited[ROOT / "docs" / "parameters.md"]
    assert "A6" in cited[ROOT / "README.md"]
    assert sum(len(found) for found in cited.values()) > 100


def test_an_unknown_code_is_reported(codes):
    fake = {
        Path("fake.yaml"): citations_in_yaml("x: 1  # source: A10, Z99\ny: 2  # [E] 'nope'\n"),
        Path("fake.md"): citations_in_markdown("see [Z98](docs/sources.md#z98), B12 and K99\n"),
        Path("fake.py"): citations_in_python('"""docs/sources.md, Z97; sources.md#a6"""'),
    }
    assert fake[Path("fake.yaml")] == {"A10", "Z99", "nope"}
    assert unresolved(fake, codes) == {
        "fake.yaml": ["Z99", "nope"], "fake.md": ["K99", "z98"], "fake.py": ["Z97"]}


def test_every_entry_says_what_it_is_and_where_it_comes_from(entries, codes):
    assert len(entries) >= 50
    problems = []
    for code, body in entries.items():
        status = re.search(r"\*\*Status:\*\*\s*\[(S|S2|E)\]", body)
        if not (status and "**Figure:**" in body and "**Measures:**" in body):
            problems.append(f"{code}: needs Figure, Measures and a Status of [S], [S2] or [E]")
            continue
        urls = URL_RE.findall(body)
        if status.group(1) == "E":
            # An estimate names what it was judged from: another entry or a public page.
            links = [a for a in LINK_RE.findall(body) if a in codes]
            if "**Basis:**" not in body or not (links or urls or "no published figure" in body):
                problems.append(f"{code}: an estimate needs a Basis")
        elif code in UNTRACED:
            if urls or "not yet traced" not in body:
                problems.append(f"{code}: listed as untraced; update UNTRACED or the entry")
        elif "**Source:**" not in body or not urls:
            problems.append(f"{code}: a published figure needs a Source with an http(s) address")
    assert not problems, problems


def test_no_project_file_names_the_outside_reference():
    files = [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "configs").rglob("*.yaml"),
             *(ROOT / "sim").rglob("*.py"), *(ROOT / "notebooks").glob("*.ipynb")]
    assert len(files) > 20
    assert not [str(p.relative_to(ROOT)) for p in files if FORBIDDEN_NAME in p.read_text()]
