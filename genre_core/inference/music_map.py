"""A map of music: every training track as a point on a 2-D map of its clip-level musicnn
embedding (UMAP, or t-SNE as a fallback), stored in `<bundle>/map/`.

What is stored (no audio, no table rows): per track its id, genre, artist, title and map
coordinates, and the clip-level embeddings the map was made from (derived features: the mean
over the clip's 3-s patches of musicnn's 200-d penultimate layer). A new clip is placed
without UMAP (whose import alone takes ~12 s, and whose fitted object is a pickle): at the
distance-weighted mean of the coordinates of its k nearest training tracks in embedding
space, so a training track lands exactly on its own point and the app never imports umap.
The same neighbours give the "sounds most like" list and the out-of-domain distance
(genre_core.inference.domain)."""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from genre_core.atomic import write_bytes_atomic, write_text_atomic
from genre_core.errors import GenreError
from genre_core.inference.bundle_files import MAP_FOLDER, carry_map  # noqa: F401 (carry_map: API)

FORMAT = 1
LEGACY_EMBEDDINGS = "embeddings.npz"     # the name before maps named them by content
EMBEDDINGS_NAME = re.compile(r"embeddings(-[0-9a-f]{12})?\.npz")
K = 5                       # neighbours for placement, the list, and the novelty distance
OOD_PERCENTILE = 99.0


def clip_embedding(musicnn_units: np.ndarray) -> np.ndarray:
    """(n_patches, 50 tags + 200 embedding) musicnn units -> the clip's (200,) embedding."""
    from genre_core.features.musicnn.backbone import N_TAGS

    units = np.asarray(musicnn_units, dtype=np.float32)
    return units[:, N_TAGS:].mean(axis=0)


@dataclass
class MusicMap:
    ids: list[str]
    genres: list[str]
    artists: list[str]
    titles: list[str]
    coords: np.ndarray            # (n, 2)
    embeddings: np.ndarray        # (n, d) clip-level embeddings, as given
    mean: np.ndarray              # (d,) standardisation before the cosine geometry
    scale: np.ndarray             # (d,)
    method: str = "umap"
    params: dict = field(default_factory=dict)
    k: int = K
    threshold: float = float("inf")     # 99th pct. of training tracks' neighbour distance

    # -- geometry: cosine distance between standardised embeddings
    def _unit(self, emb: np.ndarray) -> np.ndarray:
        z = (np.atleast_2d(np.asarray(emb, dtype=np.float64)) - self.mean) / self.scale
        return z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)

    def distances(self, emb: np.ndarray) -> np.ndarray:
        """Cosine distance (0 = same direction, 2 = opposite) from `emb` to every track."""
        d = 1.0 - self._unit(emb)[0] @ self._unit(self.embeddings).T
        return np.clip(d, 0.0, 2.0)

    def neighbours(self, emb: np.ndarray, k: int | None = None,
                   exclude: str | None = None) -> list[dict]:
        """The k nearest training tracks: [{'track', 'genre', 'artist', 'title', 'distance'}]."""
        d = self.distances(emb)
        order = [i for i in np.argsort(d, kind="stable") if self.ids[i] != exclude]
        return [{"track": self.ids[i], "genre": self.genres[i], "artist": self.artists[i],
                 "title": self.titles[i], "distance": round(float(d[i]), 4)}
                for i in order[: k or self.k]]

    def place(self, emb: np.ndarray) -> tuple[float, float]:
        """Map coordinates of a new clip: inverse-distance-weighted mean of its k nearest
        training tracks' points (a training track's own embedding gives its own point)."""
        d = self.distances(emb)
        idx = np.argsort(d, kind="stable")[: self.k]
        if d[idx[0]] < 1e-9:
            x, y = (float(v) for v in self.coords[idx[0]])
            return x, y
        w = 1.0 / d[idx]
        x, y = (float(v) for v in (w[:, None] * self.coords[idx]).sum(0) / w.sum())
        return x, y

    def novelty(self, emb: np.ndarray, exclude_self: bool = False) -> float:
        """Mean cosine distance to the k nearest training tracks (the out-of-domain score)."""
        d = np.sort(self.distances(emb))
        if exclude_self:
            d = d[1:]
        return float(d[: self.k].mean())

    def track(self, track_id: str) -> dict | None:
        if track_id not in self.ids:
            return None
        i = self.ids.index(track_id)
        return {"track": track_id, "genre": self.genres[i], "artist": self.artists[i],
                "title": self.titles[i], "x": float(self.coords[i, 0]),
                "y": float(self.coords[i, 1])}


