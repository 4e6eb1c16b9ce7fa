"""`python -m genre_core bench`: how fast and how big Genre Studio is, next to the naive
notebook pipeline it replaces.

Sections (names usable with --skip):
  latency     warm prediction of a 30-s WAV and MP3 with the bundle's models (default: all),
              split into decode / extract (each feature kind) / each model, beside the naive
              path (librosa.load with default resampling, MFCC per segment in a loop, Keras
              model.predict per segment, MLP + CNN) and the ratio naive/fast
  cold        whole-process `python -m genre_core predict FILE` (wall time), and the stages
              of a cold prediction measured inside a fresh process (imports, decode, ...)
  batch       `predict DIR --csv` over several clips: one process vs the process pool
  app         Streamlit: first render of Home in Debian chromium (Playwright), then the first
              prediction after an upload on Listen until Compare shows it
  extraction  clips per second over the dataset: cold (empty cache, all cores), cached, and a
              sequential one-clip-at-a-time naive loop
  training    seconds per epoch and in total for each model family
  memory      peak RSS of a `predict` process and of the app's server after every page
  growth      prediction time and peak memory for 30-s, 3-min and 10-min clips, read limit off

Every figure is min/median/max over the runs made (n says how many). Sections run in an
order that keeps TensorFlow out of this process until extraction is done (so the process
pool can fork, as it does in `train`), but are reported in the order above.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from genre_core.config import FeatureConfig

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("latency", "cold", "batch", "app", "extraction", "training", "memory", "growth")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]

# target name -> (description, metric path in results, comparison, threshold)
TARGETS = [
    ("warm prediction, 30-s WAV, all models", ("latency", "wav", "fast", "total"), "<", 0.250, "s"),
    ("warm prediction, 30-s MP3, all models", ("latency", "mp3", "fast", "total"), "<", 0.250, "s"),
    ("fast vs naive, 30-s WAV", ("latency", "wav", "speedup"), ">=", 6.0, "x"),
    ("fast vs naive, 30-s MP3", ("latency", "mp3", "speedup"), ">=", 6.0, "x"),
    ("whole-process predict", ("cold", "predict_process"), "<", 5.0, "s"),
    ("predict process peak memory", ("cold", "peak_rss_mib"), "<", 600.0, "MiB"),
    ("predict DIR, pool vs one process", ("batch", "speedup"), ">=", 1.7, "x"),
    ("cached extraction vs cold", ("extraction", "cached_vs_cold"), ">=", 50.0, "x"),
    ("app first render (Home)", ("app", "first_render"), "<", 3.0, "s"),
    ("app upload -> Compare answer", ("app", "upload_to_predictions"), "<", 5.0, "s"),
]
NAIVE_MODELS = ("mlp", "cnn")   # the notebook's two networks


# ---------------------------------------------------------------- helpers (tested)

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


def naive_features(y: np.ndarray, config: FeatureConfig = FeatureConfig()) -> list[np.ndarray]:
    """The notebook's way: one librosa.feature.mfcc call per segment, in a Python loop.
    Each item is (frames, n_mfcc), like one row of features.mfcc_segments."""
    import librosa

    n = config.segment_samples
    count = max(1, len(y) // n)
    out = []
    for i in range(count):
        seg = y[i * n:(i + 1) * n]
        if len(seg) < n:
            seg = np.pad(seg, (0, n - len(seg)))
        m = librosa.feature.mfcc(y=seg, sr=config.sample_rate, n_mfcc=config.n_mfcc,
                                 n_fft=config.n_fft, hop_length=config.hop_length)
        out.append(m.T.astype(np.float32))
    return out


def naive_load(path, config: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """librosa.load with its default resampling (the whole file, no read limit)."""
    import warnings

    import librosa

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y, _ = librosa.load(str(path), sr=config.sample_rate)
    return y


def keras_net(bundle, name: str):
    """The Keras network of a bundle's MFCC model (the notebook runs Keras, not the ONNX
    export the Predictor serves)."""
    model = bundle.models[name]
    if hasattr(model.net, "fit"):
        return model.net
    import keras

    folder = bundle.meta.get("models", {}).get(name, {}).get("folder", name)
    return keras.saving.load_model(Path(bundle.path) / folder / "model.keras", compile=False)


def naive_model_proba(model, segments: list[np.ndarray], net=None) -> np.ndarray:
    """model.predict once per segment, as the notebook does; (n_segments, n_labels)."""
    net = net if net is not None else model.net
    rows = [net.predict(model._scale(s[None]), verbose=0)[0] for s in segments]
    return np.asarray(rows, dtype=np.float32)


def naive_predict(path, bundle, timings: dict | None = None, nets: dict | None = None
                  ) -> dict[str, np.ndarray]:
    """The naive pipeline end to end with the notebook's MLP and CNN; returns {model name:
    track-level probabilities}. `timings` (if given) receives decode / extract /
    model:<name> seconds (the Predictor's keys, so stages compare one to one)."""
    timings = {} if timings is None else timings
    nets = nets if nets is not None else {n: keras_net(bundle, n) for n in NAIVE_MODELS
                                          if n in bundle.models}
    config = bundle.feature_config
    t = time.perf_counter()
    y = naive_load(path, config)
    timings["decode"] = time.perf_counter() - t
    t = time.perf_counter()
    segs = naive_features(y, config)
    timings["extract"] = time.perf_counter() - t
    out = {}
    for name, net in nets.items():
        t = time.perf_counter()
        out[name] = naive_model_proba(bundle.models[name], segs, net).mean(axis=0)
        timings[f"model:{name}"] = time.perf_counter() - t
    return out


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


# ---------------------------------------------------------------- test material

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


# ---------------------------------------------------------------- sections

MODELS: list[str] | None = None    # the bundle's models to time (set from --models)


def bench_latency(bundle_path: Path, mat: Material, reps: int, naive_reps: int) -> dict:
    from genre_core.predict import Predictor

    predictor = Predictor(bundle_path, MODELS)
    bundle = predictor.bundle
    nets = {n: keras_net(bundle, n) for n in NAIVE_MODELS if n in bundle.models}
    out: dict = {"models": list(bundle.models), "naive_models": list(nets), "reps": reps,
                 "naive_reps": naive_reps, "clip_source": mat.source}
    for label, path in (("wav", mat.wav), ("mp3", mat.mp3)):
        # warm-up: first calls trace functions and fill allocator pools
        fast_pred = predictor.predict(path)
        naive_probs = naive_predict(path, bundle, nets=nets)
        fast_parts: dict[str, list[float]] = {}
        for _ in range(reps):
            t = time.perf_counter()
            pred = predictor.predict(path)
            total = time.perf_counter() - t
            for k, v in {**pred.timings, "total": total}.items():
                fast_parts.setdefault(k, []).append(v)
        naive_parts: dict[str, list[float]] = {}
        for _ in range(naive_reps):
            tm: dict[str, float] = {}
            t = time.perf_counter()
            naive_probs = naive_predict(path, bundle, tm, nets)
            tm["total"] = time.perf_counter() - t
            for k, v in tm.items():
                naive_parts.setdefault(k, []).append(v)
        diff = max((float(np.max(np.abs(fast_pred.models[n].segment_probabilities.mean(axis=0)
                                        - p))) for n, p in naive_probs.items()), default=0.0)
        fast = {k: stats(v) for k, v in fast_parts.items()}
        naive = {k: stats(v) for k, v in naive_parts.items()}
        out[label] = {
            "file": str(path), "segments": len(fast_pred.models[bundle.model_names[0]]
                                               .segment_starts),
            "fast": fast, "naive": naive,
            "speedup": ratio(naive["total"], fast["total"]),
            "speedup_parts": {k: ratio(naive[k], fast[k]) for k in naive if k in fast},
            "max_probability_difference": diff,
            "same_genres": all(bundle.labels[int(np.argmax(p))] == fast_pred.models[n].genre
                               for n, p in naive_probs.items()),
        }
        eprint(f"  latency {label}: fast {fast['total']['median'] * 1000:.0f} ms "
               f"({len(bundle.models)} models), naive {naive['total']['median'] * 1000:.0f} ms "
               f"({len(nets)} models; max |dp| {diff:.1e})")
    return out


COLD_CHILD = r"""
import time
t0 = time.perf_counter()
import json, sys
from genre_core.batch_predict import skip_optional_pandas
skip_optional_pandas()                       # as the predict command does
from genre_core.predict import Predictor
t1 = time.perf_counter()
bundle, models, f = sys.argv[1], sys.argv[2], sys.argv[3]
p = Predictor(bundle, models.split(",") if models else None, lazy=True)
t2 = time.perf_counter()
pred = p.predict(f)
t3 = time.perf_counter()
print("BENCH_JSON" + json.dumps({"import genre_core.predict": t1 - t0,
                                 "Predictor (lazy)": t2 - t1, **pred.timings,
                                 "first prediction": t3 - t2, "in-process total": t3 - t0}))
"""


def bench_cold(bundle_path: Path, mat: Material, reps: int) -> dict:
    cmd = [sys.executable, "-m", "genre_core", "predict", str(mat.wav),
           *(["--models", ",".join(MODELS)] if MODELS else []), "--bundle",
           str(bundle_path)]
    runs = []
    for i in range(reps):
        r = run_timed(cmd, env=child_env())
        if r["rc"] != 0:
            return {"error": f"predict exited {r['rc']}: {r['output'][-500:]}"}
        runs.append(r)
        eprint(f"  cold predict run {i + 1}/{reps}: {r['wall']:.2f} s, peak "
               f"{(r['peak_rss'] or 0) / 2**20:.0f} MiB")
    # the stages of a cold prediction, measured inside fresh processes
    stages: dict[str, list[float]] = {}
    for _ in range(reps):
        r = run_timed([sys.executable, "-c", COLD_CHILD, str(bundle_path),
                       ",".join(MODELS or []), str(mat.wav)], env=child_env())
        if r["json_line"]:
            for k, v in json.loads(r["json_line"][len("BENCH_JSON"):]).items():
                stages.setdefault(k, []).append(v)
    # the import cost alone, for the profile of where cold time goes
    code = ("import time, json; t0 = time.perf_counter(); import genre_core.predict; "
            "from genre_core.batch_predict import skip_optional_pandas; skip_optional_pandas(); "
            "t1 = time.perf_counter(); import onnxruntime; t2 = time.perf_counter(); "
            "import librosa; librosa.feature.mfcc; t3 = time.perf_counter(); "
            "import sklearn.linear_model; t4 = time.perf_counter(); print('BENCH_JSON' + "
            "json.dumps({'genre_core': t1 - t0, 'onnxruntime': t2 - t1, "
            "'librosa_feature': t3 - t2, 'sklearn': t4 - t3}))")
    imp = run_timed([sys.executable, "-c", code], env=child_env())
    line = imp["json_line"]
    parts = json.loads(line[len("BENCH_JSON"):]) if line else {}
    peaks = [r["peak_rss"] for r in runs if r["peak_rss"]]
    return {"command": " ".join(cmd[1:]), "predict_process": stats([r["wall"] for r in runs]),
            "peak_rss": stats(peaks) if peaks else None,
            "peak_rss_mib": stats([p / 2**20 for p in peaks]) if peaks else None,
            "stages": {k: stats(v) for k, v in stages.items()},
            "import_only": stats([imp["wall"]]),
            "import_parts": {k: stats([v]) for k, v in parts.items()}}


def batch_files(data_root: Path | None, mat: Material, n: int) -> tuple[Path, str]:
    """A folder of `n` 30-s WAVs: GTZAN clips (one genre after another) when available,
    else the test clip with a different gain each."""
    import soundfile as sf

    folder = mat.tmp / "batch"
    folder.mkdir(exist_ok=True)
    clips = []
    if data_root is not None:
        by_genre = [sorted(g.glob("*.wav")) for g in
                    sorted((data_root / "Data" / "genres_original").glob("*")) if g.is_dir()]
        clips = [c for row in zip(*by_genre) for c in row][:n] if by_genre else []
    for i in range(n):
        if i < len(clips):
            shutil.copy(clips[i], folder / f"{i:02d}_{clips[i].name}")
        else:
            sf.write(folder / f"{i:02d}_synth.wav", mat.y * (0.5 + 0.05 * i), 22050,
                     subtype="PCM_16")
    return folder, "GTZAN clips" if len(clips) == n else "synthesized"


def bench_batch(bundle_path: Path, data_root: Path | None, mat: Material, n: int,
                reps: int) -> dict:
    folder, source = batch_files(data_root, mat, n)
    out: dict = {"files": n, "source": source}
    walls: dict[str, list[float]] = {}
    for jobs in ("1", "0"):                  # 0 = the default: one process per core
        for i in range(reps):
            cmd = [sys.executable, "-m", "genre_core", "predict", str(folder), "--csv",
                   str(mat.tmp / f"batch{jobs}.csv"), "--bundle", str(bundle_path),
                   *(["--models", ",".join(MODELS)] if MODELS else []),
                   *(["--jobs", jobs] if jobs != "0" else [])]
            r = run_timed(cmd, env=child_env(), timeout=900)
            if r["rc"] != 0:
                return {"error": f"predict DIR exited {r['rc']}: {r['output'][-500:]}"}
            walls.setdefault(jobs, []).append(r["wall"])
            eprint(f"  batch, {'1 process' if jobs == '1' else 'pool'}: {n} files in "
                   f"{r['wall']:.1f} s")
    one, pool = stats(walls["1"]), stats(walls["0"])
    same = (mat.tmp / "batch1.csv").read_text() == (mat.tmp / "batch0.csv").read_text()
    out.update(one_process_files_per_s=stats([n / w for w in walls["1"]]),
               pool_files_per_s=stats([n / w for w in walls["0"]]),
               workers=min(n, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                           else os.cpu_count() or 1),
               speedup=ratio(one, pool), same_csv=same)
    return out


@contextmanager
def streamlit_server(bundle_path: Path, data_root: Path | None):
    port = free_port()
    env = child_env()
    env["GENRE_BUNDLE"] = str(bundle_path)
    if data_root is not None:
        env["GENRE_DATA"] = str(data_root)
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
           "--server.headless", "true", "--server.port", str(port)]
    log = tempfile.TemporaryFile()
    start = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        import urllib.request

        healthy = None
        deadline = start + 120
        while time.perf_counter() < deadline and p.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                            timeout=2) as r:
                    if r.status == 200:
                        healthy = time.perf_counter() - start
                        break
            except OSError:
                time.sleep(0.05)
        if healthy is None:
            log.seek(0)
            raise RuntimeError("streamlit did not become healthy: "
                               + log.read().decode(errors="replace")[-800:])
        yield {"url": f"http://127.0.0.1:{port}/", "pid": p.pid, "server_start": healthy}
    finally:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        log.close()


