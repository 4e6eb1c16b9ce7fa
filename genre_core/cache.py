"""On-disk feature cache keyed by file content + feature kind + FeatureConfig, so a second
run over the same data reads arrays instead of decoding audio."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from genre_core.config import FeatureConfig

CACHE_VERSION = 1


def default_cache_dir() -> Path:
    env = os.environ.get("GENRE_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "genre_studio"


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class FeatureCache:
    """A folder of .npy files; writes are atomic (temp file + rename) so a killed run never
    leaves a half-written entry."""

    def __init__(self, root: Path | str | None = None, enabled: bool = True):
        self.root = Path(root) if root else default_cache_dir()
        self.enabled = enabled

    def key(self, file_hash: str, kind: str, config: FeatureConfig) -> str:
        params = json.dumps({"v": CACHE_VERSION, "kind": kind, **config.to_dict()}, sort_keys=True)
        return hashlib.blake2b(f"{file_hash}|{params}".encode(), digest_size=16).hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npy"

    def get(self, key: str) -> np.ndarray | None:
        if not self.enabled:
            return None
        path = self._path(key)
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None

    def put(self, key: str, value: np.ndarray) -> None:
        if not self.enabled:
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.save(f, value, allow_pickle=False)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class HashIndex:
    """Remembers each file's content hash under its (path, size, modification time), so a
    cached run over a dataset reads no audio at all. A changed file gets a new signature and
    is hashed again; the features themselves stay keyed by content."""

    def __init__(self, cache: FeatureCache):
        self.enabled = cache.enabled
        self.path = cache.root / "file_hashes.json"
        self.entries: dict[str, str] = {}
        self.dirty = False
        if self.enabled:
            try:
                self.entries = json.loads(self.path.read_text())
            except (OSError, ValueError):
                self.entries = {}

    def get(self, signature: str) -> str | None:
        return self.entries.get(signature)

    def put(self, signature: str, file_hash: str) -> None:
        if self.entries.get(signature) != file_hash:
            self.entries[signature] = file_hash
            self.dirty = True

    def save(self) -> None:
        if not (self.enabled and self.dirty):
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(self.entries, f)
        os.replace(tmp, self.path)
        self.dirty = False
