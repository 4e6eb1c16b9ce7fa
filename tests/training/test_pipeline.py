"""The training pipeline as a library call (training.pipeline), without the command line:
a plan over a folder of tones evaluates, fits and writes a bundle that predicts; a
figures-only plan adds its evaluations to that bundle's report and leaves its models alone."""
from __future__ import annotations

from pathlib import Path

import pytest

from genre_core.config import TrainConfig
from genre_core.inference.bundle import read_bundle_meta
from genre_core.inference.cache import FeatureCache
from genre_core.inference.predict import Predictor
from genre_core.training.pipeline import TrainPlan, train
from tests.helpers.audio import tone, wav_bytes

pytestmark = pytest.mark.slow


def _tone_root(root: Path, write_audio) -> Path:
    for k in range(4):
        for label, freq in (("low", 150 + 10 * k), ("high", 3000 + 100 * k)):
            (root / label).mkdir(parents=True, exist_ok=True)
            write_audio(f"{root.name}/{label}/{label}.{k:05d}.wav", tone(6.0, freq=freq, seed=k))
    return root


def test_a_plan_trains_evaluates_and_writes_a_bundle(tmp_path, write_audio):
    data = _tone_root(tmp_path / "tones", write_audio)
    out = tmp_path / "bundle"
    logged, said = [], []
    plan = TrainPlan(data=[str(data)], families=["mlp"], out=out, splits=["kfold"], folds=2,
                     train_config=TrainConfig(epochs=3, seed=0),
                     cache=FeatureCache(tmp_path / "cache"), jobs=1, command="test")
    assert train(plan, log=logged.append, say=said.append) == out
    meta, report = read_bundle_meta(out)
    assert list(meta["models"]) == ["mlp"] and meta["labels"] == ["high", "low"]
    assert report["command"] == "test" and report["data"]["n_tracks"] == 8
    (ev,) = report["evaluations"]
    assert ev["split"] == "kfold" and ev["model"] == "mlp" and len(ev["per_track"]) == 8
    assert ev["views"]                                          # per-view figures are kept
    assert len(said) == 1 and "mlp" in said[0]
    assert any(line.startswith("bundle written to") for line in logged)
    answer = Predictor(out).predict(wav_bytes(tone(6.0, freq=3200)), name="high.wav")
    assert set(answer.models) == {"mlp"} and len(answer.models["mlp"].probabilities) == 2

    # figures only: the artist-free kfold again with another variant, models untouched
    before = (out / "mlp").stat().st_mtime_ns if (out / "mlp").exists() else None
    figures = TrainPlan(data=[str(data)], families=["mlp"], out=out, splits=["kfold"], folds=2,
                        variants=["plain"], final=False, train_config=TrainConfig(epochs=2),
                        cache=FeatureCache(tmp_path / "cache"), jobs=1)
    train(figures, log=logged.append, say=said.append)
    meta2, report2 = read_bundle_meta(out)
    assert meta2["models"] == meta["models"]
    assert sorted(e["variant"] for e in report2["evaluations"]) == ["corrected", "plain"]
    if before is not None:
        assert (out / "mlp").stat().st_mtime_ns == before


def test_a_plan_with_several_networks_records_them(tmp_path, write_audio):
    """`networks=2`: the evaluation and the bundle's entry say the model averages two
    networks (seeds 5 and 6), and the bundle predicts with the one saved model."""
    data = _tone_root(tmp_path / "tones", write_audio)
    out = tmp_path / "bundle"
    plan = TrainPlan(data=[str(data)], families=["mlp"], out=out, splits=["kfold"], folds=2,
                     train_config=TrainConfig(epochs=2, seed=5, networks=2),
                     cache=FeatureCache(tmp_path / "cache"), jobs=1)
    train(plan, log=lambda _: None, say=lambda _: None)
    meta, report = read_bundle_meta(out)
    (ev,) = report["evaluations"]
    assert ev["networks"] == 2
    assert meta["models"]["mlp"]["params"] == {"networks": 2}
    assert "the mean of 2 networks (seeds 5-6)" in report["models"]["mlp"]["trained_on"]
    answer = Predictor(out).predict(wav_bytes(tone(6.0, freq=150)), name="low.wav")
    assert len(answer.models["mlp"].probabilities) == 2


def test_a_plan_with_straddling_segments_records_them(tmp_path, write_audio):
    """`straddling=True`: the evaluation and the bundle's entry say the segment model also
    trained on the straddling units; a plan without it says nothing of them."""
    data = _tone_root(tmp_path / "tones", write_audio)
    for straddling in (True, False):
        out = tmp_path / f"bundle_{straddling}"
        plan = TrainPlan(data=[str(data)], families=["mlp"], out=out, splits=["kfold"],
                         folds=2, train_config=TrainConfig(epochs=2, straddling=straddling),
                         cache=FeatureCache(tmp_path / "cache"), jobs=1)
        train(plan, log=lambda _: None, say=lambda _: None)
        _, report = read_bundle_meta(out)
        (ev,) = report["evaluations"]
        assert ev.get("straddling") is (True if straddling else None)
        assert ("straddling" in report["models"]["mlp"]["trained_on"]) is straddling
