"""The domain judgement of a clip: is it music, and is it like the music the models were
trained on? Computed once per prediction, in inference (Predictor.predict_clip sets
Prediction.domain), so the command line, Compare and Batch show the same judgement and the
verdict is computed after it.

Four signals, any of which is worth a warning beside the answer (as Essentia.js's demos
warn about microphone input):

* **far from the training music** - the clip's musicnn embedding has a mean cosine distance
  to its 5 nearest training tracks (genre_core.inference.music_map) beyond the 99th percentile of the
  same distance for the training tracks themselves (each measured without itself);
* **mostly silence** - more than half of its 23-ms frames are below -50 dBFS;
* **speech-like** - a heuristic after Scheirer & Slaney (ICASSP 1997): speech alternates
  syllables (~4 per second) with pauses, so many frames are far quieter than their second
  of audio ("low-energy frames") *and* many frames are near-silent gaps. Music rarely has
  both: none of the 204 GTZAN clips beside the repository trips it (their maxima: 0.58
  low-energy, 0.08 pauses, against thresholds 0.55 and 0.20). No speech corpus was at hand
  to measure the hit rate on real speech, so it is a hint, not a detector.
* **steady** - the sound barely changes: the loudness of each of 64 mel bands, averaged over
  0.1-s blocks, varies by less than 2 dB on average (a test tone, a hum, white or pink
  noise: about 1 dB). The 204 GTZAN clips vary by 3.0 dB or more (median 7.2); a drum loop
  under a held chord by 13. Without it a 440-Hz tone was "classical, 97 %" and white noise
  "metal, 87 %", both near enough to training music to pass the distance check.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from genre_core.features.librosa_kernels import librosa_ready

FRAME, HOP = 1024, 512
SILENCE_DBFS = -50.0
SILENCE_SHARE = 0.5
LOW_ENERGY_WINDOW_S = 1.0
# set from the 204 GTZAN clips (music stays below these); a syllable-and-pause signal
# exceeds both
LOW_ENERGY_SPEECH = 0.55
PAUSE_SPEECH = 0.20
PAUSE_DB = -25.0     # a frame this far below the clip's loud frames (95th pct.) is a gap
STEADY_DB = 2.0      # below this mean band change (0.1-s blocks) a clip is a steady signal
STEADY_BLOCK_S = 0.1


def _at_least_a_frame(samples: np.ndarray, frame: int = FRAME) -> np.ndarray:
    """float32 samples, zero-padded to one frame if shorter."""
    y = np.asarray(samples, dtype=np.float32)
    return np.pad(y, (0, frame - len(y))) if len(y) < frame else y


def frame_rms_db(samples: np.ndarray) -> np.ndarray:
    """RMS of each 1024-sample frame (hop 512) in dB re. full scale."""
    librosa_ready()
    import librosa

    y = _at_least_a_frame(samples)
    rms = librosa.feature.rms(y=y, frame_length=FRAME, hop_length=HOP, center=False)[0]
    return 20 * np.log10(np.maximum(rms, 1e-10))


def band_change_db(samples: np.ndarray, sample_rate: int) -> float:
    """Mean over 64 mel bands of the standard deviation, in dB, of the band's level averaged
    over 0.1-s blocks (80 dB floor below the clip's peak): how much the sound changes."""
    librosa_ready()
    import librosa

    y = _at_least_a_frame(samples, 2 * FRAME)
    # center=False: centred frames are half padding at both ends, and those two edges read as
    # a change (a 1.5-s test tone measured 2.7 dB and passed as music; uncentred: 0.0001)
    mel = librosa.feature.melspectrogram(y=y, sr=sample_rate, n_fft=2 * FRAME, hop_length=HOP,
                                         n_mels=64, center=False)
    db = np.maximum(librosa.power_to_db(mel, ref=np.max), -80.0)
    n = max(1, int(round(STEADY_BLOCK_S * sample_rate / HOP)))
    blocks = db[:, : db.shape[1] // n * n].reshape(db.shape[0], -1, n).mean(axis=2)
    return float(np.mean(np.std(blocks, axis=1))) if blocks.shape[1] > 1 else 0.0


def audio_measures(samples: np.ndarray, sample_rate: int) -> dict[str, float]:
    """silence_fraction, low_energy_ratio, pause_fraction, band_change_db of a mono clip."""
    db = frame_rms_db(samples)
    silence = float((db < SILENCE_DBFS).mean())
    power = 10 ** (db / 10)
    # a clip shorter than the window: the window is the clip (np.convolve's "same" output
    # takes the longer operand's length, which broke clips of a second or less)
    per_s = max(1, min(len(power), int(round(LOW_ENERGY_WINDOW_S * sample_rate / HOP))))
    kernel = np.ones(per_s) / per_s
    local = np.convolve(power, kernel, mode="same") / np.convolve(np.ones_like(power), kernel,
                                                                  mode="same")
    low = float((power < 0.5 * local).mean())
    loud = np.percentile(db, 95)
    pauses = float((db < loud + PAUSE_DB).mean())
    return {"silence_fraction": silence, "low_energy_ratio": low, "pause_fraction": pauses,
            "band_change_db": band_change_db(samples, sample_rate)}


@dataclass
class DomainCheck:
    silence_fraction: float
    low_energy_ratio: float
    pause_fraction: float
    novelty: float | None = None          # mean distance to the 5 nearest training tracks
    threshold: float | None = None        # 99th percentile of the training tracks' own
    nearest: list[dict] = field(default_factory=list)
    band_change_db: float | None = None   # see band_change_db; None = not measured

    @property
    def silent(self) -> bool:
        return self.silence_fraction > SILENCE_SHARE

    @property
    def speech_like(self) -> bool:
        return (not self.silent and self.low_energy_ratio > LOW_ENERGY_SPEECH
                and self.pause_fraction > PAUSE_SPEECH)

    @property
    def steady(self) -> bool:
        return (not self.silent and self.band_change_db is not None
                and self.band_change_db < STEADY_DB)

    @property
    def far(self) -> bool:
        return (self.novelty is not None and self.threshold is not None
                and self.novelty > self.threshold)

    @property
    def not_music(self) -> bool:
        """Silence, speech or a steady signal: no genre should be asserted for it. (Far from
        the training music is not this: 7 of the 104 extra GTZAN clips are.)"""
        return self.silent or self.speech_like or self.steady

    @property
    def out_of_domain(self) -> bool:
        return self.not_music or self.far

    @property
    def score(self) -> float | None:
        """novelty / threshold: above 1 means farther than 99 % of the training tracks."""
        if self.novelty is None or not self.threshold:
            return None
        return self.novelty / self.threshold

    def messages(self) -> list[str]:
        out = []
        if self.silent:
            out.append(f"{self.silence_fraction:.0%} of the clip is silence (below "
                       f"{SILENCE_DBFS:.0f} dBFS): the answer says little about music.")
        if self.speech_like:
            out.append("It sounds like speech rather than music (syllable-like loudness "
                       f"changes: {self.low_energy_ratio:.0%} low-energy frames, "
                       f"{self.pause_fraction:.0%} pauses). The models only know music.")
        if self.steady:
            out.append(f"Its sound barely changes over time (each frequency band varies by "
                       f"{self.band_change_db:.1f} dB from one tenth of a second to the next; "
                       "every GTZAN clip varies by 3 dB or more): a steady tone or noise, not "
                       "music the models know.")
        if self.far:
            out.append(f"It is unlike the training music: its distance to the 5 nearest "
                       f"training tracks is {self.score:.1f}x the 99th percentile of theirs.")
        return out


def check_domain(samples: np.ndarray, sample_rate: int, embedding: np.ndarray | None = None,
                 music_map=None) -> DomainCheck:
    """All four signals for a clip; the distance needs its clip embedding and a MusicMap."""
    m = audio_measures(samples, sample_rate)
    check = DomainCheck(silence_fraction=m["silence_fraction"],
                        low_energy_ratio=m["low_energy_ratio"], pause_fraction=m["pause_fraction"],
                        band_change_db=m["band_change_db"])
    if embedding is not None and music_map is not None:
        check.novelty = music_map.novelty(embedding)
        check.threshold = music_map.threshold
        check.nearest = music_map.neighbours(embedding)
    return check
