"""Which classifier on the musicnn4 patch features generalises best to new artists?

Issue #9: the shipped musicnn4 head is a balanced, strongly regularised logistic regression
per 3-s patch (track = mean of its patches). This study refits other heads on the same
features with the same training data (each training clip plus its two "own recording"
copies) over 10 folds grouped by artist (GroupKFold, 204 clips) and scores the held-out
artists' clips as they are and as degraded copies. studies/realistic_study.py makes and caches
all of these features: run it first. Results: studies/RESULTS.md.
Usage: python -m studies.musicnn_head_study [--cache DIR] [name filter ...]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from studies.realistic_study import study_tracks

TRAIN_VIEWS = ("orig", "aug0", "aug1")


def candidates() -> dict:
    """name -> (column blocks, estimator factory, track aggregation)."""
    from sklearn.decomposition import PCA
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def lr(C):
        return lambda: make_pipeline(StandardScaler(), LogisticRegression(
            C=C, max_iter=5000, class_weight="balanced"))

    both, emb = ("taggram", "embedding"), ("embedding",)
    return {
        "lr C=.001 (ships)": (both, lr(0.001), "mean"),
        "lr C=.001 geometric": (both, lr(0.001), "geometric"),
        "lr C=.0003": (both, lr(0.0003), "mean"),
        "lr C=.003": (both, lr(0.003), "mean"),
        "lr embeddings only": (emb, lr(0.001), "mean"),
        "lda shrinkage": (both, lambda: make_pipeline(StandardScaler(), LinearDiscriminantAnalysis(
            solver="lsqr", shrinkage="auto", priors=np.full(10, 0.1))), "mean"),
        "pca256 whitened + lr": (both, lambda: make_pipeline(
            StandardScaler(), PCA(256, whiten=True, random_state=0),
            LogisticRegression(C=0.01, max_iter=5000, class_weight="balanced")), "mean"),
        "mlp 256, alpha 1": (both, lambda: make_pipeline(StandardScaler(), MLPClassifier(
            (256,), alpha=1.0, max_iter=60, random_state=0)), "mean"),
    }


def main() -> None:
    from sklearn.metrics import f1_score
    from sklearn.model_selection import GroupKFold

    from genre_core.features.musicnn.zoo import select_columns
    from genre_core.inference.dataset import load_artist_index
    from genre_core.training.splits import artist_groups

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default="/tmp/realistic_cache")
    ap.add_argument("only", nargs="*", help="run the candidates whose name holds one of these")
    args = ap.parse_args()
    cache = Path(args.cache)
    tracks = study_tracks()
    genres = sorted({t.genre for t in tracks})
    groups = artist_groups(tracks, load_artist_index())
    feats = {(t.id, k): np.load(cache / f"{t.id}.{k}.npy")
             for t in tracks for k in (*TRAIN_VIEWS, "test")}
    y_track = np.array([genres.index(t.genre) for t in tracks])
    g = np.array([groups[t.id] for t in tracks])
    folds = list(GroupKFold(10).split(tracks, y_track, g))
    for name, (blocks, make, aggregate) in candidates().items():
        if args.only and not any(o in name for o in args.only):
            continue
        cols = select_columns(("MSD", "MTT"), ("musicnn", "vgg"), blocks)
        pred = {"orig": np.zeros(len(tracks), int), "test": np.zeros(len(tracks), int)}
        t0 = time.time()
        for train, test in folds:
            X = np.concatenate([feats[(tracks[i].id, k)][:, cols]
                                for i in train for k in TRAIN_VIEWS])
            y = np.concatenate([np.full(len(feats[(tracks[i].id, k)]), y_track[i])
                                for i in train for k in TRAIN_VIEWS])
            model = make().fit(X, y)
            for view in pred:
                for i in test:
                    p = model.predict_proba(feats[(tracks[i].id, view)][:, cols])
                    score = np.log(p + 1e-6).mean(0) if aggregate == "geometric" else p.mean(0)
                    pred[view][i] = model.classes_[int(np.argmax(score))]
        r = {v: (np.mean(pred[v] == y_track), f1_score(y_track, pred[v], average="macro"))
             for v in pred}
        print(f"{name:22s} clean {r['orig'][0]:.3f}/{r['orig'][1]:.3f}  degraded "
              f"{r['test'][0]:.3f}/{r['test'][1]:.3f}  {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
