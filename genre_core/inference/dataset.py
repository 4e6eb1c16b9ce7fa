"""Index a labelled dataset (the Kaggle GTZAN download in any of its usual forms) and extract
features for all of its tracks, in parallel and through the on-disk cache."""
from __future__ import annotations

import os
import zipfile
import zlib
from concurrent.futures import as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from genre_core.config import FeatureConfig
from genre_core.errors import AudioError, GenreError, printable
from genre_core.inference.audio import AUDIO_EXTENSIONS, CHUNK, MAX_FILE_BYTES, load_audio, open_checked
from genre_core.inference.cache import FeatureCache, HashIndex, stream_hash
from genre_core.inference.track_views import track_view
from genre_core.inference.worker_pool import make_pool, usable_cores

# What reading a track may raise besides AudioError: a vanished or unreadable file, a
# damaged or encrypted zip member. Reported per track, never fatal for the dataset.
READ_ERRORS = (OSError, KeyError, EOFError, zipfile.BadZipFile, zlib.error, RuntimeError,
               NotImplementedError)

SHARED_ROOT = Path(__file__).resolve().parents[3] / "shared" / "gtzan"


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

    def open(self):
        """A binary file object on the track, read lazily (a zip member is decompressed as
        it is read, never unpacked whole). Members over MAX_FILE_BYTES are refused."""
        if not self.archive:
            return open_checked(self.source, self.display())
        with zipfile.ZipFile(self.archive) as zf:   # the member keeps the file open
            info = zf.getinfo(self.source)
            if info.file_size > MAX_FILE_BYTES:
                raise AudioError(f"{self.display()}: zip member is {info.file_size / 2**20:.1f} "
                                 f"MiB, over the {MAX_FILE_BYTES / 2**20:g} MiB limit "
                                 "(GENRE_MAX_FILE_MB); refused")
            return zf.open(info)

    def read_bytes(self, limit: int = MAX_FILE_BYTES) -> bytes:
        """The whole file (to play it), read in chunks and refused beyond `limit` bytes."""
        out = bytearray()
        with self.open() as f:
            while chunk := f.read(CHUNK):
                out += chunk
                if len(out) > limit:
                    raise AudioError(f"{self.display()}: larger than {limit >> 20} MiB; "
                                     "too large to play here")
        return bytes(out)

    def content_hash(self) -> str:
        """Hash of the file's bytes, read in bounded chunks."""
        with self.open() as f:
            return stream_hash(f)

    def signature(self) -> str:
        """Cheap identity of the file's current content: path, size and modification time
        (plus the member's CRC inside a zip); no audio is read."""
        if self.archive:
            st = os.stat(self.archive)
            with zipfile.ZipFile(self.archive) as zf:
                info = zf.getinfo(self.source)
            return (f"{os.path.abspath(self.archive)}|{st.st_mtime_ns}|{self.source}|{info.CRC}|"
                    f"{info.file_size}")
        st = os.stat(self.source)
        return f"{os.path.abspath(self.source)}|{st.st_size}|{st.st_mtime_ns}"

    def display(self) -> str:
        return printable(f"{self.archive}::{self.source}" if self.archive else self.source)


@dataclass
class Dataset:
    root: str                       # the roots joined with os.pathsep
    tracks: list[Track]
    skipped: list[str] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)

    @property
    def genres(self) -> list[str]:
        return sorted({t.genre for t in self.tracks})

    def by_id(self) -> dict[str, Track]:
        return {t.id: t for t in self.tracks}


def _is_audio(name: str) -> bool:
    return name.lower().endswith(AUDIO_EXTENSIONS)


def _listdir(folder: Path, skipped: list[str] | None = None) -> list[Path]:
    """Sorted entries of a folder; one that cannot be entered is reported, not fatal."""
    try:
        return sorted(folder.iterdir())
    except OSError as e:
        if skipped is not None:
            skipped.append(f"{printable(folder)}: cannot be listed "
                           f"({e.strerror or type(e).__name__})")
        return []


def _resolve_folder(path: Path) -> Path:
    for candidate in (path / "Data" / "genres_original", path / "genres_original", path):
        if candidate.is_dir() and any(
                d.is_dir() and any(_is_audio(f.name) for f in _listdir(d))
                for d in _listdir(candidate)):
            return candidate
    raise GenreError(f"{path}: no genre folders with audio files found (expected the Kaggle "
                     f"'Data' folder, its parent, 'genres_original', or the .zip download)")


def _header_problem(opener) -> str | None:
    """Return why the file cannot be decoded, or None. Reads only the header."""
    import soundfile as sf

    from genre_core.inference.audio import reason

    try:
        with opener() as f:
            info = sf.info(f)
        if info.frames == 0:
            return "contains no audio samples"
        return None
    except AudioError as e:
        return str(e)
    except Exception as e:  # noqa: BLE001 - any decoder failure is a reportable file problem
        return f"could not be decoded as audio ({reason(e)})"


