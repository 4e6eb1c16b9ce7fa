"""Section `class`: a class at once. One `streamlit run app.py`; N real browser sessions
(Playwright contexts in Debian chromium, each its own Streamlit session), each opening Listen,
uploading a different clip and going on to Compare, all at the same time. Every session must
show Genre Studio's verdict for its own clip (the one a Predictor gives for those bytes) and no
exception; each session's time from its upload to its verdict is stamped in the page itself (a
MutationObserver), so a session that finishes while another is being looked at is timed
right. Also the server's peak memory (VmHWM). `check_class` is the same run for the tests."""
from __future__ import annotations

import time
from pathlib import Path

from bench.app import page_problem, streamlit_server
from bench.common import CHROMIUM_ARGS, find_chromium, peak_rss_of, stats

# in each page: click on to Compare as soon as Listen shows the uploaded clip, and stamp the
# moment the verdict header appears (Date.now(), the same clock as time.time())
WATCH = """(clip) => {
  window.__verdictAt = null; window.__verdict = null; let moved = false;
  const look = () => {
    if (!moved && document.body.innerText.includes('Chosen clip: ' + clip)) {
      const link = [...document.querySelectorAll('[data-testid="stSidebarNav"] a')]
        .find((a) => a.innerText.includes('Compare models'));
      if (link) { moved = true; link.click(); }
    }
    for (const h of document.querySelectorAll('h2')) {
      if (!window.__verdictAt && h.innerText.startsWith('Genre Studio says')) {
        window.__verdictAt = Date.now(); window.__verdict = h.innerText;
      }
    }
  };
  new MutationObserver(look).observe(document.body,
    {subtree: true, childList: true, characterData: true});
}"""


def class_clips(data_root: Path | None, n: int, folder: Path) -> list[Path]:
    """N different clips: GTZAN's WAVs spread over the genres when a dataset is there, else
    synthesized tone-and-noise clips of different pitches."""
    wavs = sorted((data_root / "Data" / "genres_original").rglob("*.wav")) if data_root else []
    if len(wavs) >= n:
        step = len(wavs) / n
        return [wavs[int(k * step)] for k in range(n)]
    import numpy as np
    import soundfile as sf

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k in range(n):
        t = np.arange(8 * 22050) / 22050
        rng = np.random.default_rng(k)
        y = 0.3 * np.sin(2 * np.pi * (110 + 37 * k) * t) * (1 + np.sin(2 * np.pi * 2 * t)) / 2
        y = y + 0.05 * rng.standard_normal(len(t)) * (np.sin(2 * np.pi * 4 * t) > 0.6)
        path = folder / f"class-{k:02d}.wav"
        sf.write(path, y.astype(np.float32), 22050)
        out.append(path)
    return out


def expected_verdicts(bundle_path: Path, clips: list[Path]) -> dict[str, str]:
    """What each clip's verdict header must say (a Predictor on the same file)."""
    from genre_core.inference.predict import Predictor

    predictor = Predictor(bundle_path)
    return {c.name: f"Genre Studio says: {predictor.predict(str(c)).verdict}" for c in clips}


def run_class(bundle_path: Path, clips: list[Path], timeout_s: float = 300.0) -> dict:
    """N sessions at once, one clip each; see the module docstring."""
    from playwright.sync_api import sync_playwright

    chromium = find_chromium()
    if chromium is None:
        return {"skipped": "chromium not found (/usr/bin/chromium or $BENCH_CHROMIUM)"}
    expected = expected_verdicts(bundle_path, clips)
    errors: list[str] = []
    with sync_playwright() as pw, streamlit_server(bundle_path, None) as srv:
        browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            pages = []
            for _ in clips:
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                page = context.new_page()
                page.goto(srv["url"] + "listen", timeout=120_000)
                pages.append(page)
            for page, clip in zip(pages, clips):
                page.wait_for_selector('h1:has-text("Listen")', timeout=120_000)
                page.locator('input[type="file"]').first.wait_for(state="attached",
                                                                  timeout=120_000)
                page.evaluate(WATCH, clip.name)
            started = {}
            for page, clip in zip(pages, clips):        # the class uploads, all at once
                started[clip.name] = time.time()
                page.locator('input[type="file"]').first.set_input_files(str(clip))
            deadline = time.time() + timeout_s
            done: dict[str, float] = {}
            shown: dict[str, str] = {}
            while len(done) < len(clips) and time.time() < deadline:
                for page, clip in zip(pages, clips):
                    if clip.name in done:
                        continue
                    at = page.evaluate("window.__verdictAt")
                    if at:
                        done[clip.name] = at / 1000 - started[clip.name]
                        shown[clip.name] = page.evaluate("window.__verdict")
                time.sleep(0.25)
            for page, clip in zip(pages, clips):
                page.wait_for_timeout(100)
                problem = page_problem(page)      # an exception, or the app's error message
                if problem:
                    errors.append(f"{clip.name}: the page shows {problem!r}")
                if clip.name not in done:
                    errors.append(f"{clip.name}: no verdict within {timeout_s:.0f} s")
                elif shown[clip.name].strip() != expected[clip.name]:
                    errors.append(f"{clip.name}: showed {shown[clip.name]!r}, its own verdict "
                                  f"is {expected[clip.name]!r}")
            peak = peak_rss_of(srv["pid"])
        finally:
            browser.close()
    return class_figures(len(clips), list(done.values()), errors, peak,
                         "Playwright browser contexts in Debian chromium, one Streamlit "
                         "session each, uploading at once")


def class_figures(sessions: int, times: list[float], errors: list[str], peak, how: str) -> dict:
    """A class run's figures: `times` of the sessions that showed a verdict (right or wrong;
    a wrong one has an error naming it, "...: showed ..."), the server's peak RSS in bytes."""
    times = sorted(times)
    out: dict = {"sessions": sessions, "answered": len(times),
                 "correct": len(times) - sum(": showed" in e for e in errors), "how": how}
    if times:
        out["upload_to_verdict"] = stats(times)
        out["p95_upload_to_verdict_s"] = times[min(len(times) - 1, int(0.95 * len(times)))]
        out["slowest_session_s"] = times[-1]
    if peak:
        out["server_peak_rss_mib"] = peak / 2**20
    if errors:
        out["errors"] = errors
    return out


def bench_class(bundle_path: Path, data_root: Path | None, sessions: int, tmp: Path) -> dict:
    try:
        from playwright.sync_api import sync_playwright  # noqa: F401
    except ImportError:
        return {"skipped": "the playwright Python package is not installed"}
    return run_class(bundle_path, class_clips(data_root, sessions, tmp / "class"))
