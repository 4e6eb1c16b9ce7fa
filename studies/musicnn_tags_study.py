"""Does musicnn's own tag output carry genre knowledge that transfers to real recordings?

Leave-one-artist-out over GTZAN (204 clips) and the real recordings (104) together, one
group per artist across both; every candidate is scored on each view (#23's two views):
- ships: the shipped musicnn4 head (taggrams + embeddings of all four networks, C .001);
- tags: the four networks' taggrams alone (200 columns), logistic regression, C .01 / .1;
- tags, domain-balanced: as tags, each domain weighing half of the training set;
- zero-shot: no training at all, each genre scored by the mean of the MSD/MTT tags that name
  it (rock, punk, hard rock, ... -> rock): the shipped `musicnn_tags` model
  (genre_core/models/musicnn_tags.py), the knowledge of the 2019 networks alone.

Run: python -m studies.musicnn_tags_study [GTZAN_ROOT] [REAL_ROOT] [NAME_PART]
(features from the cache; NAME_PART runs only the candidates whose name holds it)
"""
from __future__ import annotations

import sys
import time

import numpy as np

from genre_core.config import FeatureConfig
from genre_core.inference.cache import FeatureCache
from genre_core.inference.dataset import dataset_views, load_artist_index
from genre_core.training.pipeline import index_data, load_features
from genre_core.training.splits import artist_groups


def main(gtzan: str = "../shared/gtzan", real: str = "../shared/realworld",
         only: str = "") -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from genre_core.features.musicnn.zoo import select_columns

    ds = index_data([gtzan, f"{gtzan}/extra", real])
    feats = load_features(ds, "musicnn4", FeatureConfig(musicnn_level="rms"), FeatureCache())
    views = dataset_views(ds)
    artists = load_artist_index(None, [gtzan, f"{gtzan}/extra", real])
    tracks = [t for t in ds.tracks if t.id in feats]
    groups = artist_groups(tracks, artists)
    labels = sorted({t.genre for t in tracks})
    y = np.array([labels.index(t.genre) for t in tracks])
    ids = [t.id for t in tracks]
    view = np.array([views[i] for i in ids])
    allc = select_columns(("MSD", "MTT"), ("musicnn", "vgg"), ("taggram", "embedding"))
    tagc = select_columns(("MSD", "MTT"), ("musicnn", "vgg"), ("taggram",))

    def head(cols, C, balanced_domains=False):
        def run(tr, te):
            X = np.concatenate([feats[ids[i]][:, cols] for i in tr])
            Y = np.concatenate([[y[i]] * len(feats[ids[i]]) for i in tr])
            w = None
            if balanced_domains:
                dom = np.concatenate([[view[i]] * len(feats[ids[i]]) for i in tr])
                w = np.where(dom == "realworld", 0.5 / max((dom == "realworld").mean(), 1e-9),
                             0.5 / max((dom != "realworld").mean(), 1e-9))
            sc = StandardScaler().fit(X)
            lr = LogisticRegression(C=C, max_iter=3000, class_weight="balanced")
            lr.fit(sc.transform(X), Y, sample_weight=w)
            return {i: lr.predict_proba(sc.transform(feats[ids[i]][:, cols])).mean(0) for i in te}
        return run

    def zero_shot(tr, te):
        from genre_core.models.musicnn_tags import MusicnnTagsModel

        model = MusicnnTagsModel(labels)             # nothing to fit
        return {i: model.predict_proba(feats[ids[i]]).mean(0) for i in te}

    candidates = {"ships: all 1112 columns, C .001": head(allc, 0.001),
                  "tags (200), C .01": head(tagc, 0.01),
                  "tags (200), C .1": head(tagc, 0.1),
                  "tags (200), C .01, domains weigh half each": head(tagc, 0.01, True),
                  "ships, domains weigh half each": head(allc, 0.001, True),
                  "zero-shot tag map (no training)": zero_shot}
    if only:    # a part of the candidates' names: run just those
        candidates = {k: v for k, v in candidates.items() if only in k}
    artist_list = sorted(set(groups.values()))
    print(f"{len(tracks)} tracks, {len(artist_list)} artists; leave-one-artist-out", flush=True)
    for name, run in candidates.items():
        t0 = time.time()
        probs: dict[int, np.ndarray] = {}
        for a in artist_list:
            te = [k for k, i in enumerate(ids) if groups[i] == a]
            tr = [k for k, i in enumerate(ids) if groups[i] != a]
            probs.update(run(tr, te))
        line = [f"{name:46s}"]
        for v in ("GTZAN", "realworld"):
            ks = [k for k in probs if view[k] == v]
            pred = np.array([probs[k].argmax() for k in ks])
            true = y[ks]
            acc = (pred == true).mean()
            bal = np.mean([(pred[true == c] == c).mean() for c in np.unique(true)])
            line.append(f"{v} acc {acc:.3f} bal {bal:.3f}")
        print("  ".join(line) + f"  {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
