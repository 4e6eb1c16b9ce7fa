"""The computations behind the newer views: the map of music (placement, neighbours, storage),
the out-of-domain checks, occlusion saliency, the teaching sounds and the view helpers."""
from __future__ import annotations

import json

import numpy as np
import pytest

from genre_core.inference import domain as ood
from genre_core.inference import music_map as mm
from genre_core.views import saliency, teaching
from studio import view_data as vs
from tests.helpers.paths import SHIPPED_BUNDLE as SHIPPED

SR = 22050


def clusters(n_per=12, dim=20, seed=0):
    """Three well-separated clusters of synthetic 'embeddings' with genres a, b, c."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((3, dim)) * 4
    emb = np.concatenate([c + 0.3 * rng.standard_normal((n_per, dim)) for c in centres])
    genres = [g for g in "abc" for _ in range(n_per)]
    ids = [f"{g}.{i:05d}" for g in "abc" for i in range(n_per)]
    return emb.astype(np.float32), ids, genres, centres


@pytest.fixture(scope="module")
def small_map():
    emb, ids, genres, centres = clusters()
    return mm.build_map(emb, ids, genres, method="tsne"), emb, centres


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


# ---------------------------------------------------------------- saliency

def region_model(regions):
    """A synthetic classifier: class k's logit is 3 x the mean of x over regions[k]."""
    def predict(batch):
        batch = np.asarray(batch)
        logits = np.stack([3 * batch[:, r0:r1, c0:c1].mean(axis=(1, 2))
                           for (r0, r1, c0, c1) in regions] + [np.zeros(len(batch))], axis=1)
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return predict


def test_occlusion_finds_the_decisive_region():
    regions = [(10, 20, 3, 6), (25, 35, 7, 10)]
    x = np.ones((40, 12), np.float32)
    x[10:20, 3:6] = 1.5                 # class 0's evidence is stronger than class 1's
    sal, p0 = saliency.occlusion(x, region_model(regions), (4, 2), (2, 1), 0.0)
    assert sal.shape == (3, 40, 12) and int(np.argmax(p0)) == 0
    for k, (r0, r1, c0, c1) in enumerate(regions):
        inside = np.zeros_like(x, bool)
        inside[r0:r1, c0:c1] = True
        i, j = np.unravel_index(np.argmax(sal[k]), x.shape)
        assert inside[i, j], (k, i, j)
        assert sal[k][inside].mean() > 0.02 and sal[k][~inside].max() < sal[k][inside].mean()
    # hiding class 0's region helps class 1: negative saliency there (evidence against)
    assert sal[1][10:20, 3:6].mean() < 0


def test_segment_saliency_on_a_model_object_ranks_top_two():
    class Fake:
        labels = ["blues", "metal", "rock"]
        feature = "mfcc"            # as every GenreModel declares its input
        mean = np.zeros(13, np.float32)
        predict_proba = staticmethod(region_model([(0, 20, 0, 3), (60, 80, 5, 9)]))

    block = np.ones((130, 13), np.float32)
    block[60:80, 5:9] = 2.0
    s = saliency.segment_saliency(Fake(), block, start=6.0, sample_rate=SR, hop_length=512)
    assert s.genres == ["metal", "blues"] and s.maps.shape == (2, 130, 13)
    assert s.probabilities[0] > s.probabilities[1]
    assert s.times[0] == 6.0
    i, j = np.unravel_index(np.argmax(s.maps[0]), (130, 13))
    assert 60 <= i < 80 and 5 <= j < 9
    text = saliency.summary(s, 0)
    t0 = 6.0 + 60 * 512 / SR
    assert "metal" in text and "MFCC coefficients" in text
    assert abs(float(text.split(": ")[1].split("–")[0]) - t0) < 0.4, text


# ---------------------------------------------------------------- teaching sounds

def test_synthesized_examples_show_what_the_notes_say():
    from genre_core.config import FeatureConfig
    from genre_core.inference import features

    config = FeatureConfig()
    pitch = lambda y: features.chroma(y, config).mean(axis=1)  # noqa: E731
    assert int(np.argmax(pitch(teaching.tone(rate=SR)))) == 9            # A
    top3 = set(np.argsort(-pitch(teaching.chord(rate=SR)))[:3])
    assert top3 == {0, 4, 7}                                               # C, E, G
    _, tempo = features.tempogram(np.tile(teaching.drum_loop(rate=SR), 2), config)
    assert min(abs(tempo - 120), abs(tempo - 60), abs(tempo - 240)) < 6


def test_genre_examples_prefer_correct_tracks():
    ids = ["rock.00001", "rock.00002", "rock.00003", "jazz.00001"]
    out = teaching.genre_examples(ids, ["rock", "rock", "rock", "jazz"], 2, {"rock.00003"})
    assert out == {"jazz": ["jazz.00001"], "rock": ["rock.00003", "rock.00001"]}


# ---------------------------------------------------------------- view helpers

def fake_prediction():
    from genre_core.inference.audio import Clip
    from genre_core.inference.predict import ModelPrediction, Prediction

    labels = ["metal", "rock"]
    clip = Clip(np.zeros(9 * SR, np.float32), SR, "x.wav", 9.0, SR, 1)
    seg = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    models = {"cnn": ModelPrediction("metal", {"metal": 0.57, "rock": 0.43}, seg, [0.0, 3.0, 6.0]),
              "features": ModelPrediction("rock", {"metal": 0.3, "rock": 0.7},
                                          np.array([[0.3, 0.7]]), [0.0])}
    return Prediction(clip, labels, models)


