"""Export saved Keras networks to ONNX beside them (X.keras -> X.onnx) for serving.

    python -m tools.export_onnx                      # the shipped bundle and musicnn backbone
    python -m tools.export_onnx path/to/bundle other/model.keras

Folders are searched recursively for *.keras. Each export is checked against Keras on a
random batch (largest absolute difference printed; above 1e-4 on any output is an error).
New bundles get their .onnx when saved; this tool is for bundles written before that, and
for new backbones (any single-input keras.Model).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def max_difference(keras_model, onnx_file: Path, batch: int = 5, seed: int = 0) -> float:
    """Largest |Keras - ONNX| over all outputs, relative to max(1, |Keras|)."""
    import numpy as np

    from genre_core.serving import OnnxNet

    shape = (batch,) + tuple(d or 187 for d in keras_model.inputs[0].shape[1:])
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    ref = keras_model.predict_on_batch(x)
    got = OnnxNet(onnx_file).predict_on_batch(x)
    ref, got = (ref, got) if isinstance(ref, list) else ([ref], [got])
    return max(float(np.max(np.abs(r - g) / np.maximum(1.0, np.abs(r)))) for r, g in zip(ref, got))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("paths", nargs="*", default=[str(ROOT / "assets" / "models" / "default"),
                                                 str(ROOT / "assets" / "musicnn")])
    args = ap.parse_args(argv)
    import keras

    from genre_core.serving import export_keras_file

    files = []
    for p in map(Path, args.paths):
        files += sorted(p.rglob("*.keras")) if p.is_dir() else [p]
    worst = 0.0
    for f in files:
        model = keras.saving.load_model(f, compile=False)
        out = export_keras_file(f, model)
        diff = max_difference(model, out)
        worst = max(worst, diff)
        print(f"{out}  {out.stat().st_size / 1e6:.2f} MB  max |keras - onnx| {diff:.2e}")
    if worst > 1e-4:
        print(f"error: an export differs from Keras by {worst:.2e} (> 1e-4)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
