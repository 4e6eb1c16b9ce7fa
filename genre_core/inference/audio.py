"""Decode a path or an upload into mono float32 samples at the model rate.

soundfile (libsndfile: WAV, FLAC, OGG, MP3) is tried first because it can read just the first
N seconds of a file; librosa/audioread is the fallback for anything else it cannot open.
"""
from __future__ import annotations

import io
import os
import re
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast

import numpy as np

from genre_core.config import FeatureConfig
from genre_core.errors import AudioError, printable
from genre_core.features.librosa_kernels import librosa_ready
from genre_core.features.segments import MIDDLE_AFTER_EXTRA_SECONDS, excerpt_start  # noqa: F401 (API)

AudioSource = str | os.PathLike | bytes | BinaryIO
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
    truncated: bool = False      # True when only max_seconds of the file were read
    offset: float = 0.0          # seconds into the file where `samples` start (a long file's
                                 # middle is analysed: see excerpt_start)
    warnings: list[str] = field(default_factory=list)

    @property
    def loaded_seconds(self) -> float:
        return len(self.samples) / self.sample_rate


# A file object is copied to a temporary file only when libsndfile cannot read it; this
# bounds that copy (and any whole-member read) so a huge upload or zip member cannot fill
# the disk or memory. GENRE_MAX_FILE_MB overrides it.
MAX_FILE_BYTES = int(float(os.environ.get("GENRE_MAX_FILE_MB", 1024)) * 2**20)
CHUNK = 1 << 20


def clock(seconds: float) -> str:
    """m:ss, as a player shows a position."""
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}:{s:02d}"


def heard_span(duration: float, start: float, heard: float) -> str | None:
    """"1:15-1:45 of 3:00" when only part of a file was analysed (a long file's middle 30 s),
    None when all of it was."""
    if heard >= duration - 0.5:
        return None
    return f"{clock(start)}-{clock(start + heard)} of {clock(duration)}"


def _describe(source: AudioSource, name: str | None) -> str:
    if name:
        return printable(name)
    if isinstance(source, (str, os.PathLike)):
        return printable(os.fspath(source))
    label = getattr(source, "name", None)
    return printable(label) if isinstance(label, (str, bytes)) else "uploaded audio"


def reason(error: Exception) -> str:
    """The decoder's message without what it says about the source (libsndfile starts with
    "Error opening <_io.BytesIO object at 0x...>: ", which names nothing a person knows)."""
    text = str(error).split("\n")[0]
    text = re.sub(r"^Error opening .*?: ", "", text)
    text = re.sub(r"<_io\.\w+ object at 0x[0-9a-f]+>", "the data", text)
    # libsndfile's words for a file that ends early or is damaged mid-stream are about
    # pipes and "system" errors; say what it means for an existing regular file
    if "possibly a pipe" in text or text.startswith(("System error", "Unspecified internal")):
        return "the data ends early or is damaged"
    return text.strip() or type(error).__name__


def open_checked(path: str | os.PathLike, label: str | None = None) -> BinaryIO:
    """Open a regular file for reading, or raise AudioError saying what is wrong with it
    (missing, a folder, a FIFO or device, permission denied, empty). A FIFO is refused before
    it is opened: opening one blocks until something writes to it."""
    label = label or printable(os.fspath(path))
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise AudioError(f"{label}: file not found") from None
    except PermissionError:
        raise AudioError(f"{label}: permission denied (a folder on its path cannot be "
                         "entered)") from None
    except OSError as e:
        raise AudioError(f"{label}: cannot be read ({e.strerror or e})") from None
    if stat.S_ISDIR(st.st_mode):
        raise AudioError(f"{label}: is a folder, not an audio file")
    if stat.S_ISFIFO(st.st_mode):
        raise AudioError(f"{label}: is a named pipe (FIFO), not an audio file")
    if not stat.S_ISREG(st.st_mode):
        raise AudioError(f"{label}: is a device or socket, not an audio file")
    if st.st_size == 0:
        raise AudioError(f"{label}: file is empty (0 bytes)")
    try:
        return open(path, "rb")
    except PermissionError:
        raise AudioError(f"{label}: permission denied (the file cannot be read)") from None
    except OSError as e:
        raise AudioError(f"{label}: cannot be read ({e.strerror or e})") from None


def _spool(f: BinaryIO, label: str, suffix: str) -> BinaryIO:
    """Copy a file object to a temporary file in bounded chunks (for the audioread
    fallback, which needs a path), refusing more than MAX_FILE_BYTES."""
    tmp = tempfile.NamedTemporaryFile(suffix=suffix)
    total = 0
    while chunk := f.read(CHUNK):
        total += len(chunk)
        if total > MAX_FILE_BYTES:
            tmp.close()
            raise AudioError(f"{label}: larger than {MAX_FILE_BYTES >> 20} MiB; refused")
        tmp.write(chunk)
    tmp.flush()
    tmp.seek(0)
    return cast(BinaryIO, tmp)    # a named temporary file: .name is its path


