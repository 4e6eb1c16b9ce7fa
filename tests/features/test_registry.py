"""The feature-kind registry: every kind the app can serve makes units of the shape it
declares, a whole-clip kind makes one unit, unit starts follow the segment length, the
training-only copies stay out of serving, and an unknown kind is named in the error."""
from __future__ import annotations

import numpy as np
import pytest

from genre_core import features
from genre_core.config import FeatureConfig
from tests.helpers.audio import tone


@pytest.mark.parametrize("name", ["mfcc", "logmel", "kaggle"])
def test_each_cheap_kind_makes_units_of_its_declared_shape(name):
    config = FeatureConfig()
    k = features.kind(name)
    units = k.extract(tone(7.0, freq=440), config)
    assert units.dtype == np.float32
    assert tuple(units.shape[1:]) == k.unit_shape(config)
    assert len(units) == (1 if k.whole_clip else 2)          # 7 s: two whole 3-s segments
    starts = k.unit_starts(len(units), config)
    assert starts == ([0.0] if k.whole_clip else [0.0, 3.0])


def test_segments_follow_the_configured_length():
    config = FeatureConfig(segment_seconds=2.0)
    assert features.kind("mfcc").unit_starts(3, config) == [0.0, 2.0, 4.0]
    assert features.kind("mfcc").unit_span(2, config) == (4.0, 6.0)
    assert features.kind("kaggle").unit_span(0, config) == (0.0, 0.0)


def test_serving_kinds_leave_the_training_copies_out():
    import genre_core.training.recording_copies  # noqa: F401 - registers the copies

    serving = set(features.serving_kinds())
    assert {"mfcc", "logmel", "kaggle", "musicnn", "musicnn4"} <= serving
    for name, k in features.KINDS.items():
        if k.training_only:
            assert name not in serving
    for name in ("mfcc", "logmel", "musicnn4"):       # each augmented input has its copies
        assert features.kind(features.kind(name).copies).training_only
    assert set(features.segment_kinds()) == {"mfcc", "logmel", "mfcc_rec", "logmel_rec"}


def test_an_unknown_kind_is_named():
    with pytest.raises(KeyError, match="unknown feature kind 'chords'.*mfcc"):
        features.kind("chords")


def test_a_new_kind_is_one_register_call():
    k = features.FeatureKind("rms_test", lambda y, c: np.array([[float(np.sqrt(np.mean(y ** 2)))]],
                                                              np.float32),
                             "RMS level of the whole clip", whole_clip=True,
                             unit_shape=lambda c: (1,))
    try:
        features.register(k)
        units = features.extract("rms_test", tone(2.0, freq=220))
        assert units.shape == (1, 1) and features.kind("rms_test").unit_starts(1) == [0.0]
    finally:
        features.KINDS.pop("rms_test", None)
