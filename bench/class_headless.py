"""Section `class`, second variant: a class of headless clients. The same one
`streamlit run app.py` and the same N clips as the browser variant, but each session is a
client that speaks Streamlit's own protocol (what its browser frontend sends over the websocket
`/_stcore/stream` and the upload route) and renders nothing: it opens Listen, uploads its clip
through the file uploader (file URL request, HTTP PUT, the uploader's widget state), opens
Compare, and stops the clock when the verdict header arrives. What it measures is the server
alone: on one 2-core machine, 30 Chromium renderers take about 85 % of the CPU and say more
about the machine than about the app (the browser variant keeps that figure).

`websockets` and `requests` are Streamlit's own dependencies."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bench.app import streamlit_server
from bench.classroom import class_figures, expected_verdicts
from bench.common import peak_rss_of

HOW = ("headless clients speaking Streamlit's websocket protocol (one session each, the "
       "browser frontend's messages, no rendering), uploading at once")


def _texts(msg) -> list[str]:
    """The markdown and heading bodies a ForwardMsg adds to the page."""
    if msg.WhichOneof("type") != "delta" or not msg.delta.HasField("new_element"):
        return []
    element = msg.delta.new_element
    kind = element.WhichOneof("type")
    return [getattr(element, kind).body] if kind in ("heading", "markdown") else []


class _Session:
    """One visitor: a websocket to the app and the page state it learned from the server."""

    def __init__(self, base: str, ws, http, xsrf: str | None) -> None:
        self.base, self.ws, self.http, self.xsrf = base, ws, http, xsrf
        self.pages: dict[str, str] = {}
        self.uploader: str | None = None
        self.session_id: str | None = None

    async def run_page(self, page: str, widgets=()) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        msg.rerun_script.page_script_hash = self.pages.get(page, "")
        msg.rerun_script.page_name = page
        msg.rerun_script.widget_states.widgets.extend(widgets)
        await self.ws.send(msg.SerializeToString())

    async def until(self, found, timeout: float):
        """Read the server's messages (noting pages, the uploader, the session) until
        `found(msg)` returns something, which is returned."""
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        deadline = time.monotonic() + timeout
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), max(0.1, deadline - time.monotonic()))
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                self.session_id = msg.new_session.initialize.session_id
                self.pages.update({p.url_pathname: p.page_script_hash
                                   for p in msg.new_session.app_pages})
            elif kind == "navigation":
                self.pages.update({p.url_pathname: p.page_script_hash
                                   for p in msg.navigation.app_pages})
            elif (kind == "delta" and msg.delta.HasField("new_element")
                  and msg.delta.new_element.WhichOneof("type") == "file_uploader"):
                self.uploader = msg.delta.new_element.file_uploader.id
            answer = found(msg)
            if answer:
                return answer

    async def upload(self, clip: Path):
        """The file uploader's way: ask for a file URL, PUT the bytes, and return the
        uploader's widget state naming the uploaded file."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        ask = BackMsg()
        ask.file_urls_request.request_id = clip.name
        ask.file_urls_request.file_names.append(clip.name)
        ask.file_urls_request.session_id = self.session_id or ""
        await self.ws.send(ask.SerializeToString())
        urls = (await self.until(lambda m: m.file_urls_response
                                 if m.WhichOneof("type") == "file_urls_response" else None,
                                 60)).file_urls[0]
        data = clip.read_bytes()
        put = await _http(self.http.put, self.base + urls.upload_url,
                          files={"file": (clip.name, data)},
                          headers={"X-Xsrftoken": self.xsrf} if self.xsrf else {})
        put.raise_for_status()
        state = WidgetState()
        state.id = self.uploader or ""
        info = state.file_uploader_state_value.uploaded_file_info.add()
        info.name, info.size, info.file_id = clip.name, len(data), urls.file_id
        info.file_urls.CopyFrom(urls)
        return state


RETRIES: list[str] = []     # HTTP requests tried again after a dropped connection


