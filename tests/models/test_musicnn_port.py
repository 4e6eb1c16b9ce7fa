"""The Keras 3 port of musicnn MSD_musicnn reproduces the original TF1 model.

Reference values in tests/data/musicnn_reference.json come from the original musicnn 0.1.0
code and checkpoint (made by studies/musicnn_reference.py in a scratch environment; only the
output values and the description of the inputs are stored). Here the shipped
assets/musicnn/msd_musicnn.keras is loaded through `load_backbone` and the same inputs are
recomputed end to end (audio -> resample -> mel -> patches -> network).
"""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from genre_core.features.musicnn import backbone as mb
from tests.helpers.musicnn import musicnn_reference_script
from tests.helpers.paths import DATA_ROOT, TEST_DATA

REF_PATH = TEST_DATA / "musicnn_reference.json"
TOL = 1e-3


synth_clip = musicnn_reference_script().synth_clip


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads(REF_PATH.read_text())


@pytest.fixture(scope="module")
def backbone():
    return mb.load_backbone()


def _clip(reference: dict, name: str) -> dict:
    return next(c for c in reference["clips"] if c["name"] == name)


def _check_against_reference(clip: dict, y: np.ndarray, sr: int, backbone) -> None:
    taggram, emb = mb.embed(y, sr)
    ref_tag = np.asarray(clip["taggram"])
    assert taggram.shape == ref_tag.shape == (clip["n_patches"], 50)
    assert np.isfinite(taggram).all()
    np.testing.assert_allclose(taggram, ref_tag, rtol=0, atol=TOL)
    np.testing.assert_allclose(taggram.mean(axis=0), clip["taggram_mean"], rtol=0, atol=TOL)

    assert emb.shape == (clip["n_patches"], clip["penultimate_dim"])
    for row, values in clip["penultimate_rows"].items():
        np.testing.assert_allclose(emb[int(row)], values, rtol=0, atol=TOL)
    np.testing.assert_allclose(emb.mean(axis=0), clip["penultimate_mean"], rtol=0, atol=TOL)

    # The pooled mid-end features (other model outputs) of the first patch.
    import librosa
    y16 = y if sr == mb.SR else librosa.resample(y, orig_sr=sr, target_sr=mb.SR)
    x = mb.patches(mb.musicnn_melspectrogram(y16))[:1]
    _, _, mean_pool, max_pool = (np.asarray(o) for o in backbone(x, training=False))
    np.testing.assert_allclose(mean_pool[0, :32], clip["mean_pool_row0_first32"], rtol=0, atol=TOL)
    np.testing.assert_allclose(max_pool[0, :32], clip["max_pool_row0_first32"], rtol=0, atol=TOL)


def test_reference_file_describes_msd_musicnn(reference):
    assert reference["model"] == "MSD_musicnn"
    assert reference["tags"] == mb.MSD_TAGS
    assert {c["input"]["kind"] for c in reference["clips"]} == {"gtzan", "synth"}


def test_synth_clip_matches_original(reference, backbone):
    clip = _clip(reference, "synth_chord")
    recipe = clip["input"]["recipe"]
    _check_against_reference(clip, synth_clip(recipe), int(recipe["sr"]), backbone)


GTZAN = ["blues.00000", "metal.00001", "classical.00002"]


@pytest.mark.parametrize("name", GTZAN)
def test_gtzan_clip_matches_original(reference, backbone, name):
    import soundfile as sf

    clip = _clip(reference, name)
    path = DATA_ROOT / "Data" / "genres_original" / clip["input"]["file"]
    if not path.is_file():
        if os.environ.get("GENRE_REQUIRE_DATA") == "1":
            pytest.fail(f"GENRE_REQUIRE_DATA=1 but GTZAN clip {path} is missing "
                        f"(set GENRE_DATA_ROOT to the folder holding Data/genres_original)")
        pytest.skip(f"GTZAN clip {path} not found (set GENRE_DATA_ROOT); synthesized-clip "
                    f"check still runs")
    # Same decode as musicnn's librosa.load(path, sr=16000): float32 samples, then
    # embed() resamples with librosa's default (soxr_hq).
    y, sr = sf.read(str(path), dtype="float32", always_2d=False)
    _check_against_reference(clip, y, sr, backbone)


def test_embed_shapes_stereo_44k_10s(backbone):
    sr = 44100
    rng = np.random.default_rng(0)
    t = np.arange(10 * sr) / sr
    left = 0.3 * np.sin(2 * np.pi * 330 * t) + 0.02 * rng.normal(size=t.size)
    right = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.02 * rng.normal(size=t.size)
    stereo = np.stack([left, right], axis=1).astype(np.float32)       # soundfile layout (n, 2)
    mono = stereo.mean(axis=1)

    taggram, emb = mb.embed(mono, sr)
    assert taggram.shape == (3, 50)                # 10 s -> 3 whole 3-s patches
    assert emb.shape == (3, mb.EMBEDDING_DIM) == (3, 200)
    assert taggram.dtype == emb.dtype == np.float32
    assert np.isfinite(taggram).all() and np.isfinite(emb).all()
    assert ((taggram >= 0) & (taggram <= 1)).all()

    # 2-D input is mixed down the same way, in either channel layout.
    for arr in (stereo, stereo.T):
        t2, e2 = mb.embed(arr, sr)
        np.testing.assert_allclose(t2, taggram, atol=1e-6)
        np.testing.assert_allclose(e2, emb, atol=1e-5)


def test_embed_one_second_is_padded_to_one_patch(backbone):
    sr = 22050
    y = (0.2 * np.sin(2 * np.pi * 440 * np.arange(sr) / sr)).astype(np.float32)
    taggram, emb = mb.embed(y, sr)
    assert taggram.shape == (1, 50)
    assert emb.shape == (1, mb.EMBEDDING_DIM)
    assert np.isfinite(emb).all()


def test_patches_and_melspectrogram():
    mel = np.arange(400 * 96, dtype=np.float32).reshape(400, 96)
    p = mb.patches(mel)
    assert p.shape == (2, 187, 96)                   # remainder dropped, as in musicnn
    np.testing.assert_array_equal(p[1], mel[187:374])
    assert mb.patches(mel, hop_frames=100).shape == (3, 187, 96)
    short = mb.patches(mel[:50])
    assert short.shape == (1, 187, 96) and not short[0, 50:].any()

    # A full-scale signal must not overflow the float16 step of the compression.
    y = np.sin(2 * np.pi * 100 * np.arange(3 * mb.SR) / mb.SR).astype(np.float32)
    logmel = mb.musicnn_melspectrogram(y)
    assert logmel.shape == (188, 96) and logmel.dtype == np.float32
    assert np.isfinite(logmel).all() and logmel.max() > 4.8


def test_backbone_architecture(backbone):
    assert backbone.count_params() == 792079
    assert [tuple(o.shape) for o in backbone.outputs] == [
        (None, 50), (None, 200), (None, 753), (None, 753)]
    assert mb.load_backbone() is backbone            # cached
