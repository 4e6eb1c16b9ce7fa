"""Where things are: the checkout, the GTZAN material beside it, the shipped bundle, the tests'
stored reference data."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]          # the repository's root
TEST_DATA = ROOT / "tests" / "data"                 # reference values the tests compare against
SHIPPED_BUNDLE = ROOT / "assets" / "models" / "default"
DATA_ROOT = Path(os.environ.get("GENRE_DATA_ROOT", ROOT.parent / "shared" / "gtzan"))


def require_data() -> Path:
    """The GTZAN folder, or skip (fail in CI) with the reason."""
    if (DATA_ROOT / "Data" / "genres_original").is_dir():
        return DATA_ROOT
    reason = f"GTZAN material not found at {DATA_ROOT} (set GENRE_DATA_ROOT)"
    if os.environ.get("GENRE_REQUIRE_DATA") == "1":
        pytest.fail(reason + " but GENRE_REQUIRE_DATA=1")
    pytest.skip(reason)
