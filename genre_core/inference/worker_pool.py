"""Process pools for extraction and batch prediction: workers that share the cores, die with
the process that started them, and, when one of them dies, a pool that says so instead of
waiting for it forever (concurrent.futures raises BrokenProcessPool where
multiprocessing.Pool's imap hung after a worker segfaulted)."""
from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

from genre_core.features.librosa_kernels import librosa_ready

PR_SET_PDEATHSIG = 1


def usable_cores() -> int:
    """The cores this process may run on (its affinity where the OS tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def die_with_parent(parent: int) -> None:
    """A worker must not outlive the process that started it (a kill -9 of `train` left
    them running forever). Linux: the kernel sends SIGKILL when the parent dies (prctl
    PR_SET_PDEATHSIG); elsewhere a watchdog thread polls the parent id."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
            if os.getppid() != parent:      # the parent died before prctl took effect
                os._exit(1)
            return
    except (OSError, AttributeError):
        pass
    import threading
    import time

    def _watch():
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=_watch, name="parent-watchdog", daemon=True).start()


def pool_context():
    """fork is fastest (a worker skips re-importing Python), but not once TensorFlow's
    threads exist in this process; forkserver or spawn otherwise."""
    if sys.platform.startswith("linux") and "tensorflow" not in sys.modules:
        return mp.get_context("fork")
    return mp.get_context("forkserver" if sys.platform != "win32" else "spawn")


def make_pool(n_jobs: int, initializer: Callable | None = None,
              initargs: tuple = ()) -> ProcessPoolExecutor:
    """A pool of `n_jobs` workers whose native thread pools (OpenBLAS, OpenMP, ONNX Runtime)
    are held to cores // n_jobs threads each: unlimited, two forked workers ran four BLAS
    threads on two cores and the pool was slower than one process (bench, extraction: 3.6 s
    vs 2.3 s). `initializer(*initargs)` then runs in each worker."""
    ctx = pool_context()
    fork = ctx.get_start_method() == "fork"
    if fork:
        librosa_ready()     # loaded once here and inherited, not compiled by workers at once
    # the workers' parent is this process (fork) or the forkserver (which exits with us)
    parent = os.getpid() if fork else None
    threads = max(1, usable_cores() // max(1, n_jobs))
    return ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx, initializer=_init_worker,
                               initargs=(parent, threads, initializer, initargs))


def _init_worker(parent: int | None, threads: int, initializer: Callable | None,
                 initargs: tuple) -> None:
    from genre_core.serving import limit_native_threads

    die_with_parent(os.getppid() if parent is None else parent)
    limit_native_threads(threads)
    if initializer is not None:
        initializer(*initargs)
