"""Which head over the musicnn4 patches generalises to new artists in both domains?

Issue #23: every choice on two views. Leave-one-artist-out over GTZAN (204 clips) and the real
recordings (104) together, one group per artist across both (173 artists); the candidates are
the shipped model class (genre_core.models.musicnn_multi) with each `head`:
- logreg: the standardised patches, logistic regression, C .001, genres balanced (shipped
  until 2026-12-07);
- lda: linear discriminant analysis, Ledoit-Wolf shrinkage, equal genre priors;
- logreg+lda: the mean of both heads' track probabilities (printed when both ran).
A track is the mean of its patches; scored per view (track / balanced accuracy, macro F1
over the genres the view has, as the report counts them).

Run: python -m studies.musicnn_head_both_study [GTZAN_ROOT] [REAL_ROOT] [HEAD ...]
(features from the cache, as the shipped bundle hears them)
"""
from __future__ import annotations

import sys
import time

import numpy as np

from genre_core.config import FeatureConfig, TrainConfig
from genre_core.inference.cache import FeatureCache
from genre_core.inference.dataset import dataset_views, load_artist_index
from genre_core.models.musicnn_multi import HEADS, MusicnnMultiModel
from genre_core.training.pipeline import index_data, load_features
from genre_core.training.splits import artist_groups


def main(gtzan: str = "../shared/gtzan", real: str = "../shared/realworld",
         *heads: str) -> None:
    from sklearn.metrics import balanced_accuracy_score, f1_score

    roots = [gtzan, f"{gtzan}/extra", real]
    ds = index_data(roots)
    feats = load_features(ds, "musicnn4", FeatureConfig(musicnn_level="rms"), FeatureCache())
    views = dataset_views(ds)
    tracks = [t for t in ds.tracks if t.id in feats]
    groups = artist_groups(tracks, load_artist_index(None, roots))
    labels = sorted({t.genre for t in tracks})
    ids = [t.id for t in tracks]
    y = np.array([labels.index(t.genre) for t in tracks])
    view = np.array([views[i] for i in ids])
    g = np.array([groups[i] for i in ids])
    print(f"{len(ids)} tracks, {len(set(g))} artists; leave-one-artist-out", flush=True)
    found: dict[str, np.ndarray] = {}

    def held_out(head: str) -> np.ndarray:
        if head == "logreg+lda":
            return (found["logreg"] + found["lda"]) / 2
        probs = np.zeros((len(ids), len(labels)))
        for artist in sorted(set(g)):
            tr, te = np.flatnonzero(g != artist), np.flatnonzero(g == artist)
            model = MusicnnMultiModel(labels, "corrected", {"head": head})
            model.fit(np.concatenate([feats[ids[k]] for k in tr]),
                      np.concatenate([[y[k]] * len(feats[ids[k]]) for k in tr]),
                      None, None, TrainConfig())
            for k in te:
                probs[k] = model.predict_proba(feats[ids[k]]).mean(0)
        return probs

    heads = tuple(heads or HEADS)
    if "lda" in heads and "logreg" in heads:
        heads += ("logreg+lda",)
    for head in heads:
        t0 = time.time()
        probs = found[head] = held_out(head)
        line = [f"{head:12s}"]
        for v in ("GTZAN", "realworld"):
            m = view == v
            pred, true = probs[m].argmax(1), y[m]
            line.append(f"{v} acc {(pred == true).mean():.3f} "
                        f"bal {balanced_accuracy_score(true, pred):.3f} "
                        f"F1 {f1_score(true, pred, labels=np.unique(true), average='macro'):.3f}")
        print("  ".join(line) + f"  {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
