"""The computations behind the newer views: occlusion saliency (MFCC blocks and the four
networks' mel patches), the teaching sounds and the app's view helpers (timeline lanes, CSV,
batch rows, URL state). The map of music and the out-of-domain checks:
tests/inference/test_music_map.py and tests/inference/test_domain.py."""
from __future__ import annotations

import numpy as np
import pytest

from genre_core.views import saliency, teaching
from studio import view_data as vs

SR = 22050


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
    from genre_core import features
    from genre_core.config import FeatureConfig

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
                                          np.array([[0.3, 0.7]]), [0.0], feature="kaggle",
                                          whole_clip=True)}
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
    assert row["heard"] == "all of it" and row["duration (s)"] == 9.0


def test_batch_row_of_a_long_file_says_which_part_was_heard():
    from dataclasses import replace

    pred = fake_prediction()
    pred.clip = replace(pred.clip, duration=180.2, truncated=True, offset=75.1)
    assert vs.batch_row("song.mp3", pred)["heard"] == "1:15-1:24 of 3:00"   # 9 s heard here


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
def test_four_network_patch_units_match_the_feature():
    from genre_core.features import extract, musicnn_input
    from genre_core.features.musicnn import backbone as mb

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
        rows = 0

        @classmethod
        def predict_proba(cls, X):
            cls.rows += len(X)
            logits = np.stack([5 * X[:, 0], 5 * X[:, 1], np.zeros(len(X))], axis=1)
            e = np.exp(logits - logits.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)

    y = np.concatenate([teaching.drum_loop(rate=SR), teaching.chord(rate=SR)])
    s = saliency.musicnn_saliency(Fake(), y, SR, 1)
    assert s.feature == "mel" and s.maps.shape == (2, 187, 96) and s.input.shape == (187, 96)
    assert abs(s.times[0] - 187 * 256 / 16000) < 1e-6          # segment 2 starts near 3 s
    assert set(s.genres) <= set(Fake.labels) and s.probabilities[0] >= s.probabilities[1]
    assert np.abs(s.maps).max() > 0                            # hiding sound changes the tags
    # the sentence names one whole rectangle: 0.75 s wide, starting on a rectangle's edge
    text = saliency.summary(s, 0)
    t0, t1 = (float(v) for v in text.split(": ")[1].split(" s,")[0].split("–"))
    starts = [s.times[0] + p * 256 / 16000 for p in (0, 47, 94, 140)]
    assert min(abs(t0 - a) for a in starts) < 0.06 and abs((t1 - t0) - 46 * 256 / 16000) < 0.06, text
    # the clip itself + 4 x 6 side-by-side rectangles of 0.75 s x 16 bands covering the patch
    assert Fake.rows == 1 + 24 and s.window == (47, 16)
