"""Issue #10 in the app (AppTest): a visitor chooses among the operator's datasets and
bundles and types no path (unless the operator turned local mode on), sessions never see
each other's results, user-named text is never rendered as Markdown, only the current clip
is kept decoded, and no page asks another host for icons."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import soundfile as sf

from studio.chosen_clip import ChosenClip
from tests.app.apptest_helpers import texts
from tests.helpers.audio import tone, wav_bytes
from tests.helpers.bundles import build_tiny_bundle
from tests.helpers.paths import ROOT

pytestmark = pytest.mark.slow   # AppTest/browser/CLI subprocess: see pyproject.toml


@pytest.fixture
def app(monkeypatch, bundle_dir):
    """An AppTest factory under the operator's settings given as keyword arguments."""
    from streamlit.testing.v1 import AppTest

    def _make(data: list[Path] | None = None, local: bool = False, bundles: str | None = None,
              state: dict | None = None, page: str | None = None):
        monkeypatch.setenv("GENRE_STUDIO_DEBUG", "1")
        monkeypatch.setenv("GENRE_BUNDLE", str(bundle_dir))
        for key, value in (("GENRE_DATA", os.pathsep.join(map(str, data or [])) or None),
                           ("GENRE_LOCAL_MODE", "1" if local else None),
                           ("GENRE_BUNDLES", bundles)):
            if value is None:
                monkeypatch.delenv(key, raising=False)
            else:
                monkeypatch.setenv(key, value)
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
        for k, v in (state or {}).items():
            at.session_state[k] = v
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        if page:
            at.switch_page(f"app_pages/{page}.py").run()
            assert not at.exception, [e.value for e in at.exception]
        return at
    return _make


def make_root(root: Path, ids: list[str], freq: float) -> Path:
    for tid in ids:
        genre = tid.split(".")[0]
        (root / "genres_original" / genre).mkdir(parents=True, exist_ok=True)
        sf.write(root / "genres_original" / genre / f"{tid}.wav", tone(6.0, freq=freq), 22050)
    return root


# ---------------------------------------------------------------- the operator's choice

def test_visitor_picks_datasets_by_name_and_types_no_path(app, tmp_path):
    a = make_root(tmp_path / "alpha", ["blues.00001", "rock.00002"], 300)
    b = make_root(tmp_path / "beta", ["jazz.00003"], 500)
    at = app(data=[a, b])
    assert not at.sidebar.text_input, "no free path box outside local mode"
    box = at.sidebar.selectbox(key="data_path")
    assert box.options == ["all 2 datasets", "alpha", "beta"]
    assert "connected: 3 tracks" in texts(at.sidebar.success)
    # (AppTest drops the sidebar on later runs: choose through the session, as the box does)
    at = app(data=[a, b], state={"data_path": "beta"})
    assert "connected: 1 tracks" in texts(at.sidebar.success)
    assert at.metric[0].value == "1"
    assert str(tmp_path) not in texts(at.main.caption), "server paths are not shown"


def test_a_typed_path_in_the_session_is_ignored(app, tmp_path, bundle_dir):
    """A crafted session value cannot point the server at its own files or bundles."""
    secret = make_root(tmp_path / "secret", ["pop.00001"], 400)
    at = app(data=[make_root(tmp_path / "ok", ["rock.00001"], 300)],
             state={"data_path": str(secret), "bundle_path": str(tmp_path / "evil")})
    assert at.session_state["data_path"] == "ok"
    assert at.session_state["bundle_path"] in at.sidebar.selectbox(key="bundle_path").options
    assert "connected: 1 tracks" in texts(at.sidebar.success)


def test_bundles_are_chosen_from_the_operators_list(app, tmp_path):
    build_tiny_bundle(tmp_path / "bundles" / "small")
    at = app(bundles=str(tmp_path / "bundles"))
    assert at.sidebar.selectbox(key="bundle_path").options[1:] == ["small"]
    at = app(bundles=str(tmp_path / "bundles"), state={"bundle_path": "small"})
    assert "models: mlp, cnn" in texts(at.sidebar.caption)
    assert "Bundle: small" in texts(at.caption)


def test_local_mode_allows_typed_paths(app, tmp_path):
    a = make_root(tmp_path / "alpha", ["blues.00001"], 300)
    b = make_root(tmp_path / "beta", ["jazz.00003", "jazz.00004"], 500)
    at = app(local=True, state={"data_path": f"{a}{os.pathsep}{b}"})
    assert at.sidebar.text_input(key="data_path").value == f"{a}{os.pathsep}{b}"
    assert "connected: 3 tracks" in texts(at.sidebar.success)
    assert at.sidebar.text_input(key="bundle_path")


def test_operator_instructions_only_in_local_mode(app):
    """How to connect a dataset is the operator's business: shown in local mode (where the
    operator is the one looking), never to a visitor of a public server."""
    assert "GENRE_DATA=" in texts(app(local=True).info)
    visitor = app()
    assert "GENRE_DATA=" not in texts(visitor.info) + texts(visitor.caption)
    assert "offers no dataset" in texts(visitor.info)