def test_timeline_lanes_span_segments_and_whole_clip():
    lanes, region = vs.timeline_lanes(fake_prediction(), {"cnn": "CNN"}, {"features": True}, 3.0)
    assert [ln["name"] for ln in lanes] == ["CNN", "features"] and region == 0
    assert lanes[0]["starts"] == [0.0, 3.0, 6.0] and lanes[0]["ends"] == [3.0, 6.0, 9.0]
    assert lanes[1]["ends"] == [9.0] and lanes[0]["probs"][1] == [0.2, 0.8]


def test_prediction_csv_and_batch_row():
    import io

    import pandas as pd

    pred = fake_prediction()
    df = pd.read_csv(io.BytesIO(vs.to_csv(vs.prediction_rows(pred))))
    track = df[df.unit == "track"]
    assert len(track) == 4 and set(track[track.top].genre) == {"metal", "rock"}
    assert len(df[df.unit == "segment"]) == 6                  # 3 CNN segments x 2 genres
    row = vs.batch_row("x.wav", pred, names={"cnn": "CNN"})
    assert row["CNN"] == "metal" and row["agreement"] == "1 of 2" and row["error"] == ""
    bad = vs.batch_row("bad.wav", error="bad.wav: not audio")
    assert bad == {"file": "bad.wav", "error": "bad.wav: not audio"}
    assert "Genre Studio says" not in row                          # no ensemble, no verdict


def test_batch_row_gives_the_verdict_and_no_genre_for_what_is_not_music():
    from types import SimpleNamespace

    from genre_core.inference.predict import ModelPrediction

    pred = fake_prediction()
    pred.models["ensemble"] = ModelPrediction("rock", {"metal": 0.2, "rock": 0.8},
                                              np.array([[0.2, 0.8]]), [0.0])
    pred.domain = SimpleNamespace(not_music=False, out_of_domain=False, messages=lambda: [])
    assert vs.batch_row("x.wav", pred)["Genre Studio says"] == "rock, 80%"
    pred.domain = SimpleNamespace(not_music=True, out_of_domain=True, messages=lambda: ["steady"])
    row = vs.batch_row("x.wav", pred)
    assert row["Genre Studio says"] == "not music it knows (best guess: rock, 80%)"
    assert row["warning"] == "steady" and list(row)[:2] == ["file", "Genre Studio says"]


def test_url_state_keeps_only_valid_values():
    labels, models = ["metal", "rock"], ["cnn", "mlp"]
    ok = vs.url_state({"track": "rock.00007", "model": "cnn", "true": "rock", "pred": "metal"},
                      labels, models)
    assert ok == {"track": "rock.00007", "model": "cnn", "true": "rock", "pred": "metal"}
    assert vs.url_state({"track": "<script>", "model": "svm", "true": "polka"}, labels,
                        models) == {}


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


@pytest.mark.slow
def test_four_network_patch_units_match_the_feature():
    from genre_core.inference.features import extract, musicnn_input
    from genre_core.models import musicnn_backbone as mb

    y = teaching.chord(seconds=6.5, rate=SR)
    x = mb.log_mel_patches(musicnn_input(y), SR)      # as the networks hear it
    units = saliency._patch_units("musicnn4")(x)
    assert np.allclose(units, extract("musicnn4", y), atol=1e-4)
    one = saliency._patch_units("musicnn")(x)
    assert np.allclose(one, units[:, :250], atol=1e-4)


@pytest.mark.slow
def test_four_network_saliency_runs_on_a_mel_patch():
    class Fake:                      # a "classifier" on the four networks' first two tags
        feature = "musicnn4"
        labels = ["rock", "pop", "other"]

        @staticmethod
        def predict_proba(X):
            logits = np.stack([5 * X[:, 0], 5 * X[:, 1], np.zeros(len(X))], axis=1)
            e = np.exp(logits - logits.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)

    y = np.concatenate([teaching.drum_loop(rate=SR), teaching.chord(rate=SR)])
    s = saliency.musicnn_saliency(Fake(), y, SR, 1)
    assert s.feature == "mel" and s.maps.shape == (2, 187, 96) and s.input.shape == (187, 96)
    assert abs(s.times[0] - 187 * 256 / 16000) < 1e-6          # segment 2 starts near 3 s
    assert set(s.genres) <= set(Fake.labels) and s.probabilities[0] >= s.probabilities[1]
    assert np.abs(s.maps).max() > 0                            # hiding sound changes the tags


@pytest.mark.parametrize("seconds", [0.05, 0.3, 0.5, 0.9, 1.0, 1.01, 1.5, 2.99])
def test_short_clips_are_measured_and_a_short_tone_is_steady(seconds):
    """Clips of a second or less crashed audio_measures (its 1-s window outgrew the clip);
    a test tone of under 5 s passed as music (centred frames read the edges as change)."""
    t = np.arange(int(seconds * SR)) / SR
    check = ood.check_domain((0.4 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), SR)
    assert 0.0 <= check.low_energy_ratio <= 1.0 and 0.0 <= check.pause_fraction <= 1.0
    assert check.steady and check.not_music
