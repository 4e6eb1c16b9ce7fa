"""The subcommands' bodies (the arguments are in cli.parser, shared helpers in cli.common;
train-table, evaluate-table and train-ensemble have modules of their own)."""
from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

from genre_core.cli.common import eprint, label_order, timed
from genre_core.errors import GenreError


def _cache(args):
    from genre_core.inference.cache import FeatureCache

    return FeatureCache(getattr(args, "cache", None), enabled=not getattr(args, "no_cache", False))


def index_reported(data):
    """Index the dataset roots (--data, repeatable, or $GENRE_DATA) once, reporting the files
    skipped on stderr."""
    from genre_core.cli.common import data_paths
    from genre_core.inference.dataset import index_dataset

    ds = index_dataset(data_paths(data) if not isinstance(data, str) else data_paths([data]))
    for problem in ds.skipped:
        eprint(f"skipped: {problem}")
    return ds


def load_features(ds, kind: str, config, cache, jobs=None, timings=None):
    """Features of an indexed dataset, problems reported on stderr."""
    from genre_core.inference.dataset import extract_dataset

    with timed(f"extract_{kind}_seconds", timings):
        feats, problems = extract_dataset(ds.tracks, kind, config, cache, n_jobs=jobs)
    for problem in problems:
        eprint(f"skipped: {problem}")
    eprint(f"{len(feats)} tracks with {kind} features in {len(ds.genres)} genres "
           f"({len(ds.skipped) + len(problems)} skipped)")
    return feats


def evaluation_key(ev: dict) -> tuple:
    """What one evaluation measured: a newer one with the same key replaces it."""
    return ev.get("model"), ev.get("variant"), ev.get("split"), ev.get("augmented", False)


