"""Shared fixtures: synthesized audio, and the GTZAN material beside the repo (skipped with a
reason when absent, failed when GENRE_REQUIRE_DATA=1 as in CI)."""
from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DATA_ROOT = Path(os.environ.get("GENRE_DATA_ROOT", ROOT.parent / "shared" / "gtzan"))


def require_data() -> Path:
    """The GTZAN folder, or skip (fail in CI) with the reason."""
    if (DATA_ROOT / "Data" / "genres_original").is_dir():
        return DATA_ROOT
    reason = f"GTZAN material not found at {DATA_ROOT} (set GENRE_DATA_ROOT)"
    if os.environ.get("GENRE_REQUIRE_DATA") == "1":
        pytest.fail(reason + " but GENRE_REQUIRE_DATA=1")
    pytest.skip(reason)


@pytest.fixture
def gtzan() -> Path:
    return require_data()


def tone(seconds: float = 5.0, rate: int = 22050, freq: float = 440.0, channels: int = 1,
         seed: int = 0) -> np.ndarray:
    """A sine with a little noise; (n,) or (n, channels)."""
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(seed)
    y = 0.4 * np.sin(2 * np.pi * freq * t) + 0.02 * rng.standard_normal(len(t))
    y = y.astype(np.float32)
    if channels > 1:
        y = np.stack([y * (1 - 0.1 * c) for c in range(channels)], axis=1)
    return y


def wav_bytes(y: np.ndarray, rate: int = 22050, fmt: str = "WAV", subtype: str | None = None) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, y, rate, format=fmt, subtype=subtype)
    return buf.getvalue()


@pytest.fixture
def write_audio(tmp_path):
    def _write(name: str, y: np.ndarray, rate: int = 22050, **kw) -> Path:
        path = tmp_path / name
        fmt = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".mp3": "MP3"}[path.suffix]
        if fmt == "OGG":
            kw.setdefault("subtype", "VORBIS")
        sf.write(path, y, rate, format=fmt, **kw)
        return path
    return _write


def musicnn_reference_script():
    """studies/musicnn_reference.py, which made the stored musicnn reference values: tests use
    its own synth_clip so the synthesized input cannot drift from the one the original saw."""
    import importlib

    return importlib.import_module("studies.musicnn_reference")
