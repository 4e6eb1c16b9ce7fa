"""Genre Studio's core: audio -> 3-s segments -> features -> models -> genre probabilities.

The public API, imported lazily so `import genre_core` (and `--help`) stays instant:

    from genre_core import load_audio, Predictor, load_bundle, index_dataset
    pred = Predictor().predict("song.mp3")          # the shipped bundle
    pred.models["cnn"].genre, pred.models["cnn"].probabilities
"""
from __future__ import annotations

import importlib

_API = {
    "load_audio": "genre_core.audio", "Clip": "genre_core.audio",
    "Predictor": "genre_core.predict", "Prediction": "genre_core.predict",
    "load_bundle": "genre_core.bundle", "save_bundle": "genre_core.bundle",
    "DEFAULT_BUNDLE": "genre_core.bundle",
    "index_dataset": "genre_core.dataset", "extract_dataset": "genre_core.dataset",
    "make_split": "genre_core.splits",
    "FeatureConfig": "genre_core.config", "TrainConfig": "genre_core.config",
    "GENRES": "genre_core.config",
    "GenreError": "genre_core.errors", "AudioError": "genre_core.errors",
}
__all__ = sorted(_API)


def __getattr__(name: str):
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'genre_core' has no attribute {name!r}")
