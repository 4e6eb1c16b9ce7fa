"""Straddling segments: the extra training units between each two consecutive 3-s segments."""
from __future__ import annotations

import numpy as np
import pytest

from genre_core.config import FeatureConfig, TrainConfig
from genre_core.training.straddling import straddling_targets, straddling_units, with_straddling

LABELS = ["blues", "jazz", "rock"]


def test_a_straddling_unit_is_the_second_half_of_one_segment_then_the_first_of_the_next():
    units = np.arange(3 * 6 * 2, dtype=np.float32).reshape(3, 6, 2)
    s = straddling_units(units)
    assert s.shape == (2, 6, 2)
    np.testing.assert_array_equal(s[0], np.concatenate([units[0, 3:], units[1, :3]]))
    np.testing.assert_array_equal(s[1], np.concatenate([units[1, 3:], units[2, :3]]))
    odd = straddling_units(np.zeros((2, 7, 2)))
    assert odd.shape == (1, 7, 2)                # every unit keeps the segments' frame count
    assert straddling_units(units[:1]).shape == (0, 6, 2)      # one segment: nothing between


def test_the_targets_are_the_label_or_the_mean_of_the_two_soft_rows():
    np.testing.assert_array_equal(straddling_targets(np.array([2, 2, 2])), [2, 2])
    soft = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]], np.float32)
    np.testing.assert_allclose(straddling_targets(soft), [[0.5, 0.5, 0], [0, 0.5, 0.5]])
    assert straddling_targets(soft[:1]).shape == (0, 3)


def test_with_straddling_appends_each_tracks_own_units_never_across_tracks():
    features = {"a": np.zeros((3, 4, 1)), "b": np.ones((1, 4, 1)), "c": 2 * np.ones((2, 4, 1))}
    ids = ["a", "b", "c"]
    X = np.concatenate([features[i] for i in ids])
    y = np.array([0, 0, 0, 1, 2, 2])
    X2, y2 = with_straddling(ids, features, X, y)
    assert len(X2) == 6 + 2 + 0 + 1               # a: 2 between its 3; b: none; c: 1
    np.testing.assert_array_equal(X2[:6], X)       # the extracted units first, unchanged
    np.testing.assert_array_equal(X2[6:8], 0)      # a's, made of a's frames only
    np.testing.assert_array_equal(X2[8], 2)        # c's, not half b's
    np.testing.assert_array_equal(y2, [0, 0, 0, 1, 2, 2, 0, 0, 2])


def test_a_straddling_unit_is_nearly_what_the_extractor_gives_at_that_offset():
    """Cut half a segment's frames later, the extractor gives the straddling unit's first
    half exactly (away from the frames at the segments' edges, which see padding), and its
    second half at most 410 samples (19 ms; 3 s is not a whole number of hops) away."""
    from genre_core.features.spectral import mfcc_segments

    config = FeatureConfig()
    rng = np.random.default_rng(0)
    t = np.arange(int(9.5 * config.sample_rate)) / config.sample_rate
    y = (np.sin(2 * np.pi * (220 + 40 * t) * t) * (1 + np.sin(2 * np.pi * 0.7 * t))
         + 0.1 * rng.normal(size=len(t))).astype(np.float32)
    s = straddling_units(mfcc_segments(y, config))
    half = config.frames_per_segment // 2
    shifted = mfcc_segments(y[half * config.hop_length:], config)
    assert len(s) == len(shifted) == 2
    np.testing.assert_allclose(s[:, 2:half - 2], shifted[:, 2:half - 2], atol=1e-3)
    jitter = config.segment_samples - 2 * half * config.hop_length
    assert abs(jitter) == 410 < config.hop_length
    # the unshifted segments are not that: the match is the offset's, not the clip's
    assert not np.allclose(mfcc_segments(y, config)[:2, 2:half - 2], shifted[:, 2:half - 2],
                           atol=1e-3)


def test_fit_model_trains_on_the_straddling_units_of_training_tracks_only(monkeypatch):
    from genre_core.models.keras_segments import KerasSegmentModel
    from genre_core.training import fitting

    seen = {}

    def fake_fit(self, X_train, y_train, X_valid, y_valid, config, progress=False):
        seen.update(n_train=len(X_train), n_valid=len(X_valid), epochs=config.epochs,
                    targets=np.asarray(y_train))
        return {"loss": [0.0]}

    monkeypatch.setattr(KerasSegmentModel, "fit", fake_fit)
    features = {t: np.zeros((10, 8, 3), np.float32) for t in ("a", "b", "c")}
    genre_of = {"a": "blues", "b": "jazz", "c": "rock"}
    config = TrainConfig(straddling=True, epochs=40)
    fitting.fit_model("cnn", "corrected", ["a", "b"], ["c"], features, genre_of, LABELS,
                      config)
    assert seen["n_train"] == 2 * 10 + 2 * 9 and seen["n_valid"] == 10
    assert seen["epochs"] == round(40 / (38 / 20))      # the same optimiser steps
    np.testing.assert_array_equal(np.bincount(seen["targets"]), [19, 19])
    fitting.fit_model("cnn", "corrected", ["a", "b"], ["c"], features, genre_of, LABELS,
                      TrainConfig(epochs=40))
    assert seen["n_train"] == 20 and seen["epochs"] == 40
    with pytest.raises(ValueError, match="augmentation"):
        fitting.fit_model("cnn", "corrected", ["a"], [], features, genre_of, LABELS, config,
                          augment=lambda *a: a[1:3])


def test_train_straddling_is_a_flag_of_train():
    from genre_core.cli.parser import build_parser

    assert build_parser().parse_args(["train", "--data", "x", "--straddling"]).straddling
    assert not build_parser().parse_args(["train", "--data", "x"]).straddling
