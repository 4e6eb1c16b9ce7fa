"""A bundle's report.json, typed and versioned: the data a bundle learned from, what each of its
models is, and every held-out evaluation (per view, with its per-track predictions). Training
writes it through `Report.to_dict()` (save_bundle stamps the version); the app, the generated
docs and the command line read it through `Report.from_dict` / `read_report`: no other module
digs in its JSON, and the questions the app asks (`evaluations_for`, `preferred_evaluation`,
`model_names`, `view_names`, ...) are methods here.

Why standard-library dataclasses and not pydantic: no extra dependency (this is the foundation:
it loads in the app, the command line and every worker process, without TensorFlow); the
fields are plain JSON (strings, numbers, lists, objects), so validation is one `from_dict` that
refuses a malformed report with one clear line, which is all a reader needs; and the per-track
rows (thousands per report) stay plain dicts typed by a TypedDict (`TrackResult`), so reading a
report builds no object per track (the app reads it on every page run).

Versions. `SCHEMA_VERSION` (2) is written as "schema_version" by every writer. A report without
that key is version 1 (every report written before this module; the same fields): read as it
is, and written back as version 2. A report with a higher version was written by a newer Genre
Studio and is refused (`NewerReportError`, naming the file). A malformed one (not an object,
evaluations not a list, an evaluation without model or split, a figure that is not a number,
...) is refused with a GenreError of one line naming the file and the place.

Lossless: every key the schema does not name is kept in the record's `extra`, and a record
read from JSON remembers its keys (and their order), so `Report.from_dict(x).to_dict() == x`
for any report (a null where a list or object belongs reads as empty). A record built in code
writes every field that is not None."""
from __future__ import annotations

import json
import numbers
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypedDict, TypeVar

from genre_core.errors import GenreError

SCHEMA_VERSION = 2
SHIPPED = "shipped"   # preferred_evaluation: the variant the bundle ships
VERSION_KEY = "schema_version"

# how well a split says how a model does on unseen music, best first (see preferred_evaluation)
SPLIT_PREFERENCE = ("artist", "filtered", "table-filtered-valid", "kfold", "random")


class NewerReportError(GenreError):
    """The report was written by a newer Genre Studio (a schema version this one does not know):
    refused, so that nothing rewrites what it cannot read whole."""


class TrackResult(TypedDict, total=False):
    """One held-out track of an evaluation (a plain dict in `Evaluation.per_track`)."""
    track: str
    genre: str                      # the true genre
    predicted: str                  # the track-level answer
    confidence: float
    correct: bool
    probabilities: dict[str, float]
    segment_predictions: list[str]
    fold: int


# precision / recall / f1-score / support of one genre (sklearn's classification report)
GenreFigures = TypedDict("GenreFigures", {"precision": float, "recall": float, "f1-score": float,
                                          "support": float}, total=False)


def split_rank(split: str | None) -> int:
    """Position of a split in SPLIT_PREFERENCE (unknown splits last)."""
    return SPLIT_PREFERENCE.index(split) if split in SPLIT_PREFERENCE else len(SPLIT_PREFERENCE)


# ---------------------------------------------------------------- reading and writing records

_KIND_WORDS = {"str": "a string", "number": "a number", "int": "a whole number",
               "bool": "true or false", "list": "a list", "dict": "an object",
               "record": "an object"}


def _what(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, numbers.Number):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _is_kind(value: Any, kind: str) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "number":     # numbers.Real: numpy's floats and ints too
        return isinstance(value, numbers.Real) and not isinstance(value, bool)
    if kind == "int":
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "list":
        return isinstance(value, (list, tuple))
    if kind == "any":
        return True
    return isinstance(value, Mapping)         # "dict", "record"


def _malformed(source: str, problem: str) -> GenreError:
    text = f"{source}: malformed report: {problem}"
    return GenreError(text.replace("\r", " ").replace("\n", " "))


def _f(kind: str, *, record: type[_Record] | None = None, required: bool = False,
       factory: Callable[[], Any] | None = None) -> Any:
    """A field the schema names: its JSON kind ("str", "number", "int", "bool", "list", "dict",
    "record" or "any"), the record class of its values (a nested object, or each value of a "dict",
    each item of a "list"), required (a reader refuses a record without it)."""
    meta = {"kind": kind, "record": record, "required": required}
    if required:
        return field(metadata=meta)
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=None, metadata=meta)


