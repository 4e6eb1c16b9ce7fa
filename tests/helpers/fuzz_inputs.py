"""Seeded generator of the inputs a visitor can bring (issue #24): every length (0 samples, 1
sample, 0.1 s ... 4 s), sample rate (1 Hz to 384 kHz), sample width (8/16/24/32-bit int,
32/64-bit float with NaN or Inf in it), channel count (1 to 32), DC offset, clipping,
phase-inverted stereo, silence, noise, tones and music-like sound, in WAV, FLAC, OGG and AIFF
containers; plus malformed containers (helpers.malformed.malformed_files: truncated headers, lying
chunk sizes, wrong extensions, zero-byte files, random bytes) and WAV headers that declare a
huge length. `fuzz_cases(n, seed)` returns [(case, file name, bytes)]; `describe` prints them,
so a failing run names its seed and every generated case."""
from __future__ import annotations

import io
import struct

import numpy as np
import soundfile as sf

from tests.helpers.malformed import malformed_files

SEED = 20261206
RATES = [1, 2, 8, 100, 1000, 4000, 8000, 11025, 16000, 22050, 32000, 44100, 48000, 96000,
         192000, 384000]
LENGTHS_S = [0.1, 0.3, 0.5, 0.9, 1.0, 1.01, 1.5, 2.99, 3.0, 3.01, 4.0]
CHANNELS = [1, 1, 2, 2, 3, 6, 8, 16, 32]
# (container, subtype): every width the decoders meet
WIDTHS = [("WAV", "PCM_U8"), ("WAV", "PCM_16"), ("WAV", "PCM_24"), ("WAV", "PCM_32"),
          ("WAV", "FLOAT"), ("WAV", "DOUBLE"), ("FLAC", "PCM_16"), ("FLAC", "PCM_24"),
          ("OGG", "VORBIS"), ("AIFF", "PCM_16"), ("AIFF", "FLOAT")]
EXTENSION = {"WAV": "wav", "FLAC": "flac", "OGG": "ogg", "AIFF": "aiff"}
CONTENTS = ["tone", "noise", "silence", "chirp", "clicks", "music", "dc", "clipped",
            "inverted", "nan", "inf", "all_nan", "near_silence"]
MAX_VALUES = 1_500_000          # samples x channels per file: keeps the suite fast


def _signal(content: str, n: int, rate: int, channels: int, rng) -> np.ndarray:
    t = np.arange(n) / max(rate, 1)
    f = float(rng.uniform(0.1, 0.45) * rate)
    if content == "silence":
        y = np.zeros(n)
    elif content == "near_silence":
        y = 1e-6 * rng.standard_normal(n)
    elif content == "noise":
        y = 0.3 * rng.standard_normal(n)
    elif content == "chirp":
        y = 0.5 * np.sin(2 * np.pi * (50 + 0.2 * rate * t / max(t[-1] if n else 1, 1e-9)) * t)
    elif content == "clicks":
        y = np.zeros(n)
        y[:: max(1, rate // 4)] = 0.9
    elif content == "music":         # notes with onsets and a noisy beat
        beat = (np.sin(2 * np.pi * 2 * t) > 0.95).astype(float) * rng.standard_normal(n) * 0.3
        y = 0.3 * np.sin(2 * np.pi * f * np.floor(1 + 4 * t) / 4 * t) + beat
    else:
        y = 0.4 * np.sin(2 * np.pi * f * t)
    if content == "dc":
        y = 0.2 * y + float(rng.choice([-0.7, 0.7]))
    if content == "clipped":
        y = np.clip(8 * y + 0.01 * rng.standard_normal(n), -1, 1)
    y = np.stack([y * (1 - 0.05 * c) for c in range(channels)], axis=1)
    if content == "inverted" and channels >= 2:
        y[:, 1] = -y[:, 0]
    if content in ("nan", "inf") and n:
        bad = rng.integers(0, n, size=max(1, n // 50))
        y[bad, 0] = np.nan if content == "nan" else np.inf * rng.choice([-1, 1])
    if content == "all_nan":
        y[:] = np.nan
    return y


def _encode(y: np.ndarray, rate: int, container: str, subtype: str) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, y, rate, format=container, subtype=subtype)
    return buf.getvalue()


def signal_case(rng, i: int) -> tuple[str, str, bytes]:
    container, subtype = WIDTHS[i % len(WIDTHS)]
    content = CONTENTS[int(rng.integers(len(CONTENTS)))]
    if content in ("nan", "inf", "all_nan"):
        container, subtype = ("WAV", "FLOAT") if i % 2 else ("WAV", "DOUBLE")
    rate = int(rng.choice(RATES))
    channels = int(rng.choice(CHANNELS))
    if rng.random() < 0.15:
        n = int(rng.choice([0, 1, 2, 3]))         # (nearly) no samples after decoding
    else:
        n = int(round(float(rng.choice(LENGTHS_S)) * rate))
    n = min(n, MAX_VALUES // channels)
    # what a container cannot hold becomes a WAV (libsndfile refuses to write it)
    if container == "OGG" and not (8000 <= rate <= 192000 and channels <= 8):
        container, subtype = "WAV", "PCM_16"
    if container == "FLAC" and (rate > 655350 or channels > 8):
        container, subtype = "WAV", "PCM_24"
    y = _signal(content, n, rate, channels, rng)
    if subtype.startswith("PCM") and not np.isfinite(y).all():
        y = np.nan_to_num(y, nan=0.0, posinf=1.0, neginf=-1.0)
    try:
        data = _encode(y, rate, container, subtype)
    except (sf.LibsndfileError, RuntimeError, ValueError):
        container, subtype = "WAV", "FLOAT"
        data = _encode(y, rate, container, subtype)
    case = f"{content} {n} samples {rate} Hz {channels} ch {container} {subtype}"
    return case, f"sig{i:04d}.{EXTENSION[container]}", data


def huge_declared_length(rng, i: int) -> tuple[str, str, bytes]:
    """A valid short WAV whose RIFF and data chunk sizes claim up to 4 GiB."""
    y = 0.3 * np.sin(2 * np.pi * 440 * np.arange(int(rng.integers(100, 40000))) / 22050)
    b = bytearray(_encode(y[:, None], 22050, "WAV", "PCM_16"))
    declared = int(rng.choice([2**31 - 1, 2**32 - 1, 2**32 - 8, 10**9]))
    b[4:8] = struct.pack("<I", min(declared + 36, 2**32 - 1))
    b[40:44] = struct.pack("<I", declared)
    return f"WAV declaring {declared} bytes", f"huge{i:04d}.wav", bytes(b)


def fuzz_cases(n_signals: int = 230, n_malformed: int = 70, n_huge: int = 10,
               seed: int = SEED) -> list[tuple[str, str, bytes]]:
    rng = np.random.default_rng(seed)
    cases = [signal_case(rng, i) for i in range(n_signals)]
    cases += [huge_declared_length(rng, i) for i in range(n_huge)]
    cases += [(f"malformed {name.rsplit('.', 1)[-1]}", name, data)
              for name, data in malformed_files(n_malformed, seed)]
    return cases


def describe(cases, seed: int = SEED) -> str:
    return f"fuzz seed {seed}, {len(cases)} cases:\n" + "\n".join(
        f"  {name}: {case} ({len(data)} bytes)" for case, name, data in cases)
