"""What the model listened to: occlusion saliency over one segment's model input.

Method: **occlusion** (Zeiler & Fergus, 2014). A small rectangle of the input (a few frames x
a few MFCC coefficients or mel bands) is replaced by a neutral value, the model is asked
again, and the drop in a genre's probability is credited to that rectangle; rectangles
overlap and each cell gets the mean drop of the rectangles covering it. Why occlusion rather
than integrated gradients or Grad-CAM:

* it treats a model as a black box, so one method covers both the CNN (Keras) and the
  musicnn transfer model, whose genre classifier is a scikit-learn linear head (LDA) on
  the backbone's outputs (no gradient flows through it without re-writing it in TensorFlow);
* its unit is the one a class can read: "hide these 0.3 s of these bands and the metal
  probability falls by 20 points" - positive = evidence *for* the genre, negative =
  evidence against it;
* it costs one batch of forward passes: 0.1-0.35 s for the CNN (234 variants), about 1.3 s
  for the four-network musicnn model (24 variants through four ONNX networks; measured on
  the shared 2-core development machine), fine for one segment on demand.

Neutral values: for MFCC models the training mean of each coefficient (the "average frame",
which standardises to 0); for musicnn's log-compressed mel, 0, i.e. silence in that
rectangle. Saliency is computed for the segment's own top genre and runner-up.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from genre_core.features.librosa_kernels import librosa_ready

METHOD = "occlusion"
BATCH = 64


def _positions(n: int, size: int, stride: int) -> list[int]:
    size = min(size, n)
    pos = list(range(0, n - size + 1, max(1, stride)))
    if pos[-1] != n - size:
        pos.append(n - size)
    return pos


def occlusion(x: np.ndarray, predict: Callable[[np.ndarray], np.ndarray],
              window: tuple[int, int], stride: tuple[int, int],
              baseline: np.ndarray | float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Occlusion map of a 2-D input for every class.

    x: (H, W) input; predict: (batch, H, W) -> (batch, n_classes) probabilities; baseline:
    scalar or array broadcastable to x. Returns (saliency (n_classes, H, W), p(x) (n_classes,)),
    saliency[c] = mean over covering rectangles of p_c(x) - p_c(x with rectangle occluded)."""
    x = np.asarray(x, dtype=np.float32)
    base = np.broadcast_to(np.asarray(baseline, dtype=np.float32), x.shape)
    H, W = x.shape
    (h, w), (sh, sw) = window, stride
    boxes = [(i, j) for i in _positions(H, h, sh) for j in _positions(W, w, sw)]
    h, w = min(h, H), min(w, W)
    p0 = np.asarray(predict(x[None]), dtype=np.float64)[0]
    parts: list[np.ndarray] = []
    for k in range(0, len(boxes), BATCH):
        batch = np.repeat(x[None], len(boxes[k:k + BATCH]), axis=0)
        for b, (i, j) in enumerate(boxes[k:k + BATCH]):
            batch[b, i:i + h, j:j + w] = base[i:i + h, j:j + w]
        parts.append(p0[None] - np.asarray(predict(batch), dtype=np.float64))
    drops = np.concatenate(parts)
    acc = np.zeros((len(p0), H, W))
    count = np.zeros((H, W))
    for (i, j), d in zip(boxes, drops):
        acc[:, i:i + h, j:j + w] += d[:, None, None]
        count[i:i + h, j:j + w] += 1
    return acc / np.maximum(count, 1), p0


@dataclass
class Saliency:
    """Saliency of one segment for its top two genres, with what to draw it over."""
    feature: str                 # "mfcc" or "mel"
    input: np.ndarray            # (frames, bins) the model input shown underneath
    maps: np.ndarray             # (2, frames, bins) probability drop when occluded
    genres: list[str]            # [top genre, runner-up] of this segment
    probabilities: list[float]
    times: np.ndarray            # (frames,) seconds from the clip's start
    bins: list                   # y labels: MFCC index or mel band centre (Hz)
    window: tuple[int, int]
    method: str = METHOD


def _top_two(saliency: np.ndarray, p0: np.ndarray, labels: list[str]):
    order = np.argsort(-p0)[:2]
    return saliency[order], [labels[i] for i in order], [float(p0[i]) for i in order]


def segment_saliency(model, block: np.ndarray, start: float, sample_rate: int,
                     hop_length: int, window: tuple[int, int] | None = None,
                     stride: tuple[int, int] | None = None) -> Saliency:
    """A Keras segment model on one block of its input: (frames, n_mfcc) MFCCs for the MLP,
    CNN and LSTM, rectangles of 13 frames (0.3 s) x 3 coefficients; (frames, 64) log-mel
    bands for the mel CNN, 13 frames x 8 bands. Hidden parts take the training mean."""
    mel = model.feature == "logmel"
    window = window or ((13, 8) if mel else (13, 3))
    stride = stride or ((6, 4) if mel else (6, 1))
    block = np.asarray(block, dtype=np.float32)
    baseline = np.broadcast_to(np.asarray(model.mean, dtype=np.float32), block.shape)
    sal, p0 = occlusion(block, model.predict_proba, window, stride, baseline)
    maps, genres, probs = _top_two(sal, p0, model.labels)
    times = start + np.arange(block.shape[0]) * hop_length / float(sample_rate)
    if mel:
        librosa_ready()
        import librosa

        freqs = librosa.mel_frequencies(n_mels=block.shape[1], fmax=sample_rate / 2)
        return Saliency("mel", block, maps, genres, probs, times,
                        [int(round(f)) for f in freqs], window)
    return Saliency("mfcc", block, maps, genres, probs, times, list(range(block.shape[1])),
                    window)


