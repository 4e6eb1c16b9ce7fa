"""librosa's compiled kernels, loaded by one process at a time.

librosa compiles its generalized ufuncs (local maxima, peak picking, zero crossings, pitch
interpolation) with numba when their modules are imported, and keeps them in numba's on-disk
cache. That cache is not safe for two processes compiling at once (numba issue 10128: a
gufunc's two cache files can come from different processes whose names do not match). Two
first runs at the same moment in a fresh environment (the app's warm-up and a `predict`, or
two `predict` pool workers) left a cache with which every later `chroma_stft` segfaulted.

`librosa_ready()` imports those modules under a file lock before anything in Genre Studio
uses librosa: the first process compiles and writes the cache, the others wait and then load
it. Once imported in a process, the check is one flag.
"""
from __future__ import annotations

import importlib
import os
import tempfile
import threading
from pathlib import Path

# librosa's modules that compile a numba (g)ufunc with cache=True at import (librosa 0.11);
# `librosa.beat` has some too, but nothing in Genre Studio imports it
KERNEL_MODULES = ("librosa.util.utils", "librosa.core.audio", "librosa.core.pitch")
LOCK_WAIT_S = 600.0     # a cold compile takes ~30 s on two cores; a stuck holder is not waited for

_done = False
_in_process = threading.Lock()


def lock_path() -> Path:
    """One lock per user (a lock file another user created may not be writable)."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"genre-studio-librosa-kernels-{uid}.lock"


def librosa_ready() -> None:
    """Import librosa's numba kernels, compiling or loading them while holding the lock."""
    global _done
    if _done:
        return
    from filelock import FileLock, Timeout

    with _in_process:
        if _done:
            return
        try:
            with FileLock(lock_path(), timeout=LOCK_WAIT_S):
                _import_kernels()
        except (Timeout, OSError):
            # no lock to be had (unwritable temp folder, a holder stuck for 10 min): import
            # as librosa would without Genre Studio
            _import_kernels()
        _done = True


def _import_kernels() -> None:
    for name in KERNEL_MODULES:
        importlib.import_module(name)
