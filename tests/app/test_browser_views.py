"""The newer views in a real browser (Debian chromium through Playwright; never downloads
one): the playing timeline plays, its playhead moves and a click seeks; charts offer a PNG
download; a confusion cell lands in the URL and a bookmarked URL restores it; presentation
mode enlarges the type; batch answers several files. Screenshots of every new view at
1280x800 go to test-artifacts/screenshots/views_*.png."""
from __future__ import annotations

import os
import re

import pytest

from tests.app.browser_helpers import (
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
from tests.helpers.paths import DATA_ROOT

pytestmark = pytest.mark.slow   # AppTest/browser/CLI subprocess: see pyproject.toml

TIMELINE = 'iframe[title*="genre_timeline"]'


def shot(page, name: str):
    page.screenshot(path=str(SHOTS / f"views_{name}.png"))


def frame_time(frame) -> float:
    return float(frame.locator("#lanes-playhead").get_attribute("data-time") or 0)


def test_new_views_in_chromium(playwright_api, server):  # noqa: F811
    url, _, bundle = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser = playwright_api.chromium.launch(executable_path=str(CHROMIUM), args=CHROME_ARGS)
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        outside: list[str] = []          # nothing may be fetched from the internet
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(
            (url, "data:", "blob:", "about:")) else None)
        page.goto(url, timeout=SLOW)
        _heading(page, "Genre Studio")
        _settle(page)

        # a 9-s clip, then Compare: the timeline plays, the playhead moves, clicks seek
        _goto(page, "Listen")
        _heading(page, "Listen")
        page.locator('input[type="file"]').first.set_input_files(
            files=[{"name": "tone.wav", "mimeType": "audio/wav", "buffer": tone_wav(9.0)}])
        page.get_by_text("Chosen clip: tone.wav").wait_for(timeout=SLOW)
        _settle(page)
        _goto(page, "Compare models")
        page.locator("h3").filter(has_text=re.compile("models agree|No majority")).first.wait_for(
            timeout=SLOW)
        page.locator(TIMELINE).wait_for(timeout=SLOW)
        frame = page.frame_locator(TIMELINE)
        frame.locator(".cell").first.wait_for(timeout=SLOW)
        _settle(page)
        iframe = page.locator(TIMELINE).element_handle().content_frame()
        iframe.wait_for_function("() => document.querySelectorAll('.lane').length > 0 && "
                                 "document.querySelector('wave, div[part=\"wrapper\"]') !== null"
                                 " || document.querySelector('#waveform').children.length > 0",
                                 timeout=SLOW)
        assert frame_time(frame) == 0.0
        shot(page, "compare_timeline")
        frame.locator("#tl-play").click()
        iframe.wait_for_function(
            "() => parseFloat(document.querySelector('#lanes-playhead').dataset.time) > 0.8",
            timeout=30_000)
        frame.locator("#tl-play").click()                      # pause
        playing_at = frame_time(frame)
        assert 0.8 < playing_at < 9.0
        head = frame.locator("#lanes-playhead").bounding_box()
        assert head["x"] > frame.locator(".cells").first.bounding_box()["x"] + 5  # it moved

        def seek_on(locator, fraction: float) -> float:
            box = locator.bounding_box()
            page.mouse.click(box["x"] + box["width"] * fraction, box["y"] + box["height"] / 2)
            page.wait_for_timeout(400)
            return frame_time(frame)

        landed = seek_on(frame.locator(".cells").first, 0.75)       # a click on a lane
        assert abs(landed - 0.75 * 9.0) < 0.4, landed
        landed = seek_on(frame.locator("#waveform"), 0.25)           # a click on the waveform
        assert abs(landed - 0.25 * 9.0) < 0.4, landed
        current = frame.locator(".cell.current")
        assert current.count() >= 1                                # the segment under the head
        assert frame.locator("#now .now-model").count() >= 2
        shot(page, "compare_timeline_seeked")

        # every chart offers "Download plot as a PNG" in its modebar
        chart = page.locator('[data-testid="stPlotlyChart"]').first
        chart.hover()
        assert chart.locator('.modebar-btn[data-title*="PNG" i]').count() == 1

        for label, heading, name in (("Map of music", "Map of music", "map"),
                                     ("What the model heard", "What the model heard",
                                      "saliency")):
            _goto(page, label)
            _heading(page, heading)
            _wait_charts(page, 1)
            _settle(page)
            assert page.locator('[data-testid="stException"]').count() == 0, name
            shot(page, name)
            if name == "map":     # the PNG download works and is named after the chart
                chart = page.locator('[data-testid="stPlotlyChart"]').first
                chart.hover()
                with page.expect_download(timeout=60_000) as download:
                    chart.locator('.modebar-btn[data-title*="PNG" i]').click()
                assert download.value.suggested_filename == "music-map.png"

        # Map: ring the tracks a model got wrong out of fold
        _goto(page, "Map of music")
        _heading(page, "Map of music")
        page.get_by_text("Ring misclassified tracks").first.click()
        page.get_by_text("misclassified by (held-out predictions)").first.wait_for(timeout=SLOW)
        _settle(page)
        shot(page, "map_misclassified")

        # Misclassified: saliency for the chosen track (needs the dataset's audio)
        if "GENRE_DATA" in os.environ or (DATA_ROOT / "Data" / "genres_original").is_dir():
            _goto(page, "Misclassified")
            _heading(page, "Misclassified tracks")
            sub = page.locator("h3").filter(has_text="What the model listened to").first
            sub.wait_for(timeout=SLOW)
            _settle(page)
            sub.scroll_into_view_if_needed()
            page.mouse.wheel(0, 250)
            page.wait_for_timeout(500)
            shot(page, "misclassified_saliency")

        # Features: the explainer with a synthesized chord
        _goto(page, "Features")
        _heading(page, "Features")
        page.get_by_text("What is this feature?").first.click()
        page.get_by_text("chord", exact=True).first.click()
        _settle(page)
        shot(page, "features_explainer")

        # Listen: examples of each genre
        _goto(page, "Listen")
        page.get_by_text("Examples of each genre").first.scroll_into_view_if_needed()
        _settle(page)
        shot(page, "listen_examples")

        # Batch: three files at once (one is not audio)
        _goto(page, "Batch")
        _heading(page, "Batch")
        page.locator('input[type="file"]').first.set_input_files(files=[
            {"name": "a.wav", "mimeType": "audio/wav", "buffer": tone_wav(4.0)},
            {"name": "b.wav", "mimeType": "audio/wav", "buffer": tone_wav(6.0, amplitude=0.2)},
            {"name": "notaudio.wav", "mimeType": "audio/wav", "buffer": b"hello"}])
        page.get_by_text("of 3 files analysed").wait_for(timeout=SLOW)
        _settle(page)
        assert "2 of 3 files analysed" in page.locator("body").inner_text()
        shot(page, "batch")

        # Confusion: a clicked cell is in the URL; the URL restores it in a fresh session
        _goto(page, "Confusion matrix")
        _heading(page, "Confusion matrix")
        _wait_charts(page, 1)
        _settle(page)
        true = page.locator('[data-testid="stSelectbox"]').filter(has_text="True genre")
        assert true.count() == 1
        page.wait_for_function("() => location.search.includes('true=')", timeout=SLOW)
        query = dict(re.findall(r"(\w+)=([\w.]+)", page.url.split("?", 1)[1]))
        assert {"model", "true", "pred"} <= set(query)
        fresh = browser.new_page(viewport={"width": 1280, "height": 800})
        fresh.goto(page.url, timeout=SLOW)
        _heading(fresh, "Confusion matrix")
        want = f"{query['true']} track(s) predicted as {query['pred']}"
        fresh.get_by_text(want).first.wait_for(timeout=SLOW)
        fresh.close()

        # presentation mode: bigger type, captions hidden
        size = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('h1'))"
                             ".fontSize)")
        page.locator('[data-testid="stSidebar"]').get_by_text("Presentation mode").click()
        page.wait_for_function(f"() => parseFloat(getComputedStyle(document.querySelector('h1'))"
                               f".fontSize) > {size}", timeout=SLOW)
        _settle(page)
        page.wait_for_function("() => location.search.includes('present=1')", timeout=30_000)
        _goto(page, "Compare models")
        page.locator(TIMELINE).wait_for(timeout=SLOW)
        _settle(page)
        shot(page, "presentation_compare")
        assert not errors, errors
        assert not outside, outside
    finally:
        browser.close()
    for name in ("compare_timeline", "map", "saliency", "features_explainer",
                 "listen_examples", "batch", "presentation_compare"):
        assert (SHOTS / f"views_{name}.png").stat().st_size > 10_000, name
