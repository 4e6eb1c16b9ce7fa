"""One-off: convert a bundle's pickled (joblib) models to the formats that run no code when
loaded (skops for scikit-learn estimators, npz for arrays; see genre_core/safe_io.py).

Run it only on bundles you trust: it unpickles them once. It checks that every converted
model gives the same probabilities as the pickled one on seeded random inputs, removes the
.joblib files, and with --reference writes those inputs and probabilities to an npz that
tests/inference/test_safety.py compares the shipped bundle against.

    python -m tools.convert_bundle_safe assets/models/default \
        --reference tests/data/safe_format_reference.npz
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from genre_core.models.musicnn import MusicnnTransferModel
from genre_core.models.table import TableModel, _PadClasses


def _inputs(family: str, n_features: int, rng) -> np.ndarray:
    if family == "features":    # positive columns where variances are expected
        return np.abs(rng.standard_normal((16, n_features))) * 10 + 0.1
    return rng.standard_normal((16, n_features)).astype(np.float32)


def convert(bundle: Path, reference: Path | None = None, seed: int = 0) -> dict:
    import joblib

    meta = json.loads((bundle / "bundle.json").read_text())
    labels = meta["labels"]
    rng = np.random.default_rng(seed)
    ref: dict[str, np.ndarray] = {}
    for name, entry in meta["models"].items():
        folder = bundle / entry["folder"]
        family, variant, params = entry["family"], entry.get("variant"), entry.get("params", {})
        if family == "musicnn" and (folder / "classifier.joblib").exists():
            old = MusicnnTransferModel(labels, variant, params)
            old.pipeline = joblib.load(folder / "classifier.joblib")
            n = old.pipeline[0].n_features_in_
            X = _inputs(family, n, rng)
            old.save(folder)
            new = MusicnnTransferModel.load(folder, labels, variant, params)
            (folder / "classifier.joblib").unlink()
        elif family == "features" and (folder / "model.joblib").exists():
            blob = joblib.load(folder / "model.joblib")
            old = TableModel(labels, variant, params)
            old.pre, old.classes_ = blob["pre"], np.asarray(blob["classes"])
            old.members = {k: blob["sklearn"][k] for k in blob["order"] if k != "mlp"}
            if "mlp" in blob["order"]:
                import keras

                old.members["mlp"] = keras.saving.load_model(folder / "mlp.keras",
                                                             compile=False)
            assert all(isinstance(m, _PadClasses) for k, m in old.members.items() if k != "mlp")
            X = _inputs(family, len(old.pre.mean), rng)
            old.save(folder)
            new = TableModel.load(folder, labels, variant, params)
            (folder / "model.joblib").unlink()
        else:
            continue
        p_old, p_new = old.predict_proba(X), new.predict_proba(X)
        np.testing.assert_allclose(p_new, p_old, rtol=0, atol=1e-12)
        ref[f"{name}__X"], ref[f"{name}__p"] = X, p_old
        print(f"{name}: converted, same probabilities on {len(X)} inputs")
    if reference and ref:
        reference.parent.mkdir(parents=True, exist_ok=True)
        np.savez(reference, **ref)
        print(f"reference written to {reference}")
    return ref


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundle", type=Path)
    ap.add_argument("--reference", type=Path, default=None)
    args = ap.parse_args()
    convert(args.bundle, args.reference)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
