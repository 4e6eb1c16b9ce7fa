"""Several dataset roots at once: GTZAN's shared clips plus the extra FLAC clips (or a
user's own folder), labels from folder names, duplicate ids refused naming both files."""
from __future__ import annotations

import pytest

from genre_core.errors import GenreError
from genre_core.inference.dataset import index_dataset


def test_two_roots_give_all_204_clips(gtzan):
    ds = index_dataset([gtzan, gtzan / "extra"])
    assert len(ds.tracks) == 204
    assert len({t.id for t in ds.tracks}) == 204
    assert {t.source.rsplit(".", 1)[1] for t in ds.tracks} == {"wav", "flac"}
    assert len(ds.genres) == 10


def test_duplicate_ids_across_roots_name_both_files(tmp_path, write_audio):
    from tests.helpers.audio import tone
    for root in ("a", "b"):
        (tmp_path / root / "rock").mkdir(parents=True)
    first = write_audio("a/rock/rock.00001.wav", tone(1.0))
    second = write_audio("b/rock/rock.00001.flac", tone(1.0))
    with pytest.raises(GenreError) as e:
        index_dataset([tmp_path / "a", tmp_path / "b"])
    assert str(first) in str(e.value) and str(second) in str(e.value)
