import numpy as np

from genre_core.config import FeatureConfig
from genre_core.features import mfcc_segments, segment
from tests.helpers.audio import tone


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
    from genre_core.features import mfcc_segments

    rate = 22050
    y = (0.1 * np.random.default_rng(0).normal(size=rate * 12)).astype(np.float32)
    y[:rate * 3] *= 1e-3                       # a near-silent first segment
    per_segment = FeatureConfig(db_floor="segment")
    whole = mfcc_segments(y, per_segment)
    alone = mfcc_segments(y[:rate * 3], per_segment)
    np.testing.assert_allclose(whole[0], alone[0], atol=1e-3)
    clip_wide = mfcc_segments(y, FeatureConfig())
    assert np.abs(clip_wide[0] - mfcc_segments(y[:rate * 3], FeatureConfig())[0]).max() > 0.1


def test_logmel_segments_hear_every_segment_at_its_own_level():
    """The mel CNN's input: 64 bands per frame, 0 dB at each segment's loudest bin, floor
    -80 dB; a recording 20 dB quieter, or a loud segment beside it, leaves it unchanged,
    and the 20 bins of one long call equal those of short calls."""
    from genre_core.features import LOGMEL_BANDS, logmel_segments

    rate = 22050
    y = (0.1 * np.random.default_rng(1).normal(size=rate * 9)).astype(np.float32)
    y[: rate * 3] = tone(3.0, freq=330)
    units = logmel_segments(y)
    assert units.shape == (3, 130, LOGMEL_BANDS) and units.dtype == np.float32
    np.testing.assert_allclose(units.max(axis=(1, 2)), 0.0, atol=1e-5)
    assert units.min() >= -80.0
    np.testing.assert_allclose(logmel_segments(0.1 * y), units, atol=1e-3)
    np.testing.assert_allclose(logmel_segments(y[rate * 3:rate * 6])[0], units[1], atol=1e-3)
    # the tone's segment and the noise's differ: the input says what is in it
    assert np.abs(units[0] - units[1]).mean() > 5.0
    long = np.tile(y, 8)                                  # 24 segments: two chunks
    np.testing.assert_allclose(logmel_segments(long)[21], units[0], atol=1e-3)