def _wait_idle(page, timeout_ms: int = 120_000) -> None:
    """Until the Streamlit script has finished its run (the app root says notRunning)."""
    page.wait_for_timeout(50)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]',
                           timeout=timeout_ms, state="attached")


def _page_exception(page) -> str | None:
    loc = page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]')
    if loc.count():
        return loc.first.inner_text()[:300]
    return None


def bench_app(bundle_path: Path, data_root: Path | None, mat: Material, reps: int) -> dict:
    missing = [p for p in ("app.py", "pages/home.py", "pages/listen.py", "pages/compare.py")
               if not (ROOT / p).exists()]
    if missing:
        return {"skipped": f"the app is not there yet ({', '.join(missing)} missing)"}
    chromium = find_chromium()
    if chromium is None:
        return {"skipped": "chromium not found (/usr/bin/chromium or $BENCH_CHROMIUM)"}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"skipped": "the playwright Python package is not installed"}

    starts, renders, totals, uploads, predictions, peaks, pages_seen = [], [], [], [], [], [], []
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            for rep in range(reps):
                with streamlit_server(bundle_path, data_root) as srv:
                    t_proc = time.perf_counter() - srv["server_start"]
                    page = browser.new_page(viewport={"width": 1400, "height": 1000})
                    t0 = time.perf_counter()
                    page.goto(srv["url"])
                    page.wait_for_selector('h1:has-text("Genre Studio")', timeout=120_000)
                    _wait_idle(page)
                    render = time.perf_counter() - t0
                    starts.append(srv["server_start"])
                    renders.append(render)
                    totals.append(time.perf_counter() - t_proc)
                    err = _page_exception(page)
                    if err:
                        errors.append(f"Home: {err}")
                    # Listen: upload, then Compare until every model's answer is drawn
                    page.locator('[data-testid="stSidebarNav"] a', has_text="Listen").click()
                    page.wait_for_selector('h1:has-text("Listen")', timeout=60_000)
                    _wait_idle(page)
                    t1 = time.perf_counter()
                    page.locator('input[type="file"]').first.set_input_files(str(mat.wav))
                    page.wait_for_selector('text=Chosen clip', timeout=120_000)
                    _wait_idle(page)
                    uploads.append(time.perf_counter() - t1)
                    page.locator('[data-testid="stSidebarNav"] a',
                                 has_text="Compare").click()
                    page.wait_for_selector('text=Timing:', timeout=180_000)
                    _wait_idle(page)
                    predictions.append(time.perf_counter() - t1)
                    err = _page_exception(page)
                    if err:
                        errors.append(f"Compare: {err}")
                    # every page once (memory after all of them)
                    links = page.locator('[data-testid="stSidebarNav"] a')
                    names = [links.nth(i).inner_text().strip().splitlines()[-1]
                             for i in range(links.count())]
                    for i, name in enumerate(names):
                        links.nth(i).click()
                        page.wait_for_timeout(200)
                        _wait_idle(page, 180_000)
                        err = _page_exception(page)
                        if err:
                            errors.append(f"{name}: {err}")
                    pages_seen = names
                    peak = peak_rss_of(srv["pid"])
                    if peak:
                        peaks.append(peak)
                    page.close()
                eprint(f"  app run {rep + 1}/{reps}: server {starts[-1]:.1f} s, Home "
                       f"{renders[-1]:.1f} s, upload->predictions {predictions[-1]:.1f} s")
        finally:
            browser.close()
    return {"server_start": stats(starts), "first_render": stats(renders),
            "process_to_home": stats(totals), "upload_to_listen": stats(uploads),
            "upload_to_predictions": stats(predictions),
            "server_peak_rss": stats(peaks) if peaks else None, "pages_visited": pages_seen,
            "dataset_connected": data_root is not None,
            **({"page_errors": errors} if errors else {})}


