"""Model registry: family name -> "module:Class". Modules import lazily so TensorFlow loads
only when a model is built or run."""
from __future__ import annotations

import importlib

FAMILIES: dict[str, str] = {
    "mlp": "genre_core.models.mlp:MLPModel",
    "cnn": "genre_core.models.cnn:CNNModel",
    "cnn_mel": "genre_core.models.cnn_mel:MelCNNModel",
    "lstm": "genre_core.models.lstm:LSTMModel",
    "features": "genre_core.models.table:TableModel",
    "musicnn": "genre_core.models.musicnn:MusicnnTransferModel",
    "musicnn4": "genre_core.models.musicnn_multi:MusicnnMultiModel",
    "musicnn_tags": "genre_core.models.musicnn_tags:MusicnnTagsModel",
}


def model_class(family: str):
    """Return the GenreModel subclass registered under `family`."""
    try:
        module_name, class_name = FAMILIES[family].split(":")
    except KeyError:
        from genre_core.errors import GenreError
        raise GenreError(f"unknown model family {family!r}; known: {', '.join(FAMILIES)}") from None
    return getattr(importlib.import_module(module_name), class_name)
