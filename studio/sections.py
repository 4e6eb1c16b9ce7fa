"""Streamlit glue for the newer views, shared by several pages: the playing timeline, the
out-of-domain notice, saliency, the map's loader, downloads, bookmarkable URLs and the
presentation mode. Computations live in genre_core.views (music_map, ood, saliency,
teaching, view_plots) and studio.view_data; this module only caches them and lays them out.

User-supplied names (file names, track ids) are only shown through st.text/st.dataframe/
widget labels or plain st.caption text with Markdown escaped, never as HTML. (Just over 400
lines: a dozen short sections, each used by two or more pages; splitting them by page would
scatter what pages share.)"""
from __future__ import annotations

import io

import numpy as np
import streamlit as st

from genre_core.errors import GenreError
from genre_core.features import KINDS
from genre_core.features.segments import segment_span
from genre_core.views import view_plots
from studio import state
from studio import summaries as sup
from studio import view_data as vs

PRESENT_KEY = "presentation"


def plain(text: str) -> str:
    """Text safe to put inside Markdown (state.md: shown literally, never as a link,
    image, HTML or formatting)."""
    return state.md(text)


def chart(fig, key: str, name: str | None = None, width="stretch", where=None, **kw):
    """Every chart of the app: st.plotly_chart (in `where`, a column, when given) with the
    modebar's "Download plot as png" configured (2x, named), its type enlarged for the back
    of a room in presentation mode."""
    if presenting():
        fig = view_plots.for_projector(fig)
    return (where or st).plotly_chart(fig, width=width, key=key,
                                      config=view_plots.chart_config(name or key), **kw)


# ---------------------------------------------------------------- presentation mode

def presenting() -> bool:
    return bool(st.session_state.get(PRESENT_KEY))


def sidebar_extras() -> None:
    """The presentation-mode toggle (large type, captions and side notes hidden)."""
    with st.sidebar:
        st.toggle("Presentation mode", key=PRESENT_KEY,
                  help="Large type and the essentials only, for a projector.")
    if presenting():
        st.html(vs.PRESENTATION_CSS)


# ---------------------------------------------------------------- bookmarkable URLs

def url_restore() -> None:
    """On a session's first run, restore what the URL names: ?track=<dataset track id>,
    &model=<model> (confusion matrix), &true=<genre>&pred=<genre> (its cell), &present=1."""
    if st.session_state.get("_url_restored"):
        return
    st.session_state["_url_restored"] = True
    params = st.query_params.to_dict()
    if params.get("present") == "1":
        st.session_state[PRESENT_KEY] = True
    meta = state.bundle_meta(show_error=False)
    if meta is None:
        return
    asked = vs.url_state(params, sup.bundle_labels(*meta), sup.report_models(*meta))
    if "model" in asked:
        st.session_state["cm_model"] = asked["model"]
        st.session_state["sal_model"] = asked["model"]
    if "true" in asked and "pred" in asked:
        st.session_state["cm_true"], st.session_state["cm_pred"] = asked["true"], asked["pred"]
        st.session_state["cm_clicked"] = (asked["true"], asked["pred"])
    if "track" in asked:
        track = sup.find_track_by_id(state.dataset(), asked["track"])
        data = state.track_bytes(track) if track is not None else None
        if data:
            state.set_clip(data, track.filename, "dataset")


def url_write(page) -> None:
    """Keep the URL's query in step with what is shown, so the address can be bookmarked."""
    want = {}
    chosen = state.chosen()
    if chosen is not None and chosen.source == "dataset" and chosen.name:
        want["track"] = chosen.name.rsplit(".", 1)[0]
    if getattr(page, "url_path", "") == "confusion":
        for key, session in (("model", "cm_model"), ("true", "cm_true"), ("pred", "cm_pred")):
            if st.session_state.get(session):
                want[key] = str(st.session_state[session])
    if presenting():
        want["present"] = "1"
    if st.query_params.to_dict() != want:
        st.query_params.from_dict(want)


# ---------------------------------------------------------------- the map and the clip's place

@st.cache_data(show_spinner=False)
def _load_map(folder: str, stamp: float):
    from genre_core.inference.music_map import load_map

    return load_map(folder)


