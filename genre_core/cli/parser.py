"""Command line: python -m genre_core {train,evaluate,predict,train-table,train-ensemble,
evaluate-table,bench}: the arguments and the dispatch to genre_core.cli.commands.

Heavy modules (TensorFlow, librosa) are imported inside the subcommands so --help is instant.
"""
from __future__ import annotations

import argparse
import sys

from genre_core.cli.common import add_data_arg, add_feature_args
from genre_core.errors import GenreError
from genre_core.models import FAMILIES  # the registry only: no model module is imported


def _share(text: str) -> float:
    """A number from 0 to 1 (argparse reports anything else in one line)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 0 to 1")
    return value


def _count(text: str) -> int:
    """A whole number of 1 or more (argparse reports anything else in one line)."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m genre_core",
                                     description="Genre Studio: music genre classification on "
                                                 "GTZAN-style data: the seed's MLP, CNN and LSTM, "
                                                 "musicnn transfer, the Kaggle-table model and "
                                                 "their calibrated ensemble.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="extract features, cross-validate every model variant, "
                       "fit the final models and write a bundle")
    add_data_arg(p)
    p.add_argument("--split", default="kfold,artist",
                   help="comma list of random|kfold|artist|filtered, or none to only fit the "
                        "final models (default kfold,artist; artist = leave-one-artist-out)")
    p.add_argument("--models", default="mlp,cnn", help="comma list of the registered families: "
                   + ",".join(f for f in FAMILIES if f != "features")
                   + " (features trains with train-table)")
    p.add_argument("--variants", default="plain,corrected",
                   help="variants to evaluate (the bundle ships the corrected one)")
    p.add_argument("--out", default=None, help="bundle folder (default assets/models/default)")
    p.add_argument("--epochs", type=int, default=None, help="maximum epochs per fit")
    p.add_argument("--folds", type=int, default=5, help="k for --split kfold")
    p.add_argument("--artist-folds", type=int, default=0,
                   help="for --split artist: 0 = one fold per artist (leave-one-artist-out), "
                        "K = artists grouped into K folds (faster)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--artists", default=None, help="artist index (GTZANindex.txt format)")
    p.add_argument("--splits-dir", default=None, help="folder with {train,valid,test}_filtered.txt")
    p.add_argument("--distill-from", default=None, metavar="FAMILY",
                   help="teacher for the 'distilled' variant of the MFCC models (e.g. "
                        "musicnn4): soft targets mix the label and the teacher's "
                        "out-of-fold probabilities for the same 3-s segment")
    p.add_argument("--distill-weight", type=_share, default=0.5, metavar="W",
                   help="the teacher's share of the soft targets, 0-1 (default 0.5)")
    p.add_argument("--networks", type=_count, default=1, metavar="N",
                   help="segment models (MLP, CNN, LSTM, mel CNN): average N networks, each "
                        "trained from its own seed (seed, seed + 1, ...) (default 1)")
    p.add_argument("--straddling", action="store_true",
                   help="segment models: also train on the 3-s units straddling each two "
                        "consecutive segments of a training track (second half of one, first "
                        "half of the next): about twice the training units")
    p.add_argument("--final-variant", default="corrected", choices=["corrected", "distilled"],
                   help="variant of the MFCC models fitted for the bundle (default corrected)")
    p.add_argument("--augment", action="store_true",
                   help="also evaluate with training-set augmentation: two copies of each "
                        "training clip that sound like people's own recordings (MP3, "
                        "limiter, EQ, low-pass), for the MFCC models, the mel CNN and "
                        "musicnn4")
    p.add_argument("--augment-only", action="store_true",
                   help="with --augment: skip the runs without augmentation, and ship the final "
                        "models trained with it")
    p.add_argument("--cache", default=None, help="feature cache folder")
    p.add_argument("--no-cache", action="store_true")
    p.add_argument("--jobs", type=int, default=None, help="extraction processes (default: cores)")
    p.add_argument("--evaluations-json", default=None,
                   help="also write the evaluations to this JSON file")
    p.add_argument("--no-final", action="store_true",
                   help="only evaluate: add the figures to the existing bundle's report, "
                        "keep its models")
    add_feature_args(p)

    p = sub.add_parser("evaluate", help="re-evaluate a bundle on a labelled dataset")
    p.add_argument("--bundle", default=None, help="bundle folder (default: the shipped one)")
    add_data_arg(p)
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--cache", default=None)
    p.add_argument("--jobs", type=int, default=None)
    p.add_argument("--into-report", action="store_true",
                   help="keep each model's predictions for tracks it never trained on, by "
                        "artists it never heard (GTZAN's whole index counts as heard), in the "
                        "bundle's report as split 'held-out': train-ensemble then learns from "
                        "them where a model has no cross-validated figure for a track")

    p = sub.add_parser("predict", help="predict the genre of audio files or folders")
    p.add_argument("files", nargs="+", metavar="FILE_OR_DIR",
                   help="audio files; a folder is searched recursively for audio files")
    p.add_argument("--csv", default=None, metavar="OUT",
                   help="write one row per file (each model's genre and top probability, or "
                        "the error) to OUT instead of printing lines")
    p.add_argument("--jobs", type=int, default=None,
                   help="processes for several files (default: one per core; 1 = no pool)")
    p.add_argument("--bundle", default=None, help="bundle folder (default: the shipped one)")
    p.add_argument("--json", action="store_true", help="print a JSON list with probabilities "
                   "and per-segment probabilities")
    p.add_argument("--models", default=None,
                   help="comma list of the bundle's models to run (default: all)")
    add_feature_args(p)

    p = sub.add_parser("train-table", help="train the 'features' model on a Kaggle-format "
                       "feature table and add it to a bundle")
    p.add_argument("--csv", required=True, help="features_30_sec.csv (any subset of rows)")
    p.add_argument("--split", default="filtered", choices=["filtered", "random"],
                   help="filtered: train on the train rows, choose on the valid rows of the "
                        "artist-filtered split; random: stratified random validation rows")
    p.add_argument("--splits-dir", default=None)
    p.add_argument("--out", default=None, help="bundle folder (default assets/models/default)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--cv", type=int, default=10, help="k of the k-fold figure (0 = skip)")
    p.add_argument("--cv-by", default="artist", choices=["artist", "track"],
                   help="artist: folds grouped by artist (the honest figure, and the "
                        "out-of-fold probabilities the ensemble learns from); track: "
                        "stratified by track")
    p.add_argument("--artists", default=None, help="artist index (GTZANindex.txt format)")
    p.add_argument("--candidates", default="",
                   help="comma list of logreg,svm,gbm,mlp,vote,lda,lda_vote to compare "
                        "(default all). An SVM keeps training rows as support vectors: leave "
                        "it out of a bundle you share if the table must not be redistributed")
    p.add_argument("--preprocess", default="standard", choices=["standard", "power"],
                   help="standard: log of the variance columns, then standardise; power: also "
                        "drop the rms (loudness) columns and Yeo-Johnson-transform each column")

    p = sub.add_parser("train-ensemble", help="learn the calibrated 'ensemble' of a bundle's "
                       "models from their out-of-fold (artist split) track probabilities")
    p.add_argument("--bundle", default=None, help="bundle folder (default: the shipped one)")
    p.add_argument("--members", default="", help="comma list of models to combine (default: "
                   "every model with out-of-fold figures)")
    p.add_argument("--split", default="artist", help="which cross-validation's out-of-fold "
                   "predictions to learn from (default artist)")
    p.add_argument("--folds", type=int, default=0, help="nested evaluation: 0 = leave one "
                   "artist out, K = K artist-grouped folds")
    p.add_argument("--artists", default=None, help="artist index (GTZANindex.txt format)")

    p = sub.add_parser("evaluate-table", help="accuracy of a bundle's 'features' model on the "
                       "rows of a Kaggle-format table")
    p.add_argument("--csv", required=True)
    p.add_argument("--bundle", default=None)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("bench", help="measure prediction latency, cold start, extraction, "
                       "training and memory against the naive pipeline")
    p.add_argument("--models", default="",
                   help="comma list of the bundle's models to time (default: all, what "
                        "`predict` runs)")
    p.add_argument("--quick", action="store_true", help="fewer repetitions")
    p.add_argument("--out", default="bench/results.json")
    p.add_argument("--data", default=None)
    p.add_argument("--skip", default="", help="comma list of sections to skip: latency, cold, "
                   "batch, app, class, class_headless, extraction, training, memory, growth")
    p.add_argument("--bundle", default=None, help="bundle folder (default: the shipped one; a "
                   "quick 2-epoch bundle is fitted when there is none)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from genre_core.cli import commands

    try:
        return getattr(commands, args.command.replace("-", "_"))(args)
    except GenreError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; the previous bundle (if any) was left in place", file=sys.stderr)
        return 130
