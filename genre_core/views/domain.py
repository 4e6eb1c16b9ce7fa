"""The out-of-domain check of a bundle's predictions outside the app (`predict`, batch runs):
`ood`'s four signals, with the distance measured against the bundle's map of music. The app
runs the same check through its cached loaders (studio.sections.domain_check)."""
from __future__ import annotations

import os

from genre_core.errors import GenreError
from genre_core.views.music_map import MusicMap, clip_embedding, load_map
from genre_core.views.ood import DomainCheck, check_domain


class BundleDomainCheck:
    """Called with a Prediction, returns its ood.DomainCheck (`messages()`, `not_music`). The map
    is read once per process, on first use (a forked worker inherits the parent's, a spawned
    one gets this object unloaded and reads it itself); a bundle without a readable map checks
    the audio signals only (`problem` says why, for the caller to say once)."""

    def __init__(self, bundle_dir: str | os.PathLike):
        self.bundle_dir = str(bundle_dir)
        self._map: MusicMap | None = None
        self._loaded = False
        self.problem: str | None = None

    def __getstate__(self) -> dict:
        return {"bundle_dir": self.bundle_dir, "_map": None, "_loaded": False, "problem": None}

    def music_map(self) -> MusicMap | None:
        if not self._loaded:
            try:
                self._map = load_map(self.bundle_dir)
            except GenreError as e:
                self._map, self.problem = None, str(e)
            self._loaded = True
        return self._map

    def __call__(self, prediction) -> DomainCheck:
        clip = prediction.clip
        music_map = self.music_map()
        units = prediction.musicnn_units
        embedding = clip_embedding(units) if music_map is not None and units is not None else None
        return check_domain(clip.samples, clip.sample_rate, embedding, music_map)