def unsafe_member(name: str) -> bool:
    """True for zip member names that climb out of the archive or are absolute."""
    p = PurePosixPath(name.replace("\\", "/"))
    return p.is_absolute() or ".." in p.parts or (len(name) > 1 and name[1] == ":")


def index_dataset(path: str | os.PathLike | list | tuple, check: bool = True) -> Dataset:
    """Find labelled clips in one dataset root or several (a list): label = the name of the
    folder holding the file. A root is a folder or a .zip in the Kaggle layout (or just
    genre folders); any format the loader reads. Several roots: say GTZAN plus a folder of
    your own labelled music.

    Undecodable files (GTZAN's jazz.00054.wav) are reported in `skipped` and left out;
    stray non-audio files are ignored. The same track id twice (in one root or across
    roots) is a GenreError naming both files: features and splits are keyed by id.
    """
    paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    if not paths:
        raise GenreError("no dataset path given")
    parts = [_index_root(p, check) for p in paths]
    tracks = [t for ds in parts for t in ds.tracks]
    seen: dict[str, Track] = {}
    for t in tracks:
        if t.id in seen:
            raise GenreError(f"duplicate track id {t.id!r}: {seen[t.id].display()} and "
                             f"{t.display()} (rename one, or leave one root out)")
        seen[t.id] = t
    roots = [r for ds in parts for r in ds.roots]
    return Dataset(os.pathsep.join(roots), tracks, [s for ds in parts for s in ds.skipped],
                   roots)


def _index_zip(path: Path, skipped: list[str], check: bool) -> list[Track]:
    """The audio members of a .zip (its genres_original/ part where it has one, as Kaggle's
    archive does); unsafe or unreadable members go to `skipped`."""
    if not zipfile.is_zipfile(path):
        raise GenreError(f"{path}: not a folder or a .zip archive")
    tracks = []
    with zipfile.ZipFile(path) as zf:
        members = [m for m in zf.namelist() if _is_audio(m) and not m.endswith("/")]
        if any("genres_original/" in m for m in members):
            members = [m for m in members if "genres_original/" in m]
        for m in sorted(members):
            if unsafe_member(m):
                skipped.append(f"{printable(path)}::{printable(m)}: member name is "
                               "absolute or contains '..'; refused")
                continue
            p = PurePosixPath(m)
            if len(p.parts) < 2 or p.name.startswith("."):
                continue
            problem = _header_problem(lambda m=m: zf.open(m)) if check else None
            if problem:
                skipped.append(f"{path}::{m}: {problem}")
                continue
            tracks.append(Track(p.stem, p.parent.name, m, str(path)))
    return tracks


def _index_folder(path: Path, skipped: list[str], check: bool) -> list[Track]:
    """The audio files of a folder of genre folders; unreadable ones go to `skipped`."""
    tracks = []
    folder = _resolve_folder(path)
    for genre_dir in (d for d in _listdir(folder, skipped) if d.is_dir()):
        for f in _listdir(genre_dir, skipped):
            if not f.is_file() or not _is_audio(f.name) or f.name.startswith("."):
                continue
            problem = _header_problem(lambda f=f: open_checked(f)) if check else None
            if problem:
                skipped.append(problem if problem.startswith(printable(f))
                               else f"{printable(f)}: {problem}")
                continue
            tracks.append(Track(f.stem, genre_dir.name, str(f)))
    return tracks


def _index_root(path: str | os.PathLike, check: bool = True) -> Dataset:
    path = Path(path).expanduser()
    try:
        exists = path.exists()
    except OSError:
        exists = False
    if not exists:
        raise GenreError(f"{printable(path)}: dataset path not found")
    skipped: list[str] = []
    tracks = (_index_zip(path, skipped, check) if path.is_file()
              else _index_folder(path, skipped, check))
    if not tracks:
        raise GenreError(f"{printable(path)}: no decodable audio files found")
    return Dataset(str(path), tracks, skipped, [str(path)])


MANIFEST = "MANIFEST.tsv"    # a data root's own index: file, artist, title (shared/realworld)


def dataset_views(ds: Dataset) -> dict[str, str]:
    """{track id: view} for an indexed dataset (track_view of each track's root)."""
    roots = sorted((str(Path(r).resolve()) for r in ds.roots), key=len, reverse=True)

    def root_of(track: Track) -> str | None:
        where = str(Path(track.archive or track.source).resolve())
        return next((r for r in roots if where.startswith(r + os.sep) or where == r), None)

    return {t.id: track_view(t.id, root_of(t)) for t in ds.tracks}


def artist_key(name: str) -> str:
    """The grouping key of an artist name: the same artist spelled in two indexes ('2Pac' in
    GTZAN's, '2pac' in a manifest) is one group, so no artist is on both sides of a fold."""
    return " ".join(name.casefold().split())


