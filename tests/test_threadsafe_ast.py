"""ast.parse from several threads at once (CPython gh-106905 on 3.11.0-3.11.7 and 3.12.0-3.12.1):
once genre_core is imported it never fails. Without the guard, on Python 3.11.7, the stress
below failed in 3 of 4 threads within a second ("AST constructor recursion depth mismatch")."""
from __future__ import annotations

import ast
import gc
import inspect
import sys
import threading

import pytest

import genre_core  # noqa: F401 - installs the guard
from genre_core import threadsafe_ast


@pytest.mark.parametrize("version, expected", [
    ((3, 11, 0), True), ((3, 11, 7), True), ((3, 11, 8), False), ((3, 12, 1), True),
    ((3, 12, 2), False), ((3, 13, 0), False), ((3, 10, 14), False),
])
def test_the_affected_pythons(version, expected):
    assert threadsafe_ast.affected(version) is expected


def test_importing_genre_core_guards_parse_where_needed():
    guarded = getattr(ast.parse, "_genre_studio_guarded", False)
    assert guarded is threadsafe_ast.affected()
    assert threadsafe_ast.install() is guarded          # a second install changes nothing
    assert ast.literal_eval("{'descr': '<f4', 'shape': (3,)}") == {"descr": "<f4", "shape": (3,)}


class _Cycle:
    """Garbage whose collection runs Python code: where a parse lets another thread in."""

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        sum(range(20))


def test_four_threads_parse_at_once_without_error():
    source = inspect.getsource(inspect)
    errors: list[str] = []

    def parse_often():
        for _ in range(25):
            for _ in range(50):
                _Cycle()
            try:
                ast.parse(source)
            except SystemError as e:
                errors.append(str(e))
                return

    interval, thresholds = sys.getswitchinterval(), gc.get_threshold()
    sys.setswitchinterval(1e-6)
    gc.set_threshold(100, 5, 5)
    try:
        threads = [threading.Thread(target=parse_often) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
        gc.set_threshold(*thresholds)
    assert errors == []
