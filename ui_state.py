"""Streamlit glue shared by every page: the sidebar settings, cached loaders (bundle,
predictor, dataset index, decoded clip, features, predictions) and the chosen clip, which
lives in st.session_state so it stays chosen across pages.

Every loader reports a GenreError as st.error/st.warning and returns None, so one missing
piece (no bundle, no dataset) never stops the rest of the app."""
from __future__ import annotations

import json
import os
from pathlib import Path

import streamlit as st

from genre_core.cache import content_hash
from genre_core.config import FeatureConfig
from genre_core.errors import GenreError

DATA_KEY = "data_path"
BUNDLE_KEY = "bundle_path"
CLIP_BYTES, CLIP_NAME, CLIP_HASH, CLIP_SOURCE = "clip_bytes", "clip_name", "clip_hash", "clip_source"
CONNECT_HINT = ("Connect the GTZAN dataset by typing its folder in the sidebar "
                "(*Dataset folder*) or by starting the app with the environment variable "
                "`GENRE_DATA=/path/to/gtzan`.")


def default_bundle_path() -> str:
    from genre_core.bundle import DEFAULT_BUNDLE

    return os.environ.get("GENRE_BUNDLE") or str(DEFAULT_BUNDLE)


_WARMING = False


def warm_up() -> None:
    """Import TensorFlow and librosa in a background thread as soon as the app starts, so the
    first prediction after an upload does not wait seconds for the imports."""
    global _WARMING
    if _WARMING:
        return
    _WARMING = True
    import threading

    def _imports():
        import time

        time.sleep(3)   # let the browser fetch the page's components first
        try:
            import keras  # noqa: F401
            import librosa.feature  # noqa: F401

            import genre_core.models.keras_segments  # noqa: F401
        except Exception:  # noqa: BLE001 - only a speed-up; the real load reports errors
            pass

    threading.Thread(target=_imports, name="genre-warm-up", daemon=True).start()


def init_state() -> None:
    st.session_state.setdefault(DATA_KEY, os.environ.get("GENRE_DATA", ""))
    st.session_state.setdefault(BUNDLE_KEY, default_bundle_path())


def data_path() -> str:
    init_state()
    return (st.session_state.get(DATA_KEY) or "").strip()


def bundle_path() -> str:
    init_state()
    return (st.session_state.get(BUNDLE_KEY) or "").strip() or default_bundle_path()


# ---------------------------------------------------------------- bundle

def _stamp(folder: str) -> float:
    """Changes whenever the bundle is rewritten (bundle.json is renamed into place)."""
    try:
        return (Path(folder) / "bundle.json").stat().st_mtime
    except OSError:
        return 0.0


@st.cache_data(show_spinner=False)
def _read_meta(folder: str, stamp: float):
    from genre_core.bundle import read_bundle_meta

    if not Path(folder).exists():
        raise GenreError(f"{folder}: model bundle not found")
    return read_bundle_meta(folder)


def bundle_meta(show_error: bool = True) -> tuple[dict, dict] | None:
    """(bundle.json, report.json) without loading TensorFlow, or None (error shown)."""
    folder = bundle_path()
    try:
        return _read_meta(folder, _stamp(folder))
    except GenreError as e:
        if show_error:
            st.error(f"Model bundle unavailable: {e}. Choose another *Model bundle* folder in "
                     "the sidebar, or train one with `python -m genre_core train`.")
        return None


@st.cache_resource(show_spinner="Loading the models…", max_entries=2)
def _load_predictor(folder: str, stamp: float):
    from genre_core.predict import Predictor

    return Predictor(folder)


def predictor(show_error: bool = True):
    """The cached Predictor for the sidebar's bundle, or None (error shown)."""
    folder = bundle_path()
    try:
        if not Path(folder).exists():
            raise GenreError(f"{folder}: model bundle not found")
        return _load_predictor(folder, _stamp(folder))
    except GenreError as e:
        if show_error:
            st.error(f"Models could not be loaded: {e}")
        return None


def feature_config() -> FeatureConfig:
    """The bundle's feature configuration (the default one when there is no bundle)."""
    meta = bundle_meta(show_error=False)
    if meta and meta[0].get("feature_config"):
        return FeatureConfig.from_dict(meta[0]["feature_config"])
    return FeatureConfig()


# ---------------------------------------------------------------- dataset

@st.cache_data(show_spinner="Indexing the dataset…", max_entries=4)
def _index(path: str):
    from genre_core.dataset import index_dataset

    return index_dataset(path)


def dataset(show_error: bool = False):
    """The indexed dataset at the sidebar's path, or None (no path, or error shown)."""
    path = data_path()
    if not path:
        return None
    try:
        return _index(path)
    except GenreError as e:
        if show_error:
            st.error(f"Dataset not connected: {e}")
        return None


def dataset_error() -> str | None:
    path = data_path()
    if not path:
        return None
    try:
        _index(path)
        return None
    except GenreError as e:
        return str(e)


@st.cache_data(show_spinner=False)
def _track_index(path: str) -> dict:
    from genre_core.dataset import load_track_index

    if path:
        root = Path(path).expanduser()
        for candidate in (root, *root.parents[:3]):
            f = candidate / "metadata" / "GTZANindex.txt"
            if f.exists():
                return load_track_index(f)
    return load_track_index()


def track_index() -> dict:
    """{track id: (artist, title)} from the dataset's GTZANindex.txt (or the default one)."""
    return _track_index(data_path())


# ---------------------------------------------------------------- the chosen clip

def set_clip(data: bytes, name: str, source: str = "upload") -> bool:
    """Make `data` the chosen clip; returns True if it changed."""
    digest = content_hash(data)
    if st.session_state.get(CLIP_HASH) == digest and st.session_state.get(CLIP_NAME) == name:
        return False
    st.session_state[CLIP_BYTES] = data
    st.session_state[CLIP_NAME] = name
    st.session_state[CLIP_HASH] = digest
    st.session_state[CLIP_SOURCE] = source
    return True


