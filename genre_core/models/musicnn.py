"""Transfer model: a small classifier on musicnn's MSD-trained representation.

Each unit is one 3-second musicnn patch: its 50-tag taggram and 200-d penultimate embedding
(see musicnn_backbone). A standardised, L2-regularised logistic regression maps a patch to
genre probabilities; as for every family, a track is the mean of its patches. With ten
clips a genre a linear classifier on a representation learned from a million songs
generalises better than any network fitted from scratch."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from genre_core.config import TrainConfig
from genre_core.models.base import GenreModel


class MusicnnTransferModel(GenreModel):
    family = "musicnn"
    feature = "musicnn"

    def __init__(self, labels, variant="corrected", params=None):
        super().__init__(labels, variant, params)
        self.pipeline = None

    def _make(self, C: float, seed: int):
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=3000,
                                                                  random_state=seed))

    def fit(self, X_train, y_train, X_valid, y_valid, config: TrainConfig, progress=False):
        """C is chosen on the validation units (strong regularisation for 'corrected',
        almost none for 'plain'); the kept model is refitted on train + valid."""
        grid = [0.01, 0.03, 0.1, 0.3] if self.variant == "corrected" else [100.0]
        scores = {}
        if X_valid is not None and len(X_valid) and len(grid) > 1:
            for C in grid:
                m = self._make(C, config.seed).fit(X_train, y_train)
                scores[C] = float((m.predict(X_valid) == y_valid).mean())
            best = max(grid, key=lambda c: (scores[c], -c))
        else:
            best = grid[len(grid) // 2] if len(grid) > 1 else grid[0]
        X = X_train if X_valid is None else np.concatenate([X_train, X_valid])
        y = y_train if y_valid is None else np.concatenate([y_train, y_valid])
        self.pipeline = self._make(best, config.seed).fit(X, y)
        self.params.update(C=best, valid_accuracy_by_C={str(k): v for k, v in scores.items()})
        return {"val_accuracy": [scores[c] for c in grid if c in scores]}

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        out = np.zeros((len(X), len(self.labels)), np.float32)
        if len(X):
            out[:, self.pipeline.classes_] = self.pipeline.predict_proba(X)
        return out

    def save(self, folder: Path) -> None:
        """skops format (no pickle: loading runs no code; see genre_core.safe_io)."""
        from genre_core.safe_io import dump_estimator

        Path(folder).mkdir(parents=True, exist_ok=True)
        dump_estimator(self.pipeline, Path(folder) / "classifier.skops")

    @classmethod
    def load(cls, folder: Path, labels, variant, params):
        from genre_core.safe_io import load_estimator

        obj = cls(labels, variant, params)
        obj.pipeline = load_estimator(Path(folder) / "classifier.skops")
        return obj
