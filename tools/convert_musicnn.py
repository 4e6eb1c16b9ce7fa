"""Convert musicnn 0.1.0's MSD_musicnn TF1 checkpoint into assets/musicnn/msd_musicnn.keras.

Runs in the project's normal environment (TensorFlow 2 + Keras 3; tf-keras is not needed:
the checkpoint is only *read*, with tf.compat.v1.train.NewCheckpointReader). Get the original
package (ISC licence, Jordi Pons & Xavier Serra) from PyPI without installing it:

    pip download musicnn==0.1.0 --no-deps -d /tmp/musicnn_wheel
    python tools/convert_musicnn.py /tmp/musicnn_wheel/musicnn-0.1.0-py3-none-any.whl

The argument may also be an extracted wheel / source folder (one containing
musicnn/MSD_musicnn/ or MSD_musicnn/), or the MSD_musicnn checkpoint folder itself.
The network is built by genre_core.models.musicnn_backbone.build_backbone(); every checkpoint
variable (Adam slots and step counters aside) is assigned exactly once, with shapes checked,
and the model is written to a temporary file then moved into place (os.replace).
Check the result with `pytest tests/test_musicnn_port.py`.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from genre_core.models.musicnn_backbone import CHECKPOINT_MAP, DEFAULT_PATH, build_backbone  # noqa: E402

MODEL = "MSD_musicnn"


def _find_checkpoint_dir(src: Path, scratch: Path) -> Path:
    """Folder holding the checkpoint files (.index, .data-00000-of-00001)."""
    if src.is_file() and zipfile.is_zipfile(src):
        with zipfile.ZipFile(src) as zf:
            members = [m for m in zf.namelist() if m.startswith(f"musicnn/{MODEL}/")]
            if not members:
                raise SystemExit(f"{src}: no musicnn/{MODEL}/ inside (is it musicnn 0.1.0?)")
            zf.extractall(scratch, members)
        return scratch / "musicnn" / MODEL
    for cand in (src, src / MODEL, src / "musicnn" / MODEL):
        if (cand / ".index").is_file():
            return cand
    raise SystemExit(f"{src}: no {MODEL} checkpoint found (expected a wheel or a folder "
                     f"with musicnn/{MODEL}/.index)")


def read_checkpoint(ckpt_dir: Path) -> dict[str, np.ndarray]:
    import tensorflow as tf
    # The checkpoint files are named '.index' / '.data-…' so the prefix is the folder + '/'.
    reader = tf.compat.v1.train.NewCheckpointReader(str(ckpt_dir) + "/")
    out = {}
    for name in reader.get_variable_to_shape_map():
        if "Adam" in name or name in ("beta1_power", "beta2_power", "global_step"):
            continue
        out[name] = reader.get_tensor(name)
    return out


def assign(model, ckpt: dict[str, np.ndarray]) -> int:
    used: set[str] = set()
    n_params = 0
    for layer_name, scope in CHECKPOINT_MAP.items():
        layer = model.get_layer(layer_name)
        if layer.__class__.__name__ == "BatchNormalization":
            names = [f"{scope}/{v}" for v in ("gamma", "beta", "moving_mean", "moving_variance")]
        else:
            names = [f"{scope}/kernel", f"{scope}/bias"]
        targets = layer.get_weights()
        values = []
        for name, target in zip(names, targets):
            v = ckpt[name]
            if v.shape != target.shape:
                # Mid-end: TF1 conv2d kernel (7, W, 1, 64) over a (T, W, 1) map == Conv1D (7, W, 64).
                if v.ndim == 4 and v.shape[2] == 1 and target.shape == (v.shape[0], v.shape[1], v.shape[3]):
                    v = v.reshape(target.shape)
                else:
                    raise SystemExit(f"shape mismatch {name} {v.shape} -> {layer_name} {target.shape}")
            values.append(v.astype(np.float32))
            used.add(name)
            n_params += v.size
        layer.set_weights(values)
    unused = sorted(set(ckpt) - used)
    if unused:
        raise SystemExit(f"checkpoint variables not assigned: {unused}")
    return n_params


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("source", help="musicnn-0.1.0 wheel, extracted folder, or MSD_musicnn folder")
    ap.add_argument("--out", default=str(DEFAULT_PATH), help=f"output .keras (default {DEFAULT_PATH})")
    args = ap.parse_args(argv)

    out = Path(args.out)
    with tempfile.TemporaryDirectory() as td:
        ckpt_dir = _find_checkpoint_dir(Path(args.source), Path(td))
        ckpt = read_checkpoint(ckpt_dir)
    model = build_backbone()
    n = assign(model, ckpt)
    if n != model.count_params():
        raise SystemExit(f"assigned {n} values but the model has {model.count_params()} weights")

    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".keras", dir=out.parent)
    os.close(fd)
    try:
        model.save(tmp)
        os.chmod(tmp, 0o644)          # mkstemp creates 0600
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB, {model.count_params()} weights "
          f"from {len(ckpt)} checkpoint variables)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
