"""Spectrogram features: MFCCs and log-mel of every 3-s segment (what the seed's networks and
the mel CNN take), and the whole-clip pictures the app draws (MFCC, mel, chroma, tempogram)."""
from __future__ import annotations

import numpy as np

from genre_core.config import FeatureConfig
from genre_core.features.librosa_kernels import librosa_ready
from genre_core.features.segments import segment

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
