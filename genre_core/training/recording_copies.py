"""Copies of a training clip that sound like a person's own recordings, for the musicnn4
transfer model and the MLP (`train --augment`; see training.augment): applied to training
tracks only, never to test tracks.

GTZAN's clips are 22-kHz WAVs from CDs and radio of the 1990s; what people upload is MP3 or
Ogg at low bit rates, 16-kHz phone or web sources, loud modern masters pushed into a limiter,
other EQ. Measured by artist-grouped CV (studies/realistic_study.py, README "Results"): on
held-out artists' clips degraded by a *different* chain (Ogg Vorbis, hard clipping, tilt EQ),
musicnn4 trained on the clips alone is right on 50.5 %, trained with two copies per clip from
this chain on 61.8 %; on the clean clips 73.0 % vs 72.1 %.

The chain (audiomentations, MIT; its MP3 encoder fast-mp3-augment wraps LAME, LGPL-2.1):
up to +12 dB of gain into a limiter, a 7-band EQ of +-6 dB, a low-pass at 4-8 kHz, MP3 at
32-128 kbit/s, a level change. Copies are seeded by the clip's content, so the cached
"musicnn4_rec" units are reproducible.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from genre_core.config import FeatureConfig
from genre_core.features import (
    FeatureKind,
    kind,
    logmel_segments,
    mfcc_segments,
    musicnn4_units,
    register,
)

RECORDING_COPIES = 2


def recording_chain():
    """The audiomentations chain (a new, unseeded Compose)."""
    import audiomentations as am

    return am.Compose([
        am.Gain(min_gain_db=0.0, max_gain_db=12.0, p=0.6),
        am.Limiter(min_threshold_db=-12.0, max_threshold_db=-2.0, p=0.6),
        am.SevenBandParametricEQ(min_gain_db=-6.0, max_gain_db=6.0, p=0.7),
        am.LowPassFilter(min_cutoff_freq=4000.0, max_cutoff_freq=8000.0, p=0.5),
        am.Mp3Compression(min_bitrate=32, max_bitrate=128, backend="fast-mp3-augment", p=0.7),
        am.Gain(min_gain_db=-6.0, max_gain_db=6.0, p=0.5),
    ])


def recording_copies(y: np.ndarray, sr: int, seed: int,
                     n_copies: int = RECORDING_COPIES) -> list[np.ndarray]:
    """`n_copies` "own recording" versions of one clip, clipped to full scale as a file is.
    audiomentations draws from numpy's and Python's global generators: both are seeded here
    and restored after, so a caller's random state is left as it was."""
    import random

    state, py_state = np.random.get_state(), random.getstate()
    try:
        copies = []
        for c in range(n_copies):
            np.random.seed((seed * 7 + c) % 2**32)
            random.seed((seed * 7 + c) % 2**32)
            z = recording_chain()(samples=np.asarray(y, np.float32), sample_rate=sr)
            copies.append(np.clip(z, -1.0, 1.0).astype(np.float32))
        return copies
    finally:
        np.random.set_state(state)
        random.setstate(py_state)


def _units_of_copies(extract, y: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """`extract`'s units of every recording copy of `y`, stacked; the copies are seeded by
    the clip's content, so cached units are reproducible."""
    seed = zlib.crc32(np.ascontiguousarray(y[:4096]).tobytes())
    return np.concatenate([extract(c, config)
                           for c in recording_copies(y, config.sample_rate, seed)])


def musicnn4_recording_units(y: np.ndarray, config: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """musicnn4 patches of every recording copy, stacked: (n_copies * n_patches, 1112)."""
    return _units_of_copies(musicnn4_units, y, config)


def mfcc_recording_units(y: np.ndarray, config: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """MFCC segments of every recording copy, stacked: (n_copies * n_segments, frames, n_mfcc)."""
    return _units_of_copies(mfcc_segments, y, config)


def logmel_recording_units(y: np.ndarray, config: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """Log-mel segments of every recording copy, stacked: (n_copies * n_segments, frames, 64)."""
    return _units_of_copies(logmel_segments, y, config)


def _register_copies(base: str, extractor) -> None:
    """The training-only kind of `base`'s own-recording copies: the base's units, stacked
    for every copy (cached like any kind)."""
    b = kind(base)
    register(FeatureKind(b.copies or f"{base}_rec", extractor,
                         f"{b.display_name}, of {RECORDING_COPIES} own-recording copies",
                         unit_shape=b.unit_shape, spectrogram=b.spectrogram,
                         parallel=b.parallel, training_only=True,
                         segmentation=b.segmentation))


_register_copies("musicnn4", musicnn4_recording_units)   # cached; training only
_register_copies("mfcc", mfcc_recording_units)
_register_copies("logmel", logmel_recording_units)


@dataclass
class CopyAugmenter:
    """Adds every cached copy of each training track's units (no masking: a musicnn patch
    embedding is not a spectrogram)."""

    copies: dict[str, np.ndarray]        # track id -> units of all its copies

    def __call__(self, train_ids: list[str], X: np.ndarray, y: np.ndarray, labels_of: dict,
                 seed: int) -> tuple[np.ndarray, np.ndarray]:
        extra = [i for i in train_ids if i in self.copies]
        if not extra:
            return X, y
        X = np.concatenate([X] + [self.copies[i] for i in extra])
        y = np.concatenate([y] + [np.full(len(self.copies[i]), labels_of[i]) for i in extra])
        return X, y.astype(np.int64)
