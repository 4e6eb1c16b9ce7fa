"""Straddling segments: more training units from the same clips, at no extraction cost.

A clip's 3-s segments are cut end to end, so a network only ever sees a beat or a phrase at
one of ten positions per 30 s. Between each two consecutive segments of a training track this
adds the unit that straddles them: the second half of the first segment's frames followed by
the first half of the next's (the 3 s starting 1.5 s into the first). That is nearly the
block the extractor gives for audio cut at that offset: its second half starts 410 samples
(19 ms) early, as 3 s is not a whole number of 512-sample hops; on a GTZAN rock clip the
units correlate 0.997 with the MFCCs so extracted, 0.992 for the log-mel bands. Its target is
its track's label, or for soft targets (distillation) the mean of the two segments' targets,
as it holds half of each. Training tracks only: validation and test units stay as
extracted."""
from __future__ import annotations

import numpy as np


def straddling_units(units: np.ndarray) -> np.ndarray:
    """(n - 1, frames, bins) for a track's (n, frames, bins) segments: unit k is the second
    half of segment k's frames, then the first half of segment k + 1's."""
    units = np.asarray(units)
    if units.ndim != 3 or len(units) < 2:
        return units[:0]
    half = units.shape[1] // 2
    return np.concatenate([units[:-1, half:], units[1:, :half]], axis=1)


def straddling_targets(targets: np.ndarray) -> np.ndarray:
    """The targets of a track's straddling units from those of its n segments: the label
    (one index per segment) or the mean of the two soft-target rows each unit holds half of."""
    targets = np.asarray(targets)
    if len(targets) < 2:
        return targets[:0]
    if targets.ndim == 1:
        return targets[:-1]
    return ((targets[:-1] + targets[1:]) / 2).astype(targets.dtype)


def with_straddling(ids: list[str], features: dict[str, np.ndarray], X: np.ndarray,
                    y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The stacked units X (and targets y) of the tracks `ids`, in stack order, with every
    track's straddling units and their targets appended."""
    bounds = np.cumsum([0] + [len(features[i]) for i in ids])
    spans = list(zip(bounds[:-1], bounds[1:]))      # a one-segment track adds nothing
    return (np.concatenate([X, *(straddling_units(X[a:b]) for a, b in spans)]),
            np.concatenate([y, *(straddling_targets(y[a:b]) for a, b in spans)]))