def clear_clip() -> None:
    for key in (CLIP_BYTES, CLIP_NAME, CLIP_HASH, CLIP_SOURCE):
        st.session_state.pop(key, None)


def clip_digest() -> str | None:
    data = st.session_state.get(CLIP_BYTES)
    if not data:
        return None
    if not st.session_state.get(CLIP_HASH):
        st.session_state[CLIP_HASH] = content_hash(data)
    return st.session_state[CLIP_HASH]


def clip_name() -> str:
    return st.session_state.get(CLIP_NAME) or "clip"


def clip_bytes() -> bytes | None:
    return st.session_state.get(CLIP_BYTES)


@st.cache_data(show_spinner="Decoding the audio…", max_entries=16)
def _decode(digest: str, name: str, config_json: str, _data: bytes):
    from genre_core.audio import load_audio

    return load_audio(_data, FeatureConfig.from_dict(json.loads(config_json)), name=name)


def current_clip(show_error: bool = True):
    """The chosen clip decoded (cached by content hash), or None (error shown if unusable)."""
    digest = clip_digest()
    if digest is None:
        return None
    config = feature_config()
    try:
        return _decode(digest, clip_name(), json.dumps(config.to_dict(), sort_keys=True),
                       clip_bytes())
    except GenreError as e:
        if show_error:
            st.error(f"This audio cannot be used: {e}")
        return None


def require_clip():
    """The decoded clip, or None after telling the user to choose one on the Listen page."""
    if clip_digest() is None:
        st.info("No clip chosen yet: upload, record or pick one on the Listen page.")
        st.page_link("pages/listen.py", label="Go to Listen", icon=":material/headphones:")
        return None
    return current_clip()


@st.cache_data(show_spinner="Computing features…", max_entries=64)
def _feature(digest: str, kind: str, config_json: str, _samples):
    from genre_core import features

    config = FeatureConfig.from_dict(json.loads(config_json))
    if kind == "mfcc":
        return features.mfcc(_samples, config)
    if kind == "mel":
        return features.mel_db(_samples, config)
    if kind == "chroma":
        return features.chroma(_samples, config)
    if kind == "tempogram":
        return features.tempogram(_samples, config)
    if kind == "segments":
        return features.mfcc_segments(_samples, config)
    raise ValueError(kind)


def clip_feature(kind: str, clip=None):
    """A display feature of the chosen clip ('mfcc', 'mel', 'chroma', 'tempogram',
    'segments'), cached by content hash."""
    clip = clip or current_clip(show_error=False)
    config = feature_config()
    return _feature(clip_digest(), kind, json.dumps(config.to_dict(), sort_keys=True),
                    clip.samples)


@st.cache_data(show_spinner="Asking every model…", max_entries=16)
def _predict(digest: str, folder: str, stamp: float, _predictor, _clip):
    return _predictor.predict_clip(_clip)


def clip_prediction(clip=None):
    """Every model's prediction for the chosen clip (cached), or None (error shown)."""
    clip = clip or current_clip()
    if clip is None:
        return None
    pred = predictor()
    if pred is None:
        return None
    folder = bundle_path()
    try:
        return _predict(clip_digest(), folder, _stamp(folder), pred, clip)
    except GenreError as e:
        st.error(f"Prediction failed: {e}")
        return None


@st.cache_data(show_spinner="Reading the track…", max_entries=8)
def _track_bytes(path: str, track_id: str, _track) -> bytes:
    return _track.read_bytes()


def track_bytes(track) -> bytes | None:
    try:
        return _track_bytes(track.display(), track.id, track)
    except OSError as e:
        st.error(f"{track.display()}: could not be read ({e})")
        return None


@st.cache_data(show_spinner="Analysing the track…", max_entries=8)
def _analyse_track(track_id: str, folder: str, stamp: float, _predictor, _data: bytes):
    from genre_core import features
    from genre_core.audio import load_audio

    clip = load_audio(_data, _predictor.config, name=track_id)
    return clip, features.mfcc(clip.samples, _predictor.config), _predictor.predict_clip(clip)


def analyse_track(track):
    """(clip, MFCC matrix, prediction) for a dataset track, or None (error shown)."""
    pred = predictor()
    data = track_bytes(track)
    if pred is None or data is None:
        return None
    folder = bundle_path()
    try:
        return _analyse_track(track.id, folder, _stamp(folder), pred, data)
    except GenreError as e:
        st.error(str(e))
        return None


# ---------------------------------------------------------------- sidebar

def sidebar() -> None:
    """Dataset and bundle settings, shown on every page."""
    init_state()
    with st.sidebar:
        st.subheader("Settings")
        st.text_input("Dataset folder", key=DATA_KEY,
                      help="The GTZAN folder (Kaggle layout) or its .zip; "
                           "env GENRE_DATA sets the default.",
                      placeholder="/path/to/gtzan")
        if data_path():
            ds = dataset()
            if ds is not None:
                st.success(f"connected: {len(ds.tracks)} tracks")
            else:
                st.error(dataset_error() or "dataset not connected")
        else:
            st.caption("No dataset connected (optional).")
        st.text_input("Model bundle", key=BUNDLE_KEY,
                      help="Folder with bundle.json; env GENRE_BUNDLE sets the default.")
        meta = bundle_meta(show_error=False)
        if meta is None:
            st.error("no model bundle at this path")
        else:
            names = ", ".join(meta[0].get("models", {}))
            st.caption(f"models: {names}")
        if clip_digest():
            st.caption(f"clip: **{clip_name()}**")
