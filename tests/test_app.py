"""Every Streamlit page rendered headless through streamlit.testing (AppTest): with and
without a dataset, with a clip chosen, and with a missing bundle."""
from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow   # AppTest/browser/CLI subprocess: see pyproject.toml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DATA_ROOT = Path(os.environ.get("GENRE_DATA_ROOT", HERE.parents[1] / "shared" / "gtzan"))
SHIPPED_BUNDLE = ROOT / "assets" / "models" / "default"
PAGES = ["home", "listen", "features", "compare", "confusion", "misclassified", "model_card"]


# ---------------------------------------------------------------- tiny bundle

def build_tiny_bundle(out: str | os.PathLike, families=("mlp", "cnn"), seed: int = 0) -> Path:
    """A bundle fitted for one epoch on random MFCC blocks, with a synthetic but well-formed
    report (two splits, real GTZAN track ids so the artist index resolves): enough for every
    page to have something to draw, built in seconds instead of a training run."""
    from genre_core.config import GENRES, FeatureConfig, TrainConfig
    from genre_core.inference.bundle import save_bundle
    from genre_core.models import model_class
    from genre_core.training.evaluation import evaluate_predictions

    rng = np.random.default_rng(seed)
    config = FeatureConfig()
    labels = list(GENRES)
    frames = config.frames_per_segment
    X = rng.standard_normal((40, frames, config.n_mfcc)).astype(np.float32)
    y = np.arange(40) % len(labels)
    tconf = TrainConfig(epochs=2, batch_size=16, seed=seed)
    ids = [f"{g}.{i:05d}" for g in labels for i in range(8)]
    truth = {tid: tid.split(".")[0] for tid in ids}
    models, report_models, evaluations = {}, {}, []
    for family in families:
        model = model_class(family)(labels, "corrected")
        history = model.fit(X[:32], y[:32], X[32:], y[32:], tconf)
        models[family] = model
        report_models[family] = {"family": family, "variant": "corrected", "feature": "mfcc",
                                 "trained_on": "40 random MFCC blocks (test fixture)",
                                 "history": history, "train_seconds": 0.1}
        for split, desc in (("kfold", "2-fold stratified by track (synthetic)"),
                            ("artist", "artist-disjoint folds (synthetic)")):
            for variant in ("plain", "corrected"):
                probs = {}
                for tid in ids:
                    n = 10
                    logits = rng.standard_normal((n, len(labels)))
                    if rng.random() < 0.7:
                        logits[:, labels.index(truth[tid])] += 2.5
                    p = np.exp(logits)
                    probs[tid] = p / p.sum(axis=1, keepdims=True)
                folds = {tid: k % 2 for k, tid in enumerate(ids)}
                ev = evaluate_predictions(labels, truth, probs, labels, folds)
                ev.update(model=family, variant=variant, split=split, split_description=desc,
                          n_folds=2, learning_curves=[history, history], fit_seconds=[0.1, 0.1],
                          epochs=[len(history["loss"])] * 2, augmented=False)
                evaluations.append(ev)
    report = {"created": "test", "command": "tests/test_app.py build_tiny_bundle",
              "data": {"source": "synthetic", "n_tracks": len(ids), "genres": labels,
                       "track_ids": ids, "skipped": []},
              "train_config": tconf.to_dict(), "timings": {},
              "models": report_models, "evaluations": evaluations}
    return save_bundle(out, models, labels, config, report)


# ---------------------------------------------------------------- fixtures

def _bundle_is_usable(folder: Path) -> bool:
    try:
        from genre_core.inference.bundle import read_bundle_meta

        meta, report = read_bundle_meta(folder)
        return bool(meta["models"]) and bool(report.get("evaluations"))
    except Exception:  # noqa: BLE001 - anything unusable means "build a tiny one"
        return False


@pytest.fixture(scope="session")
def bundle_dir(tmp_path_factory) -> Path:
    """The shipped bundle when present, else a tiny one built in seconds."""
    if os.environ.get("GENRE_TEST_TINY_BUNDLE") != "1" and _bundle_is_usable(SHIPPED_BUNDLE):
        return SHIPPED_BUNDLE
    return build_tiny_bundle(tmp_path_factory.mktemp("bundle") / "tiny")


