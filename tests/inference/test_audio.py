"""load_audio on synthesized and self-corrupted files: every case gives a result or a clear
AudioError naming the file."""
import numpy as np
import pytest
import soundfile as sf

from genre_core.config import FeatureConfig
from genre_core.errors import AudioError
from genre_core.inference.audio import load_audio
from tests.helpers.audio import tone, wav_bytes


@pytest.mark.parametrize("ext", [".wav", ".flac", ".ogg", ".mp3"])
def test_formats_decode_to_mono_22050(write_audio, ext):
    path = write_audio(f"clip{ext}", tone(4.0, 44100, channels=2), 44100)
    clip = load_audio(path)
    assert clip.sample_rate == 22050 and clip.original_rate == 44100 and clip.channels == 2
    assert clip.samples.ndim == 1 and clip.samples.dtype == np.float32
    assert abs(clip.duration - 4.0) < 0.1
    assert abs(len(clip.samples) / 22050 - 4.0) < 0.1


@pytest.mark.parametrize("rate", [8000, 96000])
def test_odd_rates_are_resampled(write_audio, rate):
    clip = load_audio(write_audio("r.wav", tone(3.5, rate), rate))
    assert clip.original_rate == rate
    assert abs(len(clip.samples) - 3.5 * 22050) < 50
    # the 440 Hz tone survives resampling: its spectral peak stays at 440 Hz
    spec = np.abs(np.fft.rfft(clip.samples))
    assert abs(np.argmax(spec) * 22050 / len(clip.samples) - 440) < 2


def test_six_channels_are_mixed_down(write_audio):
    clip = load_audio(write_audio("six.wav", tone(3.0, channels=6)))
    assert clip.channels == 6 and clip.samples.ndim == 1


def test_bytes_upload(tmp_path):
    clip = load_audio(wav_bytes(tone(3.0)), name="upload.wav")
    assert clip.name == "upload.wav" and abs(clip.duration - 3.0) < 0.01


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="nope.wav: file not found"):
        load_audio(tmp_path / "nope.wav")


def test_empty_file(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioError, match="empty.wav: file is empty"):
        load_audio(tmp_path / "empty.wav")


def test_text_named_wav(tmp_path):
    p = tmp_path / "notes.wav"
    p.write_text("this is not audio\n" * 100)
    with pytest.raises(AudioError, match="notes.wav: could not be decoded"):
        load_audio(p)


