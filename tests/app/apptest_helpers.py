"""Helpers for the AppTest tests: open app.py on a page (run_app) and read what it shows."""
from __future__ import annotations

from pathlib import Path

from tests.helpers.paths import ROOT, require_data


def data_root() -> Path:
    """The GTZAN folder, or skip (fail when GENRE_REQUIRE_DATA=1) with the reason."""
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
        from studio.chosen_clip import ChosenClip

        at.session_state["chosen_clip"] = ChosenClip(clip, clip_name)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if page != "home":
        at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


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
