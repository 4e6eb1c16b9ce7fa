"""What the app's pages say, computed (no Streamlit here, so everything shown is
unit-tested): display names and sentences about a prediction, the bundle's report as rows
and tables (held-out figures, confusion cells, misclassified tracks, learning curves), and
dataset lookups. The pages only lay these out. (Just over 400 lines on purpose: every
page's wording and tables in one module, so a page imports one name for what it says;
user-text escaping is in studio.escape, the views' rows in studio.view_data.)"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from genre_core.inference.audio import clock
from genre_core.inference.ensemble import highest_answer
from genre_core.report import (
    SHIPPED,
    Evaluation,
    Report,
    ReportLike,
    TrackResult,
    as_report,
    split_rank,
)

DISPLAY_NAMES = {"mlp": "MLP", "cnn": "CNN", "cnn_mel": "CNN on mel spectrogram", "lstm": "LSTM",
                 "features": "Features table",
                 "musicnn": "musicnn",
                 "musicnn4": "musicnn x4 (MSD/MTT, musicnn/vgg)",
                 "musicnn_tags": "musicnn's own tags (no training)",
                 "ensemble": "Genre Studio (calibrated ensemble)"}
ENSEMBLE = "ensemble"
APP_INTRO = (
    "Genre Studio guesses the musical genre of a short audio clip with several models "
    "trained on the GTZAN collection (ten genres, 30-second excerpts) and, for its main "
    "answer, on real commercial recordings too. "
    "It cuts the clip into 3-second segments, turns each into features such as MFCCs, lets "
    "every model vote on each segment and averages the votes into one answer per model. "
    "The other pages show the features the models see, where the models disagree, and how "
    "well they did on tracks they were never trained on."
)


def display_name(model: str) -> str:
    """'mlp' -> 'MLP'; unknown names pass through."""
    return DISPLAY_NAMES.get(model, model)


# ---------------------------------------------------------------- predictions

def _genres_of(prediction) -> dict[str, str]:
    """The individual models' answers (the ensemble is their combination, not a voter)."""
    if isinstance(prediction, Mapping):
        return {k: (v if isinstance(v, str) else v.genre) for k, v in prediction.items()
                if k != ENSEMBLE}
    return {name: mp.genre for name, mp in prediction.models.items() if name != ENSEMBLE}


def headline(prediction) -> str | None:
    """'Genre Studio says: rock, 82%' (or 'not sure: rock or metal ...', or 'not music it
    knows (best guess: ...)' when the prediction's domain judgement says so) when the bundle
    has the calibrated ensemble; None otherwise."""
    verdict = prediction.verdict
    return None if verdict is None else f"Genre Studio says: {verdict}"


def calibration_summary(report: ReportLike) -> dict | None:
    """The ensemble's held-out figures: accuracy, ECE before/after calibration (temperature
    and floor), reliability bins, member weights; None when the bundle has no ensemble."""
    report = as_report(report)
    ev = report.preferred_evaluation(ENSEMBLE, "calibrated")
    info = report.models.get(ENSEMBLE)
    if ev is None or info is None:
        return None
    return {"track_accuracy": ev.track_accuracy, "macro_f1": ev.macro_f1,
            "n_tracks": ev.n_tracks, "split": ev.split,
            "split_description": ev.split_description or "",
            "ece_before": ev.ece_before, "ece_after": ev.ece_after,
            "reliability_before": ev.reliability_before or [],
            "reliability_after": ev.reliability_after or [],
            "reliability_views": ev.reliability_views or {},
            "weights": info.weights or {}, "temperature": info.temperature,
            "floor": info.floor or 0.0,
            "max_answer": highest_answer(info.floor or 0.0, len(report.genres))}


def agreement_sentence(prediction) -> str:
    """One line a class can read aloud: 'Both models say rock.' / 'MLP says rock, CNN says
    metal.' Accepts a Prediction or {model: genre}."""
    genres = _genres_of(prediction)
    if not genres:
        return "No model made a prediction."
    if len(genres) == 1:
        (name, genre), = genres.items()
        return f"{display_name(name)} says {genre}."
    distinct = set(genres.values())
    if len(distinct) == 1:
        genre = next(iter(distinct))
        who = "Both models" if len(genres) == 2 else f"All {len(genres)} models"
        return f"{who} say {genre}."
    counts = Counter(genres.values())
    top, n = counts.most_common(1)[0]
    parts = ", ".join(f"{display_name(m)} says {g}" for m, g in genres.items())
    if n > 1 and n > len(genres) / 2:
        return f"The models disagree, {n} of {len(genres)} say {top}: {parts}."
    return f"The models disagree: {parts}."


