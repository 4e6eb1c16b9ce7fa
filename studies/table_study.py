"""Study of the table model's candidates on the Kaggle feature table (features_30_sec.csv).

Prints, for each candidate and for the kept model:
  1. accuracy on the valid rows of the artist-filtered split (Kereliuk et al. 2015) when
     trained on its train rows (only rows present in the CSV; the test rows are held back);
  2. 10-fold stratified accuracy over all rows of the CSV, by track (random folds: the same
     artist can sit in train and test folds, so this is optimistic -- it is the number the
     Kaggle notebooks quote).

In part 1 the model is fitted with refit=False, so every candidate and the kept one are the
models fitted on the train rows alone and scored on the valid rows.
In part 2 each fold calls TableModel.fit(train folds, no validation): a stratified 20 % of the
training folds is carved off for selection; each candidate's fold accuracy is the candidate as
fitted on the remaining 80 %, while the kept model is refitted on all training folds (what
`TableModel` ships). Usage: python -m studies.table_study [--data ROOT] [--folds 10]
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from genre_core.config import GENRES, TrainConfig
from genre_core.features.kaggle import read_feature_table
from genre_core.models.table import CANDIDATES, TableModel


def split_names(root: Path, part: str) -> set[str]:
    lines = (root / "splits" / f"{part}_filtered.txt").read_text().split()
    return {line.split("/")[-1] for line in lines if line.strip()}


def main() -> None:
    default_root = os.environ.get("GENRE_DATA_ROOT",
                                  Path(__file__).resolve().parents[2] / "shared" / "gtzan")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path(default_root))
    ap.add_argument("--folds", type=int, default=10)
    args = ap.parse_args()

    table = read_feature_table(args.data / "Data" / "features_30_sec.csv")
    for msg in table.skipped:
        print("skipped:", msg)
    labels = list(GENRES)
    y = np.array([labels.index(lab) for lab in table.labels])
    names = np.array(table.filenames)
    config = TrainConfig()
    print(f"table: {len(y)} rows x {table.X.shape[1]} features")

    # ---- 1. artist-filtered split: train rows -> valid rows
    tr = np.isin(names, list(split_names(args.data, "train")))
    va = np.isin(names, list(split_names(args.data, "valid")))
    te = np.isin(names, list(split_names(args.data, "test")))
    print(f"artist-filtered split rows in table: train {tr.sum()}, valid {va.sum()}, "
          f"test {te.sum()} (test rows are held back from the shared table)")
    m = TableModel(labels, "corrected", {"refit": False})
    t = time.perf_counter()
    m.fit(table.X[tr], y[tr], table.X[va], y[va], config)
    split_fit = time.perf_counter() - t
    split_acc = dict(m.params["candidates"])
    kept_split = m.params["kept"]
    check = float(np.mean(m.predict_proba(table.X[va]).argmax(1) == y[va]))
    assert abs(check - split_acc[kept_split]) < 1e-9
    print(f"fit time {split_fit:.1f} s; per candidate (s): {m.params['candidate_seconds']}")

    # ---- 2. k-fold over all tracks
    from sklearn.model_selection import StratifiedKFold

    skf = StratifiedKFold(args.folds, shuffle=True, random_state=config.seed)
    fold_acc: dict[str, list[float]] = {c: [] for c in CANDIDATES}
    fold_acc["kept"] = []
    kept_counts: dict[str, int] = {}
    fit_times = []
    for i, (a, b) in enumerate(skf.split(table.X, y)):
        fm = TableModel(labels, "corrected", {"refit": True})
        t = time.perf_counter()
        fm.fit(table.X[a], y[a], None, None, config)
        fit_times.append(time.perf_counter() - t)
        for c in CANDIDATES:
            if c in fm.candidates_:
                fold_acc[c].append(float(np.mean(fm.candidate_proba(c, table.X[b]).argmax(1)
                                                 == y[b])))
        fold_acc["kept"].append(float(np.mean(fm.predict_proba(table.X[b]).argmax(1) == y[b])))
        kept_counts[fm.params["kept"]] = kept_counts.get(fm.params["kept"], 0) + 1
        print(f"fold {i + 1}/{args.folds}: kept {fm.params['kept']}, "
              f"acc {fold_acc['kept'][-1]:.3f}, fit {fit_times[-1]:.1f} s", flush=True)

    print()
    print(f"{'candidate':<22} {'valid (artist split)':>21} {f'{args.folds}-fold mean ± sd':>20}")
    for c in list(CANDIDATES) + ["kept"]:
        v = split_acc.get(kept_split if c == "kept" else c, float("nan"))
        label = f"kept ({kept_split})" if c == "kept" else c
        f = np.array(fold_acc[c])
        print(f"{label:<22} {v:>21.3f} {f.mean():>13.3f} ± {f.std():.3f}")
    print(f"kept per fold: {kept_counts}")
    print(f"fit time: split {split_fit:.1f} s (refit=False); k-fold with refit "
          f"mean {np.mean(fit_times):.1f} s, max {np.max(fit_times):.1f} s")


if __name__ == "__main__":
    main()