def musicnn_patch(samples: np.ndarray, sample_rate: int, index: int) -> tuple[np.ndarray, float]:
    """The musicnn input (187 frames x 96 log-mel bands) of 3-s segment `index`, and its start."""
    from genre_core.features.musicnn import backbone as mb

    x = mb.log_mel_patches(samples, sample_rate)
    index = int(min(max(index, 0), len(x) - 1))
    return x[index], index * mb.PATCH_FRAMES * mb.HOP / float(mb.SR)


def _patch_units(feature: str, backbone=None):
    """mel patches (batch, 187, 96) -> the units a musicnn-family model was trained on:
    'musicnn' = MSD_musicnn's taggram + embedding; 'musicnn4' = all four networks' (the
    same front end feeds them all)."""
    from genre_core.features.musicnn import backbone as mb
    from genre_core.features.musicnn import zoo

    # the networks as prediction runs them (ONNX Runtime, no TensorFlow: 16 s -> a few s for
    # musicnn4's 24 variants on two cores)
    if feature == "musicnn":
        net = backbone if backbone is not None else zoo.serving_network("MSD_musicnn")
        return lambda batch: np.concatenate(mb.run_batched(net, batch), axis=1)
    if feature == "musicnn4":
        nets = [zoo.serving_network(name) for name in zoo.NETWORKS]
        return lambda batch: np.concatenate(
            [block for net in nets for block in mb.run_batched(net, batch)], axis=1)
    raise ValueError(f"no mel-patch saliency for feature {feature!r}")


def musicnn_saliency(model, samples: np.ndarray, sample_rate: int, index: int,
                     window: tuple[int, int] | None = None,
                     stride: tuple[int, int] | None = None, backbone=None) -> Saliency:
    """A musicnn-family transfer model on segment `index`'s mel patch: rectangles of the
    patch occluded with silence; each variant goes through the backbone(s) and the genre
    classifier. One network: 32 frames (0.5 s) x 16 mel bands, half-overlapping (121
    variants). The four-network model pays four networks per variant (about 50 ms on two
    cores), so its rectangles sit side by side and are 47 frames (0.75 s) x 16 bands: 24
    variants, the same six frequency strips as 0.5-s tiles at two thirds of the cost
    (1.9 s -> 1.3 s of networks; the page's target is 3 s on a busy 2-core server)."""
    librosa_ready()
    import librosa

    from genre_core.features.musicnn import backbone as mb

    one_network = model.feature == "musicnn"
    window = window or ((32, 16) if one_network else (47, 16))
    if stride is None:
        stride = (window[0] // 2, window[1] // 2) if one_network else window
    units = _patch_units(model.feature, backbone)
    patch, start = musicnn_patch(samples, sample_rate, index)

    def predict(batch: np.ndarray) -> np.ndarray:
        return model.predict_proba(units(batch))

    sal, p0 = occlusion(patch, predict, window, stride, 0.0)
    maps, genres, probs = _top_two(sal, p0, model.labels)
    times = start + np.arange(patch.shape[0]) * mb.HOP / float(mb.SR)
    freqs = librosa.mel_frequencies(n_mels=mb.N_MELS, fmax=mb.SR / 2)
    return Saliency("mel", patch, maps, genres, probs, times,
                    [int(round(f)) for f in freqs], window)


def _span(values: np.ndarray, k: int, size: int) -> tuple[int, int]:
    """First and last index of the stretch around k that one rectangle explains: the run of
    equal values holding k when it is over half a rectangle wide (side-by-side rectangles
    give each of their cells the same value; overlapping ones change it every stride, at
    most half a rectangle), else `size` cells centred on k."""
    lo = hi = k
    same = np.isclose(values, values[k], rtol=1e-9, atol=1e-12)
    while lo > 0 and same[lo - 1]:
        lo -= 1
    while hi < len(values) - 1 and same[hi + 1]:
        hi += 1
    if hi - lo + 1 > min(size, len(values)) // 2:
        return lo, hi
    return max(0, k - size // 2), min(len(values) - 1, k + size // 2)


def summary(s: Saliency, k: int = 0) -> str:
    """One sentence: where the strongest evidence for genre k sits (time span and bins)."""
    m = s.maps[k]
    i, j = (int(v) for v in np.unravel_index(int(np.argmax(m)), m.shape))
    if m[i, j] <= 0:
        return f"No region pushes the model toward {s.genres[k]}."
    h, w = s.window
    r0, r1 = _span(m[:, j], i, h)
    c0, c1 = _span(m[i, :], j, w)
    t0, t1 = float(s.times[r0]), float(s.times[r1])
    what = (f"MFCC coefficients {c0}–{c1}" if s.feature == "mfcc" else
            f"{s.bins[c0]}–{s.bins[c1]} Hz")
    return (f"Strongest evidence for {s.genres[k]}: {t0:.1f}–{t1:.1f} s, {what} "
            f"(hiding it lowers {s.genres[k]} by {100 * m[i, j]:.0f} percentage point(s)).")
