"""The report's held-out figures in two views (GTZAN and real recordings) as the model card's
tables: each model's accuracy per view, and how Genre Studio's verdict reads per view (no
Streamlit here)."""
from __future__ import annotations

from collections.abc import Mapping

from studio.summaries import (
    ENSEMBLE,
    display_name,
    evaluations_for,
    preferred_evaluation,
    report_models,
    split_rank,
)

VIEW_NAMES = {"GTZAN": "GTZAN (unseen artists)", "realworld": "real recordings (unseen artists)"}


def _views_of(ev: Mapping) -> dict[str, Mapping]:
    """An evaluation's per-view figures; one made before views were recorded, on GTZAN
    tracks only, is its GTZAN view."""
    from genre_core.inference.track_views import GTZAN_ID, GTZAN_VIEW

    if ev.get("views"):
        return dict(ev["views"])
    tracks = [t["track"] for t in ev.get("per_track", [])]
    if tracks and all(GTZAN_ID.fullmatch(t) for t in tracks):
        return {GTZAN_VIEW: {"n_tracks": len(tracks), "track_accuracy": ev["track_accuracy"],
                             "balanced_accuracy": ev.get("balanced_accuracy"),
                             "macro_f1": ev.get("macro_f1", 0.0)}}
    return {}


def view_rows(report: Mapping, meta: Mapping | None = None) -> list[dict]:
    """Each model's held-out figures on each view (GTZAN, real recordings): the views of the
    evaluation preferred_evaluation picks, then a view it lacks from the model's other
    held-out figures (a GTZAN-trained model's predictions for real recordings by artists it
    never heard). Models without any view are left out."""
    rows = []
    for model in report_models(meta, report):
        variant = "calibrated" if model == ENSEMBLE else "corrected"
        best: Mapping | None = preferred_evaluation(report, model, variant)
        if best is None:
            continue
        views: dict[str, tuple[Mapping, Mapping]] = {}
        for ev in [best] + sorted(evaluations_for(report, model),
                                  key=lambda e: split_rank(e.get("split", ""))):
            if ev is not best and bool(ev.get("augmented")) != bool(best.get("augmented")):
                continue
            for view, fig in _views_of(ev).items():
                views.setdefault(view, (fig, ev))
        for view, (fig, ev) in views.items():
            balanced = fig.get("balanced_accuracy")
            rows.append({"model": display_name(model), "view": VIEW_NAMES.get(view, view),
                         "tracks": fig["n_tracks"],
                         "right (share of tracks)": round(fig["track_accuracy"], 3),
                         "balanced accuracy": None if balanced is None else round(balanced, 3),
                         "macro F1": round(fig["macro_f1"], 3),
                         "how": ev.get("split", "")})
    return rows


def verdict_rows(report: Mapping) -> list[dict]:
    """How Genre Studio's verdict reads on held-out tracks, per view: how often it names one
    genre, how often that genre is right, how often "not sure: A or B" holds the truth."""
    ev = preferred_evaluation(report, ENSEMBLE, "calibrated")
    rows = []
    for view, fig in ((ev or {}).get("verdict") or {}).items():
        def pct(x):
            return "-" if x is None else f"{x:.0%}"
        rows.append({"view": VIEW_NAMES.get(view, view), "tracks": fig["n_tracks"],
                     "names one genre": pct(fig["coverage"]),
                     "named genre right": pct(fig["selective_accuracy"]),
                     "truth in 'not sure: A or B'": pct(fig["top2_hit_rate"]),
                     "calibration error (ECE)": round(fig["ece"], 3)})
    return rows
