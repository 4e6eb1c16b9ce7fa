"""The playing timeline: a Streamlit component of the project's own, built from the
wavesurfer.js npm package (BSD-3-Clause; see frontend/vendor/LICENSE-wavesurfer.txt).

The browser gets the clip as a data: URL (nothing is fetched from the internet) and one lane
per model (see studio.view_data.timeline_lanes); the waveform's playhead, the current
segment of every lane and its top-3 probabilities follow playback, and a click on the
waveform or a lane seeks. Rebuild the vendored files with `npm install && npm run build` in
this folder."""
from __future__ import annotations

import base64
from pathlib import Path

import streamlit.components.v1 as components

FRONTEND = Path(__file__).resolve().parent / "frontend"
_component = components.declare_component("genre_timeline", path=str(FRONTEND))


def timeline(audio: bytes, mime: str, audio_id: str, lanes: list[dict], labels: list[str],
             colours: dict[str, str], duration: float, regions_lane: int = 0,
             large: bool = False, key: str | None = None, height: int = 90) -> None:
    """Draw the timeline; returns nothing (playback stays in the browser, no reruns)."""
    url = f"data:{mime};base64," + base64.b64encode(audio).decode("ascii")
    _component(audio=url, audio_id=audio_id, lanes=lanes, labels=list(labels),
               colours=colours, duration=float(duration), regions_lane=int(regions_lane),
               large=bool(large), height=int(height), key=key, default=None)