def _naive_extract(tracks, config: FeatureConfig) -> int:
    done = 0
    for t in tracks:
        try:
            naive_features(naive_load(t.source, config), config)
            done += 1
        except Exception:  # noqa: BLE001 - the notebook would crash; we just count
            pass
    return done


def bench_extraction(data_root: Path, cold_reps: int, cached_reps: int,
                     naive_limit: int | None) -> tuple[dict, dict]:
    from genre_core.cache import FeatureCache
    from genre_core.dataset import extract_dataset, index_dataset

    config = FeatureConfig()
    ds = index_dataset(data_root)
    tracks = [t for t in ds.tracks if not t.archive]
    n = len(tracks)
    cold, cached = [], []
    feats: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as tmp:
        for i in range(cold_reps):
            cache = FeatureCache(Path(tmp) / f"c{i}")
            t = time.perf_counter()
            feats, problems = extract_dataset(tracks, "mfcc", config, cache, progress=False)
            cold.append(time.perf_counter() - t)
            eprint(f"  extraction cold {i + 1}/{cold_reps}: {cold[-1]:.2f} s")
        for _ in range(cached_reps):
            t = time.perf_counter()
            feats, problems = extract_dataset(tracks, "mfcc", config, cache, progress=False)
            cached.append(time.perf_counter() - t)
    naive_tracks = tracks if naive_limit is None else tracks[:naive_limit]
    naive_secs = float("nan")
    if naive_tracks:
        t = time.perf_counter()
        _naive_extract(naive_tracks, config)
        naive_secs = time.perf_counter() - t
        eprint(f"  extraction naive ({len(naive_tracks)} clips): {naive_secs:.2f} s")
    cps = lambda secs, k=n: stats([k / s for s in secs])  # noqa: E731
    cold_s, cached_s = cps(cold), cps(cached)
    naive_s = stats([len(naive_tracks) / naive_secs])
    res = {"clips": n, "workers": os.cpu_count(), "cold_seconds": stats(cold),
           "cached_seconds": stats(cached), "cold_clips_per_s": cold_s,
           "cached_clips_per_s": cached_s, "naive_clips": len(naive_tracks),
           "naive_clips_per_s": naive_s,
           "cached_vs_cold": ratio(cached_s, cold_s), "cold_vs_naive": ratio(cold_s, naive_s),
           "problems": problems}
    return res, {"features": feats, "tracks": tracks}


