"""Index a labelled dataset (the Kaggle GTZAN download in any of its usual forms) and extract
features for all of its tracks, in parallel and through the on-disk cache."""
from __future__ import annotations

import multiprocessing as mp
import os
import sys
import zipfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from genre_core.audio import AUDIO_EXTENSIONS, load_audio
from genre_core.cache import FeatureCache, HashIndex, content_hash
from genre_core.config import FeatureConfig
from genre_core.errors import AudioError, GenreError

SHARED_ROOT = Path(__file__).resolve().parents[2] / "shared" / "gtzan"


def default_data_root() -> Path:
    """The GTZAN material beside the repository (or $GENRE_DATA_ROOT)."""
    return Path(os.environ.get("GENRE_DATA_ROOT", SHARED_ROOT))


@dataclass(frozen=True)
class Track:
    """One labelled clip. `archive` is set when the file lives inside a zip."""

    id: str            # file stem, e.g. "blues.00000"
    genre: str
    source: str        # path on disk, or member name inside `archive`
    archive: str | None = None

    @property
    def filename(self) -> str:
        return PurePosixPath(self.source).name

    def read_bytes(self) -> bytes:
        if self.archive:
            with zipfile.ZipFile(self.archive) as zf:
                return zf.read(self.source)
        return Path(self.source).read_bytes()

    def signature(self) -> str:
        """Cheap identity of the file's current content: path, size and modification time
        (plus the member's CRC inside a zip); no audio is read."""
        if self.archive:
            st = os.stat(self.archive)
            with zipfile.ZipFile(self.archive) as zf:
                info = zf.getinfo(self.source)
            return f"{os.path.abspath(self.archive)}|{st.st_mtime_ns}|{self.source}|{info.CRC}|{info.file_size}"
        st = os.stat(self.source)
        return f"{os.path.abspath(self.source)}|{st.st_size}|{st.st_mtime_ns}"

    def display(self) -> str:
        return f"{self.archive}::{self.source}" if self.archive else self.source


@dataclass
class Dataset:
    root: str
    tracks: list[Track]
    skipped: list[str] = field(default_factory=list)

    @property
    def genres(self) -> list[str]:
        return sorted({t.genre for t in self.tracks})

    def by_id(self) -> dict[str, Track]:
        return {t.id: t for t in self.tracks}


def _is_audio(name: str) -> bool:
    return name.lower().endswith(AUDIO_EXTENSIONS)


def _resolve_folder(path: Path) -> Path:
    for candidate in (path / "Data" / "genres_original", path / "genres_original", path):
        if candidate.is_dir() and any(
                d.is_dir() and any(_is_audio(f.name) for f in d.iterdir())
                for d in candidate.iterdir()):
            return candidate
    raise GenreError(f"{path}: no genre folders with audio files found (expected the Kaggle "
                     f"'Data' folder, its parent, 'genres_original', or the .zip download)")


def _header_problem(opener) -> str | None:
    """Return why the file cannot be decoded, or None. Reads only the header."""
    import soundfile as sf

    try:
        with opener() as f:
            info = sf.info(f)
        if info.frames == 0:
            return "contains no audio samples"
        return None
    except Exception as e:  # noqa: BLE001 - any decoder failure is a reportable file problem
        return f"could not be decoded as audio ({str(e).splitlines()[0]})"


def index_dataset(path, check: bool = True) -> Dataset:
    """Find labelled clips: label = the name of the folder holding the file.

    `path` is one dataset root or a list of them (say GTZAN plus a folder of your own
    labelled music); a track id present in two roots is an error naming both files.
    Undecodable files (GTZAN's jazz.00054.wav) are reported in `skipped` and left out;
    stray non-audio files are ignored.
    """
    if isinstance(path, (list, tuple)):
        return _index_roots(list(path), check)
    return _index_root(path, check)


def _index_roots(paths: list, check: bool) -> Dataset:
    if not paths:
        raise GenreError("no dataset path given")
    parts = [_index_root(p, check) for p in paths]
    if len(parts) == 1:
        return parts[0]
    seen: dict[str, Track] = {}
    for part in parts:
        for t in part.tracks:
            if t.id in seen:
                raise GenreError(f"track id {t.id!r} is in two dataset roots: "
                                 f"{seen[t.id].display()} and {t.display()}")
            seen[t.id] = t
    return Dataset(os.pathsep.join(str(p.root) for p in parts),
                   [t for p in parts for t in p.tracks], [s for p in parts for s in p.skipped])


