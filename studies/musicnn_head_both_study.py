"""Which head over the musicnn4 patches generalises to new artists in both domains?

Issue #23: every choice on two views. Leave-one-artist-out over GTZAN (204 clips) and the real
recordings (104) together, one group per artist across both (173 artists); the candidates are
the shipped model class (genre_core.models.musicnn_multi) with each `head`:
- logreg: the standardised patches, logistic regression, C .001, genres balanced (shipped
  until 2026-12-07);
- lda: linear discriminant analysis, Ledoit-Wolf shrinkage, equal genre priors;
- logreg+lda: the mean of both heads' track probabilities (printed when both ran);
- temperatures: the LDA head's held-out patch probabilities with the patch logits divided by
  1 ... 8 (p ** (1 / T), renormalised: the same as softmax(logits / T)): patch and track
  accuracy and ECE per view, the figures PATCH_TEMPERATURE was chosen from.
A track is the mean of its patches; scored per view (track / balanced accuracy, macro F1
over the genres the view has, as the report counts them).

Run: python -m studies.musicnn_head_both_study [GTZAN_ROOT] [REAL_ROOT] [HEAD | temperatures ...]
(features from the cache, as the shipped bundle hears them)
"""
from __future__ import annotations

import sys
import time

import numpy as np

from genre_core.config import TrainConfig
from genre_core.inference.ensemble import expected_calibration_error
from genre_core.models.musicnn_multi import HEADS, MusicnnMultiModel
from studies.both_views import load_both_views


def main(gtzan: str = "../shared/gtzan", real: str = "../shared/realworld",
         *heads: str) -> None:
    from sklearn.metrics import balanced_accuracy_score, f1_score

    d = load_both_views(gtzan, real)
    feats, labels, ids, y, view, g = d.feats, d.labels, d.ids, d.y, d.view, d.g
    print(f"{len(ids)} tracks, {len(set(g))} artists; leave-one-artist-out", flush=True)
    found: dict[str, np.ndarray] = {}

    def held_out_patches(head: str) -> list[np.ndarray]:
        """Held-out patch probabilities at patch temperature 1 (the heads are compared as
        fitted; the temperatures mode softens these)."""
        patches: list[np.ndarray] = [np.zeros(0)] * len(ids)
        for artist in sorted(set(g)):
            tr, te = np.flatnonzero(g != artist), np.flatnonzero(g == artist)
            model = MusicnnMultiModel(labels, "corrected", {"head": head, "temperature": 1.0})
            model.fit(np.concatenate([feats[ids[k]] for k in tr]),
                      np.concatenate([[y[k]] * len(feats[ids[k]]) for k in tr]),
                      None, None, TrainConfig())
            for k in te:
                patches[k] = model.predict_proba(feats[ids[k]]).astype(np.float64)
        return patches

    def held_out(head: str) -> np.ndarray:
        if head == "logreg+lda":
            return (found["logreg"] + found["lda"]) / 2
        return np.array([p.mean(0) for p in held_out_patches(head)])

    if "temperatures" in heads:
        t0 = time.time()
        patches = held_out_patches("lda")
        for t in (1, 1.5, 2, 3, 4, 6, 8):
            soft = [p ** (1 / t) / (p ** (1 / t)).sum(1, keepdims=True) for p in patches]
            line = [f"lda, patch logits / {t:<4}"]
            for v in ("GTZAN", "realworld"):
                ks = np.flatnonzero(view == v)
                seg = np.concatenate([soft[k] for k in ks])
                seg_y = np.concatenate([[y[k]] * len(soft[k]) for k in ks])
                trk = np.array([soft[k].mean(0) for k in ks])
                line.append(f"{v} patch acc {(seg.argmax(1) == seg_y).mean():.3f} "
                            f"ECE {expected_calibration_error(seg, seg_y):.3f} track acc "
                            f"{(trk.argmax(1) == y[ks]).mean():.3f} "
                            f"ECE {expected_calibration_error(trk, y[ks]):.3f}")
            print("  ".join(line), flush=True)
        print(f"({time.time() - t0:.0f} s)", flush=True)
        return

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
