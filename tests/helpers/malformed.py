"""Malformed audio files, seeded: truncated headers, random bytes under audio extensions, zero
length, the wrong extension, damaged middles, headers that lie about their size. Used by the
decoding fuzz (tests/inference/test_fuzz.py) and the predict fuzz (tests/helpers/fuzz_inputs.py)."""
from __future__ import annotations

import io

import numpy as np
import soundfile as sf

from tests.helpers.audio import tone

SEED = 20261125
FORMATS = {"wav": ("WAV", "PCM_16"), "flac": ("FLAC", "PCM_16"), "ogg": ("OGG", "VORBIS"),
           "mp3": ("MP3", None), "aiff": ("AIFF", "PCM_16")}


def _valid(fmt: str, rng) -> bytes:
    buf = io.BytesIO()
    kind, subtype = FORMATS[fmt]
    y = tone(float(rng.uniform(0.6, 2.0)), freq=float(rng.uniform(100, 2000)),
             channels=int(rng.integers(1, 3)))
    sf.write(buf, y, 22050, format=kind, subtype=subtype)
    return buf.getvalue()


def malformed_files(n: int = 300, seed: int = SEED) -> list[tuple[str, bytes]]:
    rng = np.random.default_rng(seed)
    valid = {fmt: _valid(fmt, rng) for fmt in FORMATS}
    out = []
    for i in range(n):
        fmt = list(FORMATS)[i % len(FORMATS)]
        good = valid[fmt]
        case = i % 8
        if case == 0:       # truncated inside or just after the header
            data = good[: int(rng.integers(1, 200))]
        elif case == 1:     # truncated anywhere
            data = good[: int(rng.integers(1, len(good)))]
        elif case == 2:     # random bytes with an audio extension
            data = rng.bytes(int(rng.integers(1, 5000)))
        elif case == 3:     # zero length
            data = b""
        elif case == 4:     # damaged middle
            b = bytearray(good)
            for _ in range(int(rng.integers(1, 50))):
                b[int(rng.integers(0, len(b)))] = int(rng.integers(0, 256))
            data = bytes(b)
        elif case == 5:     # the wrong extension: another format's bytes
            other = list(FORMATS)[(i // 8) % len(FORMATS)]
            data = valid[other]
        elif case == 6:     # a header that lies about the data size / channel count
            b = bytearray(valid["wav"])
            b[40:44] = int(rng.integers(0, 2**32)).to_bytes(4, "little")
            b[22:24] = int(rng.integers(0, 2**16)).to_bytes(2, "little")
            data, fmt = bytes(b), "wav"
        else:               # a valid header followed by random bytes
            data = good[:64] + rng.bytes(int(rng.integers(0, 20000)))
        out.append((f"fz{i:04d}.{fmt}", data))
    return out