def bench_training(data: dict, families: list[str], epochs: int) -> dict:
    import genre_core.models.keras_segments as ks
    from genre_core.cli_common import label_order
    from genre_core.config import TrainConfig
    from genre_core.splits import _carve_valid
    from genre_core.training import fit_model

    import keras  # noqa: F401 - imported before the clock starts (the import is section 2's)

    feats, tracks = data["features"], data["tracks"]
    genre_of = {t.id: t.genre for t in tracks if t.id in feats}
    labels = label_order(genre_of.values())
    ids = sorted(genre_of)
    train_ids, valid_ids = _carve_valid(ids, [genre_of[i] for i in ids], 0.2, 42)
    out: dict = {"epochs": epochs, "train_tracks": len(train_ids),
                 "train_units": int(sum(len(feats[i]) for i in train_ids)),
                 "valid_tracks": len(valid_ids)}
    original = ks.EpochProgress.make
    models = {}
    for family in families:
        times: list[float] = []

        def make(total, desc, _times=times):
            import keras

            class _Timer(keras.callbacks.Callback):
                def on_epoch_begin(self, epoch, logs=None):
                    self.t = time.perf_counter()

                def on_epoch_end(self, epoch, logs=None):
                    _times.append(time.perf_counter() - self.t)

            return _Timer()

        ks.EpochProgress.make = staticmethod(make)
        try:
            model, history, secs = fit_model(family, "corrected", train_ids, valid_ids, feats,
                                             genre_of, labels,
                                             TrainConfig(epochs=epochs, seed=42), progress=True)
        finally:
            ks.EpochProgress.make = original
        models[family] = model
        out[family] = {"seconds_per_epoch": stats(times), "total": stats([secs]),
                       "first_epoch": times[0],
                       "later_epochs_median": (float(np.median(times[1:]))
                                               if len(times) > 1 else None)}
        eprint(f"  training {family}: {secs:.1f} s for {len(times)} epoch(s)")
    return out, models, labels


