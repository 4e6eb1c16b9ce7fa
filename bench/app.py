"""Section `app`: the Streamlit app in Debian chromium (Playwright), first render and
first prediction; the server's memory after every page."""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from bench.common import (
    CHROMIUM_ARGS,
    ROOT,
    Material,
    child_env,
    eprint,
    find_chromium,
    free_port,
    peak_rss_of,
    stats,
)


@contextmanager
def streamlit_server(bundle_path: Path, data_root: Path | None):
    port = free_port()
    env = child_env()
    env["GENRE_BUNDLE"] = str(bundle_path)
    if data_root is not None:
        env["GENRE_DATA"] = str(data_root)
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
           "--server.headless", "true", "--server.port", str(port)]
    log = tempfile.TemporaryFile()
    start = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        import urllib.request

        healthy = None
        deadline = start + 120
        while time.perf_counter() < deadline and p.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                            timeout=2) as r:
                    if r.status == 200:
                        healthy = time.perf_counter() - start
                        break
            except OSError:
                time.sleep(0.05)
        if healthy is None:
            log.seek(0)
            raise RuntimeError("streamlit did not become healthy: "
                               + log.read().decode(errors="replace")[-800:])
        yield {"url": f"http://127.0.0.1:{port}/", "pid": p.pid, "server_start": healthy}
    finally:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        log.close()


def _wait_idle(page, timeout_ms: int = 120_000) -> None:
    """Until the Streamlit script has finished its run (the app root says notRunning)."""
    page.wait_for_timeout(50)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]',
                           timeout=timeout_ms, state="attached")


def page_problem(page) -> str | None:
    """The first exception or error message on the page (its first 300 characters), or None."""
    loc = page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]')
    if loc.count():
        return loc.first.inner_text()[:300]
    return None


def _upload_then_compare(page, path: Path, chosen: str, first_answers: list | None = None
                         ) -> tuple[float, float]:
    """From Listen: upload `path`, wait until the page shows `chosen`, go to Compare and wait
    until every model's answer is drawn (noting the fast models' first answers in
    `first_answers` when given). Returns (seconds to the clip shown, seconds to every answer),
    both from the upload."""
    nav = page.locator('[data-testid="stSidebarNav"] a')
    nav.filter(has_text="Listen").click()
    page.wait_for_selector('h1:has-text("Listen")', timeout=60_000)
    _wait_idle(page)
    t = time.perf_counter()
    page.locator('input[type="file"]').first.set_input_files(str(path))
    page.wait_for_selector(chosen, timeout=120_000)
    _wait_idle(page)
    shown = time.perf_counter() - t
    nav.filter(has_text="Compare").click()
    if first_answers is not None:   # the fast models' answers ("First answers: ...") first
        page.wait_for_selector("text=/First answers:|Timing:/", timeout=180_000)
        first_answers.append(time.perf_counter() - t)
    page.wait_for_selector('h2:has-text("Genre Studio says"), :text("Timing:")',
                           timeout=180_000)
    answered = time.perf_counter() - t      # the verdict (or, without an ensemble, the end)
    page.wait_for_selector('text=Timing:', timeout=180_000)
    _wait_idle(page)
    return shown, answered


def bench_app(bundle_path: Path, data_root: Path | None, mat: Material, reps: int) -> dict:
    missing = [p for p in ("app.py", "app_pages/home.py", "app_pages/listen.py", "app_pages/compare.py")
               if not (ROOT / p).exists()]
    if missing:
        return {"skipped": f"the app is not there yet ({', '.join(missing)} missing)"}
    chromium = find_chromium()
    if chromium is None:
        return {"skipped": "chromium not found (/usr/bin/chromium or $BENCH_CHROMIUM)"}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"skipped": "the playwright Python package is not installed"}

    starts, renders, totals, uploads, predictions, peaks, pages_seen = [], [], [], [], [], [], []
    first_answers, warm, saliency = [], [], []
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            for rep in range(reps):
                with streamlit_server(bundle_path, data_root) as srv:
                    t_proc = time.perf_counter() - srv["server_start"]
                    page = browser.new_page(viewport={"width": 1400, "height": 1000})
                    t0 = time.perf_counter()
                    page.goto(srv["url"])
                    page.wait_for_selector('h1:has-text("Genre Studio")', timeout=120_000)
                    _wait_idle(page)
                    render = time.perf_counter() - t0
                    starts.append(srv["server_start"])
                    renders.append(render)
                    totals.append(time.perf_counter() - t_proc)
                    err = page_problem(page)
                    if err:
                        errors.append(f"Home: {err}")
                    # Listen: upload, then Compare until every model's answer is drawn
                    shown, answered = _upload_then_compare(page, mat.wav, "text=Chosen clip",
                                                           first_answers)
                    uploads.append(shown)
                    predictions.append(answered)
                    err = page_problem(page)
                    if err:
                        errors.append(f"Compare: {err}")
                    # a second, different clip in the warm app: Listen upload -> Compare
                    warm.append(_upload_then_compare(
                        page, mat.mp3, f"text=Chosen clip: {mat.mp3.name}")[1])
                    # What the model heard: opens on the network behind the answer (musicnn4)
                    t = time.perf_counter()
                    page.locator('[data-testid="stSidebarNav"] a').filter(
                        has_text="What the model heard").click()
                    page.wait_for_selector('h1:has-text("What the model heard")',
                                           timeout=60_000)
                    page.wait_for_selector('[data-testid="stPlotlyChart"]', timeout=180_000)
                    _wait_idle(page, 180_000)
                    saliency.append(time.perf_counter() - t)
                    # every page once (memory after all of them)
                    links = page.locator('[data-testid="stSidebarNav"] a')
                    names = [links.nth(i).inner_text().strip().splitlines()[-1]
                             for i in range(links.count())]
                    for i, name in enumerate(names):
                        links.nth(i).click()
                        page.wait_for_timeout(200)
                        _wait_idle(page, 180_000)
                        err = page_problem(page)
                        if err:
                            errors.append(f"{name}: {err}")
                    pages_seen = names
                    peak = peak_rss_of(srv["pid"])
                    if peak:
                        peaks.append(peak)
                    page.close()
                eprint(f"  app run {rep + 1}/{reps}: server {starts[-1]:.1f} s, Home "
                       f"{renders[-1]:.1f} s, upload->predictions {predictions[-1]:.1f} s")
        finally:
            browser.close()
    return {"server_start": stats(starts), "first_render": stats(renders),
            "process_to_home": stats(totals), "upload_to_listen": stats(uploads),
            "upload_to_first_answer": stats(first_answers),
            "upload_to_predictions": stats(predictions),
            "warm_upload_to_predictions": stats(warm),
            **({"saliency_musicnn": stats(saliency)} if saliency else {}),
            "server_peak_rss": stats(peaks) if peaks else None, "pages_visited": pages_seen,
            "dataset_connected": data_root is not None,
            **({"page_errors": errors} if errors else {})}
