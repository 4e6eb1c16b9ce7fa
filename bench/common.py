"""Shared pieces of the benchmark: statistics, timed child processes, test clips."""
from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


SECTIONS = ("latency", "cold", "batch", "app", "class", "class_headless", "extraction",
            "training", "memory", "growth")


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


def stats(values) -> dict:
    """{'min', 'median', 'max', 'n'} of a non-empty sequence of numbers (floats)."""
    vals = [float(v) for v in values]
    if not vals:
        raise ValueError("stats() of no values")
    return {"min": min(vals), "median": float(statistics.median(vals)), "max": max(vals),
            "n": len(vals)}


def ratio(slow: dict, fast: dict) -> dict:
    """slow/fast speed-up: median over median, and the extremes (worst = slow.min/fast.max)."""
    return {"min": slow["min"] / fast["max"], "median": slow["median"] / fast["median"],
            "max": slow["max"] / fast["min"], "n": min(slow["n"], fast["n"])}


def eprint(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def synth_music(seconds: float, rate: int = 22050, seed: int = 0) -> np.ndarray:
    """Something music-like (chords, a beat, noise) so the models see varied MFCCs."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    y = np.zeros(n, np.float64)
    for i, f in enumerate((110.0, 220.0, 277.2, 329.6, 440.0)):
        y += 0.12 / (i + 1) * np.sin(2 * np.pi * f * t * (1 + 0.002 * np.sin(0.5 * t)))
    beat = (np.mod(t, 0.5) < 0.03) * rng.standard_normal(n) * 0.3
    y += beat + 0.02 * rng.standard_normal(n)
    return (y / np.max(np.abs(y)) * 0.8).astype(np.float32)


def tile_to(y: np.ndarray, seconds: float, rate: int) -> np.ndarray:
    n = int(seconds * rate)
    reps = int(np.ceil(n / len(y)))
    return np.tile(y, reps)[:n]


def peak_rss_of(pid: int) -> int | None:
    """Peak resident set size (bytes) of a live process, from /proc (VmHWM), else None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def run_timed(cmd: list[str], cwd=ROOT, env=None, timeout: float = 300) -> dict:
    """Run a process to the end: wall seconds, exit code, peak RSS (bytes) and the tail of
    its output.

    The peak is the child's VmHWM polled from /proc while it runs: wait4's ru_maxrss would
    include the pages of this (large) process that the child mapped between fork and exec,
    which Linux carries over as its maxrss. Without /proc, wait4's figure is used."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        peak = polled = None
        try:
            deadline = start + timeout
            while True:
                pid, status, ru = os.wait4(p.pid, os.WNOHANG)
                if pid:
                    break
                hwm = peak_rss_of(p.pid)
                if hwm:
                    polled = max(polled or 0, hwm)
                if time.perf_counter() > deadline:
                    p.kill()
                    pid, status, ru = os.wait4(p.pid, 0)
                    break
                time.sleep(0.005)
            wall = time.perf_counter() - start
            p.returncode = os.waitstatus_to_exitcode(status)
            peak = polled or (ru.ru_maxrss * 1024 if sys.platform != "darwin" else ru.ru_maxrss)
        except ChildProcessError:   # someone else reaped it
            p.wait()
            wall = time.perf_counter() - start
        out.seek(0)
        text = out.read().decode(errors="replace")
    json_line = next((ln for ln in text.splitlines() if ln.startswith("BENCH_JSON")), None)
    return {"wall": wall, "rc": p.returncode, "peak_rss": peak, "output": text[-2000:],
            "json_line": json_line}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_chromium() -> str | None:
    for c in (os.environ.get("BENCH_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
              shutil.which("chromium-browser")):
        if c and Path(c).exists():
            return c
    return None


def child_env() -> dict:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


class Material:
    """Temporary test files: a 30-s WAV (22.05 kHz mono, a GTZAN clip when available) and an
    MP3 of it at 44.1 kHz stereo (a typical consumer file: the decode must resample)."""

    def __init__(self, data_root: Path | None, tmp: Path):
        import soundfile as sf

        self.tmp = tmp
        self.source = "synthesized"
        y = None
        if data_root is not None:
            cands = sorted((data_root / "Data" / "genres_original").glob("*/*.wav"))
            for c in cands[:5]:
                try:
                    y, sr = sf.read(c, dtype="float32", always_2d=True)
                    y = y.mean(axis=1)
                    if sr != 22050 or len(y) < 29 * sr:
                        y = None
                        continue
                    self.source = str(c)
                    break
                except Exception:  # noqa: BLE001 - any unreadable candidate: try the next
                    y = None
        if y is None:
            y = synth_music(30.0)
        self.y = tile_to(y, 30.0, 22050)
        self.wav = tmp / "clip30.wav"
        sf.write(self.wav, self.y, 22050, subtype="PCM_16")
        import librosa

        y44 = librosa.resample(self.y, orig_sr=22050, target_sr=44100)
        stereo = np.stack([y44, 0.9 * y44], axis=1)
        self.mp3 = tmp / "clip30.mp3"
        sf.write(self.mp3, stereo, 44100, format="MP3")

    def long_wav(self, seconds: float) -> Path:
        import soundfile as sf

        path = self.tmp / f"clip{int(seconds)}s.wav"
        if not path.exists():
            sf.write(path, tile_to(self.y, seconds, 22050), 22050, subtype="PCM_16")
        return path


MODELS: list[str] | None = None    # the bundle's models to time (set from --models)
