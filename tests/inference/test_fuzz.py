"""Seeded fuzz: a few hundred malformed files (truncated headers, random bytes under audio
extensions, zero length, the wrong extension, damaged middles, headers that lie about
their size) through load_audio (path, bytes and file object) and through index_dataset +
extract_dataset. Every outcome is a Clip or one AudioError line naming the file; the dataset
functions never raise for a bad file and report each problem with its name."""
from __future__ import annotations

import io

import numpy as np
import pytest

from tests.helpers.malformed import SEED, _valid, malformed_files

# soundfile reports a failed seek inside its C callback as an "ignored" exception (a negative
# offset on a damaged file): libsndfile then fails the read and we get an AudioError
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def _check_one(result, name):
    from genre_core.errors import AudioError
    from genre_core.inference.audio import Clip

    if isinstance(result, Clip):
        assert np.isfinite(result.samples).all() and result.sample_rate == 22050
        return "ok"
    assert isinstance(result, AudioError), f"{name}: {type(result).__name__}: {result}"
    msg = str(result)
    assert msg.startswith(name) and "\n" not in msg and "_io." not in msg, msg
    return "error"


def _load(source, name):
    from genre_core.errors import AudioError
    from genre_core.inference.audio import load_audio

    try:
        return load_audio(source, name=name)
    except AudioError as e:
        return e


def test_fuzz_load_audio(tmp_path):
    files = malformed_files()
    outcomes = {"ok": 0, "error": 0}
    for name, data in files:
        path = tmp_path / name
        path.write_bytes(data)
        a = _check_one(_load(str(path), None), str(path))
        b = _check_one(_load(data, name), name)
        c = _check_one(_load(io.BytesIO(data), name), name)
        assert a == b == c, f"{name}: path {a}, bytes {b}, file object {c}"
        outcomes[a] += 1
    assert outcomes["error"] > 150 and outcomes["ok"] > 10, outcomes   # both kinds exercised


@pytest.mark.slow
def test_fuzz_dataset(tmp_path):
    from genre_core.inference.cache import FeatureCache
    from genre_core.inference.dataset import extract_dataset, index_dataset

    files = malformed_files(200, SEED + 1)
    root = tmp_path / "fuzz" / "genres_original"
    for k, (name, data) in enumerate(files):
        genre = ("blues", "rock", "jazz")[k % 3]
        (root / genre).mkdir(parents=True, exist_ok=True)
        (root / genre / name).write_bytes(data)
    (root / "rock" / "rock.good.wav").write_bytes(_valid("wav", np.random.default_rng(0)))
    ds = index_dataset(tmp_path / "fuzz")
    named = {t.filename for t in ds.tracks}
    assert "rock.good.wav" in named
    assert len(ds.tracks) + len(ds.skipped) == len(files) + 1
    for problem in ds.skipped:
        assert "fuzz" in problem and "\n" not in problem
    feats, problems = extract_dataset(ds.tracks, "mfcc", cache=FeatureCache(tmp_path / "c"),
                                      n_jobs=2, progress=False)
    assert "rock.good" in feats
    assert len(feats) + len(problems) == len(ds.tracks)
    for problem in problems:
        assert "fz" in problem and "\n" not in problem
    again, problems2 = extract_dataset(ds.tracks, "mfcc", cache=FeatureCache(tmp_path / "c"),
                                       n_jobs=2, progress=False)
    assert set(again) == set(feats) and len(problems2) == len(problems)
