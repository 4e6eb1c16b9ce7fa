"""Nested artist-grouped CV study of the table ("features") model on features_30_sec.csv.

Issue #9 part 5. Every candidate is a scikit-learn Pipeline (+ an inner hyper-parameter grid):

* outer loop: GroupKFold(10) with groups = artist (Sturm's GTZANindex; a track of unknown
  artist goes to the group "(unknown <genre>)"). Reported: pooled accuracy and macro F1 over
  all rows of the out-of-fold predictions, plus the mean ± sd of the fold accuracies;
* inner loop: every hyper-parameter, k of SelectKBest and (for "fs=inner") the feature set is
  chosen by GridSearchCV with GroupKFold(5) by artist on the outer TRAINING fold only, then
  refitted on the whole outer training fold;
* second view: the same procedure fitted on the artist-filtered train rows, scored on the
  artist-filtered valid rows (the test rows are held back from the shared table).

Stage 1 crosses preprocessing {logvar+std (current), quantile(normal), logvar+power} with
feature sets {all57, no_rms, no_rms_tempo, level_inv} for logreg and RBF-SVM. The stage-2
base (prep, feature set) is picked by a rule fixed before running: best mean of the logreg
and SVM pooled accuracies; a level-invariant set within 0.5 point of the best is preferred
(level varies with mastering; what generalises to real recordings matters more than 0.5 pt).
Stage 2 on that base: SelectKBest (f_classif / mutual information), inner choice of the
feature set, LDA, kNN, ExtraTrees, RandomForest, HistGradientBoosting, soft votes, and the
best single model with/without class weighting.

Caveat: picking the best of N candidates by the same outer folds is mildly optimistic; the
outer score of the winner is a report, not an unbiased estimate.

Usage: OMP_NUM_THREADS=1 python -m studies.table_cv_study [--data ROOT] [--out FILE]
Results: studies/RESULTS.md.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
from joblib import Memory
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.ensemble import ExtraTreesClassifier, HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectKBest, f_classif, mutual_info_classif
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import GridSearchCV, GroupKFold, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import PowerTransformer, QuantileTransformer, StandardScaler
from sklearn.svm import SVC

from genre_core.config import GENRES
from genre_core.features.kaggle import KAGGLE_COLUMNS, read_feature_table
from genre_core.inference.dataset import load_artist_index

warnings.filterwarnings("ignore", category=ConvergenceWarning)
warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", category=UserWarning)

SEED = 0
OUTER, INNER = 10, 5
N_CLASSES = len(GENRES)
COL = {c: i for i, c in enumerate(KAGGLE_COLUMNS)}

# ------------------------------------------------------------------ feature sets
LEVEL_DROP = ("rms_mean", "rms_var", "harmony_mean", "harmony_var", "perceptr_mean",
              "perceptr_var", "mfcc1_mean")
FEATURE_SETS = {
    "all57": [c for c in KAGGLE_COLUMNS],
    "no_rms": [c for c in KAGGLE_COLUMNS if not c.startswith("rms_")],
    "no_rms_tempo": [c for c in KAGGLE_COLUMNS if not c.startswith("rms_") and c != "tempo"],
    # gain-invariant columns only (chroma is frame-normalised; centroid/bandwidth/rolloff/zcr
    # are ratios; a gain adds a constant to the log-mel bands, which moves only mfcc1_mean),
    # plus three gain-free ratios derived from the dropped loudness columns.
    "level_inv": [c for c in KAGGLE_COLUMNS if c not in LEVEL_DROP],
}
DERIVED = ("log_rms_var/rms_mean2", "log_harm_var/perc_var", "log_(harm+perc)_var/rms_mean2")


class Features(BaseEstimator, TransformerMixin):
    """Column subset (+ derived level-invariant ratios) with log of the *_var columns.
    Stateless: the shipped model could do this in numpy before the sklearn part."""

    def __init__(self, kind: str = "all57"):
        self.kind = kind

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        X = np.asarray(X, dtype=np.float64)
        cols = FEATURE_SETS[self.kind]
        Z = X[:, [COL[c] for c in cols]].copy()
        var = np.array([c.endswith("_var") for c in cols])
        Z[:, var] = np.log(np.maximum(Z[:, var], 1e-12))
        if self.kind == "level_inv":
            eps = 1e-12
            rms_m2 = np.maximum(X[:, COL["rms_mean"]], eps) ** 2
            hv = np.maximum(X[:, COL["harmony_var"]], eps)
            pv = np.maximum(X[:, COL["perceptr_var"]], eps)
            extra = np.column_stack([np.log(np.maximum(X[:, COL["rms_var"]], eps) / rms_m2),
                                     np.log(hv / pv), np.log((hv + pv) / rms_m2)])
            Z = np.hstack([Z, extra])
        return Z


def n_features(kind: str) -> int:
    return len(FEATURE_SETS[kind]) + (len(DERIVED) if kind == "level_inv" else 0)


_MI_CACHE: dict[bytes, np.ndarray] = {}
_CACHE_DIR: str | None = None     # made by the first pipeline (not at import), removed by main


def _memory() -> Memory:
    """The joblib cache of the pipelines' transformer outputs, in a temporary folder."""
    global _CACHE_DIR
    if _CACHE_DIR is None:
        _CACHE_DIR = tempfile.mkdtemp(prefix="table_cv_cache_")
    return Memory(_CACHE_DIR, verbose=0)


