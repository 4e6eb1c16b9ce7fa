"""Classifiers over the 57 clip-level Kaggle features (one unit = one whole clip).

(Over 400 lines on purpose: five candidates share one preprocessing, one save format and one
loader; splitting fitting from serving is the next step of the inference/training layers.)

`TableModel.fit` compares several candidates on a validation part and keeps the best:

* ``logreg``  multinomial logistic regression (the baseline; C from inner 5-fold CV),
* ``svm``     RBF SVM (C, gamma from inner 5-fold CV on a small grid), Platt-calibrated
              probabilities (= SVC(probability=True), in sklearn 1.9's non-deprecated form),
* ``gbm``     sklearn HistGradientBoostingClassifier (fixed, regularised settings),
* ``mlp``     small Keras MLP (dense 128-64, dropout + L2, early stopping on validation loss),
* ``vote``    soft vote: the mean of the probabilities of logreg, svm, gbm and mlp.

Every candidate sees the same preprocessing: log of the 27 variance columns (``*_var``,
all positive and heavy-tailed), then standardisation with training statistics.

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

CANDIDATES: tuple[str, ...] = ("logreg", "svm", "gbm", "mlp", "vote")
VOTE_MEMBERS: tuple[str, ...] = ("logreg", "svm", "gbm", "mlp")

# Defaults for the table MLP (TrainConfig's epochs/learning rate are tuned for MFCC segments;
# the table MLP needs a larger step). Override through params.
MLP_DEFAULTS = {"mlp_epochs": 300, "mlp_learning_rate": 1e-3, "mlp_widths": (128, 64),
                "mlp_batch_size": 32}


def _var_mask(n_features: int) -> np.ndarray:
    from genre_core.kaggle_features import KAGGLE_COLUMNS

    if n_features != len(KAGGLE_COLUMNS):
        raise GenreError(f"table model expects {len(KAGGLE_COLUMNS)} Kaggle features per "
                         f"row, got {n_features}")
    return np.array([c.endswith("_var") for c in KAGGLE_COLUMNS])


class _Preprocess:
    """log(var columns) then standardisation; plain numpy so it pickles without sklearn."""

    def __init__(self, X: np.ndarray):
        self.var_mask = _var_mask(X.shape[1])
        Z = self._log(X)
        self.mean = Z.mean(axis=0)
        self.std = Z.std(axis=0) + 1e-9

    def _log(self, X: np.ndarray) -> np.ndarray:
        Z = np.array(X, dtype=np.float64, copy=True)
        Z[:, self.var_mask] = np.log(np.maximum(Z[:, self.var_mask], 1e-12))
        return Z

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return (self._log(X) - self.mean) / self.std


def _build_mlp(n_in: int, n_out: int, config: TrainConfig, corrected: bool, widths):
    import keras
    from keras import layers

    reg = keras.regularizers.l2(config.l2) if corrected else None
    x = inputs = keras.Input(shape=(n_in,))
    for w in widths:
        x = layers.Dense(int(w), activation="relu", kernel_regularizer=reg)(x)
        if corrected:
            x = layers.Dropout(config.dropout)(x)
    outputs = layers.Dense(n_out, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="table_mlp")


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
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import GridSearchCV, StratifiedKFold
        from sklearn.svm import SVC

        n_min = int(np.bincount(k).min())
        folds = min(5, n_min)
        grid: dict[str, list]
        if name == "logreg":
            est = LogisticRegression(max_iter=2000, tol=1e-3)
            grid = {"C": [0.1, 0.3, 1.0]}
        elif name == "svm":
            # Grid-search the plain SVC on accuracy, then Platt-calibrate the best with 5-fold
            # sigmoid calibration: what SVC(probability=True) does, in the form sklearn >= 1.9
            # asks for (probability=True is deprecated there and goes in 1.11).
            from sklearn.calibration import CalibratedClassifierCV

            svc = SVC(kernel="rbf", random_state=seed)
            grid = {"C": [1.0, 3.0, 10.0], "gamma": ["scale", 0.005, 0.01]}
            if folds >= 2:
                cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
                svc = GridSearchCV(svc, grid, cv=cv, scoring="accuracy", n_jobs=1).fit(Z, k)
                svc = svc.best_estimator_
            else:
                svc = svc.set_params(C=3.0, gamma="scale")
            cal_cv = StratifiedKFold(folds, shuffle=True, random_state=seed) if folds >= 2 else 2
            return CalibratedClassifierCV(svc, method="sigmoid", cv=cal_cv,
                                          ensemble=False).fit(Z, k)
        elif name == "gbm":
            # One OpenMP thread: on tiny tables, thread sync dominates, and on a busy machine
            # OpenMP spin-waiting made a 4 s fit take 53 s (measured on 2 cores under load).
            from threadpoolctl import threadpool_limits

            with threadpool_limits(1, user_api="openmp"):
                return HistGradientBoostingClassifier(
                    learning_rate=0.1, max_iter=100, max_leaf_nodes=15, min_samples_leaf=10,
                    l2_regularization=1.0, early_stopping=False,
                    random_state=seed).fit(Z, k)
        else:  # pragma: no cover
            raise ValueError(name)
        if folds >= 2:
            cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
            gs = GridSearchCV(est, grid, cv=cv, scoring="accuracy", n_jobs=1).fit(Z, k)
            return gs.best_estimator_
        return est.set_params(**{p: v[0] for p, v in grid.items()}).fit(Z, k)

    def _fit_mlp(self, Z, k, Zv, kv, config: TrainConfig, epochs: int | None, progress):
        import keras

        keras.utils.set_random_seed(config.seed)
        assert self.classes_ is not None        # fit() sets the classes before the members
        n_out = len(self.classes_)
        net = _build_mlp(Z.shape[1], n_out, config, self.corrected, self._p("mlp_widths"))
        net.compile(optimizer=keras.optimizers.Adam(float(self._p("mlp_learning_rate"))),
                    loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        callbacks = []
        has_valid = Zv is not None and len(Zv) > 0
        if epochs is None:
            epochs = int(self._p("mlp_epochs")) if self.corrected else 100
            if self.corrected and has_valid:
                callbacks.append(keras.callbacks.EarlyStopping(
                    monitor="val_loss", patience=max(config.patience, 20),
                    restore_best_weights=True))
        if progress:
            from genre_core.models.keras_segments import EpochProgress
            callbacks.append(EpochProgress.make(epochs, f"table mlp ({self.variant})"))
        hist = net.fit(Z.astype(np.float32), k,
                       validation_data=(Zv.astype(np.float32), kv) if has_valid else None,
                       epochs=epochs, batch_size=int(self._p("mlp_batch_size")),
                       shuffle=True, verbose=0, callbacks=callbacks)
        history = {key: [float(v) for v in vals] for key, vals in hist.history.items()}
        best_epochs = epochs
        if callbacks and has_valid and "val_loss" in history and self.corrected:
            best_epochs = int(np.argmin(history["val_loss"])) + 1
        return net, history, best_epochs

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
        pre = _Preprocess(X_tr)
        Z_tr, Z_va = pre(X_tr), pre(X_va)

        wanted = [c for c in self.params.get("candidate_names", CANDIDATES) if c in CANDIDATES]
        fitted: dict[str, object] = {}
        timings: dict[str, float] = {}
        history: dict[str, list[float]] = {"loss": [], "accuracy": [], "val_loss": [],
                                           "val_accuracy": []}
        mlp_epochs = None
        for name in wanted:
            if name == "vote":
                continue
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
            if name == "vote":
                members = [m for m in VOTE_MEMBERS if m in probas]
                if len(members) < 2:
                    continue
                p = np.mean([probas[m] for m in members], axis=0)
            else:
                p = probas[name]
            scores[name] = float(np.mean(p.argmax(1) == k_va))
        kept = max(scores, key=lambda n: (scores[n], -wanted.index(n)))
        self.candidates_ = dict(fitted)
        if "vote" in scores:
            self.candidates_["vote"] = {m: fitted[m] for m in VOTE_MEMBERS if m in fitted}
        kept_members = ([m for m in VOTE_MEMBERS if m in fitted] if kept == "vote" else [kept])

        refit = bool(self.params.get("refit", True))
        if refit:
            X_all = np.concatenate([X_tr, X_va])
            k_all = np.concatenate([k_tr, k_va])
            self.pre = _Preprocess(X_all)
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
                 std=pre.std, classes=np.asarray(classes))
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