def agreement_line(prediction) -> str:
    """The short line under the verdict, readable from the back of a classroom: '4 of 6
    models agree: rock', 'All 6 models agree: rock', 'No majority: rock 2, metal 2, jazz 2'.
    The ensemble is their combination, not a voter."""
    genres = _genres_of(prediction)
    if not genres:
        return "No model made a prediction."
    counts = Counter(genres.values()).most_common()
    top, n = counts[0]
    if n == len(genres):
        return f"All {n} models agree: {top}" if n > 1 else f"{display_name(next(iter(genres)))}: {top}"
    if n > len(genres) / 2 or (n > 1 and n > counts[1][1]):
        return f"{n} of {len(genres)} models agree: {top}"
    return "No majority: " + ", ".join(f"{g} {k}" for g, k in counts)


def top_k_rows(model_prediction, k: int = 3) -> list[dict]:
    """[{'rank', 'genre', 'probability'}] for a ModelPrediction."""
    return [{"rank": i + 1, "genre": g, "probability": round(float(p), 4)}
            for i, (g, p) in enumerate(model_prediction.top(k))]


def clip_facts(clip) -> dict[str, str]:
    """What a person wants to know about the file, formatted."""
    facts = {"duration": f"{clip.duration:.2f} s",
             "sample rate": f"{clip.original_rate:,} Hz",
             "channels": {1: "1 (mono)", 2: "2 (stereo)"}.get(clip.channels, str(clip.channels)),
             "analysed": f"{clip.loaded_seconds:.1f} s"}
    return facts


def excerpt_note(clip) -> str:
    """Which part of a long file the models heard (its middle, not its intro)."""
    start, end = clip.offset, clip.offset + clip.loaded_seconds
    where = "its start" if start == 0 else "its middle"
    return (f"This {clock(clip.duration)} file is analysed from {clock(start)} to {clock(end)} "
            f"({clip.loaded_seconds:.0f} s from {where}); the player starts there.")