def music_map():
    """The bundle's map of music, or None (no map in this bundle, or unreadable: said once)."""
    folder = state.bundle_path()
    try:
        from pathlib import Path

        f = Path(folder) / "map" / "map.json"
        return _load_map(folder, f.stat().st_mtime if f.exists() else 0.0)
    except GenreError as e:
        st.warning(str(e))
        return None


@st.cache_data(show_spinner="Listening with musicnn…", max_entries=32)
def _embedding(digest: str, rate: int, _samples) -> np.ndarray:
    from genre_core.features import extract
    from genre_core.inference.music_map import clip_embedding

    return clip_embedding(extract("musicnn", _samples, state.feature_config()))


def clip_embedding(clip, digest: str | None = None, prediction=None) -> np.ndarray:
    """The clip's musicnn embedding: from the prediction's musicnn units when it has them
    (no second run of the network), else computed and cached by content."""
    if prediction is not None and prediction.musicnn_units is not None:
        from genre_core.inference.music_map import clip_embedding as embedding_of

        return embedding_of(prediction.musicnn_units)
    return _embedding(digest or state.clip_digest(), clip.sample_rate, clip.samples)


def ood_notice(prediction, where=None):
    """Beside the answer (`where`: a container placed there): a warning when the clip is
    unlike the training music, from the prediction's domain judgement (inference.domain)."""
    check = prediction.domain
    if check is None:
        return
    where = where if where is not None else st.container()
    for message in check.messages():
        where.warning(message, icon="🧭")
    if not check.out_of_domain:
        where.caption(plain(sup.in_domain_line(check)))


# ---------------------------------------------------------------- the playing timeline

def prediction_filling_in(clip):
    """Every model's prediction for the clip. While it is computed, what exists is shown in
    its place, so nobody waits in silence: the steps under way, the fast models' answers as
    soon as they exist, then Genre Studio's verdict as soon as the ensemble's members have
    answered (where the whole page will show it), then everything."""
    if state.prediction_ready() or state.prefetch_done():
        return state.clip_prediction(clip)
    slot = st.empty()
    with slot.container():
        verdict = st.empty()        # where the page's verdict header will be
        steps = st.status("Listening to the clip…", expanded=True)
        steps.write(f"Decoded: {clip.loaded_seconds:.1f} s of audio, "
                    f"{sup.segment_count(clip, state.feature_config())} segment(s) of 3 s.")
        steps.write("MFCCs and mel spectrogram, then the fast networks…")
        answers = st.empty()
    # the background prediction under way hands its early answers over as soon as they exist
    # (nothing computed twice); without one, the fast models are asked here
    background = state.prefetch_under_way()
    quick = state.first_answers() if background else state.clip_prediction(clip, fast_only=True)
    if quick is not None and quick.domain is not None and quick.domain.not_music:
        answers.subheader("Genre Studio says: not music it knows")  # no genre flashes first
    elif quick is not None and quick.models:
        answers.subheader("First answers: " + ", ".join(
            f"{sup.display_name(n)} {state.md(mp.genre)} ({mp.probabilities[mp.genre]:.0%})"
            for n, mp in quick.models.items()))
    predictor = state.predictor(show_error=False)
    done = set(quick.models) if quick is not None else set()
    if quick is not None:
        steps.write("Done: " + ", ".join(sup.display_name(n) for n in quick.models) + ".")
    if predictor is not None:
        for_verdict = [n for n in predictor.verdict_models() if n not in done]
        rest = [n for n in predictor.bundle.models if n not in done and n not in for_verdict]
        if for_verdict:
            steps.write("Now " + ", ".join(sup.display_name(n) for n in for_verdict)
                        + ", then Genre Studio's calibrated answer…")
        early = state.verdict_answers() if background and rest else None
        headline = sup.headline(early) if early is not None else None
        if headline:
            verdict.header(headline)
            steps.write("Now " + ", ".join(sup.display_name(n) for n in rest) + "…")
    prediction = state.clip_prediction(clip)
    slot.empty()
    return prediction


