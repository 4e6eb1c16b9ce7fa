"""Do musicnn's mid-level features help the musicnn4 transfer model on new artists?

Issue #9: musicnn4 describes a 3-s patch by each network's taggram and penultimate embedding.
Transfer studies (Choi et al. 2017, "Transfer learning for music classification and
regression tasks"; Pons & Serra's musicnn transfer experiments) found that earlier layers
carry more of what genre needs than the tagging head does. The two musicnn networks already
compute, on every patch, the temporal mean and max of their mid-end feature map
(`mean_pool`, `max_pool`, 753 values each; musicnn_backbone.OUTPUT_NAMES), so adding them
costs nothing at prediction time. This study measures, with the shipped head (balanced
logistic regression per patch, track = mean of patches) and the shipped training data (each
training clip plus its two "own recording" copies), over 10 folds grouped by artist
(GroupKFold, 204 clips), scored on the held-out artists' clips as they are and as degraded
copies (studies/realistic_study.py's test chain):

  * the shipped blocks (4 taggrams + 4 embeddings, 1112 columns),
  * those plus both musicnn networks' mean_pool and/or max_pool, at C = .001 (ships) and
    smaller,
  * the pooled blocks alone.

Features of every clip, its degraded test copy and its two training copies are cached in
--cache (default /tmp/midlevel_cache), one run of each network per copy. Extraction can be split
over processes: --part 0/2 and --part 1/2 in parallel, then a run without --part fits.
Usage: python -m studies.musicnn_midlevel_study [--part k/n] [name filter ...]
Results: studies/RESULTS.md.
"""
from __future__ import annotations

import time
import zlib
from pathlib import Path

import numpy as np

from studies.realistic_study import (
    SR,
    cached,
    degrade_for_test,
    held_out_predictions,
    study_parser,
    study_tracks,
)

VIEWS = ("orig", "test", "aug0", "aug1")
TRAIN_VIEWS = ("orig", "aug0", "aug1")
POOLS = ("mean_pool", "max_pool")
N_BASE = 1112                    # musicnn_zoo.N_COLUMNS


def features(y: np.ndarray) -> np.ndarray:
    """Per 3-s patch: the musicnn4 feature (1112 columns, musicnn_zoo layout), then the MSD
    and MTT musicnn networks' mean_pool and max_pool (4 x 753), from one run of each net."""
    from genre_core.features.musicnn import backbone as mb
    from genre_core.features.musicnn.zoo import NETWORKS, serving_network

    x = mb.log_mel_patches(y, SR)
    base, mid = [], []
    for name, net in NETWORKS.items():
        out = [np.asarray(o) for o in serving_network(name).predict_on_batch(x)]
        base += out[:2]
        if net.arch == "musicnn":
            mid += out[2:4]
    return np.concatenate(base + mid, axis=1).astype(np.float32)


def extract(tracks, cache: Path, part: tuple[int, int], make=None) -> None:
    """Cache make(audio) (default: `features`) of every clip of this part (every part[1]-th
    track from part[0]), its degraded test copy and its two training copies."""
    from genre_core.inference.audio import load_audio
    from genre_core.training.recording_copies import recording_copies

    t0 = time.time()
    mine = [t for i, t in enumerate(tracks) if i % part[1] == part[0]]
    for i, t in enumerate(mine):
        if all((cache / f"{t.id}.{v}.npy").exists() for v in VIEWS):
            continue
        y = load_audio(t.source).samples
        seed = zlib.crc32(t.id.encode())           # as realistic_study seeds its copies
        audio = {"orig": y, "test": degrade_for_test(y, seed)}
        audio.update({f"aug{c}": z for c, z in enumerate(recording_copies(y, SR, seed, 2))})
        for view, z in audio.items():
            cached(cache, f"{t.id}.{view}", lambda z=z: (make or features)(z))
        print(f"part {part[0]}: {i + 1}/{len(mine)}  {time.time() - t0:.0f} s", flush=True)


def extract_part_or_all(args, tracks, make=None) -> bool:
    """Extract into args.cache: the part --part k/n names (then True: the caller stops, another
    process does the rest), else every track (False: go on to the fits)."""
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    part = tuple(int(v) for v in args.part.split("/")) if args.part else (0, 1)
    extract(tracks, cache, part, make)
    return bool(args.part)


def main() -> None:
    from sklearn.metrics import f1_score

    from genre_core.inference.dataset import load_artist_index
    from genre_core.training.splits import artist_groups

    ap = study_parser(__doc__.splitlines()[0], folds=10, cache="/tmp/midlevel_cache")
    ap.add_argument("--part", default=None, help="k/n: extract only every n-th track from k")
    ap.add_argument("only", nargs="*", help="candidate name filters")
    args = ap.parse_args()
    cache = Path(args.cache)
    tracks = study_tracks(args.data)
    if extract_part_or_all(args, tracks):
        return

    genres = sorted({t.genre for t in tracks})
    groups = artist_groups(tracks, load_artist_index())
    y_track = np.array([genres.index(t.genre) for t in tracks])
    g = np.array([groups[t.id] for t in tracks])
    n_mid = 753

    def feature(tid: str, view: str, pools: tuple[str, ...], base: bool) -> np.ndarray:
        row = np.load(cache / f"{tid}.{view}.npy")
        starts = [N_BASE + (2 * net + POOLS.index(p)) * n_mid for net in (0, 1) for p in pools]
        return row[:, list(range(N_BASE if base else 0))
                   + [c for s in starts for c in range(s, s + n_mid)]]

    conditions = {
        "ships (tags+emb)     C=.001": ((), 0.001, True),
        "+ mean_pool          C=.001": (("mean_pool",), 0.001, True),
        "+ max_pool           C=.001": (("max_pool",), 0.001, True),
        "+ mean+max pool      C=.001": (POOLS, 0.001, True),
        "+ mean+max pool      C=.0003": (POOLS, 0.0003, True),
        "+ mean+max pool      C=.0001": (POOLS, 0.0001, True),
        "max_pool only        C=.001": (("max_pool",), 0.001, False),
        "mean+max pool only   C=.001": (POOLS, 0.001, False),
    }
    for name, (pools, C, base) in conditions.items():
        if args.only and not any(o in name for o in args.only):
            continue
        feats = {(t.id, v): feature(t.id, v, pools, base) for t in tracks for v in VIEWS}
        tf = time.time()
        pred = held_out_predictions(tracks, y_track, g, feats, args.folds, TRAIN_VIEWS, C=C)
        scores = [(float(np.mean(pred[v] == y_track)),
                   float(f1_score(y_track, pred[v], average="macro"))) for v in ("orig", "test")]
        print(f"{name}  cols {feats[(tracks[0].id, 'orig')].shape[1]:5d}  "
              f"clean {scores[0][0]:.3f}/{scores[0][1]:.3f}  "
              f"degraded {scores[1][0]:.3f}/{scores[1][1]:.3f}  {time.time() - tf:.0f} s",
              flush=True)
    print(f"{len(tracks)} clips, {len(set(g))} artist groups, GroupKFold({args.folds}) by artist")


if __name__ == "__main__":
    main()