# ---------------------------------------------------------------- never rendered

EVIL = "![x](http://evil.invalid/a.png) <img src=http://evil.invalid/b.png> **b** :material/home:.wav"


def test_user_named_text_is_not_markdown(app):
    from studio.escape import md_escape

    at = app(state={"chosen_clip": ChosenClip(wav_bytes(tone(4.0)), EVIL)}, page="listen")
    heading = texts(at.subheader)
    assert md_escape(EVIL) in heading
    name = heading.split("Chosen clip: ", 1)[1]
    assert not re.search(r"(?<!\\)[\[\]()<>*:!]", name), name     # nothing left unescaped
    at2 = app(state={"chosen_clip": ChosenClip(b"junk" * 50, EVIL)}, page="listen")
    shown = texts(at2.error)
    assert "cannot be used" in shown and md_escape(EVIL) in shown
    assert not re.search(r"(?<!\\)[<>*!]", shown), shown
    assert "BytesIO" not in shown


def test_md_escape_leaves_nothing_active():
    from studio.escape import md_escape

    out = md_escape("1. [a](b) `c` <d> *e* _f_ :g: ~h~ $i$ #j |k| \\l\nm")
    # every Markdown/HTML/directive character is preceded by a backslash
    assert not re.search(r"(?<!\\)[\[\]()`<>*_:~$#|]", out)
    assert "\n" not in out and out.startswith("1\\.")


def test_no_material_icons_and_no_usage_stats():
    """Material-symbol page icons make Streamlit fetch the favicon from fonts.gstatic.com."""
    for f in [ROOT / "app.py", ROOT / "studio" / "state.py", *(ROOT / "app_pages").glob("*.py")]:
        assert ":material/" not in f.read_text(), f
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["browser"]["gatherUsageStats"] is False


# ---------------------------------------------------------------- memory per session

def test_only_the_current_clip_is_kept_decoded(app):
    from genre_core.inference.cache import content_hash

    first, second = wav_bytes(tone(5.0, freq=300)), wav_bytes(tone(6.0, freq=600))
    at = app(state={"chosen_clip": ChosenClip(first, "a.wav")}, page="listen")
    held = at.session_state["chosen_clip"]
    assert held.digest == content_hash(first) and held.clip.duration == pytest.approx(5.0)
    at.session_state["chosen_clip"] = ChosenClip(second, "b.wav")   # a new upload replaces it
    at.run()
    held = at.session_state["chosen_clip"]
    assert held.digest == content_hash(second) and held.clip.duration == pytest.approx(6.0)
    # nothing else in the session holds decoded audio
    from genre_core.inference.audio import Clip

    assert not [k for k in at.session_state if isinstance(at.session_state[k], Clip)]


# ---------------------------------------------------------------- no cross-talk

def _chart(at, title: str) -> str:
    want = f'"text":"{title}"'.replace(" ", "")
    specs = [c.proto.spec for c in at.get("plotly_chart") if want in c.proto.spec.replace(" ", "")]
    assert len(specs) == 1, f"no single chart titled {title!r}"
    return specs[0]


def _first_misclassified(bundle: Path) -> str:
    """The track the Misclassified page selects first (its default split, no filter)."""
    from genre_core.inference.bundle import read_bundle_meta
    from studio import summaries as sup

    meta, report = read_bundle_meta(bundle)
    split = sorted({ev["split"] for ev in report["evaluations"]}, key=sup.split_rank)[0]
    table = sup.misclassified_table(report, {}, split=split,
                                    models=sup.evaluated_models(meta, report))
    return table["track"].iloc[0]


def test_four_sessions_see_only_their_own_results(app, tmp_path, bundle_dir):
    """Four visitors, four datasets holding the same track id with different audio, four
    different clips: each sees the analysis of its own file and the features of its own
    clip, also after the others ran (caches keyed by content, not by id)."""
    tid = _first_misclassified(bundle_dir)
    roots = [make_root(tmp_path / f"d{k}", [tid], 200.0 + 170 * k) for k in range(4)]
    sessions, seen = [], []
    for k in range(4):
        at = app(data=roots, state={"data_path": f"d{k}",
                                    "chosen_clip": ChosenClip(
                                        wav_bytes(tone(5.0, freq=900 + 250 * k)),
                                        f"clip{k}.wav")}, page="misclassified")
        assert not at.error, texts(at.error)
        sessions.append(at)
        seen.append(_chart(at, "MFCCs"))
    assert len(set(seen)) == 4, "a session was shown another session's track analysis"
    clips = []
    for k, at in enumerate(sessions):
        at.switch_page("app_pages/misclassified.py").run()     # again, after all the others
        assert _chart(at, "MFCCs") == seen[k]
        at.switch_page("app_pages/features.py").run()
        assert f"clip{k}.wav" in texts(at.caption)
        clips.append(_chart(at, "MFCCs of the whole clip"))
    assert len(set(clips)) == 4
