"""The musicnn feature kinds: what the pretrained networks say about each 3-s patch (taggram
and penultimate embedding), the input level they hear, and the four-network layout."""
from __future__ import annotations

import numpy as np

from genre_core.config import FeatureConfig

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
    from genre_core.features.musicnn.backbone import DEFAULT_PATH, embed
    from genre_core.serving import load_net

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
    from genre_core.features.musicnn.zoo import extract_all

    return extract_all(musicnn_input(y, config), config.sample_rate)


def musicnn4_columns() -> dict[str, slice]:
    """'<network>/taggram' | '<network>/embedding' -> column slice of the musicnn4 feature
    (network: MSD_musicnn, MTT_musicnn, MSD_vgg, MTT_vgg); see musicnn_zoo.select_columns."""
    from genre_core.features.musicnn.zoo import column_layout

    return column_layout()
