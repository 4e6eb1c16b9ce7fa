"""The contract every model family fulfils, so predict, evaluation, the bundle and the app
need no change when a family is added (one file in models/ plus one registry line)."""
from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import numpy as np

from genre_core.config import TrainConfig


class GenreModel(ABC):
    """A classifier over the *units* of one feature kind.

    A unit is what the model sees at once: a 3-second MFCC block (mfcc), a whole clip's 57
    Kaggle features (kaggle), a 3-second musicnn embedding (musicnn). A track's probabilities
    are the mean of its units' probabilities, whatever the family.
    """

    family: ClassVar[str]          # registry name, e.g. "mlp"
    feature: ClassVar[str]         # feature kind it consumes: "mfcc" | "kaggle" | "musicnn"

    def __init__(self, labels: list[str], variant: str = "corrected", params: dict | None = None):
        self.labels = list(labels)
        self.variant = variant      # "plain" or "corrected" (dropout, L2, early stopping)
        self.params = dict(params or {})

    @abstractmethod
    def fit(self, X_train: np.ndarray, y_train: np.ndarray,
            X_valid: np.ndarray | None, y_valid: np.ndarray | None,
            config: TrainConfig, progress: bool = False) -> dict[str, list[float]]:
        """Fit on units; return per-epoch history (loss, accuracy, val_loss, val_accuracy)."""

    @abstractmethod
    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(n_units, ...) -> (n_units, n_labels) probabilities, in one batched call."""

    @abstractmethod
    def save(self, folder: Path) -> None:
        """Write everything needed to predict (weights, scaler statistics) into `folder`."""

    @classmethod
    @abstractmethod
    def load(cls, folder: Path, labels: list[str], variant: str, params: dict) -> GenreModel:
        """Inverse of save."""
