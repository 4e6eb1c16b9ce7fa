"""Every Streamlit page rendered headless through streamlit.testing (AppTest): with and
without a dataset, with a clip chosen, and with a missing bundle."""
from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DATA_ROOT = Path(os.environ.get("GENRE_DATA_ROOT", HERE.parents[1] / "shared" / "gtzan"))
SHIPPED_BUNDLE = ROOT / "assets" / "models" / "default"
PAGES = ["home", "listen", "features", "compare", "confusion", "misclassified", "model_card"]


# ---------------------------------------------------------------- tiny bundle

def build_tiny_bundle(out: str | os.PathLike, families=("mlp", "cnn"), seed: int = 0) -> Path:
    """A bundle fitted for one epoch on random MFCC blocks, with a synthetic but well-formed
    report (two splits, real GTZAN track ids so the artist index resolves): enough for every
    page to have something to draw, built in seconds instead of a training run."""
    from genre_core.bundle import save_bundle
    from genre_core.config import GENRES, FeatureConfig, TrainConfig
    from genre_core.evaluation import evaluate_predictions
    from genre_core.models import model_class

    rng = np.random.default_rng(seed)
    config = FeatureConfig()
    labels = list(GENRES)
    frames = config.frames_per_segment
    X = rng.standard_normal((40, frames, config.n_mfcc)).astype(np.float32)
    y = np.arange(40) % len(labels)
    tconf = TrainConfig(epochs=2, batch_size=16, seed=seed)
    ids = [f"{g}.{i:05d}" for g in labels for i in range(8)]
    truth = {tid: tid.split(".")[0] for tid in ids}
    models, report_models, evaluations = {}, {}, []
    for family in families:
        model = model_class(family)(labels, "corrected")
        history = model.fit(X[:32], y[:32], X[32:], y[32:], tconf)
        models[family] = model
        report_models[family] = {"family": family, "variant": "corrected", "feature": "mfcc",
                                 "trained_on": "40 random MFCC blocks (test fixture)",
                                 "history": history, "train_seconds": 0.1}
        for split, desc in (("kfold", "2-fold stratified by track (synthetic)"),
                            ("artist", "artist-disjoint folds (synthetic)")):
            for variant in ("plain", "corrected"):
                probs = {}
                for tid in ids:
                    n = 10
                    logits = rng.standard_normal((n, len(labels)))
                    if rng.random() < 0.7:
                        logits[:, labels.index(truth[tid])] += 2.5
                    p = np.exp(logits)
                    probs[tid] = p / p.sum(axis=1, keepdims=True)
                folds = {tid: k % 2 for k, tid in enumerate(ids)}
                ev = evaluate_predictions(labels, truth, probs, labels, folds)
                ev.update(model=family, variant=variant, split=split, split_description=desc,
                          n_folds=2, learning_curves=[history, history], fit_seconds=[0.1, 0.1],
                          epochs=[len(history["loss"])] * 2, augmented=False)
                evaluations.append(ev)
    report = {"created": "test", "command": "tests/test_app.py build_tiny_bundle",
              "data": {"source": "synthetic", "n_tracks": len(ids), "genres": labels,
                       "track_ids": ids, "skipped": []},
              "train_config": tconf.to_dict(), "timings": {},
              "models": report_models, "evaluations": evaluations}
    return save_bundle(out, models, labels, config, report)
