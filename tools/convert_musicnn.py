"""Convert musicnn 0.1.0's four TF1 checkpoints into assets/musicnn/<model>.keras (Keras 3).

Runs in the project's normal environment (TensorFlow 2 + Keras 3; tf-keras is not needed:
the checkpoint is only *read*, with tf.compat.v1.train.NewCheckpointReader). Get the original
package (ISC licence, Jordi Pons & Xavier Serra) from PyPI without installing it:

    pip download musicnn==0.1.0 --no-deps -d /tmp/musicnn_wheel
    python -m tools.convert_musicnn /tmp/musicnn_wheel/musicnn-0.1.0-py3-none-any.whl \
        --model MTT_musicnn --model MSD_vgg --model MTT_vgg

Without --model all four (MSD_musicnn, MTT_musicnn, MSD_vgg, MTT_vgg) are converted, each to
assets/musicnn/<model lower-cased>.keras. The source may also be an extracted wheel / source
folder (one containing musicnn/<model>/ or <model>/), or, with one --model, that model's
checkpoint folder itself. The networks are built by genre_core.features.musicnn.zoo
(musicnn_backbone.build_backbone / musicnn_vgg.build_vgg); every checkpoint variable (Adam slots
and step counters aside) is assigned exactly once, with shapes checked, and each model is written
to a temporary file then moved into place (os.replace).
Check the results with `pytest tests/models/test_musicnn_port.py tests/models/test_musicnn_zoo.py`.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from genre_core.features.musicnn.zoo import NETWORKS

REPO = Path(__file__).resolve().parents[1]


def _find_checkpoint_dir(src: Path, scratch: Path, model: str, single: bool) -> Path:
    """Folder holding the checkpoint files (.index, .data-00000-of-00001)."""
    if src.is_file() and zipfile.is_zipfile(src):
        with zipfile.ZipFile(src) as zf:
            members = [m for m in zf.namelist() if m.startswith(f"musicnn/{model}/")]
            if not members:
                raise SystemExit(f"{src}: no musicnn/{model}/ inside (is it musicnn 0.1.0?)")
            zf.extractall(scratch, members)
        return scratch / "musicnn" / model
    for cand in ((src,) if single else ()) + (src / model, src / "musicnn" / model):
        if (cand / ".index").is_file():
            return cand
    raise SystemExit(f"{src}: no {model} checkpoint found (expected a wheel or a folder "
                     f"with musicnn/{model}/.index)")


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


def assign(model, ckpt: dict[str, np.ndarray], checkpoint_map: dict[str, str]) -> int:
    used: set[str] = set()
    n_params = 0
    for layer_name, scope in checkpoint_map.items():
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


def convert(source: Path, name: str, out: Path, single: bool) -> None:
    net = NETWORKS[name]
    with tempfile.TemporaryDirectory() as td:
        ckpt = read_checkpoint(_find_checkpoint_dir(source, Path(td), name, single))
    model = net.build()
    n = assign(model, ckpt, net.checkpoint_map)
    if n != model.count_params():
        raise SystemExit(f"{name}: assigned {n} values but the model has "
                         f"{model.count_params()} weights")

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
    print(f"{name}: wrote {out} ({out.stat().st_size / 1e6:.2f} MB, {model.count_params()} "
          f"weights from {len(ckpt)} checkpoint variables)")
    from genre_core.serving import export_keras_file
    print(f"{name}: wrote {export_keras_file(out, model)} (served by ONNX Runtime)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("source", help="musicnn-0.1.0 wheel, extracted folder, or checkpoint folder")
    ap.add_argument("--model", action="append", choices=list(NETWORKS),
                    help="network to convert (repeatable; default: all four)")
    ap.add_argument("--out", default=None,
                    help="output .keras (only with a single --model; default "
                         "assets/musicnn/<model>.keras)")
    args = ap.parse_args(argv)

    names = args.model or list(NETWORKS)
    single = len(names) == 1
    if args.out and not single:
        ap.error("--out needs exactly one --model")
    for name in names:
        out = Path(args.out) if args.out else NETWORKS[name].path
        convert(Path(args.source), name, out, single)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
