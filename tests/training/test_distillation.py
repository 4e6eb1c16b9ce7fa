"""Distillation of a teacher's out-of-fold probabilities into the MFCC models."""
from __future__ import annotations

import numpy as np
import pytest

from genre_core.config import TrainConfig
from genre_core.features.musicnn.zoo import N_COLUMNS, column_layout
from genre_core.training.fitting import soft_targets, teacher_probabilities

LABELS = ["blues", "jazz", "rock"]


def test_soft_targets_mix_label_and_teacher_per_unit():
    features = {"a": np.zeros((2, 4)), "b": np.zeros((3, 4))}
    genre_of = {"a": "jazz", "b": "rock"}
    teacher = {"a": np.array([0.2, 0.2, 0.6]), "b": np.array([0.0, 0.0, 1.0])}
    y = soft_targets(["a", "b"], features, genre_of, LABELS, teacher)
    assert y.shape == (5, 3)
    np.testing.assert_allclose(y[0], [0.1, 0.6, 0.3])
    np.testing.assert_allclose(y[4], [0.0, 0.0, 1.0])
    np.testing.assert_allclose(y.sum(1), 1.0)


def test_soft_targets_follow_the_teachers_units_by_position():
    """A teacher with one row per unit: each student unit gets the row for the same stretch
    of the clip (equal counts: one to one; fewer teacher units: the nearest earlier one)."""
    features = {"a": np.zeros((3, 4)), "b": np.zeros((4, 4))}
    genre_of = {"a": "blues", "b": "rock"}
    eye = np.eye(3)
    teacher = {"a": eye[[2, 1, 0]], "b": eye[[0, 1]]}
    y = soft_targets(["a", "b"], features, genre_of, LABELS, teacher)
    np.testing.assert_allclose(y[:3], 0.5 * eye[[0, 0, 0]] + 0.5 * eye[[2, 1, 0]])
    np.testing.assert_allclose(y[3:], 0.5 * eye[[2, 2, 2, 2]] + 0.5 * eye[[0, 0, 1, 1]])


def test_the_teachers_share_is_a_training_setting():
    """`train --distill-weight W` sets TrainConfig.distill_weight, and the soft targets give
    the teacher that share; anything outside 0-1 is refused in one line."""
    from genre_core.cli.parser import build_parser

    args = build_parser().parse_args(["train", "--data", "x", "--distill-weight", "0.8"])
    assert args.distill_weight == 0.8
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--data", "x", "--distill-weight", "1.5"])
    features, genre_of = {"a": np.zeros((1, 4))}, {"a": "blues"}
    y = soft_targets(["a"], features, genre_of, LABELS, {"a": np.array([0.0, 0.0, 1.0])},
                     weight=TrainConfig(distill_weight=0.8).distill_weight)
    np.testing.assert_allclose(y[0], [0.2, 0.0, 0.8])


def test_teacher_probabilities_are_out_of_fold_by_artist():
    """Every track gets the probabilities of a teacher fitted without its artist: with a
    feature that carries the genre the teacher is right; with a feature that carries only
    the artist (each artist's own random signature) it cannot be."""
    rng = np.random.default_rng(0)
    ids = [f"t{i}" for i in range(60)]
    genre_of = {t: LABELS[i % 3] for i, t in enumerate(ids)}
    groups = {t: f"artist{i % 12}" for i, t in enumerate(ids)}
    sl = column_layout()["MSD_musicnn/embedding"]
    informative, artist_only = {}, {}
    signature = {g: rng.normal(size=N_COLUMNS) for g in set(groups.values())}
    for i, t in enumerate(ids):
        x = rng.normal(size=(4, N_COLUMNS)).astype(np.float32)
        x[:, sl.start:sl.start + 60] += 3.0 * np.repeat(np.eye(3)[i % 3], 20)
        informative[t] = x
        artist_only[t] = (signature[groups[t]] + 0.1 * rng.normal(size=(4, N_COLUMNS))
                          ).astype(np.float32)
    good = teacher_probabilities("musicnn4", ids, informative, genre_of, LABELS, groups,
                                 TrainConfig())
    assert set(good) == set(ids)
    assert all(good[t].shape == (4, 3) for t in ids)          # one row per teacher unit
    assert np.mean([LABELS[int(good[t].mean(0).argmax())] == genre_of[t] for t in ids]) > 0.9
    blind = teacher_probabilities("musicnn4", ids, artist_only, genre_of, LABELS, groups,
                                  TrainConfig())
    # artist signatures identify genre only for an artist seen in training: held out, ~chance
    assert np.mean([LABELS[int(blind[t].mean(0).argmax())] == genre_of[t] for t in ids]) < 0.6


def test_musicnn4_teaches_with_its_logistic_regression_head(monkeypatch):
    """The shipped musicnn4 head is LDA; as a teacher it fits the softer logistic regression
    (TEACHER_PARAMS), whose probabilities taught the CNN more."""
    from genre_core.models.musicnn_multi import MusicnnMultiModel
    from genre_core.training import fitting

    heads = []
    real_fit = MusicnnMultiModel.fit

    def spy(self, *args, **kwargs):
        heads.append((self.params["head"], self.params["temperature"]))
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(MusicnnMultiModel, "fit", spy)
    rng = np.random.default_rng(1)
    ids = [f"t{i}" for i in range(30)]
    genre_of = {t: LABELS[i % 3] for i, t in enumerate(ids)}
    groups = {t: f"artist{i % 6}" for i, t in enumerate(ids)}
    feats = {t: rng.normal(size=(3, N_COLUMNS)).astype(np.float32) for t in ids}
    fitting.teacher_probabilities("musicnn4", ids, feats, genre_of, LABELS, groups,
                                  TrainConfig(), folds=3)
    assert heads == [("logreg", 1.0)] * 3
    assert MusicnnMultiModel(LABELS).params["head"] == "lda"      # the shipped default


@pytest.mark.slow
def test_saved_keras_model_has_no_optimizer_state(tmp_path):
    """Bundles ship weights only: Adam's two moment copies would triple the file."""
    import io
    import zipfile

    import h5py

    from genre_core.models.mlp import MLPModel

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 130, 13)).astype(np.float32), np.arange(40) % 3
    model = MLPModel(LABELS, "corrected")
    model.fit(X, y, X[:9], y[:9], TrainConfig(epochs=2))
    model.save(tmp_path)
    with zipfile.ZipFile(tmp_path / "model.keras") as z:
        names = []
        h5py.File(io.BytesIO(z.read("model.weights.h5"))).visit(names.append)
    assert any(n.startswith("layers") for n in names)
    assert not [n for n in names if n.startswith("optimizer")]
