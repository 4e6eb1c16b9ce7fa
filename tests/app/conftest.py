"""Fixtures of the app's tests: the bundle the app serves (bundle_dir), an AppTest factory
(make_app), and for the browser tests Playwright (playwright_api) and the app served by
`streamlit run app.py` on a free port (server; one server per test module)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.app.apptest_helpers import run_app
from tests.app.browser_helpers import CHROMIUM, _free_port, _skip_or_fail
from tests.helpers.bundles import _bundle_is_usable, build_tiny_bundle
from tests.helpers.paths import DATA_ROOT, ROOT, SHIPPED_BUNDLE


@pytest.fixture(scope="session")
def bundle_dir(tmp_path_factory) -> Path:
    """The shipped bundle when present, else a tiny one built in seconds."""
    if os.environ.get("GENRE_TEST_TINY_BUNDLE") != "1" and _bundle_is_usable(SHIPPED_BUNDLE):
        return SHIPPED_BUNDLE
    return build_tiny_bundle(tmp_path_factory.mktemp("bundle") / "tiny")


@pytest.fixture
def make_app(monkeypatch, bundle_dir):
    """AppTest of app.py on `page`, with or without a dataset/clip/bundle."""

    def _make(page: str = "home", data: Path | None = None, clip: bytes | None = None,
              clip_name: str = "tone.wav", bundle: Path | str | None = None):
        return run_app(monkeypatch, bundle or bundle_dir, page, data, clip, clip_name)
    return _make


@pytest.fixture(scope="module")
def playwright_api():
    if not CHROMIUM.exists():
        _skip_or_fail(f"{CHROMIUM} not found (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("the playwright Python package is not installed")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app served on a free port; yields (url, start time, bundle folder)."""
    bundle = (SHIPPED_BUNDLE if os.environ.get("GENRE_TEST_TINY_BUNDLE") != "1"
              and _bundle_is_usable(SHIPPED_BUNDLE)
              else build_tiny_bundle(tmp_path_factory.mktemp("bundle") / "tiny"))
    port = _free_port()
    env = {**os.environ, "GENRE_BUNDLE": str(bundle), "TF_CPP_MIN_LOG_LEVEL": "2",
           "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    env.pop("GENRE_STUDIO_DEBUG", None)
    if (DATA_ROOT / "Data" / "genres_original").is_dir():
        env["GENRE_DATA"] = str(DATA_ROOT)
    else:
        env.pop("GENRE_DATA", None)
    log = open(tmp_path_factory.mktemp("server") / "streamlit.log", "w")
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
         "--server.headless", "true", "--server.port", str(port),
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                log.flush()
                pytest.fail("streamlit did not start: " + Path(log.name).read_text()[-2000:])
            time.sleep(0.3)
        yield url, start, bundle
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
