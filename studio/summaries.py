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

import numpy as np

from genre_core.config import SEGMENT_KINDS

DISPLAY_NAMES = {"mlp": "MLP", "cnn": "CNN", "cnn_mel": "CNN on mel spectrogram", "lstm": "LSTM",
                 "features": "Features table",
                 "musicnn": "musicnn",
                 "musicnn4": "musicnn x4 (MSD/MTT, musicnn/vgg)",
                 "ensemble": "Genre Studio (calibrated ensemble)"}
ENSEMBLE = "ensemble"
SPLIT_PREFERENCE = ("artist", "filtered", "table-filtered-valid", "kfold", "random")
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


def calibration_summary(report: Mapping) -> dict | None:
    """The ensemble's held-out figures: accuracy, ECE before/after temperature scaling,
    reliability bins, member weights; None when the bundle has no ensemble."""
    ev = preferred_evaluation(report, ENSEMBLE, "calibrated")
    info = (report.get("models", {}) or {}).get(ENSEMBLE)
    if ev is None or info is None:
        return None
    return {"track_accuracy": ev["track_accuracy"], "macro_f1": ev.get("macro_f1"),
            "n_tracks": ev.get("n_tracks"), "split": ev.get("split"),
            "split_description": ev.get("split_description", ""),
            "ece_before": ev.get("ece_before"), "ece_after": ev.get("ece_after"),
            "reliability_before": ev.get("reliability_before", []),
            "reliability_after": ev.get("reliability_after", []),
            "weights": info.get("weights", {}), "temperature": info.get("temperature")}


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


def clock(seconds: float) -> str:
    """m:ss, as a player shows a position."""
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}:{s:02d}"


def excerpt_note(clip) -> str:
    """Which part of a long file the models heard (its middle, not its intro)."""
    start, end = clip.offset, clip.offset + clip.loaded_seconds
    where = "its start" if start == 0 else "its middle"
    return (f"This {clock(clip.duration)} file is analysed from {clock(start)} to {clock(end)} "
            f"({clip.loaded_seconds:.0f} s from {where}); the player starts there.")


