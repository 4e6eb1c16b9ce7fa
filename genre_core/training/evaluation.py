"""scikit-learn metrics over out-of-fold predictions, at segment and track level.

A track's prediction is the mean of its segments' probabilities."""
from __future__ import annotations

import numpy as np


def track_probabilities(unit_probs: np.ndarray) -> np.ndarray:
    return unit_probs.mean(axis=0)


def evaluate_predictions(labels: list[str], truth: dict[str, str],
                         unit_probs: dict[str, np.ndarray], evaluated_genres: list[str] | None = None,
                         folds: dict[str, int] | None = None) -> dict:
    """Metrics over the tracks in `unit_probs` whose true genre is in `evaluated_genres`.

    Returns a JSON-ready dict: segment/track accuracy, macro F1 (track level, over the
    evaluated genres), confusion matrices (rows true, columns predicted, all labels),
    per-genre precision/recall/F1 and per-track predictions.
    """
    from sklearn.metrics import (
        accuracy_score,
        classification_report,
        confusion_matrix,
        f1_score,
    )

    evaluated = list(evaluated_genres or labels)
    ids = sorted(i for i in unit_probs if truth[i] in evaluated)
    index = {g: k for k, g in enumerate(labels)}
    seg_true, seg_pred, trk_true, trk_pred, per_track = [], [], [], [], []
    for tid in ids:
        probs = np.asarray(unit_probs[tid])
        true = index[truth[tid]]
        seg_true += [true] * len(probs)
        seg_pred += list(probs.argmax(axis=1))
        p = track_probabilities(probs)
        trk_true.append(true)
        trk_pred.append(int(p.argmax()))
        per_track.append({
            "track": tid, "genre": truth[tid], "predicted": labels[int(p.argmax())],
            "confidence": float(p.max()), "correct": bool(p.argmax() == true),
            "probabilities": {g: round(float(v), 5) for g, v in zip(labels, p)},
            "segment_predictions": [labels[int(k)] for k in probs.argmax(axis=1)],
            **({"fold": folds[tid]} if folds and tid in folds else {}),
        })
    all_idx = list(range(len(labels)))
    eval_idx = [index[g] for g in evaluated]
    report = classification_report(trk_true, trk_pred, labels=eval_idx,
                                   target_names=evaluated, output_dict=True, zero_division=0)
    return {
        "n_tracks": len(ids),
        "n_segments": len(seg_true),
        "segment_accuracy": float(accuracy_score(seg_true, seg_pred)) if seg_true else 0.0,
        "track_accuracy": float(accuracy_score(trk_true, trk_pred)) if trk_true else 0.0,
        "macro_f1": float(f1_score(trk_true, trk_pred, labels=eval_idx, average="macro",
                                   zero_division=0)) if trk_true else 0.0,
        "balanced_accuracy": _balanced(trk_true, trk_pred),
        "evaluated_genres": evaluated,
        "track_confusion": confusion_matrix(trk_true, trk_pred, labels=all_idx).tolist(),
        "segment_confusion": confusion_matrix(seg_true, seg_pred, labels=all_idx).tolist(),
        "per_genre": {g: {k: float(report[g][k]) for k in ("precision", "recall", "f1-score",
                                                          "support")} for g in evaluated},
        "per_track": per_track,
    }


def _balanced(true: list, pred: list) -> float:
    """Mean recall over the genres present in `true` (a prediction of a genre absent from
    the view is simply wrong: sklearn's warning about it says nothing here)."""
    import warnings

    from sklearn.metrics import balanced_accuracy_score

    if not true:
        return 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return float(balanced_accuracy_score(true, pred))


def view_metrics(per_track: list[dict], view_of: dict[str, str]) -> dict[str, dict]:
    """The same predictions seen per view (GTZAN, real recordings, ...: inference.dataset.
    track_view): {view: n_tracks, track_accuracy, balanced_accuracy (mean recall over the
    genres present in the view), macro_f1}."""
    from sklearn.metrics import f1_score

    out = {}
    for view in sorted({view_of.get(r["track"], "unknown") for r in per_track}):
        rows = [r for r in per_track if view_of.get(r["track"], "unknown") == view]
        true, pred = [r["genre"] for r in rows], [r["predicted"] for r in rows]
        present = sorted(set(true))
        out[view] = {"n_tracks": len(rows),
                     "track_accuracy": float(np.mean([t == p for t, p in zip(true, pred)])),
                     "balanced_accuracy": _balanced(true, pred),
                     "macro_f1": float(f1_score(true, pred, labels=present, average="macro",
                                                zero_division=0))}
    return out


def summary_line(ev: dict) -> str:
    return (f"{ev['model']:<9} {ev.get('variant', ''):<10} {ev['split']:<9} "
            f"segment {ev['segment_accuracy']:6.1%}  track {ev['track_accuracy']:6.1%}  "
            f"macro-F1 {ev['macro_f1']:.3f}  "
            + (f"balanced {ev['balanced_accuracy']:6.1%}  " if "balanced_accuracy" in ev else "")
            + f"({ev['n_tracks']} tracks)"
            + "".join(f"\n    {view:<12} track {v['track_accuracy']:6.1%}  balanced "
                      f"{v['balanced_accuracy']:6.1%}  macro-F1 {v['macro_f1']:.3f}  "
                      f"({v['n_tracks']} tracks)" for view, v in ev.get("views", {}).items()
                      if len(ev.get("views", {})) > 1))