def _timeline_audio(chosen) -> tuple[bytes, str]:
    """The file itself when small and analysed whole; else the analysed part re-encoded as WAV
    (30 s ≈ 1.3 MB), so the page never ships megabytes of base64 and the lanes' times match."""
    clip = chosen.clip
    if len(chosen.data) <= 3_000_000 and not clip.truncated:   # else the times would not match
        return chosen.data, sup.audio_mime(chosen.name)
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, clip.samples, clip.sample_rate, format="WAV", subtype="PCM_16")
    return buf.getvalue(), "audio/wav"


def timeline(chosen, prediction, key: str) -> None:
    """Waveform + per-segment probabilities of every model for the chosen (decoded) clip,
    following playback."""
    from components.timeline import timeline as component

    clip = chosen.clip
    whole = {n: mp.whole_clip for n, mp in prediction.models.items()}
    config = state.feature_config()
    lanes, region = vs.timeline_lanes(prediction, {n: sup.display_name(n) for n in whole},
                                      whole, config.segment_seconds, clip.loaded_seconds)
    audio, mime = _timeline_audio(chosen)
    component(audio, mime, chosen.digest, lanes, prediction.labels,
              view_plots.genre_colours(prediction.labels), clip.loaded_seconds, region,
              large=presenting(), key=key)


def predictions_download(prediction, key: str) -> None:
    rows = vs.prediction_rows(prediction, {n: sup.display_name(n) for n in prediction.models})
    st.download_button("Download the predictions (CSV)", vs.to_csv(rows),
                       file_name=f"{prediction.clip.name.rsplit('.', 1)[0]}-predictions.csv",
                       mime="text/csv", key=key, icon="⬇️")


# ---------------------------------------------------------------- saliency

def saliency_models() -> list[str]:
    """Bundle models saliency can be computed for: the Keras segment models (MFCC and
    log-mel) and musicnn."""
    meta = state.bundle_meta(show_error=False)
    if meta is None:
        return []
    out = [n for n, e in meta[0]["models"].items()
           if e.get("feature") in KINDS and KINDS[e["feature"]].picture is not None]
    return sorted(out, key=lambda n: (n not in ("cnn_mel", "cnn", "musicnn", "musicnn4"), n))


@st.cache_data(show_spinner="Hiding parts of the input one by one (occlusion)…", max_entries=32)
def _saliency(digest: str, model: str, index: int, folder: str, _predictor, _samples, rate: int):
    from genre_core import features
    from genre_core.views import saliency

    net = _predictor.bundle.models[model]
    config = _predictor.config
    if not features.kind(net.feature).spectrogram:
        # musicnn: the audio as its networks hear it (the bundle's musicnn_level)
        return saliency.musicnn_saliency(net, features.musicnn_input(_samples, config), rate,
                                         index)
    blocks = features.extract(net.feature, _samples, config)   # mfcc or logmel segments
    index = min(index, len(blocks) - 1)
    start, _ = features.kind(net.feature).unit_span(index, config)
    return saliency.segment_saliency(net, blocks[index], start, config.sample_rate,
                                     config.hop_length)


