"""Does musicnn4 generalise better from its tag logits alone than from all 1112 columns?

Issue #9: the shipped musicnn4 head is a balanced logistic regression (C 0.001) per 3-s patch
over the four networks' taggrams (sigmoid outputs, 4 x 50) and penultimate embeddings
(2 x 200 + 2 x 256). The taggrams are squashed near 0 and 1, where a linear head sees little;
their logits log(p / (1 - p)) are what the networks' last layers compute. This study fits the
same head on the 200 tag logits alone, and an even mix of both heads' probabilities, with the
shipped training data (each clip plus its two own-recording copies, `train --augment`) and
scores held-out artists' clips as they are and degraded by a chain no model trains on
(studies/realistic_study.degrade_for_test), by leave-one-artist-out and by 10 artist folds.

Features are those the shipped bundle hears (its FeatureConfig: every clip at -20 dBFS RMS),
read through Genre Studio's feature cache; the degraded copies are cached in --cache.
Usage: python -m studies.musicnn_logit_study   Results: studies/RESULTS.md.
"""
from __future__ import annotations

import json
import time
import zlib
from pathlib import Path

import numpy as np

from studies.realistic_study import cached, degrade_for_test, study_parser, study_tracks

ROOT = Path(__file__).resolve().parents[1]


def tag_logits(taggram: np.ndarray) -> np.ndarray:
    p = np.clip(taggram, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def held_out_probabilities(views: dict, y: np.ndarray, groups: np.ndarray, splitter,
                           columns: np.ndarray, C: float, transform=None) -> dict:
    """{"clean"|"degraded": (n_tracks, n_genres)} out-of-fold track probabilities (mean of
    patches) of a balanced, standardised logistic regression per patch."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    def prep(units):
        x = units[:, columns]
        return transform(x) if transform else x

    n = len(y)
    out = {v: np.zeros((n, int(y.max()) + 1)) for v in ("clean", "degraded")}
    for train, test in splitter.split(np.zeros(n), y, groups):
        X = np.concatenate([prep(views[k][i]) for i in train for k in ("clean", "copies")])
        yy = np.concatenate([np.full(len(views[k][i]), y[i]) for i in train
                             for k in ("clean", "copies")])
        scaler = StandardScaler().fit(X)
        lr = LogisticRegression(C=C, max_iter=5000, class_weight="balanced")
        lr.fit(scaler.transform(X), yy)
        for view in out:
            for i in test:
                p = lr.predict_proba(scaler.transform(prep(views[view][i]))).mean(0)
                out[view][i, lr.classes_] = p
    return out


def main() -> None:
    from sklearn.metrics import f1_score
    from sklearn.model_selection import GroupKFold, LeaveOneGroupOut

    import genre_core.training.recording_copies  # noqa: F401  (registers "musicnn4_rec")
    from genre_core.config import FeatureConfig
    from genre_core.features import musicnn4_units
    from genre_core.features.musicnn.zoo import select_columns
    from genre_core.inference.audio import load_audio
    from genre_core.inference.dataset import extract_dataset, load_artist_index
    from genre_core.training.splits import artist_groups

    ap = study_parser(__doc__.splitlines()[0], folds=10, cache="/tmp/logit_study_cache")
    args = ap.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    bundle = json.loads((ROOT / "assets/models/default/bundle.json").read_text())
    config = FeatureConfig(**bundle["feature_config"])
    tracks = study_tracks(args.data)
    genres = sorted({t.genre for t in tracks})
    y = np.array([genres.index(t.genre) for t in tracks])
    by_artist = artist_groups(tracks, load_artist_index())
    groups = np.array([by_artist[t.id] for t in tracks])

    t0 = time.time()
    clean, _ = extract_dataset(tracks, "musicnn4", config)
    copies, _ = extract_dataset(tracks, "musicnn4_rec", config)
    degraded = [cached(cache, f"{t.id}.degraded", lambda t=t: musicnn4_units(
        degrade_for_test(load_audio(t.source).samples, zlib.crc32(t.id.encode())), config))
        for t in tracks]
    views = {"clean": [clean[t.id] for t in tracks], "copies": [copies[t.id] for t in tracks],
             "degraded": degraded}
    print(f"features of {len(tracks)} clips, {len(set(groups))} artists: "
          f"{time.time() - t0:.0f} s", flush=True)

    every = select_columns(("MSD", "MTT"), ("musicnn", "vgg"), ("taggram", "embedding"))
    tags = select_columns(("MSD", "MTT"), ("musicnn", "vgg"), ("taggram",))
    heads = {"ships: all 1112 columns, C .001": (every, 0.001, None),
             "tag logits (200), C .01": (tags, 0.01, tag_logits),
             "tag logits (200), C .1": (tags, 0.1, tag_logits)}
    for split_name, splitter in (("LOAO", LeaveOneGroupOut()),
                                 (f"{args.folds} artist folds", GroupKFold(args.folds))):
        probs = {}
        for name, (columns, C, transform) in heads.items():
            t1 = time.time()
            probs[name] = held_out_probabilities(views, y, groups, splitter, columns, C,
                                                 transform)
            report(f"{name} [{split_name}]", probs[name], y, time.time() - t1, f1_score)
        ships, logits = probs["ships: all 1112 columns, C .001"], probs["tag logits (200), C .01"]
        report(f"even mix of ships and tag logits C .01 [{split_name}]",
               {v: (ships[v] + logits[v]) / 2 for v in ships}, y, 0.0, f1_score)


def report(name: str, probs: dict, y: np.ndarray, seconds: float, f1_score) -> None:
    cells = []
    for view in ("clean", "degraded"):
        pred = probs[view].argmax(1)
        cells.append(f"{view} {np.mean(pred == y):.3f}/{f1_score(y, pred, average='macro'):.3f}")
    print(f"{name:58s} {'  '.join(cells)}  {seconds:.0f} s", flush=True)


if __name__ == "__main__":
    main()