# A file longer than max_seconds by more than this is read from its middle, not its start:
# a song's first 30 s are often an intro (quiet, sparse, spoken) unlike the rest, while GTZAN's
# clips, which the models learned from, are 30-s excerpts. Clips of GTZAN's own length
# (30 s, give or take a few samples) are read from the start as before.


def _read_soundfile(source, max_seconds: float | None):
    import soundfile as sf

    with sf.SoundFile(source) as f:
        rate, channels, frames = f.samplerate, f.channels, f.frames
        want = frames if max_seconds is None else min(frames, int(np.ceil(max_seconds * rate)))
        start = int(excerpt_start(frames / rate, max_seconds) * rate) if rate else 0
        if start:
            f.seek(start)
        data = f.read(frames=want, dtype="float32", always_2d=True)
    return data, rate, channels, frames / rate if rate else 0.0, start / rate if rate else 0.0


def _is_empty(f) -> bool:
    try:
        f.seek(0)
        return not f.read(1)
    except Exception:  # noqa: BLE001 - only used to pick the message
        return False


def _plain_path(path: str) -> bool:
    """True when the path can be handed to audioread/ffmpeg as text (a name that is not
    UTF-8 is copied to a temporary file instead)."""
    try:
        path.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _read_fallback(path: str, max_seconds: float | None):
    import warnings

    librosa_ready()
    import librosa

    try:
        duration: float | None = float(librosa.get_duration(path=path))
    except Exception:
        duration = None
    offset = excerpt_start(duration, max_seconds) if duration else 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y, rate = librosa.load(path, sr=None, mono=False, offset=offset, duration=max_seconds)
    data = np.atleast_2d(y).T.astype(np.float32)
    return data, int(rate), data.shape[1], duration or len(data) / rate, offset


def _open_source(source: AudioSource, label: str):
    """(seekable binary file, the file to close afterwards or None, the path the fallback
    decoder may open or None) for a path, bytes or file object."""
    if isinstance(source, (str, os.PathLike)):
        f = open_checked(source, label)
        return f, f, os.fspath(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        if not len(source):
            raise AudioError(f"{label}: file is empty (0 bytes)")
        return io.BytesIO(source), None, None      # shares the bytes: no copy
    try:
        if source.seekable():
            source.seek(0)
            return source, None, None
    except (AttributeError, io.UnsupportedOperation):
        pass
    spooled = _spool(source, label, ".bin")
    return spooled, spooled, None


def _decode(f, fallback_path: str | None, label: str, max_seconds: float | None):
    """libsndfile first; when it refuses, audioread/ffmpeg (on the path, or on a spooled copy
    named with the file's suffix); AudioError naming the file when neither can decode it."""
    try:
        return _read_soundfile(f, max_seconds)
    except Exception as first_error:  # libsndfile refused: try audioread/ffmpeg
        if _is_empty(f):
            raise AudioError(f"{label}: file is empty (0 bytes)") from None
        try:
            if fallback_path is not None and _plain_path(fallback_path):
                return _read_fallback(fallback_path, max_seconds)
            f.seek(0)
            with _spool(f, label, Path(label).suffix or ".bin") as tmp:
                return _read_fallback(tmp.name, max_seconds)
        except AudioError:
            raise
        except Exception:
            raise AudioError(f"{label}: could not be decoded as audio "
                             f"({reason(first_error)})") from None


def _mono(data: np.ndarray, warnings: list[str]) -> np.ndarray:
    """The channels' mean; the first channel when they cancel out (phase-inverted stereo)."""
    if data.shape[1] == 1:
        return data[:, 0]
    mono = data[:, 0].copy()      # channel by channel: numpy's mean over a short axis is slow
    for c in range(1, data.shape[1]):
        mono += data[:, c]
    mono /= data.shape[1]
    channel_rms = float(np.sqrt(np.mean(np.square(data[:, 0], dtype=np.float64))))
    if channel_rms > 1e-4 and np.sqrt(np.mean(np.square(mono, dtype=np.float64))) < (
            0.1 * channel_rms):
        # the channels cancel when averaged: the mix would be silence, so the first channel
        # is what is heard
        warnings.append("its channels cancel out when mixed to mono (phase-inverted "
                        "stereo); the first channel is analysed")
        return data[:, 0].copy()
    return mono


def load_audio(source: AudioSource, config: FeatureConfig = FeatureConfig(),
               name: str | None = None) -> Clip:
    """Decode `source` (path, bytes or binary file object) into a mono Clip at config.sample_rate.

    Raises AudioError with a message naming the file for anything a user could have caused:
    missing, empty, not audio, truncated beyond repair, too short, or all non-finite samples.
    """
    label = _describe(source, name)
    f, owned, fallback_path = _open_source(source, label)
    try:
        data, rate, channels, duration, offset = _decode(f, fallback_path, label,
                                                         config.max_seconds)
    finally:
        if owned is not None:
            owned.close()

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
    mono = _mono(data, warnings)
    loaded = len(mono) / rate
    if loaded < config.min_seconds:
        raise AudioError(
            f"{label}: is {loaded:.2f} s long; at least {config.min_seconds:g} s is needed")
    if rate != config.sample_rate:
        librosa_ready()
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
                warnings=warnings, offset=float(offset))
