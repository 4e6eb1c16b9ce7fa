"""Serving without TensorFlow: the ONNX exports give Keras' predictions (within 1e-4) for
every shipped network and the musicnn backbone; saving exports, a stale export is not used;
`predict` never imports TensorFlow; timings keep feature and model times apart."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from bench import synth_music
from genre_core.config import FeatureConfig, TrainConfig
from genre_core.errors import GenreError
from genre_core.inference.bundle import DEFAULT_BUNDLE, load_bundle, read_bundle_meta
from genre_core.serving import OnnxNet, onnx_path
from tests.helpers.audio import wav_bytes
from tests.helpers.paths import ROOT

TOL = 1e-4


def _music(seconds=12.0, seed=3):
    return synth_music(seconds, seed=seed)


@pytest.mark.parametrize("name", ["mlp", "cnn", "cnn_mel", "lstm"])
@pytest.mark.slow
def test_shipped_network_onnx_matches_keras(name):
    import keras

    from genre_core.features import extract

    folder = DEFAULT_BUNDLE / name
    if not (folder / "model.keras").exists():
        pytest.skip(f"shipped bundle has no {name}")
    model = load_bundle(DEFAULT_BUNDLE, [name]).models[name]
    assert isinstance(model.net, OnnxNet), "the shipped bundle must be served by ONNX Runtime"
    units = extract(model.feature, _music())      # MFCC or log-mel segments
    X = model.scale(units)
    reference = keras.saving.load_model(folder / "model.keras", compile=False)
    want = np.asarray(reference.predict_on_batch(X))
    got = model.predict_proba(units)
    assert got.shape == want.shape == (4, len(model.labels))
    np.testing.assert_allclose(got, want, atol=TOL, rtol=0)


def test_a_long_file_runs_through_a_segment_network_a_minute_at_a_time():
    """A segment network answers for a 10-min file in runs of SERVING_BATCH segments (the
    mel CNN's activations at 200 segments at once took 695 MiB), with the same numbers as
    one run over all of them."""
    from genre_core.models.keras_segments import SERVING_BATCH

    if not (DEFAULT_BUNDLE / "cnn_mel" / "model.onnx").exists():
        pytest.skip("shipped bundle has no cnn_mel")
    model = load_bundle(DEFAULT_BUNDLE, ["cnn_mel"]).models["cnn_mel"]
    assert isinstance(model.net, OnnxNet) and model.net.max_batch == SERVING_BATCH == 20
    units = np.random.default_rng(5).uniform(-80, 0, (45, 130, 64)).astype(np.float32)
    seen = []
    run = model.net.session.run
    model.net.session.run = lambda out, feed: seen.append(len(next(iter(feed.values())))) or \
        run(out, feed)
    got = model.predict_proba(units)
    assert seen == [20, 20, 5]
    want = run(None, {model.net.input_name: model.scale(units)})[0]
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)


@pytest.mark.parametrize("network", ["MSD_musicnn", "MTT_musicnn", "MSD_vgg", "MTT_vgg"])
@pytest.mark.slow
def test_musicnn_backbones_onnx_match_keras(network):
    from genre_core.features.musicnn import backbone as mb
    from genre_core.features.musicnn import zoo

    keras_net = zoo.load_network(network)
    onnx_net = zoo.serving_network(network)
    assert isinstance(onnx_net, OnnxNet), f"{network}: no current ONNX export"
    x = mb.log_mel_patches(_music(9.0), 22050)
    want, got = keras_net.predict_on_batch(x), onnx_net.predict_on_batch(x)
    assert len(got) == len(want) >= 2
    # taggram and embedding (what the models use): absolute 1e-4
    for k in (0, 1):
        np.testing.assert_allclose(got[k], np.asarray(want[k]), atol=TOL, rtol=0)
    # further outputs (musicnn's 753-d pools reach ~10-100): 1e-4 relative to the magnitude
    for k in range(2, len(want)):
        w = np.asarray(want[k])
        assert np.max(np.abs(got[k] - w) / np.maximum(1.0, np.abs(w))) < TOL


def test_musicnn_feature_is_served_by_onnx():
    from genre_core.features import musicnn_units
    from genre_core.features.musicnn import backbone as mb

    units = musicnn_units(_music(9.0), FeatureConfig(musicnn_level="as_is"))
    tags, emb = mb.embed(_music(9.0), 22050, mb.load_backbone())     # Keras
    np.testing.assert_allclose(units, np.concatenate([tags, emb], axis=1), atol=TOL, rtol=0)


@pytest.mark.slow
def test_save_exports_onnx_and_a_stale_export_is_not_used(tmp_path):
    from genre_core.models.mlp import MLPModel

    cfg = FeatureConfig()
    model = MLPModel(["a", "b", "c"], "plain")
    model.net = model.build_network((cfg.frames_per_segment, cfg.n_mfcc), 3, TrainConfig())
    model.mean, model.std = np.float32(0.0), np.float32(50.0)
    model.save(tmp_path / "m")
    assert onnx_path(tmp_path / "m" / "model.keras").is_file()
    loaded = MLPModel.load(tmp_path / "m", model.labels, "plain", {})
    assert isinstance(loaded.net, OnnxNet)
    from genre_core.features import mfcc_segments

    X = mfcc_segments(_music(6.0))
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X), atol=TOL)
    # retrain (new weights) but keep the old export: the loader must use the new Keras file
    other = MLPModel(["a", "b", "c"], "plain")
    other.net = other.build_network((cfg.frames_per_segment, cfg.n_mfcc), 3, TrainConfig())
    other.net.save(tmp_path / "m" / "model.keras")
    with pytest.warns(UserWarning, match="re-export"):
        stale = MLPModel.load(tmp_path / "m", model.labels, "plain", {})
    assert not isinstance(stale.net, OnnxNet)
    # a damaged export: Keras again, with a warning
    onnx_path(tmp_path / "m" / "model.keras").write_bytes(b"not onnx")
    with pytest.warns(UserWarning, match="cannot be loaded"):
        damaged = MLPModel.load(tmp_path / "m", model.labels, "plain", {})
    assert not isinstance(damaged.net, OnnxNet)


def test_timings_keep_feature_and_model_times_apart():
    """The shipped bundle has a model called `features`: its time must not replace the
    extraction time (the old single 'features' key)."""
    from genre_core.inference.predict import Predictor

    p = Predictor(DEFAULT_BUNDLE, lazy=True)
    pred = p.predict(wav_bytes(_music(6.0)), name="x.wav")
    keys = set(pred.timings)
    assert {"decode", "extract"} <= keys
    assert {f"extract:{k}" for k in p.kinds} <= keys
    assert {f"model:{n}" for n in p.bundle.models} <= keys
    assert "features" not in keys
    assert all(v >= 0 for v in pred.timings.values())


def test_lazy_predictor_reports_a_broken_model_on_predict(tmp_path):
    import shutil

    broken = tmp_path / "b"
    shutil.copytree(DEFAULT_BUNDLE, broken)
    (broken / "cnn" / "model.onnx").unlink()
    (broken / "cnn" / "model.keras").write_bytes(b"truncated")
    from genre_core.inference.predict import Predictor

    p = Predictor(broken, ["mlp", "cnn"], lazy=True)     # returns before the models load
    with pytest.raises(GenreError, match="cnn.*could not be loaded"):
        p.predict(wav_bytes(_music(4.0)), name="x.wav")


@pytest.mark.slow
def test_predict_command_never_imports_tensorflow(tmp_path):
    """...nor pandas (scikit-learn's optional import, skipped by the predict command), and
    the shipped bundle's scikit-learn models still run."""
    wav = tmp_path / "x.wav"
    wav.write_bytes(wav_bytes(_music(7.0)))
    code = ("import sys, json\n"
            "from genre_core.__main__ import main\n"
            f"rc = main(['predict', {str(wav)!r}, '--json'])\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('tensorflow', 'keras', 'tf2onnx', 'pandas'))\n"
            "print('RESULT', json.dumps({'rc': rc, 'heavy': heavy}))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("RESULT"))
    result = json.loads(line.split(" ", 1)[1])
    assert result == {"rc": 0, "heavy": []}, r.stderr[-2000:]
    preds = json.loads(r.stdout[:r.stdout.index("RESULT")])
    assert set(preds[0]["models"]) - {"ensemble"} == set(read_bundle_meta(DEFAULT_BUNDLE)[0]
                                                         ["models"])


@pytest.mark.slow
def test_predict_folder_with_a_broken_model_stops_with_one_line(tmp_path):
    """A file's problem is its row; a model that cannot be loaded ends the run (exit 2,
    one line, no traceback), also from the worker processes."""
    import shutil

    broken = tmp_path / "b"
    shutil.copytree(DEFAULT_BUNDLE, broken)
    (broken / "cnn" / "model.onnx").unlink()
    (broken / "cnn" / "model.keras").write_bytes(b"truncated")
    songs = tmp_path / "songs"
    songs.mkdir()
    for i in range(2):
        (songs / f"{i}.wav").write_bytes(wav_bytes(_music(4.0, seed=i)))
    r = subprocess.run([sys.executable, "-m", "genre_core", "predict", str(songs), "--bundle",
                        str(broken), "--models", "mlp,cnn", "--jobs", "2"],
                       capture_output=True, text=True, cwd=ROOT, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-1500:]
    assert "cnn" in r.stderr and "could not be loaded" in r.stderr