_NAMED: dict[type, dict[str, Field]] = {}


def _named(cls: type) -> dict[str, Field]:
    """{name: field} of the fields the schema names (their JSON keys), per record class."""
    if cls not in _NAMED:
        _NAMED[cls] = {f.name: f for f in fields(cls) if "kind" in f.metadata}
    return _NAMED[cls]


def _empty(f: Field) -> Any:
    if f.default_factory is not MISSING:
        return f.default_factory()
    return None if f.default is MISSING else f.default


def _plain(value: Any, f: Field) -> Any:
    if f.metadata["record"] is None or value is None:
        return value
    kind = f.metadata["kind"]
    if kind == "dict":
        return {k: v.to_dict() if isinstance(v, _Record) else v for k, v in value.items()}
    if kind == "list":
        return [v.to_dict() if isinstance(v, _Record) else v for v in value]
    return value.to_dict() if isinstance(value, _Record) else value


R = TypeVar("R", bound="_Record")


@dataclass(kw_only=True)
class _Record:
    """What every record shares: the keys the schema does not name (`extra`), and the keys it
    was read with (None for a record built in code)."""
    extra: dict[str, Any] = field(default_factory=dict)
    _keys: tuple[str, ...] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_dict(cls: type[R], data: Any, where: str = "", source: str = "report") -> R:
        """The record of a JSON object; GenreError (one line: `source`, `where`, the problem)
        if it is not one, lacks a required field or holds a field of the wrong kind."""
        if not isinstance(data, Mapping):
            raise _malformed(source, f"{where or 'the report'} is {_what(data)}, not an object")
        named = _named(cls)
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        keys = []
        for key, value in data.items():
            f = named.get(key)
            if f is None:
                extra[key] = value
            elif value is not None:
                values[key] = _read(value, f, f"{where}.{key}" if where else key, source)
            elif f.default_factory is not MISSING:
                continue                    # a null list or object reads as empty
            else:
                values[key] = None
            keys.append(key)
        for name, f in named.items():
            if f.metadata["required"] and values.get(name) is None:
                raise _malformed(source, f"{where or 'the report'} has no {name!r}")
        record = cls(**values, extra=extra, _keys=tuple(keys))
        record._check(where, source)
        return record

    def _check(self, where: str, source: str) -> None:
        """Checks beyond each field's kind (a subclass's)."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON object: the keys it was read with, in their order, then any field set since
        (a record built in code: every field that is not None), then the other `extra` keys.
        The plain values (lists, objects) are shared with the record, not copied."""
        named = _named(type(self))
        out: dict[str, Any] = {}
        for key in self._keys or ():
            if key in named:
                out[key] = _plain(getattr(self, key), named[key])
            elif key in self.extra:
                out[key] = self.extra[key]
        for name, f in named.items():
            value = getattr(self, name)
            if name in out or value is None:
                continue
            if self._keys is not None and value == _empty(f):
                continue                    # read without it, and still empty
            out[name] = _plain(value, f)
        for key, value in self.extra.items():
            out.setdefault(key, value)
        return out


def _read(value: Any, f: Field, where: str, source: str) -> Any:
    kind, record = f.metadata["kind"], f.metadata["record"]
    if not _is_kind(value, kind):
        raise _malformed(source, f"{where} is {_what(value)}, not {_KIND_WORDS[kind]}")
    if record is None:
        return value
    if kind == "dict":
        return {k: record.from_dict(v, f"{where}.{k}", source) for k, v in value.items()}
    if kind == "list":
        return [record.from_dict(v, f"{where}[{i}]", source) for i, v in enumerate(value)]
    return record.from_dict(value, where, source)


# ---------------------------------------------------------------- the records

@dataclass(kw_only=True)
class ViewFigures(_Record):
    """An evaluation's figures on one view of its tracks (GTZAN, real recordings, ...)."""
    n_tracks: int | None = _f("int")
    track_accuracy: float | None = _f("number")
    balanced_accuracy: float | None = _f("number")
    macro_f1: float | None = _f("number")


