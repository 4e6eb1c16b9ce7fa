"""The 57 clip-level features of the Kaggle GTZAN table (``features_30_sec.csv``), computed
from audio so that a user's clip can be scored by a model trained on that table, plus a reader
for the table itself.

Parity: the Kaggle table was made with an older librosa (0.7/0.8 era) whose STFT padded the
signal with ``pad_mode="reflect"`` (librosa >= 0.10 pads with zeros) and whose
``effects.hpss`` inverted the STFT *without* ``length=`` and then zero-padded the result to
the input length with ``util.fix_length``. Reproducing both details makes every column agree
with the table to float32 rounding (see tests/inference/test_kaggle_features.py); with librosa's current
defaults the HPSS means ("harmony_mean", "perceptr_mean") are off by up to a sign.

Speed: one reflect-padded STFT (n_fft=2048, hop 512) feeds chroma, centroid, bandwidth,
rolloff, HPSS, and the mel spectrogram; the log-mel spectrogram feeds both the MFCCs and the
onset envelope of the beat tracker. Results are identical to calling each librosa feature on
``y`` separately with ``pad_mode="reflect"``.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np

from genre_core.config import FeatureConfig
from genre_core.errors import GenreError
from genre_core.features.librosa_kernels import librosa_ready

KAGGLE_COLUMNS: tuple[str, ...] = (
    "chroma_stft_mean", "chroma_stft_var",
    "rms_mean", "rms_var",
    "spectral_centroid_mean", "spectral_centroid_var",
    "spectral_bandwidth_mean", "spectral_bandwidth_var",
    "rolloff_mean", "rolloff_var",
    "zero_crossing_rate_mean", "zero_crossing_rate_var",
    "harmony_mean", "harmony_var",
    "perceptr_mean", "perceptr_var",
    "tempo",
) + tuple(f"mfcc{i}_{stat}" for i in range(1, 21) for stat in ("mean", "var"))

assert len(KAGGLE_COLUMNS) == 57

N_FFT = 2048
HOP_LENGTH = 512
PAD_MODE: Final = "reflect"  # what librosa < 0.10 used, and what the Kaggle table was computed with
N_MFCC = 20


HPSS_KERNEL = 31   # librosa.decompose.hpss's default kernel_size


def centered_median(S: np.ndarray, size: int, axis: int) -> np.ndarray:
    """scipy.ndimage.median_filter(S, size along `axis` only, mode="reflect"), exactly.

    bottleneck's moving median (a double heap, O(n log size)) runs over 10x faster than
    scipy's generic N-d rank filter; the window is centred by padding `size // 2` samples
    of the same half-sample reflection (numpy's "symmetric") on each side. A median of an
    odd window is one of its samples, so the result is bit-identical.
    """
    import bottleneck as bn

    half = size // 2
    pad = [(0, 0)] * S.ndim
    pad[axis] = (half, half)
    moved = bn.move_median(np.pad(S, pad, mode="symmetric"), window=size, axis=axis)
    return np.take(moved, np.arange(size - 1, moved.shape[axis]), axis=axis)


def hpss(D: np.ndarray):
    """librosa.decompose.hpss(D) with its defaults (kernel 31, power 2, margin 1), same
    result, with the two median filters computed by `centered_median`. Yields the harmonic
    then the percussive STFT (one at a time: less memory held)."""
    librosa_ready()
    import librosa

    S, phase = librosa.magphase(D)
    harm = centered_median(S, HPSS_KERNEL, axis=-1).astype(S.dtype, copy=False)
    perc = centered_median(S, HPSS_KERNEL, axis=-2).astype(S.dtype, copy=False)
    mask = librosa.util.softmask(harm, perc, power=2.0, split_zeros=True)
    yield (S * mask) * phase
    mask = librosa.util.softmask(perc, harm, power=2.0, split_zeros=True)
    del harm, perc
    yield (S * mask) * phase


def extract_kaggle_features(y: np.ndarray, sr: int = 22050) -> np.ndarray:
    """One clip's 57 Kaggle features, in the order of KAGGLE_COLUMNS, as float64.

    `y` is the whole clip, mono, at `sr` (the table used the full 30-s clip at 22050 Hz; other
    rates work but are not what a table-trained model saw). Raises GenreError if `y` is not a
    non-empty finite 1-D signal long enough for one STFT frame.
    """
    librosa_ready()
    import librosa

    y = np.asarray(y)
    if y.ndim != 1:
        raise GenreError(f"extract_kaggle_features: expected mono 1-D audio, got shape {y.shape}")
    if y.size < N_FFT:
        raise GenreError(f"extract_kaggle_features: audio too short ({y.size} samples, "
                         f"need at least {N_FFT})")
    if not np.issubdtype(y.dtype, np.floating):
        raise GenreError(f"extract_kaggle_features: expected floating-point samples, got {y.dtype}")
    if not np.all(np.isfinite(y)):
        raise GenreError("extract_kaggle_features: audio contains NaN or infinite samples")
    # librosa.load gives float32; the table's float32 rounding is part of parity.
    y = y.astype(np.float32, copy=False)

    def mv(a: np.ndarray) -> tuple[float, float]:
        return float(np.mean(a)), float(np.var(a))

    out: list[float] = []

    D = librosa.stft(y, n_fft=N_FFT, hop_length=HOP_LENGTH, pad_mode=PAD_MODE)
    S_mag = np.abs(D)
    S_pow = S_mag ** 2

    # chroma_stft(y=...) computes |stft|**2 internally; passing it is identical.
    out += mv(librosa.feature.chroma_stft(S=S_pow, sr=sr, n_fft=N_FFT, hop_length=HOP_LENGTH))
    # rms from the waveform (rms(S=...) normalises differently and would not match).
    out += mv(librosa.feature.rms(y=y, frame_length=N_FFT, hop_length=HOP_LENGTH,
                                  pad_mode=PAD_MODE))
    out += mv(librosa.feature.spectral_centroid(S=S_mag, sr=sr, n_fft=N_FFT,
                                                hop_length=HOP_LENGTH))
    out += mv(librosa.feature.spectral_bandwidth(S=S_mag, sr=sr, n_fft=N_FFT,
                                                 hop_length=HOP_LENGTH))
    out += mv(librosa.feature.spectral_rolloff(S=S_mag, sr=sr, n_fft=N_FFT,
                                               hop_length=HOP_LENGTH))
    out += mv(librosa.feature.zero_crossing_rate(y, frame_length=N_FFT, hop_length=HOP_LENGTH))

    # Old librosa.effects.hpss: istft without `length`, then fix_length (zero tail).
    for part in hpss(D):
        out += mv(librosa.util.fix_length(librosa.istft(part, hop_length=HOP_LENGTH,
                                                         n_fft=N_FFT), size=len(y)))
    del D, S_mag

    mel = librosa.feature.melspectrogram(S=S_pow, sr=sr, n_fft=N_FFT, hop_length=HOP_LENGTH)
    log_mel = librosa.power_to_db(mel)
    # beat_track(y=...) takes its onset envelope from onset_strength(y, aggregate=np.median),
    # i.e. from power_to_db(melspectrogram(y)) -- the log-mel above (reflect padding as in the
    # old librosa) -- and reports the tempo of feature.tempo; the beat positions are unused.
    onset_env = librosa.onset.onset_strength(S=log_mel, sr=sr, hop_length=HOP_LENGTH,
                                             aggregate=np.median)
    if onset_env.any():
        tempo = librosa.feature.tempo(onset_envelope=onset_env, sr=sr, hop_length=HOP_LENGTH)
    else:  # what beat_track reports for a signal without onsets (e.g. silence)
        tempo = np.zeros(1)
    out.append(float(np.atleast_1d(tempo)[0]))

    mfcc = librosa.feature.mfcc(S=log_mel, sr=sr, n_mfcc=N_MFCC)
    for row in mfcc:
        out += mv(row)

    feats = np.asarray(out, dtype=np.float64)
    assert feats.shape == (len(KAGGLE_COLUMNS),)
    return feats


@dataclass
class FeatureTable:
    """A Kaggle feature table read from CSV: features in KAGGLE_COLUMNS order."""

    X: np.ndarray                      # (n, 57) float64
    labels: list[str]                  # genre of each row
    filenames: list[str]               # `filename` column of each row
    skipped: list[str] = field(default_factory=list)  # one message per refused row


def read_feature_table(path) -> FeatureTable:
    """Read a Kaggle-format feature CSV (features_30_sec.csv or features_3_sec.csv).

    Extra columns are ignored and column order does not matter. Rows whose features are
    missing, non-numeric or infinite, or whose label is empty, are skipped and reported in
    `skipped` ("<file>: row <n> (<filename>): <problem>"). Raises GenreError naming the file
    when it cannot be read or lacks a required column (filename, label, or any feature).
    """
    path = Path(path)
    try:
        fh = open(path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise GenreError(f"{path}: cannot read feature table ({exc.strerror or exc})") from None
    with fh:
        try:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise GenreError(f"{path}: feature table is empty (no header row)")
            header = [h.strip() for h in header]
            required = ("filename",) + KAGGLE_COLUMNS + ("label",)
            missing = [c for c in required if c not in header]
            if missing:
                shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more"
                                                    if len(missing) > 10 else "")
                raise GenreError(f"{path}: not a Kaggle GTZAN feature table; missing "
                                 f"column(s): {shown}")
            index = {name: header.index(name) for name in required}
            feat_idx = [index[c] for c in KAGGLE_COLUMNS]
            rows: list[list[float]] = []
            labels: list[str] = []
            filenames: list[str] = []
            skipped: list[str] = []
            for line_no, rec in enumerate(reader, start=2):
                if not rec or all(not c.strip() for c in rec):
                    continue
                fname = rec[index["filename"]].strip() if index["filename"] < len(rec) else ""
                where = f"{path.name}: line {line_no} ({fname or 'no filename'})"
                if len(rec) < len(header):
                    skipped.append(f"{where}: has {len(rec)} fields, header has {len(header)}")
                    continue
                label = rec[index["label"]].strip()
                if not label:
                    skipped.append(f"{where}: empty label")
                    continue
                values: list[float] = []
                problem = None
                for col, i in zip(KAGGLE_COLUMNS, feat_idx):
                    cell = rec[i].strip()
                    if not cell:
                        problem = f"missing value in column {col}"
                        break
                    try:
                        v = float(cell)
                    except ValueError:
                        problem = f"non-numeric value {cell[:30]!r} in column {col}"
                        break
                    if not math.isfinite(v):
                        problem = f"non-finite value {cell[:30]!r} in column {col}"
                        break
                    values.append(v)
                if problem:
                    skipped.append(f"{where}: {problem}")
                    continue
                rows.append(values)
                labels.append(label)
                filenames.append(fname)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise GenreError(f"{path}: not a readable CSV feature table ({exc})") from None
    X = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(KAGGLE_COLUMNS))
    return FeatureTable(X=X, labels=labels, filenames=filenames, skipped=skipped)


KAGGLE_SECONDS = 30.0      # the table's rows describe 30-s clips


def kaggle_units(y: np.ndarray, config: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """The 57 Kaggle-table features as one unit, (1, 57): of the whole clip when it is at
    most 3 s longer than 30 s, else of its middle 30 s (audio.excerpt_start), as the table's
    rows describe 30-s clips. On a whole 10-min file (--max-seconds 0) the features of all
    of it peaked at 2.3 GB (HPSS of the full STFT) and described something the model never saw."""
    from genre_core.features.segments import excerpt_start

    rate = config.sample_rate
    start = excerpt_start(len(y) / rate, KAGGLE_SECONDS)
    if start:
        first = int(start * rate)
        y = y[first:first + int(KAGGLE_SECONDS * rate)]
    return extract_kaggle_features(y, rate)[None, :].astype(np.float32)
