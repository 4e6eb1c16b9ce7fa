"""musicnn's own words as a genre model: no training on GTZAN at all.

The four pretrained musicnn networks tag every 3-s patch with the words listeners used for a
million songs (Million Song Dataset) or 25,000 clips (MagnaTagATune): "rock", "punk",
"Hip-Hop", "jazz", "country", "metal", "classical", ... Each genre's score is the mean
probability of the tags that name it (both vocabularies, both architectures), and a patch's
genre probabilities are those scores normalised (plus a small floor, so a genre no tag names,
such as reggae, is unlikely rather than impossible). Nothing is fitted: its knowledge comes
from music outside GTZAN, which is what the calibrated ensemble may lean on for people's own
recordings (it names the right genre for 64.4 % of the real recordings and 54.4 % of GTZAN's
clips: studies/musicnn_tags_study.py)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from genre_core.config import TrainConfig
from genre_core.errors import GenreError
from genre_core.models.base import GenreModel

# which tags of musicnn's two vocabularies name each GTZAN genre
GENRE_TAGS: dict[str, list[str]] = {
    "blues": ["blues"],
    "classical": ["classical", "classic", "violin", "strings", "harpsichord", "opera", "cello"],
    "country": ["country"],
    "disco": ["dance", "funk"],
    "hiphop": ["Hip-Hop", "rnb"],
    "jazz": ["jazz"],
    "metal": ["metal", "heavy metal", "hard rock"],
    "pop": ["pop", "catchy"],
    "reggae": [],
    "rock": ["rock", "classic rock", "punk", "hard rock", "indie rock", "alternative rock"],
}
FLOOR = 0.01     # added to every genre's score before normalising


def tag_columns() -> dict[str, np.ndarray]:
    """{genre: musicnn4 columns of the taggram entries that name it}."""
    from genre_core.features.musicnn.zoo import NETWORKS, column_layout

    layout = column_layout()
    out = {}
    for genre, words in GENRE_TAGS.items():
        cols = [layout[f"{n.name}/taggram"].start + i for n in NETWORKS.values()
                for i, tag in enumerate(n.tags) if tag in words]
        out[genre] = np.asarray(cols, dtype=int)
    return out


class MusicnnTagsModel(GenreModel):
    family = "musicnn_tags"
    feature = "musicnn4"

    def __init__(self, labels, variant="corrected", params=None):
        super().__init__(labels, variant, params)
        self.columns = tag_columns()

    def fit(self, X_train, y_train, X_valid, y_valid, config: TrainConfig, progress=False):
        """Nothing to learn: the tags' meaning is fixed."""
        return {}

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, np.float32)
        scores = np.full((len(X), len(self.labels)), FLOOR, np.float32)
        for k, genre in enumerate(self.labels):
            cols = self.columns.get(genre)
            if cols is not None and len(cols):
                scores[:, k] += X[:, cols].mean(axis=1)
        return scores / scores.sum(axis=1, keepdims=True)

    def save(self, folder: Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "tags.json").write_text(json.dumps({"genre_tags": GENRE_TAGS, "floor": FLOOR}))

    @classmethod
    def load(cls, folder: Path, labels, variant, params):
        path = Path(folder) / "tags.json"
        try:
            saved = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            raise GenreError(f"{path}: tag map unreadable ({e})") from None
        if saved.get("genre_tags") != GENRE_TAGS:
            raise GenreError(f"{path}: written with another tag map; retrain musicnn_tags")
        return cls(labels, variant, params)
