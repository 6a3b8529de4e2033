"""Documentation that runs: every ``>>>`` example in the package's docstrings is executed with
doctest, and every Python block in the README and in ``docs/`` is executed as written, each
in a fresh namespace and an empty working folder (examples may write figures or run folders).
"""

from __future__ import annotations

import doctest
import importlib
import re
from pathlib import Path

import matplotlib
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = ROOT / "sim"
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

PYTHON_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)


def _modules_with_examples() -> list[str]:
    """The package's modules whose source holds a ``>>>`` example."""
    names = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        if ">>>" in path.read_text():
            parts = path.relative_to(ROOT).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(line number, code) of each fenced ```python block in a markdown text."""
    return [(text[: m.start()].count("\n") + 1, m.group(1)) for m in PYTHON_BLOCK.finditer(text)]


def _doc_blocks() -> list[tuple[str, int, str]]:
    return [(path.name, line, code) for path in DOC_FILES for line, code in python_blocks(path.read_text())]


@pytest.fixture(autouse=True)
def _headless_in_tmp(tmp_path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("module", _modules_with_examples())
def test_docstring_examples_run(module):
    mod = importlib.import_module(module)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(mod, module) if t.examples]
    assert tests, f"{module} has '>>>' in its source but doctest finds no example"
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {module} (output above)"


@pytest.mark.parametrize("name, line, code", _doc_blocks(), ids=lambda v: str(v)[:40] if isinstance(v, str) else str(v))
def test_documented_python_blocks_run(name, line, code):
    exec(compile(code, f"{name}:{line}", "exec"), {"__name__": "__main__"})


def test_the_examples_are_found():
    """The collectors see what is there: the package's own examples and the README's block."""
    assert "sim" in _modules_with_examples()
    assert any(name == "README.md" for name, _, _ in _doc_blocks())
    assert python_blocks("text\n```python\nx = 1\n```\nmore\n```bash\nls\n```\n") == [(2, "x = 1\n")]


def test_a_wrong_example_fails():
    """The doctest runner used above reports a wrong expected output as a failure."""
    parser = doctest.DocTestParser()
    test = parser.get_doctest(">>> 1 + 1\n3\n", {}, "wrong", "wrong.py", 0)
    runner = doctest.DocTestRunner()
    runner.run(test, out=lambda _: None)
    assert runner.summarize(verbose=False).failed == 1
