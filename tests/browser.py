"""What the browser tests share: Debian's Chromium, which Playwright drives (its own browser
download is not used). Without it a browser test module skips, unless
``CASESIM_BROWSER_TESTS=required`` (as ``.ci/run`` sets) makes that a failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")


def require_chromium() -> None:
    """At a browser test module's top: skip it (or fail, where required) without Chromium
    or pytest-playwright."""
    if not CHROMIUM.is_file():
        if os.environ.get("CASESIM_BROWSER_TESTS") == "required":
            raise RuntimeError(f"the browser tests need {CHROMIUM} (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)", allow_module_level=True)
    pytest.importorskip("pytest_playwright")
