"""Dataset folders of synthesized tones, laid out as GTZAN's (genres_original/<genre>/...)."""
from __future__ import annotations

from pathlib import Path

import soundfile as sf

from tests.helpers.audio import tone

GENRES2 = ["blues", "rock"]


def make_root(root: Path, ids=("00000", "00001"), genres=GENRES2, fmt="wav", freq=300.0,
              seconds=4.0) -> Path:
    """<root>/genres_original/<genre>/<genre>.<id>.<fmt> of synthesized tones."""
    for gi, g in enumerate(genres):
        (root / "genres_original" / g).mkdir(parents=True, exist_ok=True)
        for k, i in enumerate(ids):
            sf.write(root / "genres_original" / g / f"{g}.{i}.{fmt}",
                     tone(seconds, freq=freq + 90 * gi + 7 * k), 22050,
                     format=fmt.upper())
    return root
