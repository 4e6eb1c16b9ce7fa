"""The report's held-out figures in two views (GTZAN and real recordings) as the model card's
tables: each model's accuracy per view, and how Genre Studio's verdict reads per view (no
Streamlit here)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from genre_core.report import (
    SHIPPED,
    Evaluation,
    ReportLike,
    ViewFigures,
    as_report,
    split_rank,
)
from studio.summaries import ENSEMBLE, display_name, report_models

VIEW_NAMES = {"GTZAN": "GTZAN (unseen artists)", "realworld": "real recordings (unseen artists)"}


def named_views(per_view: Mapping[str, Any]) -> dict[str, Any]:
    """{view: x} keyed by the names a reader sees ("real recordings (unseen artists)")."""
    return {VIEW_NAMES.get(view, view): x for view, x in per_view.items()}


def _views_of(ev: Evaluation) -> dict[str, ViewFigures]:
    """An evaluation's per-view figures; one made before views were recorded, on GTZAN
    tracks only, is its GTZAN view."""
    from genre_core.inference.track_views import GTZAN_ID, GTZAN_VIEW

    if ev.views:
        return dict(ev.views)
    tracks = [t["track"] for t in ev.tracks]
    if tracks and all(GTZAN_ID.fullmatch(t) for t in tracks):
        return {GTZAN_VIEW: ViewFigures(n_tracks=len(tracks), track_accuracy=ev.track_accuracy,
                                        balanced_accuracy=ev.balanced_accuracy,
                                        macro_f1=ev.macro_f1 or 0.0)}
    return {}


def _round(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(x, digits)


def view_rows(report: ReportLike, meta: Mapping | None = None) -> list[dict]:
    """Each model's held-out figures on each view (GTZAN, real recordings): the views of the
    evaluation preferred_evaluation picks, then a view it lacks from the model's other
    held-out figures (a GTZAN-trained model's predictions for real recordings by artists it
    never heard). Models without any view are left out."""
    report = as_report(report)
    rows = []
    for model in report_models(meta, report):
        best = report.preferred_evaluation(model, "calibrated" if model == ENSEMBLE else SHIPPED)
        if best is None:
            continue
        views: dict[str, tuple[ViewFigures, Evaluation]] = {}
        for ev in [best] + sorted(report.evaluations_for(model), key=lambda e: split_rank(e.split)):
            if ev is not best and ev.is_augmented != best.is_augmented:
                continue
            for view, fig in _views_of(ev).items():
                views.setdefault(view, (fig, ev))
        for view, (fig, ev) in views.items():
            rows.append({"model": display_name(model), "view": VIEW_NAMES.get(view, view),
                         "tracks": fig.n_tracks,
                         "right (share of tracks)": _round(fig.track_accuracy),
                         "balanced accuracy": _round(fig.balanced_accuracy),
                         "macro F1": _round(fig.macro_f1),
                         "how": ev.split})
    return rows


def verdict_rows(report: ReportLike) -> list[dict]:
    """How Genre Studio's verdict reads on held-out tracks, per view: how often it names one
    genre, how often that genre is right, how often "not sure: A or B" holds the truth."""
    ev = as_report(report).preferred_evaluation(ENSEMBLE, "calibrated")

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x:.0%}"

    rows = []
    for view, fig in ((ev.verdict if ev is not None else None) or {}).items():
        rows.append({"view": VIEW_NAMES.get(view, view), "tracks": fig.n_tracks,
                     "names one genre": pct(fig.coverage),
                     "named genre right": pct(fig.selective_accuracy),
                     "truth in 'not sure: A or B'": pct(fig.top2_hit_rate),
                     "calibration error (ECE)": _round(fig.ece)})
    return rows


# what each model is, in a sentence a class can follow
PLAIN_WORDS = {
    "ensemble": "Genre Studio's answer: the models below that help, each weighted by how "
                "much it helps, and \"not sure\" when its confidence is too low.",
    "musicnn4": "Four networks trained on hundreds of thousands of songs to describe music "
                "(\"guitar\", \"fast\", \"jazz\"...); a small classifier turns what they hear "
                "into our ten genres.",
    "musicnn": "One of those networks alone, with its own small classifier.",
    "musicnn_tags": "The same four networks' own words, with no training on our music at all: "
                    "\"rock\", \"punk\" or \"hard rock\" count for rock, \"Hip-Hop\" for "
                    "hip-hop, and so on.",
    "cnn": "The classic study's convolutional network: it looks at 3-second pictures of the "
           "sound's timbre (MFCCs) for patterns.",
    "cnn_mel": "The same network looking at a finer picture of the sound (a mel spectrogram).",
    "mlp": "The classic study's simplest network: every MFCC number of a 3-second segment "
           "feeds one layer of neurons after another.",
    "lstm": "A network that listens to the MFCCs in order, remembering what came before.",
    "features": "57 numbers measured on the whole clip (tempo, brightness, loudness...) and a "
                "simple statistical classifier.",
}


def plain_rows(report: ReportLike, meta: Mapping | None = None) -> list[dict]:
    """One row per model for a teacher: what it is, and how often it is right on music it
    never heard, on GTZAN and on real recordings (per view_rows)."""
    report = as_report(report)
    by_model: dict[str, dict] = {}
    for row in view_rows(report, meta):
        entry = by_model.setdefault(row["model"], {"model": row["model"]})
        column = ("right on GTZAN" if row["view"].startswith("GTZAN")
                  else "right on " + row["view"].split(" (")[0])
        entry[column] = f"{row['right (share of tracks)']:.0%}"
    names = {display_name(m): m for m in report_models(meta, report)}
    order = sorted(by_model, key=lambda label: names.get(label) != ENSEMBLE)   # the answer first
    # the figures before the words, so a projector's width shows them without scrolling
    return [{"model": label, **{k: v for k, v in by_model[label].items() if k != "model"},
             "what it is": plain_words(names.get(label, ""), meta)} for label in order]


def plain_words(model: str, meta: Mapping | None = None) -> str:
    """What the model is, in a sentence or two; a model that averages several networks
    (bundle.json's params "networks") says so."""
    words = PLAIN_WORDS.get(model, "")
    entry = ((meta or {}).get("models") or {}).get(model) or {}
    networks = (entry.get("params") or {}).get("networks")
    if isinstance(networks, int) and networks > 1:
        words += (f" {networks} copies of it, each trained from its own random start, answer "
                  "together (their probabilities averaged).")
    return words


def not_sure_sentence(report: ReportLike, meta: Mapping | None = None) -> str | None:
    """What "not sure" means, with the fitted threshold and how the verdict did per view."""
    report = as_report(report)
    info = report.models.get(ENSEMBLE)
    threshold = None if info is None else info.unsure_below
    rows = verdict_rows(report)
    if threshold is None or not rows:
        return None
    top2 = "truth in 'not sure: A or B'"
    parts = [f"on {r['view']} it named one genre for {r['names one genre']} of the clips and "
             f"was right on {r['named genre right']} of those; when not sure, the true genre "
             f"was one of its two guesses {r[top2]} of the time" for r in rows]
    return (f"Genre Studio names one genre only when it is at least {threshold:.0%} confident "
            "(a level chosen so that a named genre is right about 9 times in 10); below that "
            "it says \"not sure: A or B\". Tested on music it never heard, " + "; ".join(parts)
            + ".")
