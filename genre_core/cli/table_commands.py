"""train-table / evaluate-table: the 'features' model on a Kaggle-format feature table,
added to a bundle beside the audio models."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from genre_core.cli.common import eprint
from genre_core.config import label_order
from genre_core.errors import GenreError
from genre_core.report import Evaluation, ModelEntry, Report


def _filtered_parts(filenames: list[str], splits_dir) -> dict[str, list[int]]:
    from genre_core.inference.dataset import default_data_root

    folder = Path(splits_dir) if splits_dir else default_data_root() / "splits"
    parts = {}
    for part in ("train", "valid", "test"):
        f = folder / f"{part}_filtered.txt"
        if not f.exists():
            raise GenreError(f"{f}: split list not found (give --splits-dir)")
        names = {Path(line.strip()).name for line in f.read_text().splitlines() if line.strip()}
        parts[part] = [i for i, n in enumerate(filenames) if Path(n).name in names]
    return parts


def _evaluate_rows(model, X, truth, labels, ids, split, description) -> dict:
    from genre_core.training.evaluation import evaluate_predictions

    probs = model.predict_proba(X)
    ev = evaluate_predictions(labels, dict(zip(ids, truth)),
                              {i: probs[k:k + 1] for k, i in enumerate(ids)})
    ev.update(model="features", variant=model.params.get("kept", model.variant), split=split,
              split_description=description, learning_curves=[], augmented=False)
    return ev


def _cross_validate_rows(table, ids, y, labels, config, cand, args) -> dict:
    """Out-of-fold probabilities of every row: folds grouped by artist (Sturm's index; rows
    of unknown artist grouped per genre) so no test artist is in training, or stratified by
    track with --cv-by track. The candidate is chosen inside each fold."""
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    from genre_core.inference.dataset import load_artist_index
    from genre_core.models.table import TableModel
    from genre_core.training.evaluation import evaluate_predictions

    by_artist = getattr(args, "cv_by", "artist") == "artist"
    if by_artist:
        artists = load_artist_index(getattr(args, "artists", None))
        if not artists:
            raise GenreError("--cv-by artist needs the artist index (GTZANindex.txt; --artists)")
        groups = [artists.get(i) or f"(unknown {g} artist)" for i, g in zip(ids, table.labels)]
        folds = GroupKFold(args.cv).split(table.X, y, groups)
        name = "artist"
        described = (f"{args.cv} folds grouped by artist (Sturm's GTZAN index) over all "
                     f"{len(y)} table rows; no test artist in training; candidate chosen "
                     "inside each fold")
    else:
        folds = StratifiedKFold(args.cv, shuffle=True, random_state=args.seed).split(table.X, y)
        name = f"table-kfold{args.cv}"
        described = (f"{args.cv}-fold stratified by track over all {len(y)} table rows "
                     "(candidate chosen inside each fold on a carved validation part)")
    oof = np.zeros((len(y), len(labels)))
    fold_of = {}
    for k, (a, b) in enumerate(folds):
        m = TableModel(labels, "corrected", {"refit": True, **cand})
        m.fit(table.X[a], y[a], None, None, config)
        oof[b] = m.predict_proba(table.X[b])
        fold_of.update({ids[i]: k for i in b})
        eprint(f"  {args.cv}-fold cv ({name}): fold {k + 1} done (kept {m.params.get('kept')})")
    ev = evaluate_predictions(labels, dict(zip(ids, table.labels)),
                              {i: oof[k:k + 1] for k, i in enumerate(ids)}, folds=fold_of)
    ev.update(model="features", variant="corrected", split=name, split_description=described,
              learning_curves=[], augmented=False, n_folds=args.cv)
    eprint(f"{args.cv}-fold accuracy ({name}): {ev['track_accuracy']:.1%}")
    return ev


def train_table(args) -> int:
    from sklearn.model_selection import train_test_split

    from genre_core.config import FeatureConfig, TrainConfig
    from genre_core.features.kaggle import read_feature_table
    from genre_core.inference.bundle import DEFAULT_BUNDLE, read_bundle_report, save_bundle
    from genre_core.models.table import TableModel

    table = read_feature_table(args.csv)
    for s in table.skipped:
        eprint(f"skipped: {s}")
    if len(table.labels) < 10:
        raise GenreError(f"{args.csv}: only {len(table.labels)} usable rows; too few to train")
    out = Path(args.out) if args.out else DEFAULT_BUNDLE
    from genre_core.inference.bundle import recover_bundle

    recover_bundle(out)
    keep, labels = {}, label_order(table.labels)
    report = Report(models={}, evaluations=[])
    feature_config = FeatureConfig()
    if (out / "bundle.json").exists():
        meta, report = read_bundle_report(out)
        if set(labels) - set(meta["labels"]):
            raise GenreError(f"{args.csv}: genres {sorted(set(labels) - set(meta['labels']))} "
                             f"are not in the bundle at {out}")
        labels = meta["labels"]
        feature_config = FeatureConfig.from_dict(meta["feature_config"])
        keep = {n: e for n, e in meta["models"].items() if n != "features"}
    ids = [Path(f).stem for f in table.filenames]
    y = np.array([labels.index(g) for g in table.labels])
    config = TrainConfig(seed=args.seed)
    names = [c.strip() for c in args.candidates.split(",") if c.strip()]
    cand = {"candidate_names": names} if names else {}
    if getattr(args, "preprocess", "standard") != "standard":
        cand["preprocess"] = args.preprocess

    if args.split == "filtered":
        parts = _filtered_parts(table.filenames, args.splits_dir)
        tr, va = parts["train"], parts["valid"]
        if not tr or not va:
            raise GenreError(f"{args.csv}: no rows of the artist-filtered train/valid lists")
        described = (f"artist-filtered split (Kereliuk, Sturm & Larsen 2015): fit on "
                     f"{len(tr)} train rows, chosen on {len(va)} valid rows; "
                     f"{len(parts['test'])} test rows present were not used")
    else:
        tr, va = train_test_split(np.arange(len(y)), test_size=0.2, random_state=args.seed,
                                  stratify=y)
        tr, va = list(tr), list(va)
        described = f"stratified random split by track: {len(tr)} train, {len(va)} valid rows"
    eprint(f"table: {described}")
    start = time.perf_counter()
    model = TableModel(labels, "corrected", {"refit": False, **cand})
    history = model.fit(table.X[tr], y[tr], table.X[va], y[va], config)
    fit_seconds = time.perf_counter() - start
    valid_eval = _evaluate_rows(model, table.X[va], [table.labels[i] for i in va], labels,
                                [ids[i] for i in va], f"table-{args.split}-valid", described)
    eprint(f"candidates (valid accuracy): {model.params.get('candidates')}; kept "
           f"{model.params.get('kept')}: {valid_eval['track_accuracy']:.1%} on valid rows")
    evaluations = [valid_eval]

    if args.cv:
        evaluations.append(_cross_validate_rows(table, ids, y, labels, config, cand, args))

    # the shipped model: kept candidate refitted on train + valid rows
    final = TableModel(labels, "corrected", {"refit": True, **cand})
    final.fit(table.X[tr], y[tr], table.X[va], y[va], config)
    report.evaluations = [e for e in report.evaluations if e.model != "features"] + [
        Evaluation.from_dict(e, f"evaluations[{i}]") for i, e in enumerate(evaluations)]
    report.models["features"] = ModelEntry(
        family="features", variant=final.params.get("kept"), feature="kaggle",
        trained_on=f"{args.csv}: {len(tr) + len(va)} rows ({described}); kept candidate "
                   "refitted on train + valid rows",
        candidates=model.params.get("candidates"), history=history,
        train_seconds=round(fit_seconds, 2), skipped_rows=table.skipped, table_rows=len(y))
    save_bundle(out, {"features": final}, labels, feature_config, report, keep=keep)
    print(f"features model ({final.params.get('kept')}): valid accuracy "
          f"{valid_eval['track_accuracy']:.1%}" +
          (f", {args.cv}-fold accuracy ({evaluations[-1]['split']}) "
           f"{evaluations[-1]['track_accuracy']:.1%}" if args.cv else "")
          + f"; bundle {out}")
    return 0


def evaluate_table(args) -> int:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    from genre_core.features.kaggle import read_feature_table
    from genre_core.inference.bundle import load_bundle

    bundle = load_bundle(args.bundle, names=["features"])
    if "features" not in bundle.models:
        raise GenreError(f"{bundle.path}: bundle has no 'features' model (run train-table)")
    table = read_feature_table(args.csv)
    for s in table.skipped:
        eprint(f"skipped: {s}")
    labels = bundle.labels
    rows = [i for i, g in enumerate(table.labels) if g in labels]
    for i in set(range(len(table.labels))) - set(rows):
        eprint(f"skipped: {table.filenames[i]}: genre {table.labels[i]!r} unknown to the bundle")
    if not rows:
        raise GenreError(f"{args.csv}: no rows with a genre the bundle knows")
    probs = bundle.models["features"].predict_proba(table.X[rows])
    truth = [labels.index(table.labels[i]) for i in rows]
    pred = list(probs.argmax(axis=1))
    result = {"n": len(rows), "accuracy": float(accuracy_score(truth, pred)),
              "macro_f1": float(f1_score(truth, pred, average="macro",
                                         labels=sorted(set(truth)), zero_division=0)),
              "confusion": confusion_matrix(truth, pred, labels=list(range(len(labels)))).tolist(),
              "labels": labels}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['n']} rows: accuracy {result['accuracy']:.1%}, "
              f"macro F1 {result['macro_f1']:.3f}")
        print(" " * 10 + " ".join(f"{g[:5]:>5}" for g in labels))
        for g, row in zip(labels, result["confusion"]):
            print(f"{g:>10}" + " ".join(f"{v:>5}" for v in row))
    return 0
