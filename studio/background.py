"""Every model's prediction of a chosen clip, run in the background as soon as the clip is
decoded, so Compare finds it done or under way and can show its early answers (the fast
models', then the verdict) while the rest is computed.

Keyed by (clip content digest, bundle folder, bundle stamp): the same bytes give the same
answer to any visitor, and nothing a visitor types is part of the key. Two threads for the
two cores; the last few answers are kept. No Streamlit call happens here: state.py holds the
Streamlit glue and passes in how to reach the loaded Predictor."""
from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

from genre_core.errors import GenreError

KEEP = 64       # finished answers kept (a Prediction holds its 30-s clip: about 3 MB)

class Handover:
    """One early answer of a background prediction, handed over between threads."""

    def __init__(self) -> None:
        self.ready = threading.Event()
        self.prediction = None

    def put(self, prediction) -> None:
        self.prediction = prediction
        self.ready.set()


class EarlyAnswers:
    """What a background prediction hands over before it ends: the fast models' answers
    (`first`), then the ensemble members' answers with the calibrated verdict (`verdict`)."""

    def __init__(self) -> None:
        self.first, self.verdict = Handover(), Handover()


_FUTURES: dict[tuple, Future] = {}
_EARLY: dict[tuple, EarlyAnswers] = {}
_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _pool():
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="genre-prefetch")


def any_started() -> bool:
    """Whether a clip has been sent to the background (the warm-up then stops early)."""
    return bool(_FUTURES)


def start(key: tuple, clip, loaded: Callable[[], object | None],
          given_up: Callable[[], bool], wait_s: float = 60.0) -> None:
    """Start the staged prediction of `clip` under `key` unless one exists. `loaded()` gives
    the Predictor once it is loaded (None before); `given_up()` says that it never will be
    (the warm-up ended without it): the prediction then fails with a GenreError and the page
    predicts itself."""
    with _LOCK:
        if key in _FUTURES:
            return
        early = EarlyAnswers()
        _FUTURES[key] = _pool().submit(_predict_when_loaded, clip, early, loaded, given_up,
                                       wait_s)
        _EARLY[key] = early
        # the oldest finished answers go; one still being computed is never dropped (its
        # page would compute it a second time beside it)
        done = [k for k, f in _FUTURES.items() if f.done()]
        for k in done[:max(0, len(_FUTURES) - KEEP)]:
            _EARLY.pop(k, None)
            _FUTURES.pop(k, None)


def _predict_when_loaded(clip, early: EarlyAnswers, loaded: Callable[[], object | None],
                         given_up: Callable[[], bool], wait_s: float):
    deadline = time.monotonic() + wait_s
    while (predictor := loaded()) is None:
        if time.monotonic() > deadline or given_up():
            raise GenreError("the models were not loaded in the background")
        time.sleep(0.05)
    return predictor.predict_staged(clip, early.first.put, early.verdict.put)


def future(key: tuple) -> Future | None:
    """The background prediction under `key` (running or done), or None."""
    with _LOCK:
        return _FUTURES.get(key)


def succeeded(key: tuple) -> bool:
    f = future(key)
    return f is not None and f.done() and f.exception() is None


def under_way(key: tuple) -> bool:
    """Started and not failed (running or done)."""
    f = future(key)
    return f is not None and not (f.done() and f.exception() is not None)


def early_answer(key: tuple, which: str, timeout: float):
    """The early answer `which` ('first' or 'verdict') of the prediction under `key`: waits
    until it exists, the whole prediction is done, or `timeout`; None when there is none."""
    with _LOCK:
        early, f = _EARLY.get(key), _FUTURES.get(key)
    if early is None or f is None:
        return None
    handover = getattr(early, which)
    deadline = time.monotonic() + timeout
    while not handover.ready.wait(0.05):
        if f.done() or time.monotonic() > deadline:
            return handover.prediction
    return handover.prediction
