"""The Keras 3 ports of MTT_musicnn, MSD_vgg and MTT_vgg reproduce the original TF1 models, and
the musicnn4 feature runs all four networks with the documented column layout.

Reference values in tests/data/musicnn_reference_<model>.json (MSD_musicnn:
musicnn_reference.json) come from the original musicnn 0.1.0 code and checkpoints, made by
studies/musicnn_reference.py in a scratch environment; only outputs and input descriptions are
stored. Here the converted assets/musicnn/*.keras files recompute them end to end.
"""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from genre_core import features as F
from genre_core.config import FeatureConfig
from genre_core.features.musicnn import backbone as mb
from genre_core.features.musicnn import zoo
from tests.helpers.musicnn import musicnn_reference_script
from tests.helpers.paths import DATA_ROOT, TEST_DATA

DATA = TEST_DATA
TOL = 1e-3


synth_clip = musicnn_reference_script().synth_clip
NEW = ["MTT_musicnn", "MSD_vgg", "MTT_vgg"]
GTZAN = ["blues.00000", "metal.00001", "classical.00002"]


def _reference(model: str) -> dict:
    name = "musicnn_reference.json" if model == "MSD_musicnn" else f"musicnn_reference_{model}.json"
    return json.loads((DATA / name).read_text())


def _clip(ref: dict, name: str) -> dict:
    return next(c for c in ref["clips"] if c["name"] == name)


def _check(clip: dict, model: str, taggram: np.ndarray, emb: np.ndarray) -> None:
    ref_tag = np.asarray(clip["taggram"])
    assert taggram.shape == ref_tag.shape == (clip["n_patches"], 50)
    np.testing.assert_allclose(taggram, ref_tag, rtol=0, atol=TOL, err_msg=model)
    assert emb.shape == (clip["n_patches"], clip["penultimate_dim"])
    for row, values in clip["penultimate_rows"].items():
        np.testing.assert_allclose(emb[int(row)], values, rtol=0, atol=TOL, err_msg=model)
    np.testing.assert_allclose(emb.mean(axis=0), clip["penultimate_mean"], rtol=0, atol=TOL)


def _synth() -> tuple[np.ndarray, int, dict]:
    recipe = _reference("MTT_musicnn")["clips"][-1]["input"]["recipe"]
    return synth_clip(recipe), int(recipe["sr"]), recipe


@pytest.fixture(scope="module")
def synth_features() -> np.ndarray:
    y, sr, _ = _synth()
    return zoo.extract_all(y, sr)


@pytest.mark.parametrize("model", NEW)
def test_reference_files_describe_the_model(model):
    ref = _reference(model)
    net = zoo.NETWORKS[model]
    assert ref["model"] == model
    assert ref["tags"] == net.tags
    assert {c["input"]["kind"] for c in ref["clips"]} == {"gtzan", "synth"}
    assert all(c["penultimate_dim"] == net.embedding_dim for c in ref["clips"])
    # All four references used the same synthesized input.
    msd = _reference("MSD_musicnn")
    assert _clip(ref, "synth_chord")["input"] == _clip(msd, "synth_chord")["input"]


@pytest.mark.parametrize("model", NEW)
def test_synth_clip_matches_original(model):
    y, sr, _ = _synth()
    clip = _clip(_reference(model), "synth_chord")
    x = mb.log_mel_patches(y, sr)
    out = zoo.load_network(model)(x, training=False)
    _check(clip, model, np.asarray(out[0]), np.asarray(out[1]))
    if model == "MTT_musicnn":   # the pooled mid-end features of the first patch
        np.testing.assert_allclose(np.asarray(out[2])[0, :32], clip["mean_pool_row0_first32"],
                                   rtol=0, atol=TOL)
        np.testing.assert_allclose(np.asarray(out[3])[0, :32], clip["max_pool_row0_first32"],
                                   rtol=0, atol=TOL)


@pytest.mark.parametrize("name", GTZAN)
def test_gtzan_clips_match_original(name):
    import soundfile as sf

    rel = _clip(_reference("MSD_vgg"), name)["input"]["file"]
    path = DATA_ROOT / "Data" / "genres_original" / rel
    if not path.is_file():
        if os.environ.get("GENRE_REQUIRE_DATA") == "1":
            pytest.fail(f"GENRE_REQUIRE_DATA=1 but GTZAN clip {path} is missing")
        pytest.skip(f"GTZAN clip {path} not found (set GENRE_DATA_ROOT)")
    y, sr = sf.read(str(path), dtype="float32", always_2d=False)
    feats = zoo.extract_all(y, sr)            # all four networks, one front end
    layout = zoo.column_layout()
    for model in zoo.NETWORKS:                # MSD_musicnn too, through the new extractor
        clip = _clip(_reference(model), name)
        _check(clip, model, feats[:, layout[f"{model}/taggram"]],
               feats[:, layout[f"{model}/embedding"]])


def test_musicnn4_feature_matches_every_reference(synth_features):
    layout = zoo.column_layout()
    assert synth_features.shape == (3, zoo.N_COLUMNS) and synth_features.dtype == np.float32
    for model in zoo.NETWORKS:
        clip = _clip(_reference(model), "synth_chord")
        _check(clip, model, synth_features[:, layout[f"{model}/taggram"]],
               synth_features[:, layout[f"{model}/embedding"]])


