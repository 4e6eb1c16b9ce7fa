"""The script that made the stored musicnn reference values."""
from __future__ import annotations

import importlib


def musicnn_reference_script():
    """studies/musicnn_reference.py, which made the stored musicnn reference values: tests use
    its own synth_clip so the synthesized input cannot drift from the one the original saw."""
    return importlib.import_module("studies.musicnn_reference")
