"""Does training on "real-recording" copies help the musicnn4 transfer model on new artists?

Issue #9, step 3: user recordings differ from GTZAN's clips (MP3/OGG at low bit rates, 16-kHz
sources, loud modern masters, other EQ). This study measures, by cross-validation grouped by
artist over all clips, the musicnn4 model (the shipped one: per-patch logistic regression over
the four networks' taggrams and embeddings, genres weighed by inverse frequency) trained

  * on the original clips only (what ships), or
  * on the original clips plus --copies augmented copies of each *training* clip, made by
    genre_core.training.recording_copies, the chain the shipped musicnn4 trains with
    (audiomentations: MP3 re-encoding at 32-128 kbit/s, low-pass 4-8 kHz, 7-band EQ +-6 dB,
    a limiter after up to +12 dB of gain, a level change),

and scores each on the held-out artists' clips twice: as they are, and as a degraded
"recording" made by a *different* chain (Ogg Vorbis through libsndfile, hard clipping after
+6 to +12 dB of gain, a low-pass at 5-7 kHz, a tilt EQ), so the test degradation is not the
training augmentation itself. Test clips are never augmented for training.

Features are cached in --cache (default /tmp/realistic_cache) keyed by track id and copy, so
a rerun only refits. Usage: python -m studies.realistic_study [--folds 10] [--copies 2]
"""
from __future__ import annotations

import argparse
import io
import os
import time
import zlib
from pathlib import Path

import numpy as np

SR = 22050
SHARED = Path(__file__).resolve().parents[2] / "shared" / "gtzan"


def study_parser(description: str, folds: int, cache: str) -> argparse.ArgumentParser:
    """The options every realistic-recording study takes: dataset roots, folds, cache."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--data", action="append", default=None,
                    help="dataset roots (default: shared Data + extra)")
    ap.add_argument("--folds", type=int, default=folds)
    ap.add_argument("--cache", default=cache)
    return ap


def study_tracks(roots: list[str] | None = None) -> list:
    """The clips of `roots` (default: the 100 shared WAVs and the 104 extra FLACs), by id."""
    from genre_core.inference.dataset import index_dataset

    ds = index_dataset(roots or [str(SHARED), str(SHARED / "extra")])
    return sorted(ds.tracks, key=lambda t: t.id)


def degrade_for_test(y: np.ndarray, seed: int) -> np.ndarray:
    """A recording unlike GTZAN's and unlike the training chain: tilt EQ, low-pass,
    loudness pushed into hard clipping, then Ogg Vorbis at low quality (libsndfile)."""
    import soundfile as sf
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(seed)
    z = y.astype(np.float64)
    tilt = rng.uniform(-4, 4)                                   # dB of treble vs bass
    sos_hp = butter(1, 1500, "highpass", fs=SR, output="sos")
    z = z + (10 ** (tilt / 20) - 1) * sosfilt(sos_hp, z)
    sos_lp = butter(6, rng.uniform(5000, 7000), "lowpass", fs=SR, output="sos")
    z = sosfilt(sos_lp, z)
    z = z / (np.max(np.abs(z)) + 1e-9) * 10 ** (rng.uniform(6, 12) / 20)
    z = np.clip(z, -1.0, 1.0) * 0.95
    buf = io.BytesIO()
    sf.write(buf, z.astype(np.float32), SR, format="OGG", subtype="VORBIS",
             compression_level=float(rng.uniform(0.6, 0.9)))   # low quality
    buf.seek(0)
    out, _ = sf.read(buf, dtype="float32")
    return out[: len(y)]


def musicnn4(y: np.ndarray) -> np.ndarray:
    from genre_core.features.musicnn.zoo import extract_all

    return extract_all(y, SR)


def cached(cache: Path, key: str, make) -> np.ndarray:
    path = cache / f"{key}.npy"
    if path.exists():
        return np.load(path)
    x = make()
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, x)
    os.replace(tmp, path)
    return x


def held_out_predictions(tracks, y: np.ndarray, groups: np.ndarray, feats: dict,
                         folds: int, train_views, views=("orig", "test"),
                         C: float = 0.001) -> dict[str, np.ndarray]:
    """{view: predicted class of every clip} from the shipped musicnn4 head (standardised,
    balanced logistic regression per patch; a track = mean of its patches) fitted, in each
    GroupKFold(folds) fold by artist, on the training clips' `train_views` and applied to the
    held-out clips' `views`. feats: (track id, view) -> (n_patches, n_columns)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from sklearn.preprocessing import StandardScaler

    pred = {v: np.zeros(len(tracks), int) for v in views}
    for train_idx, test_idx in GroupKFold(folds).split(tracks, y, groups):
        X = np.concatenate([feats[(tracks[i].id, k)] for i in train_idx for k in train_views])
        yy = np.concatenate([np.full(len(feats[(tracks[i].id, k)]), y[i])
                             for i in train_idx for k in train_views])
        scaler = StandardScaler().fit(X)
        lr = LogisticRegression(C=C, max_iter=5000, class_weight="balanced")
        lr.fit(scaler.transform(X), yy)
        for view in views:
            for i in test_idx:
                p = lr.predict_proba(scaler.transform(feats[(tracks[i].id, view)])).mean(0)
                pred[view][i] = lr.classes_[int(np.argmax(p))]
    return pred


