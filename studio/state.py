"""Streamlit glue shared by every page: the sidebar settings, cached loaders (bundle,
predictor, dataset index, decoded clip, features, predictions) and the chosen clip, which
lives in st.session_state so it stays chosen across pages.

Every loader reports a GenreError as st.error/st.warning and returns None, so one missing
piece (no bundle, no dataset) never stops the rest of the app. (Over 400 lines: the cached
loaders must share one module so Streamlit's caches and session keys stay in one place.)"""
from __future__ import annotations

import contextlib
import functools
import json
import os
import threading
import time
from pathlib import Path

import streamlit as st

from genre_core.config import FeatureConfig
from genre_core.errors import GenreError
from genre_core.inference.cache import content_hash
from studio import background
from studio.chosen_clip import ChosenClip

DATA_KEY = "data_path"          # local mode: the typed path(s); else the chosen dataset name
BUNDLE_KEY = "bundle_path"      # local mode: the typed folder; else the chosen bundle name
CHOSEN = "chosen_clip"          # the ChosenClip (studio.chosen_clip): the current clip only
OPERATOR_HINT = ("The operator sets the dataset roots when starting the app, e.g. "
                 "`GENRE_DATA=/path/to/gtzan streamlit run app.py` (several separated by `:`), "
                 "or runs it in local mode (`GENRE_LOCAL_MODE=1`) to type a folder in the sidebar.")


def connect_hint() -> str:
    """Why no dataset track can be played: for a visitor, one plain sentence; how to connect
    one only in local mode (the operator is the visitor there; else the README says it)."""
    if local_mode():
        return "No dataset is connected. " + OPERATOR_HINT
    return "This server offers no dataset, so its tracks cannot be played here."


def md(text) -> str:
    """User-named text (file names, track ids, paths, error messages) made inert for
    Markdown: shown literally, never as a link, image, HTML or formatting."""
    from studio.escape import md_escape

    return md_escape(str(text))


def _current_settings():
    """The operator's settings (see genre_core.inference.deploy), read from the environment and the
    script's arguments; memoised on those, so reading them costs nothing per run."""
    import sys

    return _settings_for(tuple(os.environ.get(k, "") for k in SETTINGS_ENV),
                         tuple(sys.argv[1:]))


SETTINGS_ENV = ("GENRE_DATA", "GENRE_BUNDLE", "GENRE_BUNDLES", "GENRE_LOCAL_MODE")


@functools.lru_cache(maxsize=8)
def _settings_for(env: tuple, argv: tuple):
    from genre_core.inference.deploy import server_settings

    return server_settings(dict(zip(SETTINGS_ENV, env)), list(argv))


def local_mode() -> bool:
    return _current_settings().local_mode


def default_bundle_path() -> str:
    return next(iter(_current_settings().bundles.values()))


_WARMING = False
_WARM_DONE = threading.Event()     # set when the warm-up has finished (loaded or not)


def warm_up() -> None:
    """Warm the prediction path in background threads as soon as the app starts: the bundle's
    Predictor in one, and in the other librosa's feature modules (1.5 s of imports), the
    musicnn networks' ONNX sessions (shared per process) and each feature kind's first call
    on 4 s of synthetic noise. A first upload waits only for the Predictor (about 0.3 s: the
    models the verdict needs); its own features share the rest. TensorFlow is not imported
    here (only the saliency page needs it): its 4 s of CPU slowed the first answer by as
    much."""
    global _WARMING
    if _WARMING:
        return
    _WARMING = True

    def _load():
        time.sleep(0.1)   # the page's own requests first
        try:
            predictor(show_error=False)     # the shared, cached Predictor of the bundle
        except Exception:  # noqa: BLE001 - only a speed-up; the real load reports errors
            pass
        finally:
            _WARM_DONE.set()

    def _first_calls():
        time.sleep(0.1)
        interrupted = False
        try:
            import numpy as np

            from genre_core.features import extract, serving_kinds

            noise = np.random.default_rng(0).uniform(-0.1, 0.1, 4 * 22050).astype(np.float32)
            meta = bundle_meta(show_error=False)
            kinds = ({m.get("feature") for m in meta[0].get("models", {}).values()}
                     if meta else set(serving_kinds())) & set(serving_kinds())
            for kind in sorted(kinds, key=lambda k: (k == "kaggle", k)):   # the table last
                if background.any_started():    # a real clip is being analysed: it warms the rest
                    interrupted = True
                    break
                extract(kind, noise)
        except Exception:  # noqa: BLE001 - only a speed-up
            pass
        _WARM_DONE.wait()
        for loaded in list(_LOADED.values()):
            # the models no first answer needs (a first clip's last stage starts them itself)
            if not interrupted:
                loaded.bundle.start_deferred_loads()
            with contextlib.suppress(GenreError):
                loaded.wait_models()
        _freeze_heap()

    from streamlit.runtime.scriptrunner import add_script_run_ctx

    for target, name in ((_load, "genre-warm-up"), (_first_calls, "genre-first-calls")):
        thread = threading.Thread(target=target, name=name, daemon=True)
        add_script_run_ctx(thread)      # Streamlit's caches, read from this session's settings
        thread.start()


