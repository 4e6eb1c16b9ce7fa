"""Does the table model help or hurt the ensemble on recordings unlike GTZAN's?

Issue #9: the ensemble pools musicnn4 (weight about .87) and the table ("features") model
(.13), weights fitted on out-of-fold predictions of GTZAN's own clips; the table model's
out-of-fold figures come from the Kaggle CSV rows. At prediction time, though, the table
model sees the 57 features *this project* extracts from the user's audio
(inference.kaggle_features), of a recording that may be an MP3 pushed into a limiter. This
study measures, over 10 folds grouped by artist on the 204 clips (GroupKFold):

  * musicnn4 as shipped (each training clip plus its two "own recording" copies),
  * the table model as shipped (lda_vote, power transform), fitted on the CSV rows of the
    training artists only, scoring features extracted from each held-out clip's audio,
  * the two pooled with the shipped ensemble's weights and temperature, and with weights
    refitted on the training folds' clean / clean + degraded out-of-fold predictions,
  * musicnn4 alone with a temperature fitted on the training folds (the ensemble without
    the table model),

each on the held-out clips as they are and degraded (studies/realistic_study.py's test chain).
Needs studies/musicnn_midlevel_study.py's feature cache (musicnn4 of every copy; or
studies/musicnn_level_study.py's, --cache /tmp/level_cache, for musicnn at -20 dBFS); Kaggle
features are cached in --kaggle-cache.
Usage: python -m studies.ensemble_degraded_study [--cache DIR]   Results: studies/RESULTS.md.
"""
from __future__ import annotations

import json
import time
import zlib
from pathlib import Path

import numpy as np

from studies.realistic_study import SHARED, SR, cached, degrade_for_test, study_parser, study_tracks

ROOT = Path(__file__).resolve().parents[1]
N_MUSICNN4 = 1112
TRAIN_VIEWS = ("orig", "aug0", "aug1")
PREVIOUS_WEIGHTS = (0.134, 0.866)       # features, musicnn4: the ensemble shipped before 0d8ea92
PREVIOUS_TEMPERATURE = 0.773
VIEWS = ("orig", "test")


def kaggle_of(track, cache: Path) -> dict[str, np.ndarray]:
    from genre_core.features.kaggle import extract_kaggle_features
    from genre_core.inference.audio import load_audio

    y = None
    out = {}
    for view in VIEWS:
        def make(view=view):
            nonlocal y
            if y is None:
                y = load_audio(track.source).samples
            z = y if view == "orig" else degrade_for_test(y, zlib.crc32(track.id.encode()))
            return extract_kaggle_features(z, SR).astype(np.float32)
        out[view] = cached(cache, f"{track.id}.{view}", make)
    return out