def training_novelty(embeddings: np.ndarray, mean, scale, k: int = K) -> np.ndarray:
    """Each training track's mean distance to its k nearest *other* tracks."""
    m = MusicMap([], [], [], [], np.zeros((len(embeddings), 2)), embeddings, mean, scale, k=k)
    u = m._unit(embeddings)
    d = np.clip(1.0 - u @ u.T, 0.0, 2.0)
    np.fill_diagonal(d, np.inf)
    return np.sort(d, axis=1)[:, :k].mean(axis=1)


def _project(z: np.ndarray, method: str, seed: int) -> tuple[np.ndarray, dict]:
    n = len(z)
    if method == "umap":
        import umap  # build time only (imports numba; ~12 s)

        params = {"n_neighbors": min(15, n - 1), "min_dist": 0.3, "metric": "cosine",
                  "random_state": seed}
        return umap.UMAP(**params).fit_transform(z), {**params, "umap_version": umap.__version__}
    if method == "tsne":
        from sklearn.manifold import TSNE

        params = {"perplexity": float(min(30, max(2, (n - 1) / 3))), "metric": "cosine",
                  "init": "pca", "random_state": seed}
        return TSNE(**params).fit_transform(z), params
    raise GenreError(f"unknown map method {method!r} (use umap or tsne)")


def build_map(embeddings: np.ndarray, ids: list[str], genres: list[str],
              artists: list[str] | None = None, titles: list[str] | None = None,
              method: str = "umap", seed: int = 0, k: int = K) -> MusicMap:
    """Fit the 2-D map of clip-level embeddings (n, d) and the out-of-domain threshold."""
    emb = np.asarray(embeddings, dtype=np.float32)
    if emb.ndim != 2 or len(emb) != len(ids) or len(ids) != len(genres):
        raise ValueError("embeddings, ids and genres must describe the same tracks")
    if len(ids) < k + 2:
        raise GenreError(f"a map needs at least {k + 2} tracks, got {len(ids)}")
    mean = emb.mean(axis=0).astype(np.float64)
    scale = emb.std(axis=0).astype(np.float64) + 1e-6
    tmp = MusicMap(list(ids), list(genres), [], [], np.zeros((len(ids), 2)), emb, mean, scale)
    xy, params = _project(tmp._unit(emb), method, seed)
    xy = np.asarray(xy, dtype=np.float64)
    xy = (xy - xy.mean(axis=0)) / (xy.std(axis=0) + 1e-12)     # unit-free, centred
    own = training_novelty(emb, mean, scale, k)
    n = len(ids)
    return MusicMap(list(ids), list(genres), list(artists or [""] * n),
                    list(titles or [""] * n), xy, emb, mean, scale, method, params, k,
                    float(np.percentile(own, OOD_PERCENTILE)))


def save_map(m: MusicMap, bundle_dir: str | os.PathLike) -> Path:
    """Write `<bundle>/map/map.json` + `embeddings-<content hash>.npz` (no pickle), replacing
    any old map. The embeddings go under a new name first and map.json, naming them, is
    swapped in last (both atomic: temporary name, fsync, rename), so a run stopped at any
    point leaves the old map whole; the old embeddings are deleted after."""
    folder = Path(bundle_dir) / MAP_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez(buffer, embeddings=m.embeddings.astype(np.float32), mean=m.mean, scale=m.scale)
    data = buffer.getvalue()
    name = f"embeddings-{hashlib.sha256(data).hexdigest()[:12]}.npz"
    write_bytes_atomic(folder / name, data)
    meta = {"format": FORMAT, "method": m.method, "params": m.params, "k": m.k,
            "embeddings_file": name,
            "ood_percentile": OOD_PERCENTILE, "ood_threshold": m.threshold,
            "embedding": "mean over 3-s patches of musicnn's 200-d penultimate layer",
            "tracks": [{"track": t, "genre": g, "artist": a, "title": ti,
                        "x": round(float(x), 5), "y": round(float(y), 5)}
                       for t, g, a, ti, (x, y) in zip(m.ids, m.genres, m.artists, m.titles,
                                                      m.coords)]}
    write_text_atomic(folder / "map.json", json.dumps(meta, indent=1))
    for old in folder.glob("embeddings*.npz"):
        if old.name != name:
            old.unlink(missing_ok=True)
    return folder


