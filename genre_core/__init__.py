"""Genre Studio's core: audio -> 3-s segments -> features -> models -> genre probabilities.

Two layers, one folder each, on a small foundation (the rule is checked by the import
contracts in pyproject.toml):

    config, errors, atomic, safe_io   the foundation both layers use
    threadsafe_ast   ast.parse one thread at a time on Pythons with gh-106905 (installed here)
    inference/   decode, features, a loaded bundle, the serving runtime, Predictor
    models/      the model families (one file each) and their registry
    training/    fitting, cross-validation, splits, augmentation, table candidates
    views/       figures and computations behind the app's views
    cli/         the command line (genre_core/__main__.py is its entry)

The public API, imported lazily so `import genre_core` (and `--help`) stays instant:

    from genre_core import load_audio, Predictor, load_bundle, index_dataset
    pred = Predictor().predict("song.mp3")          # the shipped bundle
    pred.models["cnn"].genre, pred.models["cnn"].probabilities
"""
from __future__ import annotations

import importlib

from genre_core import threadsafe_ast

# before any of our threads parses (numpy's np.load does): see threadsafe_ast's docstring
threadsafe_ast.install()

_API = {
    "load_audio": "genre_core.inference.audio", "Clip": "genre_core.inference.audio",
    "Predictor": "genre_core.inference.predict", "Prediction": "genre_core.inference.predict",
    "load_bundle": "genre_core.inference.bundle", "save_bundle": "genre_core.inference.bundle",
    "DEFAULT_BUNDLE": "genre_core.inference.bundle",
    "index_dataset": "genre_core.inference.dataset",
    "extract_dataset": "genre_core.inference.dataset",
    "make_split": "genre_core.training.splits",
    "FeatureConfig": "genre_core.config", "TrainConfig": "genre_core.config",
    "GENRES": "genre_core.config",
    "GenreError": "genre_core.errors", "AudioError": "genre_core.errors",
}
__all__ = sorted(_API)


def __getattr__(name: str):
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'genre_core' has no attribute {name!r}")
