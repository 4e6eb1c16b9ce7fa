"""Section `class`, server side: N app sessions at once through Streamlit's own test client
(AppTest), each in its own thread of one process (as a Streamlit server runs each session's
script in a thread of its own), sharing that process's caches and models. Each session chooses
a different clip (what an upload stores), draws Listen, then Compare, and must show its own
clip's verdict. This measures the server's work for a class; the browser variant
(bench.classroom) adds each student's browser rendering, which in a classroom runs on the
students' machines but here shares the same two cores.

Run in a fresh process (`python -m bench.class_sessions BUNDLE CLIP...`, JSON on stdout), so
its peak memory is that of a server that has served the class."""
from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _session(clip: Path, out: dict, started: float) -> None:
    from streamlit.testing.v1 import AppTest

    from studio.chosen_clip import ChosenClip

    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        at.switch_page("app_pages/listen.py")
        at.session_state["chosen_clip"] = ChosenClip(clip.read_bytes(), clip.name)  # uploaded
        at.run()
        at.switch_page("app_pages/compare.py").run()
        heads = [h.value for h in at.header if str(h.value).startswith("Genre Studio says")]
        out[clip.name] = {"seconds": time.perf_counter() - started,
                          "verdict": heads[0] if heads else None,
                          "errors": [str(e.value)[:300] for e in at.exception]}
    except Exception as e:  # noqa: BLE001 - one session's failure is reported, not fatal
        out[clip.name] = {"seconds": None, "verdict": None,
                          "errors": [f"{type(e).__name__}: {str(e)[:300]}"]}


def serve_class(bundle: str, clips: list[Path]) -> dict:
    """Warm the process as a running server is (one visitor before the class), then every
    session at once; {clip name: {seconds, verdict, errors}} and the process's peak RSS."""
    os.environ["GENRE_BUNDLE"] = bundle
    os.environ.pop("GENRE_DATA", None)
    warm: dict = {}
    _session(clips[0], warm, time.perf_counter())       # models loaded, caches warm
    out: dict = {}
    started = time.perf_counter()
    threads = [threading.Thread(target=_session, args=(c, out, started)) for c in clips]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    peak = None
    try:
        with open("/proc/self/status") as f:
            peak = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM"))
    except (OSError, StopIteration):
        pass
    return {"sessions": out, "warm_session_s": warm[clips[0].name]["seconds"],
            "peak_rss": peak}


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    result = serve_class(sys.argv[1], [Path(p) for p in sys.argv[2:]])
    print("CLASS_JSON " + json.dumps(result))
