"""Screenshots of every page at 1280x800, with and without presentation mode, for one song
(and the Compare page for a clip of half a second): `python -m tools.screenshots SONG
[--out test-artifacts/screenshots] [--bundle DIR] [--data DIR]`. Starts its own server on a
free port and drives Debian's chromium with Playwright (never downloads a browser)."""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from bench.app import streamlit_server
from bench.common import CHROMIUM_ARGS, find_chromium
from genre_core.inference.bundle import DEFAULT_BUNDLE

PAGES = [("Home", ""), ("Listen", "listen"), ("Features", "features"),
         ("Compare models", "compare"), ("Confusion matrix", "confusion"),
         ("Misclassified", "misclassified"), ("Model card", "model_card"),
         ("Map of music", "map"), ("What the model heard", "saliency"), ("Batch", "batch")]


def _idle(page, timeout_ms: int = 240_000) -> None:
    page.wait_for_timeout(400)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]',
                           timeout=timeout_ms, state="attached")
    page.wait_for_timeout(600)


def _upload(page, path: Path) -> None:
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Listen").click()
    _idle(page)
    page.locator('input[type="file"]').first.set_input_files(str(path))
    page.get_by_text(f"Chosen clip: {path.name}").wait_for(timeout=240_000)
    _idle(page)


def _shoot_all(page, out: Path, suffix: str) -> None:
    for label, name in PAGES:
        page.locator('[data-testid="stSidebarNav"] a').filter(has_text=label).first.click()
        _idle(page)
        page.screenshot(path=str(out / f"{name or 'home'}{suffix}.png"))
        print(f"  {name or 'home'}{suffix}.png")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("song", type=Path)
    ap.add_argument("--out", type=Path, default=Path("test-artifacts/screenshots"))
    ap.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE)
    ap.add_argument("--data", type=Path, default=None, help="dataset the server offers")
    args = ap.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print("error: chromium not found (apt-get install chromium)", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw, \
            streamlit_server(args.bundle, args.data) as srv:
        short = Path(tmp) / "half-a-second.wav"
        t = np.arange(11025) / 22050
        sf.write(short, (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32), 22050)
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            for suffix, query in (("", ""), ("-presenting", "?present=1")):
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(srv["url"] + query, timeout=240_000)
                _idle(page)
                _upload(page, args.song)
                _shoot_all(page, args.out, suffix)
                page.close()
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(srv["url"], timeout=240_000)
            _idle(page)
            _upload(page, short)
            for label, name in (("Compare models", "compare"), ("Batch", "batch")):
                page.locator('[data-testid="stSidebarNav"] a').filter(has_text=label).click()
                _idle(page)
                if name == "batch":
                    page.locator('input[type="file"]').first.set_input_files(
                        [str(short), str(args.song)])
                    _idle(page)
                page.screenshot(path=str(args.out / f"{name}-half-second.png"))
                print(f"  {name}-half-second.png")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