def main() -> None:
    from joblib import Parallel, delayed
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import GroupKFold
    from sklearn.preprocessing import StandardScaler

    from genre_core.config import TrainConfig
    from genre_core.features.kaggle import read_feature_table
    from genre_core.inference.dataset import load_artist_index
    from genre_core.inference.ensemble import Ensemble, expected_calibration_error, pool
    from genre_core.models.table import TableModel
    from genre_core.training.splits import artist_groups

    ap = study_parser(__doc__.splitlines()[0], folds=10, cache="/tmp/midlevel_cache")
    ap.add_argument("--kaggle-cache", default="/tmp/kaggle_cache")
    ap.add_argument("--csv", default=str(SHARED / "Data" / "features_30_sec.csv"))
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    cache, kcache = Path(args.cache), Path(args.kaggle_cache)
    kcache.mkdir(parents=True, exist_ok=True)
    bundle = ROOT / "assets" / "models" / "default"
    meta = json.loads((bundle / "bundle.json").read_text())
    shipped = json.loads((bundle / "ensemble.json").read_text())
    labels = meta["labels"]
    table_params = {k: meta["models"]["features"]["params"][k]
                    for k in ("refit", "candidate_names", "preprocess")}

    tracks = study_tracks(args.data)
    artists = load_artist_index()
    groups = artist_groups(tracks, artists)
    y = np.array([labels.index(t.genre) for t in tracks])
    g = np.array([groups[t.id] for t in tracks])
    t0 = time.time()
    kag = Parallel(n_jobs=args.jobs)(delayed(kaggle_of)(t, kcache) for t in tracks)
    print(f"Kaggle features of {len(tracks)} clips x 2 views: {time.time() - t0:.0f} s", flush=True)
    m4 = {(t.id, v): np.load(cache / f"{t.id}.{v}.npy")[:, :N_MUSICNN4]
          for t in tracks for v in TRAIN_VIEWS + ("test",)}

    table = read_feature_table(args.csv)
    row_ids = [Path(f).stem for f in table.filenames]
    row_y = np.array([labels.index(lab) for lab in table.labels])
    row_group = np.array([artists.get(i) or f"(unknown {lab} artist)"
                          for i, lab in zip(row_ids, table.labels)])

    probs = {(m, v): np.zeros((len(tracks), len(labels))) for m in ("musicnn4", "features")
             for v in VIEWS}
    fold_of = np.zeros(len(tracks), int)
    for k, (tr, te) in enumerate(GroupKFold(args.folds).split(tracks, y, g)):
        fold_of[te] = k
        X = np.concatenate([m4[(tracks[i].id, v)] for i in tr for v in TRAIN_VIEWS])
        yy = np.concatenate([np.full(len(m4[(tracks[i].id, v)]), y[i])
                             for i in tr for v in TRAIN_VIEWS])
        scaler = StandardScaler().fit(X)
        lr = LogisticRegression(C=0.001, max_iter=5000, class_weight="balanced")
        lr.fit(scaler.transform(X), yy)
        held_artists = set(g[te])
        keep = np.array([a not in held_artists for a in row_group])
        tm = TableModel(labels, "corrected", dict(table_params))
        tm.fit(table.X[keep], row_y[keep], None, None, TrainConfig(seed=0))
        for v in VIEWS:
            for i in te:
                p = np.zeros(len(labels))
                p[lr.classes_] = lr.predict_proba(scaler.transform(m4[(tracks[i].id, v)])).mean(0)
                probs[("musicnn4", v)][i] = p
                probs[("features", v)][i] = tm.predict_proba(kag[i][v][None, :])[0]
        print(f"fold {k + 1}/{args.folds}: {int(keep.sum())} table rows  "
              f"{time.time() - t0:.0f} s", flush=True)

    def score(name: str, by_view: dict[str, np.ndarray]) -> None:
        cells = []
        for v in VIEWS:
            pred = by_view[v].argmax(1)
            cells.append(f"{np.mean(pred == y):.3f}/{f1_score(y, pred, average='macro'):.3f}"
                         f" ECE {expected_calibration_error(by_view[v], y):.3f}")
        print(f"{name:52s} clean {cells[0]}  degraded {cells[1]}", flush=True)

    score("musicnn4 (ships)", {v: probs[("musicnn4", v)] for v in VIEWS})
    score("table model on extracted features", {v: probs[("features", v)] for v in VIEWS})
    members = ("features", "musicnn4")
    if "features" in shipped["members"]:
        w = np.array([shipped["weights"][shipped["members"].index(m)] for m in members])
        t, which = shipped["temperature"], "shipped"
    else:                         # the ensemble shipped with the table model until 0d8ea92
        w, t, which = np.array(PREVIOUS_WEIGHTS), PREVIOUS_TEMPERATURE, "earlier shipped"
    score(f"pooled, {which} weights {w.round(2).tolist()}",
          {v: pool([probs[(m, v)] for m in members], w / w.sum(), t) for v in VIEWS})
    # weights refitted on the other folds' out-of-fold predictions (nested): clean only, as
    # shipped, or clean + degraded stacked (what a robust stack would learn from)
    for name, members, train_views in (
            ("refitted on clean", ("features", "musicnn4"), ("orig",)),
            ("refitted on clean + degraded", ("features", "musicnn4"), VIEWS),
            ("musicnn4 alone, temperature on clean", ("musicnn4",), ("orig",))):
        out = {v: np.zeros((len(tracks), len(labels))) for v in VIEWS}
        ws = []
        for k in range(args.folds):
            tr, te = np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k)
            oof = {m: np.concatenate([probs[(m, v)][tr] for v in train_views]) for m in members}
            ens = Ensemble.fit(labels, oof, np.concatenate([y[tr]] * len(train_views)))
            ws.append(list(ens.weights) + [ens.temperature])
            for v in VIEWS:
                out[v][te] = ens.predict_proba({m: probs[(m, v)][te] for m in members})
        score(f"pooled, {name} (w, T {np.mean(ws, 0).round(2).tolist()})", out)
    print(f"{len(tracks)} clips, {len(set(g))} artist groups, GroupKFold({args.folds}) by "
          f"artist; table rows of held-out artists left out of each fold")


if __name__ == "__main__":
    main()
