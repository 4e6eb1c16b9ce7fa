"""Augmentation touches training tracks only; the LSTM and musicnn-transfer families honour
the GenreModel contract (fit, batched predict, save/load round trip)."""
import numpy as np
import pytest

from genre_core.config import TrainConfig
from genre_core.models import model_class
from tests.helpers.audio import tone


@pytest.mark.parametrize("kind", ["mfcc", "logmel"])
def test_recording_copies_are_input_blocks_of_two_other_recordings(kind):
    """The MFCC models' and the mel CNN's `train --augment` copies: the same blocks as the
    model's input, of two changed recordings, reproducible, computed in the worker pool."""
    from genre_core.config import FeatureConfig
    from genre_core.features import KINDS
    from genre_core.training.augment import augmentations
    from genre_core.training.recording_copies import RECORDING_COPIES

    config = FeatureConfig()
    y = tone(6.5, freq=330)
    clean = KINDS[kind].extract(y, config)
    copies_kind = augmentations()[kind][0]
    make, pool_safe = KINDS[copies_kind].extractor, KINDS[copies_kind].parallel
    assert KINDS[copies_kind].training_only and not KINDS[kind].training_only
    units = make(y, config)
    assert copies_kind == f"{kind}_rec" and pool_safe
    assert units.shape == (RECORDING_COPIES * len(clean),) + clean.shape[1:]
    assert not np.allclose(units[:len(clean)], clean, atol=1e-2)     # a changed recording
    np.testing.assert_array_equal(units, make(y, config))            # reproducible


def _separable(n=40, shape=(130, 13), seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.standard_normal((n, *shape)).astype(np.float32)
    X += (y * 1.5).reshape(-1, *([1] * len(shape)))
    return X, y


@pytest.mark.slow
def test_lstm_fits_and_round_trips(tmp_path):
    X, y = _separable()
    m = model_class("lstm")(["a", "b"], "corrected")
    m.fit(X[:30], y[:30], X[30:], y[30:], TrainConfig(epochs=3, learning_rate=3e-3, warmup_epochs=0))
    p = m.predict_proba(X[30:])
    assert p.shape == (10, 2) and np.allclose(p.sum(1), 1, atol=1e-5)
    m.save(tmp_path / "lstm")
    again = model_class("lstm").load(tmp_path / "lstm", ["a", "b"], "corrected", {})
    np.testing.assert_allclose(again.predict_proba(X[30:]), p, atol=1e-6)


def test_musicnn_transfer_classifier_round_trips(tmp_path):
    X, y = _separable(60, (250,))
    m = model_class("musicnn")(["a", "b", "c"], "corrected")   # "c" never seen in training
    m.fit(X[:40], y[:40], X[40:50], y[40:50], TrainConfig())
    p = m.predict_proba(X[50:])
    assert p.shape == (10, 3) and np.all(p[:, 2] == 0)
    assert (p.argmax(1) == y[50:]).mean() >= 0.9
    m.save(tmp_path / "mn")
    again = model_class("musicnn").load(tmp_path / "mn", ["a", "b", "c"], "corrected", m.params)
    np.testing.assert_allclose(again.predict_proba(X[50:]), p)


# ---------------------------------------------------------------- "own recording" copies

def test_recording_copies_are_reproducible_clipped_and_leave_numpy_alone():
    from genre_core.training.recording_copies import recording_copies

    y = tone(4.0, freq=330) * 0.9
    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    a = recording_copies(y, 22050, seed=5, n_copies=2)
    assert np.random.random() == before                  # the caller's random state is kept
    b = recording_copies(y, 22050, seed=5, n_copies=2)
    assert len(a) == 2 and all(len(c) == len(y) for c in a)
    for c, d in zip(a, b):
        np.testing.assert_array_equal(c, d)              # seeded by the clip: cacheable
        assert np.abs(c).max() <= 1.0
    # each step applies with some probability (for this seed none does to the second copy)
    assert not np.allclose(a[0], y, atol=1e-3)
    assert not np.allclose(a[0], a[1], atol=1e-3)        # two different recordings


def test_copy_augmenter_adds_every_copy_of_training_tracks_only():
    from genre_core.training.recording_copies import CopyAugmenter

    copies = {f"t{i}": np.full((6, 4), float(i), np.float32) for i in range(3)}
    X, y = np.zeros((3, 4), np.float32), np.arange(3)
    X2, y2 = CopyAugmenter(copies)(["t2"], X, y, {"t2": 9}, seed=0)
    assert len(X2) == 3 + 6 and set(np.unique(X2[3:])) == {2.0} and set(y2[3:]) == {9}
    np.testing.assert_array_equal(X2[:3], X)             # the originals are untouched


def test_each_augmented_input_has_its_copies_kind():
    from genre_core.features import KINDS
    from genre_core.training.augment import augmentations

    for kind, (copies_kind, _) in augmentations().items():
        assert kind in KINDS and copies_kind in KINDS and KINDS[kind].copies == copies_kind


def test_the_ensemble_learns_from_the_figures_of_the_model_it_ships():
    """A model shipped with augmentation is stacked on its augmented out-of-fold figures."""
    from genre_core.training.ensemble import out_of_fold

    def ev(augmented, p):
        return {"model": "m", "split": "artist", "variant": "corrected", "augmented": augmented,
                "per_track": [{"track": "t", "probabilities": {"a": p, "b": 1 - p}}]}
    meta = {"labels": ["a", "b"], "models": {"m": {"variant": "corrected"}}}
    report = {"evaluations": [ev(False, 0.2), ev(True, 0.7)], "models": {"m": {}}}
    assert out_of_fold(report, meta)["m"]["t"][0] == pytest.approx(0.2)
    report["models"]["m"]["augmented"] = True
    assert out_of_fold(report, meta)["m"]["t"][0] == pytest.approx(0.7)
