"""The map of music behind the Map view: placement, neighbours, novelty, storage without
pickle (and a save stopped midway), the shipped map, and a bundle's map carried over when the
bundle is rewritten or built from several roots. (small_map: tests/inference/conftest.py)"""
from __future__ import annotations

import json

import numpy as np
import pytest

from genre_core.inference import music_map as mm
from tests.helpers.paths import SHIPPED_BUNDLE as SHIPPED

# ---------------------------------------------------------------- map of music

@pytest.mark.slow
def test_training_track_lands_on_its_own_point(small_map):
    m, emb, _ = small_map
    for i in range(len(m.ids)):
        assert np.allclose(m.place(emb[i]), m.coords[i])


@pytest.mark.slow
def test_neighbours_come_from_the_same_cluster_and_exclude_self(small_map):
    m, emb, _ = small_map
    near = m.neighbours(emb[0], 5, exclude=m.ids[0])
    assert len(near) == 5 and m.ids[0] not in [n["track"] for n in near]
    assert {n["genre"] for n in near} == {"a"}
    assert [n["distance"] for n in near] == sorted(n["distance"] for n in near)
    assert m.neighbours(emb[0], 1)[0]["track"] == m.ids[0]        # itself when not excluded


@pytest.mark.slow
def test_new_clip_is_placed_among_its_cluster(small_map):
    m, emb, centres = small_map
    new = centres[1] + 0.05
    x, y = m.place(new)
    b = m.coords[[i for i, g in enumerate(m.genres) if g == "b"]]
    others = m.coords[[i for i, g in enumerate(m.genres) if g != "b"]]
    d_b = np.linalg.norm(b - [x, y], axis=1).min()
    assert d_b < np.linalg.norm(others - [x, y], axis=1).min()
    assert m.novelty(new) < m.threshold                   # near the training music


@pytest.mark.slow
def test_map_threshold_and_novelty(small_map):
    m, emb, _ = small_map
    own = mm.training_novelty(emb, m.mean, m.scale, m.k)
    assert m.threshold == pytest.approx(np.percentile(own, 99))
    assert (own > m.threshold).sum() <= max(1, int(0.01 * len(own)) + 1)   # 99th percentile
    far = -emb.mean(axis=0) * 10 + 5                       # nothing like the training data
    assert m.novelty(far) > m.threshold


@pytest.mark.slow
def test_map_saves_and_loads_without_pickle(small_map, tmp_path):
    m, emb, _ = small_map
    folder = mm.save_map(m, tmp_path)
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) == 2 and names[1] == "map.json"
    assert mm.EMBEDDINGS_NAME.fullmatch(names[0]) and names[0] != mm.LEGACY_EMBEDDINGS
    back = mm.load_map(tmp_path)
    assert back.ids == m.ids and back.genres == m.genres
    assert np.allclose(back.coords, m.coords, atol=1e-4)
    assert back.place(emb[3]) == pytest.approx(tuple(m.coords[3]), abs=1e-4)
    assert mm.load_map(tmp_path / "nowhere") is None


@pytest.mark.slow
def test_a_map_save_stopped_midway_leaves_the_old_map_whole(small_map, tmp_path, monkeypatch):
    import dataclasses

    from genre_core.errors import GenreError

    m, emb, _ = small_map
    mm.save_map(m, tmp_path)
    other = dataclasses.replace(m, ids=m.ids[:-1], genres=m.genres[:-1], artists=m.artists[:-1],
                                titles=m.titles[:-1], coords=m.coords[:-1],
                                embeddings=m.embeddings[:-1])

    def stop(*_a, **_k):
        raise KeyboardInterrupt("stopped before map.json")

    monkeypatch.setattr(mm, "write_text_atomic", stop)
    with pytest.raises(KeyboardInterrupt):
        mm.save_map(other, tmp_path)            # its embeddings written, map.json not
    back = mm.load_map(tmp_path)                # the old map, whole
    assert back.ids == m.ids and np.allclose(back.embeddings, m.embeddings)
    monkeypatch.undo()
    mm.save_map(other, tmp_path)                # a new save: only its own embeddings remain
    assert mm.load_map(tmp_path).ids == other.ids
    assert len(list((tmp_path / "map").glob("embeddings*.npz"))) == 1
    # map.json may only name an embeddings file beside it
    meta = json.loads((tmp_path / "map" / "map.json").read_text())
    meta["embeddings_file"] = "../../etc/passwd"
    (tmp_path / "map" / "map.json").write_text(json.dumps(meta))
    with pytest.raises(GenreError, match="unreadable"):
        mm.load_map(tmp_path)


