"""Do "own recording" copies help the seed's MFCC models (MLP, CNN, LSTM) on new artists?

Issue #9, step 3, for the MFCC models (studies/realistic_study.py does it for musicnn4): the
seed's architectures, fitted by genre_core.training.fitting.fit_model with the shipped
training configuration, on artist-grouped folds over all clips, trained

  * on the original clips only (what shipped before), or
  * on the original clips plus two copies of every *training* clip made by
    genre_core.training.recording_copies (MP3 32-128 kbit/s, low-pass 4-8 kHz, 7-band EQ,
    a limiter after up to +12 dB, a level change): the chain musicnn4 trains with,

and scored on the held-out artists' clips as they are and as a copy degraded by a different
chain (studies/realistic_study.degrade_for_test: Ogg Vorbis, hard clipping, tilt EQ, low-pass).
MFCCs are cached in --cache by track id and copy, so a rerun only refits.
Usage: python -m studies.realistic_study_mfcc [--families cnn,mlp] [--folds 5]
"""
from __future__ import annotations

import time
import zlib
from pathlib import Path

import numpy as np

from studies.realistic_study import SR, cached, degrade_for_test, study_parser, study_tracks


def main() -> None:
    from sklearn.metrics import f1_score

    from genre_core.config import FeatureConfig, TrainConfig
    from genre_core.features import mfcc_segments
    from genre_core.inference.audio import load_audio
    from genre_core.inference.dataset import load_artist_index
    from genre_core.training.fitting import fit_model, predict_tracks
    from genre_core.training.recording_copies import CopyAugmenter, recording_copies
    from genre_core.training.splits import artist_split

    ap = study_parser(__doc__.splitlines()[0], folds=5, cache="/tmp/realistic_cache_mfcc")
    ap.add_argument("--families", default="cnn,mlp")
    args = ap.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    config = FeatureConfig()

    tracks = study_tracks(args.data)
    labels = sorted({t.genre for t in tracks})
    genre_of = {t.id: t.genre for t in tracks}
    t0 = time.time()
    orig, test, copies = {}, {}, {}
    for i, t in enumerate(tracks):
        y = load_audio(t.source).samples
        seed = zlib.crc32(t.id.encode())
        orig[t.id] = cached(cache, f"{t.id}.orig", lambda: mfcc_segments(y, config))  # noqa: B023
        test[t.id] = cached(cache, f"{t.id}.test",
                            lambda: mfcc_segments(degrade_for_test(y, seed), config))  # noqa: B023
        copies[t.id] = cached(cache, f"{t.id}.rec", lambda: np.concatenate(  # noqa: B023
            [mfcc_segments(z, config) for z in recording_copies(y, SR, seed)]))  # noqa: B023
        if i % 40 == 0:
            print(f"features {i + 1}/{len(tracks)}  {time.time() - t0:.0f} s", flush=True)

    split = artist_split(tracks, load_artist_index(), n_folds=args.folds)
    train_config = TrainConfig()
    for family in args.families.split(","):
        for name, augment in (("original only", None),
                              ("original + 2 recording copies", CopyAugmenter(copies))):
            tf = time.time()
            pred: dict[str, dict[str, int]] = {"orig": {}, "test": {}}
            for fold in split.folds:
                model, _, _ = fit_model(family, "corrected", fold.train, fold.valid, orig,
                                        genre_of, labels, train_config, augment=augment)
                for view, feats in (("orig", orig), ("test", test)):
                    for tid, p in predict_tracks(model, fold.test, feats).items():
                        pred[view][tid] = int(np.argmax(p.mean(0)))
            for view in ("orig", "test"):
                ids = sorted(pred[view])
                truth = [labels.index(genre_of[i]) for i in ids]
                guess = [pred[view][i] for i in ids]
                acc = float(np.mean(np.equal(truth, guess)))
                f1 = float(f1_score(truth, guess, average="macro"))
                print(f"{family:5s} {name:30s} test={'GTZAN clip' if view == 'orig' else 'degraded copy':14s}"
                      f" track acc {acc:.3f}  macro F1 {f1:.3f}  ({len(ids)} tracks)", flush=True)
            print(f"  ({time.time() - tf:.0f} s for {len(split.folds)} folds)", flush=True)
    print(split.description)


if __name__ == "__main__":
    main()
