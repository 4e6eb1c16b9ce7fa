"""The seed study's proposed RNN: two LSTM layers over the MFCC frames, dense, softmax.

Adjacent frame pairs are averaged first (130 -> 65 steps, 46 ms a step): an LSTM on a CPU
costs time per step, and MFCC frames 23 ms apart are highly redundant."""
from __future__ import annotations

from genre_core.models.keras_segments import KerasSegmentModel, regularizer


class LSTMModel(KerasSegmentModel):
    family = "lstm"

    def build_network(self, input_shape, n_classes, config):
        import keras
        from keras import layers

        reg = regularizer(self, config)
        x = inputs = keras.Input(shape=input_shape)          # (frames, n_mfcc)
        x = layers.AveragePooling1D(2, padding="same")(x)
        x = layers.LSTM(64, return_sequences=True, kernel_regularizer=reg)(x)
        x = layers.LSTM(64, kernel_regularizer=reg)(x)
        x = layers.Dense(64, activation="relu", kernel_regularizer=reg)(x)
        if self.corrected:
            x = layers.Dropout(config.dropout)(x)
        outputs = layers.Dense(n_classes, activation="softmax")(x)
        return keras.Model(inputs, outputs, name=f"lstm_{self.variant}")
