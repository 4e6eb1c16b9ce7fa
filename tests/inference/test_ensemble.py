"""The calibrated ensemble: weights, temperature, nested evaluation, persistence, and its
place in the bundle, predict and the command line."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from genre_core.errors import GenreError
from genre_core.inference.ensemble import (
    Ensemble,
    expected_calibration_error,
    fit_floor,
    fit_temperature,
    highest_answer,
    negative_log_likelihood,
    verdict,
    with_floor,
)
from genre_core.training.ensemble import cross_validate_ensemble

LABELS = ["a", "b", "c", "d"]


def _members(n=400, seed=0, sharp=6.0):
    """'good' knows the label (overconfidently), 'noise' knows nothing."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    right = rng.random(n) < 0.75          # good is right on 75 % of tracks...
    guess = np.where(right, y, (y + rng.integers(1, 4, n)) % 4)
    logits = rng.normal(0, 0.3, (n, 4))
    logits[np.arange(n), guess] += sharp  # ...but ~99 % sure every time
    good = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    noise = rng.dirichlet(np.ones(4), n)
    return {"good": good, "noise": noise}, y


def test_weights_favour_the_informative_member():
    oof, y = _members()
    ens = Ensemble.fit(LABELS, oof, y, min_weight=0.0)
    w = dict(zip(ens.members, ens.weights))
    assert w["good"] > 0.8 > w["noise"]
    assert abs(sum(ens.weights) - 1) < 1e-9


def test_a_member_with_a_negligible_weight_is_left_out():
    """Below MIN_WEIGHT a member moves no verdict but its input would delay every verdict:
    it is dropped and the others refitted."""
    from genre_core.inference.ensemble import MIN_WEIGHT

    oof, y = _members()
    full = Ensemble.fit(LABELS, oof, y, min_weight=0.0)
    assert dict(zip(full.members, full.weights))["noise"] < MIN_WEIGHT
    pruned = Ensemble.fit(LABELS, oof, y)
    assert pruned.members == ["good"] and pruned.weights == [1.0]
    probs = pruned.predict_proba({"good": oof["good"][:5]})      # no 'noise' input needed
    assert probs.shape == (5, 4)


def test_temperature_scaling_fixes_overconfidence():
    oof, y = _members()
    z = np.log(oof["good"])
    t = fit_temperature(z, y)
    assert t > 1.5                         # overconfident -> softened
    before = expected_calibration_error(oof["good"], y)
    after_probs = np.exp(z / t) / np.exp(z / t).sum(1, keepdims=True)
    assert expected_calibration_error(after_probs, y) < before / 2


def test_a_few_confidently_wrong_tracks_do_not_decide_the_temperature():
    """A well-calibrated member plus 3 % of tracks it gets wrong at 0.99999: the log-loss
    would soften every answer to pay for those few (T well above 1); the Brier score, which
    fits T, leaves the calibrated member nearly as it is and keeps its ECE low."""
    rng = np.random.default_rng(7)
    n, k = 600, len(LABELS)
    y = rng.integers(0, k, n)
    conf = rng.uniform(0.4, 0.95, n)                 # calibrated: right with probability conf
    right = rng.random(n) < conf
    pred = np.where(right, y, (y + rng.integers(1, k, n)) % k)
    probs = np.full((n, k), 0.0)
    probs[np.arange(n), pred] = conf
    rest = (1 - conf) / (k - 1)
    probs += np.where(probs == 0, rest[:, None], 0.0)
    wild = rng.choice(np.flatnonzero(~right), 18, replace=False)
    probs[wild] = 1e-6 / (k - 1)
    probs[wild, pred[wild]] = 1 - 1e-6
    z = np.log(probs)
    t = fit_temperature(z, y)
    assert 0.8 < t < 1.3
    calibrated = np.exp(z / t) / np.exp(z / t).sum(1, keepdims=True)
    assert expected_calibration_error(calibrated, y) < 0.06


def _saturated(n=500, right_share=0.9, seed=3):
    """A member whose every answer reads 1 - 1e-6 (as musicnn4's LDA head's often do) but is
    right only `right_share` of the time, plus its labels."""
    rng = np.random.default_rng(seed)
    k = len(LABELS)
    y = rng.integers(0, k, n)
    pred = np.where(rng.random(n) < right_share, y, (y + rng.integers(1, k, n)) % k)
    probs = np.full((n, k), 1e-6 / (k - 1))
    probs[np.arange(n), pred] = 1 - 1e-6
    return probs, y