def test_truncated_wav_reads_what_is_there(tmp_path):
    data = wav_bytes(tone(5.0))
    p = tmp_path / "cut.wav"
    p.write_bytes(data[: len(data) // 2])       # header promises 5 s, half is there
    try:
        clip = load_audio(p)
    except AudioError as e:                    # either outcome is acceptable if it is clear
        assert "cut.wav" in str(e)
    else:
        assert 2.0 < clip.loaded_seconds < 3.0


def test_header_only_wav_is_an_error(tmp_path):
    p = tmp_path / "header.wav"
    p.write_bytes(wav_bytes(tone(1.0))[:44])
    with pytest.raises(AudioError, match="header.wav"):
        load_audio(p)


def test_silence_gives_a_warning(write_audio):
    clip = load_audio(write_audio("quiet.wav", np.zeros(22050 * 4, np.float32)))
    assert any("silent" in w for w in clip.warnings)


def test_half_second_is_padded_with_warning(write_audio):
    clip = load_audio(write_audio("short.wav", tone(0.5)))
    assert any("padded" in w for w in clip.warnings)


def test_too_short_is_an_error(write_audio):
    with pytest.raises(AudioError, match=r"tiny.wav: is 0\.10 s long"):
        load_audio(write_audio("tiny.wav", tone(0.1)))


def test_nan_samples_are_replaced(write_audio):
    y = tone(4.0)
    y[1000:2000] = np.nan
    clip = load_audio(write_audio("nan.wav", y, subtype="FLOAT"))
    assert np.isfinite(clip.samples).all()
    assert any("NaN" in w for w in clip.warnings)


def test_all_nan_is_an_error(write_audio):
    y = np.full(22050 * 2, np.nan, np.float32)
    with pytest.raises(AudioError, match="allnan.wav: every sample"):
        load_audio(write_audio("allnan.wav", y, subtype="FLOAT"))


def test_long_file_reads_only_30_seconds(tmp_path):
    """A 2-hour file (sparse on disk via a header claiming 2 h at 8 kHz) is not read whole."""
    p = tmp_path / "long.wav"
    rate, seconds = 8000, 2 * 3600
    with sf.SoundFile(p, "w", rate, 1, subtype="PCM_16") as f:
        block = (tone(60.0, rate) * 0.5)
        for _ in range(seconds // 60):
            f.write(block)
    clip = load_audio(p, FeatureConfig(max_seconds=30.0))
    assert clip.truncated and abs(clip.duration - seconds) < 1
    assert abs(clip.loaded_seconds - 30.0) < 0.05


def _two_halves(seconds: float, rate: int = 22050) -> np.ndarray:
    """A quiet 220 Hz first half, a loud 880 Hz second half: where a read starts is audible."""
    t = np.arange(int(seconds * rate)) / rate
    return np.where(t < seconds / 2, 0.1 * np.sin(2 * np.pi * 220 * t),
                    0.5 * np.sin(2 * np.pi * 880 * t)).astype(np.float32)


@pytest.mark.parametrize("ext", [".wav", ".flac", ".ogg", ".mp3"])
def test_a_long_song_is_heard_from_its_middle_not_its_intro(write_audio, ext):
    clip = load_audio(write_audio(f"song{ext}", _two_halves(90.0), 22050))
    assert clip.truncated and clip.offset == pytest.approx(30.0, abs=0.01)
    assert abs(clip.loaded_seconds - 30.0) < 0.05
    first, last = clip.samples[: 22050 * 10], clip.samples[-22050 * 10:]
    assert np.abs(first).max() < 0.15 < 0.4 < np.abs(last).max()   # 30-60 s straddles the change


def test_a_gtzan_length_clip_is_read_from_its_start(write_audio):
    y = _two_halves(31.0)
    clip = load_audio(write_audio("clip.wav", y, 22050))
    assert clip.offset == 0.0 and clip.truncated
    np.testing.assert_allclose(clip.samples, y[: len(clip.samples)], atol=1e-4)


def test_the_whole_file_when_asked(write_audio):
    clip = load_audio(write_audio("song.wav", _two_halves(40.0), 22050), FeatureConfig(max_seconds=None))
    assert clip.offset == 0.0 and not clip.truncated and abs(clip.loaded_seconds - 40.0) < 0.01


def test_the_decoder_fallback_reads_the_same_middle(write_audio):
    from genre_core.inference.audio import _read_fallback

    path = write_audio("song.wav", _two_halves(90.0), 22050)
    data, rate, channels, duration, offset = _read_fallback(str(path), 30.0)
    assert (rate, channels) == (22050, 1) and offset == pytest.approx(30.0)
    assert abs(duration - 90.0) < 0.01 and abs(len(data) / rate - 30.0) < 0.05


def test_phase_inverted_stereo_is_heard_not_cancelled():
    """L = -R averages to silence: the first channel is analysed instead, and said so."""
    import io

    import soundfile as sf

    t = np.arange(2 * 22050) / 22050
    y = 0.4 * np.sin(2 * np.pi * 440 * t)
    buf = io.BytesIO()
    sf.write(buf, np.stack([y, -y], axis=1), 22050, format="WAV")
    clip = load_audio(buf.getvalue(), name="inverted.wav")
    assert np.abs(clip.samples).max() > 0.35
    assert any("phase-inverted" in w for w in clip.warnings)
    buf = io.BytesIO()
    sf.write(buf, np.stack([y, 0.9 * y], axis=1), 22050, format="WAV")
    assert not any("phase-inverted" in w for w in load_audio(buf.getvalue(), name="s.wav").warnings)
