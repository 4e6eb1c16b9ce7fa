"""The feature kinds, in one registry: what each kind is called, what one unit looks like,
whether a clip gives one unit or one per 3-s segment, where each unit starts, how a person
sees it, and whether it may be computed in worker processes. Every other module asks this
registry instead of spelling kind names out (a new input is one `register` call)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from genre_core.config import FeatureConfig
from genre_core.features import segments

Extractor = Callable[[np.ndarray, FeatureConfig], np.ndarray]


@dataclass(frozen=True)
class FeatureKind:
    name: str
    extractor: Extractor
    display_name: str
    # one unit for the whole clip (the Kaggle table's 57 numbers) or one per 3-s segment
    whole_clip: bool = False
    # the shape of one unit for a feature configuration; None where it is not fixed by it
    unit_shape: Callable[[FeatureConfig], tuple[int, ...]] | None = None
    # a time x band picture per unit (MFCC, log-mel) that the seed's networks take and the
    # saliency view can draw as it is
    spectrogram: bool = False
    # what the saliency view draws for a model of this kind: "mfcc", "mel", or None (nothing
    # to draw: a table row)
    picture: str | None = None
    # computed in milliseconds (no network to run): the models on it answer first
    fast: bool = False
    # may run in worker processes (a Keras/ONNX network is batched in-process instead)
    parallel: bool = True
    # the training-only kind holding own-recording copies of this one (train --augment)
    copies: str | None = None
    training_only: bool = False
    segmentation: str = "3-s segments"

    def extract(self, y: np.ndarray, config: FeatureConfig = FeatureConfig()) -> np.ndarray:
        return self.extractor(y, config)

    def unit_starts(self, n_units: int, config: FeatureConfig = FeatureConfig()) -> list[float]:
        """Seconds into the analysed audio where each unit starts ([0.0] for a whole clip)."""
        return segments.unit_starts(n_units, config, self.whole_clip)

    def unit_span(self, index: int, config: FeatureConfig = FeatureConfig()
                  ) -> tuple[float, float]:
        """(start, end) in seconds of unit `index` (a whole-clip unit: (0, 0))."""
        return (0.0, 0.0) if self.whole_clip else segments.segment_span(index, config)


KINDS: dict[str, FeatureKind] = {}


def register(kind: FeatureKind) -> FeatureKind:
    """Add (or replace) a kind; layers above may register theirs (training registers the
    own-recording copies) without this package importing them."""
    KINDS[kind.name] = kind
    return kind


def kind(name: str) -> FeatureKind:
    """The registered kind `name`; KeyError naming the known ones otherwise."""
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"unknown feature kind {name!r} (known: {', '.join(KINDS)})") from None


def extract(name: str, y: np.ndarray, config: FeatureConfig = FeatureConfig()) -> np.ndarray:
    return kind(name).extract(y, config)


def segment_kinds() -> tuple[str, ...]:
    """The spectrogram kinds (the seed's networks' inputs)."""
    return tuple(k.name for k in KINDS.values() if k.spectrogram)


def serving_kinds() -> tuple[str, ...]:
    """The kinds a prediction may need (the training-only copies left out)."""
    return tuple(k.name for k in KINDS.values() if not k.training_only)