GROWTH_CHILD = r"""
import json, sys, time
from dataclasses import replace
from genre_core.audio import load_audio
from genre_core.bench import peak_rss_of
from genre_core.predict import Predictor
import os
bundle, models, reps, files = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
p = Predictor(bundle, models.split(",") if models else None)
config = replace(p.config, max_seconds=None)
p.predict_clip(load_audio(files[0], config))          # warm-up on the shortest
base = peak_rss_of(os.getpid())
out = {"baseline_peak_rss": base, "runs": []}
for f in files:                                        # shortest first: VmHWM is monotonic
    for _ in range(reps):
        t = time.perf_counter()
        clip = load_audio(f, config)
        decode = time.perf_counter() - t
        pred = p.predict_clip(clip)
        total = time.perf_counter() - t
        out["runs"].append({"file": f, "seconds": clip.loaded_seconds, "decode": decode,
                            **pred.timings, "total": total})
    out.setdefault("peak_rss", {})[f] = peak_rss_of(os.getpid())
print("BENCH_JSON" + json.dumps(out))
"""


def bench_growth(bundle_path: Path, mat: Material, lengths: list[float], reps: int) -> dict:
    files = [str(mat.long_wav(s)) for s in lengths]
    r = run_timed([sys.executable, "-c", GROWTH_CHILD, str(bundle_path),
                   ",".join(MODELS or []), str(reps), *files],
                  env=child_env(), timeout=600)
    line = r["json_line"]
    if r["rc"] != 0 or line is None:
        return {"error": f"growth child exited {r['rc']}: {r['output'][-600:]}"}
    data = json.loads(line[len("BENCH_JSON"):])
    out: dict = {"baseline_peak_rss": data["baseline_peak_rss"], "clips": {}}
    for secs, f in zip(lengths, files):
        runs = [x for x in data["runs"] if x["file"] == f]
        parts = {k: stats([x[k] for x in runs]) for k in runs[0] if k not in ("file", "seconds")}
        peak = data["peak_rss"][f]
        out["clips"][f"{secs:g}s"] = {
            "audio_seconds": runs[0]["seconds"], **parts,
            "ms_per_audio_second": parts["total"]["median"] * 1000 / runs[0]["seconds"],
            "peak_rss": peak, "peak_rss_above_baseline": (peak - data["baseline_peak_rss"])
            if peak and data["baseline_peak_rss"] else None}
        eprint(f"  growth {secs:g} s: {parts['total']['median']:.2f} s, peak "
               f"{(peak or 0) / 2**20:.0f} MiB")
    return out