async def _http(method, url: str, **kwargs):
    """An HTTP request off the event loop, tried once more if the connection drops (as a
    browser's network stack would); each retry is noted in RETRIES."""
    import requests

    try:
        return await asyncio.to_thread(method, url, timeout=60, **kwargs)
    except requests.ConnectionError as e:
        RETRIES.append(f"{url.rsplit('/', 1)[-1][:12]}: {type(e).__name__}")
        return await asyncio.to_thread(method, url, timeout=60, **kwargs)


async def _visit(base: str, clip: Path, ready: list, start: asyncio.Event,
                 timeout_s: float) -> dict:
    """One session: Listen, then (at the class's common start) upload, Compare, the verdict."""
    import requests
    import websockets

    http = requests.Session()
    await _http(http.get, base + "/_stcore/health")     # sets the XSRF cookie
    xsrf = http.cookies.get("_streamlit_xsrf")
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    async with websockets.connect(base.replace("http", "ws", 1) + "/_stcore/stream",
                                  subprotocols=["streamlit"] + ([xsrf] if xsrf else []),
                                  additional_headers={"Origin": base, "Cookie": cookie},
                                  max_size=2**27, open_timeout=120) as ws:
        s = _Session(base, ws, http, xsrf)
        await s.run_page("listen")
        await s.until(lambda m: m.WhichOneof("type") == "script_finished", 120)
        ready.append(clip.name)
        await start.wait()
        began = time.time()
        widget = await s.upload(clip)
        await s.run_page("listen", [widget])
        await s.until(lambda m: any(f"Chosen clip: {clip.name}" in t for t in _texts(m)),
                      timeout_s)
        await s.until(lambda m: m.WhichOneof("type") == "script_finished", timeout_s)
        await s.run_page("compare")
        verdict = await s.until(lambda m: next((t for t in _texts(m)
                                                if t.startswith("Genre Studio says")), None),
                                timeout_s)
        return {"clip": clip.name, "seconds": time.time() - began, "verdict": verdict}


async def _class(base: str, clips: list[Path], timeout_s: float) -> list:
    """Every session opens Listen; when all are there (or failed), all upload at once."""
    ready: list[str] = []
    start = asyncio.Event()
    tasks = [asyncio.create_task(asyncio.wait_for(_visit(base, c, ready, start, timeout_s),
                                                  timeout_s + 180)) for c in clips]
    while len(ready) + sum(t.done() for t in tasks) < len(tasks):
        await asyncio.sleep(0.05)
    start.set()
    return await asyncio.gather(*tasks, return_exceptions=True)


def run_class_headless(bundle_path: Path, clips: list[Path], timeout_s: float = 300.0) -> dict:
    """N headless sessions at once, one clip each; see the module docstring."""
    expected = expected_verdicts(bundle_path, clips)
    RETRIES.clear()
    with streamlit_server(bundle_path, None) as srv:
        results = asyncio.run(_class(srv["url"].rstrip("/"), clips, timeout_s))
        peak = peak_rss_of(srv["pid"])
    errors: list[str] = []
    times = []
    for clip, result in zip(clips, results):
        if isinstance(result, BaseException):
            errors.append(f"{clip.name}: no verdict ({type(result).__name__}: "
                          f"{str(result)[:120]})")
            continue
        times.append(result["seconds"])
        if result["verdict"].strip() != expected[clip.name]:
            errors.append(f"{clip.name}: showed {result['verdict']!r}, its own verdict is "
                          f"{expected[clip.name]!r}")
    out = class_figures(len(clips), times, errors, peak, HOW)
    if RETRIES:
        out["http_retries"] = list(RETRIES)
    return out


def bench_class_headless(bundle_path: Path, data_root: Path | None, sessions: int,
                         tmp: Path) -> dict:
    from bench.classroom import class_clips

    return run_class_headless(bundle_path, class_clips(data_root, sessions, tmp / "class"))
