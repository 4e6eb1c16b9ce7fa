"""The command line as a user runs it: `python -m genre_core ...` in a fresh interpreter."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.helpers.paths import ROOT


def run_cli(*args, cwd=ROOT):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "genre_core", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=300)
