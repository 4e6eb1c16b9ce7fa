"""The subcommands' bodies (the arguments are in cli.parser, shared helpers in cli.common;
train-table, evaluate-table and train-ensemble have modules of their own)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from genre_core.cli.common import eprint
from genre_core.errors import GenreError


def _cache(args):
    from genre_core.inference.cache import FeatureCache

    return FeatureCache(getattr(args, "cache", None), enabled=not getattr(args, "no_cache", False))


def index_reported(data):
    """Index the dataset roots (--data, repeatable, or $GENRE_DATA) once, reporting the files
    skipped on stderr."""
    from genre_core.cli.common import data_paths
    from genre_core.training.pipeline import index_data

    return index_data(data_paths(data) if not isinstance(data, str) else data_paths([data]),
                      eprint)


def _names(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip() not in ("", "none")]


def train(args) -> int:
    """`train`: the arguments as a TrainPlan, run by training.pipeline."""
    from genre_core.cli.common import data_paths, feature_config
    from genre_core.config import TrainConfig
    from genre_core.inference.bundle import DEFAULT_BUNDLE
    from genre_core.training.pipeline import TrainPlan
    from genre_core.training.pipeline import train as run

    plan = TrainPlan(
        data=data_paths(args.data), families=_names(args.models),
        out=Path(args.out) if args.out else DEFAULT_BUNDLE, variants=_names(args.variants),
        splits=_names(args.split), feature_config=feature_config(args),
        train_config=TrainConfig(seed=args.seed, distill_weight=args.distill_weight,
                                 networks=args.networks, straddling=args.straddling,
                                 **({"epochs": args.epochs} if args.epochs else {})),
        folds=args.folds, artist_folds=args.artist_folds, artists_file=args.artists,
        splits_dir=args.splits_dir, augment=args.augment, augment_only=args.augment_only,
        final=not args.no_final, final_variant=args.final_variant,
        distill_from=args.distill_from, cache=_cache(args), jobs=args.jobs,
        evaluations_json=args.evaluations_json,
        command="python -m genre_core " + " ".join(sys.argv[1:]) if sys.argv else "")
    run(plan, log=eprint, say=lambda line: print(line, flush=True))
    return 0


def evaluate(args) -> int:
    import numpy as np

    from genre_core.config import FeatureConfig
    from genre_core.inference.bundle import load_bundle
    from genre_core.training.evaluation import evaluate_predictions, summary_line, view_metrics
    from genre_core.training.fitting import predict_tracks

    bundle = load_bundle(args.bundle)
    config: FeatureConfig = bundle.feature_config
    ds = index_reported(args.data)
    from genre_core.training.pipeline import load_features

    feats = {kind: load_features(ds, kind, config, _cache(args), args.jobs, log=eprint)
             for kind in sorted({m.feature for m in bundle.models.values()})}
    truth = {t.id: t.genre for t in ds.tracks}
    usable = set.intersection(*(set(f) for f in feats.values()))
    evaluated = [g for g in bundle.labels if g in set(truth[i] for i in usable)]
    seen = set(bundle.report.track_ids)
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
        from genre_core.inference.bundle import DEFAULT_BUNDLE
        from genre_core.training.pipeline import keep_held_out

        keep_held_out(Path(args.bundle) if args.bundle else DEFAULT_BUNDLE, bundle, results, ds,
                      views, eprint)
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
    try:   # bench/ sits beside genre_core: `python -m` puts the checkout's root on the path
        import bench as bench_tool  # a tool, not the library: imported only here
    except ModuleNotFoundError as e:
        if e.name != "bench":
            raise
        raise GenreError("the benchmark runs from the root of a source checkout of Genre "
                         "Studio: cd there and run python -m genre_core bench") from None
    return bench_tool.run(args)
