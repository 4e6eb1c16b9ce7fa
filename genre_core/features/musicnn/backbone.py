"""musicnn ported to Keras 3: the pre-trained audio tagger used as a backbone.

Original: Jordi Pons & Xavier Serra, "musicnn: pre-trained convolutional neural networks for
music audio tagging" (ISMIR 2019 LBD), https://github.com/jordipons/musicnn, ISC licence,
weights trained on the Million Song Dataset (MSD_musicnn; MTT_musicnn is the same network
trained on MagnaTagATune; the vgg baselines are in musicnn_vgg, all four together in
musicnn_zoo). The architecture below is written from the paper and from musicnn 0.1.0's
`models.build_musicnn` / the checkpoint's variable names and shapes; `tools/convert_musicnn.py`
copies the TF1 checkpoints into it and writes `assets/musicnn/{msd,mtt}_musicnn.keras`;
`tests/models/test_musicnn_port.py` and `tests/models/test_musicnn_zoo.py` check them against outputs of
the original code (`tests/data/musicnn_reference*.json`).

Pipeline: audio -> 16 kHz mono -> 96-band mel (n_fft 512, hop 256) -> log10(10000 x + 1)
-> non-overlapping 187-frame (3 s) patches -> network -> per patch:

* ``taggram``     (50,)   sigmoid probabilities of the 50 MSD tags (`MSD_TAGS`; MTT: `MTT_TAGS`)
* ``penultimate`` (200,)  batch-normalised output of the 200-unit dense layer (what musicnn's
                          extractor returns as ``features['penultimate']``) = `EMBEDDING_DIM`
* ``mean_pool`` / ``max_pool`` (753,) temporal mean / max of the mid-end feature map

TensorFlow/Keras are imported only inside functions, so importing this module is cheap.
"""
from __future__ import annotations

import functools
import threading
from pathlib import Path

import numpy as np

from genre_core.features.librosa_kernels import librosa_ready

SR = 16000
N_FFT = 512
HOP = 256
N_MELS = 96
PATCH_FRAMES = 187           # 3 s: librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1
EMBEDDING_DIM = 200          # penultimate layer of MSD_musicnn (num_units_backend=200)
N_TAGS = 50
OUTPUT_NAMES = ("taggram", "penultimate", "mean_pool", "max_pool")   # build_backbone() output order
MAX_BATCH = 64               # patches per forward pass (bounds memory for very long files)

DEFAULT_PATH = Path(__file__).resolve().parents[3] / "assets" / "musicnn" / "msd_musicnn.keras"

MSD_TAGS: list[str] = [
    "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s",
    "alternative rock", "jazz", "beautiful", "metal", "chillout", "male vocalists",
    "classic rock", "soul", "indie rock", "Mellow", "electronica", "80s", "folk", "90s", "chill",
    "instrumental", "punk", "oldies", "blues", "hard rock", "ambient", "acoustic",
    "experimental", "female vocalist", "guitar", "Hip-Hop", "70s", "party", "country",
    "easy listening", "sexy", "catchy", "funk", "electro", "heavy metal", "Progressive rock",
    "60s", "rnb", "indie pop", "sad", "House", "happy",
]

# The MagnaTagATune vocabulary of the MTT_* models (musicnn/configuration.py MTT_LABELS, in order).
MTT_TAGS: list[str] = [
    "guitar", "classical", "slow", "techno", "strings", "drums", "electronic", "rock", "fast",
    "piano", "ambient", "beat", "violin", "vocal", "synth", "female", "indian", "opera", "male",
    "singing", "vocals", "no vocals", "harpsichord", "loud", "quiet", "flute", "woman",
    "male vocal", "no vocal", "pop", "soft", "sitar", "solo", "man", "classic", "choir", "voice",
    "new age", "dance", "male voice", "female vocal", "beats", "harp", "cello", "no voice",
    "weird", "country", "metal", "female voice", "choral",
]

# Keras layer name -> TF1 checkpoint variable scope (musicnn 0.1.0, MSD_musicnn and MTT_musicnn).
# The TF1 graph names layers by creation order; this is that order in models.build_musicnn.
CHECKPOINT_MAP: dict[str, str] = {
    "input_bn": "batch_normalization",
    "timbral74_conv": "conv2d", "timbral74_bn": "batch_normalization_1",
    "timbral77_conv": "conv2d_1", "timbral77_bn": "batch_normalization_2",
    "temporal128_conv": "conv2d_2", "temporal128_bn": "batch_normalization_3",
    "temporal64_conv": "conv2d_3", "temporal64_bn": "batch_normalization_4",
    "temporal32_conv": "conv2d_4", "temporal32_bn": "batch_normalization_5",
    "midend1_conv": "conv2d_5", "midend1_bn": "batch_normalization_6",
    "midend2_conv": "conv2d_6", "midend2_bn": "batch_normalization_7",
    "midend3_conv": "conv2d_7", "midend3_bn": "batch_normalization_8",
    "pool_bn": "batch_normalization_9",
    "penultimate_dense": "dense", "penultimate_bn": "batch_normalization_10",
    "logits_dense": "dense_1",
}