def load_manifest_index(root: str | os.PathLike) -> dict[str, tuple[str, str]]:
    """{track id: (artist, title)} from a data root's MANIFEST.tsv (tab-separated, with
    `file`, `artist` and `title` columns; the id is the file name without extension); {} when
    the root has none."""
    import csv

    path = Path(root) / MANIFEST
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return {PurePosixPath(r["file"]).stem: (r.get("artist") or "", r.get("title") or "")
            for r in rows if r.get("file")}


def load_artist_index(path: str | os.PathLike | None = None,
                      roots: list[str] | tuple[str, ...] = ()) -> dict[str, str]:
    """{track id: artist key}: Sturm's GTZAN index (`file ::: artist ::: title`; Sturm, "An
    Analysis of the GTZAN Music Genre Dataset", MIRUM 2012) and the MANIFEST.tsv of each data
    root in `roots`, merged, names folded by artist_key so an artist found in both is one
    group. Blank artists are left out."""
    index = dict(load_track_index(path))
    for root in roots:     # a manifest without artists (GTZAN's extra clips) adds nothing
        index.update({k: v for k, v in load_manifest_index(root).items() if v[0].strip()})
    return {k: artist_key(v[0]) for k, v in index.items() if v[0].strip()}


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

def _extract_one(track: Track, file_hash: str, kind: str, extractor, config: FeatureConfig,
                 cache_root: str | None, cache_enabled: bool):
    cache = FeatureCache(cache_root, cache_enabled)
    try:
        with track.open() as f:      # streamed: only the first max_seconds are decoded
            clip = load_audio(f, config, name=track.display())
        units = extractor(clip.samples, config)
    except AudioError as e:
        return track.id, None, str(e)
    except READ_ERRORS as e:
        return track.id, None, f"{track.display()}: cannot be read ({e})"
    cache.put(cache.key(file_hash, kind, config), units)
    return track.id, units, None


def unit_check(kind: str, config: FeatureConfig):
    """What a cached array of `kind` must look like: at least one unit, and the unit shape
    the extractor makes (where the registry fixes it for the config)."""
    from genre_core.features import KINDS

    shape = KINDS[kind].unit_shape if kind in KINDS else None
    tail = shape(config) if shape is not None else None

    def check(value: np.ndarray) -> bool:
        if value.ndim < 2 or value.shape[0] < 1 or value.dtype.kind != "f":
            return False
        return tail is None or tuple(value.shape[1:]) == tail
    return check


def extract_dataset(tracks: list[Track], kind: str = "mfcc",
                    config: FeatureConfig = FeatureConfig(), cache: FeatureCache | None = None,
                    n_jobs: int | None = None, progress: bool = True
                    ) -> tuple[dict[str, np.ndarray], list[str]]:
    """Features of every track (cached ones read from disk, the rest computed over all cores).
    Returns ({track id: units}, [problems, one per skipped track])."""
    from tqdm.auto import tqdm

    from genre_core.features import kind as feature_kind

    cache = cache or FeatureCache()
    check = unit_check(kind, config)
    features: dict[str, np.ndarray] = {}
    problems: list[str] = []
    todo: list[tuple[Track, str]] = []
    hashes = HashIndex(cache)
    for t in tracks:
        try:
            signature = t.signature()
            h = hashes.get(signature)
            if h is None:
                h = t.content_hash()
                hashes.put(signature, h)
        except AudioError as e:
            problems.append(str(e))
            continue
        except READ_ERRORS as e:
            problems.append(f"{t.display()}: cannot be read ({e})")
            continue
        hit = cache.get(cache.key(h, kind, config), check)
        if hit is not None:
            features[t.id] = hit
        else:
            todo.append((t, h))
    hashes.save()
    if not todo:
        return features, problems

    n_jobs = n_jobs or usable_cores()
    registered = feature_kind(kind)
    extractor, can_fork = registered.extractor, registered.parallel
    parallel = can_fork and n_jobs > 1 and len(todo) > 1
    bar = tqdm(total=len(todo), desc=f"extracting {kind}", unit="clip", disable=not progress)
    # the extractor travels by reference: a worker imports its module (and so its registration)
    args = (kind, extractor, config, str(cache.root), cache.enabled)
    if parallel:
        pool = make_pool(min(n_jobs, len(todo)))
        try:
            futures = [pool.submit(_extract_one, t, h, *args) for t, h in todo]
            for fut in as_completed(futures):
                try:
                    tid, units, problem = fut.result()
                except BrokenProcessPool as e:
                    bar.close()
                    kept = ("; the clips done are cached and a new run goes on from there"
                            if cache.enabled else "")
                    raise GenreError(f"extracting {kind}: a worker process died ({e}){kept}"
                                     ) from None
                if problem:
                    problems.append(problem)
                else:
                    features[tid] = units
                bar.update()
        finally:
            pool.shutdown(cancel_futures=True)     # interrupted: queued clips are not run
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
