"""Reading fitted scikit-learn estimators without running code: skops instead of pickle.

A pickle (joblib) file runs whatever code it names when loaded, so a bundle from anywhere
could act as the server's user. skops stores the estimator's state and rebuilds it from an
explicit list of types; anything else in a file is refused. TRUSTED lists the
scikit-learn internals the shipped model families need beyond skops' default trusted
estimators and numpy types."""
from __future__ import annotations

from pathlib import Path

from genre_core.errors import GenreError

TRUSTED = [
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.model_selection._split.StratifiedKFold",     # the calibrated SVM keeps its cv
]


def dump_estimator(estimator, path: Path) -> None:
    import skops.io as sio

    sio.dump(estimator, Path(path))


def load_estimator(path: Path):
    """The estimator at `path`, or GenreError when it is missing, damaged, or holds types
    outside TRUSTED."""
    import skops.io as sio

    path = Path(path)
    if not path.exists():
        raise GenreError(f"{path}: missing from the model bundle")
    try:
        untrusted = [t for t in sio.get_untrusted_types(file=path) if t not in TRUSTED]
        if untrusted:
            raise GenreError(f"{path}: holds types that are not trusted ({', '.join(untrusted)}); "
                             "refused")
        return sio.load(path, trusted=TRUSTED)
    except GenreError:
        raise
    except Exception as e:  # noqa: BLE001 - damaged file or foreign content: the user's to fix
        raise GenreError(f"{path}: cannot be loaded ({type(e).__name__}: "
                         f"{str(e).splitlines()[0] if str(e) else ''})") from None
