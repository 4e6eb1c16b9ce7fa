"""Fixtures every test folder shares: the GTZAN material beside the repo (skipped with a
reason when absent, failed when GENRE_REQUIRE_DATA=1 as in CI) and synthesized audio files.
The helpers behind them live in tests/helpers (paths, audio, bundles, ...); the app's fixtures
are in tests/app/conftest.py."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.helpers.paths import require_data

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def gtzan() -> Path:
    return require_data()


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