def train(args) -> int:
    from genre_core.cli.common import feature_config
    from genre_core.config import SEGMENT_KINDS, TrainConfig
    from genre_core.inference.bundle import DEFAULT_BUNDLE, read_bundle_meta, save_bundle
    from genre_core.training.evaluation import summary_line
    from genre_core.training.fitting import cross_validate, fit_model
    from genre_core.training.splits import _carve_valid, make_split

    config = feature_config(args)
    tconf = TrainConfig(seed=args.seed, **({"epochs": args.epochs} if args.epochs else {}))
    from genre_core.models import model_class

    families = [m.strip() for m in args.models.split(",") if m.strip()]
    kinds = {}
    for f in families:
        if f == "features":
            raise GenreError("--models: the 'features' model trains from the Kaggle table; "
                             "use train-table")
        kinds[f] = model_class(f).feature
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    out = Path(args.out) if args.out else DEFAULT_BUNDLE
    if args.no_final:
        _check_figures_describe_the_bundle(out, kinds, config)
    else:
        _check_kept_models_hear_alike(out, families, config)
    timings: dict[str, float] = {}
    ds = index_reported(args.data)
    teacher_kind = model_class(args.distill_from).feature if args.distill_from else None
    wanted_kinds = set(kinds.values()) | ({teacher_kind} if teacher_kind else set())
    feats_by_kind = {kind: load_features(ds, kind, config, _cache(args), args.jobs, timings)
                     for kind in sorted(wanted_kinds)}
    usable = set.intersection(*(set(f) for f in feats_by_kind.values()))
    tracks = [t for t in ds.tracks if t.id in usable]
    labels = label_order(t.genre for t in tracks)
    genre_of = {t.id: t.genre for t in tracks}

    augmenter_of: dict[str, Any] = {}   # feature kind -> augmenter of its training tracks
    if args.augment:
        from genre_core.training.augment import augmentations
        for kind, (copies_kind, augmenter) in augmentations().items():
            if kind in kinds.values():
                augmenter_of[kind] = augmenter(load_features(ds, copies_kind, config,
                                                             _cache(args), args.jobs, timings))
    teacher = _teacher(args, feats_by_kind.get(teacher_kind), genre_of, labels, tconf, ds.roots)
    if "distilled" in variants + [args.final_variant] and teacher is None:
        raise GenreError("the distilled variant needs --distill-from FAMILY (e.g. musicnn4)")
    from genre_core.inference.dataset import dataset_views
    from genre_core.training.evaluation import view_metrics

    views = dataset_views(ds)
    evaluations = []
    for split_name in [s.strip() for s in args.split.split(",") if s.strip() not in ("", "none")]:
        split = make_split(split_name, tracks, seed=args.seed, k=args.folds,
                           artists_file=args.artists, splits_dir=args.splits_dir,
                           artist_folds=args.artist_folds, roots=ds.roots)
        eprint(f"split {split.name}: {split.description}")
        for family in families:
            feats = feats_by_kind[kinds[family]]
            for variant in variants:
                augmenter = augmenter_of.get(kinds[family])
                runs = [None, augmenter] if augmenter else [None]
                for aug in (runs[1:] if args.augment_only and augmenter else runs):
                    start = time.perf_counter()
                    ev = cross_validate(family, variant, split, feats, genre_of, labels, tconf,
                                        progress=True, augment=aug, log=eprint,
                                        teacher=teacher if variant == "distilled" else None)
                    ev["seconds"] = round(time.perf_counter() - start, 1)
                    ev["views"] = view_metrics(ev["per_track"], views)
                    evaluations.append(ev)
                    print(summary_line(ev) + (" +aug" if aug else ""), flush=True)

    report: dict[str, Any] = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": "python -m genre_core " + " ".join(sys.argv[1:]) if sys.argv else "",
        "data": {"source": list(ds.roots), "n_tracks": len(tracks), "genres": labels,
                 "track_ids": sorted(genre_of), "skipped": ds.skipped,
                 "views": {t: views[t] for t in sorted(genre_of)}},
        "train_config": tconf.to_dict(), "timings": timings,
        "environment": {"python": platform.python_version(), "machine": platform.machine()},
        "models": {}, "evaluations": evaluations,
    }
    from genre_core.inference.bundle import recover_bundle

    recover_bundle(out)    # a bundle an interrupted save left aside is kept, not dropped
    if args.evaluations_json:
        Path(args.evaluations_json).write_text(json.dumps(evaluations, default=float))
    if args.no_final:
        return merge_evaluations(out, evaluations, labels,
                                 {t: views[t] for t in sorted(genre_of)})

    final_models = {}
    ids = sorted(genre_of)
    train_ids, valid_ids = _carve_valid(ids, [genre_of[i] for i in ids],
                                        tconf.validation_fraction, tconf.seed)
    for family in families:
        variant = args.final_variant if kinds[family] in SEGMENT_KINDS else "corrected"
        # --augment-only ships the augmented model (the runs without it were skipped)
        augment = augmenter_of.get(kinds[family]) if args.augment_only else None
        model, history, secs = fit_model(family, variant, train_ids, valid_ids,
                                         feats_by_kind[kinds[family]], genre_of, labels, tconf,
                                         progress=True, augment=augment,
                                         teacher=teacher if variant == "distilled" else None)
        eprint(f"final {family}: {len(history.get('loss', []))} epochs, {secs:.1f} s")
        final_models[family] = model
        report["models"][family] = {
            "family": family, "variant": variant, "feature": kinds[family],
            "trained_on": f"all {len(ids)} tracks: {len(train_ids)} fit, {len(valid_ids)} "
                          "held out for early stopping",
            "history": history, "train_seconds": round(secs, 2), "augmented": augment is not None}

    keep = {}
    if (out / "bundle.json").exists():   # keep models this command does not retrain
        try:
            old_meta, old_report = read_bundle_meta(out)
        except GenreError:
            old_meta, old_report = {"models": {}}, {}
        if old_meta.get("labels") == labels:
            for name, entry in old_meta["models"].items():
                if name not in final_models:
                    keep[name] = entry
                    report["models"][name] = old_report.get("models", {}).get(name, {})
                    report["evaluations"] += [e for e in old_report.get("evaluations", [])
                                              if e.get("model") == name]
            # figures of retrained models measured on the same tracks by other runs (say,
            # augmentation studies) stay, unless this run measured the same thing again
            same_data = old_report.get("data", {}).get("track_ids") == sorted(genre_of)
            if same_data:
                have = {evaluation_key(e) for e in report["evaluations"]}
                # (a retrained model's 'held-out' predictions were its predecessor's: dropped)
                report["evaluations"] += [e for e in old_report.get("evaluations", [])
                                          if e.get("model") in final_models
                                          and e.get("split") != "held-out"
                                          and evaluation_key(e) not in have]
    save_bundle(out, final_models, labels, config, report, keep=keep)
    eprint(f"bundle written to {out}")
    return 0