def init_state() -> None:
    s = _current_settings()
    if s.local_mode:
        st.session_state.setdefault(DATA_KEY, os.pathsep.join(s.data_roots.values()))
        st.session_state.setdefault(BUNDLE_KEY, default_bundle_path())
    else:
        options = s.dataset_options()
        if st.session_state.get(DATA_KEY) not in options:
            st.session_state[DATA_KEY] = next(iter(options), None)
        if st.session_state.get(BUNDLE_KEY) not in s.bundles:
            st.session_state[BUNDLE_KEY] = next(iter(s.bundles))


def data_paths() -> list[str]:
    """The dataset roots this session uses (empty: none connected)."""
    init_state()
    s = _current_settings()
    choice = st.session_state.get(DATA_KEY) or ""
    if s.local_mode:
        return [p.strip() for p in choice.split(os.pathsep) if p.strip()]
    return list(s.dataset_options().get(choice, []))


def data_path() -> str:
    """The dataset roots joined with os.pathsep ('' when none is connected)."""
    return os.pathsep.join(data_paths())


def dataset_label() -> str:
    """How the chosen dataset is named to the visitor (its path only in local mode)."""
    return data_path() if local_mode() else (st.session_state.get(DATA_KEY) or "")


def bundle_path() -> str:
    init_state()
    choice = (st.session_state.get(BUNDLE_KEY) or "").strip()
    if local_mode():
        return choice or default_bundle_path()
    return _current_settings().bundles.get(choice) or default_bundle_path()


def bundle_label() -> str:
    return bundle_path() if local_mode() else (st.session_state.get(BUNDLE_KEY) or "default")


def _allowed():
    return _current_settings().allowed_bundle_roots


# ---------------------------------------------------------------- bundle

def bundle_stamp(folder: str) -> str:
    """The bundle's file signature: changes whenever it is rewritten (bundle.json is renamed
    into place with the rest, so its inode, size and time change)."""
    try:
        st_ = (Path(folder) / "bundle.json").stat()
        return f"{st_.st_ino}|{st_.st_size}|{st_.st_mtime_ns}"
    except OSError:
        return ""


@st.cache_resource(show_spinner=False, max_entries=4)
def _read_meta(folder: str, stamp: str, allowed):
    """One read-only copy per bundle file signature, shared by every session (the same files
    give everyone the same figures): st.cache_data would unpickle the 3-MB report on every
    call, 10 ms each, a dozen times a page (py-spy: the largest cost of a warm upload's
    script runs). Callers never modify it."""
    from genre_core.inference.bundle import check_allowed, read_bundle_meta

    check_allowed(Path(folder), allowed)
    if not Path(folder).exists():
        raise GenreError(f"{folder}: model bundle not found")
    return read_bundle_meta(folder)