@dataclass(kw_only=True)
class VerdictFigures(_Record):
    """How Genre Studio's verdict reads on one view: how often it names one genre (coverage),
    how often that genre is right, how often "not sure: A or B" holds the truth, its ECE."""
    n_tracks: int | None = _f("int")
    coverage: float | None = _f("number")
    selective_accuracy: float | None = _f("number")
    top2_hit_rate: float | None = _f("number")
    ece: float | None = _f("number")
    unsure_below: float | None = _f("number")


@dataclass(kw_only=True)
class DataInfo(_Record):
    """The data the bundle's models were trained on."""
    source: list[str] | str | None = _f("any")       # the data roots (early reports: one string)
    n_tracks: int | None = _f("int")
    genres: list[str] | None = _f("list")
    track_ids: list[str] | None = _f("list")
    skipped: list[str] | None = _f("list")            # files that could not be read
    views: dict[str, str] | None = _f("dict")         # track id -> view (GTZAN, realworld, ...)


@dataclass(kw_only=True)
class ModelEntry(_Record):
    """What the report says about one model of the bundle (bundle.json says how to load it)."""
    family: str | None = _f("str")
    variant: str | None = _f("str")
    feature: str | None = _f("str")
    members: list[str] | None = _f("list")            # the ensemble's
    weights: dict[str, float] | None = _f("dict")     # the ensemble's, per member
    temperature: float | None = _f("number")
    floor: float | None = _f("number")                # the ensemble's share of uniform after T
    unsure_below: float | None = _f("number")         # the verdict's "not sure" threshold
    trained_on: str | None = _f("str")
    candidates: dict[str, float] | None = _f("dict")  # the table model's, valid accuracy each
    history: dict[str, list[float]] | None = _f("dict")   # the final fit's learning curve
    train_seconds: float | None = _f("number")
    augmented: bool | None = _f("bool")               # trained with own-recording copies
    skipped_rows: list[str] | None = _f("list")
    table_rows: int | None = _f("int")


@dataclass(kw_only=True)
class Evaluation(_Record):
    """One held-out evaluation: a model (and variant) on a split, its figures and its
    per-track predictions."""
    model: str = _f("str", required=True)
    split: str = _f("str", required=True)
    variant: str | None = _f("str")
    split_description: str | None = _f("str")
    augmented: bool | None = _f("bool")
    n_folds: int | None = _f("int")
    computed_on: str | None = _f("str")              # set when measured on another machine
    n_tracks: int | None = _f("int")
    n_segments: int | None = _f("int")
    track_accuracy: float | None = _f("number")
    segment_accuracy: float | None = _f("number")
    macro_f1: float | None = _f("number")
    balanced_accuracy: float | None = _f("number")
    evaluated_genres: list[str] | None = _f("list")
    track_confusion: list[list[int]] | None = _f("list")     # rows true, columns predicted
    segment_confusion: list[list[int]] | None = _f("list")
    per_genre: dict[str, GenreFigures] | None = _f("dict")
    per_track: list[TrackResult] | None = _f("list")
    learning_curves: list[dict[str, list[float]]] | None = _f("list")   # one per fold
    views: dict[str, ViewFigures] | None = _f("dict", record=ViewFigures)
    verdict: dict[str, VerdictFigures] | None = _f("dict", record=VerdictFigures)
    ece_before: float | None = _f("number")
    ece_after: float | None = _f("number")
    nll_before: float | None = _f("number")
    nll_after: float | None = _f("number")
    reliability_before: list[dict[str, float]] | None = _f("list")
    reliability_after: list[dict[str, float]] | None = _f("list")
    reliability_views: dict[str, list] | None = _f("dict")   # the ensemble's, after, per view
    members: list[str] | None = _f("list")
    teacher: str | None = _f("str")                  # a distilled model's teacher family
    teacher_weight: float | None = _f("number")      # its share of the soft targets
    networks: int | None = _f("int")                 # networks averaged (seeds), when several
    straddling: bool | None = _f("bool")             # trained on straddling segments too
    seconds: float | None = _f("number")
    fit_seconds: list[float] | None = _f("list")
    epochs: list[int] | None = _f("list")

    def _check(self, where: str, source: str) -> None:
        for i, row in enumerate(self.per_track or ()):
            if type(row) is dict and type(row.get("track")) is str:
                continue                    # the common case, checked fast (thousands of rows)
            if not isinstance(row, Mapping) or not isinstance(row.get("track"), str):
                raise _malformed(source, f"{where}.per_track[{i}] has no track id")

    @property
    def key(self) -> tuple[str, str | None, str, bool]:
        """What it measured: a newer evaluation with the same key replaces it."""
        return self.model, self.variant, self.split, bool(self.augmented)

    @property
    def is_augmented(self) -> bool:
        return bool(self.augmented)

    @property
    def label(self) -> str:
        """'artist split · corrected' (+ ' · augmented')."""
        label = f"{self.split} split · {'?' if self.variant is None else self.variant}"
        return label + (" · augmented" if self.augmented else "")

    @property
    def tracks(self) -> list[TrackResult]:
        """The per-track predictions (none recorded: an empty list)."""
        return self.per_track or []

    @property
    def track_count(self) -> int:
        return len(self.tracks) if self.n_tracks is None else self.n_tracks

    def confusion(self, level: str = "track") -> list[list[int]]:
        """The confusion matrix ('track' or 'segment'), rows true, columns predicted."""
        matrix = self.segment_confusion if level.startswith("segment") else self.track_confusion
        return matrix or []

    def tracks_in_cell(self, true: str, predicted: str) -> list[TrackResult]:
        """The tracks of true genre `true` that the model called `predicted`."""
        return [t for t in self.tracks if t.get("genre") == true and t.get("predicted") == predicted]

    def track(self, track_id: str) -> TrackResult | None:
        return next((t for t in self.tracks if t["track"] == track_id), None)


