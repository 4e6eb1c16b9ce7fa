"""The out-of-domain checks (inference.domain): silence, speech-like sound, steady tones and
noise, an embedding far from the training music, short clips; GTZAN's music passes."""
from __future__ import annotations

import numpy as np
import pytest

from genre_core.inference import domain as ood
from genre_core.views import teaching

SR = 22050


# ---------------------------------------------------------------- out of domain

def speech_like(seconds=10.0, seed=0):
    """Syllables (harmonic bursts of 120-250 ms, random pitch) separated by 50-350-ms pauses."""
    rng = np.random.default_rng(seed)
    out = []
    while sum(map(len, out)) < seconds * SR:
        t = np.arange(int(rng.uniform(0.12, 0.25) * SR)) / SR
        f0 = rng.uniform(110, 220)
        out.append(sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 8))
                   * np.hanning(len(t)) * 0.3)
        out.append(np.zeros(int(rng.uniform(0.05, 0.35) * SR)))
    y = np.concatenate(out)
    return (y + 0.003 * rng.standard_normal(len(y))).astype(np.float32)


def test_silence_is_out_of_domain():
    y = np.zeros(5 * SR, np.float32)
    y[: SR // 2] = 0.3 * np.sin(np.arange(SR // 2) / 10)
    check = ood.check_domain(y, SR)
    assert check.silent and check.out_of_domain
    assert "silence" in check.messages()[0]


def test_speech_like_signal_is_flagged_and_music_like_is_not():
    assert ood.check_domain(speech_like(), SR).speech_like
    loop = (np.tile(teaching.drum_loop(rate=SR), 3)
            + 0.5 * np.resize(teaching.chord(rate=SR), 12 * SR))
    check = ood.check_domain(loop.astype(np.float32), SR)
    assert not check.speech_like and not check.silent and not check.out_of_domain


def test_steady_tones_and_noise_are_flagged_and_loops_are_not():
    from tests.helpers.audio import tone
    rng = np.random.default_rng(0)
    steady = {"440 Hz tone": tone(10.0, freq=440),
              "hum": tone(10.0, freq=50) + 0.3 * tone(10.0, freq=100),
              "white noise": rng.normal(0, 0.1, 10 * SR)}
    for name, y in steady.items():
        check = ood.check_domain(np.asarray(y, np.float32), SR)
        assert check.steady and check.out_of_domain and check.not_music, (name, check.band_change_db)
        assert "barely changes" in " ".join(check.messages())
    loop = (np.tile(teaching.drum_loop(rate=SR), 3)
            + 0.5 * np.resize(teaching.chord(rate=SR), 12 * SR))      # repeats every beat
    check = ood.check_domain(loop.astype(np.float32), SR)
    assert not check.steady and check.band_change_db > 2 * ood.STEADY_DB and not check.not_music
    assert not ood.check_domain(np.zeros(3 * SR, np.float32), SR).steady   # silence says so


@pytest.mark.slow
def test_far_embedding_is_flagged(small_map):
    m, emb, centres = small_map
    y = (np.tile(teaching.drum_loop(rate=SR), 3)            # music-like: only the distance
         + 0.5 * np.resize(teaching.chord(rate=SR), 12 * SR)).astype(np.float32)
    near = ood.check_domain(y, SR, centres[0], m)
    far = ood.check_domain(y, SR, -emb.mean(axis=0) * 10 + 5, m)
    assert not near.far and near.score < 1 and len(near.nearest) == m.k
    assert far.far and far.score > 1 and "unlike the training music" in far.messages()[0]
    assert not far.not_music        # far from GTZAN is still music: the genre stands


def test_gtzan_music_is_not_called_speech_silence_or_steady(gtzan):
    from genre_core.config import FeatureConfig
    from genre_core.inference.audio import load_audio
    from genre_core.inference.dataset import index_dataset

    tracks = index_dataset(gtzan).tracks
    for t in tracks[::7]:
        clip = load_audio(t.read_bytes(), FeatureConfig(), name=t.id)
        check = ood.check_domain(clip.samples, clip.sample_rate)
        assert not check.silent and not check.speech_like and not check.steady, (t.id, check)
        assert not check.not_music


@pytest.mark.parametrize("seconds", [0.05, 0.3, 0.5, 0.9, 1.0, 1.01, 1.5, 2.99])
def test_short_clips_are_measured_and_a_short_tone_is_steady(seconds):
    """Clips of a second or less crashed audio_measures (its 1-s window outgrew the clip);
    a test tone of under 5 s passed as music (centred frames read the edges as change)."""
    t = np.arange(int(seconds * SR)) / SR
    check = ood.check_domain((0.4 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), SR)
    assert 0.0 <= check.low_energy_ratio <= 1.0 and 0.0 <= check.pause_fraction <= 1.0
    assert check.steady and check.not_music
