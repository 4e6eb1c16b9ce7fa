"""The newer views through AppTest: map of music, saliency, batch, and the additions to
Compare (timeline, out-of-domain notice, CSV), Listen (examples), Features (notes),
Misclassified (saliency), presentation mode and bookmarkable URLs."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.app.apptest_helpers import charts, data_root, run_app, texts
from tests.helpers.audio import tone_wav

pytestmark = pytest.mark.slow   # AppTest/browser/CLI subprocess: see pyproject.toml

NEW_PAGES = ["map", "saliency", "batch"]


@pytest.fixture
def app(monkeypatch, bundle_dir):
    def _make(page="home", data=None, clip=None, clip_name="tone.wav", query=None):
        return run_app(monkeypatch, bundle_dir, page, data, clip, clip_name, query, timeout=60)
    return _make


def has_map(bundle) -> bool:
    return (Path(bundle) / "map" / "map.json").exists()


@pytest.mark.parametrize("page", NEW_PAGES)
def test_new_page_renders_without_clip(app, page, bundle_dir):
    at = app(page)
    assert at.title and not at.error, texts(at.error)
    if page == "map":
        assert len(charts(at)) == (1 if has_map(bundle_dir) else 0)
        assert "Choose a clip" in texts(at.info) or "no map" in texts(at.info)
    if page == "saliency":
        assert "No clip chosen" in texts(at.info)
    if page == "batch":
        assert "Drop several audio files" in texts(at.info)


def test_map_places_the_clip_and_lists_five_neighbours(app, bundle_dir):
    if not has_map(bundle_dir):
        pytest.skip("bundle without a map of music")
    at = app("map", clip=tone_wav(9.0))
    assert not at.error, texts(at.error)
    spec = charts(at)[0].proto.spec
    assert "your clip" in spec and '"star"' in spec
    near = at.dataframe[0].value
    assert len(near) == 5 and list(near.columns[:4]) == ["track", "genre", "artist", "title"]
    assert near["distance"].is_monotonic_increasing
    at.toggle(key="map_misclassified").set_value(True).run()
    assert not at.exception
    assert "misclassified" in charts(at)[0].proto.spec


def test_saliency_page_explains_cnn_and_musicnn(app, bundle_dir):
    at = app("saliency", clip=tone_wav(7.0))
    assert not at.error, texts(at.error)
    assert "toward" in charts(at)[0].proto.spec
    assert "Strongest evidence" in texts(at.markdown) or "No region" in texts(at.markdown)
    assert "Occlusion" in texts(at.caption)
    options = at.selectbox(key="sal_model").options
    assert options[0] in ("cnn", "musicnn", "CNN", "musicnn")
    if "musicnn" in options:
        at.selectbox(key="sal_model").set_value("musicnn").run()
        assert not at.exception and not at.error
        assert "frequency (Hz)" in charts(at)[0].proto.spec
    if "cnn_mel" in options:      # the shipped bundle: the CNN on mel bands, drawn in Hz
        at.selectbox(key="sal_model").set_value("cnn_mel").run()
        assert not at.exception and not at.error
        assert "frequency (Hz)" in charts(at)[0].proto.spec
        assert "(mel spectrogram)" in texts(at.caption)
    at.slider(key="sal_segment").set_value(2).run()
    assert "segment 2" in texts(at.markdown)      # the heading above the chart


def test_compare_has_timeline_domain_notice_and_csv(app, bundle_dir):
    at = app("compare", clip=tone_wav(9.0))
    assert not at.error, texts(at.error)
    assert "Download the predictions (CSV)" in [b.label for b in at.get("download_button")]
    timeline = [e for e in at.main.children.values() if "genre_timeline" in str(e.proto)] or \
        [e for e in at.get("component_instance")]
    assert timeline, "the playing timeline is on Compare"
    # a pure tone is not music: the steady-signal warning beside the answer, and with the
    # calibrated ensemble (the shipped bundle) no genre asserted in the headline
    assert "barely changes over time" in texts(at.warning)
    if (Path(bundle_dir) / "ensemble.json").exists():
        heads = [h.value for h in at.header]
        assert any(h.startswith("Genre Studio says: not music it knows (best guess:")
                   for h in heads), heads


def test_compare_warns_about_silence(app):
    at = app("compare", clip=tone_wav(6.0, amplitude=0.0), clip_name="quiet.wav")
    assert "silence" in texts(at.warning)


def test_listen_shows_examples_without_dataset(app, bundle_dir):
    at = app("listen")
    assert "Examples of each genre" in texts(at.subheader)
    if has_map(bundle_dir):
        assert len(at.selectbox(key="examples_track").options) == 3
        assert "offers no dataset" in texts(at.info)
        assert "GENRE_DATA" not in texts(at.info) + texts(at.caption)   # operator text: local mode only


def test_features_explainer_synthesizes_examples(app):
    at = app("features")
    at.radio(key="feat_explain_sound").set_value("chord").run()
    at.radio(key="feat_explain_kind").set_value("chroma").run()
    assert not at.exception
    assert "Chroma: chord" in charts(at)[0].proto.spec
    assert "C-major chord" in texts(at.markdown)
    assert len(at.get("audio")) == 1


def test_url_restores_model_and_confusion_cell(app):
    at = app("confusion", query={"model": "cnn", "true": "metal", "pred": "rock"})
    assert at.selectbox(key="cm_model").value == "cnn"
    assert "metal track(s) predicted as **rock**" in texts(at.markdown)
    # (writing the URL back is checked in the browser: AppTest's switch_page runs the page
    # script without app.py)


def test_url_ignores_unknown_values(app):
    at = app("confusion", query={"model": "svm", "true": "polka", "track": "../etc/passwd"})
    assert not at.error and at.selectbox(key="cm_model").value != "svm"


def _in_tree(at, text: str) -> bool:
    def walk(node):
        return any(text in str(getattr(c, "proto", "")) or walk(c)
                   for c in getattr(node, "children", {}).values())
    return walk(at._tree)


def test_presentation_mode_from_the_url(app):
    # (AppTest reruns only the page script after the first run, so the toggle's effect is
    # checked on a first run restored from ?present=1; the browser test clicks the toggle)
    at = app("home", query={"present": "1"})
    assert at.sidebar.toggle(key="presentation").value is True
    assert _in_tree(at, "presentation mode")
    assert at.query_params["present"] in ("1", ["1"])


def test_url_restores_a_dataset_track(app):
    root = data_root()
    at = app("listen", data=root, query={"track": "rock.00007"})
    assert "rock.00007.wav" in texts(at.subheader)


def test_map_plays_neighbours_with_dataset(app, bundle_dir):
    root = data_root()
    if not has_map(bundle_dir):
        pytest.skip("bundle without a map of music")
    both = os.pathsep.join([str(root), str(Path(root) / "extra")])   # every training track
    at = app("map", data=both, clip=(Path(root) / "Data" / "genres_original" / "metal" /
                                      "metal.00003.wav").read_bytes(), clip_name="metal.00003.wav")
    near = at.dataframe[0].value
    assert "metal.00003" not in list(near["track"])      # itself left out of "sounds like"
    assert (near["genre"] == "metal").sum() >= 3
    assert len(at.get("audio")) == 1


def test_misclassified_track_gets_saliency(app):
    root = data_root()
    at = app("misclassified", data=root)
    assert not at.error, texts(at.error)
    assert any("toward" in c.proto.spec for c in charts(at))


def test_listen_plays_the_timeline_on_request(app):
    at = app("listen", clip=tone_wav(7.0))
    assert not _in_tree(at, "genre_timeline")
    at.toggle(key="listen_timeline").set_value(True).run()
    assert not at.exception and not at.error, texts(at.error)
    assert _in_tree(at, "genre_timeline")
