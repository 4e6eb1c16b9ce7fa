"""The transfer model over all four musicnn networks: column choice, a fit that
separates genres with either head, the same probabilities as scikit-learn's, exact round trip
through a pickle-free .npz, a bundle from before the head choice, and refusal of a bad file."""
from __future__ import annotations

import numpy as np
import pytest

from genre_core.config import TrainConfig
from genre_core.errors import GenreError
from genre_core.features.musicnn.zoo import N_COLUMNS, column_layout
from genre_core.models.musicnn_multi import MusicnnMultiModel, chosen_columns

LABELS = ["blues", "jazz", "rock"]


def _clips(n=60, seed=0):
    """Random patches whose MTT_vgg/embedding mean carries the genre."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    X = rng.normal(size=(n, N_COLUMNS)).astype(np.float32)
    sl = column_layout()["MTT_vgg/embedding"]
    X[:, sl.start:sl.start + 150] += 2.0 * np.repeat(np.eye(3)[y], 50, axis=1)
    return X, y


def test_columns_follow_the_chosen_blocks():
    cols = chosen_columns({"datasets": ["MSD", "MTT"], "archs": ["musicnn"],
                           "blocks": ["taggram"]})
    assert list(cols) == list(range(50)) + list(range(250, 300))
    assert len(chosen_columns({"datasets": ["MSD", "MTT"], "archs": ["musicnn", "vgg"],
                               "blocks": ["taggram", "embedding"]})) == N_COLUMNS


@pytest.mark.parametrize("head", ["lda", "logreg"])
def test_fit_separates_genres_and_round_trips(tmp_path, head):
    X, y = _clips()
    model = MusicnnMultiModel(LABELS, "corrected", {"C": 0.1, "head": head})
    model.fit(X[:45], y[:45], None, None, TrainConfig())
    p = model.predict_proba(X[45:])
    assert p.shape == (15, 3) and np.allclose(p.sum(1), 1, atol=1e-5)
    assert (p.argmax(1) == y[45:]).mean() >= 0.9
    model.save(tmp_path)
    back = MusicnnMultiModel.load(tmp_path, LABELS, "corrected", model.params)
    np.testing.assert_allclose(back.predict_proba(X[45:]), p, atol=1e-6)


def test_matches_scikit_learn(tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = _clips(seed=3)
    model = MusicnnMultiModel(LABELS, "corrected", {"C": 0.03, "class_weight": None,
                                                    "head": "logreg", "temperature": 1.0})
    model.fit(X, y, None, None, TrainConfig())
    cols = chosen_columns(model.params)
    ref = make_pipeline(StandardScaler(), LogisticRegression(C=0.03, max_iter=5000,
                                                             random_state=42)).fit(X[:, cols], y)
    np.testing.assert_allclose(model.predict_proba(X), ref.predict_proba(X[:, cols]), atol=1e-5)


@pytest.mark.parametrize("labels", [LABELS, LABELS[:2]])
def test_lda_head_matches_scikit_learn(labels):
    """The shipped head: shrunk LDA with equal priors, applied from its stored arrays."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = _clips(seed=5)
    keep = y < len(labels)
    X, y = X[keep], y[keep]
    model = MusicnnMultiModel(labels, "corrected", {"temperature": 1.0})
    assert model.params["head"] == "lda"
    model.fit(X, y, None, None, TrainConfig())
    cols = chosen_columns(model.params)
    k = len(labels)
    ref = make_pipeline(StandardScaler(), LinearDiscriminantAnalysis(
        solver="lsqr", shrinkage="auto", priors=np.full(k, 1 / k))).fit(X[:, cols], y)
    np.testing.assert_allclose(model.predict_proba(X), ref.predict_proba(X[:, cols]), atol=1e-5)


def test_patch_temperature_softens_the_same_ranking():
    """The shipped default divides the patch logits by PATCH_TEMPERATURE: p ~ p_1 ** (1 / T),
    the same top genre per patch, less sure."""
    from genre_core.models.musicnn_multi import PATCH_TEMPERATURE

    X, y = _clips(n=300, seed=6)
    X[:, :] += np.random.default_rng(7).normal(scale=8.0, size=X.shape)   # classes overlap
    sharp = MusicnnMultiModel(LABELS, "corrected", {"temperature": 1.0})
    sharp.fit(X, y, None, None, TrainConfig())
    soft = MusicnnMultiModel(LABELS, "corrected")
    soft.fit(X, y, None, None, TrainConfig())
    assert soft.params["temperature"] == PATCH_TEMPERATURE > 1
    p1, pt = sharp.predict_proba(X), soft.predict_proba(X)
    expected = p1.astype(np.float64) ** (1 / PATCH_TEMPERATURE)
    np.testing.assert_allclose(pt, expected / expected.sum(1, keepdims=True), atol=1e-5)
    assert (pt.argmax(1) == p1.argmax(1)).all() and pt.max(1).mean() < p1.max(1).mean()
    with pytest.raises(GenreError, match="temperature"):
        MusicnnMultiModel(LABELS, "corrected", {"temperature": 0})


def test_bundle_from_before_the_head_choice_loads_as_logistic_regression(tmp_path):
    """Bundles written before params had "head" hold a logistic regression's arrays."""
    X, y = _clips()
    model = MusicnnMultiModel(LABELS, "corrected", {"C": 0.1, "head": "logreg",
                                                    "temperature": 1.0})
    model.fit(X, y, None, None, TrainConfig())
    model.save(tmp_path)
    old_params = {k: v for k, v in model.params.items() if k not in ("head", "temperature")}
    back = MusicnnMultiModel.load(tmp_path, LABELS, "corrected", old_params)
    assert back.params["head"] == "logreg" and back.params["temperature"] == 1.0
    np.testing.assert_allclose(back.predict_proba(X), model.predict_proba(X), atol=1e-6)
    with pytest.raises(GenreError, match="head 'svm'"):
        MusicnnMultiModel(LABELS, "corrected", {"head": "svm"})


def test_mismatched_file_is_refused(tmp_path):
    X, y = _clips()
    model = MusicnnMultiModel(LABELS, "corrected", {"C": 0.1})
    model.fit(X, y, None, None, TrainConfig())
    model.save(tmp_path)
    with pytest.raises(GenreError, match="does not match"):
        MusicnnMultiModel.load(tmp_path, LABELS, "corrected", {"archs": ["vgg"]})
    (tmp_path / "classifier.npz").write_bytes(b"not an npz")
    with pytest.raises(GenreError, match="classifier.npz"):
        MusicnnMultiModel.load(tmp_path, LABELS, "corrected", model.params)
