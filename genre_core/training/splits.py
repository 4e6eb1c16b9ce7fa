"""Splits by track, never by segment, so no 3-second piece of a test track is ever trained on.

Every split yields folds of (train, valid, test) track ids; `valid` is carved from the training
part for early stopping and never overlaps test.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genre_core.errors import GenreError
from genre_core.inference.dataset import Track, default_data_root, load_artist_index

SPLIT_NAMES = ("random", "kfold", "artist", "filtered")


@dataclass
class Fold:
    train: list[str]
    valid: list[str]
    test: list[str]


@dataclass
class Split:
    name: str
    description: str
    folds: list[Fold]
    evaluated_genres: list[str]   # genres whose test tracks count towards the figures


def carve_valid(ids: list[str], genres: list[str], fraction: float, seed: int):
    """Stratified by genre where every genre has two or more tracks, plain random otherwise."""
    from sklearn.model_selection import train_test_split

    if fraction <= 0 or len(ids) < 4:
        return list(ids), []
    counts: defaultdict[str, int] = defaultdict(int)
    for g in genres:
        counts[g] += 1
    stratify = genres if min(counts.values()) >= 2 and int(len(ids) * fraction) >= len(counts) else None
    train, valid = train_test_split(ids, test_size=fraction, random_state=seed, stratify=stratify)
    return sorted(train), sorted(valid)


def random_split(tracks: list[Track], test_fraction: float = 0.2, valid_fraction: float = 0.2,
                 seed: int = 42) -> Split:
    from sklearn.model_selection import train_test_split

    ids = [t.id for t in tracks]
    genres = [t.genre for t in tracks]
    rest, test = train_test_split(ids, test_size=test_fraction, random_state=seed, stratify=genres)
    g = {t.id: t.genre for t in tracks}
    train, valid = carve_valid(rest, [g[i] for i in rest], valid_fraction, seed)
    return Split("random", f"stratified random split by track: {len(train)} train, "
                 f"{len(valid)} valid, {len(test)} test tracks (seed {seed})",
                 [Fold(train, valid, sorted(test))], sorted(set(genres)))


def kfold_split(tracks: list[Track], k: int = 5, valid_fraction: float = 0.2,
                seed: int = 42) -> Split:
    from sklearn.model_selection import StratifiedKFold

    ids = np.array([t.id for t in tracks])
    genres = np.array([t.genre for t in tracks])
    k = max(2, min(k, int(np.bincount(np.unique(genres, return_inverse=True)[1]).min())))
    folds = []
    for tr, te in StratifiedKFold(k, shuffle=True, random_state=seed).split(ids, genres):
        train, valid = carve_valid(list(ids[tr]), list(genres[tr]), valid_fraction, seed)
        folds.append(Fold(train, valid, sorted(ids[te])))
    return Split("kfold", f"{k}-fold stratified by track (seed {seed}); the same artist can be "
                 "in train and test, so this overstates generalisation to new artists",
                 folds, sorted(set(genres)))


def artist_groups(tracks: list[Track], artists: dict[str, str]) -> dict[str, str]:
    """track id -> artist group. A track with no known artist is grouped with the other
    unknown tracks of its genre (the cautious choice: they may share an artist)."""
    return {t.id: artists.get(t.id) or f"(unknown {t.genre} artist)" for t in tracks}


def artist_split(tracks: list[Track], artists: dict[str, str] | None = None,
                 valid_fraction: float = 0.2, seed: int = 42, n_folds: int = 0) -> Split:
    """Leave artists out: each fold tests whole artists, trained on every track of every other
    artist. n_folds=0 is leave-one-artist-out (one fold per artist); n_folds=K groups the
    artists into K folds (GroupKFold: same guarantee, fewer fits, a little less training data).
    Only artists of genres with two or more artists are tested (in a one-artist genre the
    held-out genre would be absent from training)."""
    artists = artists if artists is not None else load_artist_index()
    if not artists:
        raise GenreError("leave-one-artist-out needs an artist index (GTZANindex.txt format)")
    groups = artist_groups(tracks, artists)
    genre_of = {t.id: t.genre for t in tracks}
    artists_per_genre: dict[str, set[str]] = defaultdict(set)
    for tid, a in groups.items():
        artists_per_genre[genre_of[tid]].add(a)
    evaluated = sorted(g for g, a in artists_per_genre.items() if len(a) >= 2)
    if not evaluated:
        raise GenreError("no genre has two or more artists among these tracks; "
                         "leave-one-artist-out cannot be measured")
    folds = []
    test_artists = sorted({groups[t.id] for t in tracks if t.genre in evaluated})
    if n_folds and n_folds < len(test_artists):
        from sklearn.model_selection import GroupKFold

        test_ids = [t.id for t in tracks if t.genre in evaluated]
        gkf = GroupKFold(n_splits=n_folds)
        held = [{groups[test_ids[i]] for i in te} for _, te in
                gkf.split(test_ids, groups=[groups[i] for i in test_ids])]
        kind = f"leave-artists-out, {n_folds} folds grouped by artist (GroupKFold)"
    else:
        held = [{a} for a in test_artists]
        kind = f"leave-one-artist-out ({len(test_artists)} folds)"
    for artists_out in held:
        test = sorted(t for t, a in groups.items() if a in artists_out)
        rest = [t.id for t in tracks if groups[t.id] not in artists_out]
        train, valid = carve_valid(rest, [genre_of[i] for i in rest], valid_fraction, seed)
        folds.append(Fold(train, valid, test))
    return Split("artist", f"{kind}, {len(test_artists)} artists (Sturm's GTZAN index and the "
                 "data roots' manifests, one group per artist across them); no "
                 f"test artist is in training; tested on the {len(evaluated)} genres with two or "
                 f"more artists: {', '.join(evaluated)}", folds, evaluated)


def filtered_split(tracks: list[Track], splits_dir: str | Path | None = None) -> Split:
    """The artist-filtered split of Kereliuk, Sturm & Larsen (2015), restricted to the
    tracks present."""
    folder = Path(splits_dir) if splits_dir else default_data_root() / "splits"
    present = {t.id: t for t in tracks}
    parts = {}
    for part in ("train", "valid", "test"):
        f = folder / f"{part}_filtered.txt"
        if not f.exists():
            raise GenreError(f"{f}: split list not found")
        ids = [Path(line.strip()).stem for line in f.read_text().splitlines() if line.strip()]
        parts[part] = sorted(i for i in ids if i in present)
    if not parts["train"] or not parts["test"]:
        raise GenreError(f"{folder}: the artist-filtered split leaves "
                         f"{len(parts['train'])} train and {len(parts['test'])} test tracks "
                         "among those present; use --split kfold or artist instead")
    return Split("filtered", "artist-filtered split (Kereliuk, Sturm & Larsen 2015) restricted to "
                 f"the tracks present: {len(parts['train'])} train, {len(parts['valid'])} valid, "
                 f"{len(parts['test'])} test", [Fold(parts["train"], parts["valid"], parts["test"])],
                 sorted({present[i].genre for i in parts["test"]}))


def make_split(name: str, tracks: list[Track], seed: int = 42, k: int = 5,
               artists_file: str | None = None, splits_dir: str | None = None,
               artist_folds: int = 0, roots: list[str] | tuple[str, ...] = ()) -> Split:
    """`roots`: the data roots, whose MANIFEST.tsv files add their artists to the index (an
    artist found in two roots is one group, so never on both sides of a fold)."""
    if name == "random":
        return random_split(tracks, seed=seed)
    if name == "kfold":
        return kfold_split(tracks, k=k, seed=seed)
    if name == "artist":
        return artist_split(tracks, load_artist_index(artists_file, roots), seed=seed,
                            n_folds=artist_folds)
    if name == "filtered":
        return filtered_split(tracks, splits_dir)
    raise GenreError(f"unknown split {name!r}; choose one of {', '.join(SPLIT_NAMES)}")
