"""The train-evaluate-bundle flow as one library call: `train(TrainPlan(...))`.

A plan names the data roots, the model families and variants, the splits, and where the
bundle goes; `train` extracts (or reads cached) features, cross-validates every family and
variant on every split (each evaluation keeps its per-view figures), fits the final models on
all tracks and writes the bundle atomically, keeping the models of an existing bundle that the
plan does not retrain. The command line (`python -m genre_core train`) only turns arguments
into a plan; tools and the benchmark call the same functions."""
from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genre_core import features
from genre_core.config import FeatureConfig, TrainConfig, label_order
from genre_core.errors import GenreError
from genre_core.report import DataInfo, Evaluation, ModelEntry, NewerReportError, Report

Log = Callable[[str], None]


def stderr_log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class TrainPlan:
    """What one training run does (the `train` command's arguments, typed)."""
    data: list[str]                       # data roots (GTZAN layout, or genre folders)
    families: list[str]                   # registered model families, e.g. ["mlp", "cnn"]
    out: Path                             # bundle folder
    variants: list[str] = field(default_factory=lambda: ["corrected"])
    splits: list[str] = field(default_factory=lambda: ["artist"])   # [] = final fits only
    feature_config: FeatureConfig = field(default_factory=FeatureConfig)
    train_config: TrainConfig = field(default_factory=TrainConfig)
    folds: int = 5                        # k of the kfold split
    artist_folds: int = 0                 # 0: leave-one-artist-out; K: K artist groups
    artists_file: str | None = None       # artist index (GTZANindex.txt format)
    splits_dir: str | None = None         # the filtered split's lists
    augment: bool = False                 # also evaluate with own-recording copies
    augment_only: bool = False            # only with them, and ship the models so trained
    final: bool = True                    # False: figures only, added to the bundle's report
    final_variant: str = "corrected"      # variant of the segment models fitted for the bundle
    distill_from: str | None = None       # teacher family of the 'distilled' variant
    cache: Any = None                     # a FeatureCache (None: no cache)
    jobs: int | None = None               # extraction processes
    evaluations_json: str | None = None   # also write the evaluations here
    command: str = ""                     # recorded in the report


@contextmanager
def timed_into(label: str, store: dict | None, log: Log):
    """Time the block into `store[label]` (seconds) and one log line."""
    start = time.perf_counter()
    yield
    secs = time.perf_counter() - start
    if store is not None:
        store[label] = round(secs, 3)
    log(f"{label}: {secs:.1f} s")


def index_data(paths: list[str], log: Log = stderr_log):
    """Index the data roots once, logging the files skipped."""
    from genre_core.inference.dataset import index_dataset

    ds = index_dataset(paths)
    for problem in ds.skipped:
        log(f"skipped: {problem}")
    return ds


def load_features(ds, kind: str, config, cache, jobs=None, timings=None,
                  log: Log = stderr_log) -> dict:
    """{track id: feature array} of an indexed dataset; unreadable tracks logged, left out."""
    from genre_core.inference.dataset import extract_dataset

    with timed_into(f"extract_{kind}_seconds", timings, log):
        feats, problems = extract_dataset(ds.tracks, kind, config, cache, n_jobs=jobs)
    for problem in problems:
        log(f"skipped: {problem}")
    log(f"{len(feats)} tracks with {kind} features in {len(ds.genres)} genres "
        f"({len(ds.skipped) + len(problems)} skipped)")
    return feats


# ------------------------------------------------------------------ checks before any work

def _bundle_musicnn_level(out: Path) -> tuple[str, dict] | None:
    """The musicnn level of the bundle at `out` and its models' entries; None without a
    readable bundle (then there is nothing to keep or to add figures to)."""
    from genre_core.inference.bundle import read_bundle_meta

    if not (out / "bundle.json").exists():
        return None
    try:
        meta, _ = read_bundle_meta(out)
    except NewerReportError:
        raise                   # a newer Genre Studio's bundle is not overwritten
    except GenreError:
        return None
    return (FeatureConfig.from_dict(meta.get("feature_config", {})).musicnn_level,
            meta.get("models", {}))


def check_figures_describe_the_bundle(out: Path, kinds: dict[str, str], config) -> None:
    """Figures-only runs add to the bundle at `out`; those of a musicnn model measured at
    another musicnn level than the bundle's would be shown for a model that hears differently."""
    found = _bundle_musicnn_level(out)
    heard = sorted(f for f, kind in kinds.items() if kind.startswith("musicnn"))
    if found is not None and heard and found[0] != config.musicnn_level:
        raise GenreError(f"{out}: its models hear musicnn input '{found[0]}' and this run's is "
                         f"'{config.musicnn_level}'; figures of {', '.join(heard)} measured so "
                         "would describe another model (retrain it, or write to another --out)")