def test_the_floor_caps_saturated_answers_and_keeps_every_ranking():
    """Answers that all read ~100 % but are right 9 times in 10: the fitted floor brings
    them down to about 90 %, and no genre changes place."""
    probs, y = _saturated()
    floor = fit_floor(probs, y)
    floored = with_floor(probs, floor)
    k = len(LABELS)
    assert floored.max() <= highest_answer(floor, k) + 1e-12
    assert abs(floored.max(1).mean() - (probs.argmax(1) == y).mean()) < 0.03
    assert (np.argsort(floored, 1) == np.argsort(probs, 1)).all()
    assert expected_calibration_error(floored, y) < expected_calibration_error(probs, y) / 3


def _calibrated(n=800, seed=11):
    """A member right with probability equal to its top probability (0.4-0.95)."""
    rng = np.random.default_rng(seed)
    k = len(LABELS)
    y = rng.integers(0, k, n)
    conf = rng.uniform(0.4, 0.95, n)
    pred = np.where(rng.random(n) < conf, y, (y + rng.integers(1, k, n)) % k)
    probs = np.tile(((1 - conf) / (k - 1))[:, None], (1, k))
    probs[np.arange(n), pred] = conf
    return probs, y


def test_a_calibrated_member_is_left_almost_without_floor():
    probs, y = _calibrated()
    assert fit_floor(probs, y) < 0.03


def test_the_fitted_ensemble_applies_its_floor_after_the_temperature(tmp_path):
    """Mostly calibrated answers plus a share that saturate (musicnn4's case): the temperature
    stays near 1 for the many and the floor caps the few."""
    calibrated, y1 = _calibrated()
    saturated, y2 = _saturated(n=300)
    probs, y = np.concatenate([calibrated, saturated]), np.concatenate([y1, y2])
    ens = Ensemble.fit(LABELS, {"m": probs}, y)
    assert 0.8 < ens.temperature < 1.2 and ens.floor > 0.04
    out = ens.predict_proba({"m": probs})
    raw = ens.predict_proba({"m": probs}, calibrated=False)
    assert out.max() <= highest_answer(ens.floor, len(LABELS)) + 1e-9 < raw.max()
    assert (out.argmax(1) == raw.argmax(1)).all()
    sat = slice(len(y1), None)              # the saturated answers: right 9 times in 10
    right = (raw[sat].argmax(1) == y2).mean()
    assert abs(out[sat].max(1).mean() - right) < abs(raw[sat].max(1).mean() - right) / 2
    assert negative_log_likelihood(out, y) < negative_log_likelihood(raw, y)
    ens.save(tmp_path)
    assert Ensemble.load(tmp_path).floor == pytest.approx(ens.floor)


def test_an_ensemble_file_without_a_floor_loads_with_none_and_a_wrong_one_is_refused(tmp_path):
    oof, y = _members(n=100)
    ens = Ensemble.fit(LABELS, oof, y)
    ens.save(tmp_path)
    data = json.loads((tmp_path / "ensemble.json").read_text())
    del data["floor"]                               # a file written before the floor
    (tmp_path / "ensemble.json").write_text(json.dumps(data))
    assert Ensemble.load(tmp_path).floor == 0.0
    data["floor"] = 0.9
    (tmp_path / "ensemble.json").write_text(json.dumps(data))
    with pytest.raises(GenreError, match="inconsistent"):
        Ensemble.load(tmp_path)


def test_nested_evaluation_scores_held_out_groups_and_calibrates():
    oof, y = _members(n=300, seed=1)
    groups = [f"artist{i % 30}" for i in range(len(y))]
    res = cross_validate_ensemble(LABELS, oof, y, groups, n_folds=5)
    acc = (res["calibrated"].argmax(1) == y).mean()
    assert 0.65 < acc < 0.85               # about the good member's 75 %, no leakage bonus
    assert res["ece_after"] < res["ece_before"]


def test_verdict_says_when_unsure():
    assert verdict({"rock": 0.82, "metal": 0.1, "pop": 0.08}) == "rock, 82%"
    v = verdict({"rock": 0.41, "metal": 0.38, "pop": 0.21})
    assert v.startswith("not sure: rock or metal")