def main() -> None:
    from sklearn.metrics import f1_score

    from genre_core.inference.audio import load_audio
    from genre_core.inference.dataset import load_artist_index
    from genre_core.training.recording_copies import recording_copies
    from genre_core.training.splits import artist_groups

    ap = study_parser(__doc__.splitlines()[0], folds=10, cache="/tmp/realistic_cache")
    ap.add_argument("--copies", type=int, default=2)
    args = ap.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)

    tracks = study_tracks(args.data)
    genres = sorted({t.genre for t in tracks})
    groups = artist_groups(tracks, load_artist_index())
    t0 = time.time()
    feats: dict[tuple[str, str], np.ndarray] = {}
    for i, t in enumerate(tracks):
        clip = load_audio(t.source)
        y = clip.samples
        seed = zlib.crc32(t.id.encode())
        # cached() calls the lambda at once, so the loop variables are bound at that moment
        feats[(t.id, "orig")] = cached(cache, f"{t.id}.orig", lambda: musicnn4(y))  # noqa: B023
        feats[(t.id, "test")] = cached(cache, f"{t.id}.test",
                                       lambda: musicnn4(degrade_for_test(y, seed)))  # noqa: B023
        # the chain the shipped musicnn4 trains with (genre_core.training.recording_copies)
        for c, z in enumerate(recording_copies(y, SR, seed, args.copies)):
            feats[(t.id, f"aug{c}")] = cached(cache, f"{t.id}.aug{c}", lambda z=z: musicnn4(z))
        if i % 20 == 0:
            print(f"features {i + 1}/{len(tracks)}  {time.time() - t0:.0f} s", flush=True)

    y_track = np.array([genres.index(t.genre) for t in tracks])
    g = np.array([groups[t.id] for t in tracks])
    conditions = {"original only": ["orig"],
                  f"original + {args.copies} augmented": ["orig"] + [f"aug{c}" for c in range(args.copies)]}
    results = {}
    for name, kinds in conditions.items():
        tf = time.time()
        pred = held_out_predictions(tracks, y_track, g, feats, args.folds, kinds)
        for view in ("orig", "test"):
            acc = float(np.mean(pred[view] == y_track))
            f1 = float(f1_score(y_track, pred[view], average="macro"))
            results[(name, view)] = (acc, f1)
            print(f"{name:28s} test={'GTZAN clip' if view == 'orig' else 'degraded copy':14s} "
                  f"track acc {acc:.3f}  macro F1 {f1:.3f}", flush=True)
        print(f"  ({time.time() - tf:.0f} s for {args.folds} folds)")
    print(f"{len(tracks)} clips, {len(set(g))} artist groups, GroupKFold({args.folds}) by artist")


if __name__ == "__main__":
    main()
