"""Compute reference outputs of the ORIGINAL musicnn 0.1.0 (TF1 code) for the ports' tests.

This script is NOT run by the tests and NOT run in the project's environment. It is run once,
by hand, in a scratch virtual environment outside the repository that holds the original
package, e.g.:

    python -m venv /tmp/musicnn_ref
    /tmp/musicnn_ref/bin/pip download musicnn==0.1.0 --no-deps -d /tmp/musicnn_wheel
    /tmp/musicnn_ref/bin/pip install --no-deps /tmp/musicnn_wheel/musicnn-0.1.0-py3-none-any.whl
    /tmp/musicnn_ref/bin/pip install tensorflow-cpu tf-keras librosa soundfile "numpy<2"
    TF_USE_LEGACY_KERAS=1 /tmp/musicnn_ref/bin/python -m studies.musicnn_reference \
        --gtzan-root /work/shared/gtzan --out tests/data/musicnn_reference.json
    for m in MTT_musicnn MSD_vgg MTT_vgg; do
      TF_USE_LEGACY_KERAS=1 /tmp/musicnn_ref/bin/python -m studies.musicnn_reference --model $m \
          --gtzan-root /work/shared/gtzan --out tests/data/musicnn_reference_$m.json
    done

`--model` picks one of the package's four checkpoints (default MSD_musicnn).
It calls `musicnn.extractor.extractor(path, model=<model>, input_length=3,
input_overlap=False, extract_features=True)` unmodified (no patch to the package was needed
with TensorFlow 2.21 + tf-keras), i.e. musicnn's own librosa preprocessing, patching and
TF1 graph + checkpoint. The taggram is the extractor's; per-patch penultimate / pooling
features come from the same original graph run on all patches (see `graph_outputs` for the
extractor bug that makes this necessary), cross-checked against the extractor's correct parts.
For the vgg models the stored "penultimate" is the layer before the output dense layer,
flatten(pool5) (256 values: 2 time steps x 128 filters), which the extractor returns as
features['pool5'].

numpy < 2 matters: musicnn computes `np.log10(10000 * mel.astype(np.float16) + 1)`. Under
numpy 1.x (musicnn pins numpy<1.17) `10000 * float16_array` is promoted to float32; under
numpy >= 2 (NEP 50) it stays float16 and overflows to inf for loud bins (mel power > 6.55),
which turns whole taggrams into NaN (blues.00000 and metal.00001 do). numpy 1.26.4 was used
(pip warns that ml-dtypes wants numpy>=2; the TF1 graph path used here works regardless).
Only output values are written (rounded to 1e-6) plus a description of each input: a GTZAN
file name (the audio itself is never copied), or the recipe of a synthesized clip
(`synth_clip` below; tests/models/test_musicnn_port.py has the identical function).
The synthesized clip is written to a temporary float32 WAV at 16 kHz, so musicnn's
`librosa.load(..., sr=16000)` reads back exactly the generated samples.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np

MODELS = ("MSD_musicnn", "MTT_musicnn", "MSD_vgg", "MTT_vgg")
GTZAN_CLIPS = ["blues/blues.00000.wav", "metal/metal.00001.wav", "classical/classical.00002.wav"]

SYNTH_RECIPE = {
    "sr": 16000,
    "seconds": 10.0,
    "seed": 1234,
    "freqs_hz": [220.0, 277.18, 329.63, 440.0],   # A major chord + octave
    "amplitude": 0.05,                            # per partial
    "am_hz": 2.0,                                 # amplitude modulation (a pulsing chord)
    "noise_std": 0.01,                            # white noise, numpy default_rng(seed).normal
    "dtype": "float32",
}


def synth_clip(recipe: dict = SYNTH_RECIPE) -> np.ndarray:
    """Seeded chord + noise, float32 mono at recipe['sr']. Mirrored in the test file."""
    sr = int(recipe["sr"])
    n = int(round(recipe["seconds"] * sr))
    t = np.arange(n, dtype=np.float64) / sr
    y = np.zeros(n, dtype=np.float64)
    for f in recipe["freqs_hz"]:
        y += recipe["amplitude"] * np.sin(2.0 * np.pi * f * t)
    y *= 0.75 + 0.25 * np.cos(2.0 * np.pi * recipe["am_hz"] * t)
    rng = np.random.default_rng(recipe["seed"])
    y += recipe["noise_std"] * rng.normal(size=n)
    return y.astype(np.float32)


def _r(a) -> list:
    return np.round(np.asarray(a, dtype=np.float64), 6).tolist()


def graph_outputs(batch: np.ndarray, model: str = "MSD_musicnn") -> dict:
    """Run musicnn's own TF1 graph (models.define_model + checkpoint restore, set up exactly as
    extractor() does) on all patches at once; returns taggram/penultimate (+ mean_pool/max_pool
    for the musicnn models; for vgg, penultimate = flatten(pool5) and pool5 as the graph has it).

    Needed because extractor() 0.1.0 has a bug in its per-patch loop: it concatenates the
    *first* patch's `penultimate_` (and cnn1/2/3) again for every later patch (it unpacks the
    later values into `backend_`, `midend1_`… but appends `penultimate_`, `cnn1_`…), so only
    row 0 of its features['penultimate'] is right. Taggram, mean_pool and max_pool are fine.
    """
    import musicnn.extractor  # noqa: F401  (disables eager execution, as in the original)
    import tensorflow as tf
    from musicnn import configuration as config
    from musicnn import models

    labels = config.MTT_LABELS if "MTT" in model else config.MSD_LABELS
    tf.compat.v1.reset_default_graph()
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, batch.shape[1], config.N_MELS])
        is_training = tf.compat.v1.placeholder(tf.bool)
        outs = models.define_model(x, is_training, model, len(labels))
        normalized_y = tf.nn.sigmoid(outs[0])
        if "vgg" in model:
            pool5 = outs[5]
            fetch = {"taggram": normalized_y, "pool5": pool5,
                     "penultimate": tf.compat.v1.layers.flatten(pool5)}
        else:
            fetch = {"taggram": normalized_y, "penultimate": outs[8],
                     "mean_pool": outs[6], "max_pool": outs[7]}
    with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        ckpt = os.path.dirname(models.__file__) + "/" + model + "/"
        tf.compat.v1.train.Saver().restore(sess, ckpt)
        return sess.run(fetch, feed_dict={x: batch, is_training: False})


def run_clip(path: str, dump_dir: Path | None, name: str, model: str = "MSD_musicnn"):
    from musicnn.extractor import batch_data, extractor
    taggram, tags, feats = extractor(path, model=model, input_length=3,
                                     input_overlap=False, extract_features=True)
    taggram = np.asarray(taggram)
    batch, _ = batch_data(path, 187, 187)
    g = graph_outputs(batch, model)
    # The graph run reproduces the extractor wherever the extractor is right.
    pairs = {"taggram": (g["taggram"], taggram)}
    if "vgg" in model:   # extractor: squeeze((1, 2, 1, 128)) per patch, concatenated on axis 0
        pairs["pool5"] = (np.asarray(g["pool5"]).reshape(-1, 128),
                          np.asarray(feats["pool5"]).reshape(-1, 128))
    else:
        pairs.update({"penultimate_row0": (g["penultimate"][0], feats["penultimate"][0]),
                      "mean_pool": (g["mean_pool"], feats["mean_pool"]),
                      "max_pool": (g["max_pool"], feats["max_pool"])})
    diffs = {k: float(np.abs(np.asarray(a) - np.asarray(b)).max()) for k, (a, b) in pairs.items()}
    # Batch size 1 vs all (oneDNN may pick other kernels): float32 summation order, so relative
    # to the feature's magnitude (max_pool reaches ~10 and has differed by 1.8e-4).
    scale = {k: max(1.0, float(np.abs(np.asarray(b)).max())) for k, (a, b) in pairs.items()}
    assert all(diffs[k] < 1e-4 * scale[k] for k in diffs), (diffs, scale)
    if dump_dir is not None:   # debugging aid only (never inside the repository)
        dump_dir.mkdir(parents=True, exist_ok=True)
        np.savez(dump_dir / f"{model}_{name}.npz", batch=batch, taggram=taggram, **{
            k: v for k, v in g.items() if k != "taggram"})
    pen = np.asarray(g["penultimate"])
    last = len(pen) - 1
    out = {
        "n_patches": int(taggram.shape[0]),
        "finite": bool(np.isfinite(taggram).all()),
        "taggram": _r(taggram),                                  # extractor(), all rows (n, 50)
        "taggram_mean": _r(taggram.mean(axis=0)),
        "penultimate_dim": int(pen.shape[1]),
        "penultimate_rows": {"0": _r(pen[0]), str(last): _r(pen[last])},
        "penultimate_mean": _r(pen.mean(axis=0)),
    }
    if "vgg" not in model:
        out["mean_pool_row0_first32"] = _r(np.asarray(g["mean_pool"])[0][:32])
        out["max_pool_row0_first32"] = _r(np.asarray(g["max_pool"])[0][:32])
    out["graph_vs_extractor_max_abs_diff"] = diffs
    return out, tags


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gtzan-root", default="/work/shared/gtzan",
                    help="folder holding Data/genres_original/<genre>/<file>.wav")
    ap.add_argument("--model", default="MSD_musicnn", choices=MODELS)
    ap.add_argument("--out", default=None,
                    help="default tests/data/musicnn_reference.json for MSD_musicnn, "
                         "tests/data/musicnn_reference_<model>.json otherwise")
    ap.add_argument("--dump-dir", default=None,
                    help="optional folder (outside the repo) for full npz dumps, for debugging")
    args = ap.parse_args(argv)

    import librosa
    import musicnn
    import soundfile as sf
    import tensorflow as tf

    dump = Path(args.dump_dir) if args.dump_dir else None
    model = args.model
    out_path = Path(args.out or ("tests/data/musicnn_reference.json" if model == "MSD_musicnn"
                                 else f"tests/data/musicnn_reference_{model}.json"))
    clips = []
    tags = None
    for rel in GTZAN_CLIPS:
        p = Path(args.gtzan_root) / "Data" / "genres_original" / rel
        out, tags = run_clip(str(p), dump, Path(rel).stem, model)
        clips.append({"name": Path(rel).stem, "input": {"kind": "gtzan", "file": rel,
                      "load": "librosa.load(path, sr=16000)  (musicnn's own loader)"}, **out})
        print(rel, out["n_patches"], "patches; top tags:",
              [tags[i] for i in np.argsort(out["taggram_mean"])[::-1][:3]], file=sys.stderr)

    with tempfile.TemporaryDirectory() as td:
        wav = os.path.join(td, "synth.wav")
        sf.write(wav, synth_clip(), SYNTH_RECIPE["sr"], subtype="FLOAT")
        out, tags = run_clip(wav, dump, "synth_chord", model)
        clips.append({"name": "synth_chord", "input": {"kind": "synth", "recipe": SYNTH_RECIPE},
                      **out})

    doc = {
        "about": f"Outputs of the original musicnn 0.1.0 {model} (TF1 graph + checkpoint), "
                 "made by studies/musicnn_reference.py; non-overlapping 3-s patches (187 frames).",
        "model": model,
        "environment": {"python": platform.python_version(), "tensorflow": tf.__version__,
                        "librosa": librosa.__version__, "numpy": np.__version__,
                        "musicnn": getattr(musicnn, "__version__", "0.1.0")},
        "tags": list(tags),
        "rounding": 1e-6,
        "clips": clips,
    }
    if "vgg" in model:
        doc["penultimate_layer"] = "flatten(pool5): the input of the output dense layer"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(doc, indent=1) + "\n")
    print("wrote", out_path, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
