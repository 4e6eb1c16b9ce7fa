"""Predict many files: folders expanded recursively, results in input order, spread over a
process pool when there are several files (one worker per core, each loading the bundle
once): one process leaves cores idle in its serial stages (decoding, the parts of feature
extraction that hold the GIL, the models), a pool keeps them busy when they are free."""
from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from genre_core.config import FeatureConfig
from genre_core.errors import GenreError, printable
from genre_core.features.librosa_kernels import librosa_ready
from genre_core.inference.audio import AUDIO_EXTENSIONS, heard_span
from genre_core.inference.worker_pool import make_pool, pool_context, usable_cores


def expand_paths(paths: list[str]) -> list[str]:
    """Files as given; a folder becomes its audio files, recursively, sorted. A folder with
    no audio file is a GenreError naming it."""
    out: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            found = sorted(str(f) for f in Path(p).rglob("*")
                           if f.suffix.lower() in AUDIO_EXTENSIONS and f.is_file())
            if not found:
                raise GenreError(f"{p}: folder holds no audio files "
                                 f"({', '.join(AUDIO_EXTENSIONS)})")
            out += found
        else:
            out.append(p)
    return out


@dataclass
class FileResult:
    file: str
    prediction: dict | None = None      # Prediction.to_json()
    error: str | None = None

    def line(self) -> str:
        if self.error is not None:
            return f"{self.file}: error: {self.error}"
        assert self.prediction is not None      # no error: a prediction
        models = self.prediction["models"]
        parts = [f"{n} {m['genre']} ({m['probabilities'][m['genre']]:.0%})"
                 for n, m in models.items() if n != "ensemble"]
        if "verdict" in self.prediction:
            parts = [f"Genre Studio says: {self.prediction['verdict']} | "
                     + (parts[0] if parts else "")] + parts[1:]
        notes = heard_part(self.prediction) + self.prediction.get("warnings", []) + [
            f"out of domain: {m}" for m in self.prediction.get("out_of_domain", [])]
        return f"{self.file}: " + ", ".join(parts) + (f"  [{'; '.join(notes)}]" if notes else "")

    def csv_row(self, models: list[str]) -> list:
        """One row under `csv_header(models)`: the file, Genre Studio's verdict as the line
        says it ("rock, 87%", "not sure: A or B (...)", "not music it knows ..."; empty for a
        bundle without an ensemble), the part of a long file heard, each model's genre and
        probability, out_of_domain, error."""
        prediction = self.prediction or {}
        row: list = [self.file, prediction.get("verdict", ""), heard_of(prediction) or ""]
        for name in models:
            m = prediction.get("models", {}).get(name)
            row += [m["genre"], round(m["probabilities"][m["genre"]], 5)] if m else ["", ""]
        return row + [" ".join(prediction.get("out_of_domain", [])), self.error or ""]


def heard_of(prediction: dict) -> str | None:
    """"1:15-1:45 of 3:00" when only part of a long file was analysed, else None."""
    if "analysed_seconds" not in prediction or "duration" not in prediction:
        return None
    return heard_span(prediction["duration"], prediction.get("analysed_from", 0.0),
                      prediction["analysed_seconds"])


def heard_part(prediction: dict) -> list[str]:
    """["heard 1:15-1:45 of 3:00"] when only part of a long file was analysed, else []."""
    span = heard_of(prediction)
    return [f"heard {span}"] if span else []


def csv_header(models: list[str]) -> list[str]:
    return (["file", "verdict", "heard"]
            + [f"{n}_{c}" for n in models for c in ("genre", "probability")]
            + ["out_of_domain", "error"])


_WORKER: dict = {}


