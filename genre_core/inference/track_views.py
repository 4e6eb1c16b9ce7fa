"""Which view a track belongs to in the two-view evaluation (GTZAN, or the data root it came
from, e.g. realworld: real recordings). Light on purpose: the app's pure helpers read it."""
from __future__ import annotations

import os
import re
from pathlib import Path

GTZAN_VIEW = "GTZAN"
GTZAN_ID = re.compile(r"[a-z]+\.\d{5}")


def track_view(track_id: str, root: str | os.PathLike | None = None) -> str:
    """Which view a track belongs to in the two-view evaluation: "GTZAN" for GTZAN's ids
    (genre.00042, in either of its roots), else the name of the data root it came from (e.g.
    "realworld": real recordings)."""
    if GTZAN_ID.fullmatch(track_id) or root is None:
        return GTZAN_VIEW
    return Path(root).name or str(root)