def check_kept_models_hear_alike(out: Path, families: list[str], config) -> None:
    """A model the run keeps in the bundle at `out` must have heard musicnn input at the level
    this run's features use, as the bundle has one feature configuration for all of them."""
    found = _bundle_musicnn_level(out)
    if found is None:
        return
    level, models = found
    for name, entry in models.items():
        if (name not in families and str(entry.get("feature", "")).startswith("musicnn")
                and level != config.musicnn_level):
            raise GenreError(f"{out}: its '{name}' model heard musicnn input '{level}' and this "
                             f"run's is '{config.musicnn_level}'; retrain it in the same run "
                             "(--models) or write to another --out")


def feature_kinds(families: list[str]) -> dict[str, str]:
    """{family: feature kind}; the table model trains elsewhere (train-table)."""
    from genre_core.models import model_class

    if "features" in families:
        raise GenreError("--models: the 'features' model trains from the Kaggle table; "
                         "use train-table")
    return {f: model_class(f).feature for f in families}


# ------------------------------------------------------------------ the flow

@dataclass
class _Material:
    """Everything the fits share: the tracks, their features, copies and views."""
    ds: Any
    kinds: dict[str, str]
    feats_by_kind: dict[str, dict]
    genre_of: dict[str, str]
    labels: list[str]
    augmenter_of: dict[str, Any]
    teacher: Callable | None
    views: dict[str, str]
    timings: dict[str, float]

    @property
    def tracks(self):
        return [t for t in self.ds.tracks if t.id in self.genre_of]


def _teacher(plan: TrainPlan, teacher_features, genre_of, labels, roots=()):
    """For distillation: a function giving, for a fold's training tracks, the teacher's
    out-of-fold probabilities (artist-grouped folds within those tracks)."""
    if not plan.distill_from:
        return None
    from genre_core.inference.dataset import load_artist_index
    from genre_core.training.fitting import teacher_probabilities

    artists = load_artist_index(plan.artists_file, roots)
    groups = {t: artists.get(t) or f"(unknown {g} artist)" for t, g in genre_of.items()}
    return lambda ids: teacher_probabilities(plan.distill_from, ids, teacher_features,
                                             genre_of, labels, groups, plan.train_config)


def _material(plan: TrainPlan, log: Log) -> _Material:
    from genre_core.inference.dataset import dataset_views
    from genre_core.models import model_class

    kinds = feature_kinds(plan.families)
    timings: dict[str, float] = {}
    ds = index_data(plan.data, log)
    teacher_kind = model_class(plan.distill_from).feature if plan.distill_from else None
    wanted = set(kinds.values()) | ({teacher_kind} if teacher_kind else set())
    feats_by_kind = {kind: load_features(ds, kind, plan.feature_config, plan.cache, plan.jobs,
                                         timings, log) for kind in sorted(wanted)}
    usable = set.intersection(*(set(f) for f in feats_by_kind.values()))
    genre_of = {t.id: t.genre for t in ds.tracks if t.id in usable}
    labels = label_order(genre_of.values())
    augmenter_of: dict[str, Any] = {}     # feature kind -> augmenter of its training tracks
    if plan.augment:
        from genre_core.training.augment import augmentations
        for kind, (copies_kind, augmenter) in augmentations().items():
            if kind in kinds.values():
                augmenter_of[kind] = augmenter(load_features(
                    ds, copies_kind, plan.feature_config, plan.cache, plan.jobs, timings, log))
    teacher = _teacher(plan, feats_by_kind.get(teacher_kind), genre_of, labels, ds.roots)
    if "distilled" in plan.variants + [plan.final_variant] and teacher is None:
        raise GenreError("the distilled variant needs --distill-from FAMILY (e.g. musicnn4)")
    return _Material(ds, kinds, feats_by_kind, genre_of, labels, augmenter_of, teacher,
                     dataset_views(ds), timings)


