"""Features: how a clip becomes what each model hears (the registry of kinds, the 3-s segments,
MFCC/log-mel spectrograms, the Kaggle table's 57 numbers, musicnn's networks). Below the models
and inference: nothing here imports them.

    from genre_core import features
    features.kind("mfcc").unit_shape(config); features.extract("musicnn4", y, config)
"""
from __future__ import annotations

from genre_core.features.kaggle import KAGGLE_SECONDS, kaggle_units
from genre_core.features.musicnn.units import (
    MUSICNN_RMS,
    MUSICNN_SERVING_BATCH,
    musicnn4_columns,
    musicnn4_units,
    musicnn_input,
    musicnn_units,
)
from genre_core.features.registry import (
    KINDS,
    FeatureKind,
    extract,
    kind,
    register,
    segment_kinds,
    serving_kinds,
)
from genre_core.features.segments import excerpt_start, segment, segment_starts
from genre_core.features.spectral import (
    LOGMEL_BANDS,
    MFCC_CHUNK_SEGMENTS,
    chroma,
    logmel_segments,
    mel_band_hz,
    mel_db,
    mfcc,
    mfcc_segments,
    tempogram,
)

__all__ = ["KAGGLE_SECONDS", "KINDS", "LOGMEL_BANDS", "MFCC_CHUNK_SEGMENTS", "MUSICNN_RMS",
           "MUSICNN_SERVING_BATCH", "FeatureKind", "chroma", "excerpt_start", "extract",
           "kaggle_units", "kind", "logmel_segments", "mel_band_hz", "mel_db", "mfcc",
           "mfcc_segments", "musicnn4_columns", "musicnn4_units", "musicnn_input",
           "musicnn_units", "register", "segment", "segment_kinds", "segment_starts",
           "serving_kinds", "tempogram"]


register(FeatureKind("mfcc", mfcc_segments, "13 MFCCs per 3-s segment",
                     unit_shape=lambda c: (c.frames_per_segment, c.n_mfcc), spectrogram=True,
                     picture="mfcc", fast=True, copies="mfcc_rec"))
register(FeatureKind("logmel", logmel_segments, "64-band log-mel spectrogram per 3-s segment",
                     unit_shape=lambda c: (c.frames_per_segment, LOGMEL_BANDS),
                     spectrogram=True, picture="mel", fast=True, copies="logmel_rec"))
register(FeatureKind("kaggle", kaggle_units, "the Kaggle table's 57 numbers of the middle 30 s",
                     whole_clip=True, unit_shape=lambda c: (57,),
                     segmentation="whole clip (its middle 30 s)"))
register(FeatureKind("musicnn", musicnn_units,
                     "musicnn (MSD) taggram and embedding per 3-s patch", picture="mel",
                     parallel=False, segmentation="3-s patches at 16 kHz"))
register(FeatureKind("musicnn4", musicnn4_units,
                     "four musicnn networks' taggrams and embeddings per 3-s patch",
                     picture="mel", parallel=False, copies="musicnn4_rec",
                     segmentation="3-s patches at 16 kHz"))