def tone_wav(seconds: float = 7.0, rate: int = 22050, amplitude: float = 0.4) -> bytes:
    """A 440 Hz tone with a little noise, as WAV bytes."""
    import soundfile as sf

    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(0)
    y = (amplitude * np.sin(2 * np.pi * 440 * t)
         + (0.02 if amplitude else 0.0) * rng.standard_normal(len(t))).astype(np.float32)
    buf = io.BytesIO()
    sf.write(buf, y, rate, format="WAV")
    return buf.getvalue()


def data_root() -> Path:
    """The GTZAN folder, or skip (fail when GENRE_REQUIRE_DATA=1) with the reason."""
    from conftest import require_data

    return require_data()


def run_app(monkeypatch, bundle, page: str = "home", data=None, clip: bytes | None = None,
            clip_name: str = "tone.wav", query: dict | None = None, timeout: int = 180):
    """AppTest of app.py opened on `page` (with the bundle, and optionally a dataset, a
    chosen clip and URL query parameters); fails on any exception."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("GENRE_STUDIO_DEBUG", "1")      # real exceptions, not a message
    monkeypatch.setenv("GENRE_BUNDLE", str(bundle))
    if data is None:
        monkeypatch.delenv("GENRE_DATA", raising=False)
    else:
        monkeypatch.setenv("GENRE_DATA", str(data))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    if clip is not None:
        at.session_state["clip_bytes"] = clip
        at.session_state["clip_name"] = clip_name
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if page != "home":
        at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def make_app(monkeypatch, bundle_dir):
    """AppTest of app.py on `page`, with or without a dataset/clip/bundle."""

    def _make(page: str = "home", data: Path | None = None, clip: bytes | None = None,
              clip_name: str = "tone.wav", bundle: Path | str | None = None):
        return run_app(monkeypatch, bundle or bundle_dir, page, data, clip, clip_name)
    return _make


def texts(elements) -> str:
    return " | ".join(str(e.value) for e in elements)


def charts(at) -> list:
    return at.get("plotly_chart")


def bundle_models(bundle_dir: Path) -> list[str]:
    from genre_core.inference.bundle import read_bundle_meta

    return list(read_bundle_meta(bundle_dir)[0]["models"])


def answers(bundle_dir: Path) -> list[str]:
    """What a prediction holds: the calibrated ensemble (when the bundle has one) and each
    model."""
    from genre_core.inference.ensemble import ENSEMBLE_FILE

    return (["ensemble"] if (bundle_dir / ENSEMBLE_FILE).exists() else []) + \
        bundle_models(bundle_dir)


# ---------------------------------------------------------------- every page, no dataset

@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_dataset_or_clip(make_app, page):
    at = make_app(page)
    assert at.title, "every page has a title"
    assert not at.error, texts(at.error)
    assert "offers no dataset" in texts(at.caption) + texts(at.info) or page != "home"
    assert "GENRE_DATA=" not in texts(at.caption) + texts(at.info) + texts(at.markdown)
    if page in ("features", "compare"):
        assert "No clip chosen" in texts(at.info)


def test_home_lists_models_with_accuracy_and_split(make_app, bundle_dir):
    at = make_app("home")
    df = at.dataframe[0].value
    assert len(df) == len(answers(bundle_dir))
    assert {"model", "track accuracy", "measured on"} <= set(df.columns)
    assert df["measured on"].str.contains("split").all()
    assert "offers no dataset" in texts(at.info)


# ---------------------------------------------------------------- with a clip

@pytest.mark.parametrize("page", PAGES)
def test_page_renders_with_clip(make_app, bundle_dir, page):
    at = make_app(page, clip=tone_wav())
    assert not at.error, texts(at.error)
    n_models = len(answers(bundle_dir))
    expected_charts = {"home": 0, "listen": 1, "features": 5, "compare": 1 + n_models,
                       "confusion": 2, "misclassified": 2, "model_card": 1}[page]
    assert len(charts(at)) >= expected_charts
    if page == "listen":
        assert "tone.wav" in texts(at.subheader)
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["duration"] == "7.00 s" and metrics["channels"] == "1 (mono)"
        assert metrics["sample rate"] == "22,050 Hz"
    if page == "compare":
        line = texts(at.subheader)
        assert "models agree" in line or "No majority" in line, line
        assert len(at.dataframe) == n_models          # a top-3 table per model
        assert all(len(d.value) == 3 for d in at.dataframe)


def test_clip_stays_chosen_across_pages(make_app):
    at = make_app("listen", clip=tone_wav())
    for page in ("features", "compare", "listen"):
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception
        assert "tone.wav" in texts(at.caption) + texts(at.subheader)


@pytest.mark.parametrize("data,message,kind", [
    (b"this is not audio at all", "cannot be used", "error"),
    (tone_wav(0.3), "at least 0.5 s", "error"),
    (tone_wav(5.0, amplitude=0.0), "silent", "warning"),
])
def test_bad_clips_give_messages(make_app, data, message, kind):
    at = make_app("listen", clip=data, clip_name="bad.wav")
    shown = texts(at.error if kind == "error" else at.warning)
    assert message in shown, shown
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception
    if kind == "error":
        assert "cannot be used" in texts(at.error)


def test_long_clip_is_truncated_with_a_note(make_app):
    at = make_app("listen", clip=tone_wav(35.0), clip_name="long.wav")
    assert not at.error, texts(at.error)
    # 35 s is more than 3 s over the 30 analysed: the middle 30 s (2.5-32.5 s) are heard
    assert "analysed from 0:02 to 0:32 (30 s from its middle)" in texts(at.info)
    assert {m.label: m.value for m in at.metric}["duration"] == "35.00 s"


def test_features_segment_slider_selects_block(make_app):
    at = make_app("features", clip=tone_wav(10.0))
    slider = at.slider(key="features_segment")
    assert slider.max == 3
    slider.set_value(3).run()
    assert not at.exception
    assert any("Segment 3 of 3" in c.proto.spec for c in charts(at))


def test_features_page_shows_the_mel_cnns_input(make_app):
    """The model-input tab switches to the mel CNN's block: 130 frames x 64 mel bands."""
    at = make_app("features", clip=tone_wav(10.0))
    at.radio(key="features_input").set_value("CNN on mel spectrogram").run()
    assert not at.exception
    # (ASCII parts only: without orjson, plotly's JSON escapes the multiplication sign)
    assert any("130 frames" in c.proto.spec and "64 mel bands" in c.proto.spec
               for c in charts(at))
    assert "what the CNN on mel spectrogram receives" in texts(at.caption)