def cross_validate_plan(plan: TrainPlan, m: _Material, log: Log = stderr_log,
                        say: Log = print) -> list[dict]:
    """Every family x variant (x with/without copies) on every split of the plan."""
    from genre_core.training.evaluation import summary_line, view_metrics
    from genre_core.training.fitting import cross_validate
    from genre_core.training.splits import make_split

    evaluations = []
    tc = plan.train_config
    for split_name in plan.splits:
        split = make_split(split_name, m.tracks, seed=tc.seed, k=plan.folds,
                           artists_file=plan.artists_file, splits_dir=plan.splits_dir,
                           artist_folds=plan.artist_folds, roots=m.ds.roots)
        log(f"split {split.name}: {split.description}")
        for family in plan.families:
            augmenter = m.augmenter_of.get(m.kinds[family])
            runs = [None, augmenter] if augmenter else [None]
            if plan.augment_only and augmenter:
                runs = [augmenter]
            for variant in plan.variants:
                for aug in runs:
                    start = time.perf_counter()
                    ev = cross_validate(family, variant, split, m.feats_by_kind[m.kinds[family]],
                                        m.genre_of, m.labels, tc, progress=True, augment=aug,
                                        log=log,
                                        teacher=m.teacher if variant == "distilled" else None)
                    ev["seconds"] = round(time.perf_counter() - start, 1)
                    if variant == "distilled":
                        ev["teacher"], ev["teacher_weight"] = plan.distill_from, tc.distill_weight
                    if tc.networks > 1 and features.kind(m.kinds[family]).spectrogram:
                        ev["networks"] = tc.networks
                    if tc.straddling and features.kind(m.kinds[family]).spectrogram:
                        ev["straddling"] = True
                    ev["views"] = view_metrics(ev["per_track"], m.views)
                    evaluations.append(ev)
                    say(summary_line(ev) + (" +aug" if aug else ""))
    return evaluations


def fit_finals(plan: TrainPlan, m: _Material, log: Log = stderr_log
               ) -> tuple[dict, dict[str, ModelEntry]]:
    """The bundle's models, each fitted on all tracks (a stratified share held out for early
    stopping): ({family: model}, {family: report entry})."""
    from genre_core.training.fitting import fit_model
    from genre_core.training.splits import carve_valid

    tc = plan.train_config
    ids = sorted(m.genre_of)
    train_ids, valid_ids = carve_valid(ids, [m.genre_of[i] for i in ids],
                                       tc.validation_fraction, tc.seed)
    models: dict = {}
    entries: dict[str, ModelEntry] = {}
    for family in plan.families:
        kind = m.kinds[family]
        # the final variant (e.g. distilled) applies to the spectrogram networks only
        variant = plan.final_variant if features.kind(kind).spectrogram else "corrected"
        # augment_only ships the augmented model (the runs without it were skipped)
        augment = m.augmenter_of.get(kind) if plan.augment_only else None
        model, history, secs = fit_model(family, variant, train_ids, valid_ids,
                                         m.feats_by_kind[kind], m.genre_of, m.labels, tc,
                                         progress=True, augment=augment,
                                         teacher=m.teacher if variant == "distilled" else None)
        log(f"final {family}: {len(history.get('loss', []))} epochs, {secs:.1f} s")
        models[family] = model
        entries[family] = ModelEntry(
            family=family, variant=variant, feature=kind,
            trained_on=f"all {len(ids)} tracks: {len(train_ids)} fit, {len(valid_ids)} held out "
                       "for early stopping" + (
                           f"; soft targets {tc.distill_weight:.0%} {plan.distill_from}'s "
                           "out-of-fold probabilities per 3-s segment"
                           if variant == "distilled" else "")
                       + (f"; the mean of {tc.networks} networks (seeds {tc.seed}-"
                          f"{tc.seed + tc.networks - 1})" if model.params.get("networks") else "")
                       + ("; also the 3-s units straddling each two segments"
                          if tc.straddling and features.kind(kind).spectrogram else ""),
            history=history, train_seconds=round(secs, 2), augmented=augment is not None)
    return models, entries


def keep_from_bundle(out: Path, retrained: set[str], labels: list[str], report: Report) -> dict:
    """The entries of the models in the bundle at `out` that this run does not retrain (their
    report entries and evaluations move into `report`); figures of retrained models measured
    on the same tracks by other runs stay unless this run measured the same thing again."""
    from genre_core.inference.bundle import read_bundle_report

    if not (out / "bundle.json").exists():
        return {}
    try:
        old_meta, old_report = read_bundle_report(out)
    except NewerReportError:
        raise                   # a newer Genre Studio's bundle is not overwritten
    except GenreError:
        return {}
    if old_meta.get("labels") != labels:
        return {}
    keep = {}
    for name, entry in old_meta["models"].items():
        if name not in retrained:
            keep[name] = entry
            report.models[name] = old_report.models.get(name) or ModelEntry()
            report.evaluations += old_report.evaluations_for(name)
    if old_report.data is not None and old_report.data.track_ids == report.track_ids:
        have = {e.key for e in report.evaluations}
        # (a retrained model's 'held-out' predictions were its predecessor's: dropped)
        report.evaluations += [e for e in old_report.evaluations
                               if e.model in retrained and e.split != "held-out"
                               and e.key not in have]
    return keep