def segment_count(clip, config) -> int:
    """How many 3-s segments the models see (at least one: short clips are padded)."""
    return max(1, int(len(clip.samples) // config.segment_samples))


# ---------------------------------------------------------------- the bundle's report
# Each function takes the bundle's report as a genre_core.report.Report (the pages read it so)
# or as report.json's object (the Streamlit glue passes state.bundle_meta()'s as it is), and
# asks it through Report's methods.

def evaluations_for(report: ReportLike, model: str | None = None, split: str | None = None,
                    variant: str | None = None) -> list[Evaluation]:
    """The report's evaluations, optionally filtered by model, split and variant."""
    return as_report(report).evaluations_for(model, split, variant)


def preferred_evaluation(report: ReportLike, model: str, variant: str | None = SHIPPED,
                         split: str | None = None) -> dict | None:
    """Report.preferred_evaluation as report.json's object, for the Streamlit glue
    (studio/sections.py), which still reads an evaluation as a dict; the pages and this
    module ask the Report."""
    ev = as_report(report).preferred_evaluation(model, variant, split)
    return None if ev is None else ev.to_dict()


def report_models(meta: Mapping | None, report: ReportLike) -> list[str]:
    """Model names: the bundle's, then any others the report evaluated or describes, in
    first-seen order."""
    names = list((meta or {}).get("models", {}))
    names += [n for n in as_report(report).model_names() if n not in names]
    return [n for n in names if n]


def evaluated_models(meta: Mapping | None, report: ReportLike) -> list[str]:
    """The models that have held-out figures in the report (the ones worth a matrix or a
    misclassified list)."""
    report = as_report(report)
    return [m for m in report_models(meta, report) if report.evaluations_for(m)]


def answer_model(report: ReportLike, among: Sequence[str]) -> str | None:
    """The model a view opens on: Genre Studio's answer (the ensemble) when it is among the
    choices; else the ensemble member that carries most of its answer (largest weight);
    else the first choice."""
    if not among:
        return None
    if ENSEMBLE in among:
        return ENSEMBLE
    ensemble = as_report(report).models.get(ENSEMBLE)
    weights = (ensemble.weights if ensemble is not None else None) or {}
    carriers = sorted((m for m in among if m in weights), key=lambda m: -weights[m])
    return carriers[0] if carriers else among[0]


def bundle_labels(meta: Mapping | None, report: ReportLike) -> list[str]:
    return list((meta or {}).get("labels") or as_report(report).genres)


def home_summary(meta: Mapping, report: ReportLike) -> list[dict]:
    """One row per loaded model: its track-level accuracy and the split it was measured on
    (artist split preferred, then filtered, then k-fold)."""
    report = as_report(report)
    # (name, family, variant, feature): the ensemble (from the report), then bundle.json's
    models = [(name, entry.get("family", name), entry.get("variant"), entry.get("feature", ""))
              for name, entry in (meta or {}).get("models", {}).items()]
    ensemble = report.models.get(ENSEMBLE)
    if ensemble is not None and ensemble.to_dict():      # (an empty entry is no ensemble)
        models = [(ENSEMBLE, ensemble.family or ENSEMBLE, ensemble.variant,
                   "the models' probabilities")] + [m for m in models if m[0] != ENSEMBLE]
    rows = []
    for name, family, variant, feature in models:
        ev = report.preferred_evaluation(name, "corrected" if variant is None else variant)
        rows.append({
            "model": display_name(name),
            "family": family,
            "variant": "" if variant is None else variant,
            "feature": feature,
            "track accuracy": None if ev is None else round(float(ev.track_accuracy or 0.0), 4),
            "macro F1": None if ev is None else round(float(ev.macro_f1 or 0.0), 4),
            "measured on": "not evaluated" if ev is None else
            f"{ev.split} split ({ev.track_count} tracks)",
            "split": None if ev is None else ev.split,
            "split description": "" if ev is None else ev.split_description or "",
        })
    return rows


def confusion_for(evaluation: Evaluation, level: str = "track") -> np.ndarray:
    """The evaluation's confusion matrix ('track' or 'segment'), rows true, cols predicted."""
    return np.asarray(evaluation.confusion(level), dtype=int)


def cell_rows(tracks: Iterable[TrackResult],
              track_index: Mapping[str, tuple[str, str]] | None = None) -> list[dict]:
    """Table rows for a confusion-matrix cell: track, artist, title, confidence, fold."""
    rows = []
    for t in tracks:
        artist, title = (track_index or {}).get(t["track"], ("", ""))
        rows.append({"track": t["track"], "artist": artist or "unknown",
                     "title": title or "unknown", "true genre": t["genre"],
                     "predicted": t["predicted"], "confidence": round(float(t["confidence"]), 3),
                     **({"fold": t["fold"]} if "fold" in t else {})})
    return rows


def per_genre_rows(evaluation: Evaluation) -> list[dict]:
    return [{"genre": g, "precision": round(v["precision"], 3), "recall": round(v["recall"], 3),
             "F1": round(v["f1-score"], 3), "support": int(v["support"])}
            for g, v in (evaluation.per_genre or {}).items()]


def _shared_split(report: Report, models: Sequence[str]) -> str | None:
    """The most telling split every one of `models` was evaluated on (None: there is none)."""
    shared: set[str] | None = None
    for m in models:
        splits = {ev.split for ev in report.evaluations_for(m)}
        shared = splits if shared is None else shared & splits
    return min(shared, key=split_rank) if shared else None


def misclassified_table(report: ReportLike,
                        track_index: Mapping[str, tuple[str, str]] | None = None,
                        split: str | None = None, models: list[str] | None = None):
    """A pandas DataFrame with one row per track that at least one model got wrong on held-out
    data: track, artist, title, true genre, then each model's prediction and confidence.
    Each model's figures come from its preferred evaluation on `split` (or the best split
    available to every model)."""
    import pandas as pd

    report = as_report(report)
    models = models or report_models(None, report)
    models = sorted(models, key=lambda m: m != ENSEMBLE)        # Genre Studio's answer first
    audio = set(report.track_ids)
    if split is None:
        split = _shared_split(report, models)
    per_model: dict[str, dict[str, TrackResult]] = {}
    for m in models:
        ev = report.preferred_evaluation(m, split=split)
        if ev is not None:
            per_model[m] = {t["track"]: t for t in ev.tracks}
    # tracks with audio only (the table model's CV also scores Kaggle rows with no audio here)
    wrong = sorted({tid for tracks in per_model.values() for tid, t in tracks.items()
                    if not t.get("correct") and (not audio or tid in audio)})
    rows = []
    for tid in wrong:
        any_entry = next(t[tid] for t in per_model.values() if tid in t)
        artist, title = (track_index or {}).get(tid, ("", ""))
        row: dict[str, Any] = {"track": tid, "artist": artist or "unknown",
                               "title": title or "unknown", "true genre": any_entry["genre"]}
        for m, tracks in per_model.items():
            t = tracks.get(tid)
            row[f"{display_name(m)} prediction"] = t["predicted"] if t else None
            row[f"{display_name(m)} confidence"] = round(float(t["confidence"]), 3) if t else None
        rows.append(row)
    columns = ["track", "artist", "title", "true genre"] + [
        f"{display_name(m)} {k}" for m in per_model for k in ("prediction", "confidence")]
    return pd.DataFrame(rows, columns=columns)


def misclassified_summary(report: ReportLike, table, split: str | None, shown: int) -> str:
    """The line above the misclassified table: how many held-out tracks Genre Studio's
    answer gets wrong, then how many some model gets wrong (tracks with audio only)."""
    report = as_report(report)
    ev = report.preferred_evaluation(ENSEMBLE, "calibrated", split=split)
    audio = set(report.track_ids)
    parts = []
    if ev is not None:
        scored = [t for t in ev.tracks if not audio or t["track"] in audio]
        wrong = sum(1 for t in scored if not t.get("correct"))
        parts.append(f"Genre Studio's answer is wrong on {wrong} of {len(scored)} held-out "
                     "tracks")
    parts.append(f"{len(table)} tracks are misclassified by at least one model ({shown} shown)")
    return "; ".join(parts) + (f" ({split} split: no model had seen the track or its artist)."
                               if split == "artist" else f" ({split} split).")


def filter_misclassified(df, true: Iterable[str] | None = None,
                         predicted: Iterable[str] | None = None):
    """Rows whose true genre is in `true` and where any model predicted a genre in `predicted`
    (empty or None means no filter)."""
    out = df
    true = list(true or [])
    predicted = list(predicted or [])
    if true:
        out = out[out["true genre"].isin(true)]
    if predicted:
        cols = [c for c in out.columns if c.endswith(" prediction")]
        mask = np.zeros(len(out), bool)
        for c in cols:
            mask |= out[c].isin(predicted).to_numpy()
        out = out[mask]
    return out


def track_entries(report: ReportLike, track_id: str,
                  split: str | None = None) -> dict[str, TrackResult]:
    """{model: per-track entry} for one track, from each model's preferred evaluation."""
    report = as_report(report)
    out = {}
    for m in report_models(None, report):
        ev = report.preferred_evaluation(m, split=split)
        entry = None if ev is None else ev.track(track_id)
        if entry is not None:
            out[m] = entry
    return out


def segment_votes(entry: TrackResult, labels: list[str]) -> np.ndarray:
    """One-hot (segments x labels) from a per-track entry's stored segment predictions."""
    preds = entry.get("segment_predictions", [])
    out = np.zeros((len(preds), len(labels)))
    for i, g in enumerate(preds):
        if g in labels:
            out[i, labels.index(g)] = 1.0
    return out


def accuracy_table(report: ReportLike) -> list[dict]:
    """Plain vs corrected accuracies per model and split (track and segment level). One
    split name can be cut into different folds (94 for leave-one-artist-out, 10 grouped by
    artist), and a figure may come from another machine: each row says which."""
    rows: dict[tuple, dict] = {}
    for ev in as_report(report).evaluations:
        key = (ev.model, ev.split, ev.n_folds, ev.is_augmented, ev.computed_on or "")
        row = rows.setdefault(key, {"model": display_name(ev.model), "split": ev.split,
                                    "folds": str(ev.n_folds) if ev.n_folds else "",
                                    "augmented": "yes" if ev.augmented else "no",
                                    "computed on": ev.computed_on
                                    or "where the bundle was trained"})
        v = "?" if ev.variant is None else ev.variant
        row[f"{v} track acc."] = round(float(ev.track_accuracy or 0.0), 4)
        row[f"{v} segment acc."] = round(float(ev.segment_accuracy or 0.0), 4)
        row[f"{v} macro F1"] = round(float(ev.macro_f1 or 0.0), 4)
    return list(rows.values())


def learning_curve_sets(report: ReportLike, model: str) -> dict[str, dict[str, dict]]:
    """{'final fit': {model: history}, '<split> · <variant>': {'fold 1': history, ...}}."""
    report = as_report(report)
    out: dict[str, dict[str, dict]] = {}
    entry = report.models.get(model)
    if entry is not None and entry.history:
        out["final fit"] = {display_name(model): entry.history}
    for ev in report.evaluations_for(model):
        curves = [c for c in ev.learning_curves or [] if c]
        if curves:
            out[ev.label] = {f"fold {k + 1}": c for k, c in enumerate(curves)}
    return out


def split_descriptions(report: ReportLike) -> list[dict]:
    """Every distinct way the report's figures were split (a split name may come in several
    fold counts), in first-seen order."""
    seen = dict.fromkeys((ev.split, ev.split_description or "")
                         for ev in as_report(report).evaluations)
    return [{"split": split, "description": text} for split, text in seen]


def data_summary(report: ReportLike) -> dict:
    """What the report says about the training data (without the long id list)."""
    info = as_report(report).data
    data = {} if info is None else info.to_dict()
    for key in ("track_ids", "skipped", "views"):
        data.pop(key, None)
    if info is not None and info.views:
        data["tracks per view"] = dict(Counter(info.views.values()))
    if info is not None and info.track_ids is not None:
        data.setdefault("n_tracks", len(info.track_ids))
    if info is not None and info.skipped:
        data["skipped files"] = len(info.skipped)
    return data


# ---------------------------------------------------------------- the dataset

def dataset_summary(dataset) -> dict:
    """{'n_tracks', 'genres': {genre: count}, 'skipped': n} of an indexed Dataset."""
    counts = Counter(t.genre for t in dataset.tracks)
    return {"n_tracks": len(dataset.tracks), "genres": dict(sorted(counts.items())),
            "skipped": len(dataset.skipped)}


def track_number(track) -> int | None:
    """'blues.00042' -> 42 (None when the id carries no number)."""
    m = re.search(r"(\d+)$", track.id)
    return int(m.group(1)) if m else None


def track_numbers(dataset, genre: str) -> list[int]:
    return sorted(n for t in dataset.tracks if t.genre == genre
                  for n in [track_number(t)] if n is not None)


def find_track(dataset, genre: str, number: int):
    """The dataset's track of `genre` with number `number` (blues + 42 -> blues.00042)."""
    for t in dataset.tracks:
        if t.genre == genre and track_number(t) == int(number):
            return t
    return None


def find_track_by_id(dataset, track_id: str):
    if dataset is None:
        return None
    return dataset.by_id().get(track_id)


def describe_track(track_id: str, track_index: Mapping[str, tuple[str, str]] | None) -> str:
    artist, title = (track_index or {}).get(track_id, ("", ""))
    if artist or title:
        return f"{track_id}: {artist or 'unknown artist'} – {title or 'unknown title'}"
    return track_id


def in_domain_line(check) -> str:
    """The caption under an answer the domain check (inference.domain) finds in domain: how
    far inside the limit, and the nearest training track by artist and title where the
    bundle's map names them (its id alone means nothing to a visitor)."""
    score = "" if check.score is None else f" (distance {check.score:.2f}x the limit)"
    line = "In domain: this sounds like the music the models were trained on" + score + "."
    if check.nearest:
        n = check.nearest[0]
        named = describe_track(n["track"], {n["track"]: (n.get("artist") or "",
                                                         n.get("title") or "")})
        line += f" Nearest training track: {named} ({n['genre']})."
    return line


def audio_mime(name: str) -> str:
    """MIME type for the browser's audio player from a file name."""
    suffix = name.lower().rsplit(".", 1)[-1] if "." in name else ""
    return {"mp3": "audio/mpeg", "flac": "audio/flac", "ogg": "audio/ogg", "oga": "audio/ogg",
            "au": "audio/basic", "aiff": "audio/aiff", "aif": "audio/aiff",
            "m4a": "audio/mp4"}.get(suffix, "audio/wav")