@dataclass(kw_only=True)
class Report(_Record):
    """report.json: the data, the models, the evaluations (and the run that wrote them)."""
    schema_version: int = SCHEMA_VERSION       # 1: read from a report written without one
    created: str | None = _f("str")
    command: str | None = _f("str")
    data: DataInfo | None = _f("record", record=DataInfo)
    train_config: dict[str, Any] | None = _f("dict")
    timings: dict[str, float] | None = _f("dict")
    environment: dict[str, str] | None = _f("dict")
    models: dict[str, ModelEntry] = _f("dict", record=ModelEntry, factory=dict)
    evaluations: list[Evaluation] = _f("list", record=Evaluation, factory=list)

    @classmethod
    def from_dict(cls, data: Any, where: str = "", source: str = "report") -> Report:
        """The report of report.json's object; refused (GenreError) when malformed, and
        (NewerReportError) when a newer Genre Studio wrote it."""
        if not isinstance(data, Mapping):
            raise _malformed(source, f"the report is {_what(data)}, not an object")
        version = data.get(VERSION_KEY, 1)
        if not _is_kind(version, "int") or version < 1:
            raise _malformed(source, f"{VERSION_KEY} is {version!r}, not a version number")
        if version > SCHEMA_VERSION:
            raise NewerReportError(
                f"{source}: written by a newer Genre Studio (report schema version {version}; "
                f"this one reads versions up to {SCHEMA_VERSION}); update Genre Studio to read "
                "it, or retrain the bundle")
        report = super().from_dict({k: v for k, v in data.items() if k != VERSION_KEY},
                                   where, source)
        report.schema_version = int(version)
        if VERSION_KEY in data:
            report._keys = (VERSION_KEY, *(report._keys or ()))
        return report

    def to_dict(self) -> dict[str, Any]:
        """The JSON object (lossless for a report read with from_dict); the version key is
        written for version 2 on, so a version-1 report reads back as it was."""
        body = super().to_dict()
        if self.schema_version >= 2 or VERSION_KEY in (self._keys or ()):
            return {VERSION_KEY: self.schema_version, **body}
        return body

    def stamped(self) -> Report:
        """This report as the current schema version (what a writer saves)."""
        return replace(self, schema_version=SCHEMA_VERSION)

    # ------------------------------------------------------------ the data

    @property
    def track_ids(self) -> list[str]:
        """The ids of the tracks the bundle's models were trained on ([] when not recorded)."""
        return (self.data.track_ids or []) if self.data is not None else []

    @property
    def genres(self) -> list[str]:
        return (self.data.genres or []) if self.data is not None else []

    @property
    def sources(self) -> list[str]:
        """The data roots the models were trained on."""
        source = self.data.source if self.data is not None else None
        if source is None:
            return []
        return [source] if isinstance(source, str) else list(source)

    @property
    def track_views(self) -> dict[str, str]:
        """{track id: view} of the tracks the report knows ({} when not recorded)."""
        return (self.data.views or {}) if self.data is not None else {}

    def add_views(self, views: Mapping[str, str]) -> None:
        """Record the views of (more) tracks."""
        if self.data is None:
            self.data = DataInfo()
        if self.data.views is None:
            self.data.views = {}
        self.data.views.update(views)

    def view_names(self) -> list[str]:
        """Every view the report names (its tracks', then its evaluations'), first seen first."""
        names = dict.fromkeys(self.track_views.values())
        for ev in self.evaluations:
            names.update(dict.fromkeys(ev.views or {}))
            names.update(dict.fromkeys(ev.verdict or {}))
        return list(names)

    # ------------------------------------------------------------ the models

    def model_names(self) -> list[str]:
        """The models the report evaluated, then the others it describes, first seen first."""
        names = dict.fromkeys(ev.model for ev in self.evaluations)
        names.update(dict.fromkeys(self.models))
        return list(names)

    def shipped_augmented(self, model: str) -> bool:
        """Whether the bundle's `model` was trained with own-recording copies."""
        entry = self.models.get(model)
        return bool(entry is not None and entry.augmented)

    # ------------------------------------------------------------ the evaluations

    def evaluations_for(self, model: str | None = None, split: str | None = None,
                        variant: str | None = None) -> list[Evaluation]:
        """The evaluations, optionally only those of a model, a split and a variant."""
        return [ev for ev in self.evaluations
                if (model is None or ev.model == model) and (split is None or ev.split == split)
                and (variant is None or ev.variant == variant)]

    def preferred_evaluation(self, model: str, variant: str | None = SHIPPED,
                             split: str | None = None) -> Evaluation | None:
        """The evaluation that best says how a model does on unseen music: the artist split
        (no artist in both train and test), then filtered, then k-fold; the `variant` (None:
        any; SHIPPED: the one the bundle ships, e.g. the distilled CNN, else "corrected"),
        trained as the shipped model was (with own-recording copies or without) first."""
        evs = self.evaluations_for(model, split)
        if not evs:
            return None
        if variant == SHIPPED:
            entry = self.models.get(model)
            variant = entry.variant if entry is not None and entry.variant else "corrected"
        augmented = self.shipped_augmented(model)
        return min(evs, key=lambda ev: (split_rank(ev.split),
                                        0 if variant is None or ev.variant == variant else 1,
                                        0 if ev.is_augmented == augmented else 1))

    def splits(self) -> list[str]:
        """The splits evaluated, the most telling first (SPLIT_PREFERENCE, then by name)."""
        return sorted({ev.split for ev in self.evaluations}, key=lambda s: (split_rank(s), s))

    def track_truth(self) -> dict[str, str]:
        """{track id: true genre} of every track any evaluation predicted."""
        return {t["track"]: t["genre"] for ev in self.evaluations for t in ev.tracks
                if "genre" in t}

    def merge_evaluations(self, evaluations: Iterable[Evaluation]) -> None:
        """Add evaluations; one of the same model, variant, split and augmentation as a new one
        is replaced."""
        new = list(evaluations)
        keys = {ev.key for ev in new}
        self.evaluations = [ev for ev in self.evaluations if ev.key not in keys] + new


ReportLike = Report | Mapping[str, Any]


def as_report(report: ReportLike | None, source: str = "report") -> Report:
    """A Report as it is; report.json's object (None: an empty one) read by Report.from_dict."""
    if isinstance(report, Report):
        return report
    return Report.from_dict({} if report is None else report, source=source)


def read_report(path: str | os.PathLike) -> Report:
    """The report in the JSON file `path`; GenreError (naming the file) when it cannot be read,
    is not JSON, is malformed or was written by a newer Genre Studio."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GenreError(f"{path}: report not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise GenreError(f"{path}: report is not valid JSON ({e})") from None
    except OSError as e:
        raise GenreError(f"{path}: report cannot be read ({e.strerror or e})") from None
    return Report.from_dict(data, source=str(path))
