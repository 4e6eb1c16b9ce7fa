"""Section `cold`: a whole `predict` process and the stages of a cold prediction."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from bench import common
from bench.common import Material, child_env, eprint, run_timed, stats

COLD_CHILD = r"""
import time
t0 = time.perf_counter()
import json, sys
from genre_core.inference.batch_predict import skip_optional_pandas
skip_optional_pandas()                       # as the predict command does
from genre_core.inference.predict import Predictor
t1 = time.perf_counter()
bundle, models, f = sys.argv[1], sys.argv[2], sys.argv[3]
p = Predictor(bundle, models.split(",") if models else None, lazy=True)
t2 = time.perf_counter()
pred = p.predict(f)
t3 = time.perf_counter()
print("BENCH_JSON" + json.dumps({"import genre_core.inference.predict": t1 - t0,
                                 "Predictor (lazy)": t2 - t1, **pred.timings,
                                 "first prediction": t3 - t2, "in-process total": t3 - t0}))
"""


def bench_cold(bundle_path: Path, mat: Material, reps: int) -> dict:
    cmd = [sys.executable, "-m", "genre_core", "predict", str(mat.wav),
           *(["--models", ",".join(common.MODELS)] if common.MODELS else []), "--bundle",
           str(bundle_path)]
    runs = []
    for i in range(reps):
        r = run_timed(cmd, env=child_env())
        if r["rc"] != 0:
            return {"error": f"predict exited {r['rc']}: {r['output'][-500:]}"}
        runs.append(r)
        eprint(f"  cold predict run {i + 1}/{reps}: {r['wall']:.2f} s, peak "
               f"{(r['peak_rss'] or 0) / 2**20:.0f} MiB")
    # the stages of a cold prediction, measured inside fresh processes
    stages: dict[str, list[float]] = {}
    for _ in range(reps):
        r = run_timed([sys.executable, "-c", COLD_CHILD, str(bundle_path),
                       ",".join(common.MODELS or []), str(mat.wav)], env=child_env())
        if r["json_line"]:
            for k, v in json.loads(r["json_line"][len("BENCH_JSON"):]).items():
                stages.setdefault(k, []).append(v)
    # the import cost alone, for the profile of where cold time goes
    code = ("import time, json; t0 = time.perf_counter(); import genre_core.inference.predict; "
            "from genre_core.inference.batch_predict import skip_optional_pandas; skip_optional_pandas(); "
            "t1 = time.perf_counter(); import onnxruntime; t2 = time.perf_counter(); "
            "import librosa; librosa.feature.mfcc; t3 = time.perf_counter(); "
            "import sklearn.linear_model; t4 = time.perf_counter(); print('BENCH_JSON' + "
            "json.dumps({'genre_core': t1 - t0, 'onnxruntime': t2 - t1, "
            "'librosa_feature': t3 - t2, 'sklearn': t4 - t3}))")
    imp = run_timed([sys.executable, "-c", code], env=child_env())
    line = imp["json_line"]
    parts = json.loads(line[len("BENCH_JSON"):]) if line else {}
    peaks = [r["peak_rss"] for r in runs if r["peak_rss"]]
    return {"command": " ".join(cmd[1:]), "predict_process": stats([r["wall"] for r in runs]),
            "peak_rss": stats(peaks) if peaks else None,
            "peak_rss_mib": stats([p / 2**20 for p in peaks]) if peaks else None,
            "stages": {k: stats(v) for k, v in stages.items()},
            "import_only": stats([imp["wall"]]),
            "import_parts": {k: stats([v]) for k, v in parts.items()}}
