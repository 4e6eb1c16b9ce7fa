"""A model bundle: a folder with every model, its scaler statistics, the feature config, the
label list and report.json.

Saving: everything is written to `.X.tmp-PID-*` beside the bundle X, synced to disk, then
swapped in with two renames (X -> `.X.old-PID`, tmp -> X). A kill between them leaves the
good bundle in `.X.old-PID`; the next load or save puts it back. Leftovers of runs whose
process is gone are removed.

Loading: every folder bundle.json names must resolve inside the bundle (no `../x`, no
absolute path, no link pointing out), and a caller that serves strangers passes the
`allowed` roots a bundle may come from. Models are stored in formats that run no code when
read (Keras safe mode, skops with a fixed list of trusted types, npz)."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genre_core.atomic import fsync_dir
from genre_core.config import FeatureConfig
from genre_core.errors import GenreError
from genre_core.inference.bundle_files import (
    carry_map,
    check_allowed,
    model_folder,
    recover_bundle,
    sync_tree,
)
from genre_core.models import model_class
from genre_core.models.base import GenreModel
from genre_core.report import Report, ReportLike, as_report

if TYPE_CHECKING:
    from genre_core.inference.ensemble import Ensemble

FORMAT_VERSION = 1
DEFAULT_BUNDLE = Path(__file__).resolve().parents[2] / "assets" / "models" / "default"


@dataclass
class Bundle:
    path: Path
    labels: list[str]
    feature_config: FeatureConfig
    models: Mapping[str, GenreModel]      # a dict, or LazyModels (load_bundle(lazy=True))
    report: Report = field(default_factory=Report)      # report.json, typed
    meta: dict = field(default_factory=dict)
    ensemble: Ensemble | None = None     # the calibrated combination of the models

    @property
    def model_names(self) -> list[str]:
        return list(self.models)

    def feature_of(self, name: str) -> str:
        """The feature kind model `name` consumes, without waiting for it to load."""
        entry = self.meta.get("models", {}).get(name, {})
        return entry["feature"] if "feature" in entry else self.models[name].feature

    def verdict_models(self) -> list[str]:
        """The models the calibrated verdict needs (see `verdict_models`)."""
        return verdict_models(self.models, self.feature_of, self.ensemble)

    def start_deferred_loads(self) -> None:
        """Start loading the models load_bundle(verdict_first=True) held back (none else)."""
        if isinstance(self.models, LazyModels):
            self.models.start_deferred()


def verdict_models(names: Iterable[str], feature_of: Callable[[str], str],
                   ensemble: Ensemble | None) -> list[str]:
    """The models, of `names` and in their order, that a calibrated verdict needs: the
    ensemble's members and the fast models (inputs in milliseconds, shown first); every model
    when there is no ensemble. A model whose feature kind is unknown counts as needed."""
    from genre_core.features.registry import KINDS

    def needed(name: str) -> bool:
        kind = KINDS.get(feature_of(name))
        return ensemble is None or name in ensemble.members or kind is None or kind.fast

    return [n for n in names if needed(n)]


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=1, default=float))


def save_bundle(folder: str | os.PathLike, models: dict[str, GenreModel], labels: list[str],
                feature_config: FeatureConfig, report: ReportLike, keep: dict | None = None,
                ensemble: Ensemble | None = None) -> Path:
    """Write a bundle atomically. `keep` maps names of models already in the old bundle at
    `folder` to copy across unchanged (used when adding one model to an existing bundle).
    The old bundle's ensemble is kept when none is given and none of its members changed.
    `report` (a Report, or report.json's object) is written as the current schema version."""
    folder = Path(folder)
    report_json = as_report(report).stamped().to_dict()
    folder.parent.mkdir(parents=True, exist_ok=True)
    recover_bundle(folder)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-{os.getpid()}-",
                                dir=folder.parent))
    try:
        tmp.chmod(0o755)   # mkdtemp makes it private; a bundle is meant to be shared
        meta: dict[str, Any] = {"format": FORMAT_VERSION, "labels": list(labels),
                "feature_config": feature_config.to_dict(), "models": {},
                "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        for name, entry in (keep or {}).items():
            shutil.copytree(model_folder(folder, entry, name), tmp / name)
            meta["models"][name] = {**entry, "folder": name}
        for name, model in models.items():
            model.save(tmp / name)
            meta["models"][name] = {"family": model.family, "variant": model.variant,
                                    "feature": model.feature, "folder": name,
                                    "params": model.params}
        from genre_core.models import FAMILIES

        order = list(FAMILIES)
        meta["models"] = dict(sorted(meta["models"].items(), key=lambda kv: (
            order.index(kv[1]["family"]) if kv[1].get("family") in order else len(order),
            kv[0])))
        _save_ensemble(folder, tmp, ensemble, set(meta["models"]), set(models))
        carry_map(folder, tmp, report_json)   # the map of music survives when the tracks are the same
        _write_json(tmp / "report.json", report_json)
        _write_json(tmp / "bundle.json", meta)
        sync_tree(tmp)
        if folder.exists():
            old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
            os.replace(folder, old)
            os.replace(tmp, folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, folder)
        fsync_dir(folder.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _save_ensemble(old: Path, tmp: Path, ensemble, present: set[str], retrained: set[str]):
    from genre_core.inference.ensemble import ENSEMBLE_FILE, Ensemble

    if ensemble is not None:
        ensemble.save(tmp)
        return
    if not (old / ENSEMBLE_FILE).exists():
        return
    try:
        previous = Ensemble.load(old)
    except GenreError:
        return
    members = set(previous.members)
    if members <= present and not members & retrained:
        previous.save(tmp)


def read_bundle_meta(folder: str | os.PathLike) -> tuple[dict, dict]:
    """(bundle.json, report.json) as JSON objects, without loading any model: cheap, no
    TensorFlow. The report is checked by genre_core.report (a malformed one, or one a newer
    Genre Studio wrote, is refused with a GenreError naming report.json); read_bundle_report
    gives it typed."""
    meta, report, _ = _read_meta_files(Path(folder))
    return meta, report


def read_bundle_report(folder: str | os.PathLike) -> tuple[dict, Report]:
    """(bundle.json, the typed report) without loading any model (see read_bundle_meta)."""
    meta, _, report = _read_meta_files(Path(folder))
    return meta, report


def _read_meta_files(folder: Path) -> tuple[dict, dict, Report]:
    if not folder.exists():
        recover_bundle(folder)
    meta_file = folder / "bundle.json"
    if not meta_file.exists():
        raise GenreError(f"{folder}: not a model bundle (bundle.json missing)")
    try:
        meta = json.loads(meta_file.read_text())
        report_file = folder / "report.json"
        report = json.loads(report_file.read_text()) if report_file.exists() else {}
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise GenreError(f"{folder}: bundle metadata is corrupt ({e})") from None
    except OSError as e:
        raise GenreError(f"{folder}: bundle metadata cannot be read ({e.strerror or e})") from None
    if (not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION
            or not isinstance(meta.get("models"), dict) or "labels" not in meta
            or not all(isinstance(e, dict) for e in meta["models"].values())):
        raise GenreError(f"{folder}: unsupported or incomplete bundle.json")
    try:
        FeatureConfig.from_dict(meta.get("feature_config") or {})
    except (TypeError, ValueError) as e:
        raise GenreError(f"{folder}: bundle.json has an invalid feature_config ({e})") from None
    return meta, report, Report.from_dict(report, source=str(folder / "report.json"))


class LazyModels(Mapping):
    """name -> GenreModel, each loading in its own background thread from construction on;
    reading a model waits for it (and raises its GenreError). Names and order are known at
    once, so a caller can start on audio and features while the models load. `deferred`
    models start loading only when first read or when `start_deferred()` is called (what a
    first answer does not need keeps its imports off the cores meanwhile)."""

    def __init__(self, loaders: dict[str, Callable[[], GenreModel]],
                 deferred: Iterable[str] = ()):
        self._pool = ThreadPoolExecutor(max(1, len(loaders)), thread_name_prefix="load-model")
        self._lock = threading.Lock()
        self._names = list(loaders)
        self._pending = {n: fn for n, fn in loaders.items() if n in set(deferred)}
        self._futures = {name: self._pool.submit(fn) for name, fn in loaders.items()
                         if name not in self._pending}
        if not self._pending:
            self._pool.shutdown(wait=False)

    def _future(self, name: str):
        with self._lock:
            if name in self._pending:
                self._futures[name] = self._pool.submit(self._pending.pop(name))
                if not self._pending:
                    self._pool.shutdown(wait=False)
            return self._futures[name]

    def start_deferred(self) -> None:
        """Start loading every deferred model now."""
        for name in list(self._pending):
            self._future(name)

    def __getitem__(self, name: str) -> GenreModel:
        if name not in self._names:
            raise KeyError(name)
        return self._future(name).result()

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def ready(self, name: str) -> bool:
        with self._lock:
            future = self._futures.get(name)
        return future is not None and future.done()

    def wait(self) -> LazyModels:
        """Wait for every model; raise the first load error."""
        for name in self._names:
            self[name]
        return self


def load_bundle(folder: str | os.PathLike | None = None, names: list[str] | None = None,
                allowed=None, lazy: bool = False, verdict_first: bool = False) -> Bundle:
    """Load every model of a bundle (or only `names`), concurrently (one thread each: the
    imports and file reads overlap). Raises GenreError for a missing or corrupt bundle, one
    outside the `allowed` roots, or one naming files outside itself; with `lazy=True` it
    returns at once and a model's load error is raised when that model is first read from
    `bundle.models`; with `verdict_first=True` as well, only the models the calibrated verdict
    needs (the ensemble's members and the fast models) start at once, the others when first
    read or on `bundle.start_deferred_loads()`."""
    folder = Path(folder) if folder else DEFAULT_BUNDLE
    check_allowed(folder, allowed)
    if not folder.exists():
        recover_bundle(folder)
    if not folder.exists():
        raise GenreError(f"{folder}: model bundle not found")
    meta, report = read_bundle_report(folder)
    from genre_core.models import FAMILIES

    order = list(FAMILIES)
    entries = sorted(meta["models"].items(), key=lambda kv: (
        order.index(kv[1]["family"]) if kv[1].get("family") in order else len(order), kv[0]))

    def loader(name: str, entry: dict) -> Callable[[], GenreModel]:
        path = model_folder(folder, entry, name)     # checked here, before any thread

        def load() -> GenreModel:
            try:
                return model_class(entry["family"]).load(
                    path, meta["labels"], entry.get("variant", "corrected"),
                    entry.get("params", {}))
            except GenreError:
                raise
            except Exception as e:  # a truncated/corrupt weight file is the user's to fix
                raise GenreError(f"{folder / entry['folder']}: model {name!r} could not be "
                                 f"loaded ({type(e).__name__}: "
                                 f"{str(e).splitlines()[0] if str(e) else ''})") from None
        return load

    loaders = {name: loader(name, entry) for name, entry in entries
               if not names or name in names}
    if not loaders:
        raise GenreError(f"{folder}: bundle holds none of the requested models")
    ensemble = _load_ensemble(folder, meta["labels"], set(loaders))
    deferred: set[str] = set()
    if lazy and verdict_first:         # what the verdict does not need waits until asked
        feature = {n: meta["models"][n].get("feature", "") for n in loaders}
        deferred = set(loaders) - set(verdict_models(loaders, feature.__getitem__, ensemble))
    models = LazyModels(loaders, deferred)
    return Bundle(folder, meta["labels"], FeatureConfig.from_dict(meta["feature_config"]),
                  models if lazy else dict(models.wait()), report, meta, ensemble)


def _load_ensemble(folder: Path, labels: list[str], loaded: set[str]):
    """The bundle's ensemble when it has one and all of its members are loaded."""
    from genre_core.inference.ensemble import ENSEMBLE_FILE, Ensemble

    if not (folder / ENSEMBLE_FILE).exists():
        return None
    ensemble = Ensemble.load(folder)
    if ensemble.labels != labels:
        raise GenreError(f"{folder / ENSEMBLE_FILE}: labels differ from bundle.json")
    return ensemble if set(ensemble.members) <= loaded else None