def _index_root(path: str | os.PathLike, check: bool = True) -> Dataset:
    path = Path(path).expanduser()
    if not path.exists():
        raise GenreError(f"{path}: dataset path not found")
    tracks: list[Track] = []
    skipped: list[str] = []
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise GenreError(f"{path}: not a folder or a .zip archive")
        with zipfile.ZipFile(path) as zf:
            members = [m for m in zf.namelist() if _is_audio(m) and not m.endswith("/")]
            if any("genres_original/" in m for m in members):
                members = [m for m in members if "genres_original/" in m]
            for m in sorted(members):
                p = PurePosixPath(m)
                if len(p.parts) < 2 or p.name.startswith("."):
                    continue
                if check:
                    problem = _header_problem(lambda: zf.open(m))
                    if problem:
                        skipped.append(f"{path}::{m}: {problem}")
                        continue
                tracks.append(Track(p.stem, p.parent.name, m, str(path)))
    else:
        folder = _resolve_folder(path)
        for genre_dir in sorted(d for d in folder.iterdir() if d.is_dir()):
            for f in sorted(genre_dir.iterdir()):
                if not f.is_file() or not _is_audio(f.name) or f.name.startswith("."):
                    continue
                if check:
                    problem = ("file is empty (0 bytes)" if f.stat().st_size == 0
                               else _header_problem(lambda: open(f, "rb")))
                    if problem:
                        skipped.append(f"{f}: {problem}")
                        continue
                tracks.append(Track(f.stem, genre_dir.name, str(f)))
    if not tracks:
        raise GenreError(f"{path}: no decodable audio files found")
    return Dataset(str(path), tracks, skipped)


def load_artist_index(path: str | os.PathLike | None = None) -> dict[str, str]:
    """Sturm's GTZAN index (`file ::: artist ::: title`) -> {track id: artist}; blank artists
    are left out. Sturm, "An Analysis of the GTZAN Music Genre Dataset", MIRUM 2012."""
    return {k: v[0] for k, v in load_track_index(path).items() if v[0]}


def load_track_index(path: str | os.PathLike | None = None) -> dict[str, tuple[str, str]]:
    """{track id: (artist, title)} from a GTZANindex.txt-format file ('' when unknown)."""
    path = Path(path) if path else default_data_root() / "metadata" / "GTZANindex.txt"
    if not path.exists():
        return {}
    out: dict[str, tuple[str, str]] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if ":::" not in line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split(":::")]
        parts += [""] * (3 - len(parts))
        out[PurePosixPath(parts[0]).stem] = (parts[1], parts[2])
    return out


# ---------------------------------------------------------------- feature extraction

def _extract_one(track: Track, file_hash: str, kind: str, config: FeatureConfig,
                 cache_root: str | None, cache_enabled: bool):
    from genre_core.features import extract

    cache = FeatureCache(cache_root, cache_enabled)
    try:
        clip = load_audio(track.read_bytes(), config, name=track.display())
        units = extract(kind, clip.samples, config)
    except AudioError as e:
        return track.id, None, str(e)
    except OSError as e:
        return track.id, None, f"{track.display()}: {e}"
    cache.put(cache.key(file_hash, kind, config), units)
    return track.id, units, None


def _pool_context():
    # fork is fastest, but not once TensorFlow's threads exist in this process
    if sys.platform.startswith("linux") and "tensorflow" not in sys.modules:
        return mp.get_context("fork")
    return mp.get_context("forkserver" if sys.platform != "win32" else "spawn")


def extract_dataset(tracks: list[Track], kind: str = "mfcc",
                    config: FeatureConfig = FeatureConfig(), cache: FeatureCache | None = None,
                    n_jobs: int | None = None, progress: bool = True
                    ) -> tuple[dict[str, np.ndarray], list[str]]:
    """Features of every track (cached ones read from disk, the rest computed over all cores).
    Returns ({track id: units}, [problems, one per skipped track])."""
    from tqdm.auto import tqdm

    from genre_core.features import FEATURE_KINDS

    cache = cache or FeatureCache()
    features: dict[str, np.ndarray] = {}
    problems: list[str] = []
    todo: list[tuple[Track, str]] = []
    hashes = HashIndex(cache)
    for t in tracks:
        try:
            signature = t.signature()
            h = hashes.get(signature)
            if h is None:
                h = content_hash(t.read_bytes())
                hashes.put(signature, h)
        except (OSError, KeyError) as e:
            problems.append(f"{t.display()}: {e}")
            continue
        hit = cache.get(cache.key(h, kind, config))
        if hit is not None:
            features[t.id] = hit
        else:
            todo.append((t, h))
    hashes.save()
    if not todo:
        return features, problems

    n_jobs = n_jobs or os.cpu_count() or 1
    parallel = FEATURE_KINDS[kind][1] and n_jobs > 1 and len(todo) > 1
    bar = tqdm(total=len(todo), desc=f"extracting {kind}", unit="clip", disable=not progress)
    args = (kind, config, str(cache.root), cache.enabled)
    if parallel:
        with ProcessPoolExecutor(max_workers=min(n_jobs, len(todo)),
                                 mp_context=_pool_context()) as pool:
            futures = [pool.submit(_extract_one, t, h, *args) for t, h in todo]
            for fut in as_completed(futures):
                tid, units, problem = fut.result()
                if problem:
                    problems.append(problem)
                else:
                    features[tid] = units
                bar.update()
    else:
        for t, h in todo:
            tid, units, problem = _extract_one(t, h, *args)
            if problem:
                problems.append(problem)
            else:
                features[tid] = units
            bar.update()
    bar.close()
    return features, problems