class _NoPandas:
    """A meta-path finder that makes `import pandas` raise ModuleNotFoundError."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError("pandas is not loaded in predict processes", name=name)
        return None


def skip_optional_pandas() -> None:
    """Make `import pandas` fail in this process, unless it is already imported.

    scikit-learn imports pandas *optionally* (try/except ImportError, for DataFrame in/out),
    which costs a predict process ~80 MB and ~0.5-1 s; unpickling and running the bundle's
    classifiers never uses it. Only the predict command calls this; nothing else in a
    predict process imports pandas. (A finder, not sys.modules["pandas"] = None: sklearn
    looks pandas up in sys.modules and expects a module or no key.)"""
    import sys

    if "pandas" not in sys.modules and not any(isinstance(f, _NoPandas) for f in sys.meta_path):
        sys.meta_path.insert(0, _NoPandas())


# What every prediction process imports (decoding, features, serving, the classifiers'
# unpickling). Imported once before the pool forks, they are shared by the workers instead
# of being imported again in each (none of them starts a thread at import).
PREIMPORT = ("soundfile", "scipy.signal", "librosa", "librosa.feature", "librosa.core.spectrum",
             "bottleneck", "onnxruntime", "skops.io", "sklearn.pipeline", "sklearn.linear_model",
             "sklearn.preprocessing", "threadpoolctl")


def _preimport() -> None:
    import importlib

    librosa_ready()     # first: importing librosa.feature compiles or loads its kernels
    for name in PREIMPORT:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def _init_worker(bundle, models, config: FeatureConfig) -> None:
    from genre_core.inference.predict import Predictor

    _WORKER["predictor"] = Predictor(bundle, models, lazy=True)
    _WORKER["config"] = config


def _predict_one(path: str, predictor=None, config: FeatureConfig | None = None) -> FileResult:
    """A file's result (its prediction carries the domain judgement and the verdict after
    it); a problem with the file (GenreError) is its row's error, while a model that cannot
    be loaded stops the run (raised)."""
    from genre_core.inference.audio import load_audio

    if predictor is None:
        predictor, config = _WORKER["predictor"], _WORKER["config"]
    assert config is not None
    shown = printable(path)
    try:
        clip = load_audio(path, config)
    except GenreError as e:
        return FileResult(shown, error=str(e))
    predictor.wait_models()
    try:
        prediction = predictor.predict_clip(clip)
    except GenreError as e:
        return FileResult(shown, error=str(e))
    return FileResult(shown, prediction=prediction.to_json())


def unexpected_error(file: str, error: BaseException) -> FileResult:
    """The row of a file whose analysis raised something no user input should cause (a bug):
    that file's error, so the other files keep their answers."""
    return FileResult(printable(file), error=f"not analysed: an internal error "
                                             f"({type(error).__name__}: {printable(str(error))})")


def predict_files(files: list[str], bundle, models: list[str] | None, config: FeatureConfig,
                  jobs: int | None = None) -> Iterator[FileResult]:
    """Yield one FileResult per file, in order. `jobs` processes (default: one per core,
    at most one per file); 1 = in this process. A file whose analysis raises becomes that
    file's error row (unexpected_error); a dead worker process, each file left's."""
    jobs = min(jobs or usable_cores(), len(files))
    if jobs <= 1:
        from genre_core.inference.predict import Predictor

        predictor = Predictor(bundle, models, lazy=True)
        for f in files:
            try:
                result = _predict_one(f, predictor, config)
            except GenreError:
                raise                   # the bundle cannot be loaded: no file can be analysed
            except Exception as e:  # noqa: BLE001 - one file's bug never costs the others
                result = unexpected_error(f, e)
            yield result
        return
    if pool_context().get_start_method() == "fork":
        _preimport()        # imported once here, shared by the forked workers
    pool = make_pool(jobs, _init_worker, (bundle, models, config))
    try:
        futures = [pool.submit(_predict_one, f) for f in files]
        for f, fut in zip(files, futures):
            try:
                yield fut.result()
            except BrokenProcessPool as e:
                yield FileResult(printable(f), error=f"not predicted: a worker process died ({e})")
            except GenreError:
                raise                   # the bundle cannot be loaded: no file can be analysed
            except Exception as e:  # noqa: BLE001 - one file's bug never costs the others
                yield unexpected_error(f, e)
    finally:
        pool.shutdown(cancel_futures=True)      # stopped early: the queued files are not run
