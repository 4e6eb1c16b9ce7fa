"""Helpers for the browser tests (Debian's chromium driven by Playwright; never downloads a
browser): where the browser and the screenshots are, and how to wait for and move through the
app's pages. The fixtures (playwright_api, server) are in tests/app/conftest.py."""
from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from tests.helpers.paths import ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
SHOTS = ARTIFACTS / "screenshots"
CHROME_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--disable-sync"]
# ms: the machine may be busy training; TensorFlow loads on first predict
SLOW = int(os.environ.get("GENRE_TEST_SLOW_MS", 240_000))


def _skip_or_fail(reason: str):
    if os.environ.get("GENRE_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + " but GENRE_REQUIRE_BROWSER=1")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _settle(page):
    """Wait until the script run has finished (no 'Running…' widget, no spinner)."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]') && "
        "!document.querySelector('[data-testid=\"stSpinner\"]')", timeout=SLOW)
    page.wait_for_timeout(500)


def _goto(page, label: str):
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text=label).first.click()


def _heading(page, text: str):
    page.locator("h1").filter(has_text=text).first.wait_for(timeout=SLOW)


def _plotly_count(page) -> int:
    return page.locator('[data-testid="stPlotlyChart"] .main-svg').count()


def _wait_charts(page, n: int):
    page.wait_for_function(
        f"() => document.querySelectorAll('[data-testid=\"stPlotlyChart\"] .js-plotly-plot')"
        f".length >= {n}", timeout=SLOW)