# ----------------------------------------------------------------------------- preprocessing

def musicnn_melspectrogram(y16k: np.ndarray) -> np.ndarray:
    """(n_samples,) mono audio at 16 kHz -> (n_frames, 96) float32 log-compressed mel.

    Exactly musicnn/extractor.py's `batch_data`: librosa power mel (n_fft 512, hop 256,
    96 bands, librosa defaults otherwise), transposed to time-major, quantised to float16,
    then log10(10000 x + 1). The compression is computed in float32, as numpy < 2 did for
    `10000 * float16_array` in the original (numpy >= 2 would keep float16 and overflow to inf
    for loud bins, turning the original's taggram into NaN).
    """
    librosa_ready()
    import librosa

    y = np.asarray(y16k, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"expected mono 1-D audio, got shape {y.shape}")
    mel = librosa.feature.melspectrogram(y=y, sr=SR, hop_length=HOP, n_fft=N_FFT,
                                         n_mels=N_MELS).T
    mel = mel.astype(np.float16).astype(np.float32)
    return np.log10(np.float32(10000.0) * mel + np.float32(1.0)).astype(np.float32)


def patches(mel: np.ndarray, hop_frames: int = PATCH_FRAMES,
            patch_frames: int = PATCH_FRAMES) -> np.ndarray:
    """(n_frames, 96) -> (n_patches, patch_frames, 96), patches starting every `hop_frames`.

    The default hop gives musicnn's non-overlapping 3-s patches; as in musicnn a trailing
    remainder shorter than a patch is dropped. A spectrogram shorter than one patch is
    zero-padded at the end (0 is the compressed value of silence) to exactly one patch.
    """
    mel = np.asarray(mel, dtype=np.float32)
    if mel.ndim != 2:
        raise ValueError(f"expected (n_frames, n_mels), got shape {mel.shape}")
    if hop_frames < 1:
        raise ValueError("hop_frames must be >= 1")
    if mel.shape[0] < patch_frames:
        mel = np.pad(mel, ((0, patch_frames - mel.shape[0]), (0, 0)))
    starts = range(0, mel.shape[0] - patch_frames + 1, hop_frames)
    return np.stack([mel[s:s + patch_frames] for s in starts]).astype(np.float32)


# ----------------------------------------------------------------------------- the network

def build_backbone(n_frames: int | None = PATCH_FRAMES, name: str = "msd_musicnn"):
    """The musicnn network (untrained; MSD_musicnn and MTT_musicnn share it) as a keras.Model.

    Input (batch, n_frames, 96) log-mel patches; outputs, in `OUTPUT_NAMES` order:
    taggram (batch, 50), penultimate (batch, 200), mean_pool (batch, 753), max_pool (batch, 753).
    `n_frames=None` accepts any patch length (musicnn is fully convolutional up to the pooling).
    """
    import keras
    from keras import layers as L

    x_in = keras.Input(shape=(n_frames, N_MELS), name="log_mel")
    x = L.Reshape((-1, N_MELS, 1), name="expand")(x_in)
    x = L.BatchNormalization(epsilon=1e-3, name="input_bn")(x)

    # Front end, timbral: vertical filters spanning 40 % / 70 % of the mel axis, 7 frames wide,
    # time padded by 3 on each side, then max over frequency.
    x_pad = L.ZeroPadding2D(((3, 3), (0, 0)), name="timbral_pad")(x)
    front = []
    for name, height in (("timbral74", int(0.4 * N_MELS)), ("timbral77", int(0.7 * N_MELS))):
        h = L.Conv2D(204, (7, height), padding="valid", activation="relu", name=f"{name}_conv")(x_pad)
        h = L.BatchNormalization(epsilon=1e-3, name=f"{name}_bn")(h)
        h = L.MaxPooling2D(pool_size=(1, N_MELS - height + 1), name=f"{name}_pool")(h)
        front.append(L.Reshape((-1, 204), name=f"{name}_squeeze")(h))
    # Front end, temporal: horizontal filters of 128 / 64 / 32 frames, 'same', max over frequency.
    for length in (128, 64, 32):
        name = f"temporal{length}"
        h = L.Conv2D(51, (length, 1), padding="same", activation="relu", name=f"{name}_conv")(x)
        h = L.BatchNormalization(epsilon=1e-3, name=f"{name}_bn")(h)
        h = L.MaxPooling2D(pool_size=(1, N_MELS), name=f"{name}_pool")(h)
        front.append(L.Reshape((-1, 51), name=f"{name}_squeeze")(h))
    frontend = L.Concatenate(axis=-1, name="frontend")(front)            # (T, 561)

    # Mid end: three 7-frame convolutions (64 filters), the 2nd and 3rd residual.
    def mid(z, i):
        z = L.ZeroPadding1D(3, name=f"midend{i}_pad")(z)
        z = L.Conv1D(64, 7, padding="valid", activation="relu", name=f"midend{i}_conv")(z)
        return L.BatchNormalization(epsilon=1e-3, name=f"midend{i}_bn")(z)

    m1 = mid(frontend, 1)
    m2 = L.Add(name="midend2_res")([mid(m1, 2), m1])
    m3 = L.Add(name="midend3_res")([mid(m2, 3), m2])
    midend = L.Concatenate(axis=-1, name="midend")([frontend, m1, m2, m3])   # (T, 753)

    # Back end: temporal max and mean pooling, interleaved per channel as TF1's
    # flatten(concat([max, mean], axis=2)) produced them, then dense 200 -> dense 50.
    max_pool = L.GlobalMaxPooling1D(name="max_pool")(midend)
    mean_pool = L.GlobalAveragePooling1D(name="mean_pool")(midend)
    n_ch = 561 + 3 * 64
    pooled = L.Concatenate(axis=-1, name="pool_pairs")(
        [L.Reshape((n_ch, 1), name="max_pool_col")(max_pool),
         L.Reshape((n_ch, 1), name="mean_pool_col")(mean_pool)])
    z = L.Flatten(name="pool_flat")(pooled)                                 # (1506,)
    z = L.BatchNormalization(epsilon=1e-3, name="pool_bn")(z)
    z = L.Dropout(0.5, name="pool_dropout")(z)
    z = L.Dense(EMBEDDING_DIM, activation="relu", name="penultimate_dense")(z)
    penultimate = L.BatchNormalization(epsilon=1e-3, name="penultimate_bn")(z)
    z = L.Dropout(0.5, name="penultimate_dropout")(penultimate)
    logits = L.Dense(N_TAGS, name="logits_dense")(z)
    taggram = L.Activation("sigmoid", name="taggram")(logits)
    return keras.Model(x_in, [taggram, penultimate, mean_pool, max_pool], name=name)