def test_musicnn4_feature_kind(synth_features):
    y, sr, _ = _synth()
    config = FeatureConfig(sample_rate=sr, musicnn_level="as_is")
    units = F.extract("musicnn4", y, config)
    np.testing.assert_allclose(units, synth_features, atol=1e-5)
    # The existing "musicnn" kind is unchanged and is the first block pair of musicnn4.
    np.testing.assert_allclose(F.extract("musicnn", y, config), units[:, :250], atol=1e-5)
    assert F.kind("musicnn4").parallel is False             # Keras model: in-process
    assert F.musicnn4_columns() == zoo.column_layout()


def test_musicnn_hears_every_clip_at_one_level():
    """musicnn_level "rms" (the default of new bundles) makes the musicnn features independent
    of the recording's level; "as_is" (bundles saved before it) does not."""
    y, sr, _ = _synth()
    rms, as_is = FeatureConfig(sample_rate=sr), FeatureConfig(sample_rate=sr, musicnn_level="as_is")
    assert rms.musicnn_level == "rms"
    quiet, loud = 0.05 * y, 0.9 * y / np.max(np.abs(y))
    np.testing.assert_allclose(F.extract("musicnn4", quiet, rms), F.extract("musicnn4", loud, rms),
                               atol=1e-4)
    assert np.max(np.abs(F.extract("musicnn4", quiet, as_is)
                         - F.extract("musicnn4", loud, as_is))) > 1e-2
    level = F.musicnn_input(loud, rms)
    assert abs(float(np.sqrt(np.mean(level.astype(np.float64) ** 2))) - F.MUSICNN_RMS) < 1e-4
    silent = np.zeros(sr, np.float32)
    assert np.array_equal(F.musicnn_input(silent, rms), silent)    # no division by zero
    with pytest.raises(ValueError, match="musicnn_level"):
        F.musicnn_input(y, FeatureConfig(musicnn_level="loud"))


def test_a_bundle_saved_before_musicnn_level_hears_audio_as_it_was():
    saved = FeatureConfig(musicnn_level="as_is").to_dict()
    del saved["musicnn_level"]
    assert FeatureConfig.from_dict(saved).musicnn_level == "as_is"
    assert FeatureConfig.from_dict(FeatureConfig().to_dict()).musicnn_level == "rms"


def test_column_layout_is_contiguous_and_documented():
    layout = zoo.column_layout()
    assert list(layout) == [f"{n}/{b}" for n in zoo.NETWORKS for b in ("taggram", "embedding")]
    stops = 0
    for name, s in layout.items():
        assert s.start == stops
        width = 50 if name.endswith("taggram") else zoo.NETWORKS[name.split("/")[0]].embedding_dim
        assert s.stop - s.start == width
        stops = s.stop
    assert stops == zoo.N_COLUMNS == 2 * (50 + 200) + 2 * (50 + 256)
    # The docstring states the slices; keep it true.
    for name, s in layout.items():
        assert f"{name} {s.start}:{s.stop}" in zoo.column_layout.__doc__.replace("\n    ", " ")


def test_select_columns():
    layout = zoo.column_layout()
    everything = zoo.select_columns()
    np.testing.assert_array_equal(everything, np.arange(zoo.N_COLUMNS))
    emb = zoo.select_columns(archs=("musicnn",), blocks=("embedding",))
    expected = np.r_[layout["MSD_musicnn/embedding"], layout["MTT_musicnn/embedding"]]
    np.testing.assert_array_equal(emb, expected)
    mtt_tags = zoo.select_columns(datasets=("MTT",), blocks=("taggram",))
    np.testing.assert_array_equal(mtt_tags, np.r_[layout["MTT_musicnn/taggram"],
                                                  layout["MTT_vgg/taggram"]])
    with pytest.raises(ValueError, match="spotify"):
        zoo.select_columns(datasets=("spotify",))


def test_clip_tags_both_vocabularies(synth_features):
    tags = zoo.clip_tags(synth_features)
    assert set(tags) == {"MSD", "MTT"}
    assert set(tags["MSD"]) == set(mb.MSD_TAGS) and set(tags["MTT"]) == set(mb.MTT_TAGS)
    for vocab in tags.values():
        values = list(vocab.values())
        assert values == sorted(values, reverse=True)
    # musicnn-only MTT tags are the MTT_musicnn taggram's patch mean, as the original computed.
    only = zoo.clip_tags(synth_features, archs=("musicnn",))["MTT"]
    ref = _clip(_reference("MTT_musicnn"), "synth_chord")["taggram_mean"]
    np.testing.assert_allclose([only[t] for t in mb.MTT_TAGS], ref, rtol=0, atol=TOL)
    # The default averages both architectures of a vocabulary.
    vgg = zoo.clip_tags(synth_features, archs=("vgg",))["MSD"]
    mus = zoo.clip_tags(synth_features, archs=("musicnn",))["MSD"]
    for t in mb.MSD_TAGS:
        assert tags["MSD"][t] == pytest.approx((vgg[t] + mus[t]) / 2, abs=1e-6)
    with pytest.raises(ValueError, match="musicnn4"):
        zoo.clip_tags(synth_features[:, :250])


@pytest.mark.parametrize("model", NEW)
def test_converted_networks(model):
    net = zoo.NETWORKS[model]
    m = zoo.load_network(model)
    assert m.count_params() == (792079 if net.arch == "musicnn" else 607030)
    assert [tuple(o.shape) for o in m.outputs][:2] == [(None, 50), (None, net.embedding_dim)]
    assert all(w.dtype == np.float32 for w in m.get_weights())
    assert net.path.stat().st_size < 4_000_000
    assert zoo.load_network(model) is m                     # cached
