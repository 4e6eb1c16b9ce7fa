"""All four musicnn 0.1.0 networks on one clip: the mel front end once, one batch per network.

MSD_musicnn, MTT_musicnn, MSD_vgg and MTT_vgg (Pons & Serra; ISC licence; see
assets/musicnn/README.md) were trained on the same input representation (each checkpoint's
config.json: 16 kHz, n_fft 512, hop 256, 96 mel bands, "logC" compression, 187-frame patches),
so `extract_all` computes the log mel and the 3-s patches once (`log_mel_patches`) and runs
each network on all patches in one batched call. Per patch it returns one row of `N_COLUMNS`
floats, the blocks in `NETWORKS` order, each network's taggram (50) then its penultimate
embedding (200 for musicnn, 256 for vgg); `column_layout()` names the blocks and
`select_columns()` picks combinations. The first 250 columns are exactly the "musicnn" feature
(MSD_musicnn taggram + embedding).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genre_core.features.musicnn import backbone as mb
from genre_core.features.musicnn import vgg

ASSETS = Path(__file__).resolve().parents[3] / "assets" / "musicnn"
BLOCKS = ("taggram", "embedding")


@dataclass(frozen=True)
class Network:
    name: str            # the checkpoint folder in the musicnn package
    dataset: str         # "MSD" (Million Song Dataset) | "MTT" (MagnaTagATune)
    arch: str            # "musicnn" | "vgg"
    embedding_dim: int

    @property
    def path(self) -> Path:
        return ASSETS / f"{self.name.lower()}.keras"

    @property
    def tags(self) -> list[str]:
        return mb.MSD_TAGS if self.dataset == "MSD" else mb.MTT_TAGS

    @property
    def checkpoint_map(self) -> dict[str, str]:
        return mb.CHECKPOINT_MAP if self.arch == "musicnn" else vgg.CHECKPOINT_MAP

    def build(self):
        """The untrained Keras network (tools/convert_musicnn.py fills in the weights)."""
        if self.arch == "musicnn":
            return mb.build_backbone(name=self.name.lower())
        return vgg.build_vgg(name=self.name.lower())


NETWORKS: dict[str, Network] = {n.name: n for n in (
    Network("MSD_musicnn", "MSD", "musicnn", mb.EMBEDDING_DIM),
    Network("MTT_musicnn", "MTT", "musicnn", mb.EMBEDDING_DIM),
    Network("MSD_vgg", "MSD", "vgg", vgg.EMBEDDING_DIM),
    Network("MTT_vgg", "MTT", "vgg", vgg.EMBEDDING_DIM),
)}


def column_layout() -> dict[str, slice]:
    """'<network>/taggram' and '<network>/embedding' -> column slice of the musicnn4 feature.

    MSD_musicnn/taggram 0:50, MSD_musicnn/embedding 50:250, MTT_musicnn/taggram 250:300,
    MTT_musicnn/embedding 300:500, MSD_vgg/taggram 500:550, MSD_vgg/embedding 550:806,
    MTT_vgg/taggram 806:856, MTT_vgg/embedding 856:1112.
    """
    layout, start = {}, 0
    for net in NETWORKS.values():
        for block, width in (("taggram", mb.N_TAGS), ("embedding", net.embedding_dim)):
            layout[f"{net.name}/{block}"] = slice(start, start + width)
            start += width
    return layout


N_COLUMNS = max(s.stop for s in column_layout().values())


def select_columns(datasets=("MSD", "MTT"), archs=("musicnn", "vgg"),
                   blocks=BLOCKS) -> np.ndarray:
    """Column indices of the chosen blocks (in layout order), e.g.
    `features[:, select_columns(archs=("musicnn",), blocks=("embedding",))]`."""
    bad = ((set(datasets) - {"MSD", "MTT"}) | (set(archs) - {"musicnn", "vgg"})
           | (set(blocks) - set(BLOCKS)))
    if bad:
        raise ValueError(f"unknown musicnn4 block selector(s): {sorted(bad)}")
    layout = column_layout()
    cols = [np.arange(layout[f"{n.name}/{b}"].start, layout[f"{n.name}/{b}"].stop)
            for n in NETWORKS.values() if n.dataset in datasets and n.arch in archs
            for b in BLOCKS if b in blocks]
    return np.concatenate(cols) if cols else np.zeros(0, dtype=int)


def load_network(name: str):
    """The converted keras.Model of one network (cached per process)."""
    return mb.load_backbone(NETWORKS[name].path)


def serving_network(name: str):
    """One network for prediction, cached per process: its ONNX export when there is one
    (no TensorFlow; genre_core.serving), else the keras.Model. Two patches a run bound the
    activations' memory."""
    from genre_core.serving import load_net

    return load_net(NETWORKS[name].path, cache=True, max_batch=2)


def extract_all(y: np.ndarray, sr: int, networks=tuple(NETWORKS),
                timings: dict | None = None) -> np.ndarray:
    """(n_patches, N_COLUMNS) float32: every network's taggram + embedding per 3-s patch.

    `networks` must be all four for the full layout (a subset returns only their blocks, in
    NETWORKS order). If `timings` is a dict, seconds spent are added under 'front_end' and
    each network's name.
    """
    unknown = set(networks) - set(NETWORKS)
    if unknown:
        raise ValueError(f"unknown musicnn network(s): {sorted(unknown)}")
    t = time.perf_counter()
    x = mb.log_mel_patches(y, sr)
    if timings is not None:
        timings["front_end"] = timings.get("front_end", 0.0) + time.perf_counter() - t
    blocks = []
    for name in NETWORKS:
        if name not in networks:
            continue
        model = serving_network(name)
        t = time.perf_counter()
        tags, emb = mb.run_batched(model, x)
        if timings is not None:
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - t
        blocks += [tags, emb]
    return np.concatenate(blocks, axis=1).astype(np.float32)


def clip_tags(features: np.ndarray, archs=("musicnn", "vgg")) -> dict[str, dict[str, float]]:
    """Clip-level tags of both vocabularies from a musicnn4 feature (n_patches, N_COLUMNS):
    {"MSD": {tag: p}, "MTT": {tag: p}}, each the mean over patches and over the chosen
    architectures' taggrams of that vocabulary, sorted from most to least likely."""
    features = np.asarray(features)
    if features.ndim != 2 or features.shape[1] != N_COLUMNS:
        raise ValueError(f"expected a musicnn4 feature (n, {N_COLUMNS}), got {features.shape}")
    layout = column_layout()
    out = {}
    for dataset, tags in (("MSD", mb.MSD_TAGS), ("MTT", mb.MTT_TAGS)):
        grams = [features[:, layout[f"{n.name}/taggram"]] for n in NETWORKS.values()
                 if n.dataset == dataset and n.arch in archs]
        if not grams:
            raise ValueError(f"no architecture selected from {archs}")
        mean = np.mean([g.mean(axis=0) for g in grams], axis=0)
        out[dataset] = dict(sorted(((t, float(p)) for t, p in zip(tags, mean)),
                                   key=lambda kv: -kv[1]))
    return out