def bundle_meta(show_error: bool = True) -> tuple[dict, dict] | None:
    """(bundle.json, report.json) without loading TensorFlow, or None (error shown)."""
    folder = bundle_path()
    try:
        return _read_meta(folder, bundle_stamp(folder), _allowed())
    except GenreError as e:
        if show_error:
            st.error(f"Model bundle unavailable: {md(e)}. Choose another *Model bundle* in "
                     "the sidebar, or train one with `python -m genre_core train`.")
        return None


# the Predictors _load_predictor made, by bundle folder and stamp: the background prediction
# takes one from here (it never calls Streamlit from its thread), else leaves it to the page
_LOADED: dict = {}


@st.cache_resource(show_spinner="Loading the models…", max_entries=2)
def _load_predictor(folder: str, stamp: str, allowed):
    from genre_core.inference.bundle import check_allowed
    from genre_core.inference.predict import Predictor

    check_allowed(Path(folder), allowed)
    # the models the verdict needs are waited for; the others (the table model: importing
    # skops imports all of scikit-learn, 1.7 s) go on loading while a first clip is analysed,
    # whose prediction waits for them only at its last stage
    loaded = Predictor(folder, lazy=True, verdict_first=True)
    loaded.wait_models(loaded.verdict_models())
    _LOADED[(folder, stamp)] = loaded      # for the background prediction (no Streamlit there)
    while len(_LOADED) > 2:                # as many as the cache keeps
        _LOADED.pop(next(iter(_LOADED)))
    _freeze_heap()
    return loaded


def _freeze_heap() -> None:
    """Move every object alive now (the libraries, the models) out of the garbage collector's
    reach. Streamlit runs a full collection after every script run; with TensorFlow, librosa
    and the models loaded, each one walked 300 000 objects (0.15-0.5 s of every rerun,
    measured with py-spy on a warm upload). Frozen, the collection only sees what the pages
    create."""
    import gc

    gc.freeze()


def predictor(show_error: bool = True):
    """The cached Predictor for the sidebar's bundle, or None (error shown)."""
    folder = bundle_path()
    try:
        if not Path(folder).exists():
            raise GenreError(f"{folder}: model bundle not found")
        return _load_predictor(folder, bundle_stamp(folder), _allowed())
    except GenreError as e:
        if show_error:
            st.error(f"Models could not be loaded: {md(e)}")
        return None


def feature_config() -> FeatureConfig:
    """The bundle's feature configuration (the default one when there is no bundle)."""
    meta = bundle_meta(show_error=False)
    if meta and meta[0].get("feature_config"):
        return FeatureConfig.from_dict(meta[0]["feature_config"])
    return FeatureConfig()


# ---------------------------------------------------------------- dataset

def _dataset_stamp(paths: tuple[str, ...]) -> str:
    """Signature of the roots' contents (size and time of each root and of the folders two
    levels down, where genre folders sit), so the cached index is rebuilt when files are
    added, removed or replaced."""
    parts = []
    for p in paths:
        root = Path(p).expanduser()
        entries = [root]
        if root.is_dir():
            for pattern in ("*", "*/*", "*/*/*"):
                entries += sorted(root.glob(pattern))[:5000]
        for f in entries:
            try:
                st_ = f.stat()
                parts.append(f"{f}|{st_.st_size}|{st_.st_mtime_ns}")
            except OSError:
                parts.append(f"{f}|-")
    return content_hash("\n".join(parts).encode("utf-8", "surrogateescape"))


@st.cache_data(show_spinner="Indexing the dataset…", max_entries=4)
def _index(paths: tuple[str, ...], stamp: str):
    from genre_core.inference.dataset import index_dataset

    return index_dataset(list(paths))


def _index_current():
    paths = tuple(data_paths())
    return _index(paths, _dataset_stamp(paths))


def dataset(show_error: bool = False):
    """The indexed dataset(s) chosen in the sidebar, or None (none, or error shown)."""
    if not data_paths():
        return None
    try:
        return _index_current()
    except GenreError as e:
        if show_error:
            st.error(f"Dataset not connected: {md(e)}")
        return None


def dataset_error() -> str | None:
    if not data_paths():
        return None
    try:
        _index_current()
        return None
    except GenreError as e:
        return str(e)


