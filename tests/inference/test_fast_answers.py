"""The app's first answers: the fast models alone give the same numbers as the full run, and
the staged background prediction hands them over first and ends as predict_clip does."""
from __future__ import annotations

import numpy as np
import pytest

from tests.helpers.audio import tone, wav_bytes

pytestmark = pytest.mark.slow


def test_the_fast_models_answer_alone_and_as_in_the_full_prediction():
    """The app shows the segment networks' answers (MFCC and log-mel) first: the same numbers
    as the full run, with neither the slow inputs computed nor an ensemble that would lack
    its members."""
    from genre_core.inference.audio import load_audio
    from genre_core.inference.bundle import DEFAULT_BUNDLE
    from genre_core.inference.predict import Predictor

    if not (DEFAULT_BUNDLE / "bundle.json").exists():
        pytest.skip("no shipped bundle")
    p = Predictor(DEFAULT_BUNDLE)
    fast = p.fast_models()
    assert fast and all(p.bundle.feature_of(n) in ("mfcc", "logmel") for n in fast)
    assert "cnn_mel" in fast
    assert "musicnn4" not in fast and "features" not in fast
    clip = load_audio(wav_bytes(tone(9.0, freq=330)), p.config, name="t.wav")
    quick, full = p.predict_clip(clip, models=fast), p.predict_clip(clip)
    assert list(quick.models) == fast and "ensemble" in full.models
    assert not any(k.startswith(("extract:kaggle", "extract:musicnn")) for k in quick.timings)
    for n in fast:
        np.testing.assert_allclose(quick.models[n].segment_probabilities,
                                   full.models[n].segment_probabilities, atol=1e-6)


def test_a_staged_prediction_hands_over_the_fast_answers_first_and_ends_the_same():
    """The app's background prediction: every input computed once; the fast models' answers
    are handed over before the slow inputs are done; the end result equals predict_clip's."""
    from genre_core.inference.audio import load_audio
    from genre_core.inference.bundle import DEFAULT_BUNDLE
    from genre_core.inference.predict import Predictor

    if not (DEFAULT_BUNDLE / "bundle.json").exists():
        pytest.skip("no shipped bundle")
    p = Predictor(DEFAULT_BUNDLE)
    clip = load_audio(wav_bytes(tone(9.0, freq=330)), p.config, name="t.wav")
    handed = []
    staged = p.predict_staged(clip, handed.append)
    full = p.predict_clip(clip)
    (first,) = handed
    assert list(first.models) == p.fast_models() and "ensemble" not in first.models
    assert staged.verdict == full.verdict and list(staged.models) == list(full.models)
    for n, mp in full.models.items():
        np.testing.assert_allclose(staged.models[n].segment_probabilities,
                                   mp.segment_probabilities, atol=1e-6)
    assert {f"extract:{k}" for k in p.kinds} <= set(staged.timings)   # each input once


def test_the_verdict_is_handed_over_before_the_models_outside_the_ensemble():
    """With an ensemble of musicnn4 alone, the staged prediction hands over the calibrated
    verdict (and the domain judgement) before the table features are computed, the same as
    the whole prediction's."""
    from genre_core.inference.audio import load_audio
    from genre_core.inference.bundle import DEFAULT_BUNDLE
    from genre_core.inference.ensemble import Ensemble
    from genre_core.inference.predict import Predictor

    if not (DEFAULT_BUNDLE / "bundle.json").exists():
        pytest.skip("no shipped bundle")
    p = Predictor(DEFAULT_BUNDLE)
    ens = p.bundle.ensemble
    assert ens is not None and "features" in p.bundle.models
    p.bundle.ensemble = Ensemble(ens.labels, ["musicnn4"], [1.0], ens.temperature,
                                 unsure_below=ens.unsure_below)
    assert "features" not in p.verdict_models() and "musicnn4" in p.verdict_models()
    clip = load_audio(wav_bytes(tone(9.0, freq=330)), p.config, name="t.wav")
    firsts, verdicts, threads = [], [], {}
    features = p.features

    def spy(clip, timings=None, kinds=None):
        import threading

        threads.update(dict.fromkeys(kinds or [], threading.current_thread().name))
        return features(clip, timings, kinds)

    p.features = spy
    staged = p.predict_staged(clip, firsts.append, verdicts.append)
    (early,) = verdicts
    # what no verdict waits for runs in the process's one low-priority thread
    assert threads["kaggle"].startswith("genre-after-verdict")
    assert not threads["musicnn4"].startswith("genre-after-verdict")
    assert "ensemble" in early.models and "features" not in early.models
    assert "extract:kaggle" not in early.timings and "extract:kaggle" in staged.timings
    assert early.verdict == staged.verdict
    # the staged prediction reuses the early domain judgement: it is the whole prediction's
    full = p.predict_clip(clip)
    assert early.domain == staged.domain == full.domain and staged.verdict == full.verdict
    np.testing.assert_allclose(early.models["ensemble"].segment_probabilities,
                               staged.models["ensemble"].segment_probabilities, atol=1e-6)


def test_models_outside_the_verdict_load_when_asked():
    """verdict_first: the ensemble's members and the fast models load at once; the others
    (the table model: importing skops imports all of scikit-learn) start when first read or
    on start_deferred(), and then load as usual."""
    import json

    from genre_core.inference.bundle import DEFAULT_BUNDLE, load_bundle

    if not (DEFAULT_BUNDLE / "ensemble.json").exists():
        pytest.skip("no shipped bundle with an ensemble")
    ens = json.loads((DEFAULT_BUNDLE / "ensemble.json").read_text())
    outside = [n for n in json.loads((DEFAULT_BUNDLE / "bundle.json").read_text())["models"]
               if n not in ens["members"] and n not in ("mlp", "cnn", "cnn_mel", "lstm")]
    if not outside:
        pytest.skip("every slow model is in the shipped ensemble")
    bundle = load_bundle(DEFAULT_BUNDLE, lazy=True, verdict_first=True)
    for name in ens["members"]:
        bundle.models[name]
    assert not any(bundle.models.ready(n) for n in outside)
    bundle.models.start_deferred()
    for name in outside:
        assert bundle.models[name].predict_proba is not None