def _bundle_musicnn_level(out: Path) -> tuple[str, dict] | None:
    """The musicnn level of the bundle at `out` and its models' entries; None without a
    readable bundle (then there is nothing to keep or to add figures to)."""
    from genre_core.config import FeatureConfig
    from genre_core.inference.bundle import read_bundle_meta

    if not (out / "bundle.json").exists():
        return None
    try:
        meta, _ = read_bundle_meta(out)
    except GenreError:
        return None
    return (FeatureConfig.from_dict(meta.get("feature_config", {})).musicnn_level,
            meta.get("models", {}))


def _check_figures_describe_the_bundle(out: Path, kinds: dict[str, str], config) -> None:
    """Before any evaluation: --no-final adds this run's figures to the bundle at `out`; those
    of a musicnn model measured at another musicnn level than the bundle's would be shown for
    a model that hears differently."""
    found = _bundle_musicnn_level(out)
    heard = sorted(f for f, kind in kinds.items() if kind.startswith("musicnn"))
    if found is not None and heard and found[0] != config.musicnn_level:
        raise GenreError(f"{out}: its models hear musicnn input '{found[0]}' and this run's is "
                         f"'{config.musicnn_level}'; figures of {', '.join(heard)} measured so "
                         "would describe another model (retrain it, or write to another --out)")


def _check_kept_models_hear_alike(out: Path, families: list[str], config) -> None:
    """Before any training: a model this run keeps in the bundle at `out` must have heard
    musicnn input at the level this run's features use (FeatureConfig.musicnn_level), as the
    bundle will have one feature configuration for all of them."""
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


def _teacher(args, teacher_features, genre_of, labels, tconf, roots=()):
    """For --distill-from: a function giving, for a fold's training tracks, the teacher's
    out-of-fold probabilities (artist-grouped folds within those tracks)."""
    if not args.distill_from:
        return None
    from genre_core.inference.dataset import load_artist_index
    from genre_core.training.fitting import teacher_probabilities

    artists = load_artist_index(args.artists, roots)
    groups = {t: artists.get(t) or f"(unknown {g} artist)" for t, g in genre_of.items()}
    return lambda ids: teacher_probabilities(args.distill_from, ids, teacher_features,
                                             genre_of, labels, groups, tconf)


def merge_evaluations(out: Path, evaluations: list[dict], labels: list[str],
                      views: dict[str, str] | None = None) -> int:
    """Add evaluation-only figures to an existing bundle's report (its models untouched);
    an evaluation of the same model, variant, split and augmentation is replaced. `views`:
    the evaluated tracks' views (GTZAN, realworld, ...), added to the report's data."""
    from genre_core.config import FeatureConfig
    from genre_core.inference.bundle import read_bundle_meta, save_bundle

    if not (out / "bundle.json").exists():
        eprint(f"no bundle at {out}: figures printed only")
        return 0
    meta, report = read_bundle_meta(out)
    if meta["labels"] != labels:
        eprint(f"bundle at {out} has other labels: figures printed only")
        return 0
    new = {evaluation_key(e) for e in evaluations}
    report["evaluations"] = [e for e in report.get("evaluations", [])
                             if evaluation_key(e) not in new]
    report["evaluations"] += evaluations
    if views:
        report.setdefault("data", {}).setdefault("views", {}).update(views)
    save_bundle(out, {}, meta["labels"], FeatureConfig.from_dict(meta["feature_config"]),
                report, keep=meta["models"])
    eprint(f"{len(evaluations)} evaluations added to the report of {out}")
    return 0


