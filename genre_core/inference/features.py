"""Segments and features. Every extractor takes mono samples at config.sample_rate and
returns an array whose first axis is the model's *unit* (a 3-s segment, or the whole clip)."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from genre_core.config import FeatureConfig
from genre_core.inference.librosa_kernels import librosa_ready


def segment(y: np.ndarray, config: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """Cut into (n_segments, segment_samples): a partial last segment is dropped, a clip
    shorter than one segment is zero-padded to exactly one."""
    n = config.segment_samples
    if len(y) < n:
        return np.pad(y, (0, n - len(y)))[None, :]
    count = len(y) // n
    return y[: count * n].reshape(count, n)


def segment_starts(n_segments: int, config: FeatureConfig = FeatureConfig()) -> list[float]:
    return [i * config.segment_seconds for i in range(n_segments)]


# Segments whose STFT is held at once. Beyond this the mel power spectra are computed chunk by
# chunk and only they (128 x frames each, 1/8 of a power spectrogram) are kept, so peak memory
# no longer grows with the STFT of the whole file (~1 MiB complex STFT per 3-s segment).
MFCC_CHUNK_SEGMENTS = 20


def mfcc_segments(y: np.ndarray, config: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """MFCCs of every segment in one librosa call: (n_segments, frames, n_mfcc), float32.

    Long inputs are computed in chunks of MFCC_CHUNK_SEGMENTS segments with the same result:
    librosa.feature.mfcc is power_to_db(melspectrogram) then a DCT, and power_to_db (whose
    top_db floor is taken over the whole batch) still sees every segment at once."""
    librosa_ready()
    import librosa

    segments = segment(y, config)
    if len(segments) <= MFCC_CHUNK_SEGMENTS and config.db_floor == "clip":
        m = librosa.feature.mfcc(y=segments, sr=config.sample_rate, n_mfcc=config.n_mfcc,
                                 n_fft=config.n_fft, hop_length=config.hop_length)
    else:
        mel = np.concatenate([
            librosa.feature.melspectrogram(y=segments[i:i + MFCC_CHUNK_SEGMENTS],
                                           sr=config.sample_rate, n_fft=config.n_fft,
                                           hop_length=config.hop_length)
            for i in range(0, len(segments), MFCC_CHUNK_SEGMENTS)])
        if config.db_floor == "segment":
            db = 10.0 * np.log10(np.maximum(mel, 1e-10))
            db = np.maximum(db, db.max(axis=(1, 2), keepdims=True) - 80.0)
        else:
            db = librosa.power_to_db(mel)
        m = librosa.feature.mfcc(S=db, n_mfcc=config.n_mfcc)
    return np.ascontiguousarray(np.transpose(m, (0, 2, 1)), dtype=np.float32)


LOGMEL_BANDS = 64
LOGMEL_FLOOR_DB = -80.0


def logmel_segments(y: np.ndarray, config: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """A 64-band log-mel spectrogram of every segment, (n_segments, frames, 64) float32, in
    dB below the segment's own loudest bin (floor -80 dB): what the mel CNN hears. Relative
    to each segment, so it does not move with a recording's level or with the rest of the
    clip. The seed's CNN on it was right on 42.6 % of held-out artists' clips against 36.3 %
    on 13 MFCCs, and on 33.8 % vs 23.0 % of degraded copies (studies/cnn_input_study.py)."""
    librosa_ready()
    import librosa

    segments = segment(y, config)
    mel = np.concatenate([
        librosa.feature.melspectrogram(y=segments[i:i + MFCC_CHUNK_SEGMENTS],
                                       sr=config.sample_rate, n_fft=config.n_fft,
                                       hop_length=config.hop_length, n_mels=LOGMEL_BANDS)
        for i in range(0, len(segments), MFCC_CHUNK_SEGMENTS)])
    db = 10.0 * np.log10(np.maximum(mel, 1e-10))
    db = np.maximum(db - db.max(axis=(1, 2), keepdims=True), LOGMEL_FLOOR_DB)
    return np.ascontiguousarray(np.transpose(db, (0, 2, 1)), dtype=np.float32)


def mfcc(y: np.ndarray, config: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """MFCCs of the whole clip (n_mfcc, frames), for display."""
    librosa_ready()
    import librosa

    return librosa.feature.mfcc(y=y, sr=config.sample_rate, n_mfcc=config.n_mfcc,
                                n_fft=config.n_fft, hop_length=config.hop_length)


def mel_db(y: np.ndarray, config: FeatureConfig = FeatureConfig(), n_mels: int = 128) -> np.ndarray:
    """Mel spectrogram in dB relative to the clip's peak (n_mels, frames)."""
    librosa_ready()
    import librosa

    S = librosa.feature.melspectrogram(y=y, sr=config.sample_rate, n_fft=config.n_fft,
                                       hop_length=config.hop_length, n_mels=n_mels)
    return librosa.power_to_db(S, ref=np.max)


