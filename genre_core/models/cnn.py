"""The seed study's CNN: three blocks of conv 32 (3x3, 3x3, 2x2) -> max-pool -> batch-norm,
then dense 64, dropout, softmax. The corrected variant adds L2 and early stopping."""
from __future__ import annotations

from genre_core.models.keras_segments import KerasSegmentModel, regularizer


class CNNModel(KerasSegmentModel):
    family = "cnn"
    default_epochs_plain = 30

    def build_network(self, input_shape, n_classes, config):
        import keras
        from keras import layers

        reg = regularizer(self, config)
        inputs = keras.Input(shape=input_shape)
        x = layers.Reshape((*input_shape, 1))(inputs)       # (frames, n_mfcc, 1)
        for kernel, pool in (((3, 3), (3, 3)), ((3, 3), (3, 3)), ((2, 2), (2, 2))):
            x = layers.Conv2D(32, kernel, activation="relu", kernel_regularizer=reg)(x)
            x = layers.MaxPooling2D(pool, strides=(2, 2), padding="same")(x)
            x = layers.BatchNormalization()(x)
        x = layers.Flatten()(x)
        x = layers.Dense(64, activation="relu", kernel_regularizer=reg)(x)
        x = layers.Dropout(config.dropout)(x)
        outputs = layers.Dense(n_classes, activation="softmax")(x)
        return keras.Model(inputs, outputs, name=f"cnn_{self.variant}")