def test_the_answer_is_under_way_before_compare_asks(make_app):
    """Once a clip is chosen, every model's prediction starts in the background (after the
    page is drawn, keyed by the clip's content); Compare then shows that prediction."""
    from studio import state as app_state

    at = make_app("listen", clip=tone_wav(7.0, amplitude=0.3))
    digest = at.session_state["clip_hash"]
    futures = [f for key, f in app_state._PREFETCHED.items() if key[0] == digest]
    assert len(futures) == 1
    prediction = futures[0].result(timeout=180)
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception
    shown = texts(at.header) + texts(at.subheader)
    if prediction.verdict is not None:
        assert f"Genre Studio says: {prediction.verdict}" in shown, shown
    else:
        assert "models agree" in shown or "No majority" in shown, shown


def test_model_card_speaks_to_a_teacher(make_app, bundle_dir):
    """Plain words first: each model, how often it is right on GTZAN and on real recordings,
    what "not sure" means; the developer's figures and JSON folded in one expander."""
    at = make_app("model_card")
    assert not at.error, texts(at.error)
    table = at.dataframe[0].value
    assert {"model", "what it is", "right on GTZAN"} <= set(table.columns)
    report = json.loads((bundle_dir / "report.json").read_text())
    if "realworld" in (report.get("data", {}).get("views") or {}).values():
        assert "right on real recordings" in table.columns
        assert table["model"].iloc[0].startswith("Genre Studio")      # the answer first
        assert "not sure" in texts(at.subheader) + texts(at.markdown)
    assert len(at.expander) == 1 and "For developers" in at.expander[0].label
    assert len(at.json) == len(at.expander[0].json) > 0               # no raw JSON outside it


