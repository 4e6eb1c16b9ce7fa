"""Bookmarks opened on a cold server: a fresh `streamlit run app.py`, and nobody opens `/`
first. Each URL the app writes (every page's path, ?track=, the confusion matrix's
?model=&true=&pred=, ?present=1) is opened first-hand in a new browser context; each must show
the app's own navigation (page titles, not file names), the bookmarked page, wide, with what the
URL names restored. (Streamlit builds a page list of its own from a folder named `pages/` beside
the entry script; the app's pages live in app_pages/ so it never does.)"""
from __future__ import annotations

import pytest

from tests.app.browser_helpers import CHROME_ARGS, CHROMIUM, SLOW, _settle
from tests.helpers.paths import DATA_ROOT

pytestmark = pytest.mark.slow

# url path, the heading the page shows
PAGES = [("", "Genre Studio"), ("listen", "Listen"), ("features", "Features"),
         ("compare", "Compare models"), ("confusion", "Confusion matrix"),
         ("misclassified", "Misclassified"), ("model_card", "Model card"),
         ("map", "Map of music"), ("saliency", "What the model heard"), ("batch", "Batch")]
NAV_TITLES = ["Home", "Listen", "Compare models", "Confusion matrix", "Batch"]


def _open_first(browser, url: str):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, timeout=SLOW)
    page.locator('[data-testid="stSidebarNav"]').wait_for(timeout=SLOW)
    _settle(page)
    return context, page, errors


def _check_app_shell(page, url: str, heading: str):
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    for title in NAV_TITLES:
        assert title in nav, f"{url}: the sidebar lacks the app's page {title!r}: {nav!r}"
    for file_name in ("app\n", "batch\n", "model_card", "saliency\n"):
        assert file_name not in nav + "\n", f"{url}: the sidebar lists file names: {nav!r}"
    page.locator("h1").filter(has_text=heading).first.wait_for(timeout=SLOW)
    width, room = page.evaluate(
        "() => [document.querySelector('[data-testid=\"stMainBlockContainer\"]')"
        ".getBoundingClientRect().width, window.innerWidth - document.querySelector("
        "'[data-testid=\"stSidebar\"]').getBoundingClientRect().width]")
    # wide: the page uses the room beside the sidebar (centered stops at about 736 px)
    assert width > 0.8 * room, f"{url}: the layout is not wide ({width:.0f} of {room:.0f} px)"
    assert page.get_by_text("Settings").count() > 0, f"{url}: the app's sidebar is missing"


def test_every_bookmark_first_on_a_cold_server(playwright_api, server):  # noqa: F811
    from genre_core.inference.bundle import read_bundle_meta
    from studio import summaries as sup

    url, _, bundle = server
    meta, report = read_bundle_meta(bundle)
    labels = sup.bundle_labels(meta, report)
    models = sup.evaluated_models(meta, report)
    model = "ensemble" if "ensemble" in models else models[-1]
    true, pred = labels[-1], labels[0]
    browser = playwright_api.chromium.launch(executable_path=str(CHROMIUM), args=CHROME_ARGS)
    try:
        # the deep link the issue names, first of all
        deep = f"{url}/confusion?model={model}&true={true}&pred={pred}"
        context, page, errors = _open_first(browser, deep)
        _check_app_shell(page, deep, "Confusion matrix")
        page.get_by_text(f"{true} track(s) predicted as {pred}").first.wait_for(timeout=SLOW)
        shown = page.locator('[data-testid="stMainBlockContainer"] [data-testid="stSelectbox"] '
                             'input').first.input_value()
        assert sup.display_name(model) in shown, f"{deep}: model {model!r} not restored: {shown!r}"
        assert f"model={model}" in page.url and f"true={true}" in page.url, page.url
        assert not errors, errors
        context.close()
        if (DATA_ROOT / "Data" / "genres_original").is_dir():      # the server offers GTZAN
            from genre_core.inference.dataset import index_dataset

            track = index_dataset(DATA_ROOT).tracks[0]
            for path, heading in (("listen", "Listen"), ("compare", "Compare models")):
                link = f"{url}/{path}?track={track.id}"
                context, page, errors = _open_first(browser, link)
                _check_app_shell(page, link, heading)
                if path == "listen":
                    page.get_by_text(f"Chosen clip: {track.filename}").wait_for(timeout=SLOW)
                else:
                    page.get_by_text("Genre Studio says").first.wait_for(timeout=SLOW)
                assert f"track={track.id}" in page.url, page.url
                assert not errors, (link, errors)
                context.close()
        for path, heading in PAGES:
            for query in ("", "?present=1"):
                link = f"{url}/{path}{query}"
                context, page, errors = _open_first(browser, link)
                _check_app_shell(page, link, heading)
                if query:
                    assert "present=1" in page.url, f"{link}: presentation mode dropped"
                    # the sidebar's toggle may be drawn after the page's own elements
                    page.locator("text=Presentation mode").first.wait_for(timeout=SLOW)
                assert page.locator('[data-testid="stException"]').count() == 0, link
                assert not errors, (link, errors)
                context.close()
    finally:
        browser.close()