def mel_band_hz(n_mels: int, config: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """Centre frequency in Hz of each of `mel_db`'s bands (its y axis)."""
    librosa_ready()
    import librosa

    return librosa.mel_frequencies(n_mels=n_mels, fmax=config.sample_rate / 2)


def chroma(y: np.ndarray, config: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """Constant-Q chroma (12, frames)."""
    librosa_ready()
    import librosa

    return librosa.feature.chroma_cqt(y=y, sr=config.sample_rate, hop_length=config.hop_length)


def tempogram(y: np.ndarray, config: FeatureConfig = FeatureConfig()) -> tuple[np.ndarray, float]:
    """Autocorrelation tempogram (384, frames) and the estimated global tempo in BPM."""
    librosa_ready()
    import librosa

    onset = librosa.onset.onset_strength(y=y, sr=config.sample_rate, hop_length=config.hop_length)
    tg = librosa.feature.tempogram(onset_envelope=onset, sr=config.sample_rate,
                                   hop_length=config.hop_length)
    tempo = librosa.feature.tempo(onset_envelope=onset, sr=config.sample_rate,
                                  hop_length=config.hop_length)
    return tg, float(np.atleast_1d(tempo)[0])


KAGGLE_SECONDS = 30.0      # the table's rows describe 30-s clips


def kaggle_units(y: np.ndarray, config: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """The 57 Kaggle-table features as one unit, (1, 57): of the whole clip when it is at
    most 3 s longer than 30 s, else of its middle 30 s (audio.excerpt_start), as the table's
    rows describe 30-s clips. On a whole 10-min file (--max-seconds 0) the features of all
    of it peaked at 2.3 GB (HPSS of the full STFT) and described something the model never saw."""
    from genre_core.inference.audio import excerpt_start
    from genre_core.inference.kaggle_features import extract_kaggle_features

    rate = config.sample_rate
    start = excerpt_start(len(y) / rate, KAGGLE_SECONDS)
    if start:
        first = int(start * rate)
        y = y[first:first + int(KAGGLE_SECONDS * rate)]
    return extract_kaggle_features(y, rate)[None, :].astype(np.float32)


MUSICNN_SERVING_BATCH = 2
MUSICNN_RMS = 0.1          # -20 dBFS: the level FeatureConfig.musicnn_level="rms" feeds musicnn


def musicnn_input(y: np.ndarray, config: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """The audio the musicnn networks hear. With config.musicnn_level "rms" the clip is scaled
    to MUSICNN_RMS (a silent clip is left as it is). By leave-one-artist-out over 204 clips,
    musicnn4 trained and scored so was right on 69.1 % of degraded held-out clips (loud,
    clipped, low-passed, Ogg) against 60.8 % on the audio as it is, and on 72.5 % vs 74.0 %
    of the clean clips (studies/musicnn_level_study.py); a quiet microphone recording is
    brought up to the level the model knows."""
    if config.musicnn_level == "as_is":    # FeatureConfig allows only "as_is" and "rms"
        return y
    rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) if y.size else 0.0
    return (y * (MUSICNN_RMS / rms)).astype(np.float32) if rms > 1e-6 else y


def musicnn_units(y: np.ndarray, config: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """musicnn taggram + embedding of each 3-s patch: (n_patches, 50 + D)."""
    from genre_core.inference.serving import load_net
    from genre_core.models.musicnn_backbone import DEFAULT_PATH, embed

    # the ONNX export beside the .keras when there is one: no TensorFlow to predict; two
    # patches a run keep its activations ~100 MB (10 patches at once: ~550 MB, no faster)
    net = load_net(DEFAULT_PATH, cache=True, max_batch=MUSICNN_SERVING_BATCH)
    taggram, embedding = embed(musicnn_input(y, config), config.sample_rate, net)
    return np.concatenate([taggram, embedding], axis=1).astype(np.float32)


def musicnn4_units(y: np.ndarray, config: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """All four musicnn networks per 3-s patch (of `musicnn_input`): (n_patches, 1112), mel
    computed once.

    Columns: each network's taggram (50) and penultimate embedding (200 musicnn, 256 vgg), in
    the order MSD_musicnn, MTT_musicnn, MSD_vgg, MTT_vgg; `musicnn4_columns()` names them and
    the first 250 columns equal the "musicnn" feature."""
    from genre_core.models.musicnn_zoo import extract_all

    return extract_all(musicnn_input(y, config), config.sample_rate)


def musicnn4_columns() -> dict[str, slice]:
    """'<network>/taggram' | '<network>/embedding' -> column slice of the musicnn4 feature
    (network: MSD_musicnn, MTT_musicnn, MSD_vgg, MTT_vgg); see musicnn_zoo.select_columns."""
    from genre_core.models.musicnn_zoo import column_layout

    return column_layout()


# kind -> (extractor, can run in worker processes)
FEATURE_KINDS: dict[str, tuple[Callable[[np.ndarray, FeatureConfig], np.ndarray], bool]] = {
    "mfcc": (mfcc_segments, True),
    "logmel": (logmel_segments, True),   # the mel CNN's input
    "kaggle": (kaggle_units, True),
    "musicnn": (musicnn_units, False),   # runs a Keras model: batch in-process
    "musicnn4": (musicnn4_units, False), # all four musicnn networks (musicnn_zoo)
}


def register_kind(kind: str, extractor: Callable[[np.ndarray, FeatureConfig], np.ndarray],
                  parallel: bool) -> None:
    """Add a feature kind from a layer above this one (recording_copies registers the
    training-only "mfcc_rec" and "musicnn4_rec"), so that features never imports training code."""
    FEATURE_KINDS[kind] = (extractor, parallel)


def extract(kind: str, y: np.ndarray, config: FeatureConfig = FeatureConfig()) -> np.ndarray:
    return FEATURE_KINDS[kind][0](y, config)
