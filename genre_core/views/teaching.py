"""Teaching aids: synthesized example sounds (a tone, a chord, a drum loop) with a
plain-language note on what each feature shows, and per-genre example tracks. Synthesized,
so they ship with the code and need no dataset."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import numpy as np

EXAMPLES = ("tone", "chord", "drum loop")

FEATURE_NOTES = {
    "mfcc": ("MFCCs describe the *shape* of the spectrum, frame by frame: row 0 is loudness, "
             "the next rows say whether the sound is dark or bright, hollow or full. Two "
             "instruments playing the same note differ here (timbre), while the pitch itself "
             "mostly does not show. A pure tone gives flat stripes; a drum loop gives "
             "vertical flashes at every hit."),
    "mel": ("A mel spectrogram is the sound's energy per frequency band over time, with the "
            "bands spaced as our ears space pitches. A tone is one bright line, a chord three "
            "lines at once, a drum loop vertical smears (a kick low down, a hi-hat high up)."),
    "chroma": ("Chroma folds every octave onto the 12 notes C to B: it shows harmony and key, "
               "not instruments. The A tone lights up A; the C-major chord lights C, E and G; "
               "a drum loop spreads over all twelve because drums have no clear pitch."),
    "tempogram": ("The tempogram looks for repetition in the loudness changes: a steady beat "
                  "shows as bright horizontal lines at its tempo (and at double and half). "
                  "The drum loop at 120 BPM shows a line at 120; a held tone or chord has no "
                  "beat and stays dark."),
}


def tone(seconds: float = 3.0, rate: int = 22050, freq: float = 440.0) -> np.ndarray:
    """A sine at `freq` (A4 by default) with soft edges."""
    t = np.arange(int(seconds * rate)) / rate
    y = 0.5 * np.sin(2 * np.pi * freq * t)
    return _fade(y, rate).astype(np.float32)


def chord(seconds: float = 3.0, rate: int = 22050,
          freqs: tuple[float, ...] = (261.63, 329.63, 392.0)) -> np.ndarray:
    """C major (C4, E4, G4), each note with a few decaying harmonics, like a soft organ."""
    t = np.arange(int(seconds * rate)) / rate
    y = sum(sum(np.sin(2 * np.pi * f * h * t) / h ** 2 for h in (1, 2, 3)) for f in freqs)
    return _fade(0.5 * y / np.max(np.abs(y)), rate).astype(np.float32)


def drum_loop(seconds: float = 4.0, rate: int = 22050, bpm: float = 120.0,
              seed: int = 0) -> np.ndarray:
    """Kick on beats 1 and 3, snare on 2 and 4, closed hi-hat on every eighth note."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    y = np.zeros(n)
    beat = 60.0 / bpm

    def hit(start: float, sound: np.ndarray):
        i = int(start * rate)
        if i < n:
            y[i:i + len(sound)] += sound[: n - i]

    tk = np.arange(int(0.25 * rate)) / rate
    kick = np.sin(2 * np.pi * (50 + 80 * np.exp(-tk * 30)) * tk) * np.exp(-tk * 12)
    ts = np.arange(int(0.2 * rate)) / rate
    snare = ((0.6 * rng.standard_normal(len(ts)) + 0.4 * np.sin(2 * np.pi * 190 * ts))
             * np.exp(-ts * 20))
    th = np.arange(int(0.05 * rate)) / rate
    hat = np.diff(rng.standard_normal(len(th) + 1)) * 0.25 * np.exp(-th * 80)
    for k in range(int(seconds / beat) + 1):
        hit(k * beat, kick if k % 2 == 0 else snare)
        hit(k * beat, hat)
        hit((k + 0.5) * beat, hat)
    return (0.8 * y / np.max(np.abs(y))).astype(np.float32)


def example(name: str, rate: int = 22050) -> np.ndarray:
    makers: dict[str, Callable[..., np.ndarray]] = {"tone": tone, "chord": chord,
                                                    "drum loop": drum_loop}
    return makers[name](rate=rate)


def _fade(y: np.ndarray, rate: int, seconds: float = 0.02) -> np.ndarray:
    k = min(len(y) // 2, int(seconds * rate))
    ramp = np.linspace(0, 1, k)
    y = y.copy()
    y[:k] *= ramp
    y[len(y) - k:] *= ramp[::-1]
    return y


def genre_examples(track_ids, genres, per_genre: int = 3,
                   prefer: set[str] | None = None) -> dict[str, list[str]]:
    """{genre: up to `per_genre` track ids}: tracks the models classify correctly (`prefer`)
    first, so an example sounds like its genre; then in id order."""
    out: dict[str, list[str]] = defaultdict(list)
    pairs = sorted(zip(track_ids, genres), key=lambda p: (p[0] not in (prefer or set()), p[0]))
    for tid, g in pairs:
        if len(out[g]) < per_genre:
            out[g].append(tid)
    return dict(sorted(out.items()))
