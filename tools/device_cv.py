"""Leave-one-artist-out of the Keras segment models on a lent accelerator machine.

`train --split artist` runs the 94 LOAO folds one after another: on 2 CPU cores the LSTM
takes about 2.5 h and the mel CNN with its copies about 3 h. A lent GPU machine has neither
the audio nor TensorFlow, so this tool splits the work in three:

  pack   (here)   the features `train` would use (read through Genre Studio's cache), the
                  artist split (LOAO, or --artist-folds K) and the training settings,
                  written to --pack (npz + json).
  run    (there)  the same `fit_model` / `predict_tracks` per fold as `cross_validate`, the
                  folds shared between --workers processes, Keras on the JAX backend; writes
                  the evaluations (`evaluate_predictions`) as JSON.
  merge  (here)   adds those evaluations to the bundle's report, as `train --no-final`
                  does, so the README, the model card and Compare show them.

Usage: python -m tools.device_cv pack --models lstm,cnn_mel --pack .device_pack
       KERAS_BACKEND=jax python -m tools.device_cv run --pack .device_pack --out DIR
       python -m tools.device_cv merge DIR/evaluations.json
The mel blocks travel in 8-bit steps of 0.31 dB to fit the 64 MiB the machine takes.
"""
from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = [str(ROOT.parent / "shared/gtzan"), str(ROOT.parent / "shared/gtzan/extra")]
# the mel blocks (dB in [-80, 0]) travel as 8-bit steps of 80/255 dB, to fit the 64 MiB the
# machine takes (a rounding error of at most 0.16 dB, against the 80-dB range the CNN sees)
QUANTISED = {"logmel": -80.0, "logmel_rec": -80.0}
STEP = 80.0 / 255


def pack(args) -> None:
    from genre_core.config import FeatureConfig, TrainConfig
    from genre_core.inference.bundle import DEFAULT_BUNDLE, read_bundle_meta
    from genre_core.inference.cache import FeatureCache
    from genre_core.inference.dataset import index_dataset
    from genre_core.models import model_class
    from genre_core.training.augment import augmentations
    from genre_core.training.pipeline import load_features
    from genre_core.training.splits import make_split

    meta, report = read_bundle_meta(DEFAULT_BUNDLE)
    config = FeatureConfig.from_dict(meta["feature_config"])
    tconf = TrainConfig(**{**report["train_config"],
                           **({"seed": args.seed} if args.seed is not None else {})})
    ds = index_dataset(DATA)
    models = {}
    features: dict[str, dict[str, np.ndarray]] = {}
    for family in args.models.split(","):
        kind = model_class(family).feature
        augmented = bool(report["models"][family].get("augmented"))
        kinds = [kind] + ([augmentations()[kind][0]] if augmented else [])
        for k in kinds:
            if k not in features:
                features[k] = load_features(ds, k, config, FeatureCache(), None, {})
        models[family] = {"variant": report["models"][family]["variant"], "kind": kind,
                          "copies": kinds[1] if augmented else None}
    tracks = [t for t in ds.tracks if all(t.id in features[m["kind"]] for m in models.values())]
    split = make_split("artist", tracks, seed=tconf.seed, artist_folds=args.artist_folds)
    write_pack(Path(args.pack), features, models, meta["labels"], {t.id: t.genre for t in tracks},
               tconf, split)
    size = sum(p.stat().st_size for p in Path(args.pack).iterdir()) / 2**20
    print(f"packed {len(tracks)} tracks, {len(split.folds)} folds, {list(models)}: {size:.0f} MiB")


def write_pack(out: Path, features: dict[str, dict[str, np.ndarray]], models: dict,
               labels: list[str], genre_of: dict[str, str], tconf, split) -> None:
    """features: kind -> track id -> units; models: family -> {variant, kind, copies}."""
    arrays = {f"{kind}/{tid}": (
        np.round((units - QUANTISED[kind]) / STEP).clip(0, 255).astype(np.uint8)
        if kind in QUANTISED else units.astype(np.float32))
        for kind, by_id in features.items() for tid, units in by_id.items()}
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / "features.npz", **arrays)
    (out / "plan.json").write_text(json.dumps({
        "models": models, "labels": labels, "genre_of": genre_of,
        "train_config": tconf.to_dict(),
        "split": {"name": split.name, "description": split.description,
                  "evaluated_genres": split.evaluated_genres,
                  "folds": [[f.train, f.valid, f.test] for f in split.folds]}}))


def _plan(pack_dir: Path) -> dict:
    return json.loads((pack_dir / "plan.json").read_text())


