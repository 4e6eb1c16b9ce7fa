"""Seconds per 30-s clip: the musicnn4 feature (all four networks, one front end) per network
and in total, beside the single-network "musicnn" feature. Warm (models loaded, one warm-up
run each), median / min / max of --runs runs. Run it under `nice` on a quiet machine:

    nice -n 10 python -m studies.musicnn4_timing [--audio FILE] [--runs 5]

Without --audio, a 30-s GTZAN clip is used when present, else a synthesized 30-s chord.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None) -> int:
    import numpy as np

    from genre_core.config import FeatureConfig
    from genre_core.features import extract
    from genre_core.features.musicnn import zoo
    from genre_core.inference.audio import load_audio

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--audio", default=None)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)

    config = FeatureConfig()                              # the app's 22.05 kHz, first 30 s
    gtzan = REPO.parent / "shared" / "gtzan" / "Data" / "genres_original"
    gtzan = gtzan / "rock" / "rock.00000.wav"
    source = args.audio or (str(gtzan) if gtzan.is_file() else None)
    if source:
        y = load_audio(source, config).samples
    else:
        from studies.musicnn_reference import synth_clip
        y = synth_clip({**_recipe(), "seconds": 30.0, "sr": config.sample_rate})
    y = np.asarray(y, dtype=np.float32)[: 30 * config.sample_rate]
    print(f"input: {source or 'synthesized chord'}, {len(y) / config.sample_rate:.1f} s at "
          f"{config.sample_rate} Hz; load average {os.getloadavg()[0]:.2f}")

    extract("musicnn", y, config)                          # warm up: load, trace
    zoo.extract_all(y, config.sample_rate)
    single, total, parts = [], [], {}
    for _ in range(args.runs):
        t = time.perf_counter()
        extract("musicnn", y, config)
        single.append(time.perf_counter() - t)
        timings: dict = {}
        t = time.perf_counter()
        zoo.extract_all(y, config.sample_rate, timings=timings)
        total.append(time.perf_counter() - t)
        for k, v in timings.items():
            parts.setdefault(k, []).append(v)

    def row(name, values):
        print(f"  {name:<28} median {statistics.median(values):.3f} s  "
              f"(min {min(values):.3f}, max {max(values):.3f}, n {len(values)})")

    print("musicnn4 (all four networks):")
    for k, v in parts.items():
        row(k, v)
    row("total", total)
    print("musicnn (MSD_musicnn only, existing feature):")
    row("total", single)
    return 0


def _recipe() -> dict:
    from studies.musicnn_reference import SYNTH_RECIPE
    return dict(SYNTH_RECIPE)


if __name__ == "__main__":
    raise SystemExit(main())
