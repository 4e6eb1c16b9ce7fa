"""Smoke tests of the benchmark's helpers (no timing assertions): the stats/ratio helpers,
and that the naive notebook path and the fast Predictor path agree on a synthesized clip."""
from __future__ import annotations

import numpy as np
import pytest

import bench
from genre_core.config import GENRES, FeatureConfig


def test_stats_min_median_max():
    s = bench.stats([3.0, 1.0, 2.0, 10.0])
    assert s == {"min": 1.0, "median": 2.5, "max": 10.0, "n": 4}
    assert bench.stats([0.5]) == {"min": 0.5, "median": 0.5, "max": 0.5, "n": 1}
    with pytest.raises(ValueError):
        bench.stats([])


def test_ratio_and_targets():
    slow, fast = bench.stats([10.0, 20.0, 30.0]), bench.stats([1.0, 2.0, 4.0])
    r = bench.ratio(slow, fast)
    assert r["median"] == pytest.approx(10.0)
    assert r["min"] == pytest.approx(2.5) and r["max"] == pytest.approx(30.0)
    results = {"cold": {"predict_process": bench.stats([4.0, 4.5])},
               "extraction": {"cached_vs_cold": bench.stats([20.0])}}
    status = {t["target"]: t["status"] for t in bench.evaluate_targets(results)}
    assert status["whole-process predict"] == "met"
    assert status["cached extraction vs cold"] == "MISSED"
    assert status["app first render (Home)"] == "not measured"
    table = bench.format_table({**results, "targets": bench.evaluate_targets(results)})
    assert "predict process" in table and "MISSED" in table


def test_naive_features_match_batched_shape():
    from genre_core.features import mfcc_segments

    config = FeatureConfig()
    y = bench.synth_music(7.0)           # 2 full segments, a partial one dropped
    naive = np.stack(bench.naive_features(y, config))
    fast = mfcc_segments(y, config)
    assert naive.shape == fast.shape == (2, config.frames_per_segment, config.n_mfcc)
    # identical up to librosa's top_db floor, which the batched call takes over all segments
    assert np.median(np.abs(naive - fast)) < 1e-3


def _bundle(tmp_path):
    """MLP and CNN with random weights (no fitting: agreement, not accuracy, is tested)."""
    from genre_core.config import TrainConfig
    from genre_core.inference.bundle import Bundle
    from genre_core.models import model_class

    config = FeatureConfig()
    models = {}
    for family in ("mlp", "cnn"):
        m = model_class(family)(list(GENRES), "corrected")
        m.net = m.build_network((config.frames_per_segment, config.n_mfcc), len(GENRES),
                                TrainConfig(seed=0))
        m.mean = np.zeros(config.n_mfcc, np.float32)
        m.std = np.full(config.n_mfcc, 50.0, np.float32)
        models[family] = m
    return Bundle(tmp_path, list(GENRES), config, models)


@pytest.mark.slow
def test_naive_and_fast_predictions_agree(tmp_path):
    import soundfile as sf

    from genre_core.features import mfcc_segments
    from genre_core.inference.predict import Predictor

    bundle = _bundle(tmp_path)
    wav = tmp_path / "clip.wav"
    sf.write(wav, bench.synth_music(9.5, seed=1), 22050, subtype="PCM_16")
    predictor = Predictor(bundle)
    fast = predictor.predict(wav)
    naive = bench.naive_predict(wav, bundle, timings := {})
    assert set(naive) == set(fast.models) == {"mlp", "cnn"}
    assert {"decode", "extract", "model:mlp", "model:cnn"} <= set(timings)
    for name, probs in naive.items():
        track = fast.models[name].segment_probabilities.mean(axis=0)
        assert probs.shape == track.shape == (len(GENRES),)
        assert np.allclose(probs, track, atol=0.05)
    # with the same input units the per-segment model.predict and the batched call agree
    units = mfcc_segments(fast.clip.samples, predictor.config)
    for _name, model in bundle.models.items():
        per_segment = bench.naive_model_proba(model, list(units))
        assert np.allclose(per_segment, model.predict_proba(units), atol=1e-5)


def test_chunked_mfcc_matches_one_call():
    """features.mfcc_segments computes long inputs chunk by chunk (bounded memory); the
    result must be that of one librosa call over every segment."""
    import librosa

    from genre_core import features

    config = FeatureConfig()
    y = bench.synth_music(3.0 * (features.MFCC_CHUNK_SEGMENTS + 3), seed=2)
    y *= np.linspace(0.1, 1.0, len(y), dtype=np.float32)    # loudness varies across chunks
    segs = features.segment(y, config)
    assert len(segs) > features.MFCC_CHUNK_SEGMENTS
    one = np.transpose(librosa.feature.mfcc(y=segs, sr=config.sample_rate, n_mfcc=config.n_mfcc,
                                            n_fft=config.n_fft, hop_length=config.hop_length),
                       (0, 2, 1))
    assert np.allclose(features.mfcc_segments(y, config), one, atol=1e-3)


def test_batch_and_cold_stages_reach_the_table_and_targets():
    one, pool = bench.stats([10.0, 12.0]), bench.stats([6.0, 6.5])
    results = {"batch": {"files": 12, "workers": 2, "speedup": bench.ratio(one, pool),
                         "one_process_files_per_s": bench.stats([1.2, 1.0]),
                         "pool_files_per_s": bench.stats([2.0, 1.85])},
               "cold": {"predict_process": bench.stats([4.0]),
                        "peak_rss_mib": bench.stats([650.0]),
                        "stages": {"extract:kaggle": bench.stats([0.4])}}}
    status = {t["target"]: t["status"] for t in bench.evaluate_targets(results)}
    assert status["predict DIR, pool vs one process"] == "met"       # 11 / 6.25 = 1.76
    assert status["predict process peak memory"] == "MISSED"
    table = bench.format_table({**results, "targets": bench.evaluate_targets(results)})
    assert "predict DIR, 2 processes" in table and "in-process extract:kaggle" in table
