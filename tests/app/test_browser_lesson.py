"""The lesson as a teacher runs it in Chromium: Home's step links, then one click per step at
the foot of each page (hear it, see its MFCCs, compare, find the confusion, see why) with a
real song; a confusion cell's track plays in place; every model keeps one colour on every
chart of every page, Genre Studio's answer a colour of its own."""
from __future__ import annotations

import re
from collections import defaultdict

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

pytestmark = pytest.mark.slow

REAL_SONG = DATA_ROOT / "Data" / "genres_original" / "rock" / "rock.00000.wav"
TRACE_COLOURS = """() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(p =>
    (p.data || []).map(t => [t.name || '', JSON.stringify((t.marker || {}).color ?? null)]))"""


def _next_step(page, number: int):
    """The lesson's one click: the link at the foot of the page to step `number`."""
    link = page.get_by_role("link", name=re.compile(f"Lesson step {number} of 5"))
    link.first.scroll_into_view_if_needed(timeout=SLOW)
    link.first.click()


def _colours(page, seen: dict[str, set[str]], where: str, names: set[str]) -> None:
    for name, colour in page.evaluate(TRACE_COLOURS):
        if name in names:
            seen[name].add(colour)
            seen[f"{name}@pages"].add(where)


def test_lesson_path_playable_cell_and_one_colour_per_model(playwright_api, server):  # noqa: F811
    from studio import summaries as sup

    url, _, bundle = server
    names = {sup.display_name(m) for m in sup.DISPLAY_NAMES} | set(sup.DISPLAY_NAMES)
    song = REAL_SONG.read_bytes() if REAL_SONG.is_file() else tone_wav(9.0)
    browser = playwright_api.chromium.launch(
        executable_path=str(CHROMIUM),
        args=CHROME_ARGS + ["--autoplay-policy=no-user-gesture-required"])
    seen: dict[str, set[str]] = defaultdict(set)
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url, timeout=SLOW)
        _heading(page, "Genre Studio")
        _settle(page)
        # step 1 from Home's list: hear it
        page.get_by_role("link", name=re.compile(r"^.*1\. Hear it")).first.click()
        _heading(page, "Listen")
        page.locator('input[type="file"]').first.set_input_files(
            files=[{"name": "song.wav", "mimeType": "audio/wav", "buffer": song}])
        page.get_by_text("Chosen clip: song.wav").wait_for(timeout=SLOW)
        _settle(page)
        for number, heading in ((2, "Features"), (3, "Compare models"),
                                (4, "Confusion matrix"), (5, "What the model heard")):
            _next_step(page, number)
            _heading(page, heading)
            _wait_charts(page, 1)
            _settle(page)
            assert page.locator('[data-testid="stException"]').count() == 0, heading
            if heading == "Compare models":
                page.locator("h3").filter(has_text=re.compile("models agree|No majority")
                                          ).first.wait_for(timeout=SLOW)
                _settle(page)
                _colours(page, seen, "compare", names)
            if heading == "Confusion matrix" and DATA_ROOT.joinpath("Data").is_dir():
                # the cell's tracks play here, on this page
                player = page.locator('[data-testid="stMain"] audio')
                player.first.wait_for(state="attached", timeout=SLOW)
                page.locator('[data-testid="stSelectbox"]').filter(has_text="Play").first.wait_for(
                    timeout=SLOW)
                handle = player.first.element_handle()
                page.evaluate("a => { a.muted = true; return a.play(); }", handle)
                page.wait_for_function("a => a.currentTime > 0.3", arg=handle, timeout=30_000)
                page.get_by_text("Tracks in a cell").first.scroll_into_view_if_needed()
                page.screenshot(path=str(SHOTS / "lesson_confusion_cell.png"))
        page.get_by_role("link", name=re.compile("last step of the lesson")).first.wait_for(
            timeout=SLOW)
        # the colours on the other pages that draw models
        for label, heading, where in (("Misclassified", "Misclassified tracks", "misclassified"),
                                      ("Model card", "Model card", "model_card")):
            _goto(page, label)
            _heading(page, heading)
            _wait_charts(page, 1)
            _settle(page)
            _colours(page, seen, where, names)
        assert not errors, errors
    finally:
        browser.close()
    models = {n: c for n, c in seen.items() if not n.endswith("@pages")}
    assert len(models) >= 3, seen              # the bars of Compare name every model
    for name, colours in models.items():
        assert len(colours) == 1, f"{name} has {len(colours)} colours: {colours}"
    answer = sup.display_name("ensemble")
    assert answer in models, sorted(models)
    others = {next(iter(c)) for n, c in models.items() if n != answer}
    assert next(iter(models[answer])) not in others
