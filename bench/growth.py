"""Section `growth`: prediction time and peak memory for 30-s, 3-min and 10-min clips."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from bench import common
from bench.common import Material, child_env, eprint, run_timed, stats

GROWTH_CHILD = r"""
import json, sys, time
from dataclasses import replace
from genre_core.inference.audio import load_audio
from bench.common import peak_rss_of
from genre_core.inference.predict import Predictor
import os
bundle, models, reps, files = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
p = Predictor(bundle, models.split(",") if models else None)
config = replace(p.config, max_seconds=None)
p.predict_clip(load_audio(files[0], config))          # warm-up on the shortest
base = peak_rss_of(os.getpid())
out = {"baseline_peak_rss": base, "runs": []}
for f in files:                                        # shortest first: VmHWM is monotonic
    for _ in range(reps):
        t = time.perf_counter()
        clip = load_audio(f, config)
        decode = time.perf_counter() - t
        pred = p.predict_clip(clip)
        total = time.perf_counter() - t
        out["runs"].append({"file": f, "seconds": clip.loaded_seconds, "decode": decode,
                            **pred.timings, "total": total})
    out.setdefault("peak_rss", {})[f] = peak_rss_of(os.getpid())
print("BENCH_JSON" + json.dumps(out))
"""


def bench_growth(bundle_path: Path, mat: Material, lengths: list[float], reps: int) -> dict:
    files = [str(mat.long_wav(s)) for s in lengths]
    r = run_timed([sys.executable, "-c", GROWTH_CHILD, str(bundle_path),
                   ",".join(common.MODELS or []), str(reps), *files],
                  env=child_env(), timeout=600)
    line = r["json_line"]
    if r["rc"] != 0 or line is None:
        return {"error": f"growth child exited {r['rc']}: {r['output'][-600:]}"}
    data = json.loads(line[len("BENCH_JSON"):])
    out: dict = {"baseline_peak_rss": data["baseline_peak_rss"], "clips": {}}
    for secs, f in zip(lengths, files):
        runs = [x for x in data["runs"] if x["file"] == f]
        parts = {k: stats([x[k] for x in runs]) for k in runs[0] if k not in ("file", "seconds")}
        peak = data["peak_rss"][f]
        out["clips"][f"{secs:g}s"] = {
            "audio_seconds": runs[0]["seconds"], **parts,
            "ms_per_audio_second": parts["total"]["median"] * 1000 / runs[0]["seconds"],
            "peak_rss": peak, "peak_rss_above_baseline": (peak - data["baseline_peak_rss"])
            if peak and data["baseline_peak_rss"] else None}
        eprint(f"  growth {secs:g} s: {parts['total']['median']:.2f} s, peak "
               f"{(peak or 0) / 2**20:.0f} MiB")
    return out
