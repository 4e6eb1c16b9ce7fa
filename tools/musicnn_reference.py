"""Compute reference outputs of the ORIGINAL musicnn 0.1.0 (TF1 code) for the port's test.

This script is NOT run by the tests and NOT run in the project's environment. It is run once,
by hand, in a scratch virtual environment outside the repository that holds the original
package, e.g.:

    python -m venv /tmp/musicnn_ref
    /tmp/musicnn_ref/bin/pip download musicnn==0.1.0 --no-deps -d /tmp/musicnn_wheel
    /tmp/musicnn_ref/bin/pip install --no-deps /tmp/musicnn_wheel/musicnn-0.1.0-py3-none-any.whl
    /tmp/musicnn_ref/bin/pip install tensorflow-cpu tf-keras librosa soundfile "numpy<2"
    TF_USE_LEGACY_KERAS=1 /tmp/musicnn_ref/bin/python tools/musicnn_reference.py \
        --gtzan-root /work/shared/gtzan --out tests/data/musicnn_reference.json

It calls `musicnn.extractor.extractor(path, model='MSD_musicnn', input_length=3,
input_overlap=False, extract_features=True)` unmodified (no patch to the package was needed
with TensorFlow 2.21 + tf-keras), i.e. musicnn's own librosa preprocessing, patching and
TF1 graph + checkpoint. The taggram is the extractor's; per-patch penultimate / pooling
features come from the same original graph run on all patches (see `graph_outputs` for the
extractor bug that makes this necessary), cross-checked against the extractor's correct parts.

numpy < 2 matters: musicnn computes `np.log10(10000 * mel.astype(np.float16) + 1)`. Under
numpy 1.x (musicnn pins numpy<1.17) `10000 * float16_array` is promoted to float32; under
numpy >= 2 (NEP 50) it stays float16 and overflows to inf for loud bins (mel power > 6.55),
which turns whole taggrams into NaN (blues.00000 and metal.00001 do). numpy 1.26.4 was used
(pip warns that ml-dtypes wants numpy>=2; the TF1 graph path used here works regardless). Only output values are written (rounded to 1e-6) plus a description
of each input: a GTZAN file name (the audio itself is never copied), or the recipe of a
synthesized clip (`synth_clip` below; tests/test_musicnn_port.py has the identical function).
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


def graph_outputs(batch: np.ndarray) -> dict:
    """Run musicnn's own TF1 graph (models.define_model + checkpoint restore, set up exactly as
    extractor() does) on all patches at once; returns taggram/penultimate/mean_pool/max_pool.

    Needed because extractor() 0.1.0 has a bug in its per-patch loop: it concatenates the
    *first* patch's `penultimate_` (and cnn1/2/3) again for every later patch (it unpacks the
    later values into `backend_`, `midend1_`… but appends `penultimate_`, `cnn1_`…), so only
    row 0 of its features['penultimate'] is right. Taggram, mean_pool and max_pool are fine.
    """
    import tensorflow as tf
    from musicnn import configuration as config
    from musicnn import models
    import musicnn.extractor  # noqa: F401  (disables eager execution, as in the original)

    model = "MSD_musicnn"
    tf.compat.v1.reset_default_graph()
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, batch.shape[1], config.N_MELS])
        is_training = tf.compat.v1.placeholder(tf.bool)
        y, _, _, _, _, _, mean_pool, max_pool, penultimate = models.define_model(
            x, is_training, model, len(config.MSD_LABELS))
        normalized_y = tf.nn.sigmoid(y)
    with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        tf.compat.v1.train.Saver().restore(sess, os.path.dirname(models.__file__) + "/" + model + "/")
        t, p, mean, mx = sess.run([normalized_y, penultimate, mean_pool, max_pool],
                                  feed_dict={x: batch, is_training: False})
    return {"taggram": t, "penultimate": p, "mean_pool": mean, "max_pool": mx}


def run_clip(path: str, dump_dir: Path | None, name: str):
    from musicnn.extractor import batch_data, extractor
    taggram, tags, feats = extractor(path, model="MSD_musicnn", input_length=3,
                                     input_overlap=False, extract_features=True)
    taggram = np.asarray(taggram)
    batch, _ = batch_data(path, 187, 187)
    g = graph_outputs(batch)
    # The graph run reproduces the extractor wherever the extractor is right.
    diffs = {
        "taggram": float(np.abs(g["taggram"] - taggram).max()),
        "penultimate_row0": float(np.abs(g["penultimate"][0] - feats["penultimate"][0]).max()),
        "mean_pool": float(np.abs(g["mean_pool"] - feats["mean_pool"]).max()),
        "max_pool": float(np.abs(g["max_pool"] - feats["max_pool"]).max()),
    }
    assert max(diffs.values()) < 1e-4, diffs   # batch size 1 vs all: float32 summation order
    if dump_dir is not None:   # debugging aid only (never inside the repository)
        dump_dir.mkdir(parents=True, exist_ok=True)
        np.savez(dump_dir / f"{name}.npz", batch=batch, taggram=taggram, **{
            k: v for k, v in g.items() if k != "taggram"})
    pen = np.asarray(g["penultimate"])
    last = len(pen) - 1
    return {
        "n_patches": int(taggram.shape[0]),
        "finite": bool(np.isfinite(taggram).all()),
        "taggram": _r(taggram),                                  # extractor(), all rows (n, 50)
        "taggram_mean": _r(taggram.mean(axis=0)),
        "penultimate_dim": int(pen.shape[1]),
        "penultimate_rows": {"0": _r(pen[0]), str(last): _r(pen[last])},
        "penultimate_mean": _r(pen.mean(axis=0)),
        "mean_pool_row0_first32": _r(np.asarray(g["mean_pool"])[0][:32]),
        "max_pool_row0_first32": _r(np.asarray(g["max_pool"])[0][:32]),
        "graph_vs_extractor_max_abs_diff": diffs,
    }, tags


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gtzan-root", default="/work/shared/gtzan",
                    help="folder holding Data/genres_original/<genre>/<file>.wav")
    ap.add_argument("--out", default="tests/data/musicnn_reference.json")
    ap.add_argument("--dump-dir", default=None,
                    help="optional folder (outside the repo) for full npz dumps, for debugging")
    args = ap.parse_args(argv)

    import librosa
    import musicnn
    import soundfile as sf
    import tensorflow as tf

    dump = Path(args.dump_dir) if args.dump_dir else None
    clips = []
    tags = None
    for rel in GTZAN_CLIPS:
        p = Path(args.gtzan_root) / "Data" / "genres_original" / rel
        out, tags = run_clip(str(p), dump, Path(rel).stem)
        clips.append({"name": Path(rel).stem, "input": {"kind": "gtzan", "file": rel,
                      "load": "librosa.load(path, sr=16000)  (musicnn's own loader)"}, **out})
        print(rel, out["n_patches"], "patches; top tags:",
              [tags[i] for i in np.argsort(out["taggram_mean"])[::-1][:3]], file=sys.stderr)

    with tempfile.TemporaryDirectory() as td:
        wav = os.path.join(td, "synth.wav")
        sf.write(wav, synth_clip(), SYNTH_RECIPE["sr"], subtype="FLOAT")
        out, tags = run_clip(wav, dump, "synth_chord")
        clips.append({"name": "synth_chord", "input": {"kind": "synth", "recipe": SYNTH_RECIPE},
                      **out})

    doc = {
        "about": "Outputs of the original musicnn 0.1.0 MSD_musicnn (TF1 graph + checkpoint), "
                 "made by tools/musicnn_reference.py; non-overlapping 3-s patches (187 frames).",
        "model": "MSD_musicnn",
        "environment": {"python": platform.python_version(), "tensorflow": tf.__version__,
                        "librosa": librosa.__version__, "numpy": np.__version__,
                        "musicnn": getattr(musicnn, "__version__", "0.1.0")},
        "tags": list(tags),
        "rounding": 1e-6,
        "clips": clips,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    print("wrote", args.out, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
