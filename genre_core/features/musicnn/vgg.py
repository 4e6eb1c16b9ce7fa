"""musicnn's vgg baselines (MSD_vgg, MTT_vgg) ported to Keras 3.

Same authors, package, licence and input as musicnn_backbone (16 kHz, 96-band log mel, 187-frame
patches): a 5-layer VGG-like CNN written from musicnn 0.1.0's `models.vgg(x, ..., 128)` and the
checkpoints' variable names/shapes. `tools/convert_musicnn.py` copies the TF1 checkpoints into it
(`assets/musicnn/{msd,mtt}_vgg.keras`); `tests/models/test_musicnn_zoo.py` checks it against the
original code's outputs. Dropout layers of the original are omitted: they are inactive at
inference. Outputs, in `OUTPUT_NAMES` order:

* ``taggram``     (50,)  sigmoid tag probabilities (MSD_TAGS or MTT_TAGS)
* ``penultimate`` (256,) flatten(pool5): the input of the output dense layer (2 time steps x
                         128 filters), musicnn's ``features['pool5']`` flattened per patch
"""
from __future__ import annotations

from genre_core.features.musicnn.backbone import N_MELS, N_TAGS, PATCH_FRAMES

N_FILTERS = 128
EMBEDDING_DIM = 256          # pool5 is (2, 1, 128) for a 187 x 96 patch
OUTPUT_NAMES = ("taggram", "penultimate")
# (pool size, strides) after each of the five 3x3 convolutions, as in models.vgg
POOLS = (((4, 1), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((4, 4), (4, 4)))

# Keras layer name -> TF1 checkpoint variable scope (creation order in models.vgg).
CHECKPOINT_MAP: dict[str, str] = {"input_bn": "batch_normalization", "logits_dense": "dense"}
for _i in range(1, 6):
    CHECKPOINT_MAP[f"conv{_i}"] = f"{_i}CNN"
    CHECKPOINT_MAP[f"bn{_i}"] = f"batch_normalization_{_i}"


def build_vgg(name: str = "msd_vgg"):
    """The vgg network (untrained) as a keras.Model: (batch, 187, 96) log-mel patches ->
    [taggram (batch, 50), penultimate (batch, 256)]. The patch length is fixed (the flatten
    feeds a dense layer), as in the original."""
    import keras
    from keras import layers as L

    x_in = keras.Input(shape=(PATCH_FRAMES, N_MELS), name="log_mel")
    x = L.Reshape((PATCH_FRAMES, N_MELS, 1), name="expand")(x_in)
    x = L.BatchNormalization(epsilon=1e-3, name="input_bn")(x)
    for i, (pool, strides) in enumerate(POOLS, start=1):
        x = L.Conv2D(N_FILTERS, (3, 3), padding="same", activation="relu", name=f"conv{i}")(x)
        x = L.BatchNormalization(epsilon=1e-3, name=f"bn{i}")(x)
        x = L.MaxPooling2D(pool_size=pool, strides=strides, padding="valid", name=f"pool{i}")(x)
    penultimate = L.Flatten(name="penultimate")(x)                     # (2 * 1 * 128,)
    logits = L.Dense(N_TAGS, name="logits_dense")(penultimate)
    taggram = L.Activation("sigmoid", name="taggram")(logits)
    return keras.Model(x_in, [taggram, penultimate], name=name)