def _load(pack_dir: Path) -> tuple[dict, dict[str, dict[str, np.ndarray]]]:
    """The plan and the features, kind -> track id -> float32 units (mel steps undone)."""
    plan = _plan(pack_dir)
    with np.load(pack_dir / "features.npz") as f:
        by_kind: dict[str, dict[str, np.ndarray]] = {}
        for key in f.files:
            kind, tid = key.split("/", 1)
            units = f[key].astype(np.float32)
            if kind in QUANTISED:
                units = units * np.float32(STEP) + np.float32(QUANTISED[kind])
            by_kind.setdefault(kind, {})[tid] = units
    return plan, by_kind


def _split(plan: dict):
    from genre_core.training.splits import Fold, Split

    sp = plan["split"]
    return Split(sp["name"], sp["description"], [Fold(*f) for f in sp["folds"]],
                 sp["evaluated_genres"])


def _run_folds(pack_dir: str, family: str, fold_ids: list[int]) -> list[tuple[int, tuple]]:
    """`fit_fold` on the given folds in this process (one per worker): [(k, its result)]."""
    from genre_core.config import TrainConfig
    from genre_core.training.fitting import fit_fold
    from genre_core.training.recording_copies import CopyAugmenter

    plan, by_kind = _load(Path(pack_dir))
    m = plan["models"][family]
    tconf = TrainConfig(**plan["train_config"])
    features = by_kind[m["kind"]]
    augment = CopyAugmenter(by_kind[m["copies"]]) if m["copies"] else None
    folds = _split(plan).folds
    done = []
    for k in fold_ids:
        done.append((k, fit_fold(family, m["variant"], folds[k], features, plan["genre_of"],
                                  plan["labels"], tconf, augment=augment)))
        probs, history, secs = done[-1][1]
        print(f"{family} fold {k + 1}: {len(probs)} test tracks, "
              f"{len(history.get('loss', []))} epochs, {secs:.1f} s", flush=True)
    return done


def evaluate_family(pack_dir: str, family: str, workers: int, limit: int = 0,
                    machine: str = "") -> dict:
    """`cross_validate`'s evaluation of one packed model, its folds shared between
    `workers` processes (0: all in this process)."""
    from genre_core.training.fitting import cv_evaluation

    plan = _plan(Path(pack_dir))
    n_folds = limit or len(plan["split"]["folds"])      # limit: a smoke test only
    start = time.perf_counter()
    chunks = [list(range(w, n_folds, max(1, workers))) for w in range(max(1, workers))]
    if workers:
        # spawn: each worker starts its own JAX runtime (a forked one would share the parent's)
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            parts = list(pool.map(_run_folds, [pack_dir] * len(chunks),
                                  [family] * len(chunks), chunks))
    else:
        parts = [_run_folds(pack_dir, family, chunks[0])]
    folds = [result for _, result in sorted((d for part in parts for d in part),
                                            key=lambda d: d[0])]
    m = plan["models"][family]
    ev = cv_evaluation(family, m["variant"], _split(plan), plan["genre_of"], plan["labels"],
                       folds, augmented=m["copies"] is not None)
    ev.update(seconds=round(time.perf_counter() - start, 1), computed_on=machine)
    return ev


def run(args) -> None:
    plan = _plan(Path(args.pack))
    evaluations = []
    for family in args.models.split(",") if args.models else plan["models"]:
        ev = evaluate_family(args.pack, family, args.workers, args.limit, args.machine)
        evaluations.append(ev)
        print(f"{family}: track accuracy {ev['track_accuracy']:.3f}, segment "
              f"{ev['segment_accuracy']:.3f}, macro F1 {ev['macro_f1']:.3f}, "
              f"{ev['seconds']:.0f} s", flush=True)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "evaluations.json").write_text(json.dumps(evaluations, default=float))


def merge(args) -> None:
    from genre_core.inference.bundle import DEFAULT_BUNDLE, read_bundle_meta
    from genre_core.training.pipeline import merge_evaluations

    evaluations = json.loads(Path(args.evaluations).read_text())
    merge_evaluations(DEFAULT_BUNDLE, evaluations, read_bundle_meta(DEFAULT_BUNDLE)[0]["labels"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack")
    p.add_argument("--models", default="lstm,cnn_mel")
    p.add_argument("--pack", default=".device_pack")
    p.add_argument("--seed", type=int, default=None,
                   help="another training seed than the report's (a run-to-run spread check)")
    p.add_argument("--artist-folds", type=int, default=0,
                   help="0: leave one artist out (default); K: K folds grouped by artist")
    p = sub.add_parser("run")
    p.add_argument("--pack", default=".device_pack")
    p.add_argument("--out", required=True)
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--models", default="", help="default: every packed model")
    p.add_argument("--machine", default="a lent GPU machine, Keras on JAX")
    p.add_argument("--limit", type=int, default=0, help="run the first N folds only")
    p = sub.add_parser("merge")
    p.add_argument("evaluations")
    args = ap.parse_args()
    {"pack": pack, "run": run, "merge": merge}[args.command](args)


if __name__ == "__main__":
    main()
