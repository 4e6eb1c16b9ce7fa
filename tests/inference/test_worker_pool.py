"""Several processes at once: librosa's compiled kernels survive two first runs together, and
a worker that dies is reported, never waited for."""
import os
import subprocess
import sys
import time

import pytest

from tests.helpers.audio import tone, wav_bytes
from tests.helpers.paths import ROOT

# A first run: every librosa function Genre Studio's features use, on noise. (python -c imports
# from the working directory: the script moves to the checkout's root first.)
FIRST_RUN = """
import os
os.chdir({root!r})
from genre_core.features.librosa_kernels import librosa_ready
librosa_ready()
import numpy as np, librosa
y = np.random.default_rng(0).standard_normal(22050 * 3).astype(np.float32)
librosa.feature.chroma_stft(y=y, sr=22050)
librosa.feature.zero_crossing_rate(y)
librosa.feature.mfcc(y=y, sr=22050)
librosa.feature.tempo(onset_envelope=librosa.onset.onset_strength(y=y, sr=22050), sr=22050)
librosa.resample(y, orig_sr=22050, target_sr=16000)
print("ok")
"""


@pytest.mark.slow
def test_two_first_runs_at_once_leave_librosa_kernels_that_work(tmp_path):
    """numba's cache is not safe for processes compiling at once: with the lock made a no-op
    this test failed 2 runs of 3, and the same three runs from a shell loop 3 of 3 (the next
    run segfaulted); it is a race, so a pass without the lock proves nothing."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba"),
           "TMPDIR": str(tmp_path)}        # an empty cache, and a lock of this test's own
    script = FIRST_RUN.format(root=str(ROOT))
    first = []
    for _ in range(3):      # a start while another compiles: the case that broke the cache
        first.append(subprocess.Popen([sys.executable, "-c", script], env=env, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        time.sleep(3)
    outs = [p.communicate(timeout=600) for p in first]
    assert [p.returncode for p in first] == [0, 0, 0], outs
    assert list((tmp_path / "numba").rglob("*.nbi")), "the kernels were not cached"
    later = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                           text=True, timeout=600)
    assert later.returncode == 0 and later.stdout.strip() == "ok", later.stderr[-2000:]


# A worker's task replaced by one that dies as a segfault would end it, in a fresh interpreter
# (the pool forks there, so the workers run the replacement).
DYING_WORKERS = """
import os, signal, sys
os.chdir({root!r})
from genre_core.config import FeatureConfig
from genre_core.errors import GenreError
from genre_core.inference import batch_predict, dataset
from genre_core.inference.cache import FeatureCache

def die(*_args):
    os.kill(os.getpid(), signal.SIGKILL)

files = sys.argv[1:]
batch_predict._predict_one = die
batch_predict._init_worker = lambda *a: None
for row in batch_predict.predict_files(files, "no-bundle", None, FeatureConfig(), jobs=2):
    print("predict", row.file, row.error)
dataset._extract_one = die
tracks = [dataset.Track(f"rock.{{k:05d}}", "rock", f) for k, f in enumerate(files)]
try:
    dataset.extract_dataset(tracks, "mfcc", cache=FeatureCache(os.environ["CACHE"]), n_jobs=2,
                            progress=False)
except GenreError as e:
    print("extract", e)
"""


@pytest.mark.slow
def test_a_dead_worker_is_reported_instead_of_waited_for(tmp_path):
    """multiprocessing.Pool's imap waited forever for a worker that had segfaulted. Now each
    file of `predict` gets its row, and extraction stops with one line."""
    files = []
    for k in range(3):
        f = tmp_path / f"clip{k}.wav"
        f.write_bytes(wav_bytes(tone(4.0, freq=300 + 50 * k)))
        files.append(str(f))
    run = subprocess.run([sys.executable, "-c", DYING_WORKERS.format(root=str(ROOT)), *files],
                         env={**os.environ, "CACHE": str(tmp_path / "c")},
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.splitlines()
    assert [line.split()[1] for line in lines if line.startswith("predict")] == files
    assert all("not predicted: a worker process died" in line
               for line in lines if line.startswith("predict"))
    extract = [line for line in lines if line.startswith("extract ")]
    assert len(extract) == 1
    assert extract[0].startswith("extract extracting mfcc: a worker process died")
