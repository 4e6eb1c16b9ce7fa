"""Fixtures of the inference tests: a small map of music over synthetic clusters (used by the
map's tests and by the out-of-domain check of a far embedding)."""
from __future__ import annotations

import numpy as np
import pytest

from genre_core.inference import music_map as mm


def clusters(n_per=12, dim=20, seed=0):
    """Three well-separated clusters of synthetic 'embeddings' with genres a, b, c."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((3, dim)) * 4
    emb = np.concatenate([c + 0.3 * rng.standard_normal((n_per, dim)) for c in centres])
    genres = [g for g in "abc" for _ in range(n_per)]
    ids = [f"{g}.{i:05d}" for g in "abc" for i in range(n_per)]
    return emb.astype(np.float32), ids, genres, centres


@pytest.fixture(scope="module")
def small_map():
    emb, ids, genres, centres = clusters()
    return mm.build_map(emb, ids, genres, method="tsne"), emb, centres
