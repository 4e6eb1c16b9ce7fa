"""Section `latency`: warm prediction of a 30-s WAV and MP3, fast beside naive."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from bench import common
from bench.common import Material, eprint, ratio, stats
from bench.naive import NAIVE_MODELS, keras_net, naive_predict


def bench_latency(bundle_path: Path, mat: Material, reps: int, naive_reps: int) -> dict:
    from genre_core.inference.predict import Predictor

    predictor = Predictor(bundle_path, common.MODELS)
    bundle = predictor.bundle
    nets = {n: keras_net(bundle, n) for n in NAIVE_MODELS if n in bundle.models}
    out: dict = {"models": list(bundle.models), "naive_models": list(nets), "reps": reps,
                 "naive_reps": naive_reps, "clip_source": mat.source}
    for label, path in (("wav", mat.wav), ("mp3", mat.mp3)):
        # warm-up: first calls trace functions and fill allocator pools
        fast_pred = predictor.predict(path)
        naive_probs = naive_predict(path, bundle, nets=nets)
        fast_parts: dict[str, list[float]] = {}
        for _ in range(reps):
            t = time.perf_counter()
            pred = predictor.predict(path)
            total = time.perf_counter() - t
            for k, v in {**pred.timings, "total": total}.items():
                fast_parts.setdefault(k, []).append(v)
        naive_parts: dict[str, list[float]] = {}
        for _ in range(naive_reps):
            tm: dict[str, float] = {}
            t = time.perf_counter()
            naive_probs = naive_predict(path, bundle, tm, nets)
            tm["total"] = time.perf_counter() - t
            for k, v in tm.items():
                naive_parts.setdefault(k, []).append(v)
        diff = max((float(np.max(np.abs(fast_pred.models[n].segment_probabilities.mean(axis=0)
                                        - p))) for n, p in naive_probs.items()), default=0.0)
        fast = {k: stats(v) for k, v in fast_parts.items()}
        naive = {k: stats(v) for k, v in naive_parts.items()}
        out[label] = {
            "file": str(path), "segments": len(fast_pred.models[bundle.model_names[0]]
                                               .segment_starts),
            "fast": fast, "naive": naive,
            "speedup": ratio(naive["total"], fast["total"]),
            "speedup_parts": {k: ratio(naive[k], fast[k]) for k in naive if k in fast},
            "max_probability_difference": diff,
            "same_genres": all(bundle.labels[int(np.argmax(p))] == fast_pred.models[n].genre
                               for n, p in naive_probs.items()),
        }
        eprint(f"  latency {label}: fast {fast['total']['median'] * 1000:.0f} ms "
               f"({len(bundle.models)} models), naive {naive['total']['median'] * 1000:.0f} ms "
               f"({len(nets)} models; max |dp| {diff:.1e})")
    return out
