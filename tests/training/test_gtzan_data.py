"""Tests on the real GTZAN clips beside the repo (run in CI: GENRE_REQUIRE_DATA=1)."""
import pytest

from genre_core.config import TrainConfig
from genre_core.inference.bundle import DEFAULT_BUNDLE
from genre_core.inference.cache import FeatureCache
from genre_core.inference.dataset import extract_dataset, index_dataset, load_artist_index
from genre_core.training.evaluation import evaluate_predictions
from genre_core.training.fitting import fit_model
from genre_core.training.splits import artist_split, kfold_split


def test_index_finds_100_clips_in_10_genres(gtzan):
    ds = index_dataset(gtzan)
    assert len(ds.tracks) == 100 and len(ds.genres) == 10 and not ds.skipped
    assert all(sum(t.genre == g for t in ds.tracks) == 10 for g in ds.genres)


def test_artist_index_and_split(gtzan):
    ds = index_dataset(gtzan)
    artists = load_artist_index(gtzan / "metadata" / "GTZANindex.txt")
    assert artists["reggae.00003"] == "bob marley"     # folded (artist_key) for grouping
    split = artist_split(ds.tracks, artists)
    assert set(split.evaluated_genres) == {"country", "disco", "hiphop", "jazz", "metal", "pop"}
    for f in split.folds:
        held = {artists.get(i, i) for i in f.test}
        assert not held & {artists.get(i) for i in f.train}


@pytest.mark.slow
def test_short_training_beats_chance_on_held_out_tracks(gtzan, tmp_path):
    ds = index_dataset(gtzan)
    feats, problems = extract_dataset(ds.tracks, "mfcc", cache=FeatureCache(), progress=False)
    assert not problems and len(feats) == 100
    genre_of = {t.id: t.genre for t in ds.tracks}
    labels = sorted(set(genre_of.values()))
    fold = kfold_split(ds.tracks, k=5).folds[0]
    model, history, _ = fit_model("mlp", "corrected", fold.train, fold.valid, feats, genre_of,
                                  labels, TrainConfig(epochs=15, learning_rate=5e-4))
    probs = {t: model.predict_proba(feats[t]) for t in fold.test}
    ev = evaluate_predictions(labels, genre_of, probs)
    assert ev["n_tracks"] == 20
    # chance is 10%; 20 held-out tracks whose segments were never trained on
    assert ev["track_accuracy"] >= 0.3, ev["track_accuracy"]


@pytest.mark.slow
def test_shipped_bundle_loads_predicts_and_reports_honest_splits(gtzan):
    from genre_core.inference.predict import Predictor

    if not (DEFAULT_BUNDLE / "bundle.json").exists():
        pytest.fail(f"shipped bundle missing at {DEFAULT_BUNDLE}")
    p = Predictor(DEFAULT_BUNDLE)
    assert {"mlp", "cnn"} <= set(p.bundle.models)
    pred = p.predict(gtzan / "Data" / "genres_original" / "metal" / "metal.00002.wav")
    for _name, mp in pred.models.items():
        assert mp.genre in p.labels
        assert abs(sum(mp.probabilities.values()) - 1) < 1e-4
    # the shipped figures are by artist (the honest split), on every genre, and the
    # ensemble's answer comes first
    artist = p.bundle.report.evaluations_for(split="artist")
    assert {e.model for e in artist} >= {"mlp", "cnn", "ensemble"}
    for e in artist:
        assert len(e.evaluated_genres or []) == 10 and (e.n_tracks or 0) >= 200
    assert list(pred.models)[0] == "ensemble"
