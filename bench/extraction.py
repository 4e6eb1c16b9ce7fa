"""Section `extraction`: clips per second, cold, cached and naive."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from bench.common import eprint, ratio, stats
from bench.naive import naive_features, naive_load
from genre_core.config import FeatureConfig


def _naive_extract(tracks, config: FeatureConfig) -> int:
    done = 0
    for t in tracks:
        try:
            naive_features(naive_load(t.source, config), config)
            done += 1
        except Exception:  # noqa: BLE001 - the notebook would crash; we just count
            pass
    return done


def extraction_roots(data_root: Path) -> list[Path]:
    """The dataset roots to extract: the shared GTZAN layout also has its extra clips
    (`extra/`, 104 FLACs beside the 100 WAVs), which #11 measures together."""
    extra = data_root / "extra"
    return [data_root, extra] if (extra / "genres_original").is_dir() else [data_root]


def bench_extraction(data_root: Path, cold_reps: int, cached_reps: int,
                     naive_limit: int | None) -> tuple[dict, dict]:
    from genre_core.inference.cache import FeatureCache
    from genre_core.inference.dataset import extract_dataset, index_dataset

    config = FeatureConfig()
    roots = extraction_roots(data_root)
    ds = index_dataset([str(r) for r in roots])
    tracks = [t for t in ds.tracks if not t.archive]
    n = len(tracks)
    cold, cached = [], []
    feats: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as tmp:
        for i in range(cold_reps):
            cache = FeatureCache(Path(tmp) / f"c{i}")
            t = time.perf_counter()
            feats, problems = extract_dataset(tracks, "mfcc", config, cache, progress=False)
            cold.append(time.perf_counter() - t)
            eprint(f"  extraction cold {i + 1}/{cold_reps}: {cold[-1]:.2f} s")
        for _ in range(cached_reps):
            t = time.perf_counter()
            feats, problems = extract_dataset(tracks, "mfcc", config, cache, progress=False)
            cached.append(time.perf_counter() - t)
    naive_tracks = tracks if naive_limit is None else tracks[:naive_limit]
    naive_secs = float("nan")
    if naive_tracks:
        t = time.perf_counter()
        _naive_extract(naive_tracks, config)
        naive_secs = time.perf_counter() - t
        eprint(f"  extraction naive ({len(naive_tracks)} clips): {naive_secs:.2f} s")
    cps = lambda secs, k=n: stats([k / s for s in secs])  # noqa: E731
    cold_s, cached_s = cps(cold), cps(cached)
    naive_s = stats([len(naive_tracks) / naive_secs])
    res = {"clips": n, "roots": [str(r) for r in roots], "workers": os.cpu_count(),
           "cold_seconds": stats(cold),
           "cached_seconds": stats(cached), "cold_clips_per_s": cold_s,
           "cached_clips_per_s": cached_s, "naive_clips": len(naive_tracks),
           "naive_clips_per_s": naive_s,
           "cached_vs_cold": ratio(cached_s, cold_s), "cold_vs_naive": ratio(cold_s, naive_s),
           "problems": problems}
    return res, {"features": feats, "tracks": tracks}
