"""The table family: the best of several classifiers over the 57 clip-level Kaggle features
(one unit = one whole clip), and everything serving a fitted one needs. (Just over 400 lines:
the preprocessing, the choice among candidates, and the safe save/load share one format.)

`TableModel.fit` compares candidates on a validation part and keeps the best; how each
candidate is fitted (grid searches, calibration, the Keras MLP) is training code, in
genre_core.training.table_candidates, imported only inside `fit`:

* ``logreg``  multinomial logistic regression (the baseline),
* ``svm``     RBF SVM with Platt-calibrated probabilities,
* ``gbm``     sklearn HistGradientBoostingClassifier,
* ``mlp``     small Keras MLP (dense 128-64, dropout + L2, early stopping on validation loss),
* ``vote``    soft vote: the mean of the probabilities of logreg, svm, gbm and mlp,
* ``lda``     linear discriminant analysis, shrinkage from an inner CV, uniform priors,
* ``lda_vote`` soft vote of lda and logreg.

Every candidate sees the same preprocessing: log of the 27 variance columns (``*_var``,
all positive and heavy-tailed), then standardisation with training statistics; with
``params["preprocess"] == "power"``, the two loudness columns (``rms_*``: they say how a
record was mastered more than its genre) are dropped and a Yeo-Johnson transform is fitted
per column before the standardisation. The shipped model, `lda_vote` on "power", was chosen
by nested cross-validation grouped by artist over the table (studies/table_cv_study.py).

Validation: the given (X_valid, y_valid) rows, or, when X_valid is None, a stratified
``config.validation_fraction`` carved from the training rows with ``config.seed``. Candidates
are fitted on the training rows only, scored on the validation rows, and the best accuracy is
kept (ties go to the earlier candidate in the order above). The kept candidate is then
**refitted on train + validation** (same hyper-parameters; the MLP for the number of epochs
early stopping chose) unless ``params["refit"]`` is False. `params["candidates"]` records
each candidate's validation accuracy, `params["kept"]` the kept name.

The variant "plain" trains the MLP without dropout, L2 or early stopping (fixed epochs);
it does not change the other candidates.

Labels: y is an integer array of indices into `self.labels` (as for every GenreModel), or an
array of label strings. Labels absent from training get probability 0 in `predict_proba`.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from genre_core.config import TrainConfig
from genre_core.errors import GenreError
from genre_core.models.base import GenreModel

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

CANDIDATES: tuple[str, ...] = ("logreg", "svm", "gbm", "mlp", "vote", "lda", "lda_vote")
DEFAULT_CANDIDATES: tuple[str, ...] = ("logreg", "svm", "gbm", "mlp", "vote")  # no candidate_names
VOTE_MEMBERS: tuple[str, ...] = ("logreg", "svm", "gbm", "mlp")
VOTES: dict[str, tuple[str, ...]] = {"vote": VOTE_MEMBERS, "lda_vote": ("lda", "logreg")}

# Defaults for the table MLP (TrainConfig's epochs/learning rate are tuned for MFCC segments;
# the table MLP needs a larger step). Override through params.
MLP_DEFAULTS = {"mlp_epochs": 300, "mlp_learning_rate": 1e-3, "mlp_widths": (128, 64),
                "mlp_batch_size": 32}


def _var_mask(n_features: int) -> np.ndarray:
    from genre_core.features.kaggle import KAGGLE_COLUMNS

    if n_features != len(KAGGLE_COLUMNS):
        raise GenreError(f"table model expects {len(KAGGLE_COLUMNS)} Kaggle features per "
                         f"row, got {n_features}")
    return np.array([c.endswith("_var") for c in KAGGLE_COLUMNS])


def _loudness_mask(n_features: int) -> np.ndarray:
    from genre_core.features.kaggle import KAGGLE_COLUMNS

    _var_mask(n_features)
    return np.array([c.startswith("rms_") for c in KAGGLE_COLUMNS])


def yeo_johnson(Z: np.ndarray, lambdas: np.ndarray) -> np.ndarray:
    """The Yeo-Johnson power transform per column (as sklearn's PowerTransformer applies it;
    here in numpy so that serving needs only the stored lambdas)."""
    out = np.empty_like(Z, dtype=np.float64)
    for j, lam in enumerate(lambdas):
        x = Z[:, j]
        pos = x >= 0
        y = np.empty_like(x, dtype=np.float64)
        y[pos] = (np.log1p(x[pos]) if abs(lam) < 1e-8
                  else (np.power(x[pos] + 1, lam) - 1) / lam)
        y[~pos] = (-np.log1p(-x[~pos]) if abs(lam - 2) < 1e-8
                   else -(np.power(1 - x[~pos], 2 - lam) - 1) / (2 - lam))
        out[:, j] = y
    return out


class _Preprocess:
    """log(var columns), optionally drop the loudness columns and Yeo-Johnson-transform
    (`power`), then standardisation; stored as plain arrays."""

    def __init__(self, X: np.ndarray, power: bool = False):
        self.var_mask = _var_mask(X.shape[1])
        self.keep = ~_loudness_mask(X.shape[1]) if power else np.ones(X.shape[1], bool)
        self.lambdas = self.lo = self.hi = np.zeros(0)
        Z = self._log(X)[:, self.keep]
        if power:
            from sklearn.preprocessing import PowerTransformer

            # a power of a value far outside the training range overflows: inputs are held
            # within the training range widened by its own width on each side
            span = Z.max(axis=0) - Z.min(axis=0)
            self.lo, self.hi = Z.min(axis=0) - span, Z.max(axis=0) + span
            self.lambdas = PowerTransformer(standardize=False).fit(Z).lambdas_
            Z = yeo_johnson(Z, self.lambdas)
        self.mean = Z.mean(axis=0)
        self.std = Z.std(axis=0) + 1e-9

    def _log(self, X: np.ndarray) -> np.ndarray:
        Z = np.array(X, dtype=np.float64, copy=True)
        Z[:, self.var_mask] = np.log(np.maximum(Z[:, self.var_mask], 1e-12))
        return Z

    def __call__(self, X: np.ndarray) -> np.ndarray:
        Z = self._log(X)[:, self.keep]
        if len(self.lo):
            Z = np.clip(Z, self.lo, self.hi)
        if len(self.lambdas):
            Z = yeo_johnson(Z, self.lambdas)
        return (Z - self.mean) / self.std


class TableModel(GenreModel):
    """Best of logistic regression / RBF SVM / gradient boosting / MLP / soft vote on the
    57 Kaggle clip features (see the module docstring for selection and refitting)."""

    family = "features"
    feature = "kaggle"

    def __init__(self, labels, variant="corrected", params=None):
        super().__init__(labels, variant, params)
        self.pre: _Preprocess | None = None
        self.members: dict[str, Any] = {}   # kept predictor: name -> fitted model
        self.candidates_: dict[str, Any] = {}  # all fitted candidates (not saved)
        self.classes_: np.ndarray | None = None   # indices into labels seen in training

    @property
    def corrected(self) -> bool:
        return self.variant != "plain"

    def _p(self, key):
        return self.params.get(key, MLP_DEFAULTS.get(key))

    # ------------------------------------------------------------------ labels
    def _encode(self, y: np.ndarray, what: str) -> np.ndarray:
        y = np.asarray(y)
        if y.dtype.kind in "iu":
            if len(y) and (y.min() < 0 or y.max() >= len(self.labels)):
                raise GenreError(f"{what}: label index out of range 0..{len(self.labels) - 1}")
            return y.astype(np.int64)
        pos = {lab: i for i, lab in enumerate(self.labels)}
        try:
            return np.array([pos[str(v)] for v in y], dtype=np.int64)
        except KeyError as exc:
            raise GenreError(f"{what}: unknown label {exc.args[0]!r}; known: "
                             f"{', '.join(self.labels)}") from None

    def _check_X(self, X, what: str) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != 57:
            raise GenreError(f"{what}: expected an (n, 57) Kaggle feature array, got {X.shape}")
        if not np.all(np.isfinite(X)):
            raise GenreError(f"{what}: feature array contains NaN or infinite values")
        return X

    # --------------------------------------------------------------- candidates
    def _fit_sklearn(self, name: str, Z: np.ndarray, k: np.ndarray, seed: int):
        """One scikit-learn candidate fitted on preprocessed rows Z, integer targets k."""
        from genre_core.training.table_candidates import fit_sklearn

        return fit_sklearn(name, Z, k, seed)

    def _fit_mlp(self, Z, k, Zv, kv, config: TrainConfig, epochs: int | None, progress):
        """The Keras MLP candidate: (network, history, epochs early stopping kept)."""
        from genre_core.training.table_candidates import fit_mlp

        assert self.classes_ is not None        # fit() sets the classes before the members
        return fit_mlp(Z, k, Zv, kv, config, epochs, progress, n_out=len(self.classes_),
                       corrected=self.corrected, variant=self.variant,
                       widths=self._p("mlp_widths"), learning_rate=self._p("mlp_learning_rate"),
                       max_epochs=self._p("mlp_epochs"), batch_size=self._p("mlp_batch_size"))

    @staticmethod
    def _member_proba(model, Z: np.ndarray) -> np.ndarray:
        if hasattr(model, "predict_proba"):
            return np.asarray(model.predict_proba(Z), dtype=np.float64)
        return np.asarray(model(Z.astype(np.float32), training=False), dtype=np.float64)

    def _proba_present(self, members: dict, Z: np.ndarray) -> np.ndarray:
        """Mean member probability over the training classes (columns = self.classes_)."""
        return np.mean([self._member_proba(m, Z) for m in members.values()], axis=0)

    # --------------------------------------------------------------------- fit
    def fit(self, X_train, y_train, X_valid, y_valid, config: TrainConfig, progress=False):
        t0 = time.perf_counter()
        X_train = self._check_X(X_train, "training features")
        y_idx = self._encode(y_train, "training labels")
        if X_valid is None or len(X_valid) == 0:
            from sklearn.model_selection import train_test_split

            counts = np.bincount(y_idx)
            strat = y_idx if counts[counts > 0].min() >= 2 else None
            tr, va = train_test_split(np.arange(len(y_idx)), test_size=config.validation_fraction,
                                      random_state=config.seed, stratify=strat)
            X_tr, y_tr, X_va, y_va = X_train[tr], y_idx[tr], X_train[va], y_idx[va]
            self.params["validation"] = f"carved {config.validation_fraction:g} of train"
        else:
            X_tr, y_tr = X_train, y_idx
            X_va = self._check_X(X_valid, "validation features")
            y_va = self._encode(y_valid, "validation labels")
            self.params["validation"] = "given"
        if len(np.unique(y_tr)) < 2:
            raise GenreError("training labels: need at least two genres to train a classifier")

        # Classes = labels present in the data used for the final model.
        self.classes_ = np.unique(np.concatenate([y_tr, y_va]))
        pos = {c: i for i, c in enumerate(self.classes_)}
        k_tr = np.array([pos[c] for c in y_tr])
        k_va = np.array([pos[c] for c in y_va])
        # sklearn estimators must see every class in training: if a class only occurs in
        # validation, its probability stays out of that estimator; we pad it below.
        power = self.params.get("preprocess", "standard") == "power"
        pre = _Preprocess(X_tr, power)
        Z_tr, Z_va = pre(X_tr), pre(X_va)

        wanted = [c for c in self.params.get("candidate_names", DEFAULT_CANDIDATES)
                  if c in CANDIDATES]
        to_fit = list(dict.fromkeys(m for c in wanted for m in VOTES.get(c, (c,))))
        fitted: dict[str, object] = {}
        timings: dict[str, float] = {}
        history: dict[str, list[float]] = {"loss": [], "accuracy": [], "val_loss": [],
                                           "val_accuracy": []}
        mlp_epochs = None
        for name in to_fit:
            t = time.perf_counter()
            if name == "mlp":
                net, history, mlp_epochs = self._fit_mlp(Z_tr, k_tr, Z_va, k_va, config,
                                                         None, progress)
                fitted[name] = net
            else:
                fitted[name] = _PadClasses(self._fit_sklearn(name, Z_tr, k_tr, config.seed),
                                           len(self.classes_))
            timings[name] = round(time.perf_counter() - t, 2)

        scores: dict[str, float] = {}
        probas = {n: self._member_proba(m, Z_va) for n, m in fitted.items()}
        for name in wanted:
            if name in VOTES:
                members = [m for m in VOTES[name] if m in probas]
                if len(members) < 2:
                    continue
                p = np.mean([probas[m] for m in members], axis=0)
            else:
                p = probas[name]
            scores[name] = float(np.mean(p.argmax(1) == k_va))
        kept = max(scores, key=lambda n: (scores[n], -wanted.index(n)))
        self.candidates_ = dict(fitted)
        for vote, voters in VOTES.items():
            if vote in scores:
                self.candidates_[vote] = {m: fitted[m] for m in voters if m in fitted}
        kept_members = ([m for m in VOTES[kept] if m in fitted] if kept in VOTES else [kept])

        refit = bool(self.params.get("refit", True))
        if refit:
            X_all = np.concatenate([X_tr, X_va])
            k_all = np.concatenate([k_tr, k_va])
            self.pre = _Preprocess(X_all, power)
            Z_all = self.pre(X_all)
            self.members = {}
            for m in kept_members:
                if m == "mlp":
                    self.members[m] = self._fit_mlp(Z_all, k_all, None, None, config,
                                                    mlp_epochs, False)[0]
                else:
                    self.members[m] = _PadClasses(self._fit_sklearn(m, Z_all, k_all,
                                                                    config.seed),
                                                  len(self.classes_))
        else:
            self.pre = pre
            self.members = {m: fitted[m] for m in kept_members}
        self._pre_candidates = pre

        self.params.update({
            "candidates": scores,
            "kept": kept,
            "members": kept_members,
            "refit": refit,
            "classes": [int(c) for c in self.classes_],
            "mlp_best_epochs": mlp_epochs,
            "fit_seconds": round(time.perf_counter() - t0, 2),
            "candidate_seconds": timings,
        })
        return history

    # ----------------------------------------------------------------- predict
    def _to_label_columns(self, p_present: np.ndarray) -> np.ndarray:
        out = np.zeros((len(p_present), len(self.labels)), dtype=np.float64)
        out[:, self.classes_] = p_present
        s = out.sum(axis=1, keepdims=True)
        return out / np.where(s > 0, s, 1.0)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        if self.pre is None or not self.members:
            raise GenreError("table model: predict_proba called before fit/load")
        X = self._check_X(X, "features to classify")
        if len(X) == 0:
            return np.zeros((0, len(self.labels)), dtype=np.float64)
        return self._to_label_columns(self._proba_present(self.members, self.pre(X)))

    def candidate_proba(self, name: str, X: np.ndarray) -> np.ndarray:
        """Probabilities (columns = self.labels) of one candidate as fitted during selection
        (on the training part only, before any refit). Available after fit, not after load."""
        if name not in self.candidates_:
            raise GenreError(f"table model: no fitted candidate {name!r}")
        cand = self.candidates_[name]
        members = cand if isinstance(cand, dict) else {name: cand}
        Z = self._pre_candidates(self._check_X(X, "features to classify"))
        return self._to_label_columns(self._proba_present(members, Z))

    # ---------------------------------------------------------------- save/load
    def save(self, folder: Path) -> None:
        """Preprocessing and classes as npz, sklearn members in skops format, the MLP as
        .keras: nothing that runs code when loaded (see genre_core.safe_io)."""
        import json

        from genre_core.safe_io import dump_estimator

        pre, classes = self.pre, self.classes_
        if pre is None or classes is None:
            raise ValueError("TableModel.save: the model is not fitted")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(folder / "preprocess.npz", var_mask=pre.var_mask, mean=pre.mean,
                 std=pre.std, classes=np.asarray(classes), keep=pre.keep, lambdas=pre.lambdas,
                 lo=pre.lo, hi=pre.hi)
        order = list(self.members)
        for name, m in self.members.items():
            if name != "mlp":
                dump_estimator(m.est, folder / f"{name}.skops")
        (folder / "members.json").write_text(json.dumps(
            {"order": order, "n_classes": int(len(classes))}))
        if "mlp" in self.members:
            self.members["mlp"].save(folder / "mlp.keras")

    @classmethod
    def load(cls, folder: Path, labels, variant, params) -> TableModel:
        import json

        from genre_core.safe_io import load_estimator

        folder = Path(folder)
        obj = cls(labels, variant, params)
        if not (folder / "members.json").exists():
            old = " (an old pickle-based bundle: convert it with tools/convert_bundle_safe.py " \
                  "if you trust it)" if (folder / "model.joblib").exists() else ""
            raise GenreError(f"{folder / 'members.json'}: missing from the model bundle{old}")
        try:
            spec = json.loads((folder / "members.json").read_text())
            with np.load(folder / "preprocess.npz", allow_pickle=False) as z:
                pre = _Preprocess.__new__(_Preprocess)
                pre.var_mask, pre.mean, pre.std = (z["var_mask"].astype(bool), z["mean"],
                                                   z["std"])
                # older bundles: every column kept, no power transform
                pre.keep = (z["keep"].astype(bool) if "keep" in z.files
                            else np.ones(len(pre.var_mask), bool))
                pre.lambdas = z["lambdas"] if "lambdas" in z.files else np.zeros(0)
                pre.lo = z["lo"] if "lo" in z.files else np.zeros(0)
                pre.hi = z["hi"] if "hi" in z.files else np.zeros(0)
                obj.classes_ = z["classes"].astype(np.int64)
        except (OSError, ValueError, KeyError) as exc:
            raise GenreError(f"{folder}: table model cannot be loaded ({exc})") from None
        obj.pre = pre
        members = {}
        for name in spec["order"]:
            if name == "mlp":
                import keras

                path = folder / "mlp.keras"
                if not path.exists():
                    raise GenreError(f"{path}: missing from the model bundle")
                members[name] = keras.saving.load_model(path, compile=False, safe_mode=True)
            elif name in CANDIDATES:
                members[name] = _PadClasses(load_estimator(folder / f"{name}.skops"),
                                            int(spec["n_classes"]))
            else:
                raise GenreError(f"{folder / 'members.json'}: unknown member {name!r}")
        obj.members = members
        return obj


class _PadClasses:
    """Wraps a fitted sklearn classifier trained on a subset of 0..n-1 (integer targets) so
    its predict_proba has all n columns (zeros for classes it never saw)."""

    def __init__(self, est, n: int):
        self.est, self.n = est, n

    def predict_proba(self, Z: np.ndarray) -> np.ndarray:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, user_api="openmp"):
            p = self.est.predict_proba(Z)
        if p.shape[1] == self.n:
            return p
        out = np.zeros((len(Z), self.n))
        out[:, np.asarray(self.est.classes_, dtype=int)] = p
        return out
