"""tools/device_cv.py computes what `train`'s cross-validation computes, from a pack."""
from __future__ import annotations

import numpy as np

from genre_core.config import TrainConfig
from genre_core.training.fitting import cross_validate
from genre_core.training.splits import Fold, Split
from tools import device_cv

LABELS = ["blues", "jazz", "rock"]


def _tiny_problem():
    rng = np.random.default_rng(0)
    genre_of = {f"{g}.{i:05d}": g for g in LABELS for i in range(6)}
    feats = {tid: (rng.normal(size=(3, 20, 13)) + 1.5 * LABELS.index(g)).astype(np.float32)
             for tid, g in genre_of.items()}
    ids = sorted(genre_of)
    folds = []
    for k in range(2):      # two folds, each testing every other track of each genre
        test = [t for t in ids if int(t[-1]) % 2 == k]
        rest = [t for t in ids if t not in test]
        folds.append(Fold(train=rest[2:], valid=rest[:2], test=test))
    split = Split("artist", "two test folds", folds, LABELS)
    return genre_of, feats, split


def test_a_packed_run_gives_the_figures_of_train_cross_validation(tmp_path):
    genre_of, feats, split = _tiny_problem()
    tconf = TrainConfig(epochs=3, patience=2, warmup_epochs=0, seed=7)
    device_cv.write_pack(tmp_path, {"mfcc": feats},
                         {"mlp": {"variant": "corrected", "kind": "mfcc", "copies": None}},
                         LABELS, genre_of, tconf, split)

    ev = device_cv.evaluate_family(str(tmp_path), "mlp", workers=0, machine="this test")
    ref = cross_validate("mlp", "corrected", split, feats, genre_of, LABELS, tconf)

    assert ev["n_tracks"] == ref["n_tracks"] == 18 and ev["n_folds"] == 2
    assert ev["track_accuracy"] == ref["track_accuracy"]
    assert ev["segment_accuracy"] == ref["segment_accuracy"]
    got = {t["track"]: t for t in ev["per_track"]}
    for t in ref["per_track"]:
        assert got[t["track"]]["predicted"] == t["predicted"]
        assert got[t["track"]]["fold"] == t["fold"]
        np.testing.assert_allclose([got[t["track"]]["probabilities"][g] for g in LABELS],
                                   [t["probabilities"][g] for g in LABELS], atol=1e-4)
    assert ev["computed_on"] == "this test" and ev["split"] == "artist"


def test_mel_blocks_travel_in_steps_of_a_third_of_a_decibel(tmp_path):
    rng = np.random.default_rng(1)
    mel = {f"jazz.{i:05d}": rng.uniform(-80, 0, size=(2, 130, 64)).astype(np.float32)
           for i in range(3)}
    genre_of = dict.fromkeys(mel, "jazz")
    split = Split("artist", "none", [], ["jazz"])
    device_cv.write_pack(tmp_path, {"logmel": mel},
                         {"cnn_mel": {"variant": "corrected", "kind": "logmel", "copies": None}},
                         ["jazz"], genre_of, TrainConfig(), split)
    with np.load(tmp_path / "features.npz") as f:
        assert all(f[k].dtype == np.uint8 for k in f.files)
    _, by_kind = device_cv._load(tmp_path)
    worst = max(np.abs(by_kind["logmel"][t] - mel[t]).max() for t in mel)
    assert 0 < worst <= device_cv.STEP / 2 + 1e-5
