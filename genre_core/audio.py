"""Decode a path or an upload into mono float32 samples at the model rate.

soundfile (libsndfile: WAV, FLAC, OGG, MP3) is tried first because it can read just the first
N seconds of a file; librosa/audioread is the fallback for anything else it cannot open.
"""
from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np

from genre_core.config import FeatureConfig
from genre_core.errors import AudioError

AudioSource = Union[str, os.PathLike, bytes, BinaryIO]
AUDIO_EXTENSIONS = (".wav", ".mp3", ".flac", ".ogg", ".oga", ".au", ".aiff", ".aif", ".m4a")


@dataclass
class Clip:
    """Decoded audio plus what a person wants to know about the file."""

    samples: np.ndarray          # mono float32 at `sample_rate`, at most max_seconds long
    sample_rate: int
    name: str
    duration: float              # of the whole file, in seconds (not only the part read)
    original_rate: int
    channels: int
    truncated: bool = False      # True when only the first max_seconds were read
    warnings: list[str] = field(default_factory=list)

    @property
    def loaded_seconds(self) -> float:
        return len(self.samples) / self.sample_rate


def _describe(source: AudioSource, name: str | None) -> str:
    if name:
        return name
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    return getattr(source, "name", None) or "uploaded audio"


def _read_soundfile(source, max_seconds: float | None):
    import soundfile as sf

    with sf.SoundFile(source) as f:
        rate, channels, frames = f.samplerate, f.channels, f.frames
        want = frames if max_seconds is None else min(frames, int(np.ceil(max_seconds * rate)))
        data = f.read(frames=want, dtype="float32", always_2d=True)
    return data, rate, channels, frames / rate if rate else 0.0


def _read_fallback(path: str, max_seconds: float | None):
    import warnings

    import librosa

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y, rate = librosa.load(path, sr=None, mono=False, duration=max_seconds)
    data = np.atleast_2d(y).T.astype(np.float32)
    try:
        duration = float(librosa.get_duration(path=path))
    except Exception:
        duration = len(data) / rate
    return data, int(rate), data.shape[1], duration


def load_audio(source: AudioSource, config: FeatureConfig = FeatureConfig(),
               name: str | None = None) -> Clip:
    """Decode `source` (path, bytes or binary file object) into a mono Clip at config.sample_rate.

    Raises AudioError with a message naming the file for anything a user could have caused:
    missing, empty, not audio, truncated beyond repair, too short, or all non-finite samples.
    """
    label = _describe(source, name)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise AudioError(f"{label}: file not found")
        if path.is_dir():
            raise AudioError(f"{label}: is a folder, not an audio file")
        if path.stat().st_size == 0:
            raise AudioError(f"{label}: file is empty (0 bytes)")
        sf_source: object = str(path)
    else:
        raw = source if isinstance(source, (bytes, bytearray)) else source.read()
        if not raw:
            raise AudioError(f"{label}: file is empty (0 bytes)")
        sf_source = io.BytesIO(raw)

    try:
        data, rate, channels, duration = _read_soundfile(sf_source, config.max_seconds)
    except Exception as first_error:  # libsndfile refused: try audioread/ffmpeg
        try:
            if isinstance(sf_source, io.BytesIO):
                suffix = Path(label).suffix or ".bin"
                with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
                    tmp.write(sf_source.getvalue())
                    tmp.flush()
                    data, rate, channels, duration = _read_fallback(tmp.name, config.max_seconds)
            else:
                data, rate, channels, duration = _read_fallback(str(sf_source), config.max_seconds)
        except Exception:
            reason = str(first_error).split("\n")[0]
            raise AudioError(f"{label}: could not be decoded as audio ({reason})") from None

    warnings: list[str] = []
    if data.size == 0 or rate <= 0:
        raise AudioError(f"{label}: contains no audio samples")
    finite = np.isfinite(data)
    if not finite.all():
        if not finite.any():
            raise AudioError(f"{label}: every sample is NaN or infinite")
        bad = int((~finite).sum())
        data = np.where(finite, data, 0.0).astype(np.float32)
        warnings.append(f"{bad} NaN/infinite samples were replaced by silence")

    if data.shape[1] > 1:   # channel by channel: numpy's mean over a short axis is slow
        mono = data[:, 0].copy()
        for c in range(1, data.shape[1]):
            mono += data[:, c]
        mono /= data.shape[1]
    else:
        mono = data[:, 0]
    loaded = len(mono) / rate
    if loaded < config.min_seconds:
        raise AudioError(
            f"{label}: is {loaded:.2f} s long; at least {config.min_seconds:g} s is needed")
    if rate != config.sample_rate:
        import librosa

        mono = librosa.resample(mono, orig_sr=rate, target_sr=config.sample_rate)
    mono = np.ascontiguousarray(mono, dtype=np.float32)
    peak = float(np.max(np.abs(mono))) if mono.size else 0.0
    if peak < 1e-4:
        warnings.append("the clip is silent (peak below -80 dBFS); predictions mean nothing")
    elif peak > 1.0:
        mono = mono / peak
        warnings.append(f"samples exceeded full scale (peak {peak:.2f}) and were normalised")
    if loaded < config.segment_seconds:
        warnings.append(f"shorter than one {config.segment_seconds:g}-s segment; padded with silence")
    truncated = config.max_seconds is not None and duration > loaded + 1e-3
    return Clip(samples=mono, sample_rate=config.sample_rate, name=label, duration=float(duration),
                original_rate=int(rate), channels=int(channels), truncated=truncated,
                warnings=warnings)
