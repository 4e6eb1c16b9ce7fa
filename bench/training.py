"""Section `training`: seconds per epoch per family; the quick bundle fitted when
none is given."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from bench.common import eprint, stats
from genre_core.config import FeatureConfig


def bench_training(data: dict, families: list[str], epochs: int) -> dict:
    import keras  # noqa: F401 - imported before the clock starts (the import is section 2's)

    import genre_core.models.keras_segments as ks
    from genre_core.config import TrainConfig, label_order
    from genre_core.training.fitting import fit_model
    from genre_core.training.splits import carve_valid

    feats, tracks = data["features"], data["tracks"]
    genre_of = {t.id: t.genre for t in tracks if t.id in feats}
    labels = label_order(genre_of.values())
    ids = sorted(genre_of)
    train_ids, valid_ids = carve_valid(ids, [genre_of[i] for i in ids], 0.2, 42)
    out: dict = {"epochs": epochs, "train_tracks": len(train_ids),
                 "train_units": int(sum(len(feats[i]) for i in train_ids)),
                 "valid_tracks": len(valid_ids)}
    original = ks.EpochProgress.make
    models = {}
    for family in families:
        times: list[float] = []

        def make(total, desc, _times=times):
            class _Timer(keras.callbacks.Callback):
                def on_epoch_begin(self, epoch, logs=None):
                    self.t = time.perf_counter()

                def on_epoch_end(self, epoch, logs=None):
                    _times.append(time.perf_counter() - self.t)

            return _Timer()

        ks.EpochProgress.make = staticmethod(make)
        try:
            model, history, secs = fit_model(family, "corrected", train_ids, valid_ids, feats,
                                             genre_of, labels,
                                             TrainConfig(epochs=epochs, seed=42), progress=True)
        finally:
            ks.EpochProgress.make = original
        models[family] = model
        out[family] = {"seconds_per_epoch": stats(times), "total": stats([secs]),
                       "first_epoch": times[0],
                       "later_epochs_median": (float(np.median(times[1:]))
                                               if len(times) > 1 else None)}
        eprint(f"  training {family}: {secs:.1f} s for {len(times)} epoch(s)")
    return out, models, labels


def build_quick_bundle(out: Path, data: dict | None) -> Path:
    """A bundle to measure with when there is none: mlp+cnn fitted for 2 epochs (the size and
    speed of a model do not depend on how well it is trained)."""
    from genre_core.config import GENRES, TrainConfig
    from genre_core.inference.bundle import save_bundle
    from genre_core.models import model_class

    config = FeatureConfig()
    labels = list(GENRES)
    if data and data.get("features"):
        gen = {t.id: t.genre for t in data["tracks"] if t.id in data["features"]}
        X = np.concatenate([data["features"][i] for i in sorted(gen)])
        y = np.concatenate([[labels.index(gen[i])] * len(data["features"][i])
                            for i in sorted(gen)])
    else:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((200, config.frames_per_segment, config.n_mfcc)).astype(
            np.float32)
        y = np.arange(200) % len(labels)
    models = {}
    for family in ("mlp", "cnn"):
        m = model_class(family)(labels, "corrected")
        m.fit(X, y, None, None, TrainConfig(epochs=2, seed=0))
        models[family] = m
    return save_bundle(out, models, labels, config, {"created": "bench quick bundle"})