def segment_count(clip, config) -> int:
    """How many 3-s segments the models see (at least one: short clips are padded)."""
    return max(1, int(len(clip.samples) // config.segment_samples))


def is_whole_clip_model(model_prediction, feature: str | None = None) -> bool:
    """True for models with one unit per clip (the Kaggle-table 'features' model)."""
    return feature == "kaggle" or (len(model_prediction.segment_starts) == 1
                                   and feature not in SEGMENT_KINDS
                                   and model_prediction.segment_probabilities.shape[0] == 1)


# ---------------------------------------------------------------- the bundle's report

def evaluations_for(report: Mapping, model: str | None = None, split: str | None = None,
                    variant: str | None = None) -> list[dict]:
    """The report's evaluations, optionally filtered by model, split and variant."""
    return [ev for ev in report.get("evaluations", []) or []
            if (model is None or ev.get("model") == model)
            and (split is None or ev.get("split") == split)
            and (variant is None or ev.get("variant") == variant)]


def split_rank(split: str) -> int:
    return SPLIT_PREFERENCE.index(split) if split in SPLIT_PREFERENCE else len(SPLIT_PREFERENCE)


def preferred_evaluation(report: Mapping, model: str, variant: str | None = "corrected",
                         split: str | None = None) -> dict | None:
    """The evaluation that best says how a model does on unseen music: the artist split
    (no artist in both train and test), then filtered, then k-fold; the shipped ('corrected')
    variant, trained as the shipped model was (with augmentation or without) first."""
    evs = evaluations_for(report, model, split)
    if not evs:
        return None
    shipped_augmented = bool(report.get("models", {}).get(model, {}).get("augmented"))
    return min(evs, key=lambda ev: (split_rank(ev.get("split", "")),
                                    0 if variant is None or ev.get("variant") == variant else 1,
                                    0 if bool(ev.get("augmented")) == shipped_augmented else 1))


def evaluation_label(ev: Mapping) -> str:
    """'artist split · corrected' (+ ' · augmented')."""
    label = f"{ev.get('split', '?')} split · {ev.get('variant', '?')}"
    return label + (" · augmented" if ev.get("augmented") else "")


def report_models(meta: Mapping | None, report: Mapping) -> list[str]:
    """Model names: the bundle's, then any others the report evaluated, in first-seen order."""
    names = list((meta or {}).get("models", {}))
    for ev in report.get("evaluations", []) or []:
        if ev.get("model") not in names:
            names.append(ev.get("model"))
    for name in report.get("models", {}) or {}:
        if name not in names:
            names.append(name)
    return [n for n in names if n]


def evaluated_models(meta: Mapping | None, report: Mapping) -> list[str]:
    """The models that have held-out figures in the report (the ones worth a matrix or a
    misclassified list)."""
    return [m for m in report_models(meta, report) if evaluations_for(report, m)]


def answer_model(report: Mapping, among: Sequence[str]) -> str | None:
    """The model a view opens on: Genre Studio's answer (the ensemble) when it is among the
    choices; else the ensemble member that carries most of its answer (largest weight);
    else the first choice."""
    if not among:
        return None
    if ENSEMBLE in among:
        return ENSEMBLE
    weights = ((report.get("models", {}) or {}).get(ENSEMBLE, {}) or {}).get("weights", {})
    carriers = sorted((m for m in among if m in weights), key=lambda m: -weights[m])
    return carriers[0] if carriers else among[0]


def bundle_labels(meta: Mapping | None, report: Mapping) -> list[str]:
    return list((meta or {}).get("labels") or report.get("data", {}).get("genres") or [])


def home_summary(meta: Mapping, report: Mapping) -> list[dict]:
    """One row per loaded model: its track-level accuracy and the split it was measured on
    (artist split preferred, then filtered, then k-fold)."""
    rows = []
    entries = dict((meta or {}).get("models", {}))
    ensemble = (report.get("models", {}) or {}).get(ENSEMBLE)
    if ensemble:
        entries = {ENSEMBLE: {**ensemble, "feature": "the models' probabilities"}, **entries}
    for name, entry in entries.items():
        ev = preferred_evaluation(report, name, entry.get("variant", "corrected"))
        rows.append({
            "model": display_name(name),
            "family": entry.get("family", name),
            "variant": entry.get("variant", ""),
            "feature": entry.get("feature", ""),
            "track accuracy": None if ev is None else round(float(ev["track_accuracy"]), 4),
            "macro F1": None if ev is None else round(float(ev.get("macro_f1", 0.0)), 4),
            "measured on": "not evaluated" if ev is None else
            f"{ev.get('split')} split ({ev.get('n_tracks', len(ev.get('per_track', [])))} tracks)",
            "split": None if ev is None else ev.get("split"),
            "split description": "" if ev is None else ev.get("split_description", ""),
        })
    return rows


def confusion_for(evaluation: Mapping, level: str = "track") -> np.ndarray:
    """The evaluation's confusion matrix ('track' or 'segment'), rows true, cols predicted."""
    key = "segment_confusion" if level.startswith("segment") else "track_confusion"
    return np.asarray(evaluation.get(key, []), dtype=int)


def tracks_in_cell(evaluation: Mapping, true: str, predicted: str) -> list[dict]:
    """The per-track entries whose true genre is `true` and track-level prediction `predicted`."""
    return [t for t in evaluation.get("per_track", [])
            if t.get("genre") == true and t.get("predicted") == predicted]


def cell_rows(tracks: Iterable[Mapping], track_index: Mapping[str, tuple[str, str]] | None = None
              ) -> list[dict]:
    """Table rows for a confusion-matrix cell: track, artist, title, confidence, fold."""
    rows = []
    for t in tracks:
        artist, title = (track_index or {}).get(t["track"], ("", ""))
        rows.append({"track": t["track"], "artist": artist or "unknown",
                     "title": title or "unknown", "true genre": t["genre"],
                     "predicted": t["predicted"], "confidence": round(float(t["confidence"]), 3),
                     **({"fold": t["fold"]} if "fold" in t else {})})
    return rows


def per_genre_rows(evaluation: Mapping) -> list[dict]:
    return [{"genre": g, "precision": round(v["precision"], 3), "recall": round(v["recall"], 3),
             "F1": round(v["f1-score"], 3), "support": int(v["support"])}
            for g, v in evaluation.get("per_genre", {}).items()]


def misclassified_table(report: Mapping, track_index: Mapping[str, tuple[str, str]] | None = None,
                        split: str | None = None, models: list[str] | None = None):
    """A pandas DataFrame with one row per track that at least one model got wrong on held-out
    data: track, artist, title, true genre, then each model's prediction and confidence.
    Each model's figures come from its preferred evaluation on `split` (or the best split
    available to every model)."""
    import pandas as pd

    models = models or report_models(None, report)
    models = sorted(models, key=lambda m: m != ENSEMBLE)        # Genre Studio's answer first
    audio = set((report.get("data", {}) or {}).get("track_ids") or [])
    if split is None:
        shared: set | None = None
        for m in models:
            splits = {ev.get("split") for ev in evaluations_for(report, m)}
            shared = splits if shared is None else shared & splits
        split = min(shared, key=split_rank) if shared else None
    per_model = {}
    for m in models:
        ev = preferred_evaluation(report, m, split=split)
        if ev is not None:
            per_model[m] = {t["track"]: t for t in ev.get("per_track", [])}
    # tracks with audio only (the table model's CV also scores Kaggle rows with no audio here)
    wrong = sorted({tid for tracks in per_model.values() for tid, t in tracks.items()
                    if not t.get("correct") and (not audio or tid in audio)})
    rows = []
    for tid in wrong:
        any_entry = next(t[tid] for t in per_model.values() if tid in t)
        artist, title = (track_index or {}).get(tid, ("", ""))
        row = {"track": tid, "artist": artist or "unknown", "title": title or "unknown",
               "true genre": any_entry["genre"]}
        for m, tracks in per_model.items():
            t = tracks.get(tid)
            row[f"{display_name(m)} prediction"] = t["predicted"] if t else None
            row[f"{display_name(m)} confidence"] = round(float(t["confidence"]), 3) if t else None
        rows.append(row)
    columns = ["track", "artist", "title", "true genre"] + [
        f"{display_name(m)} {k}" for m in per_model for k in ("prediction", "confidence")]
    return pd.DataFrame(rows, columns=columns)


def misclassified_summary(report: Mapping, table, split: str | None, shown: int) -> str:
    """The line above the misclassified table: how many held-out tracks Genre Studio's
    answer gets wrong, then how many some model gets wrong (tracks with audio only)."""
    ev = preferred_evaluation(report, ENSEMBLE, "calibrated", split=split)
    audio = set((report.get("data", {}) or {}).get("track_ids") or [])
    parts = []
    if ev is not None:
        scored = [t for t in ev.get("per_track", []) if not audio or t["track"] in audio]
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


def track_entries(report: Mapping, track_id: str, split: str | None = None) -> dict[str, dict]:
    """{model: per-track entry} for one track, from each model's preferred evaluation."""
    out = {}
    for m in report_models(None, report):
        ev = preferred_evaluation(report, m, split=split)
        for t in (ev or {}).get("per_track", []):
            if t["track"] == track_id:
                out[m] = t
                break
    return out


def segment_votes(entry: Mapping, labels: list[str]) -> np.ndarray:
    """One-hot (segments x labels) from a per-track entry's stored segment predictions."""
    preds = entry.get("segment_predictions", [])
    out = np.zeros((len(preds), len(labels)))
    for i, g in enumerate(preds):
        if g in labels:
            out[i, labels.index(g)] = 1.0
    return out


def accuracy_table(report: Mapping) -> list[dict]:
    """Plain vs corrected accuracies per model and split (track and segment level). One
    split name can be cut into different folds (94 for leave-one-artist-out, 10 grouped by
    artist), and a figure may come from another machine: each row says which."""
    rows: dict[tuple, dict] = {}
    for ev in report.get("evaluations", []) or []:
        key = (ev.get("model"), ev.get("split"), ev.get("n_folds"), bool(ev.get("augmented")),
               ev.get("computed_on", ""))
        row = rows.setdefault(key, {"model": display_name(ev.get("model", "")),
                                    "split": ev.get("split"),
                                    "folds": str(ev["n_folds"]) if ev.get("n_folds") else "",
                                    "augmented": "yes" if ev.get("augmented") else "no",
                                    "computed on": ev.get("computed_on")
                                    or "where the bundle was trained"})
        v = ev.get("variant", "?")
        row[f"{v} track acc."] = round(float(ev.get("track_accuracy", 0.0)), 4)
        row[f"{v} segment acc."] = round(float(ev.get("segment_accuracy", 0.0)), 4)
        row[f"{v} macro F1"] = round(float(ev.get("macro_f1", 0.0)), 4)
    return list(rows.values())


def learning_curve_sets(report: Mapping, model: str) -> dict[str, dict[str, dict]]:
    """{'final fit': {model: history}, '<split> · <variant>': {'fold 1': history, ...}}."""
    out: dict[str, dict[str, dict]] = {}
    final = (report.get("models", {}) or {}).get(model, {}).get("history")
    if final:
        out["final fit"] = {display_name(model): final}
    for ev in evaluations_for(report, model):
        curves = [c for c in ev.get("learning_curves", []) or [] if c]
        if curves:
            out[evaluation_label(ev)] = {f"fold {k + 1}": c for k, c in enumerate(curves)}
    return out


def split_descriptions(report: Mapping) -> list[dict]:
    """Every distinct way the report's figures were split (a split name may come in several
    fold counts), in first-seen order."""
    seen: dict[tuple[str, str], None] = {}
    for ev in report.get("evaluations", []) or []:
        seen.setdefault((ev.get("split", "?"), ev.get("split_description", "")), None)
    return [{"split": split, "description": text} for split, text in seen]


def data_summary(report: Mapping) -> dict:
    """What the report says about the training data (without the long id list)."""
    data = dict(report.get("data", {}) or {})
    ids = data.pop("track_ids", None)
    skipped = data.pop("skipped", None)
    views = data.pop("views", None)
    if views:
        data["tracks per view"] = dict(Counter(views.values()))
    if ids is not None:
        data.setdefault("n_tracks", len(ids))
    if skipped:
        data["skipped files"] = len(skipped)
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


def audio_mime(name: str) -> str:
    """MIME type for the browser's audio player from a file name."""
    suffix = name.lower().rsplit(".", 1)[-1] if "." in name else ""
    return {"mp3": "audio/mpeg", "flac": "audio/flac", "ogg": "audio/ogg", "oga": "audio/ogg",
            "au": "audio/basic", "aiff": "audio/aiff", "aif": "audio/aiff",
            "m4a": "audio/mp4"}.get(suffix, "audio/wav")
