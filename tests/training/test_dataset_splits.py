"""Indexing every Kaggle layout (on synthesized files) and leakage-free splits."""
import os
import zipfile

import numpy as np
import pytest

from genre_core.errors import GenreError
from genre_core.inference.cache import FeatureCache
from genre_core.inference.dataset import Track, extract_dataset, index_dataset
from genre_core.training.splits import artist_split, filtered_split, kfold_split, random_split
from tests.helpers.audio import tone, wav_bytes

GENRES3 = ["blues", "metal", "rock"]


def make_kaggle(root, n=4, corrupt=True):
    """Data/genres_original/<genre>/<genre>.0000k.wav, plus a corrupt file and a stray one."""
    base = root / "Data" / "genres_original"
    for gi, g in enumerate(GENRES3):
        (base / g).mkdir(parents=True)
        for k in range(n):
            (base / g / f"{g}.{k:05d}.wav").write_bytes(wav_bytes(tone(6.5, freq=200 + 150 * gi + k)))
    if corrupt:
        (base / "metal" / "metal.00054.wav").write_bytes(b"RIFF\x00\x00garbage" * 10)
    (base / "rock" / "notes.txt").write_text("stray")
    (root / "Data" / "features_30_sec.csv").write_text("filename,label\n")
    return root


@pytest.mark.parametrize("level", ["parent", "Data", "genres_original"])
def test_index_any_folder_level(tmp_path, level):
    root = make_kaggle(tmp_path)
    path = {"parent": root, "Data": root / "Data",
            "genres_original": root / "Data" / "genres_original"}[level]
    ds = index_dataset(path)
    assert len(ds.tracks) == 12 and ds.genres == GENRES3
    assert len(ds.skipped) == 1 and "metal.00054.wav" in ds.skipped[0]
    assert "could not be decoded" in ds.skipped[0]


def test_index_zip_in_place(tmp_path):
    root = make_kaggle(tmp_path / "src")
    archive = tmp_path / "gtzan.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in (root / "Data").rglob("*"):
            if f.is_file():
                zf.write(f, f.relative_to(root).as_posix())
    ds = index_dataset(archive)
    assert len(ds.tracks) == 12 and len(ds.skipped) == 1
    assert ds.tracks[0].archive == str(archive)
    feats, problems = extract_dataset(ds.tracks[:2], "mfcc", cache=FeatureCache(tmp_path / "c"),
                                      n_jobs=1, progress=False)
    assert not problems and feats[ds.tracks[0].id].shape == (2, 130, 13)


def test_missing_genre_and_missing_path(tmp_path):
    root = make_kaggle(tmp_path, corrupt=False)
    for f in (root / "Data" / "genres_original" / "rock").iterdir():
        f.unlink()
    assert index_dataset(root).genres == ["blues", "metal"]
    with pytest.raises(GenreError, match="not found"):
        index_dataset(tmp_path / "nowhere")


@pytest.mark.slow
def test_extraction_is_cached_and_bad_file_skipped(tmp_path):
    root = make_kaggle(tmp_path, n=2, corrupt=False)
    ds = index_dataset(root)
    bad = Track("rock.00099", "rock", str(tmp_path / "gone.wav"))
    cache = FeatureCache(tmp_path / "cache")
    feats, problems = extract_dataset(ds.tracks + [bad], "mfcc", cache=cache, n_jobs=2,
                                      progress=False)
    assert len(feats) == 6 and len(problems) == 1 and "gone.wav" in problems[0]
    assert len(list((tmp_path / "cache").rglob("*.npy"))) == 6
    again, _ = extract_dataset(ds.tracks, "mfcc", cache=cache, n_jobs=2, progress=False)
    for k in feats:
        np.testing.assert_array_equal(feats[k], again[k])


def _tracks(n_per=10, genres=("a", "b", "c", "d")):
    return [Track(f"{g}.{k:05d}", g, f"{g}/{g}.{k:05d}.wav") for g in genres for k in range(n_per)]


def test_random_and_kfold_are_by_track():
    tracks = _tracks()
    for split in (random_split(tracks), kfold_split(tracks, k=5)):
        seen_test = []
        for f in split.folds:
            assert not set(f.test) & set(f.train) and not set(f.test) & set(f.valid)
            seen_test += f.test
        assert len(seen_test) == len(set(seen_test))
    assert sorted(sum((f.test for f in kfold_split(tracks).folds), [])) == sorted(t.id for t in tracks)


def test_artist_split_never_shares_an_artist():
    tracks = _tracks(4, ("x", "y"))
    artists = {"x.00000": "A", "x.00001": "A", "x.00002": "B", "x.00003": "C",
               "y.00000": "D", "y.00001": "D", "y.00002": "D", "y.00003": "D"}
    split = artist_split(tracks, artists, valid_fraction=0)
    assert split.evaluated_genres == ["x"]            # y has one artist only
    assert len(split.folds) == 3
    for f in split.folds:
        test_artists = {artists[i] for i in f.test}
        assert len(test_artists) == 1
        assert not test_artists & {artists[i] for i in f.train + f.valid}
    grouped = artist_split(tracks, artists, valid_fraction=0, n_folds=2)
    assert len(grouped.folds) == 2


def test_filtered_split_restricted_to_present(tmp_path):
    tracks = _tracks(3, ("blues", "rock"))
    (tmp_path / "train_filtered.txt").write_text("blues/blues.00000.wav\nrock/rock.00000.wav\n"
                                                  "rock/rock.00077.wav\n")
    (tmp_path / "valid_filtered.txt").write_text("blues/blues.00001.wav\n")
    (tmp_path / "test_filtered.txt").write_text("rock/rock.00002.wav\nblues/blues.00002.wav\n")
    s = filtered_split(tracks, tmp_path)
    f = s.folds[0]
    assert f.train == ["blues.00000", "rock.00000"] and f.valid == ["blues.00001"]
    assert f.test == ["blues.00002", "rock.00002"]


def test_changed_file_is_extracted_again(tmp_path):
    import os

    root = make_kaggle(tmp_path, n=1, corrupt=False)
    ds = index_dataset(root)
    cache = FeatureCache(tmp_path / "cache")
    first, _ = extract_dataset(ds.tracks, "mfcc", cache=cache, n_jobs=1, progress=False)
    path = ds.tracks[0].source
    with open(path, "wb") as f:
        f.write(wav_bytes(tone(6.5, freq=2500)))
    os.utime(path, ns=(1, 1))          # a different modification time than before
    second, _ = extract_dataset(ds.tracks, "mfcc", cache=cache, n_jobs=1, progress=False)
    assert not np.allclose(first[ds.tracks[0].id], second[ds.tracks[0].id])
    np.testing.assert_array_equal(first[ds.tracks[1].id], second[ds.tracks[1].id])


def _native_threads() -> tuple[int, str | None]:
    from threadpoolctl import threadpool_info

    from genre_core.serving import THREADS_ENV

    return (max(i["num_threads"] for i in threadpool_info()), os.environ.get(THREADS_ENV))


def test_extraction_pool_workers_share_the_cores():
    """Two workers each running the full BLAS thread pool made the pool slower than one
    process; each worker is held to its share of the cores (BLAS/OpenMP and ONNX sessions)."""
    from genre_core.inference.worker_pool import make_pool, usable_cores

    share = max(1, usable_cores() // 2)
    with make_pool(2) as pool:
        threads, ort_threads = pool.submit(_native_threads).result(timeout=60)
    assert threads == share
    assert ort_threads == str(share)
