"""Synthesized audio: tones as arrays, WAV (or other container) bytes."""
from __future__ import annotations

import io

import numpy as np
import soundfile as sf


def tone(seconds: float = 5.0, rate: int = 22050, freq: float = 440.0, channels: int = 1,
         seed: int = 0) -> np.ndarray:
    """A sine with a little noise; (n,) or (n, channels)."""
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(seed)
    y = 0.4 * np.sin(2 * np.pi * freq * t) + 0.02 * rng.standard_normal(len(t))
    y = y.astype(np.float32)
    if channels > 1:
        y = np.stack([y * (1 - 0.1 * c) for c in range(channels)], axis=1)
    return y


def wav_bytes(y: np.ndarray, rate: int = 22050, fmt: str = "WAV", subtype: str | None = None) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, y, rate, format=fmt, subtype=subtype)
    return buf.getvalue()


def tone_wav(seconds: float = 7.0, rate: int = 22050, amplitude: float = 0.4) -> bytes:
    """A 440 Hz tone with a little noise, as WAV bytes."""
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(0)
    y = (amplitude * np.sin(2 * np.pi * 440 * t)
         + (0.02 if amplitude else 0.0) * rng.standard_normal(len(t))).astype(np.float32)
    buf = io.BytesIO()
    sf.write(buf, y, rate, format="WAV")
    return buf.getvalue()