def build_quick_bundle(out: Path, data: dict | None) -> Path:
    """A bundle to measure with when there is none: mlp+cnn fitted for 2 epochs (the size and
    speed of a model do not depend on how well it is trained)."""
    from genre_core.bundle import save_bundle
    from genre_core.config import GENRES, TrainConfig
    from genre_core.models import model_class

    config = FeatureConfig()
    labels = list(GENRES)
    if data and data.get("features"):
        gen = {t.id: t.genre for t in data["tracks"] if t.id in data["features"]}
        X = np.concatenate([data["features"][i] for i in sorted(gen)])
        y = np.concatenate([[labels.index(gen[i])] * len(data["features"][i])
                            for i in sorted(gen)])
    else:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((200, config.frames_per_segment, config.n_mfcc)).astype(
            np.float32)
        y = np.arange(200) % len(labels)
    models = {}
    for family in ("mlp", "cnn"):
        m = model_class(family)(labels, "corrected")
        m.fit(X, y, None, None, TrainConfig(epochs=2, seed=0))
        models[family] = m
    return save_bundle(out, models, labels, config, {"created": "bench quick bundle"})


# ---------------------------------------------------------------- report

def _get(results: dict, path: tuple):
    cur = results
    for p in path:
        if not isinstance(cur, dict) or p not in cur:
            return None
        cur = cur[p]
    return cur


def evaluate_targets(results: dict) -> list[dict]:
    out = []
    for name, path, op, limit, unit in TARGETS:
        v = _get(results, path)
        if not isinstance(v, dict) or "median" not in v:
            out.append({"target": name, "limit": f"{op} {limit:g} {unit}", "value": None,
                        "status": "not measured"})
            continue
        val = v["median"]
        met = val < limit if op == "<" else val >= limit
        out.append({"target": name, "limit": f"{op} {limit:g} {unit}", "value": val,
                    "status": "met" if met else "MISSED"})
    return out


def _fmt(v, unit: str) -> str:
    if v is None:
        return "-"
    if unit == "ms":
        return f"{v * 1000:.1f}"
    if unit == "MiB":
        return f"{v / 2**20:.0f}"
    if unit in ("x", "clips/s", "files/s", "s"):
        return f"{v:.2f}" if v < 100 else f"{v:.0f}"
    return f"{v:.3g}"