def test_corrupt_map_is_a_genre_error(tmp_path):
    from genre_core.errors import GenreError

    (tmp_path / "map").mkdir()
    (tmp_path / "map" / "map.json").write_text("{ not json")
    with pytest.raises(GenreError, match="map"):
        mm.load_map(tmp_path)


def test_clip_embedding_is_the_mean_penultimate():
    units = np.concatenate([np.zeros((4, 50)), np.arange(4 * 200).reshape(4, 200)], axis=1)
    assert np.allclose(mm.clip_embedding(units), units[:, 50:].mean(axis=0))


def test_shipped_map_covers_the_training_tracks_and_holds_no_audio():
    m = mm.load_map(SHIPPED)
    if m is None:
        pytest.skip("the shipped bundle has no map")
    report = json.loads((SHIPPED / "report.json").read_text())
    assert sorted(m.ids) == sorted(report["data"]["track_ids"])
    assert m.embeddings.shape == (len(m.ids), 200)
    for i in (0, len(m.ids) // 2, len(m.ids) - 1):
        assert np.allclose(m.place(m.embeddings[i]), m.coords[i])
        assert m.neighbours(m.embeddings[i], 1)[0]["track"] == m.ids[i]
    sizes = {p.name: p.stat().st_size for p in (SHIPPED / "map").iterdir()}
    # the map and its embeddings (named by content), nothing else: no audio
    assert "map.json" in sizes and len(sizes) == 2, sizes
    assert all(mm.EMBEDDINGS_NAME.fullmatch(n) for n in sizes if n != "map.json")
    assert sum(sizes.values()) < 1_200 * len(m.ids)      # about 1 KB a track
    # the same genre dominates each track's neighbourhood far more often than chance (10 %)
    same = np.mean([np.mean([n["genre"] == m.genres[i] for n in
                             m.neighbours(m.embeddings[i], 5, exclude=m.ids[i])])
                    for i in range(len(m.ids))])
    assert same > 0.5


@pytest.mark.slow
def test_rewriting_a_bundle_keeps_its_map_only_for_the_same_tracks(small_map, tmp_path):
    m, _, _ = small_map
    old = tmp_path / "bundle"
    old.mkdir()
    (old / "report.json").write_text(json.dumps({"data": {"track_ids": m.ids}}))
    mm.save_map(m, old)
    same, other = tmp_path / "same", tmp_path / "other"
    same.mkdir(), other.mkdir()
    assert mm.carry_map(old, same, {"data": {"track_ids": list(reversed(m.ids))}})
    assert mm.load_map(same).ids == m.ids
    assert not mm.carry_map(old, other, {"data": {"track_ids": m.ids[:-1]}})
    assert mm.load_map(other) is None


@pytest.mark.slow
def test_save_bundle_carries_the_map(small_map, tmp_path):
    from genre_core.config import FeatureConfig
    from genre_core.inference.bundle import save_bundle

    m, _, _ = small_map
    report = {"data": {"track_ids": m.ids}}
    folder = save_bundle(tmp_path / "b", {}, ["a", "b", "c"], FeatureConfig(), report)
    mm.save_map(m, folder)
    save_bundle(folder, {}, ["a", "b", "c"], FeatureConfig(), report)   # rewritten
    assert mm.load_map(folder).ids == m.ids


@pytest.mark.slow
def test_build_for_bundle_reads_several_roots(gtzan, tmp_path):
    from genre_core.errors import GenreError

    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "bundle.json").write_text((SHIPPED / "bundle.json").read_text())
    ids = [f"{g}.0000{i}" for g in ("blues", "metal") for i in range(3)] + \
        ["classical.00030", "classical.00031", "hiphop.00021", "metal.00035"]   # from extra/
    (bundle / "report.json").write_text(json.dumps({"data": {"track_ids": ids}}))
    with pytest.raises(GenreError, match="4 of the bundle's training tracks are missing"):
        mm.build_for_bundle(bundle, gtzan, method="tsne", progress=False)
    m = mm.build_for_bundle(bundle, [gtzan, gtzan / "extra"], method="tsne", progress=False)
    assert sorted(m.ids) == sorted(ids) and mm.load_map(bundle).ids == m.ids
    assert m.track("classical.00030")["artist"] == "Claude Debussy"
