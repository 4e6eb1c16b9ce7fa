"""train-ensemble: learn the bundle's calibrated `ensemble` from its models' out-of-fold
track probabilities (the artist-grouped cross-validation figures already in report.json)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from genre_core.cli.common import eprint
from genre_core.errors import GenreError
from genre_core.report import Evaluation, ModelEntry


def train_ensemble(args) -> int:
    from genre_core.config import FeatureConfig
    from genre_core.inference.bundle import DEFAULT_BUNDLE, read_bundle_report, save_bundle
    from genre_core.inference.dataset import load_artist_index
    from genre_core.inference.ensemble import MIN_WEIGHT, Ensemble, highest_answer, reliability
    from genre_core.inference.track_views import track_view
    from genre_core.training.ensemble import cross_validate_ensemble, out_of_fold
    from genre_core.training.evaluation import evaluate_predictions, view_metrics

    out = Path(args.bundle) if args.bundle else DEFAULT_BUNDLE
    meta, report = read_bundle_report(out)
    labels = meta["labels"]
    oof = out_of_fold(report, meta, args.split)
    wanted = [m.strip() for m in args.members.split(",") if m.strip()] if args.members else list(oof)
    missing = [m for m in wanted if m not in oof]
    if missing:
        raise GenreError(f"{out}: no '{args.split}' out-of-fold figures for {', '.join(missing)} "
                         "in report.json (train them with --split artist first)")
    if not wanted:
        raise GenreError(f"{out}: no model has '{args.split}' out-of-fold figures in report.json")
    common = sorted(set.intersection(*(set(oof[m]) for m in wanted)))
    truth = report.track_truth()
    common = [t for t in common if truth.get(t) in labels]
    if len(common) < 20:
        raise GenreError(f"{out}: only {len(common)} tracks have out-of-fold predictions from "
                         f"every member ({', '.join(wanted)}); too few to learn an ensemble")
    y = np.array([labels.index(truth[t]) for t in common])
    X = {m: np.stack([oof[m][t] for t in common]) for m in wanted}
    artists = load_artist_index(args.artists, report.sources)
    groups = [artists.get(t) or f"(unknown {truth[t]} artist)" for t in common]
    known_views = report.track_views
    view_of = {t: known_views.get(t) or track_view(t) for t in common}
    views = [view_of[t] for t in common]
    eprint(f"ensemble of {', '.join(wanted)} on {len(common)} tracks, "
           f"{len(set(groups))} artists; views: "
           + ", ".join(f"{v} {views.count(v)}" for v in sorted(set(views))))

    nested = cross_validate_ensemble(labels, X, y, groups, n_folds=args.folds, views=views)
    figures = evaluate_predictions(labels, truth, {t: nested["calibrated"][k:k + 1]
                                                   for k, t in enumerate(common)})
    figures["views"] = view_metrics(figures["per_track"], view_of)
    figures["verdict"] = nested["verdict"]
    kind = (f"{args.folds} folds grouped by artist" if args.folds
            else f"leave-one-artist-out ({len(set(groups))} artists)")
    figures.update(model="ensemble", variant="calibrated", split=args.split,
                   split_description=f"nested: weights, temperature, floor and threshold "
                   f"fitted on the other artists' out-of-fold predictions ({kind}); members' "
                   "out-of-fold predictions "
                   f"from their own '{args.split}' cross-validation", learning_curves=[],
                   augmented=False, ece_before=nested["ece_before"],
                   ece_after=nested["ece_after"], nll_before=nested["nll_before"],
                   nll_after=nested["nll_after"], reliability_before=nested["reliability_before"],
                   reliability_after=nested["reliability_after"],
                   reliability_views=nested["reliability_views"], members=wanted)
    ev = Evaluation.from_dict(figures, "the ensemble's evaluation")
    view_figures = ev.views or {}
    for m in wanted:   # the members on the same tracks, for a like-for-like comparison
        r = reliability(X[m], y)
        eprint(f"  {m:<9} track accuracy {float((X[m].argmax(1) == y).mean()):.1%}, "
               f"ECE {r['ece']:.3f}")
    eprint(f"  ensemble  track accuracy {ev.track_accuracy:.1%}, macro F1 "
           f"{ev.macro_f1:.3f}, ECE {nested['ece_before']:.3f} -> {nested['ece_after']:.3f}")
    for v, fig in nested["verdict"].items():
        acc = view_figures[v]
        sel, two = fig["selective_accuracy"], fig["top2_hit_rate"]
        eprint(f"  {v:<12} track accuracy {acc.track_accuracy:.1%}, balanced "
               f"{acc.balanced_accuracy:.1%}; verdict names one genre for "
               f"{fig['coverage']:.0%}, right {'-' if sel is None else f'{sel:.0%}'}; truth "
               f"in 'A or B' {'-' if two is None else f'{two:.0%}'}; ECE {fig['ece']:.3f}")

    final = Ensemble.fit(labels, X, y, np.asarray(views, dtype=object))
    left = [m for m in wanted if m not in final.members]
    left_out = (f" ({', '.join(left)} left out: weight under {MIN_WEIGHT:.0%})" if left else "")
    final.info = {"trained_on": f"out-of-fold '{args.split}' predictions of {len(common)} "
                  f"tracks by {len(set(groups))} artists",
                  "track_accuracy": ev.track_accuracy, "macro_f1": ev.macro_f1,
                  "ece_before": nested["ece_before"], "ece_after": nested["ece_after"],
                  "views": figures["views"], "verdict": nested["verdict"]}
    report.evaluations = [e for e in report.evaluations
                          if not (e.model == "ensemble" and e.split == args.split)] + [ev]
    report.models["ensemble"] = ModelEntry(
        family="ensemble", variant="calibrated", members=final.members,
        weights=dict(zip(final.members, final.weights)), temperature=final.temperature,
        floor=final.floor, unsure_below=final.unsure_below, trained_on=final.info["trained_on"])
    save_bundle(out, {}, labels, FeatureConfig.from_dict(meta["feature_config"]), report,
                keep=meta["models"], ensemble=final)
    print(f"ensemble: weights {', '.join(f'{m} {w:.2f}' for m, w in zip(final.members, final.weights))}"
          f"{left_out}, "
          f"temperature {final.temperature:.2f}, floor {final.floor:.3f} (answers up to "
          f"{highest_answer(final.floor, len(labels)):.0%}), 'not sure' below "
          f"{final.unsure_below:.0%}; held-out track accuracy "
          f"{ev.track_accuracy:.1%}, ECE {nested['ece_before']:.3f} -> "
          f"{nested['ece_after']:.3f}; bundle {out}")
    return 0
