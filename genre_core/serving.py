"""Serving runtime: Keras networks exported to ONNX and run with ONNX Runtime.

Why: importing TensorFlow costs seconds and ~500 MB of every cold start, and a Keras call
has milliseconds of dispatch overhead; ONNX Runtime imports in a fraction of a second and
runs these nets with less overhead. TensorFlow is needed only to *train* and to *export*.

Convention: a network saved as ``X.keras`` is served from ``X.onnx`` beside it. The ONNX file
records the SHA-256 of the ``.keras`` it was exported from; `load_net` uses it only when that
hash still matches (a retrained model with a stale export falls back to Keras, never to old
weights). Any single-input keras.Model works, so a new network (say another musicnn backbone)
is served by calling `export_keras_file` once on its ``.keras`` file.
"""
from __future__ import annotations

import functools
import hashlib
import os
import tempfile
import threading
from pathlib import Path

import numpy as np

SOURCE_KEY = "keras_sha256"     # ONNX metadata: hash of the .keras file exported
THREADS_ENV = "GENRE_ORT_THREADS"  # intra-op threads per session (default: ORT's choice)
_THREAD_LIMITS: list = []          # keeps limit_native_threads' threadpool limits alive


def limit_native_threads(threads: int) -> None:
    """Hold this process's native thread pools (OpenBLAS, OpenMP) and the ONNX sessions it
    makes from now on to `threads`: what a pool worker sharing the cores with others needs
    (unlimited, two workers on two cores ran four BLAS threads and lost to one process)."""
    from threadpoolctl import threadpool_limits

    os.environ[THREADS_ENV] = str(threads)
    _THREAD_LIMITS.append(threadpool_limits(threads))


def onnx_path(keras_path: str | os.PathLike) -> Path:
    return Path(keras_path).with_suffix(".onnx")


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ----------------------------------------------------------------------------- export (needs TF)

def export_keras(model, path: str | os.PathLike, source_sha256: str | None = None) -> Path:
    """Write a keras.Model as ONNX at `path` (atomically), batch axis dynamic.

    `source_sha256` (the hash of the model's .keras file) is stored in the ONNX metadata so a
    loader can tell whether the export still matches the saved Keras model.
    """
    import keras
    import onnx

    path = Path(path)
    sig = [keras.InputSpec(shape=t.shape, dtype="float32", name=t.name) for t in model.inputs]
    fd, tmp = tempfile.mkstemp(suffix=".onnx", dir=path.parent)
    os.close(fd)
    try:
        model.export(tmp, format="onnx", verbose=False, input_signature=sig)
        proto = onnx.load(tmp)
        if source_sha256:
            entry = proto.metadata_props.add()
            entry.key, entry.value = SOURCE_KEY, source_sha256
        onnx.save(proto, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def export_keras_file(keras_path: str | os.PathLike, model=None) -> Path:
    """Export the model saved at `keras_path` to the .onnx beside it (the model may be passed
    when already in memory)."""
    keras_path = Path(keras_path)
    if model is None:
        import keras
        model = keras.saving.load_model(keras_path, compile=False)
    return export_keras(model, onnx_path(keras_path), file_sha256(keras_path))


# ----------------------------------------------------------------------------- serving (no TF)

_SHARED_ARENA: list = []    # registered once per process
_ARENA_LOCK = threading.Lock()


def _use_shared_arena(ort, opts) -> None:
    """Let every session of this process draw from one CPU arena: each session's own arena
    keeps its largest activations (~100 MB for a musicnn network), so four backbones held
    ~430 MB where one shared arena holds ~190 MB. Same results."""
    with _ARENA_LOCK:
        if not _SHARED_ARENA:
            info = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0,
                                     ort.OrtMemType.DEFAULT)
            ort.create_and_register_allocator(info, ort.OrtArenaCfg(0, -1, -1, -1))
            _SHARED_ARENA.append(info)
    opts.add_session_config_entry("session.use_env_allocators", "1")


class OnnxNet:
    """An ONNX Runtime session with Keras' `predict_on_batch` contract: a float32 batch in;
    one array out for a single-output net, a list (in the Keras output order) otherwise."""

    def __init__(self, path: str | os.PathLike, threads: int | None = None,
                 max_batch: int | None = None):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        threads = threads or int(os.environ.get(THREADS_ENV, "0") or 0)
        if threads:
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        # idle intra-op threads sleep instead of spinning: the Predictor runs ONNX beside
        # feature threads, and spinning workers would take the cores they need
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        _use_shared_arena(ort, opts)
        self.path = Path(path)
        self.max_batch = max_batch   # split larger batches: bounds the activations' memory
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self.input_shape = tuple(self.session.get_inputs()[0].shape)
        self.n_outputs = len(self.session.get_outputs())
        self.metadata = dict(self.session.get_modelmeta().custom_metadata_map)

    def predict_on_batch(self, x: np.ndarray):
        x = np.ascontiguousarray(x, np.float32)
        step = self.max_batch or max(1, len(x))
        parts = [self.session.run(None, {self.input_name: x[i:i + step]})
                 for i in range(0, max(1, len(x)), step)]
        out = parts[0] if len(parts) == 1 else [np.concatenate(o) for o in zip(*parts)]
        return out[0] if self.n_outputs == 1 else out


_LOCK = threading.Lock()
_KERAS_LOCK = threading.Lock()


@functools.lru_cache(maxsize=16)
def _load_cached(path: str, mtime: float, max_batch: int | None):
    return _load_uncached(Path(path), max_batch)


def _load_uncached(keras_path: Path, max_batch: int | None = None):
    import warnings

    onnx_file = onnx_path(keras_path)
    if onnx_file.is_file():
        try:
            net = OnnxNet(onnx_file, max_batch=max_batch)
        except Exception as e:  # a damaged export: the Keras model is still there to run
            if not keras_path.is_file():
                raise
            warnings.warn(f"{onnx_file}: cannot be loaded ({type(e).__name__}); running the "
                          "Keras model (re-export with tools/export_onnx.py)", stacklevel=2)
        else:
            expected = net.metadata.get(SOURCE_KEY)
            if (not keras_path.is_file() or expected is None
                    or expected == file_sha256(keras_path)):
                return net
            warnings.warn(f"{onnx_file} was exported from another {keras_path.name}: running "
                          "the Keras model (re-export with tools/export_onnx.py)", stacklevel=2)
    import keras  # no (current) export: the Keras model itself, TensorFlow imported

    with _KERAS_LOCK:   # bundles load their models in threads; Keras loading is not made for it
        return keras.saving.load_model(keras_path, compile=False, safe_mode=True)


def load_net(keras_path: str | os.PathLike, cache: bool = False, max_batch: int | None = None):
    """The network saved at `keras_path`, for prediction: an `OnnxNet` when a current .onnx
    lies beside it (no TensorFlow import), else the keras.Model. Either has
    `predict_on_batch`. `cache=True` shares one instance per file and modification time
    across the process (for large shared backbones); `max_batch` makes the ONNX session run
    large batches in slices (a big convnet's activations grow with the batch)."""
    keras_path = Path(keras_path)
    if not cache:
        return _load_uncached(keras_path, max_batch)
    probe = onnx_path(keras_path) if onnx_path(keras_path).is_file() else keras_path
    with _LOCK:
        return _load_cached(str(keras_path.resolve()), probe.stat().st_mtime, max_batch)
