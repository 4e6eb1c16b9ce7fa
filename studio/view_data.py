"""Small computations behind the newer views (timeline, batch, downloads, bookmarkable
URLs, presentation mode), kept out of Streamlit so they can be unit-tested."""
from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from genre_core.inference.audio import heard_span

# models whose lane colours the timeline's waveform regions, best first
REGION_PREFERENCE = ("ensemble", "musicnn", "cnn")


def timeline_lanes(prediction, names: Mapping[str, str] | None = None,
                   whole_clip: Mapping[str, bool] | None = None, segment_seconds: float = 3.0,
                   duration: float | None = None) -> tuple[list[dict], int]:
    """One lane per model for the playing timeline: {'name', 'starts', 'ends', 'probs'};
    a whole-clip model (the table model) is one unit spanning the clip. Returns (lanes,
    index of the lane that colours the waveform's regions)."""
    duration = float(duration if duration is not None else prediction.clip.loaded_seconds)
    lanes, keys = [], []
    for key, mp in prediction.models.items():
        starts = [float(s) for s in mp.segment_starts]
        if (whole_clip or {}).get(key):
            ends = [duration] * len(starts)
        else:
            ends = [min(duration, s + segment_seconds) for s in starts]
        lanes.append({"name": (names or {}).get(key, key), "starts": starts, "ends": ends,
                      "probs": [[round(float(p), 4) for p in row]
                                for row in mp.segment_probabilities]})
        keys.append(key)
    region = next((keys.index(k) for k in REGION_PREFERENCE if k in keys), 0)
    return lanes, region


def prediction_rows(prediction, names: Mapping[str, str] | None = None,
                    segments: bool = True) -> list[dict]:
    """Long-format rows for a CSV: file, model, unit (track or segment start), genre,
    probability."""
    rows = []
    for key, mp in prediction.models.items():
        model = (names or {}).get(key, key)
        for g in prediction.labels:
            rows.append({"file": prediction.clip.name, "model": model, "unit": "track",
                         "start_s": "", "genre": g, "probability": round(mp.probabilities[g], 5),
                         "top": g == mp.genre})
        if segments and len(mp.segment_starts) > 1:
            for s, row in zip(mp.segment_starts, mp.segment_probabilities):
                top = prediction.labels[int(row.argmax())]
                for g, p in zip(prediction.labels, row):
                    rows.append({"file": prediction.clip.name, "model": model,
                                 "unit": "segment", "start_s": s, "genre": g,
                                 "probability": round(float(p), 5), "top": g == top})
    return rows


def to_csv(rows: list[dict]) -> bytes:
    import pandas as pd

    buf = io.StringIO()
    pd.DataFrame(rows).to_csv(buf, index=False)
    return buf.getvalue().encode("utf-8")


def batch_row(name: str, prediction=None, error: str | None = None,
              names: Mapping[str, str] | None = None) -> dict:
    """One row of the batch table: file, Genre Studio's answer (the prediction's verdict:
    "not music it knows" when its domain judgement says so), the part of the file heard (a
    long file's middle 30 s), each model's genre and confidence, agreement, out-of-domain
    note; or the file's one-line error."""
    row = {"file": name}
    if prediction is None:
        row["error"] = error or "could not be analysed"
        return row
    if prediction.verdict is not None:
        row["Genre Studio says"] = prediction.verdict
    clip = prediction.clip     # which part of the file the answer is about
    row["heard"] = heard_span(clip.duration, clip.offset, clip.loaded_seconds) or "all of it"
    domain = prediction.domain
    per_model = {}
    for key, mp in prediction.models.items():
        shown = (names or {}).get(key, key)
        per_model[shown] = mp.genre
        per_model[f"{shown} conf."] = round(mp.probabilities[mp.genre], 3)
    # the ensemble is the models' combination, not a voter (as on Compare: "4 of 6")
    voters = [mp.genre for key, mp in prediction.models.items() if key != "ensemble"]
    top = max(voters, key=voters.count) if voters else ""
    row["majority"] = top
    row["agreement"] = f"{voters.count(top)} of {len(voters)}" if voters else ""
    if domain is not None:
        row["warning"] = "; ".join(domain.messages()) if domain.out_of_domain else ""
    row["error"] = ""
    row["duration (s)"] = round(clip.duration, 1)
    row.update(per_model)
    return row


# ---------------------------------------------------------------- bookmarkable URLs

URL_KEYS = ("track", "model", "true", "pred")


def url_state(params: Mapping[str, str], labels: Sequence[str], models: Sequence[str]
              ) -> dict[str, str]:
    """The valid parts of a URL's query (?track=rock.00007&model=cnn&true=rock&pred=metal):
    unknown models and genres are dropped, a track id must look like 'genre.00042'."""
    import re

    out = {}
    track = str(params.get("track", "") or "")
    if re.fullmatch(r"[A-Za-z0-9_-]+\.\d{1,6}", track):
        out["track"] = track
    if params.get("model") in models:
        out["model"] = str(params["model"])
    for key in ("true", "pred"):
        if params.get(key) in labels:
            out[key] = str(params[key])
    return out


# ---------------------------------------------------------------- presentation mode

PRESENTATION_CSS = """
<style>
/* presentation mode: large type, the essentials only */
html, body, [data-testid="stAppViewContainer"] { font-size: 22px; }
[data-testid="stMainBlockContainer"] h1 { font-size: 3rem; }
[data-testid="stMainBlockContainer"] h3 { font-size: 2rem; }
[data-testid="stMarkdownContainer"] p,
[data-testid="stMarkdownContainer"] li { font-size: 1.25rem; }
/* the page keeps its width for the charts: the large type would also enlarge the side padding */
[data-testid="stMainBlockContainer"] { padding-left: 1.5rem !important; padding-right: 1.5rem !important;
                                       max-width: none !important; }
/* the navigation keeps whole labels: a wider sidebar, long titles wrap instead of being cut */
[data-testid="stSidebar"] { min-width: 17rem !important; }
[data-testid="stSidebarNav"] a span { white-space: normal !important; overflow: visible !important;
                                      text-overflow: clip !important; line-height: 1.2; }
[data-testid="stCaptionContainer"], [data-testid="stExpander"], [data-testid="stToolbar"],
[data-testid="stDecoration"], .gs-secondary { display: none !important; }
</style>
"""
