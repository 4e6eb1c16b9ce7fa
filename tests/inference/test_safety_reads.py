"""Issue #10 (safe to put on the web) in the core, for what is read: dataset tracks, zip members
and uploads are streamed in bounded memory (zip bombs and names climbing out refused), and the
feature cache survives whatever it finds on disk (bad entries rebuilt with one warning each, a
garbage hash index, writes synced before the rename)."""
from __future__ import annotations

import io
import json
import os
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.helpers.audio import tone, wav_bytes
from tests.helpers.datasets import make_root

# ---------------------------------------------------------------- D: bounded reads

def _peak_mib(fn) -> float:
    """Peak Python/numpy allocation while fn runs, after librosa's one-off first-call costs
    (JIT compilation, filter banks) were paid on a short clip."""
    from genre_core.features import mfcc_segments
    from genre_core.inference.audio import load_audio

    mfcc_segments(load_audio(wav_bytes(tone(3.5)), name="warm-up.wav").samples)
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def test_dataset_track_read_honours_the_limit(tmp_path):
    """A 40-minute track (about 100 MiB) is decoded only for its first 30 s."""
    from genre_core.config import FeatureConfig
    from genre_core.inference.dataset import extract_dataset, index_dataset

    folder = tmp_path / "big" / "genres_original" / "rock"
    folder.mkdir(parents=True)
    rate, minutes = 22050, 40
    with sf.SoundFile(folder / "rock.00001.wav", "w", rate, 1, "PCM_16") as f:
        block = (0.3 * np.sin(np.arange(rate * 60) / 9)).astype(np.float32)
        for _ in range(minutes):
            f.write(block)
    size = (folder / "rock.00001.wav").stat().st_size
    assert size > 100e6
    ds = index_dataset(tmp_path / "big")
    from genre_core.inference.cache import FeatureCache

    out = {}

    def run():
        out["f"] = extract_dataset(ds.tracks, "mfcc", FeatureConfig(),
                                   FeatureCache(tmp_path / "c"), n_jobs=1, progress=False)

    peak = _peak_mib(run)
    feats, problems = out["f"]
    assert not problems and feats["rock.00001"].shape[0] == 10     # 30 s = 10 segments
    assert peak < 40, f"peak {peak:.0f} MiB for a {size / 2**20:.0f} MiB file"


def _zip_bomb(path: Path, member: str, zeros_mib: int) -> None:
    """A deflated member: a WAV header claiming zeros_mib of samples, then the zeros."""
    header = io.BytesIO()
    sf.write(header, np.zeros(10, np.int16), 22050, subtype="PCM_16", format="WAV")
    h = bytearray(header.getvalue()[:44])
    n = zeros_mib * 2**20
    h[4:8] = (36 + n).to_bytes(4, "little")
    h[40:44] = n.to_bytes(4, "little")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open(member, "w", force_zip64=True) as f:
            f.write(bytes(h))
            chunk = b"\0" * 2**20
            for _ in range(zeros_mib):
                f.write(chunk)


@pytest.mark.slow
def test_zip_member_streamed_in_bounded_memory(tmp_path):
    from genre_core.inference.cache import FeatureCache
    from genre_core.inference.dataset import extract_dataset, index_dataset

    archive = tmp_path / "bomb.zip"
    _zip_bomb(archive, "genres_original/rock/rock.00003.wav", 300)
    ds = index_dataset(archive)
    out = {}

    def run():
        out["f"] = extract_dataset(ds.tracks, "mfcc", cache=FeatureCache(tmp_path / "c"),
                                   n_jobs=1, progress=False)

    peak = _peak_mib(run)
    feats, problems = out["f"]
    assert not problems and feats["rock.00003"].shape[0] == 10
    assert peak < 40, f"peak {peak:.0f} MiB for a 300 MiB member"


def test_zip_member_over_the_cap_refused(tmp_path, monkeypatch):
    import genre_core.inference.dataset as dataset

    archive = tmp_path / "bomb.zip"
    _zip_bomb(archive, "genres_original/rock/rock.00003.wav", 20)
    monkeypatch.setattr(dataset, "MAX_FILE_BYTES", 8 * 2**20)
    ds = dataset.index_dataset(archive)
    feats, problems = dataset.extract_dataset(ds.tracks, "mfcc", n_jobs=1, progress=False,
                                              cache=dataset.FeatureCache(tmp_path / "c"))
    assert not feats and len(problems) == 1
    assert "rock.00003.wav" in problems[0] and "limit" in problems[0]