def test_confusion_controls_and_cell_listing(make_app):
    at = make_app("confusion")
    at.radio(key="cm_level").set_value("segment").run()
    at.toggle(key="cm_norm").set_value(True).run()
    assert not at.exception and len(charts(at)) == 2
    at.radio(key="cm_level").set_value("track").run()
    at.toggle(key="cm_norm").set_value(False).run()
    true = at.selectbox(key="cm_true").options[0]
    at.selectbox(key="cm_pred").set_value(true).run()
    assert not at.exception
    assert f"{true} track(s) predicted as" in texts(at.markdown)


def test_misclassified_filters(make_app):
    at = make_app("misclassified")
    assert "misclassified by at least one model" in texts(at.caption)
    genre = at.dataframe[0].value["true genre"].iloc[0]   # a genre with a misclassified track
    at.multiselect(key="mis_true").set_value([genre]).run()
    assert not at.exception
    assert "How to" not in texts(at.error)
    assert "offers no dataset" in texts(at.info)      # says why the audio is not here


# ---------------------------------------------------------------- bundle problems

@pytest.mark.parametrize("page", PAGES)
def test_missing_bundle_gives_error_not_exception(make_app, tmp_path, page):
    at = make_app(page, clip=tone_wav(), bundle=tmp_path / "no-such-bundle")
    if page in ("listen", "features"):      # these need no bundle and keep working
        assert charts(at) and not at.main.error, texts(at.error)
    else:
        assert "bundle" in texts(at.main.error).lower(), f"{page}: expected an st.error"
    if page == "home":   # (AppTest drops the sidebar after switch_page; home is the first run)
        assert "no model bundle" in texts(at.sidebar.error)


def test_corrupt_bundle_gives_error(make_app, tmp_path):
    bad = tmp_path / "corrupt"
    bad.mkdir()
    (bad / "bundle.json").write_text("{ not json")
    for page in ("home", "compare", "model_card"):
        at = make_app(page, clip=tone_wav(), bundle=bad)
        assert "corrupt" in texts(at.error), page


# ---------------------------------------------------------------- with the dataset

@pytest.mark.parametrize("page", PAGES)
def test_page_renders_with_dataset(make_app, page):
    root = data_root()
    at = make_app(page, data=root)
    assert not at.error, texts(at.error)
    if page == "home":   # (AppTest drops the sidebar after switch_page; home is the first run)
        assert "connected:" in texts(at.sidebar.success)
        assert at.metric[0].value.isdigit() and int(at.metric[0].value) > 0


def test_listen_picks_a_dataset_track(make_app):
    root = data_root()
    at = make_app("listen", data=root)
    at.radio(key="listen_source").set_value("Dataset track").run()
    at.selectbox(key="listen_genre").set_value("rock").run()
    at.selectbox(key="listen_number").set_value(7).run()
    at.button(key="listen_use").click().run()
    assert not at.exception and not at.error, texts(at.error)
    assert "rock.00007.wav" in texts(at.subheader)
    assert len(charts(at)) == 1
    assert any(m.label == "duration" for m in at.metric)


def test_confusion_cell_tracks_play_in_place_with_dataset(make_app):
    """The matrix opens on Genre Studio's answer; a cell's tracks play on the page."""
    root = data_root()
    at = make_app("confusion", data=root)
    assert at.selectbox(key="cm_model").value == "ensemble"
    for genre in at.selectbox(key="cm_true").options:      # a diagonal cell with audio here
        at.selectbox(key="cm_true").set_value(genre)
        at.selectbox(key="cm_pred").set_value(genre).run()
        assert not at.exception and not at.error, texts(at.error)
        if at.get("audio"):
            break
    assert len(at.get("audio")) == 1
    track = at.selectbox(key="cm_play").value
    assert track.split(".")[0] == genre


def test_misclassified_plays_track_with_dataset(make_app):
    root = data_root()
    at = make_app("misclassified", data=root)
    assert not at.error, texts(at.error)
    assert len(at.get("audio")) == 1
    assert len(charts(at)) >= 4     # bars, votes, MFCCs, live per-segment probabilities
