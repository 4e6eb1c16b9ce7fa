"""Every Streamlit page rendered headless through streamlit.testing (AppTest): with and
without a dataset, with a clip chosen, and with a missing bundle."""
from __future__ import annotations

import json

import pytest

from tests.app.apptest_helpers import answers, charts, data_root, texts
from tests.helpers.audio import tone_wav

pytestmark = pytest.mark.slow   # AppTest/browser/CLI subprocess: see pyproject.toml

PAGES = ["home", "listen", "features", "compare", "confusion", "misclassified", "model_card"]


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
    """Once a clip is chosen, every model's prediction starts in the background (as soon as
    it is decoded, keyed by the clip's content); Compare then shows that prediction."""
    from studio import background

    at = make_app("listen", clip=tone_wav(7.0, amplitude=0.3))
    digest = at.session_state["chosen_clip"].digest
    futures = [f for key, f in background._FUTURES.items() if key[0] == digest]
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