def saliency_section(clip, digest: str, key: str, segment_hint: int | None = None) -> None:
    """Model + segment choice and the occlusion maps for the segment's top two genres."""
    from genre_core.views import saliency

    predictor = state.predictor()
    models = saliency_models()
    if predictor is None or not models:
        st.info("This bundle has no CNN, MFCC or musicnn model to explain.")
        return
    config = state.feature_config()
    n = sup.segment_count(clip, config)
    c1, c2 = st.columns([1, 2])
    if st.session_state.get(f"{key}_model") not in models:   # the network behind the answer
        meta = state.bundle_meta(show_error=False)
        st.session_state[f"{key}_model"] = sup.answer_model(meta[1] if meta else {}, models)
    model = c1.selectbox("Model", models, format_func=sup.display_name, key=f"{key}_model")
    if model == sup.answer_model((state.bundle_meta(show_error=False) or ({}, {}))[1], models):
        c1.caption("The network that carries most of Genre Studio's answer.")
    k = 0
    if n > 1:
        k = c2.slider("Segment", 1, n, min(n, (segment_hint or 0) + 1), key=f"{key}_segment") - 1
    s = _saliency(digest, model, k, state.bundle_path(), predictor, clip.samples,
                  clip.sample_rate)
    start, end = segment_span(k, config)       # saliency's inputs are all 3-s units
    # the heading in the page, not in the figure: it wraps, and presentation mode enlarges it
    # (a figure title that long ran under the chart's toolbar)
    st.markdown(f"**{plain(sup.display_name(model))}, segment {k + 1} ({start:g}–{end:g} s): what "
                "pushed it toward each genre**")
    chart(view_plots.saliency_overlay(s), key=f"{key}_chart",
          name=f"saliency-{model}-segment{k + 1}")
    st.markdown("- " + saliency.summary(s, 0) + "\n- " + saliency.summary(s, 1))
    st.caption("Occlusion: each small rectangle of the model's input (" +
               ("MFCCs" if s.feature == "mfcc" else "musicnn's mel spectrogram"
                if model.startswith("musicnn") else "mel spectrogram") +
               ") is hidden in turn and the model asked again; red = hiding it lowers the "
               "genre's probability (evidence for it), blue = raises it (evidence against). "
               "Chosen because it works the same for every model, including musicnn whose "
               "classifier is not a neural network, and its unit (probability points) is "
               "easy to read.")


# ---------------------------------------------------------------- teaching aids

def feature_explainer(key: str = "feat_explain") -> None:
    """Plain-language notes with synthesized examples (tone, chord, drum loop)."""
    from genre_core import features
    from genre_core.views import plots, teaching

    config = state.feature_config()
    with st.expander("What is this feature? Hear and see simple examples", expanded=False):
        c1, c2 = st.columns(2)
        name = c1.radio("Example sound", teaching.EXAMPLES, horizontal=True, key=f"{key}_sound")
        kind = c2.radio("Feature", list(teaching.FEATURE_NOTES), horizontal=True,
                        key=f"{key}_kind", format_func=lambda k: {
                            "mfcc": "MFCC", "mel": "Mel spectrogram", "chroma": "Chroma",
                            "tempogram": "Tempogram"}[k])
        y = teaching.example(name, config.sample_rate)
        st.audio(y, sample_rate=config.sample_rate)
        st.markdown(teaching.FEATURE_NOTES[kind])
        sr, hop = config.sample_rate, config.hop_length
        if kind == "mfcc":
            fig = plots.mfcc_heatmap(features.mfcc(y, config), sr, hop, title=f"MFCCs: {name}",
                                     height=320)
        elif kind == "mel":
            fig = plots.mel_heatmap(features.mel_db(y, config), sr, hop, title=f"Mel: {name}",
                                    height=320)
        elif kind == "chroma":
            fig = plots.chroma_heatmap(features.chroma(y, config), sr, hop,
                                       title=f"Chroma: {name}", height=320)
        else:
            tg, tempo = features.tempogram(y, config)
            fig = plots.tempogram_heatmap(tg, sr, hop, tempo, title=f"Tempogram: {name}",
                                          height=320)
        chart(fig, key=f"{key}_chart", name=f"{kind}-{name}")


def play_tracks(track_ids: list[str], key: str) -> None:
    """A player for one of these dataset tracks (chosen in a box), where they are listed; one
    plain sentence when the server offers no dataset."""
    ds = state.dataset()
    if ds is None:
        st.caption(state.connect_hint())
        return
    playable = [t for t in track_ids if sup.find_track_by_id(ds, t) is not None]
    if not playable:
        st.caption("None of these tracks is in the connected dataset.")
        return
    index = state.track_index()
    if st.session_state.get(key) not in playable:
        st.session_state[key] = playable[0]
    chosen = st.selectbox("Play", playable, key=key,
                          format_func=lambda t: sup.describe_track(t, index))
    track = sup.find_track_by_id(ds, chosen)
    data = state.track_bytes(track) if track is not None else None
    if data and track is not None:
        st.audio(data, format=sup.audio_mime(track.filename))


