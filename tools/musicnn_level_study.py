"""Does bringing every recording to one loudness before musicnn help on new artists?

Issue #9: musicnn's front end is log10(10000 x mel + 1), so a louder master shifts the whole
input; user recordings are often louder than GTZAN's clips (modern masters pushed into a
limiter). This study scales each clip, each of its "own recording" training copies and each
degraded test copy to one RMS level (-20 dBFS) before the four networks, and compares the
shipped musicnn4 head trained and scored that way with the same head on the audio as it is
(tools/musicnn_midlevel_study.py's cache), over the same 10 folds grouped by artist.

Usage: python tools/musicnn_level_study.py --part 0/2 & ... --part 1/2; then without --part.
Results: tools/musicnn_level_study_results.txt.
"""
from __future__ import annotations

import sys
import time
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from musicnn_midlevel_study import N_BASE, TRAIN_VIEWS, VIEWS, features  # noqa: E402
from realistic_study import (  # noqa: E402
    SR,
    cached,
    degrade_for_test,
    held_out_predictions,
    study_parser,
    study_tracks,
)

TARGET_RMS = 0.1          # -20 dBFS


def level(y: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))
    return (y * (TARGET_RMS / rms)).astype(np.float32) if rms > 1e-6 else y


def extract(tracks, cache: Path, part: tuple[int, int]) -> None:
    from genre_core.inference.audio import load_audio
    from genre_core.training.recording_copies import recording_copies

    t0 = time.time()
    mine = [t for i, t in enumerate(tracks) if i % part[1] == part[0]]
    for i, t in enumerate(mine):
        if all((cache / f"{t.id}.{v}.npy").exists() for v in VIEWS):
            continue
        y = load_audio(t.source).samples
        seed = zlib.crc32(t.id.encode())
        audio = {"orig": y, "test": degrade_for_test(y, seed)}
        audio.update({f"aug{c}": z for c, z in enumerate(recording_copies(y, SR, seed, 2))})
        for view, z in audio.items():
            cached(cache, f"{t.id}.{view}", lambda z=z: features(level(z))[:, :N_BASE])
        print(f"part {part[0]}: {i + 1}/{len(mine)}  {time.time() - t0:.0f} s", flush=True)


def main() -> None:
    from sklearn.metrics import f1_score

    from genre_core.inference.dataset import load_artist_index
    from genre_core.training.splits import artist_groups

    ap = study_parser(__doc__.splitlines()[0], folds=10, cache="/tmp/level_cache")
    ap.add_argument("--as-is-cache", default="/tmp/midlevel_cache")
    ap.add_argument("--part", default=None, help="k/n: extract only every n-th track from k")
    args = ap.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    tracks = study_tracks(args.data)
    if args.part:
        k, n = (int(v) for v in args.part.split("/"))
        extract(tracks, cache, (k, n))
        return
    extract(tracks, cache, (0, 1))
    genres = sorted({t.genre for t in tracks})
    groups = artist_groups(tracks, load_artist_index())
    y_track = np.array([genres.index(t.genre) for t in tracks])
    g = np.array([groups[t.id] for t in tracks])
    for name, folder in (("audio as it is (ships)", Path(args.as_is_cache)),
                         ("every copy at -20 dBFS RMS", cache)):
        feats = {(t.id, v): np.load(folder / f"{t.id}.{v}.npy")[:, :N_BASE]
                 for t in tracks for v in VIEWS}
        tf = time.time()
        pred = held_out_predictions(tracks, y_track, g, feats, args.folds, TRAIN_VIEWS)
        cells = [f"{np.mean(pred[v] == y_track):.3f}/"
                 f"{f1_score(y_track, pred[v], average='macro'):.3f}" for v in ("orig", "test")]
        print(f"{name:28s} clean {cells[0]}  degraded {cells[1]}  {time.time() - tf:.0f} s",
              flush=True)
    print(f"{len(tracks)} clips, {len(set(g))} artist groups, GroupKFold({args.folds}) by artist")


if __name__ == "__main__":
    main()
