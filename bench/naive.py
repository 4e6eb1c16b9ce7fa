"""The naive notebook pipeline the fast path is measured against (librosa.load,
MFCC per segment in a loop, Keras model.predict per segment)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from genre_core.config import FeatureConfig

NAIVE_MODELS = ("mlp", "cnn")   # the notebook's two networks


def naive_features(y: np.ndarray, config: FeatureConfig = FeatureConfig()) -> list[np.ndarray]:
    """The notebook's way: one librosa.feature.mfcc call per segment, in a Python loop.
    Each item is (frames, n_mfcc), like one row of features.mfcc_segments."""
    import librosa

    n = config.segment_samples
    count = max(1, len(y) // n)
    out = []
    for i in range(count):
        seg = y[i * n:(i + 1) * n]
        if len(seg) < n:
            seg = np.pad(seg, (0, n - len(seg)))
        m = librosa.feature.mfcc(y=seg, sr=config.sample_rate, n_mfcc=config.n_mfcc,
                                 n_fft=config.n_fft, hop_length=config.hop_length)
        out.append(m.T.astype(np.float32))
    return out


def naive_load(path, config: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """librosa.load with its default resampling (the whole file, no read limit)."""
    import warnings

    import librosa

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y, _ = librosa.load(str(path), sr=config.sample_rate)
    return y


def keras_net(bundle, name: str):
    """The Keras network of a bundle's MFCC model (the notebook runs Keras, not the ONNX
    export the Predictor serves)."""
    model = bundle.models[name]
    if hasattr(model.net, "fit"):
        return model.net
    import keras

    folder = bundle.meta.get("models", {}).get(name, {}).get("folder", name)
    return keras.saving.load_model(Path(bundle.path) / folder / "model.keras", compile=False)


def naive_model_proba(model, segments: list[np.ndarray], net=None) -> np.ndarray:
    """model.predict once per segment, as the notebook does; (n_segments, n_labels)."""
    net = net if net is not None else model.net
    rows = [net.predict(model.scale(s[None]), verbose=0)[0] for s in segments]
    return np.asarray(rows, dtype=np.float32)


def naive_predict(path, bundle, timings: dict | None = None, nets: dict | None = None
                  ) -> dict[str, np.ndarray]:
    """The naive pipeline end to end with the notebook's MLP and CNN; returns {model name:
    track-level probabilities}. `timings` (if given) receives decode / extract /
    model:<name> seconds (the Predictor's keys, so stages compare one to one)."""
    timings = {} if timings is None else timings
    nets = nets if nets is not None else {n: keras_net(bundle, n) for n in NAIVE_MODELS
                                          if n in bundle.models}
    config = bundle.feature_config
    t = time.perf_counter()
    y = naive_load(path, config)
    timings["decode"] = time.perf_counter() - t
    t = time.perf_counter()
    segs = naive_features(y, config)
    timings["extract"] = time.perf_counter() - t
    out = {}
    for name, net in nets.items():
        t = time.perf_counter()
        out[name] = naive_model_proba(bundle.models[name], segs, net).mean(axis=0)
        timings[f"model:{name}"] = time.perf_counter() - t
    return out
