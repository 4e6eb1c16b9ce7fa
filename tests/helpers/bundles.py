"""Tiny model bundles built in seconds, and the check that decides whether the shipped one can
be used instead."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def build_tiny_bundle(out: str | os.PathLike, families=("mlp", "cnn"), seed: int = 0) -> Path:
    """A bundle fitted for one epoch on random MFCC blocks, with a synthetic but well-formed
    report (two splits, real GTZAN track ids so the artist index resolves): enough for every
    page to have something to draw, built in seconds instead of a training run."""
    from genre_core.config import GENRES, FeatureConfig, TrainConfig
    from genre_core.inference.bundle import save_bundle
    from genre_core.models import model_class
    from genre_core.training.evaluation import evaluate_predictions

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
    report = {"created": "test", "command": "tests/helpers/bundles.py build_tiny_bundle",
              "data": {"source": "synthetic", "n_tracks": len(ids), "genres": labels,
                       "track_ids": ids, "skipped": []},
              "train_config": tconf.to_dict(), "timings": {},
              "models": report_models, "evaluations": evaluations}
    return save_bundle(out, models, labels, config, report)


def _bundle_is_usable(folder: Path) -> bool:
    try:
        from genre_core.inference.bundle import read_bundle_meta

        meta, report = read_bundle_meta(folder)
        return bool(meta["models"]) and bool(report.get("evaluations"))
    except Exception:  # noqa: BLE001 - anything unusable means "build a tiny one"
        return False


def tiny_bundle(path: Path, families=("mlp",)) -> Path:
    """build_tiny_bundle with one MLP: the smallest bundle that loads and predicts."""
    return build_tiny_bundle(path, families=families)
