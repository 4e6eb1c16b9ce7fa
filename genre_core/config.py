"""Frozen configuration objects: every parameter that changes features or training lives here."""
from __future__ import annotations

from dataclasses import asdict, dataclass

GENRES: tuple[str, ...] = (
    "blues", "classical", "country", "disco", "hiphop",
    "jazz", "metal", "pop", "reggae", "rock",
)


MUSICNN_LEVELS = ("rms", "as_is")     # FeatureConfig.musicnn_level

# Feature kinds whose units are (frames, bins) blocks of 3-s segments, cheap to compute: the
# inputs of the Keras segment networks (MLP, CNN, LSTM on MFCCs; the CNN on log-mel bands),
# which come in variants, answer first and are explained block by block.


@dataclass(frozen=True)
class FeatureConfig:
    """How audio becomes MFCC segments (the defaults are those of the classic GTZAN study)."""

    sample_rate: int = 22050
    segment_seconds: float = 3.0
    n_mfcc: int = 13
    n_fft: int = 2048
    hop_length: int = 512
    # Only the first `max_seconds` of a file are decoded; None reads everything.
    max_seconds: float | None = 30.0
    # A clip shorter than this is refused as too short to say anything about.
    min_seconds: float = 0.5
    # Where the MFCCs' 80 dB floor is set: "clip" = below the loudest bin of the whole batch
    # of segments (the seed's behaviour), "segment" = below each segment's own loudest bin,
    # so a segment's features do not depend on the rest of the clip or the read limit.
    db_floor: str = "clip"
    # The loudness the musicnn networks hear (their log-mel front end is not level-invariant,
    # and people's recordings are often far louder than GTZAN's clips): "rms" scales each clip
    # to -20 dBFS RMS first (studies/musicnn_level_study.py), "as_is" feeds it unchanged (every
    # bundle saved before this field existed; from_dict reads a missing field so).
    musicnn_level: str = "rms"

    def __post_init__(self) -> None:
        if self.musicnn_level not in MUSICNN_LEVELS:
            raise ValueError(f"unknown musicnn_level {self.musicnn_level!r} "
                             f"(one of {', '.join(MUSICNN_LEVELS)})")

    @property
    def segment_samples(self) -> int:
        return int(round(self.sample_rate * self.segment_seconds))

    @property
    def frames_per_segment(self) -> int:
        return 1 + self.segment_samples // self.hop_length

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> FeatureConfig:
        d = {"musicnn_level": "as_is", **d}     # saved before the field: audio as it was
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class TrainConfig:
    """How a Keras model is fitted; `seed` makes a run reproducible."""

    epochs: int = 50
    batch_size: int = 32
    learning_rate: float = 3e-4
    seed: int = 42
    patience: int = 10
    warmup_epochs: int = 10       # early stopping only considers epochs after these
    dropout: float = 0.3
    l2: float = 1e-3
    validation_fraction: float = 0.2
    # the teacher's share of a distilled model's soft targets (the label has the rest); the
    # shipped CNN uses 0.8 (better than 0.5 and 1.0 on both views), the MLP 0.5
    # (docs/results.md, tools/train_bundle.sh)
    distill_weight: float = 0.5
    # networks a segment model (MLP, CNN, LSTM, mel CNN) averages: each trained alone, from
    # seeds seed .. seed + networks - 1, and saved as one network whose output is the mean
    # of theirs. One CNN's accuracy moved by up to 4.8 points with its seed alone (10 artist
    # folds over both views); the shipped CNN averages 3 (docs/results.md)
    networks: int = 1
    # segment models: also train on the 3-s units straddling each two consecutive segments of
    # a training track (genre_core.training.straddling), about twice the units per epoch. The
    # shipped CNN does (10 artist folds over both views: GTZAN 51.0 -> 59.8 %, real 47.1 ->
    # 46.2 %; docs/results.md)
    straddling: bool = False

    def __post_init__(self) -> None:
        if self.networks < 1:
            raise ValueError(f"networks must be 1 or more, not {self.networks}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def label_order(genres) -> list[str]:
    """The GTZAN order when the genres are GTZAN's, sorted otherwise."""
    present = set(genres)
    return [g for g in GENRES if g in present] if present <= set(GENRES) else sorted(present)
