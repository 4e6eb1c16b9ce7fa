"""Does the seed's CNN generalise better from a log-mel spectrogram than from 13 MFCCs?

Issue #9, step 3 ("keep the seed's architectures, but their input ... must survive real
recordings"). The seed's CNN (genre_core.models.cnn, corrected variant, shipped training
configuration, fitted by genre_core.training.fitting.fit_model) is trained on artist-grouped
folds over all clips with each input below and scored on the held-out artists' clips as they
are and as a copy degraded by a chain no model trains on (studies/realistic_study.degrade_for_test):

  * mfcc: the 13 MFCCs of every 3-s segment (what ships);
  * mel<N>: an N-band log-mel spectrogram of every 3-s segment, in dB below the segment's own
    loudest bin (floor -80 dB), so the input does not move with the recording's level.

Features are cached in --cache by track id, so a rerun only refits.
Usage: python -m studies.cnn_input_study [--inputs mfcc,mel64] [--folds 5]
"""
from __future__ import annotations

import time
import zlib
from pathlib import Path

import numpy as np

from studies.realistic_study import cached, degrade_for_test, study_parser, study_tracks


def mel_segments(y: np.ndarray, config, n_mels: int) -> np.ndarray:
    """(n_segments, frames, n_mels) log-mel in dB below each segment's loudest bin."""
    import librosa

    from genre_core.features import segment

    mel = librosa.feature.melspectrogram(y=segment(y, config), sr=config.sample_rate,
                                         n_fft=config.n_fft, hop_length=config.hop_length,
                                         n_mels=n_mels)
    db = 10.0 * np.log10(np.maximum(mel, 1e-10))
    db = np.maximum(db - db.max(axis=(1, 2), keepdims=True), -80.0)
    return np.ascontiguousarray(np.transpose(db, (0, 2, 1)), dtype=np.float32)


def main() -> None:
    from sklearn.metrics import f1_score

    from genre_core.config import FeatureConfig, TrainConfig
    from genre_core.features import mfcc_segments
    from genre_core.features.librosa_kernels import librosa_ready
    from genre_core.inference.audio import load_audio
    from genre_core.inference.dataset import extract_dataset, load_artist_index
    from genre_core.training.fitting import fit_model, predict_tracks, teacher_probabilities
    from genre_core.training.recording_copies import CopyAugmenter, recording_copies
    from genre_core.training.splits import artist_split

    ap = study_parser(__doc__.splitlines()[0], folds=5, cache="/tmp/cnn_input_cache")
    ap.add_argument("--inputs", default="mfcc,mel64")
    ap.add_argument("--family", default="cnn")
    ap.add_argument("--copies", action="store_true",
                    help="also train on two 'own recording' copies of every training clip "
                         "(genre_core.training.recording_copies, as the shipped MLP)")
    ap.add_argument("--distill", action="store_true",
                    help="soft targets: half the label, half musicnn4's out-of-fold track "
                         "probabilities (nested artist folds inside each training fold)")
    args = ap.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    config = FeatureConfig()
    librosa_ready()

    def extractor(name):
        if name == "mfcc":
            return lambda y: mfcc_segments(y, config)
        return lambda y: mel_segments(y, config, int(name[3:]))

    tracks = study_tracks(args.data)
    labels = sorted({t.genre for t in tracks})
    genre_of = {t.id: t.genre for t in tracks}
    split = artist_split(tracks, load_artist_index(), n_folds=args.folds)
    train_config = TrainConfig()
    teacher = None
    if args.distill:
        artist_of = load_artist_index()
        groups = {t.id: artist_of.get(t.id) or t.id for t in tracks}
        teacher_feats, _ = extract_dataset(tracks, "musicnn4", config)

        def teacher(ids):
            return teacher_probabilities("musicnn4", ids, teacher_feats, genre_of, labels,
                                         groups, train_config)
    for name in args.inputs.split(","):
        make = extractor(name)
        t0 = time.time()
        clean, degraded, copies = {}, {}, {}
        for t in tracks:
            y = None

            def audio(t=t):
                nonlocal y
                if y is None:
                    y = load_audio(t.source).samples
                return y
            seed = zlib.crc32(t.id.encode())
            clean[t.id] = cached(cache, f"{t.id}.{name}.orig", lambda: make(audio()))  # noqa: B023
            degraded[t.id] = cached(cache, f"{t.id}.{name}.test",
                                    lambda: make(degrade_for_test(audio(), seed)))  # noqa: B023
            if args.copies:
                copies[t.id] = cached(cache, f"{t.id}.{name}.rec", lambda: np.concatenate(  # noqa: B023
                    [make(z) for z in recording_copies(audio(), config.sample_rate, seed)]))  # noqa: B023
        print(f"{name}: features {time.time() - t0:.0f} s", flush=True)
        tf = time.time()
        pred: dict[str, dict[str, int]] = {"clean": {}, "degraded": {}}
        for fold in split.folds:
            model, _, _ = fit_model(args.family, "corrected", fold.train, fold.valid, clean,
                                    genre_of, labels, train_config, teacher=teacher,
                                    augment=CopyAugmenter(copies) if args.copies else None)
            for view, feats in (("clean", clean), ("degraded", degraded)):
                for tid, p in predict_tracks(model, fold.test, feats).items():
                    pred[view][tid] = int(np.argmax(p.mean(0)))
        how = name + (" distilled" if args.distill else "") + (" + copies" if args.copies else "")
        line = f"{args.family:5s} {how:18s}"
        for view in ("clean", "degraded"):
            ids = sorted(pred[view])
            truth = [labels.index(genre_of[i]) for i in ids]
            guess = [pred[view][i] for i in ids]
            line += (f"  {view} {np.mean(np.equal(truth, guess)):.3f} / "
                     f"{f1_score(truth, guess, average='macro'):.3f}")
        print(f"{line}  {time.time() - tf:.0f} s ({len(split.folds)} folds)", flush=True)
    print(split.description)


if __name__ == "__main__":
    main()