@st.cache_data(show_spinner=False)
def _track_index(path: str, stamp: str) -> dict:
    from genre_core.inference.dataset import load_track_index

    return load_track_index(path) if path else load_track_index()


def track_index() -> dict:
    """{track id: (artist, title)} from the first GTZANindex.txt beside a chosen root (or the
    default one); cached by that file's signature."""
    from genre_core.inference.dataset import default_data_root

    candidates = [c / "metadata" / "GTZANindex.txt" for p in data_paths()
                  for c in (Path(p).expanduser(), *Path(p).expanduser().parents[:3])]
    candidates.append(default_data_root() / "metadata" / "GTZANindex.txt")
    for f in candidates:
        try:
            st_ = f.stat()
        except OSError:
            continue
        return _track_index(str(f), f"{st_.st_ino}|{st_.st_size}|{st_.st_mtime_ns}")
    return {}


# ---------------------------------------------------------------- the chosen clip

# what the uploaders accept: the formats the decoder reads without an external program
# (libsndfile and its MP3 support); m4a needs ffmpeg, which a server may not have
UPLOAD_TYPES = ["wav", "mp3", "flac", "ogg", "oga", "aiff", "aif", "au"]
UPLOAD_HINT = "wav, mp3, flac, ogg, aiff"


def chosen() -> ChosenClip | None:
    """This session's chosen clip, or None."""
    value = st.session_state.get(CHOSEN)
    return value if isinstance(value, ChosenClip) and value.data else None


def set_clip(data: bytes, name: str, source: str = "upload") -> bool:
    """Make `data` the chosen clip; returns True if it changed."""
    held = chosen()
    if held is not None and held.same_as(data, name):
        return False
    st.session_state[CHOSEN] = ChosenClip(data, name, source)   # the old one (decoded) goes
    return True


def clear_clip() -> None:
    st.session_state.pop(CHOSEN, None)


def clip_digest() -> str | None:
    held = chosen()
    return held.digest if held is not None else None


def clip_name() -> str:
    held = chosen()
    return held.name if held is not None and held.name else "clip"


def clip_bytes() -> bytes | None:
    held = chosen()
    return held.data if held is not None else None


def current_clip(show_error: bool = True):
    """The chosen clip decoded, or None (error shown if unusable). Decoded once per feature
    configuration and kept on the ChosenClip, in this session only."""
    held = chosen()
    if held is None:
        return None
    config = feature_config()
    key = json.dumps(config.to_dict(), sort_keys=True)
    value = held.decoded_for(key)
    if value is None:
        from genre_core.inference.audio import load_audio

        held.decoded = None                     # the old decode goes before the new one
        try:
            with st.spinner("Decoding the audio…"):
                value = load_audio(held.data, config, name=held.name)
        except GenreError as e:
            value = str(e)
        held.decoded = (key, value)
        if not isinstance(value, str):
            _start_prefetch(held.digest, value)   # the answer is under way while pages draw
    if isinstance(value, str):
        if show_error:
            st.error(f"This audio cannot be used: {md(value)}")
        return None
    return value


def require_clip():
    """The decoded clip, or None after telling the user to choose one on the Listen page."""
    if clip_digest() is None:
        st.info("No clip chosen yet: upload, record or pick one on the Listen page.")
        st.page_link("app_pages/listen.py", label="Go to Listen", icon="🎧")
        return None
    return current_clip()


@st.cache_data(show_spinner="Computing features…", max_entries=64)
def _feature(digest: str, kind: str, config_json: str, _samples):
    from genre_core import features

    config = FeatureConfig.from_dict(json.loads(config_json))
    if kind == "mfcc":
        return features.mfcc(_samples, config)
    if kind == "mel":       # with each band's centre frequency in Hz
        mel = features.mel_db(_samples, config)
        return mel, features.mel_band_hz(mel.shape[0], config)
    if kind == "chroma":
        return features.chroma(_samples, config)
    if kind == "tempogram":
        return features.tempogram(_samples, config)
    if kind == "segments":
        return features.mfcc_segments(_samples, config)
    if kind == "logmel_segments":    # the mel CNN's input, with each band's centre in Hz
        blocks = features.logmel_segments(_samples, config)
        return blocks, features.mel_band_hz(blocks.shape[2], config)
    raise ValueError(kind)