def _keep_held_out(folder, bundle, results: list[dict], ds, views: dict[str, str]) -> None:
    """evaluate --into-report: each model's predictions for the tracks of `ds` that no model
    of the bundle trained on and whose artist none heard (not in the report's training data,
    not anywhere in GTZAN's index: the table model learned from GTZAN rows beyond the audio
    here), added to the report as split 'held-out'."""
    import numpy as np

    from genre_core.inference.bundle import DEFAULT_BUNDLE
    from genre_core.inference.dataset import load_artist_index
    from genre_core.training.evaluation import evaluate_predictions, view_metrics

    artists = load_artist_index(None, ds.roots)
    trained = set(bundle.report.get("data", {}).get("track_ids", []))
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
                    augmented=bool(bundle.report.get("models", {}).get(ev["model"], {})
                                   .get("augmented")),
                    views=view_metrics(held["per_track"], views),
                    split_description=f"predictions for {len(rows)} tracks of "
                    f"{', '.join(ds.roots)} that no model trained on, by artists none heard")
        kept.append(held)
    eprint(f"held out: {len(fresh)} of {len(ds.tracks)} tracks (the others or their artists "
           "were heard in training)")
    merge_evaluations(folder or DEFAULT_BUNDLE, kept, bundle.labels,
                      {t: views[t] for t in sorted(fresh)})


def evaluate(args) -> int:
    import numpy as np

    from genre_core.config import FeatureConfig
    from genre_core.inference.bundle import load_bundle
    from genre_core.training.evaluation import evaluate_predictions, summary_line, view_metrics
    from genre_core.training.fitting import predict_tracks

    bundle = load_bundle(args.bundle)
    config: FeatureConfig = bundle.feature_config
    ds = index_reported(args.data)
    feats = {kind: load_features(ds, kind, config, _cache(args), args.jobs)
             for kind in sorted({m.feature for m in bundle.models.values()})}
    truth = {t.id: t.genre for t in ds.tracks}
    usable = set.intersection(*(set(f) for f in feats.values()))
    evaluated = [g for g in bundle.labels if g in set(truth[i] for i in usable)]
    seen = set(bundle.report.get("data", {}).get("track_ids", []))
    overlap = len(usable & seen)
    from genre_core.inference.dataset import dataset_views
    from genre_core.inference.ensemble import verdict_figures

    views = dataset_views(ds)
    results = []
    known = [tid for tid in sorted(usable) if truth[tid] in bundle.labels]
    track_probs = {}
    for name, model in bundle.models.items():
        probs = predict_tracks(model, known, feats[model.feature])
        track_probs[name] = {t: p.mean(axis=0) for t, p in probs.items()}
        ev = evaluate_predictions(bundle.labels, truth, probs, evaluated)
        ev.update(model=name, variant=model.variant, split="given data",
                  tracks_seen_in_training=overlap, views=view_metrics(ev["per_track"], views))
        results.append(ev)
    ens = bundle.ensemble
    if ens is not None and set(ens.members) <= set(track_probs):   # Genre Studio's answer
        pooled = ens.predict_proba({m: np.stack([track_probs[m][t] for t in known])
                                    for m in ens.members})
        ev = evaluate_predictions(bundle.labels, truth,
                                  {t: pooled[k:k + 1] for k, t in enumerate(known)}, evaluated)
        y = np.array([bundle.labels.index(truth[t]) for t in known])
        ev.update(model="ensemble", variant="calibrated", split="given data",
                  tracks_seen_in_training=overlap, views=view_metrics(ev["per_track"], views),
                  verdict={v: verdict_figures(pooled[m], y[m], ens.unsure_below)
                           for v in sorted(set(views[t] for t in known))
                           for m in [np.array([views[t] == v for t in known])]})
        results.insert(0, ev)
    if getattr(args, "into_report", False):
        _keep_held_out(Path(args.bundle) if args.bundle else None, bundle, results, ds, views)
    if args.json:
        print(json.dumps([{k: v for k, v in ev.items() if k != "per_track"} for ev in results],
                         indent=1))
    else:
        for ev in results:
            print(summary_line(ev))
            for view, fig in ev.get("verdict", {}).items():
                sel, two = fig["selective_accuracy"], fig["top2_hit_rate"]
                print(f"    verdict on {view}: names one genre for {fig['coverage']:.0%} of "
                      f"tracks, right {'-' if sel is None else f'{sel:.0%}'} of those; truth in "
                      f"'not sure: A or B' {'-' if two is None else f'{two:.0%}'}; ECE "
                      f"{fig['ece']:.3f}")
        labels = bundle.labels
        for ev in results:
            print(f"\n{ev['model']} track-level confusion (rows true, columns predicted):")
            print(" " * 10 + " ".join(f"{g[:5]:>5}" for g in labels))
            for g, row in zip(labels, ev["track_confusion"]):
                print(f"{g:>10}" + " ".join(f"{v:>5}" for v in row))
    if overlap:
        eprint(f"warning: {overlap} of these tracks were used to train the bundle; "
               "these figures overstate accuracy (see the bundle's report for held-out figures)")
    return 0


