"""The first screen of a report as a planner's browser shows it, for the README: headless
Chromium (Debian's ``chromium``, driven by Playwright) opens ``REPORT`` at 1280 x 900 pixels
and saves what it shows to ``OUT`` (PNG).

Run: ``.venv/bin/python docs/figures/screenshot.py REPORT.html OUT.png``
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
SCREEN = {"width": 1280, "height": 900}


def main(report: str, out: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport=SCREEN)
        page.goto(Path(report).resolve().as_uri())
        page.screenshot(path=out)
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:3])
