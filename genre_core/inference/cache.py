"""On-disk feature cache keyed by file content + feature kind + FeatureConfig, so a second
run over the same data reads arrays instead of decoding audio.

The cache is a convenience, never a reason to fail: whatever it finds on disk is checked
(a 0-byte or truncated .npy, an array of the wrong shape, a folder where an entry should be,
a hash index that is not a mapping) and a bad entry is rebuilt after one warning. Writes go
to a temporary file that is flushed and synced before it is renamed into place, so a power
cut leaves the old entry or the new one, never an empty file under the final name."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np

from genre_core.atomic import atomic_write
from genre_core.config import FeatureConfig

CACHE_VERSION = 1
CHUNK = 1 << 20


class CacheWarning(UserWarning):
    """A cache entry was unreadable or malformed and is being rebuilt."""


def default_cache_dir() -> Path:
    env = os.environ.get("GENRE_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "genre_studio"


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def stream_hash(f: BinaryIO) -> str:
    """content_hash of a file object's bytes, read in bounded chunks."""
    h = hashlib.blake2b(digest_size=16)
    while chunk := f.read(CHUNK):
        h.update(chunk)
    return h.hexdigest()


def _clear(path: Path) -> None:
    """Remove whatever sits at `path` (file, link or folder) so an entry can be written."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


class FeatureCache:
    """A folder of .npy files, one per (content hash, kind, FeatureConfig)."""

    def __init__(self, root: Path | str | None = None, enabled: bool = True):
        self.root = Path(root) if root else default_cache_dir()
        self.enabled = enabled

    def key(self, file_hash: str, kind: str, config: FeatureConfig) -> str:
        params = json.dumps({"v": CACHE_VERSION, "kind": kind, **config.to_dict()}, sort_keys=True)
        return hashlib.blake2b(f"{file_hash}|{params}".encode(), digest_size=16).hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npy"

    def get(self, key: str, check: Callable[[np.ndarray], bool] | None = None
            ) -> np.ndarray | None:
        """The cached array, or None when absent or bad (a bad entry is warned about once
        and removed, so the caller's fresh result replaces it). `check` validates the shape
        the caller expects."""
        if not self.enabled:
            return None
        path = self._path(key)
        if not os.path.lexists(path):
            return None
        problem = None
        try:
            if not path.is_file():
                problem = "is not a regular file"
            else:
                value = np.load(path, allow_pickle=False)
                if not isinstance(value, np.ndarray):
                    problem = "does not hold one array"
                elif check is not None and not check(value):
                    problem = f"holds an array of unexpected shape {value.shape}"
                elif value.dtype.kind == "f" and not np.isfinite(value).all():
                    problem = "holds NaN or infinite values"
        except (OSError, ValueError, EOFError) as e:
            problem = f"is unreadable ({type(e).__name__}: {str(e)[:80]})"
        if problem is None:
            return value
        warnings.warn(f"feature cache entry {path} {problem}; rebuilding it", CacheWarning,
                      stacklevel=2)
        try:
            _clear(path)
        except OSError:
            pass
        return None

    def put(self, key: str, value: np.ndarray) -> None:
        if not self.enabled:
            return
        try:
            atomic_write(self._path(key), lambda f: np.save(f, value, allow_pickle=False))
        except OSError as e:   # a read-only or full cache only costs speed
            warnings.warn(f"feature cache: could not write {self._path(key)} ({e})",
                          CacheWarning, stacklevel=2)


class HashIndex:
    """Remembers each file's content hash under its (path, size, modification time), so a
    cached run over a dataset reads no audio at all. A changed file gets a new signature and
    is hashed again; the features themselves stay keyed by content."""

    def __init__(self, cache: FeatureCache):
        self.enabled = cache.enabled
        self.path = cache.root / "file_hashes.json"
        self.entries: dict[str, str] = {}
        self.dirty = False
        if self.enabled and os.path.lexists(self.path):
            try:
                entries = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                entries = e
            if isinstance(entries, dict) and all(
                    isinstance(k, str) and isinstance(v, str) for k, v in entries.items()):
                self.entries = entries
            else:
                warnings.warn(f"feature cache index {self.path} is unreadable or not a "
                              "mapping of file signatures to hashes; rebuilding it",
                              CacheWarning, stacklevel=2)
                self.dirty = True

    def get(self, signature: str) -> str | None:
        return self.entries.get(signature)

    def put(self, signature: str, file_hash: str) -> None:
        if self.entries.get(signature) != file_hash:
            self.entries[signature] = file_hash
            self.dirty = True

    def save(self) -> None:
        if not (self.enabled and self.dirty):
            return
        data = json.dumps(self.entries).encode()
        try:
            atomic_write(self.path, lambda f: f.write(data))
        except OSError as e:
            warnings.warn(f"feature cache: could not write {self.path} ({e})", CacheWarning,
                          stacklevel=2)
        self.dirty = False
