"""The real app in a real browser: start `streamlit run app.py`, drive Debian's chromium with
Playwright, upload a synthesized WAV on Listen, visit every page, screenshot each and time
(1) server start -> first page rendered and (2) upload -> predictions shown on Compare.

Skipped with the reason when /usr/bin/chromium or playwright is missing, failed instead when
GENRE_REQUIRE_BROWSER=1. Never downloads a browser."""
from __future__ import annotations

import json
import re
import time

import pytest

from tests.app.browser_helpers import (
    ARTIFACTS,
    CHROME_ARGS,
    CHROMIUM,
    SHOTS,
    SLOW,
    _goto,
    _heading,
    _settle,
    _wait_charts,
)
from tests.helpers.audio import tone_wav

pytestmark = pytest.mark.slow   # AppTest/browser/CLI subprocess: see pyproject.toml

# nav label, screenshot name, text the page's main heading holds
PAGES = [("Home", "home", "Genre Studio"), ("Listen", "listen", "Listen"),
         ("Features", "features", "Features"), ("Compare models", "compare", "Compare models"),
         ("Confusion matrix", "confusion", "Confusion matrix"),
         ("Misclassified", "misclassified", "Misclassified tracks"),
         ("Model card", "model_card", "Model card")]

EVIL_NAME = "![x](http://evil.invalid/a.png) <img src=http://evil.invalid/b.png> **b**.wav"


def _local(url: str) -> bool:
    from urllib.parse import urlparse

    u = urlparse(url)
    return u.scheme in ("data", "blob", "about") or u.hostname in ("127.0.0.1", "localhost")


def _click_cell(page, bundle):
    """Click a cell of the default evaluation (a genre it scores, predicted as the next
    genre): its tracks get listed below the matrix."""
    from genre_core.inference.bundle import read_bundle_meta
    from studio import summaries as sup

    meta, report = read_bundle_meta(bundle)
    labels = sup.bundle_labels(meta, report)
    model = sup.evaluated_models(meta, report)[0]
    evaluated = sup.preferred_evaluation(report, model).get("evaluated_genres") or labels
    true = evaluated[-1]
    pred = labels[(labels.index(true) + 1) % len(labels)]
    before = page.get_by_text("track(s) predicted as").first.inner_text()
    point = page.locator('[data-testid="stPlotlyChart"] .scatterlayer .point').nth(
        labels.index(true) * len(labels) + labels.index(pred))
    box = point.bounding_box()
    assert box, "no clickable cell markers on the confusion matrix"
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    want = f"{true} track(s) predicted as {pred}"
    page.get_by_text(want).first.wait_for(timeout=SLOW)
    assert want not in before
    _settle(page)


def test_every_page_in_chromium(playwright_api, server):
    from genre_core.inference.bundle import read_bundle_meta

    url, started, bundle = server
    n_models = len(read_bundle_meta(bundle)[0]["models"])
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser = playwright_api.chromium.launch(executable_path=str(CHROMIUM), args=CHROME_ARGS)
    timings: dict[str, float] = {}
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        # offline: nothing may be requested from another host (fonts, icons, images,
        # telemetry); such requests are recorded and aborted
        foreign: list[str] = []
        page.route(lambda u: not _local(u), lambda route: (
            foreign.append(route.request.url), route.abort()))
        page.on("request", lambda r: None if _local(r.url) else foreign.append(r.url))
        page.goto(url, timeout=SLOW)
        _heading(page, "Genre Studio")
        page.get_by_text("Models loaded").wait_for(timeout=SLOW)
        timings["server_start_to_first_page_s"] = round(time.perf_counter() - started, 2)
        _settle(page)
        page.screenshot(path=str(SHOTS / "home.png"))
        page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=SLOW)

        # Listen: upload a synthesized tone
        _goto(page, "Listen")
        _heading(page, "Listen")
        page.locator('input[type="file"]').first.wait_for(state="attached", timeout=SLOW)
        t_upload = time.perf_counter()
        page.locator('input[type="file"]').first.set_input_files(
            files=[{"name": "tone.wav", "mimeType": "audio/wav", "buffer": tone_wav(9.0)}])
        page.get_by_text("Chosen clip: tone.wav").wait_for(timeout=SLOW)
        _wait_charts(page, 1)
        _settle(page)
        page.screenshot(path=str(SHOTS / "listen.png"))

        # Compare: predictions of every model
        _goto(page, "Compare models")
        _heading(page, "Compare models")
        page.locator("h3").filter(has_text=re.compile("models agree|No majority")).first.wait_for(
            timeout=SLOW)
        _wait_charts(page, 1 + n_models)
        timings["upload_to_predictions_shown_s"] = round(time.perf_counter() - t_upload, 2)
        _settle(page)
        page.screenshot(path=str(SHOTS / "compare.png"))

        for label, name, heading in PAGES:
            if name in ("home", "listen", "compare"):
                continue
            _goto(page, label)
            _heading(page, heading)
            _wait_charts(page, 1)
            _settle(page)
            assert page.locator('[data-testid="stException"]').count() == 0, name
            if name == "confusion":
                _click_cell(page, bundle)
            page.screenshot(path=str(SHOTS / f"{name}.png"))
        # back to Listen: the clip is still chosen
        _goto(page, "Listen")
        page.get_by_text("Chosen clip: tone.wav").wait_for(timeout=SLOW)
        assert page.locator('[data-testid="stException"]').count() == 0
        # a file named like Markdown/HTML is shown literally: no image, no request
        page.locator('input[type="file"]').first.set_input_files(
            files=[{"name": EVIL_NAME, "mimeType": "audio/wav", "buffer": tone_wav(4.0)}])
        page.get_by_text(f"Chosen clip: {EVIL_NAME}").first.wait_for(timeout=SLOW)
        _settle(page)
        assert page.locator('img[src*="evil.invalid"]').count() == 0
        assert not errors, errors
        assert not foreign, f"requests to other hosts: {sorted(set(foreign))}"
    finally:
        browser.close()
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "browser_timings.json").write_text(json.dumps(
            {**timings, "bundle": str(bundle), "viewport": "1280x800"}, indent=1))
        print("browser timings:", timings)
    for name in [p[1] for p in PAGES]:
        assert (SHOTS / f"{name}.png").stat().st_size > 10_000
