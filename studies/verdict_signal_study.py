"""Which confidence signal ranks musicnn4's held-out answers best, on both views, and does
spreading a track's patches over the clip beat the same number taken from its middle?

Issue #23 asks for named verdicts right 9 times in 10 while naming one genre for 7 clips in
10. The verdict names a genre when the (temperature-scaled) top probability is high enough,
so what matters is how well that probability ranks right answers above wrong ones. This
study compares it with other signals a verdict could use: the margin between the top two
genres, the entropy, the share of 3-s patches voting for the top genre, the lowest and the
median patch probability of the top genre, and whether heads fitted on each musicnn network
alone agree with it (or their mean probability for it). For each view: AUROC of the signal
for "the answer is right", selective accuracy when the most confident 70 % and 50 % are
named, and the largest coverage whose selective accuracy is still 90 %.

It also asks, for "several excerpts pooled" (the issue's candidate, not measurable on 30-s
clips as such): does a track pooled from n patches spread over its 30 s beat n contiguous
patches from its middle, and how right is each patch position alone?

Held-out probabilities come from the shipped head's arithmetic (StandardScaler + shrunk LDA,
patch logits / PATCH_TEMPERATURE, a track = the mean of its patches), as in
studies/musicnn_pooling_study.py, by leave-one-artist-out over the 173 artists of both views
(`--folds 10`: 10 artist folds, faster).

Run: python -m studies.verdict_signal_study [--gtzan ROOT] [--real ROOT] [--folds K]
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from scipy.special import softmax

VIEWS = ("GTZAN", "realworld")


def held_out_patches(d, folds: int | None) -> tuple[dict, dict]:
    """{track index: (n_patches, n_genres) held-out patch probabilities} of the shipped head
    and, per track, the list of the four per-network heads' patch probabilities."""
    from sklearn.model_selection import GroupKFold
    from sklearn.preprocessing import StandardScaler

    from genre_core.models.musicnn_multi import PATCH_TEMPERATURE
    from studies.musicnn_pooling_study import _lda

    def fit_predict(X, Y, tests):
        scaler = StandardScaler().fit(X)
        head = _lda(len(d.labels)).fit(scaler.transform(X), Y)
        return [softmax(head.decision_function(scaler.transform(t)) / PATCH_TEMPERATURE, axis=1)
                for t in tests]

    patch: dict = {}
    per_net: dict = {}
    for tr, te in GroupKFold(folds or len(set(d.g))).split(d.F, d.y, d.g):
        X = np.concatenate([d.F[k] for k in tr])
        Y = np.concatenate([[d.y[k]] * len(d.F[k]) for k in tr])
        patch.update(zip(te, fit_predict(X, Y, [d.F[k] for k in te])))
        for cols in d.per_net:
            for k, p in zip(te, fit_predict(X[:, cols], Y, [d.F[k][:, cols] for k in te])):
                per_net.setdefault(k, []).append(p)
    return patch, per_net


def signals(patches: np.ndarray, nets: list[np.ndarray]) -> dict[str, float]:
    """Every candidate confidence of one track's answer (higher = surer)."""
    track = patches.mean(0)
    top = int(track.argmax())
    ranked = np.sort(track)
    net_tracks = [n.mean(0) for n in nets]
    return {"top probability (ships)": float(track.max()),
            "margin top-2": float(ranked[-1] - ranked[-2]),
            "minus entropy": float((track * np.log(track + 1e-12)).sum()),
            "patch votes": float((patches.argmax(1) == top).mean()),
            "lowest patch": float(patches[:, top].min()),
            "median patch": float(np.median(patches[:, top])),
            "networks agreeing": float(np.mean([n.argmax() == top for n in net_tracks])),
            "networks' mean": float(np.mean([n[top] for n in net_tracks]))}


def ranking_line(name: str, s: np.ndarray, right: np.ndarray) -> str:
    from sklearn.metrics import roc_auc_score

    order = np.argsort(-s, kind="stable")
    hits = right[order]
    running = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    at90 = (np.nonzero(running >= 0.9)[0].max() + 1) / len(hits) if (running >= 0.9).any() else 0
    n70, n50 = round(0.7 * len(hits)), round(0.5 * len(hits))
    return (f"  {name:24s} AUROC {roc_auc_score(right, s):.3f}  right when 70 % named "
            f"{hits[:n70].mean():.3f}, 50 % named {hits[:n50].mean():.3f}  "
            f"most named at 90 % right {at90:.2f}")


def main() -> None:
    from sklearn.metrics import balanced_accuracy_score

    from studies.musicnn_pooling_study import Data

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gtzan", default="../shared/gtzan")
    ap.add_argument("--real", default="../shared/realworld")
    ap.add_argument("--folds", type=int, default=None,
                    help="artist folds (default: leave-one-artist-out)")
    args = ap.parse_args()
    warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
    start = time.perf_counter()
    d = Data(args.gtzan, args.real, None, None)
    patch, per_net = held_out_patches(d, args.folds)
    n = len(d.y)
    pred = np.array([patch[k].mean(0).argmax() for k in range(n)])
    right = pred == d.y
    table = [signals(patch[k], per_net[k]) for k in range(n)]
    split = f"{args.folds} artist folds" if args.folds else "leave-one-artist-out"
    print(f"{n} tracks, {len(set(d.g))} artists; {split}")
    for v in VIEWS:
        m = np.nonzero(d.view == v)[0]
        print(f"{v}: {len(m)} tracks, right {right[m].mean():.3f}")
        for name in table[0]:
            print(ranking_line(name, np.array([table[k][name] for k in m]), right[m]))

    def pooled(pick) -> str:
        p = np.array([patch[k][pick(len(patch[k]))].mean(0).argmax() for k in range(n)])
        return "  ".join(f"{v} {(p == d.y)[d.view == v].mean():.3f} / "
                         f"{balanced_accuracy_score(d.y[d.view == v], p[d.view == v]):.3f}"
                         for v in VIEWS)
    print("a track pooled from n patches: contiguous from the middle | spread over the clip")
    for k in (2, 3, 5):
        def middle(length, k=k):
            return np.arange(length // 2 - k // 2, length // 2 - k // 2 + k)

        def spread(length, k=k):
            return np.unique(np.round(np.linspace(0, length - 1, k)).astype(int))
        print(f"  n={k}: {pooled(middle)} | {pooled(spread)}")
    print(f"  all patches: {pooled(np.arange)}")
    print("each patch position alone, right (3-s patches from the start of the clip):")
    for v in VIEWS:
        ks = [k for k in range(n) if d.view[k] == v]
        print(f"  {v:9s} " + " ".join(
            f"{np.mean([patch[k][i].argmax() == d.y[k] for k in ks if len(patch[k]) > i]):.2f}"
            for i in range(10)))
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