def load_map(bundle_dir: str | os.PathLike) -> MusicMap | None:
    """The bundle's map, or None when it has none. GenreError when it is unreadable."""
    folder = Path(bundle_dir) / MAP_FOLDER
    if not (folder / "map.json").exists():
        return None
    try:
        meta = json.loads((folder / "map.json").read_text())
        name = str(meta.get("embeddings_file", LEGACY_EMBEDDINGS))
        if not EMBEDDINGS_NAME.fullmatch(name):
            raise ValueError(f"map.json names embeddings {name!r}")
        with np.load(folder / name, allow_pickle=False) as z:
            emb, mean, scale = z["embeddings"], z["mean"], z["scale"]
    except (OSError, ValueError, KeyError) as e:
        raise GenreError(f"{folder}: the music map is unreadable ({e})") from None
    tracks = meta["tracks"]
    if len(tracks) != len(emb):
        raise GenreError(f"{folder}: map.json and {name} disagree on the track count")
    return MusicMap([t["track"] for t in tracks], [t["genre"] for t in tracks],
                    [t.get("artist", "") for t in tracks], [t.get("title", "") for t in tracks],
                    np.array([[t["x"], t["y"]] for t in tracks], dtype=np.float64), emb,
                    mean, scale, meta.get("method", "?"), meta.get("params", {}),
                    int(meta.get("k", K)), float(meta.get("ood_threshold", float("inf"))))


def build_for_bundle(bundle_dir: str | os.PathLike, data, method: str = "umap",
                     progress: bool = True) -> MusicMap:
    """Build and save the map of the tracks a bundle was trained on (report.json's
    data.track_ids) from the dataset folder(s) `data` (one path or a list, as `train
    --data A --data B`); musicnn features go through the cache."""
    from genre_core.config import FeatureConfig
    from genre_core.inference.bundle import read_bundle_meta
    from genre_core.inference.dataset import (
        extract_dataset,
        index_dataset,
        load_manifest_index,
        load_track_index,
    )

    meta, report = read_bundle_meta(bundle_dir)
    wanted = list((report.get("data") or {}).get("track_ids") or [])
    roots = [data] if isinstance(data, (str, os.PathLike)) else list(data)
    by_id = {}
    for root in roots:
        by_id.update(index_dataset(root).by_id())
    tracks = [by_id[t] for t in wanted if t in by_id] if wanted else list(by_id.values())
    missing = [t for t in wanted if t not in by_id]
    if missing:
        raise GenreError(f"{', '.join(map(str, roots))}: {len(missing)} of the bundle's "
                         f"training tracks are missing "
                         f"(first: {missing[0]})")
    # the bundle's own feature configuration: the map must hear clips as its predictions do
    config = FeatureConfig.from_dict(meta["feature_config"])
    feats, problems = extract_dataset(tracks, "musicnn", config, progress=progress)
    if problems:
        raise GenreError(problems[0])
    index = {}
    for root in roots:
        root = Path(root).expanduser()
        for candidate in (root, *root.parents[:3]):
            if (candidate / "metadata" / "GTZANindex.txt").exists():
                index = load_track_index(candidate / "metadata" / "GTZANindex.txt")
                break
        if index:
            break
    for root in roots:      # a root's own MANIFEST.tsv names its artists and titles
        index.update({k: v for k, v in load_manifest_index(root).items() if v[0].strip()})
    ids = [t.id for t in tracks]
    m = build_map(np.stack([clip_embedding(feats[t]) for t in ids]), ids,
                  [t.genre for t in tracks], [index.get(t, ("", ""))[0] for t in ids],
                  [index.get(t, ("", ""))[1] for t in ids], method=method)
    save_map(m, bundle_dir)
    return m
