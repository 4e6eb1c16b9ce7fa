"""How a clip becomes units: 3-s segments (the MFCC and mel models), the middle excerpt of a
long file, and where each unit starts. The one place the segment arithmetic lives."""
from __future__ import annotations

import numpy as np

from genre_core.config import FeatureConfig

MIDDLE_AFTER_EXTRA_SECONDS = 3.0


def excerpt_start(duration: float, max_seconds: float | None) -> float:
    """Seconds into a file of `duration` seconds where the analysed excerpt starts: 0 for a
    file read whole, else the start of its middle `max_seconds` when the file is longer than
    that by more than MIDDLE_AFTER_EXTRA_SECONDS."""
    if max_seconds is None or duration - max_seconds <= MIDDLE_AFTER_EXTRA_SECONDS:
        return 0.0
    return (duration - max_seconds) / 2


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


def segment_span(index: int, config: FeatureConfig = FeatureConfig()) -> tuple[float, float]:
    """(start, end) in seconds of 3-s segment `index`."""
    start = index * config.segment_seconds
    return start, start + config.segment_seconds


def unit_starts(n_units: int, config: FeatureConfig = FeatureConfig(),
                whole_clip: bool = False) -> list[float]:
    """Seconds into the analysed audio where each of `n_units` units starts: every segment's
    start, or 0 for a whole-clip unit."""
    return [0.0] * n_units if whole_clip else segment_starts(n_units, config)
