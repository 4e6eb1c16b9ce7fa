"""The GTZAN clips and the real recordings as one labelled set with their musicnn4 features
(as the shipped bundle hears them), per track its genre, view and artist group: what the
issue-#23 studies that compare heads on both views start from.

Run: python -m studies.both_views [GTZAN_ROOT] [REAL_ROOT] (prints the counts per view)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class BothViews:
    tracks: list            # genre_core Track objects with musicnn4 features
    feats: dict             # {track id: musicnn4 patches (n_patches, 1112)}
    labels: list[str]       # the genres, sorted
    ids: list[str]
    y: np.ndarray           # genre index per track
    view: np.ndarray        # "GTZAN" | "realworld" per track
    g: np.ndarray           # artist group per track (one group per artist across both)
    config: object          # the FeatureConfig the features were extracted with


def load_both_views(gtzan: str, real: str) -> BothViews:
    """GTZAN's shared and extra clips plus the real recordings, features from the cache."""
    from genre_core.config import FeatureConfig
    from genre_core.inference.cache import FeatureCache
    from genre_core.inference.dataset import dataset_views, load_artist_index
    from genre_core.training.pipeline import index_data, load_features
    from genre_core.training.splits import artist_groups

    roots = [gtzan, f"{gtzan}/extra", real]
    config = FeatureConfig(musicnn_level="rms")
    ds = index_data(roots)
    feats = load_features(ds, "musicnn4", config, FeatureCache())
    views = dataset_views(ds)
    tracks = [t for t in ds.tracks if t.id in feats]
    groups = artist_groups(tracks, load_artist_index(None, roots))
    labels = sorted({t.genre for t in tracks})
    ids = [t.id for t in tracks]
    return BothViews(tracks, feats, labels, ids,
                     np.array([labels.index(t.genre) for t in tracks]),
                     np.array([views[i] for i in ids]), np.array([groups[i] for i in ids]),
                     config)


def main(gtzan: str = "../shared/gtzan", real: str = "../shared/realworld") -> None:
    """Print what the studies start from: tracks, genres and artists per view."""
    d = load_both_views(gtzan, real)
    for v in ("GTZAN", "realworld"):
        m = d.view == v
        print(f"{v}: {int(m.sum())} tracks, {len(set(d.y[m]))} genres, "
              f"{len(set(d.g[m]))} artist groups")
    print(f"both: {len(d.ids)} tracks, {len(set(d.g))} artist groups")


if __name__ == "__main__":
    import sys

    main(*sys.argv[1:])
