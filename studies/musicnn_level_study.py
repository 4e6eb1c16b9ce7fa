"""Does bringing every recording to one loudness before musicnn help on new artists?

Issue #9: musicnn's front end is log10(10000 x mel + 1), so a louder master shifts the whole
input; user recordings are often louder than GTZAN's clips (modern masters pushed into a
limiter). This study scales each clip, each of its "own recording" training copies and each
degraded test copy to one RMS level (-20 dBFS) before the four networks, and compares the
shipped musicnn4 head trained and scored that way with the same head on the audio as it is
(studies/musicnn_midlevel_study.py's cache), over the same 10 folds grouped by artist.

Usage: python -m studies.musicnn_level_study --part 0/2 & ... --part 1/2; then without --part.
Results: studies/RESULTS.md.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from studies.musicnn_midlevel_study import (
    N_BASE,
    TRAIN_VIEWS,
    VIEWS,
    extract_part_or_all,
    features,
)
from studies.realistic_study import held_out_predictions, study_parser, study_tracks


def level_features(y: np.ndarray) -> np.ndarray:
    """The musicnn4 feature of `y` as the shipped code hears it: at -20 dBFS RMS."""
    from genre_core.config import FeatureConfig
    from genre_core.features import musicnn_input

    return features(musicnn_input(y, FeatureConfig(musicnn_level="rms")))[:, :N_BASE]


def main() -> None:
    from sklearn.metrics import f1_score

    from genre_core.inference.dataset import load_artist_index
    from genre_core.training.splits import artist_groups

    ap = study_parser(__doc__.splitlines()[0], folds=10, cache="/tmp/level_cache")
    ap.add_argument("--as-is-cache", default="/tmp/midlevel_cache")
    ap.add_argument("--part", default=None, help="k/n: extract only every n-th track from k")
    args = ap.parse_args()
    cache = Path(args.cache)
    tracks = study_tracks(args.data)
    if extract_part_or_all(args, tracks, level_features):
        return
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
