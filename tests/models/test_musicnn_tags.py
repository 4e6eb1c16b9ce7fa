"""musicnn's own tags as a genre model: each genre is the mean of the tags that name it (no
training), rows are probabilities, a genre no tag names keeps a small floor, and the saved tag
map must match the code's."""
from __future__ import annotations

import json

import numpy as np
import pytest

from genre_core.config import GENRES
from genre_core.errors import GenreError
from genre_core.features.musicnn.zoo import N_COLUMNS, NETWORKS, column_layout
from genre_core.models import model_class


def _units_with(tags: dict[str, float], n: int = 3) -> np.ndarray:
    """musicnn4 units whose taggrams (every network) hold `tags` and 0.05 elsewhere."""
    X = np.zeros((n, N_COLUMNS), np.float32)
    layout = column_layout()
    for net in NETWORKS.values():
        block = layout[f"{net.name}/taggram"]
        X[:, block] = 0.05
        for i, tag in enumerate(net.tags):
            if tag in tags:
                X[:, block.start + i] = tags[tag]
    return X


def test_the_tags_that_name_a_genre_decide_it():
    model = model_class("musicnn_tags")(list(GENRES))
    assert model.fit(None, None, None, None, None) == {}            # nothing to learn
    for tags, genre in (({"punk": 0.9, "rock": 0.8}, "rock"), ({"Hip-Hop": 0.9}, "hiphop"),
                        ({"classical": 0.9, "violin": 0.7}, "classical"),
                        ({"metal": 0.9, "heavy metal": 0.8}, "metal")):
        p = model.predict_proba(_units_with(tags))
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
        assert {GENRES[k] for k in p.argmax(axis=1)} == {genre}, tags
    p = model.predict_proba(_units_with({}))
    assert (p[:, GENRES.index("reggae")] > 0).all()                  # the floor


def test_save_load_and_a_changed_tag_map_is_refused(tmp_path):
    cls = model_class("musicnn_tags")
    model = cls(list(GENRES))
    model.save(tmp_path / "m")
    back = cls.load(tmp_path / "m", list(GENRES), "corrected", {})
    X = _units_with({"jazz": 0.9})
    np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))
    saved = json.loads((tmp_path / "m" / "tags.json").read_text())
    saved["genre_tags"]["rock"] = ["guitar"]
    (tmp_path / "m" / "tags.json").write_text(json.dumps(saved))
    with pytest.raises(GenreError, match="another tag map"):
        cls.load(tmp_path / "m", list(GENRES), "corrected", {})