def table_rows(results: dict) -> list[tuple[str, str, dict | None, str]]:
    """(section, metric, stats, unit) rows in report order."""
    rows: list[tuple[str, str, dict | None, str]] = []
    lat = results.get("latency", {})
    for fmt in ("wav", "mp3"):
        d = lat.get(fmt)
        if not d:
            continue
        for part, s in d["fast"].items():
            rows.append(("1 latency", f"{fmt} fast {part}", s, "ms"))
        for part, s in d["naive"].items():
            rows.append(("1 latency", f"{fmt} naive {part}", s, "ms"))
        for part, s in d["speedup_parts"].items():
            rows.append(("1 latency", f"{fmt} naive/fast {part}", s, "x"))
    cold = results.get("cold", {})
    if "predict_process" in cold:
        rows.append(("2 cold", "predict process (wall)", cold["predict_process"], "s"))
        for k, v in cold.get("stages", {}).items():
            rows.append(("2 cold", f"  in-process {k}", v, "s"))
        if "import_only" in cold:
            rows.append(("2 cold", "python + imports only (process wall)", cold["import_only"],
                         "s"))
            for k, v in cold.get("import_parts", {}).items():
                rows.append(("2 cold", f"  import {k}", v, "s"))
    batch = results.get("batch", {})
    if "speedup" in batch:
        rows += [("2 batch", f"predict DIR, 1 process ({batch['files']} files)",
                  batch["one_process_files_per_s"], "files/s"),
                 ("2 batch", f"predict DIR, {batch['workers']} processes",
                  batch["pool_files_per_s"], "files/s"),
                 ("2 batch", "pool/one process", batch["speedup"], "x")]
    app = results.get("app", {})
    for key, label in (("server_start", "streamlit server healthy"),
                       ("first_render", "Home rendered (browser nav -> done)"),
                       ("process_to_home", "server launch -> Home rendered"),
                       ("upload_to_listen", "upload -> Listen shows clip"),
                       ("upload_to_predictions", "upload -> Compare shows predictions")):
        if isinstance(app.get(key), dict):
            rows.append(("2 app", label, app[key], "s"))
    ext = results.get("extraction", {})
    if "cold_clips_per_s" in ext:
        rows += [("3 extraction", f"cold ({ext['workers']} procs, {ext['clips']} clips)",
                  ext["cold_clips_per_s"], "clips/s"),
                 ("3 extraction", "cached", ext["cached_clips_per_s"], "clips/s"),
                 ("3 extraction", f"naive sequential ({ext['naive_clips']} clips)",
                  ext["naive_clips_per_s"], "clips/s"),
                 ("3 extraction", "cached/cold", ext["cached_vs_cold"], "x"),
                 ("3 extraction", "cold/naive", ext["cold_vs_naive"], "x")]
    tr = results.get("training", {})
    for fam, d in tr.items():
        if isinstance(d, dict) and "seconds_per_epoch" in d:
            rows.append(("4 training", f"{fam} s/epoch", d["seconds_per_epoch"], "s"))
            rows.append(("4 training", f"{fam} total ({tr['epochs']} ep)", d["total"], "s"))
    mem = results.get("memory", {})
    if isinstance(mem.get("predict_process_peak_rss"), dict):
        rows.append(("5 memory", "predict process peak RSS", mem["predict_process_peak_rss"],
                     "MiB"))
    if isinstance(mem.get("app_server_peak_rss"), dict):
        rows.append(("5 memory", "app server peak RSS (all pages)", mem["app_server_peak_rss"],
                     "MiB"))
    gr = results.get("growth", {})
    for name, d in gr.get("clips", {}).items():
        rows.append(("6 growth", f"{name} total", d["total"], "s"))
        one = {"min": d["ms_per_audio_second"] / 1000, "median": d["ms_per_audio_second"] / 1000,
               "max": d["ms_per_audio_second"] / 1000, "n": 1}
        rows.append(("6 growth", f"{name} per audio second", one, "ms"))
        if d.get("peak_rss_above_baseline") is not None:
            v = float(d["peak_rss_above_baseline"])
            rows.append(("6 growth", f"{name} peak RSS above warm baseline",
                         {"min": v, "median": v, "max": v, "n": 1}, "MiB"))
    return rows


def format_table(results: dict) -> str:
    rows = table_rows(results)
    lines = [f"{'section':<13} {'metric':<45} {'unit':>7} {'min':>9} {'median':>9} {'max':>9} "
             f"{'n':>3}", "-" * 101]
    for sec, metric, s, unit in rows:
        lines.append(f"{sec:<13} {metric:<45} {unit:>7} {_fmt(s['min'], unit):>9} "
                     f"{_fmt(s['median'], unit):>9} {_fmt(s['max'], unit):>9} {s['n']:>3}")
    for name, d in results.get("skipped", {}).items():
        lines.append(f"{name:<13} skipped: {d}")
    lines.append("")
    lines.append("Targets (on the median):")
    for t in results.get("targets", []):
        val = "-" if t["value"] is None else f"{t['value']:.3g}"
        lines.append(f"  [{t['status']:^12}] {t['target']:<40} {t['limit']:<10} measured {val}")
    return "\n".join(lines)


# ---------------------------------------------------------------- entry