def clip_feature(kind: str, clip=None):
    """A display feature of the chosen clip ('mfcc', 'mel' (with band frequencies), 'chroma',
    'tempogram' (with the tempo), 'segments', 'logmel_segments' (with band frequencies)),
    cached by content hash."""
    clip = clip or current_clip(show_error=False)
    config = feature_config()
    return _feature(clip_digest(), kind, json.dumps(config.to_dict(), sort_keys=True),
                    clip.samples)


# Every model's prediction runs in the background (studio.background) as soon as a clip is
# decoded; these wrappers key it by the session's clip and bundle.

def _prediction_key(digest: str | None = None) -> tuple:
    folder = bundle_path()
    return (digest or clip_digest() or "", folder, bundle_stamp(folder))


def prefetch_prediction() -> None:
    """Start every model's prediction for the chosen clip in the background (called by the
    router after each page is drawn, and when a clip is decoded); nothing when no clip is
    chosen or it is under way."""
    digest = clip_digest()
    if digest is None or prediction_ready():
        return
    clip = current_clip(show_error=False)
    if clip is not None:
        _start_prefetch(digest, clip)


def _start_prefetch(digest: str, clip) -> None:
    key = _prediction_key(digest)
    folder, stamp = key[1], key[2]
    if not Path(folder).exists():
        return
    if (folder, stamp) not in _LOADED and not _WARMING:
        return                                # nothing loads it: Compare predicts itself
    background.start(key, clip, loaded=lambda: _LOADED.get((folder, stamp)),
                     given_up=lambda: _WARM_DONE.is_set() and (folder, stamp) not in _LOADED)


def prefetch_done() -> bool:
    """Whether the chosen clip's background prediction has finished (without error)."""
    return background.succeeded(_prediction_key())


def first_answers(timeout: float = 10.0):
    """The fast models' answers of the chosen clip's background prediction: waits until they
    exist (or the whole prediction is done, or `timeout`); None when there are none."""
    return background.early_answer(_prediction_key(), "first", timeout)


def verdict_answers(timeout: float = 30.0):
    """The ensemble members' answers with the calibrated verdict, from the chosen clip's
    background prediction, before its other models are done: waits as `first_answers`."""
    return background.early_answer(_prediction_key(), "verdict", timeout)


def prefetch_under_way() -> bool:
    """Whether the chosen clip's background prediction has started and not failed (running or
    done): then the page waits for it instead of computing the fast models a second time."""
    return background.under_way(_prediction_key())


@st.cache_data(show_spinner=False, max_entries=32)
def _predict(digest: str, folder: str, stamp: str, fast_only: bool, _predictor, _clip):
    if fast_only:
        return _predictor.predict_clip(_clip, models=_predictor.fast_models())
    key = (digest, folder, stamp)
    if background.future(key) is None:   # every full prediction runs in the background pool:
        _start_prefetch(digest, _clip)   # a class of 30 asking at once computes two at a time
    future = background.future(key)
    if future is not None:
        try:
            return future.result()       # started when the clip was chosen: done or nearly
        except GenreError:
            pass                         # computed again below, where its error is shown
    return _predictor.predict_clip(_clip)


def clip_prediction(clip=None, fast_only: bool = False):
    """Every model's prediction for the chosen clip (cached), or None (error shown).
    `fast_only`: only the models that answer in milliseconds (Predictor.fast_models)."""
    clip = clip or current_clip()
    if clip is None:
        return None
    pred = predictor()
    if pred is None:
        return None
    folder = bundle_path()
    try:
        waiting = contextlib.nullcontext() if fast_only else st.spinner("Asking every model…")
        with waiting:
            result = _predict(clip_digest(), folder, bundle_stamp(folder), fast_only, pred, clip)
    except GenreError as e:
        st.error(f"Prediction failed: {md(e)}")
        return None
    if not fast_only:
        st.session_state.setdefault("answered", set()).add((clip_digest(), folder))
    return result