def test_zip_member_names_climbing_out_are_refused(tmp_path):
    from genre_core.inference.dataset import index_dataset

    archive = tmp_path / "x.zip"
    good = wav_bytes(tone(2.0))
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("genres_original/rock/rock.00001.wav", good)
        zf.writestr("genres_original/../x.00002.wav", good)
        zf.writestr("genres_original/rock/../../pop.00003.wav", good)
        zf.writestr("/abs/genres_original/jazz/jazz.00004.wav", good)
    ds = index_dataset(archive)
    assert [t.id for t in ds.tracks] == ["rock.00001"] and ds.genres == ["rock"]
    assert len(ds.skipped) == 3
    assert all("'..'" in s and "refused" in s for s in ds.skipped)


def test_upload_bytes_are_decoded_without_a_copy_of_the_whole_file():
    """Decoding a 10-minute upload holds the bytes once plus the first 30 s decoded."""
    from genre_core.inference.audio import load_audio

    data = wav_bytes(np.tile(tone(60.0), 10), subtype="PCM_16")     # 10 min, ~25 MiB
    peak = _peak_mib(lambda: load_audio(data, name="long.wav"))
    assert peak < 12, f"peak {peak:.1f} MiB decoding a {len(data) / 2**20:.0f} MiB upload"


# ---------------------------------------------------------------- E: the cache survives

def test_feature_cache_rebuilds_bad_entries_with_one_warning_each(tmp_path):
    from genre_core.config import FeatureConfig
    from genre_core.inference.cache import CacheWarning, FeatureCache
    from genre_core.inference.dataset import extract_dataset, index_dataset

    root = make_root(tmp_path / "d", ids=("00000", "00001", "00002"))
    ds = index_dataset(root)
    cache = FeatureCache(tmp_path / "cache")
    first, _ = extract_dataset(ds.tracks, "mfcc", FeatureConfig(), cache, n_jobs=1,
                               progress=False)
    entries = sorted((tmp_path / "cache").glob("*/*.npy"))
    assert len(entries) == 6
    entries[0].write_bytes(b"")                                      # power cut
    np.save(entries[1], np.zeros((2, 7, 13), np.float32))           # wrong shape
    entries[2].unlink()
    entries[2].mkdir()                                               # a folder
    (entries[2] / "x").write_text("x")
    entries[3].write_bytes(entries[3].read_bytes()[:100])           # truncated
    (tmp_path / "cache" / "file_hashes.json").write_text("[1, 2, 3]")  # a list
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again, problems = extract_dataset(ds.tracks, "mfcc", FeatureConfig(), cache,
                                          n_jobs=1, progress=False)
    ours = [w for w in caught if issubclass(w.category, CacheWarning)]
    assert len(ours) == 5, [str(w.message) for w in ours]
    assert not problems and set(again) == set(first)
    for tid in first:
        np.testing.assert_array_equal(again[tid], first[tid])
    with warnings.catch_warnings(record=True) as caught:            # repaired for good
        warnings.simplefilter("always")
        extract_dataset(ds.tracks, "mfcc", FeatureConfig(), cache, n_jobs=1, progress=False)
    assert not [w for w in caught if issubclass(w.category, CacheWarning)]


def test_hash_index_as_a_folder_or_garbage_does_not_crash(tmp_path):
    from genre_core.inference.cache import CacheWarning, FeatureCache
    from genre_core.inference.dataset import extract_dataset, index_dataset

    ds = index_dataset(make_root(tmp_path / "d", ids=("00000",)))
    cache = FeatureCache(tmp_path / "cache")
    (tmp_path / "cache" / "file_hashes.json").mkdir(parents=True)
    with pytest.warns(CacheWarning):
        feats, _ = extract_dataset(ds.tracks, "mfcc", cache=cache, n_jobs=1, progress=False)
    assert len(feats) == 2
    assert json.loads((tmp_path / "cache" / "file_hashes.json").read_text())
    (tmp_path / "cache" / "file_hashes.json").write_bytes(b"\xff\xfe{")
    with pytest.warns(CacheWarning):
        assert len(extract_dataset(ds.tracks, "mfcc", cache=cache, n_jobs=1,
                                   progress=False)[0]) == 2


def test_cache_writes_are_synced_before_the_rename(tmp_path, monkeypatch):
    from genre_core import atomic
    from genre_core.inference import cache as cache_mod

    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: (events.append("fsync"),
                                                           real_fsync(fd))[1])
    monkeypatch.setattr(atomic.os, "replace", lambda a, b: (events.append("rename"),
                                                               real_replace(a, b))[1])
    c = cache_mod.FeatureCache(tmp_path)
    c.put("ab" * 16, np.ones((1, 130, 13), np.float32))
    assert events[:2] == ["fsync", "rename"]
    assert c.get("ab" * 16).shape == (1, 130, 13)
    assert [p.name for p in (tmp_path / "ab").iterdir()] == ["ab" * 16 + ".npy"]