def run(args) -> int:
    from genre_core.bundle import DEFAULT_BUNDLE
    from genre_core.dataset import default_data_root

    quick = bool(getattr(args, "quick", False))
    skip = {s.strip() for s in (getattr(args, "skip", "") or "").split(",") if s.strip()}
    unknown = skip - set(SECTIONS)
    if unknown:
        eprint(f"error: --skip: unknown section(s) {', '.join(sorted(unknown))}; known: "
               f"{', '.join(SECTIONS)}")
        return 2
    want = lambda s: s not in skip  # noqa: E731
    data_root = Path(getattr(args, "data", None) or default_data_root())
    if not (data_root / "Data" / "genres_original").is_dir() and not (
            data_root / "genres_original").is_dir() and not data_root.is_dir():
        data_root_ok = None
    else:
        data_root_ok = data_root
    R = dict(warm=5 if quick else 15, naive=2 if quick else 5, cold=1 if quick else 3,
             app=1, ext_cold=1 if quick else 2, ext_cached=2 if quick else 5,
             naive_clips=25 if quick else 50, epochs=1 if quick else 3,
             families=["mlp", "cnn"] if quick else ["mlp", "cnn", "lstm"],
             growth_reps=1 if quick else 3, batch=1 if quick else 2,
             batch_files=6 if quick else 12)
    results: dict = {"meta": {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "quick": quick,
        "python": platform.python_version(), "machine": platform.machine(),
        "cpus": os.cpu_count(), "load_average": os.getloadavg() if hasattr(os, "getloadavg")
        else None, "data": str(data_root_ok) if data_root_ok else None, "repetitions": R}}
    skipped: dict[str, str] = {s: "--skip" for s in skip}
    started = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="genre-bench-") as tmpdir:
        tmp = Path(tmpdir)
        eprint("preparing test clips…")
        mat = Material(data_root_ok, tmp)
        results["meta"]["clip"] = {"source": mat.source, "wav": "22050 Hz mono PCM16",
                                   "mp3": "44100 Hz stereo (resampled on decode)"}

        data = None
        if want("extraction") or want("training"):
            if data_root_ok is None:
                for s in ("extraction", "training"):
                    skipped.setdefault(s, f"no dataset at {data_root} (--data)")
            else:
                eprint("3 extraction…")
                try:
                    ext, data = bench_extraction(data_root_ok, R["ext_cold"], R["ext_cached"],
                                                 R["naive_clips"] if want("extraction") else 0)
                    if want("extraction"):
                        results["extraction"] = ext
                except Exception as e:  # noqa: BLE001 - report, keep the other sections
                    skipped["extraction"] = f"failed: {type(e).__name__}: {e}"

        bundle_path = Path(args.bundle) if getattr(args, "bundle", None) else DEFAULT_BUNDLE
        global MODELS
        MODELS = [m for m in (getattr(args, "models", "") or "").split(",") if m] or None
        if not (bundle_path / "bundle.json").exists():
            if getattr(args, "bundle", None):
                eprint(f"error: {bundle_path}: not a model bundle")
                return 2
            eprint(f"{bundle_path} missing: fitting a 2-epoch mlp+cnn bundle to measure with")
            bundle_path = build_quick_bundle(tmp / "bundle", data)
        results["meta"]["bundle"] = str(bundle_path)

        if want("training"):
            if data is None:
                skipped.setdefault("training", "needs the extraction section's features")
            else:
                eprint("4 training…")
                results["training"], _, _ = bench_training(data, R["families"], R["epochs"])

        if want("latency"):
            eprint("1 latency…")
            results["latency"] = bench_latency(bundle_path, mat, R["warm"], R["naive"])

        if want("growth"):
            eprint("6 growth…")
            results["growth"] = bench_growth(bundle_path, mat, [30.0, 180.0, 600.0],
                                             R["growth_reps"])
            if "error" in results["growth"]:
                skipped["growth"] = results["growth"]["error"][:300]

        if want("cold") or want("memory"):
            eprint("2 cold start…")
            results["cold"] = bench_cold(bundle_path, mat, R["cold"] if want("cold") else 1)
            if "error" in results["cold"]:
                skipped["cold"] = results["cold"]["error"][:300]

        if want("batch"):
            eprint("2 batch (predict DIR)…")
            results["batch"] = bench_batch(bundle_path, data_root_ok, mat, R["batch_files"],
                                           R["batch"])
            if "error" in results["batch"]:
                skipped["batch"] = results["batch"]["error"][:300]

        if want("app"):
            eprint("2 app (streamlit + chromium)…")
            try:
                results["app"] = bench_app(bundle_path, data_root_ok, mat, R["app"])
            except Exception as e:  # noqa: BLE001 - report, keep the other sections
                results["app"] = {"skipped": f"failed: {type(e).__name__}: {str(e)[:300]}"}
            if "skipped" in results["app"]:
                skipped["app"] = results["app"]["skipped"]
                eprint(f"  app skipped: {results['app']['skipped']}")

        if want("memory"):
            mem = {}
            if isinstance(_get(results, ("cold", "peak_rss")), dict):
                mem["predict_process_peak_rss"] = results["cold"]["peak_rss"]
            if isinstance(_get(results, ("app", "server_peak_rss")), dict):
                mem["app_server_peak_rss"] = results["app"]["server_peak_rss"]
            else:
                mem["app_server"] = "not measured (needs the app section)"
            results["memory"] = mem
        if not want("cold"):
            results.pop("cold", None)

    results["skipped"] = skipped
    results["targets"] = evaluate_targets(results)
    results["meta"]["bench_seconds"] = round(time.perf_counter() - started, 1)
    print(format_table(results))
    print(f"\n(bench took {results['meta']['bench_seconds']:.0f} s; figures in {args.out})")
    out = Path(args.out)
    if not out.is_absolute():
        out = Path.cwd() / out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, default=float))
    return 0