def predict(args) -> int:
    from dataclasses import replace

    from genre_core.inference.batch_predict import (
        csv_header,
        expand_paths,
        predict_files,
        skip_optional_pandas,
    )

    skip_optional_pandas()
    from genre_core.cli.common import feature_config
    from genre_core.config import FeatureConfig
    from genre_core.inference.bundle import DEFAULT_BUNDLE, read_bundle_meta, recover_bundle

    names = [m.strip() for m in args.models.split(",")] if args.models else None
    folder = Path(args.bundle) if args.bundle else DEFAULT_BUNDLE
    if not folder.exists():
        recover_bundle(folder)                   # an interrupted save leaves it aside
    if not folder.exists():
        raise GenreError(f"{folder}: model bundle not found")
    meta, _ = read_bundle_meta(folder)           # cheap: no model loaded in this process yet
    models = [n for n in meta["models"] if not names or n in names]
    if not models:
        raise GenreError(f"{folder}: bundle holds none of the requested models")
    from genre_core.inference.ensemble import ENSEMBLE_FILE, Ensemble

    if (folder / ENSEMBLE_FILE).exists() and set(Ensemble.load(folder).members) <= set(models):
        models = ["ensemble", *models]               # the Predictor answers with it first
    config = replace(FeatureConfig.from_dict(meta["feature_config"]),
                     max_seconds=feature_config(args).max_seconds)
    files = expand_paths(args.files)
    from genre_core.inference.music_map import load_map

    try:
        load_map(folder)
    except GenreError as e:         # the Predictors then judge the domain by the audio alone
        eprint(f"warning: {e}; out-of-domain warnings use the audio alone")
    results, failed = [], 0
    out_csv = writer = None
    if args.csv:
        import csv

        out_csv = open(args.csv, "w", newline="", encoding="utf-8")
        writer = csv.writer(out_csv)
        writer.writerow(csv_header(models))
    from tqdm.auto import tqdm

    tqdm.monitor_interval = 0      # no monitor thread: worker processes are forked
    bar = tqdm(total=len(files), unit="file", disable=None if len(files) > 1 else True,
               file=sys.stderr)
    try:
        for res in predict_files(files, folder, names, config, args.jobs):
            bar.update()
            failed += res.error is not None
            if writer and out_csv:
                writer.writerow(res.csv_row(models))
                out_csv.flush()
            if args.json:
                results.append(res.prediction if res.error is None
                               else {"file": res.file, "error": res.error})
            elif not args.csv:
                bar.write(res.line(), file=sys.stdout)
    finally:
        bar.close()
        if out_csv:
            out_csv.close()
    if args.json:
        print(json.dumps(results, indent=1))
    if args.csv:
        eprint(f"{len(files)} files ({failed} failed) written to {args.csv}")
    return 1 if failed else 0


def train_table(args) -> int:
    from genre_core.cli.table_commands import train_table as run

    return run(args)


def train_ensemble(args) -> int:
    from genre_core.cli.ensemble_command import train_ensemble as run

    return run(args)


def evaluate_table(args) -> int:
    from genre_core.cli.table_commands import evaluate_table as run

    return run(args)


def bench(args) -> int:
    root = str(Path(__file__).resolve().parents[2])   # bench/ sits beside genre_core
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        import bench as bench_tool  # a tool, not the library: imported only here
    except ModuleNotFoundError as e:
        if e.name != "bench":
            raise
        raise GenreError(f"{root}: no bench/ folder here; the benchmark runs from a source "
                         "checkout of Genre Studio") from None
    return bench_tool.run(args)
