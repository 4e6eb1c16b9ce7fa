"""A segment model that averages several networks (TrainConfig.networks, `train --networks`):
one network per seed, kept as one Keras model whose output is their mean."""
from __future__ import annotations

import numpy as np
import pytest

from genre_core.config import TrainConfig
from genre_core.models.cnn import CNNModel

LABELS = ["blues", "jazz", "rock"]


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(LABELS), n)
    X = rng.normal(size=(n, 130, 13)).astype(np.float32)
    X[:, :, 1] += y[:, None]        # a genre cue, so the networks learn something
    return X, y


def test_networks_must_be_one_or_more():
    with pytest.raises(ValueError, match="networks"):
        TrainConfig(networks=0)


def test_the_averaged_model_is_the_mean_of_networks_from_consecutive_seeds(tmp_path):
    """Three networks: the saved model's output is the mean of its three sub-networks, the
    first is the very network a one-network fit with the same seed gives, the others differ
    (their own seeds), and the model saves, exports to ONNX and serves as one network."""
    from genre_core.serving import OnnxNet

    X, y = _data()
    config = TrainConfig(epochs=3, warmup_epochs=1, seed=7)
    three = CNNModel(LABELS, "corrected")
    history = three.fit(X, y, X[:12], y[:12], TrainConfig(**{**config.to_dict(), "networks": 3}))
    assert three.params["networks"] == 3 and len(history["loss"]) >= 1
    subs = [layer for layer in three.net.layers if layer.name.endswith(("_net0", "_net1", "_net2"))]
    assert len(subs) == 3
    units = three.scale(X[:6])
    each = [np.asarray(s(units, training=False)) for s in subs]
    p = three.predict_proba(X[:6])
    np.testing.assert_allclose(p, np.mean(each, axis=0), atol=1e-6)
    assert np.abs(each[0] - each[1]).max() > 1e-3, "the networks must differ by their seeds"

    one = CNNModel(LABELS, "corrected")
    one.fit(X, y, X[:12], y[:12], config)
    assert "networks" not in one.params
    np.testing.assert_allclose(one.predict_proba(X[:6]), each[0], atol=1e-6)

    three.save(tmp_path / "cnn")
    loaded = CNNModel.load(tmp_path / "cnn", LABELS, "corrected", three.params)
    assert isinstance(loaded.net, OnnxNet), "the averaged model must be served by ONNX Runtime"
    np.testing.assert_allclose(loaded.predict_proba(X[:6]), p, atol=1e-5)


def test_train_networks_reaches_the_training_config():
    from genre_core.cli.parser import build_parser

    args = build_parser().parse_args(["train", "--data", "x", "--networks", "3"])
    assert args.networks == 3
    assert build_parser().parse_args(["train", "--data", "x"]).networks == 1
    for bad in ("0", "-2", "two"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["train", "--data", "x", "--networks", bad])