def genre_examples(key: str = "examples") -> None:
    """Per-genre example tracks: playable from the connected dataset; without it, the
    bundle's map still names them (artist, title)."""
    from genre_core.views import teaching

    st.subheader("Examples of each genre")
    m = music_map()
    ds = state.dataset()
    meta = state.bundle_meta(show_error=False)
    correct = set()
    if meta is not None:
        evaluated = sup.evaluated_models(*meta)
        best = sup.answer_model(meta[1], evaluated)
        if best is not None:     # what Genre Studio's answer gets right, held out
            ev = sup.preferred_evaluation(meta[1], best, variant=None)
            correct = {t["track"] for t in (ev or {}).get("per_track", []) if t.get("correct")}
    if m is not None:
        ids, genres = m.ids, m.genres
    elif ds is not None:
        ids, genres = [t.id for t in ds.tracks], [t.genre for t in ds.tracks]
    else:
        st.info("No examples: this bundle has no map and no dataset is connected. "
                + state.connect_hint())
        return
    examples = teaching.genre_examples(ids, genres, 3, correct)
    index = state.track_index()
    c1, c2 = st.columns([1, 2])
    genre = c1.selectbox("Genre", list(examples), key=f"{key}_genre")
    choices = examples[genre]
    if st.session_state.get(f"{key}_track") not in choices:
        st.session_state[f"{key}_track"] = choices[0]
    track_id = c2.selectbox("Track", choices, key=f"{key}_track",   # plain text, not Markdown
                            format_func=lambda t: sup.describe_track(t, index))
    st.caption(plain("Genre Studio's answer gets this track right with its artist held out of "
                     "training, so it sounds typical of its genre." if track_id in correct else
                     "Genre Studio's answer does not get this track right with its artist held "
                     "out (no better example of this genre is at hand)."))
    track = sup.find_track_by_id(ds, track_id)
    if track is None:
        st.info(state.connect_hint())
        return
    data = state.track_bytes(track)
    if data:
        st.audio(data, format=sup.audio_mime(track.filename))
        if st.button("Use this track as the clip", key=f"{key}_use"):
            state.set_clip(data, track.filename, "dataset")
            st.rerun()


def map_highlights(model: str, split: str | None = None) -> dict[str, str]:
    """{track id: 'predicted X (held out)'} for the tracks `model` got wrong out of fold."""
    meta = state.bundle_meta(show_error=False)
    if meta is None:
        return {}
    ev = sup.preferred_evaluation(meta[1], model, split=split)
    return {t["track"]: f"{model} predicted {t['predicted']} (held out, {ev.get('split')} split)"
            for t in (ev or {}).get("per_track", []) if not t.get("correct")}


# ---------------------------------------------------------------- batch

@st.cache_data(show_spinner=False, max_entries=128)
def _batch_answer(digest: str, name: str, folder: str, stamp: float, _data: bytes,
                  _predictor) -> dict:
    from genre_core.inference.audio import load_audio
    from genre_core.inference.batch_predict import unexpected_error

    try:
        clip = load_audio(_data, _predictor.config, name=name)
        pred = _predictor.predict_clip(clip)
    except GenreError as e:
        return vs.batch_row(name, error=str(e))
    except Exception as e:  # noqa: BLE001 - one file's bug never costs the table its rows
        return vs.batch_row(name, error=unexpected_error(name, e).error)
    return vs.batch_row(name, pred, names={n: sup.display_name(n) for n in pred.models})


def batch_answer(data: bytes, name: str, predictor) -> dict:
    """One batch-table row for an uploaded file (cached by content)."""
    from genre_core.inference.cache import content_hash

    if not data:
        return vs.batch_row(name, error=f"{name}: the file is empty (0 bytes)")
    folder = state.bundle_path()
    return _batch_answer(content_hash(data), name, folder, state.bundle_stamp(folder), data,
                         predictor)


def listen_timeline(clip) -> None:
    """On Listen, the playing timeline on request (it needs every model's prediction)."""
    if st.toggle("Play it with every model's answer, segment by segment", key="listen_timeline"):
        prediction = state.clip_prediction(clip)
        if prediction is not None:
            timeline(state.chosen(), prediction, key="listen_timeline_component")
