"""Helpers shared by the command-line subcommands: data loading with reporting, timing."""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager

from genre_core.config import GENRES


def eprint(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


@contextmanager
def timed(label: str, store: dict | None = None, quiet: bool = False):
    start = time.perf_counter()
    yield
    secs = time.perf_counter() - start
    if store is not None:
        store[label] = round(secs, 3)
    if not quiet:
        eprint(f"{label}: {secs:.1f} s")


def label_order(genres) -> list[str]:
    """The GTZAN order when the genres are GTZAN's, sorted otherwise."""
    present = set(genres)
    return [g for g in GENRES if g in present] if present <= set(GENRES) else sorted(present)
