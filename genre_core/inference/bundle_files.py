"""Where a bundle's files may be, and repairing what an interrupted save left.

A bundle X is saved to `.X.tmp-PID-*` and swapped in with two renames (X -> `.X.old-PID`,
tmp -> X); the PID in the names tells a dead run's leftovers from a live run's. Every folder
bundle.json names must resolve inside the bundle, and a server passes the roots bundles may
come from. A rewritten bundle keeps its map of music when its training tracks are the same
(carry_map: here, so that bundle never imports music_map, which builds on bundle)."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from genre_core.errors import GenreError

MAP_FOLDER = "map"          # the map of music inside a bundle (genre_core.inference.music_map)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _leftovers(folder: Path, kind: str) -> list[tuple[Path, int]]:
    """[(path, pid)] of `.X.tmp-PID-*` / `.X.old-PID` siblings of the bundle X."""
    prefix = f".{folder.name}.{kind}-"
    out = []
    try:
        entries = list(folder.parent.iterdir())
    except OSError:
        return []
    for p in entries:
        if p.name.startswith(prefix):
            pid = p.name[len(prefix):].split("-")[0]
            if pid.isdigit():
                out.append((p, int(pid)))
    return out


def recover_bundle(folder: str | os.PathLike) -> Path:
    """Repair what an interrupted save left: when X is missing but `.X.old-PID` of a dead
    run holds the previous bundle, put it back; then remove temporary and old copies of
    dead runs. Safe to call any time (a live save's files are left alone)."""
    folder = Path(folder)
    olds = [(p, pid) for p, pid in _leftovers(folder, "old") if not _pid_alive(pid)]
    if not folder.exists() and olds:
        best = max(olds, key=lambda x: x[0].stat().st_mtime)[0]
        if (best / "bundle.json").exists():
            try:
                os.replace(best, folder)
            except OSError:
                pass
    for p, pid in _leftovers(folder, "tmp") + _leftovers(folder, "old"):
        if not _pid_alive(pid) and p.exists():
            shutil.rmtree(p, ignore_errors=True)
    return folder


def sync_tree(root: Path) -> None:
    """fsync every file and folder under root, so a rename publishes complete files."""
    from genre_core.atomic import fsync_dir

    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(dirpath))


def _inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except (ValueError, OSError):
        return False


def model_folder(folder: Path, entry: dict, name: str) -> Path:
    """The model's folder named by bundle.json, which must lie inside the bundle, as must
    every file in it (a link out of the bundle is refused too)."""
    rel = entry.get("folder")
    if not isinstance(rel, str) or not rel or Path(rel).is_absolute() or ".." in Path(rel).parts:
        raise GenreError(f"{folder / 'bundle.json'}: model {name!r} names folder {rel!r}, "
                         "which is not inside the bundle")
    path = folder / rel
    if not _inside(folder, path):
        raise GenreError(f"{folder / 'bundle.json'}: model {name!r} folder {rel!r} resolves "
                         "outside the bundle")
    for dirpath, dirs, files in os.walk(path):
        for n in dirs + files:
            if not _inside(folder, Path(dirpath) / n):
                raise GenreError(f"{Path(dirpath) / n}: links outside the bundle; refused")
    return path


def check_allowed(folder: Path, allowed) -> None:
    """GenreError unless `folder` lies inside one of the `allowed` roots (None = anywhere:
    the command line, where the user is the operator)."""
    if allowed is None:
        return
    if not any(_inside(Path(root), folder) for root in allowed):
        raise GenreError(f"{folder.name}: this bundle is not in a location the server "
                         "allows")


def carry_map(old_bundle: str | os.PathLike, new_bundle: str | os.PathLike, report: dict) -> bool:
    """When a bundle is rewritten (a model added or retrained), keep its map if the new
    report lists the same training tracks: the map depends only on those tracks' audio."""
    old, new = Path(old_bundle), Path(new_bundle)
    if not (old / MAP_FOLDER / "map.json").exists() or old.resolve() == new.resolve():
        return False
    try:
        before = json.loads((old / "report.json").read_text())["data"]["track_ids"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if sorted(before) != sorted((report.get("data") or {}).get("track_ids") or []):
        return False
    shutil.copytree(old / MAP_FOLDER, new / MAP_FOLDER, dirs_exist_ok=True)
    return True
