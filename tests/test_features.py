import numpy as np

from conftest import tone
from genre_core.config import FeatureConfig
from genre_core.inference.features import mfcc_segments, segment


def test_thirty_seconds_give_ten_segments_of_130_frames():
    y = tone(30.5)
    units = mfcc_segments(y)
    assert units.shape == (10, 130, 13) and units.dtype == np.float32


def test_partial_last_segment_is_dropped_and_short_clip_padded():
    assert segment(tone(7.9)).shape == (2, 66150)
    short = segment(tone(1.0))
    assert short.shape == (1, 66150) and np.all(short[0, 22050:] == 0)


def test_mfcc_matches_per_segment_librosa_call():
    """The batched call equals the classic per-segment loop."""
    import librosa

    y = tone(9.0, freq=220)
    batched = mfcc_segments(y)
    for i in range(3):
        seg = y[i * 66150:(i + 1) * 66150]
        one = librosa.feature.mfcc(y=seg, sr=22050, n_mfcc=13, n_fft=2048, hop_length=512).T
        np.testing.assert_allclose(batched[i], one, rtol=1e-4, atol=1e-3)


def test_config_changes_shape():
    cfg = FeatureConfig(n_mfcc=20, hop_length=1024)
    assert mfcc_segments(tone(6.0), cfg).shape == (2, 65, 20)


def test_segment_db_floor_makes_segments_independent_of_the_rest_of_the_clip():
    """With db_floor='segment' a segment's MFCCs are the same whatever precedes it; with the
    seed's clip-wide floor a near-silent segment depends on the loudest segment."""
    import numpy as np

    from genre_core.config import FeatureConfig
    from genre_core.inference.features import mfcc_segments

    rate = 22050
    y = (0.1 * np.random.default_rng(0).normal(size=rate * 12)).astype(np.float32)
    y[:rate * 3] *= 1e-3                       # a near-silent first segment
    per_segment = FeatureConfig(db_floor="segment")
    whole = mfcc_segments(y, per_segment)
    alone = mfcc_segments(y[:rate * 3], per_segment)
    np.testing.assert_allclose(whole[0], alone[0], atol=1e-3)
    clip_wide = mfcc_segments(y, FeatureConfig())
    assert np.abs(clip_wide[0] - mfcc_segments(y[:rate * 3], FeatureConfig())[0]).max() > 0.1