_LOCK = threading.Lock()


@functools.lru_cache(maxsize=4)
def _load(path: str):
    import keras
    return keras.saving.load_model(path, compile=False, safe_mode=True)


def load_backbone(path: str | Path | None = None):
    """A pre-trained keras.Model (cached: each file is loaded once per process).

    `path` defaults to the shipped `assets/musicnn/msd_musicnn.keras` (any of the four
    converted networks in assets/musicnn/ loads the same way).
    """
    p = Path(path) if path is not None else DEFAULT_PATH
    if not p.is_file():
        from genre_core.errors import GenreError
        raise GenreError(f"musicnn weights not found at {p}; build them with "
                         "tools/convert_musicnn.py (see assets/musicnn/README.md)")
    with _LOCK:
        return _load(str(p.resolve()))


# ----------------------------------------------------------------------------- embedding API

def _to_mono(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=np.float32)
    if y.ndim == 1:
        return y
    if y.ndim != 2:
        raise ValueError(f"expected 1-D or 2-D audio, got shape {y.shape}")
    # librosa layout is (channels, samples), soundfile's is (samples, channels):
    # the channel axis is the short one.
    axis = 0 if y.shape[0] <= y.shape[1] else 1
    return y.mean(axis=axis).astype(np.float32)


def log_mel_patches(y: np.ndarray, sr: int) -> np.ndarray:
    """Audio at any rate -> (n_patches, 187, 96): the input of all four musicnn networks.

    `y` is mono (n,) or multichannel (2-D, channels mixed down by averaging). It is resampled
    to 16 kHz with librosa's default resampler (as `librosa.load(..., sr=16000)` does in
    musicnn) and cut into non-overlapping 3-s patches (a clip shorter than 3 s becomes one
    zero-padded patch).
    """
    librosa_ready()
    import librosa

    y = _to_mono(y)
    if y.size == 0:
        raise ValueError("empty audio")
    if int(sr) != SR:
        y = librosa.resample(y, orig_sr=int(sr), target_sr=SR).astype(np.float32)
    return patches(musicnn_melspectrogram(y))


def run_batched(model, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(taggram, embedding) = the model's first two outputs over all patches, in one batched
    call (chunks of MAX_BATCH patches for very long audio)."""
    tags, embs = [], []
    for i in range(0, len(x), MAX_BATCH):
        out = model.predict_on_batch(x[i:i + MAX_BATCH])   # traced graph: faster than eager
        tags.append(np.asarray(out[0]))
        embs.append(np.asarray(out[1]))
    return (np.concatenate(tags).astype(np.float32),
            np.concatenate(embs).astype(np.float32))


def embed(y: np.ndarray, sr: int, model=None) -> tuple[np.ndarray, np.ndarray]:
    """Audio at any rate -> (taggram (n_patches, 50), embedding (n_patches, 200)).

    `log_mel_patches` then the network in one batched call (`run_batched`). The embedding is
    musicnn's 'penultimate' feature. `model` defaults to `load_backbone()` (MSD_musicnn).
    """
    x = log_mel_patches(y, sr)
    return run_batched(model if model is not None else load_backbone(), x)
