"""Training-set augmentation, applied to training tracks only: for the MFCC models here; for
the musicnn4 model in recording_copies (copies that sound like a person's own recordings).

Audio-domain copies (time shift, gain, pitch shift, time stretch, additive noise) are made per
track and cached like any feature kind ("mfcc_aug"); SpecAugment-style time/coefficient masks
are applied to the training units at fit time. Test tracks are never augmented."""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from genre_core.config import FeatureConfig
from genre_core.inference.features import mfcc_segments, register_kind

N_COPIES = 3


def augmented_copies(y: np.ndarray, sr: int, seed: int, n_copies: int = N_COPIES) -> list[np.ndarray]:
    """Small, label-preserving perturbations of one clip (seeded by its content)."""
    import librosa

    rng = np.random.default_rng(seed)
    copies = []
    for _ in range(n_copies):
        z = np.roll(y, int(rng.uniform(-0.5, 0.5) * sr))                     # time shift
        z = z * 10 ** (rng.uniform(-6, 6) / 20)                                # gain +-6 dB
        z = librosa.effects.pitch_shift(z, sr=sr, n_steps=float(rng.uniform(-1, 1)))
        z = librosa.effects.time_stretch(z, rate=float(rng.uniform(0.93, 1.07)))
        rms = np.sqrt(np.mean(z ** 2)) + 1e-9                                  # noise, SNR 30 dB
        z = z + rng.standard_normal(len(z)).astype(np.float32) * rms * 10 ** (-30 / 20)
        copies.append(np.clip(z, -1, 1).astype(np.float32))
    return copies


def mfcc_augmented_units(y: np.ndarray, config: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """MFCC segments of every augmented copy, stacked: (n_copies * n_segments, frames, n_mfcc)."""
    seed = zlib.crc32(np.ascontiguousarray(y[:4096]).tobytes())
    return np.concatenate([mfcc_segments(c, config)
                           for c in augmented_copies(y, config.sample_rate, seed)])


register_kind("mfcc_aug", mfcc_augmented_units, True)   # cached like any kind; training only


def spec_augment(X: np.ndarray, rng: np.random.Generator, time_masks: int = 2,
                 max_frames: int = 12, coef_masks: int = 1, max_coefs: int = 2) -> np.ndarray:
    """Mask random frame ranges and coefficient bands with each coefficient's mean."""
    X = X.copy()
    fill = X.mean(axis=(0, 1))
    n_frames, n_coefs = X.shape[1], X.shape[2]
    for x in X:
        for _ in range(time_masks):
            w = rng.integers(0, max_frames + 1)
            t0 = rng.integers(0, max(1, n_frames - w))
            x[t0:t0 + w, :] = fill
        for _ in range(coef_masks):
            w = rng.integers(0, max_coefs + 1)
            c0 = rng.integers(1, max(2, n_coefs - w))   # keep coefficient 0 (loudness)
            x[:, c0:c0 + w] = fill[c0:c0 + w]
    return X


@dataclass
class Augmenter:
    """Adds the training tracks' augmented copies, then SpecAugment-masks half of all units."""

    copies: dict[str, np.ndarray]        # track id -> augmented MFCC units (N_COPIES copies)
    mask_fraction: float = 0.5
    n_copies: int = 1                    # how many of the cached copies to add per track

    def __call__(self, train_ids: list[str], X: np.ndarray, y: np.ndarray, labels_of: dict,
                 seed: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        extra = [i for i in train_ids if i in self.copies]
        if extra:
            chosen = []
            for i in extra:
                per_copy = len(self.copies[i]) // N_COPIES
                chosen.append(self.copies[i][: per_copy * self.n_copies])
            X = np.concatenate([X] + chosen)
            y = np.concatenate([y] + [np.full(len(c), labels_of[i]) for c, i in zip(chosen, extra)])
        pick = rng.random(len(X)) < self.mask_fraction
        X = X.copy()
        X[pick] = spec_augment(X[pick], rng)
        return X, y.astype(np.int64)


def augmentations() -> dict:
    """feature kind -> (kind of its cached augmented copies, augmenter class): what
    `train --augment` adds to training tracks for models of that input."""
    from genre_core.training.recording_copies import CopyAugmenter

    return {"mfcc": ("mfcc_aug", Augmenter), "musicnn4": ("musicnn4_rec", CopyAugmenter)}
