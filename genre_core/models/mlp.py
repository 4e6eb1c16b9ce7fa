"""The seed study's MLP: flatten -> dense 512, 256, 64 (ReLU) -> softmax. The corrected
variant adds dropout and L2 after each dense layer and stops early on validation loss."""
from __future__ import annotations

from genre_core.models.keras_segments import KerasSegmentModel, regularizer


class MLPModel(KerasSegmentModel):
    family = "mlp"

    def build_network(self, input_shape, n_classes, config):
        import keras
        from keras import layers

        reg = regularizer(self, config)
        x = inputs = keras.Input(shape=input_shape)
        x = layers.Flatten()(x)
        for width in (512, 256, 64):
            x = layers.Dense(width, activation="relu", kernel_regularizer=reg)(x)
            if self.corrected:
                x = layers.Dropout(config.dropout)(x)
        outputs = layers.Dense(n_classes, activation="softmax")(x)
        return keras.Model(inputs, outputs, name=f"mlp_{self.variant}")
