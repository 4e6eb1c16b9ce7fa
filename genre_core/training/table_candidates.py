"""How each candidate of the table family is fitted (genre_core.models.table chooses among
them, keeps one and serves it; this is the training half, imported only by its `fit`).

* ``logreg``  multinomial logistic regression; C from an inner 5-fold CV,
* ``svm``     RBF SVM; C, gamma from an inner 5-fold CV on a small grid, then Platt-calibrated
              probabilities (= SVC(probability=True), in sklearn 1.9's non-deprecated form),
* ``gbm``     sklearn HistGradientBoostingClassifier (fixed, regularised settings),
* ``lda``     LinearDiscriminantAnalysis (lsqr), shrinkage from an inner 5-fold CV, uniform
              priors (genres are equally likely a priori, whatever the table's mix),
* ``mlp``     small Keras MLP (dense 128-64, dropout + L2, early stopping on validation loss;
              the "plain" variant without them, for a fixed number of epochs).
"""
from __future__ import annotations

import numpy as np

from genre_core.config import TrainConfig


def fit_sklearn(name: str, Z: np.ndarray, k: np.ndarray, seed: int):
    """One scikit-learn candidate (logreg, svm or gbm) fitted on preprocessed rows Z with
    integer targets k; hyper-parameters from an inner stratified k-fold grid search."""
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
    elif name == "lda":
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

        n = len(np.unique(k))
        est = LinearDiscriminantAnalysis(solver="lsqr", priors=np.full(n, 1.0 / n))
        grid = {"shrinkage": ["auto", 0.05, 0.2, 0.5]}
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


def build_mlp(n_in: int, n_out: int, config: TrainConfig, corrected: bool, widths):
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


def fit_mlp(Z, k, Zv, kv, config: TrainConfig, epochs: int | None, progress, *, n_out: int,
            corrected: bool, variant: str, widths, learning_rate, max_epochs, batch_size):
    """Fit the MLP candidate on rows Z (targets k; Zv, kv validation or None) for `epochs`,
    or, when None, up to `max_epochs` with early stopping (corrected) / 100 (plain). Returns
    (network, history, the number of epochs early stopping kept)."""
    import keras

    keras.utils.set_random_seed(config.seed)
    net = build_mlp(Z.shape[1], n_out, config, corrected, widths)
    net.compile(optimizer=keras.optimizers.Adam(float(learning_rate)),
                loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    callbacks = []
    has_valid = Zv is not None and len(Zv) > 0
    if epochs is None:
        epochs = int(max_epochs) if corrected else 100
        if corrected and has_valid:
            callbacks.append(keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=max(config.patience, 20),
                restore_best_weights=True))
    if progress:
        from genre_core.models.keras_segments import EpochProgress
        callbacks.append(EpochProgress.make(epochs, f"table mlp ({variant})"))
    hist = net.fit(Z.astype(np.float32), k,
                   validation_data=(Zv.astype(np.float32), kv) if has_valid else None,
                   epochs=epochs, batch_size=int(batch_size),
                   shuffle=True, verbose=0, callbacks=callbacks)
    history = {key: [float(v) for v in vals] for key, vals in hist.history.items()}
    best_epochs = epochs
    if callbacks and has_valid and "val_loss" in history and corrected:
        best_epochs = int(np.argmin(history["val_loss"])) + 1
    return net, history, best_epochs
