"""Fit model families on track features, cross-validated over a Split, and the final fit."""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from genre_core.config import TrainConfig
from genre_core.models import model_class
from genre_core.models.base import GenreModel
from genre_core.training.evaluation import evaluate_predictions
from genre_core.training.splits import Split
from genre_core.training.straddling import with_straddling


def stack(ids: list[str], features: dict[str, np.ndarray], genre_of: dict[str, str],
          labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Units of the given tracks and their genre indices (every unit inherits its track's)."""
    if not ids:
        return np.zeros((0,)), np.zeros((0,), int)
    X = np.concatenate([features[i] for i in ids])
    y = np.concatenate([[labels.index(genre_of[i])] * len(features[i]) for i in ids])
    return X, y.astype(np.int64)


def soft_targets(ids: list[str], features, genre_of, labels, teacher: dict[str, np.ndarray],
                 weight: float = 0.5) -> np.ndarray:
    """Per unit: (1 - weight) x the one-hot label + weight x the teacher's probabilities for
    that unit (Hinton et al. 2015, "Distilling the Knowledge in a Neural Network"). A
    teacher entry is either one vector for the whole track or one row per teacher unit."""
    eye = np.eye(len(labels), dtype=np.float32)
    rows = [(1 - weight) * eye[labels.index(genre_of[i])][None]
            + weight * _aligned(teacher[i], len(features[i])) for i in ids]
    return np.concatenate(rows).astype(np.float32) if rows else np.zeros((0, len(labels)))


def _aligned(teacher: np.ndarray, n_units: int) -> np.ndarray:
    """(n_units, n_labels) teacher probabilities: a track's vector repeated, or the
    teacher's own units (3-s patches) matched to the student's by position in the clip."""
    teacher = np.asarray(teacher, dtype=np.float32)
    if teacher.ndim == 1:
        return np.repeat(teacher[None], n_units, axis=0)
    index = np.minimum(np.arange(n_units) * len(teacher) // max(1, n_units), len(teacher) - 1)
    return teacher[index]


# A teacher's parameters where they differ from the family's defaults. musicnn4 teaches with
# its logistic-regression head: its probabilities are softer than the LDA head's without a
# patch temperature (median top probability 0.62 vs 0.86) and taught more. The CNN distilled
# per segment with the teacher at 80 %, 10 artist folds over both views: GTZAN 48.5 %, real
# 43.3 % taught by the logistic regression; 44.6 % and 37.5 % by the LDA head at patch
# temperature 1; 46.1 % and 44.2 % by the shipped LDA (temperature 4): real +1 clip, GTZAN -5.
TEACHER_PARAMS = {"musicnn4": {"head": "logreg", "temperature": 1.0}}


def teacher_probabilities(teacher_family: str, ids: list[str], teacher_features, genre_of,
                          labels, groups: dict[str, str], config: TrainConfig,
                          folds: int = 5) -> dict[str, np.ndarray]:
    """Out-of-fold probabilities of `ids` from the teacher family, one row per teacher unit
    (musicnn4: per 3-s patch, the same stretch of the clip as the student's 3-s segment),
    folds grouped by artist *within* these ids: a student fold's test tracks never shape its
    targets, and no training track's target comes from a teacher that saw it. Per segment,
    not the track's mean: each segment learns what the teacher heard in it (10 artist folds
    over both views, MLP: GTZAN 34.3 -> 37.7 %, real 34.6 -> 36.5 % against the track's
    mean)."""
    from sklearn.model_selection import GroupKFold

    ids = list(ids)
    out: dict[str, np.ndarray] = {}
    k = min(folds, len({groups[i] for i in ids}))
    for a, b in GroupKFold(k).split(ids, groups=[groups[i] for i in ids]):
        model, _, _ = fit_model(teacher_family, "corrected", [ids[j] for j in a], [],
                                teacher_features, genre_of, labels, config,
                                params=TEACHER_PARAMS.get(teacher_family))
        out.update(predict_tracks(model, [ids[j] for j in b], teacher_features))
    return out


def fit_model(family: str, variant: str, train_ids, valid_ids, features, genre_of, labels,
              config: TrainConfig, progress=False, augment=None,
              teacher=None, params: dict | None = None) -> tuple[GenreModel, dict, float]:
    """Fit one model; returns (model, history, seconds). `teacher(train_ids + valid_ids)`
    gives the teacher's probabilities (per unit or per track) to distil (soft targets) into
    the model; `params` overrides the family's defaults."""
    Xtr, ytr = stack(train_ids, features, genre_of, labels)
    Xva, yva = stack(valid_ids, features, genre_of, labels)
    if teacher is not None:
        if augment is not None:
            raise ValueError("distillation with augmentation is not supported")
        probs = teacher(list(train_ids) + list(valid_ids))
        ytr = soft_targets(list(train_ids), features, genre_of, labels, probs,
                           weight=config.distill_weight)
        yva = np.eye(len(labels), dtype=np.float32)[yva]
    if config.straddling and Xtr.ndim == 3:   # spectrogram blocks: training tracks only
        if augment is not None:
            raise ValueError("straddling segments with augmentation is not supported")
        n_before = len(Xtr)
        Xtr, ytr = with_straddling(list(train_ids), features, Xtr, ytr)
        config = same_steps(config, len(Xtr) / max(1, n_before))
    if augment is not None:   # training tracks only: test/valid units are never augmented
        n_before = len(Xtr)
        Xtr, ytr = augment(list(train_ids), Xtr, ytr,
                           {i: labels.index(genre_of[i]) for i in train_ids}, config.seed)
        config = same_steps(config, len(Xtr) / max(1, n_before))
    model = model_class(family)(labels, variant, params)
    start = time.perf_counter()
    history = model.fit(Xtr, ytr, Xva if len(valid_ids) else None,
                        yva if len(valid_ids) else None, config, progress=progress)
    return model, history, time.perf_counter() - start


def same_steps(config: TrainConfig, scale: float) -> TrainConfig:
    """The config for `scale` x as many training units: the same number of optimiser steps
    as without them (fewer, larger epochs; patience and warm-up shrunk alike)."""
    return replace(config, epochs=max(10, round(config.epochs / scale)),
                   patience=max(4, round(config.patience / scale)),
                   warmup_epochs=round(config.warmup_epochs / scale))


def predict_tracks(model: GenreModel, ids: list[str],
                   features: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Unit probabilities of every track, all units in one batched model call."""
    if not ids:
        return {}
    probs = model.predict_proba(np.concatenate([features[i] for i in ids]))
    bounds = np.cumsum([0] + [len(features[i]) for i in ids])
    return {tid: probs[a:b] for tid, a, b in zip(ids, bounds[:-1], bounds[1:])}


def fit_fold(family: str, variant: str, fold, features, genre_of, labels, config: TrainConfig,
             augment=None, teacher=None) -> tuple[dict[str, np.ndarray], dict, float]:
    """One fold of a cross-validation: fit on its train (+ valid for early stopping) tracks,
    predict its test tracks. Returns (test unit probabilities, history, fit seconds)."""
    train = [i for i in fold.train if i in features]
    valid = [i for i in fold.valid if i in features]
    test = [i for i in fold.test if i in features]
    assert not set(test) & (set(train) | set(valid)), "test track leaked into training"
    model, history, secs = fit_model(family, variant, train, valid, features, genre_of,
                                     labels, config, augment=augment, teacher=teacher)
    return predict_tracks(model, test, features), history, secs


def cv_evaluation(family: str, variant: str, split: Split, genre_of, labels,
                  folds: list[tuple[dict[str, np.ndarray], dict, float]],
                  augmented: bool) -> dict:
    """Metrics on the out-of-fold predictions of every fold of `split` (fit_fold's results, in
    fold order), with what the report keeps beside them."""
    oof = {tid: p for probs, _, _ in folds for tid, p in probs.items()}
    fold_of = {tid: k for k, (probs, _, _) in enumerate(folds) for tid in probs}
    result = evaluate_predictions(labels, genre_of, oof, split.evaluated_genres, fold_of)
    result.update(model=family, variant=variant, split=split.name,
                  split_description=split.description, n_folds=len(folds),
                  learning_curves=[h for _, h, _ in folds],
                  fit_seconds=[s for _, _, s in folds],
                  epochs=[len(h.get("loss", [])) for _, h, _ in folds], augmented=augmented)
    return result


def cross_validate(family: str, variant: str, split: Split, features, genre_of, labels,
                   config: TrainConfig, progress=False, augment=None, log=print,
                   teacher=None) -> dict:
    """Out-of-fold predictions for every test track of the split, then metrics on them."""
    folds = []
    for k, fold in enumerate(split.folds):
        folds.append(fit_fold(family, variant, fold, features, genre_of, labels, config,
                              augment=augment, teacher=teacher))
        if progress:
            probs, history, secs = folds[-1]
            log(f"  {family}/{variant} {split.name} fold {k + 1}/{len(split.folds)}: "
                f"{len(probs)} test tracks, {len(history.get('loss', []))} epochs, {secs:.1f} s")
    return cv_evaluation(family, variant, split, genre_of, labels, folds, augment is not None)
