"""`ast.parse` one thread at a time, on the Pythons where two at once can fail.

CPython 3.11.0-3.11.7 and 3.12.0-3.12.1 build the tree that `ast.parse` returns with one
recursion counter shared by every thread (CPython issue gh-106905, fixed in 3.11.8 and 3.12.2).
When a garbage collection during one parse runs Python code, another thread's parse can
interleave, and one of them fails with "SystemError: AST constructor recursion depth
mismatch". Genre Studio parses from several threads without asking to: numpy's `np.load`
reads every array header with `ast.literal_eval` (the bundle loads its models in parallel),
lazy_loader parses librosa's stubs on import, and Streamlit parses each page the first time a
session opens it. A class uploading at once on a fresh server hit it: one page stopped with
that error instead of its verdict.

`install()` wraps `ast.parse` (which `ast.literal_eval` calls too) in one lock on those
versions; parses are short and rare, so nobody waits noticeably. On a fixed Python it does
nothing.
"""
from __future__ import annotations

import ast
import functools
import sys
import threading

_LOCK = threading.RLock()


def affected(version: tuple[int, ...] = tuple(sys.version_info[:3])) -> bool:
    """Whether this Python's `ast.parse` can fail when two threads parse at once."""
    return (3, 11, 0) <= version < (3, 11, 8) or (3, 12, 0) <= version < (3, 12, 2)


def install() -> bool:
    """Serialize `ast.parse` where needed (idempotent). Returns whether it is guarded."""
    if getattr(ast.parse, "_genre_studio_guarded", False):
        return True
    if not affected():
        return False
    parse = ast.parse

    @functools.wraps(parse)
    def guarded_parse(*args, **kwargs):
        with _LOCK:
            return parse(*args, **kwargs)

    guarded_parse._genre_studio_guarded = True    # type: ignore[attr-defined]
    ast.parse = guarded_parse
    return True