def test_headline_asserts_no_genre_for_what_is_not_music():
    """The verdict is computed after the prediction's domain judgement: a clip that is not
    music never gets a genre asserted, on any surface that shows Prediction.verdict."""
    from types import SimpleNamespace

    from genre_core.inference.audio import Clip
    from genre_core.inference.predict import ModelPrediction, Prediction
    from studio.summaries import headline

    mp = ModelPrediction("classical", {"classical": 0.62, "jazz": 0.38}, np.zeros((1, 2)), [0.0])
    clip = Clip(np.zeros(100, np.float32), 22050, "x.wav", 1.0, 22050, 1)
    prediction = Prediction(clip, ["classical", "jazz"], {"ensemble": mp})
    assert headline(prediction) == "Genre Studio says: classical, 62%"
    prediction.domain = SimpleNamespace(not_music=False, messages=lambda: [])
    assert headline(prediction) == "Genre Studio says: classical, 62%"
    prediction.domain = SimpleNamespace(not_music=True, messages=lambda: ["steady"])
    assert headline(prediction) == (
        "Genre Studio says: not music it knows (best guess: classical, 62%)")
    assert prediction.to_json()["verdict"].startswith("not music it knows")
    assert headline(Prediction(clip, ["classical", "jazz"], {"mlp": mp})) is None


def test_save_load_roundtrip_is_json(tmp_path):
    oof, y = _members(n=100)
    ens = Ensemble.fit(LABELS, oof, y, min_weight=0.0)     # keep both members
    ens.save(tmp_path)
    data = json.loads((tmp_path / "ensemble.json").read_text())
    assert data["members"] == ["good", "noise"]
    back = Ensemble.load(tmp_path)
    np.testing.assert_allclose(back.predict_proba(oof), ens.predict_proba(oof))
    with pytest.raises(GenreError, match="needs the models noise"):
        back.predict_proba({"good": oof["good"]})


def test_corrupt_ensemble_file_is_a_genre_error(tmp_path):
    (tmp_path / "ensemble.json").write_text("[1, 2")
    with pytest.raises(GenreError, match="ensemble.json"):
        Ensemble.load(tmp_path)


@pytest.fixture(scope="module")
def bundle_with_ensemble(tmp_path_factory):
    """A copy of the shipped bundle with an ensemble learned from its own report."""
    from genre_core.inference.bundle import DEFAULT_BUNDLE

    out = tmp_path_factory.mktemp("ens") / "bundle"
    shutil.copytree(DEFAULT_BUNDLE, out)
    (out / "ensemble.json").unlink(missing_ok=True)
    r = subprocess.run([sys.executable, "-m", "genre_core", "train-ensemble", "--bundle",
                        str(out), "--folds", "5"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "held-out track accuracy" in r.stdout
    return out


@pytest.mark.slow
def test_train_ensemble_writes_weights_and_held_out_figures(bundle_with_ensemble):
    from genre_core.inference.bundle import read_bundle_meta

    meta, report = read_bundle_meta(bundle_with_ensemble)
    ens = Ensemble.load(bundle_with_ensemble)
    assert set(ens.members) <= set(meta["models"])
    ev = [e for e in report["evaluations"] if e["model"] == "ensemble"][-1]
    assert ev["n_tracks"] >= 20 and 0 <= ev["ece_after"] <= 1
    assert len(ev["per_track"]) == ev["n_tracks"]


@pytest.mark.slow
def test_predictor_answers_with_the_ensemble_first(bundle_with_ensemble, tmp_path):
    from genre_core.inference.predict import Predictor
    from tests.helpers.audio import tone, wav_bytes

    pred = Predictor(bundle_with_ensemble).predict(wav_bytes(tone(7.0)), name="tone.wav")
    assert list(pred.models)[0] == "ensemble"
    ens = pred.models["ensemble"]
    assert abs(sum(ens.probabilities.values()) - 1) < 1e-4
    assert ens.segment_probabilities.shape[1] == len(pred.labels)
    assert "verdict" in pred.to_json()
    # a bundle loaded without one of the members has no ensemble (it could not be computed)
    only = Predictor(bundle_with_ensemble, ["mlp"])
    assert "ensemble" not in only.predict(wav_bytes(tone(4.0)), name="t.wav").models