def train(plan: TrainPlan, log: Log = stderr_log, say: Log = print) -> Path:
    """Run the plan: evaluate, then (unless plan.final is False) fit and write the bundle.
    `log` takes progress lines, `say` each evaluation's summary line. Returns the bundle."""
    from genre_core.inference.bundle import recover_bundle, save_bundle

    kinds = feature_kinds(plan.families)
    if plan.final:
        check_kept_models_hear_alike(plan.out, plan.families, plan.feature_config)
    else:
        check_figures_describe_the_bundle(plan.out, kinds, plan.feature_config)
    m = _material(plan, log)
    evaluations = cross_validate_plan(plan, m, log, say)
    ids = sorted(m.genre_of)
    report = Report(
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"), command=plan.command,
        data=DataInfo(source=list(m.ds.roots), n_tracks=len(ids), genres=m.labels,
                      track_ids=ids, skipped=m.ds.skipped, views={t: m.views[t] for t in ids}),
        train_config=plan.train_config.to_dict(), timings=m.timings,
        environment={"python": platform.python_version(), "machine": platform.machine()},
        models={}, evaluations=[Evaluation.from_dict(e, f"evaluations[{i}]")
                                for i, e in enumerate(evaluations)])
    recover_bundle(plan.out)    # a bundle an interrupted save left aside is kept, not dropped
    if plan.evaluations_json:
        from genre_core.atomic import write_text_atomic

        write_text_atomic(plan.evaluations_json, json.dumps(evaluations, default=float))
    if not plan.final:
        merge_evaluations(plan.out, evaluations, m.labels, {t: m.views[t] for t in ids}, log)
        return plan.out
    models, entries = fit_finals(plan, m, log)
    report.models.update(entries)
    keep = keep_from_bundle(plan.out, set(models), m.labels, report)
    save_bundle(plan.out, models, m.labels, plan.feature_config, report, keep=keep)
    log(f"bundle written to {plan.out}")
    return plan.out


def merge_evaluations(out: Path, evaluations: list[dict] | list[Evaluation], labels: list[str],
                      views: dict[str, str] | None = None, log: Log = stderr_log) -> bool:
    """Add evaluation-only figures to an existing bundle's report (its models untouched);
    an evaluation of the same model, variant, split and augmentation is replaced. `views`:
    the evaluated tracks' views (GTZAN, realworld, ...), added to the report's data. False
    (figures printed only) when there is no bundle at `out` or its labels differ."""
    from genre_core.inference.bundle import read_bundle_report, save_bundle

    if not (out / "bundle.json").exists():
        log(f"no bundle at {out}: figures printed only")
        return False
    meta, report = read_bundle_report(out)
    if meta["labels"] != labels:
        log(f"bundle at {out} has other labels: figures printed only")
        return False
    report.merge_evaluations(e if isinstance(e, Evaluation)
                             else Evaluation.from_dict(e, f"evaluations[{i}]")
                             for i, e in enumerate(evaluations))
    if views:
        report.add_views(views)
    save_bundle(out, {}, meta["labels"], FeatureConfig.from_dict(meta["feature_config"]),
                report, keep=meta["models"])
    log(f"{len(evaluations)} evaluations added to the report of {out}")
    return True


def keep_held_out(out: Path, bundle, results: list[dict], ds, views: dict[str, str],
                  log: Log = stderr_log) -> None:
    """Each model's predictions for the tracks of `ds` that no model of the bundle trained on
    and whose artist none heard (not in the report's training data, not anywhere in GTZAN's
    index: the table model learned from GTZAN rows beyond the audio here), added to the
    bundle's report as split 'held-out' (the ensemble learns from them where a model has no
    fold of its own there)."""
    import numpy as np

    from genre_core.inference.dataset import load_artist_index
    from genre_core.training.evaluation import evaluate_predictions, view_metrics

    artists = load_artist_index(None, ds.roots)
    trained = set(bundle.report.track_ids)
    heard = set(load_artist_index(None).values()) | {artists[t] for t in trained if t in artists}
    fresh = {t.id for t in ds.tracks if t.id not in trained and artists.get(t.id) not in heard}
    kept = []
    for ev in results:
        if ev["model"] == "ensemble":
            continue
        rows = [r for r in ev["per_track"] if r["track"] in fresh]
        if not rows:
            continue
        probs = {r["track"]: np.array([[r["probabilities"][g] for g in bundle.labels]])
                 for r in rows}
        truth = {r["track"]: r["genre"] for r in rows}
        held = evaluate_predictions(bundle.labels, truth, probs,
                                    [g for g in bundle.labels if g in set(truth.values())])
        held.update(model=ev["model"], variant=ev["variant"], split="held-out",
                    augmented=bundle.report.shipped_augmented(ev["model"]),
                    views=view_metrics(held["per_track"], views),
                    split_description=f"predictions for {len(rows)} tracks of "
                    f"{', '.join(ds.roots)} that no model trained on, by artists none heard")
        kept.append(held)
    log(f"held out: {len(fresh)} of {len(ds.tracks)} tracks (the others or their artists "
        "were heard in training)")
    merge_evaluations(out, kept, bundle.labels, {t: views[t] for t in sorted(fresh)}, log)