def mi_scores(X, y):
    """mutual_info_classif (seeded), cached per data so the k x C grid computes it once."""
    key = hashlib.sha1(np.ascontiguousarray(X).tobytes() + np.asarray(y).tobytes()).digest()
    if key not in _MI_CACHE:
        _MI_CACHE[key] = mutual_info_classif(X, y, random_state=SEED)
    return _MI_CACHE[key]


def scaler(prep: str):
    if prep == "logvar+std":
        return StandardScaler()
    if prep == "quantile":
        return QuantileTransformer(output_distribution="normal", n_quantiles=200,
                                   random_state=SEED)
    if prep == "logvar+power":
        return PowerTransformer(method="yeo-johnson", standardize=True)
    raise ValueError(prep)


# ------------------------------------------------------------------ models
C_LR = [0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
SVM_GRID = {"clf__C": [0.3, 1.0, 3.0, 10.0, 30.0],
            "clf__gamma": ["scale", 0.003, 0.01, 0.03, 0.1]}
K_GRID = [20, 30, 40, "all"]


def model(name: str, balanced: bool = True):
    cw = "balanced" if balanced else None
    if name == "logreg":
        return LogisticRegression(max_iter=3000, tol=1e-4, class_weight=cw), \
            {"clf__C": C_LR}
    if name == "svm":
        return SVC(kernel="rbf", class_weight=cw, random_state=SEED), dict(SVM_GRID)
    if name == "lda":
        pri = np.full(N_CLASSES, 1.0 / N_CLASSES) if balanced else None
        return LinearDiscriminantAnalysis(solver="lsqr", priors=pri), \
            {"clf__shrinkage": ["auto", 0.05, 0.2, 0.5]}
    if name == "knn":
        return KNeighborsClassifier(), {"clf__n_neighbors": [5, 10, 20, 40],
                                        "clf__weights": ["uniform", "distance"]}
    if name == "extratrees":
        return ExtraTreesClassifier(n_estimators=500, class_weight=cw, n_jobs=1,
                                    random_state=SEED), {"clf__max_features": ["sqrt", 0.33]}
    if name == "randomforest":
        return RandomForestClassifier(n_estimators=300, class_weight=cw, n_jobs=1,
                                      random_state=SEED), {}
    if name == "hgb":
        return HistGradientBoostingClassifier(
            learning_rate=0.1, max_iter=100, max_leaf_nodes=15, min_samples_leaf=10,
            l2_regularization=1.0, early_stopping=False, class_weight=cw,
            random_state=SEED), {}
    raise ValueError(name)


class Cand:
    def __init__(self, name, prep, fs, clf, balanced=True, select=None, fs_grid=None,
                 c_grid=None):
        self.name, self.prep, self.fs, self.clf = name, prep, fs, clf
        self.balanced, self.select, self.fs_grid = balanced, select, fs_grid
        self.c_grid = c_grid

    def build(self):
        est, grid = model(self.clf, self.balanced)
        if self.c_grid is not None:
            grid["clf__C"] = self.c_grid
        steps = [("feat", Features(self.fs)), ("scale", scaler(self.prep))]
        if self.select:
            steps.append(("sel", SelectKBest(f_classif if self.select == "f_classif"
                                             else mi_scores)))
            grid["sel__k"] = K_GRID
        if self.fs_grid:
            grid["feat__kind"] = list(self.fs_grid)
        steps.append(("clf", est))
        # transformer outputs are cached (by params and data): the grid over the model's
        # hyper-parameters then fits the quantile/power transform once per inner fold
        return Pipeline(steps, memory=_memory()), grid


def fit_cand(cand: Cand, X, y, g):
    pipe, grid = cand.build()
    params = {}
    if grid and any(len(v) > 1 for v in grid.values()):
        inner = list(GroupKFold(INNER).split(X, y, g))
        gs = GridSearchCV(pipe, grid, cv=inner, scoring="accuracy", n_jobs=1,
                          error_score="raise").fit(X, y)
        est, params = gs.best_estimator_, gs.best_params_
    else:
        est = pipe.set_params(**{k: v[0] for k, v in grid.items()}).fit(X, y)
    if not hasattr(est, "predict_proba") or cand.clf == "svm":
        # Platt scaling as TableModel ships it (SVC(probability=True)'s non-deprecated form)
        est = CalibratedClassifierCV(est, method="sigmoid", ensemble=False,
                                     cv=StratifiedKFold(5, shuffle=True,
                                                        random_state=SEED)).fit(X, y)
    return est, params


def proba_all(est, X):
    p = est.predict_proba(X)
    out = np.zeros((len(X), N_CLASSES))
    out[:, np.asarray(est.classes_, dtype=int)] = p
    return out


# ------------------------------------------------------------------ evaluation
class Study:
    def __init__(self, X, y, g, tr, va, log):
        self.X, self.y, self.g, self.tr, self.va, self.log = X, y, g, tr, va, log
        self.outer = list(GroupKFold(OUTER).split(X, y, g))
        self.res: dict[str, dict] = {}

    def run(self, cand: Cand):
        t0 = time.perf_counter()
        P = np.zeros((len(self.y), N_CLASSES))
        params, times = [], []
        for a, b in self.outer:
            t = time.perf_counter()
            est, prm = fit_cand(cand, self.X[a], self.y[a], self.g[a])
            times.append(time.perf_counter() - t)
            P[b] = proba_all(est, self.X[b])
            params.append(prm)
        est, prm_v = fit_cand(cand, self.X[self.tr], self.y[self.tr], self.g[self.tr])
        Pv = proba_all(est, self.X[self.va])
        r = self.record(cand.name, P, Pv, np.mean(times), params)
        r["cand"] = cand
        self.log(self.line(cand.name) + f"   [{time.perf_counter() - t0:.0f} s]")
        return r

    def record(self, name, P, Pv, fit_s, params):
        pred = P.argmax(1)
        folds = [accuracy_score(self.y[b], pred[b]) for _, b in self.outer]
        r = {"P": P, "Pv": Pv, "acc": accuracy_score(self.y, pred),
             "fold_mean": float(np.mean(folds)), "fold_sd": float(np.std(folds)),
             "f1": f1_score(self.y, pred, average="macro"),
             "valid": accuracy_score(self.y[self.va], Pv.argmax(1)),
             "fit_s": fit_s, "params": params}
        self.res[name] = r
        return r

    def vote(self, name, members):
        P = np.mean([self.res[m]["P"] for m in members], axis=0)
        Pv = np.mean([self.res[m]["Pv"] for m in members], axis=0)
        r = self.record(name, P, Pv, sum(self.res[m]["fit_s"] for m in members),
                        [{"members": "+".join(members)}])
        self.log(self.line(name))
        return r

    def line(self, name):
        r = self.res[name]
        common = Counter(tuple(sorted((k.split("__")[-1], str(v)) for k, v in p.items()))
                         for p in r["params"]).most_common(1)
        prm = ", ".join(f"{k}={v}" for k, v in common[0][0]) if common and common[0][0] else "-"
        if common and common[0][1] < len(r["params"]):
            prm += f" ({common[0][1]}/{len(r['params'])} folds)"
        return (f"{name:<40} {r['acc']:6.3f} {r['fold_mean']:6.3f}±{r['fold_sd']:.3f} "
                f"{r['f1']:6.3f} {r['valid']:6.3f} {r['fit_s']:7.1f}  {prm}")


HEADER = (f"{'candidate (prep | features | model)':<40} {'accCV':>6} {'fold mean±sd':>12} "
          f"{'mF1':>6} {'valid':>6} {'fit s':>7}  most common inner choice")


def main() -> None:
    default_root = os.environ.get("GENRE_DATA_ROOT",
                                  Path(__file__).resolve().parents[2] / "shared" / "gtzan")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path(default_root))
    ap.add_argument("--out", type=Path, default=Path("/tmp/table_cv_results.txt"))
    args = ap.parse_args()
    out = open(args.out, "w")

    def log(msg=""):
        print(msg, flush=True)
        out.write(msg + "\n")
        out.flush()

    t_start = time.perf_counter()
    table = read_feature_table(args.data / "Data" / "features_30_sec.csv")
    X = np.asarray(table.X, dtype=np.float64)
    y = np.array([GENRES.index(lab) for lab in table.labels])
    ids = [f[:-4] if f.endswith(".wav") else f for f in table.filenames]
    artists = load_artist_index(args.data / "metadata" / "GTZANindex.txt")
    g = np.array([artists.get(i) or f"(unknown {GENRES[k]})" for i, k in zip(ids, y)])

    def split(part):
        lines = (args.data / "splits" / f"{part}_filtered.txt").read_text().split()
        names = {ln.split("/")[-1] for ln in lines}
        return np.isin(np.array(table.filenames), list(names))

    tr, va = split("train"), split("valid")
    log(f"table: {len(y)} rows x {X.shape[1]} features, {len(set(g))} artist groups "
        f"({sum(1 for i in ids if not artists.get(i))} rows of unknown artist); "
        f"outer GroupKFold({OUTER}), inner GroupKFold({INNER}) by artist")
    log(f"valid view: fit on {tr.sum()} artist-filtered train rows, score {va.sum()} valid rows")
    log("accCV = pooled out-of-fold accuracy over all rows; mF1 = pooled macro F1; "
        "fit s = mean seconds per outer-fold fit incl. inner search (1 thread)")
    st = Study(X, y, g, tr, va, log)

    # ---- stage 0: the current model's recipe (logvar+std, logreg C in {0.1,0.3,1}, no weights)
    log("\n== stage 0: current shipped recipe (inner CV now by artist)")
    log(HEADER)
    st.run(Cand("current: logvar+std|all57|logreg", "logvar+std", "all57", "logreg",
                balanced=False, c_grid=[0.1, 0.3, 1.0]))

    # ---- stage 1: preprocessing x feature set, logreg and svm (balanced)
    log("\n== stage 1: preprocessing x feature set (class_weight=balanced)")
    log(HEADER)
    preps = ("logvar+std", "quantile", "logvar+power")
    for prep in preps:
        for fs in FEATURE_SETS:
            for clf in ("logreg", "svm"):
                st.run(Cand(f"{prep}|{fs}|{clf}", prep, fs, clf))
    score = {(p, f): (st.res[f"{p}|{f}|logreg"]["acc"] + st.res[f"{p}|{f}|svm"]["acc"]) / 2
             for p in preps for f in FEATURE_SETS}
    best = max(score, key=score.get)
    best_li = max((k for k in score if k[1] == "level_inv"), key=score.get)
    base = best_li if score[best_li] >= score[best] - 0.005 else best
    log("\nstage-1 mean(logreg, svm) accCV by (prep, features):")
    for f in FEATURE_SETS:
        log(f"  {f:<13}" + "  ".join(f"{p}={score[(p, f)]:.3f}" for p in preps))
    log(f"best {best} ({score[best]:.3f}); best level-invariant {best_li} "
        f"({score[best_li]:.3f}); stage-2 base: {base}")
    prep, fs = base

    # ---- stage 2: selection and models on the base
    log(f"\n== stage 2: selection and models on {prep} | {fs} (balanced where available)")
    log(HEADER)
    b = f"{prep}|{fs}"
    st.run(Cand(f"{b}|kbest-f|logreg", prep, fs, "logreg", select="f_classif"))
    st.run(Cand(f"{b}|kbest-mi|logreg", prep, fs, "logreg", select="mi"))
    st.run(Cand(f"{b}|kbest-f|svm", prep, fs, "svm", select="f_classif"))
    st.run(Cand(f"{prep}|fs=inner|logreg", prep, fs, "logreg", fs_grid=FEATURE_SETS))
    st.run(Cand(f"{prep}|fs=inner|svm", prep, fs, "svm", fs_grid=FEATURE_SETS))
    for clf in ("lda", "knn", "extratrees", "randomforest", "hgb"):
        st.run(Cand(f"{b}|{clf}", prep, fs, clf))
    singles = [f"{b}|{m}" for m in ("logreg", "svm", "lda", "knn", "extratrees",
                                    "randomforest", "hgb")]
    ranked = sorted(singles, key=lambda n: -st.res[n]["acc"])
    st.vote(f"{b}|vote logreg+svm", [f"{b}|logreg", f"{b}|svm"])
    st.vote(f"{b}|vote top2 ({'+'.join(n.split('|')[-1] for n in ranked[:2])})", ranked[:2])
    st.vote(f"{b}|vote top3 ({'+'.join(n.split('|')[-1] for n in ranked[:3])})", ranked[:3])
    top = ranked[0]
    c = st.res[top]["cand"]
    if c.clf != "knn":
        st.run(Cand(f"{top} UNWEIGHTED", c.prep, c.fs, c.clf, balanced=False))

    # ---- summary
    allr = {n: r for n, r in st.res.items()}
    order = sorted(allr, key=lambda n: -allr[n]["acc"])
    log("\n== all candidates by pooled outer artist-CV accuracy (top 12)")
    log(HEADER)
    for n in order[:12]:
        log(st.line(n))
    win = order[0]
    log(f"\nbest by outer artist CV: {win} (a report: best of {len(allr)} candidates on the "
        f"same outer folds, mildly optimistic)")
    wc = allr[win].get("cand")
    if wc is not None:
        _, prm = fit_cand(wc, X, y, g)
        log(f"its inner-CV choice on all {len(y)} rows (what a shipped fit would pick): {prm}")
    best_single = next(n for n in order if "vote" not in n)
    if best_single != win:
        _, prm = fit_cand(allr[best_single]["cand"], X, y, g)
        log(f"best single pipeline: {best_single}; inner-CV choice on all rows: {prm}")
    log(f"\ntotal run time {time.perf_counter() - t_start:.0f} s")
    out.close()
    if _CACHE_DIR is not None:
        shutil.rmtree(_CACHE_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
