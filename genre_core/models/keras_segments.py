"""Shared machinery for the Keras models on MFCC segments: standardisation with saved
statistics, seeded fitting with Keras callbacks, one batched predict call, save/load.

Saved as model.keras (for training) plus model.onnx beside it (for serving: a loaded model
runs on ONNX Runtime and never imports TensorFlow; see genre_core.serving)."""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from genre_core.config import TrainConfig
from genre_core.models.base import GenreModel

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


class EpochProgress:
    """A tqdm bar over epochs, as a Keras callback (built lazily: keras imports late)."""

    @staticmethod
    def make(total: int, desc: str):
        import keras
        from tqdm.auto import tqdm

        class _Bar(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.bar = tqdm(total=total, desc=desc, unit="epoch", leave=False)

            def on_epoch_end(self, epoch, logs=None):
                logs = logs or {}
                # soft targets (distillation) name the metric categorical_accuracy
                acc = logs.get("val_accuracy", logs.get("val_categorical_accuracy", float("nan")))
                self.bar.set_postfix(loss=f"{logs.get('loss', 0):.3f}", val_acc=f"{acc:.3f}")
                self.bar.update()

            def on_train_end(self, logs=None):
                self.bar.close()

        return _Bar()


# Segments one ONNX run takes at most (a minute of audio): bounds the activations' memory on a
# long file. The mel CNN's first conv output is ~1 MB a segment, so a 10-min file (200
# segments) at once took 695 MiB above the warm process in the benchmark's growth section.
SERVING_BATCH = 20


class KerasSegmentModel(GenreModel):
    """Base for MLP/CNN/LSTM: subclasses only define `build_network`."""

    feature = "mfcc"
    default_epochs_plain = 40

    def __init__(self, labels, variant="corrected", params=None):
        super().__init__(labels, variant, params)
        self.net = None
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    # -- subclass hook
    def build_network(self, input_shape: tuple[int, ...], n_classes: int, config: TrainConfig):
        raise NotImplementedError

    @property
    def corrected(self) -> bool:
        """Dropout, L2 and early stopping: the corrected variant and the distilled one
        (corrected, trained on soft targets)."""
        return self.variant in ("corrected", "distilled")

    def scale(self, X: np.ndarray) -> np.ndarray:
        """Standardise each MFCC coefficient with the training statistics."""
        return ((X - self.mean) / self.std).astype(np.float32)

    def fit(self, X_train, y_train, X_valid, y_valid, config: TrainConfig, progress=False):
        """Fit `config.networks` networks, one seed each (seed, seed + 1, ...); several are
        kept as one network that averages their probabilities. Returns the first network's
        history (the learning curves of one run)."""
        axes = tuple(range(X_train.ndim - 1))
        self.mean = X_train.mean(axis=axes).astype(np.float32)
        self.std = (X_train.std(axis=axes) + 1e-6).astype(np.float32)
        runs = [self._fit_network(X_train, y_train, X_valid, y_valid,
                                  replace(config, seed=config.seed + i), progress)
                for i in range(config.networks)]
        nets = [net for net, _ in runs]
        self.net = nets[0] if len(nets) == 1 else averaged(nets, nets[0].name)
        if len(nets) > 1:
            self.params["networks"] = len(nets)
        return runs[0][1]

    def _fit_network(self, X_train, y_train, X_valid, y_valid, config: TrainConfig,
                     progress: bool):
        """One network from `config.seed`, with its history."""
        import keras

        keras.utils.set_random_seed(config.seed)
        net = self.build_network(X_train.shape[1:], len(self.labels), config)
        soft = np.ndim(y_train) == 2   # rows of target probabilities (distillation)
        net.compile(optimizer=keras.optimizers.Adam(config.learning_rate),
                    loss="categorical_crossentropy" if soft
                    else "sparse_categorical_crossentropy",
                    metrics=["categorical_accuracy" if soft else "accuracy"])
        callbacks = []
        has_valid = X_valid is not None and len(X_valid) > 0
        epochs = config.epochs if self.corrected else min(config.epochs, self.default_epochs_plain)
        if self.corrected and has_valid:
            # BN + L2 make the first epochs' val_loss misleadingly low on small data: only
            # start tracking the best epoch after `warmup_epochs`
            callbacks.append(keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=config.patience, restore_best_weights=True,
                start_from_epoch=min(config.warmup_epochs, epochs // 2)))
        if progress:
            callbacks.append(EpochProgress.make(epochs, f"{self.family} ({self.variant})"))
        history = net.fit(
            self.scale(X_train), y_train,
            validation_data=(self.scale(X_valid), y_valid) if has_valid else None,
            epochs=epochs, batch_size=config.batch_size, shuffle=True, verbose=0,
            callbacks=callbacks)
        return net, {k.replace("categorical_accuracy", "accuracy"): [float(v) for v in vals]
                     for k, vals in history.history.items()}

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        if len(X) == 0:
            return np.zeros((0, len(self.labels)), np.float32)
        # ONNX Runtime or, without an export, Keras' predict_on_batch, which runs the model's
        # compiled (tf.function) predict step on one batch:
        # no tf.data/callback overhead as in model.predict, and no per-layer eager dispatch as
        # in a direct call (3-6x faster than net(X) for 10 segments; it retraces at most
        # twice, then takes any batch size)
        out = self.net.predict_on_batch(self.scale(X))
        return np.asarray(out, dtype=np.float32)

    def save(self, folder: Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        # an uncompiled clone: the optimizer's state (2x the weights) is not needed to predict
        clone = self.net.__class__.from_config(self.net.get_config())   # never compiled
        clone.set_weights(self.net.get_weights())
        clone.save(folder / "model.keras")
        np.savez(folder / "scaler.npz", mean=np.asarray(self.mean), std=np.asarray(self.std))
        from genre_core.serving import export_keras_file

        try:
            export_keras_file(folder / "model.keras", clone)
        except Exception as e:   # no converter installed: prediction falls back to Keras
            import warnings
            warnings.warn(f"{folder}: ONNX export failed, predictions will use Keras "
                          f"({type(e).__name__}: {e})")

    @classmethod
    def load(cls, folder: Path, labels, variant, params):
        from genre_core.serving import load_net

        folder = Path(folder)
        obj = cls(labels, variant, params)
        obj.net = load_net(folder / "model.keras",   # ONNX when exported, else Keras
                           max_batch=SERVING_BATCH)
        with np.load(folder / "scaler.npz") as s:
            obj.mean, obj.std = s["mean"], s["std"]
        return obj


def regularizer(model: KerasSegmentModel, config: TrainConfig):
    import keras

    return keras.regularizers.l2(config.l2) if model.corrected else None


def averaged(nets: list, name: str):
    """One keras.Model whose output is the mean of `nets`' outputs (one input, shared): it
    saves, exports to ONNX and serves as a single network. Each net is wrapped under its own
    name, as a functional model's layer names must be unique."""
    import keras

    inputs = keras.Input(shape=nets[0].input_shape[1:])
    outputs = [keras.Model(net.input, net.output, name=f"{name}_net{i}")(inputs)
               for i, net in enumerate(nets)]
    return keras.Model(inputs, keras.layers.Average()(outputs), name=name)