def prediction_ready() -> bool:
    """Whether this session already has every model's answer for the chosen clip."""
    return (clip_digest(), bundle_path()) in st.session_state.get("answered", set())


def _track_signature(track) -> str | None:
    try:
        return track.signature()
    except (OSError, KeyError, ValueError) as e:
        st.error(f"{md(track.display())}: cannot be read ({md(e)})")
        return None


# A dataset track is sent whole to the browser to be played; beyond this it is not (the
# analysis still streams its first 30 s).
PLAY_LIMIT = 100 * 2**20


@st.cache_data(show_spinner="Reading the track…", max_entries=4)
def _track_bytes(signature: str, _track) -> bytes:
    return _track.read_bytes(PLAY_LIMIT)


def track_bytes(track) -> bytes | None:
    """The track's file (to play it), cached by its file signature (path, size, time; the
    member's CRC in a zip), so another visitor's file under the same id is never served."""
    from genre_core.inference.dataset import READ_ERRORS

    signature = _track_signature(track)
    if signature is None:
        return None
    try:
        return _track_bytes(signature, track)
    except GenreError as e:
        st.error(md(e))
    except READ_ERRORS as e:
        st.error(f"{md(track.display())}: could not be read ({md(e)})")
    return None


@st.cache_data(show_spinner="Analysing the track…", max_entries=8)
def _analyse_track(signature: str, folder: str, stamp: str, _predictor, _track):
    from genre_core import features
    from genre_core.inference.audio import load_audio

    with _track.open() as f:        # streamed: only the first max_seconds are decoded
        clip = load_audio(f, _predictor.config, name=_track.display())
    return clip, features.mfcc(clip.samples, _predictor.config), _predictor.predict_clip(clip)


def analyse_track(track):
    """(clip, MFCC matrix, prediction) for a dataset track, or None (error shown). Cached by
    the track's file signature and the bundle's, never by the track id alone."""
    from genre_core.inference.dataset import READ_ERRORS

    pred = predictor()
    signature = _track_signature(track)
    if pred is None or signature is None:
        return None
    folder = bundle_path()
    try:
        return _analyse_track(signature, folder, bundle_stamp(folder), pred, track)
    except GenreError as e:
        st.error(md(e))
    except READ_ERRORS as e:
        st.error(f"{md(track.display())}: could not be read ({md(e)})")
    return None


# ---------------------------------------------------------------- sidebar

def sidebar() -> None:
    """Dataset and bundle settings, shown on every page: choices among the operator's roots
    and bundles, or free paths in local mode."""
    init_state()
    s = _current_settings()
    with st.sidebar:
        st.subheader("Settings")
        if s.local_mode:
            st.text_input("Dataset folder(s)", key=DATA_KEY,
                          help="Local mode: GTZAN folders (Kaggle layout) or .zip files, "
                               f"several separated by {os.pathsep!r}; env GENRE_DATA sets "
                               "the default.",
                          placeholder="/path/to/gtzan")
        elif s.dataset_options():
            st.selectbox("Dataset", list(s.dataset_options()), key=DATA_KEY,
                         help="The datasets this server offers (set by its operator).")
        if data_paths():
            ds = dataset()
            if ds is not None:
                st.success(f"connected: {len(ds.tracks)} tracks")
            else:
                st.error(md(dataset_error() or "dataset not connected"))
        else:
            st.caption("No dataset connected (optional).")
        if s.local_mode:
            st.text_input("Model bundle", key=BUNDLE_KEY,
                          help="Local mode: folder with bundle.json; env GENRE_BUNDLE sets "
                               "the default.")
        else:
            st.selectbox("Model bundle", list(s.bundles), key=BUNDLE_KEY,
                         help="The bundles this server offers (set by its operator).")
        meta = bundle_meta(show_error=False)
        if meta is None:
            st.error("no model bundle could be read here")
        else:
            names = ", ".join(meta[0].get("models", {}))
            st.caption(f"models: {md(names)}")
        if clip_digest():
            st.caption(f"clip: **{md(clip_name())}**")
