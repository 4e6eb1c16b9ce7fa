"""Section `batch`: `predict DIR --csv`, one process against the process pool."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from bench import common
from bench.common import Material, child_env, eprint, ratio, run_timed, stats


def batch_files(data_root: Path | None, mat: Material, n: int) -> tuple[Path, str]:
    """A folder of `n` 30-s WAVs: GTZAN clips (one genre after another) when available,
    else the test clip with a different gain each."""
    import soundfile as sf

    folder = mat.tmp / "batch"
    folder.mkdir(exist_ok=True)
    clips = []
    if data_root is not None:
        by_genre = [sorted(g.glob("*.wav")) for g in
                    sorted((data_root / "Data" / "genres_original").glob("*")) if g.is_dir()]
        clips = [c for row in zip(*by_genre) for c in row][:n] if by_genre else []
    for i in range(n):
        if i < len(clips):
            shutil.copy(clips[i], folder / f"{i:02d}_{clips[i].name}")
        else:
            sf.write(folder / f"{i:02d}_synth.wav", mat.y * (0.5 + 0.05 * i), 22050,
                     subtype="PCM_16")
    return folder, "GTZAN clips" if len(clips) == n else "synthesized"


def bench_batch(bundle_path: Path, data_root: Path | None, mat: Material, n: int,
                reps: int) -> dict:
    folder, source = batch_files(data_root, mat, n)
    out: dict = {"files": n, "source": source}
    walls: dict[str, list[float]] = {}
    for jobs in ("1", "0"):                  # 0 = the default: one process per core
        for _ in range(reps):
            cmd = [sys.executable, "-m", "genre_core", "predict", str(folder), "--csv",
                   str(mat.tmp / f"batch{jobs}.csv"), "--bundle", str(bundle_path),
                   *(["--models", ",".join(common.MODELS)] if common.MODELS else []),
                   *(["--jobs", jobs] if jobs != "0" else [])]
            r = run_timed(cmd, env=child_env(), timeout=900)
            if r["rc"] != 0:
                return {"error": f"predict DIR exited {r['rc']}: {r['output'][-500:]}"}
            walls.setdefault(jobs, []).append(r["wall"])
            eprint(f"  batch, {'1 process' if jobs == '1' else 'pool'}: {n} files in "
                   f"{r['wall']:.1f} s")
    one, pool = stats(walls["1"]), stats(walls["0"])
    same = (mat.tmp / "batch1.csv").read_text() == (mat.tmp / "batch0.csv").read_text()
    out.update(one_process_files_per_s=stats([n / w for w in walls["1"]]),
               pool_files_per_s=stats([n / w for w in walls["0"]]),
               workers=min(n, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                           else os.cpu_count() or 1),
               speedup=ratio(one, pool), same_csv=same)
    return out
