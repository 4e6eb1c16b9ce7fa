"""Issue #10 (safe to put on the web) and #9 section 1 (several dataset roots), in the core:
multi-root indexing, bundles that run no code and name nothing outside themselves, streamed
bounded reads, a cache that survives whatever it finds on disk, interrupted saves, workers
that die with their parent, and one-line errors naming the file and the real problem."""
from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from genre_core.errors import AudioError, GenreError
from tests.helpers.audio import tone, wav_bytes
from tests.helpers.paths import ROOT

GENRES2 = ["blues", "rock"]


def make_root(root: Path, ids=("00000", "00001"), genres=GENRES2, fmt="wav", freq=300.0,
              seconds=4.0) -> Path:
    """<root>/genres_original/<genre>/<genre>.<id>.<fmt> of synthesized tones."""
    for gi, g in enumerate(genres):
        (root / "genres_original" / g).mkdir(parents=True, exist_ok=True)
        for k, i in enumerate(ids):
            sf.write(root / "genres_original" / g / f"{g}.{i}.{fmt}",
                     tone(seconds, freq=freq + 90 * gi + 7 * k), 22050,
                     format=fmt.upper())
    return root


def tiny_bundle(path: Path, families=("mlp",)) -> Path:
    from tests.helpers.bundles import build_tiny_bundle

    return build_tiny_bundle(path, families=families)


# ---------------------------------------------------------------- A: several roots

def test_index_both_shared_roots(gtzan):
    from genre_core.inference.dataset import index_dataset

    ds = index_dataset([gtzan, gtzan / "extra"])
    assert len(ds.tracks) == 204 and len(ds.genres) == 10
    suffixes = {Path(t.source).suffix for t in ds.tracks}
    assert suffixes == {".wav", ".flac"}
    assert ds.roots == [str(gtzan), str(gtzan / "extra")]
    assert len({t.id for t in ds.tracks}) == 204


def test_index_roots_of_mixed_kinds(tmp_path):
    """A folder of FLACs and a zip of WAVs together; labels from folder names."""
    from genre_core.inference.dataset import index_dataset

    a = make_root(tmp_path / "a", fmt="flac")
    b = make_root(tmp_path / "b_src", ids=("00002",), genres=["rock", "jazz"])
    archive = tmp_path / "b.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in b.rglob("*.wav"):
            zf.write(f, f.relative_to(b).as_posix())
    ds = index_dataset([a, archive])
    assert sorted(t.id for t in ds.tracks) == ["blues.00000", "blues.00001", "jazz.00002",
                                               "rock.00000", "rock.00001", "rock.00002"]
    assert ds.genres == ["blues", "jazz", "rock"]
    assert index_dataset(str(a)).roots == [str(a)]      # one path still works


def test_duplicate_ids_across_roots_name_both_files(tmp_path):
    from genre_core.inference.dataset import index_dataset

    a = make_root(tmp_path / "a")
    b = make_root(tmp_path / "b", ids=("00001", "00007"))
    with pytest.raises(GenreError) as e:
        index_dataset([a, b])
    msg = str(e.value)
    assert "duplicate track id" in msg and "\n" not in msg
    assert str(a / "genres_original" / "blues" / "blues.00001.wav") in msg
    assert str(b / "genres_original" / "blues" / "blues.00001.wav") in msg


def test_cli_data_is_repeatable_and_env_may_hold_several(tmp_path, monkeypatch):
    from genre_core.__main__ import build_parser, data_paths

    args = build_parser().parse_args(["train", "--data", "A", "--data", "B"])
    assert data_paths(args.data) == ["A", "B"]
    args = build_parser().parse_args(["evaluate", "--data", "A"])
    assert data_paths(args.data) == ["A"]
    monkeypatch.setenv("GENRE_DATA", f"X{os.pathsep}Y")
    assert data_paths(build_parser().parse_args(["evaluate"]).data) == ["X", "Y"]
    monkeypatch.delenv("GENRE_DATA")
    with pytest.raises(GenreError):
        data_paths(None)


@pytest.mark.slow
def test_cli_evaluate_on_two_roots(tmp_path, capsys):
    from genre_core.__main__ import main

    bundle = tiny_bundle(tmp_path / "bundle")
    a = make_root(tmp_path / "a")
    b = make_root(tmp_path / "b", ids=("00005",), fmt="flac")
    code = main(["evaluate", "--bundle", str(bundle), "--data", str(a), "--data", str(b),
                 "--json", "--cache", str(tmp_path / "cache"), "--jobs", "1"])
    out = capsys.readouterr()
    assert code == 0, out.err
    result = json.loads(out.out)
    assert result[0]["n_tracks"] == 6


# ---------------------------------------------------------------- B: bundles run no code

def _edit_meta(bundle: Path, fn) -> None:
    meta = json.loads((bundle / "bundle.json").read_text())
    fn(meta)
    (bundle / "bundle.json").write_text(json.dumps(meta))


@pytest.mark.parametrize("folder", ["../outside", "/etc", "mlp/../../outside", ""])
@pytest.mark.slow
def test_bundle_folders_must_stay_inside(tmp_path, folder):
    from genre_core.inference.bundle import load_bundle

    bundle = tiny_bundle(tmp_path / "b")
    shutil.copytree(bundle / "mlp", tmp_path / "outside")
    _edit_meta(bundle, lambda m: m["models"]["mlp"].update(folder=folder))
    with pytest.raises(GenreError, match="not inside the bundle|outside the bundle"):
        load_bundle(bundle)


def test_bundle_link_out_of_the_bundle_refused(tmp_path):
    from genre_core.inference.bundle import load_bundle

    bundle = tiny_bundle(tmp_path / "b")
    shutil.move(bundle / "mlp", tmp_path / "elsewhere")
    (bundle / "mlp").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(GenreError, match="outside the bundle"):
        load_bundle(bundle)


def test_bundle_only_from_allowed_roots(tmp_path):
    from genre_core.inference.bundle import load_bundle

    bundle = tiny_bundle(tmp_path / "served" / "b")
    assert load_bundle(bundle, allowed=[tmp_path / "served"]).model_names == ["mlp"]
    with pytest.raises(GenreError, match="not in a location the server allows"):
        load_bundle(bundle, allowed=[tmp_path / "other"])


class Planted:
    """Unpickling this writes a file: what a hostile bundle did as the server's user."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (Path.write_text, (Path(self.target), "pwned"))


@pytest.mark.slow
def test_pickled_models_are_never_loaded(tmp_path):
    import joblib

    from genre_core.inference.bundle import load_bundle

    bundle = tiny_bundle(tmp_path / "b")
    target = tmp_path / "written-by-pickle"
    (bundle / "evil").mkdir()
    joblib.dump(Planted(target), bundle / "evil" / "classifier.joblib")
    joblib.dump(Planted(target), bundle / "evil" / "model.joblib")
    for family in ("musicnn", "features"):
        _edit_meta(bundle, lambda m, family=family: m["models"].update(
            evil={"family": family, "variant": "corrected", "feature": "x", "folder": "evil"}))
        with pytest.raises(GenreError):
            load_bundle(bundle)
        assert not target.exists()


def test_skops_file_with_untrusted_type_refused(tmp_path):
    import skops.io as sio

    from genre_core.safe_io import load_estimator

    path = tmp_path / "x.skops"
    sio.dump({"a": Planted(tmp_path / "never")}, path)   # skops stores it as an object node
    with pytest.raises(GenreError, match="not trusted"):
        load_estimator(path)
    assert not (tmp_path / "never").exists()


@pytest.mark.parametrize("candidate", ["logreg", "svm", "gbm"])
def test_every_table_candidate_round_trips_through_skops(tmp_path, candidate):
    """Each sklearn candidate the table model may keep needs only TRUSTED types."""
    from genre_core.models.table import TableModel, _PadClasses, _Preprocess

    rng = np.random.default_rng(0)
    X = np.abs(rng.standard_normal((100, 57))) + 0.1
    k = np.arange(100) % 5
    m = TableModel([str(i) for i in range(5)])
    m.pre, m.classes_ = _Preprocess(X), np.arange(5)
    m.members = {candidate: _PadClasses(m._fit_sklearn(candidate, m.pre(X), k, 0), 5)}
    m.save(tmp_path)
    m2 = TableModel.load(tmp_path, m.labels, "corrected", {})
    np.testing.assert_allclose(m2.predict_proba(X), m.predict_proba(X), atol=1e-12)


def test_keras_models_load_in_safe_mode(tmp_path):
    """A Lambda layer (arbitrary Python in the file) is refused."""
    import keras

    from genre_core.inference.bundle import load_bundle

    bundle = tiny_bundle(tmp_path / "b")
    inp = keras.Input((130, 13))
    out = keras.layers.Lambda(lambda x: x[:, 0, :10] * 0.0)(inp)
    keras.Model(inp, out).save(bundle / "mlp" / "model.keras")
    with pytest.raises(GenreError, match="could not be loaded"):
        load_bundle(bundle)


def test_shipped_bundle_has_no_pickles_and_same_predictions():
    """The shipped features model, loaded from its safe formats, gives the probabilities it
    gave when it was saved (reference first written by tools/convert_bundle_safe.py from the
    pickled model; rewritten when the table model was retrained on the power/lda_vote recipe)."""
    from genre_core.inference.bundle import DEFAULT_BUNDLE, load_bundle

    if not (DEFAULT_BUNDLE / "bundle.json").exists():
        pytest.skip("no shipped bundle")
    assert not list(DEFAULT_BUNDLE.rglob("*.joblib")) and not list(DEFAULT_BUNDLE.rglob("*.pkl"))
    ref = np.load(ROOT / "tests" / "data" / "safe_format_reference.npz")
    names = sorted({k.split("__")[0] for k in ref.files})
    assert names, "reference holds no model"
    bundle = load_bundle(DEFAULT_BUNDLE, names)
    for name in names:
        got = bundle.models[name].predict_proba(ref[f"{name}__X"])
        np.testing.assert_allclose(got, ref[f"{name}__p"], rtol=0, atol=1e-6)


@pytest.mark.slow
def test_converter_keeps_predictions(tmp_path):
    """tools/convert_bundle_safe.py on a bundle in the old pickle format."""
    import joblib
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from genre_core.inference.bundle import load_bundle
    from genre_core.models.table import _PadClasses, _Preprocess
    from tools.convert_bundle_safe import convert

    rng = np.random.default_rng(1)
    labels = ["a", "b", "c"]
    bundle = tmp_path / "old"
    (bundle / "musicnn").mkdir(parents=True)
    (bundle / "features").mkdir()
    X, y = rng.standard_normal((60, 8)), np.arange(60) % 3
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    joblib.dump(pipe, bundle / "musicnn" / "classifier.joblib")
    T = np.abs(rng.standard_normal((60, 57))) + 0.1
    pre = _Preprocess(T)
    lr = LogisticRegression().fit(pre(T), y)
    joblib.dump({"pre": pre, "classes": np.arange(3), "sklearn": {"logreg": _PadClasses(lr, 3)},
                 "order": ["logreg"]}, bundle / "features" / "model.joblib")
    meta = {"format": 1, "labels": labels, "feature_config": {}, "models": {
        "musicnn": {"family": "musicnn", "variant": "corrected", "feature": "musicnn",
                    "folder": "musicnn", "params": {}},
        "features": {"family": "features", "variant": "corrected", "feature": "kaggle",
                     "folder": "features", "params": {}}}}
    (bundle / "bundle.json").write_text(json.dumps(meta))
    with pytest.raises(GenreError, match="convert"):
        load_bundle(bundle, ["features"])
    convert(bundle)
    assert not list(bundle.rglob("*.joblib"))
    b = load_bundle(bundle)
    np.testing.assert_allclose(b.models["musicnn"].predict_proba(X[:9]),
                               pipe.predict_proba(X[:9]), atol=1e-12)
    np.testing.assert_allclose(b.models["features"].predict_proba(T[:9]),
                               lr.predict_proba(pre(T[:9])), atol=1e-12)


# ---------------------------------------------------------------- D: bounded reads

def _peak_mib(fn) -> float:
    """Peak Python/numpy allocation while fn runs, after librosa's one-off first-call costs
    (JIT compilation, filter banks) were paid on a short clip."""
    from genre_core.inference.audio import load_audio
    from genre_core.inference.features import mfcc_segments

    mfcc_segments(load_audio(wav_bytes(tone(3.5)), name="warm-up.wav").samples)
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def test_dataset_track_read_honours_the_limit(tmp_path):
    """A 40-minute track (about 100 MiB) is decoded only for its first 30 s."""
    from genre_core.config import FeatureConfig
    from genre_core.inference.dataset import extract_dataset, index_dataset

    folder = tmp_path / "big" / "genres_original" / "rock"
    folder.mkdir(parents=True)
    rate, minutes = 22050, 40
    with sf.SoundFile(folder / "rock.00001.wav", "w", rate, 1, "PCM_16") as f:
        block = (0.3 * np.sin(np.arange(rate * 60) / 9)).astype(np.float32)
        for _ in range(minutes):
            f.write(block)
    size = (folder / "rock.00001.wav").stat().st_size
    assert size > 100e6
    ds = index_dataset(tmp_path / "big")
    from genre_core.inference.cache import FeatureCache

    out = {}

    def run():
        out["f"] = extract_dataset(ds.tracks, "mfcc", FeatureConfig(),
                                   FeatureCache(tmp_path / "c"), n_jobs=1, progress=False)

    peak = _peak_mib(run)
    feats, problems = out["f"]
    assert not problems and feats["rock.00001"].shape[0] == 10     # 30 s = 10 segments
    assert peak < 40, f"peak {peak:.0f} MiB for a {size / 2**20:.0f} MiB file"


def _zip_bomb(path: Path, member: str, zeros_mib: int) -> None:
    """A deflated member: a WAV header claiming zeros_mib of samples, then the zeros."""
    header = io.BytesIO()
    sf.write(header, np.zeros(10, np.int16), 22050, subtype="PCM_16", format="WAV")
    h = bytearray(header.getvalue()[:44])
    n = zeros_mib * 2**20
    h[4:8] = (36 + n).to_bytes(4, "little")
    h[40:44] = n.to_bytes(4, "little")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open(member, "w", force_zip64=True) as f:
            f.write(bytes(h))
            chunk = b"\0" * 2**20
            for _ in range(zeros_mib):
                f.write(chunk)


@pytest.mark.slow
def test_zip_member_streamed_in_bounded_memory(tmp_path):
    from genre_core.inference.cache import FeatureCache
    from genre_core.inference.dataset import extract_dataset, index_dataset

    archive = tmp_path / "bomb.zip"
    _zip_bomb(archive, "genres_original/rock/rock.00003.wav", 300)
    ds = index_dataset(archive)
    out = {}

    def run():
        out["f"] = extract_dataset(ds.tracks, "mfcc", cache=FeatureCache(tmp_path / "c"),
                                   n_jobs=1, progress=False)

    peak = _peak_mib(run)
    feats, problems = out["f"]
    assert not problems and feats["rock.00003"].shape[0] == 10
    assert peak < 40, f"peak {peak:.0f} MiB for a 300 MiB member"


def test_zip_member_over_the_cap_refused(tmp_path, monkeypatch):
    import genre_core.inference.dataset as dataset

    archive = tmp_path / "bomb.zip"
    _zip_bomb(archive, "genres_original/rock/rock.00003.wav", 20)
    monkeypatch.setattr(dataset, "MAX_FILE_BYTES", 8 * 2**20)
    ds = dataset.index_dataset(archive)
    feats, problems = dataset.extract_dataset(ds.tracks, "mfcc", n_jobs=1, progress=False,
                                              cache=dataset.FeatureCache(tmp_path / "c"))
    assert not feats and len(problems) == 1
    assert "rock.00003.wav" in problems[0] and "limit" in problems[0]


def test_zip_member_names_climbing_out_are_refused(tmp_path):
    from genre_core.inference.dataset import index_dataset

    archive = tmp_path / "x.zip"
    good = wav_bytes(tone(2.0))
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("genres_original/rock/rock.00001.wav", good)
        zf.writestr("genres_original/../x.00002.wav", good)
        zf.writestr("genres_original/rock/../../pop.00003.wav", good)
        zf.writestr("/abs/genres_original/jazz/jazz.00004.wav", good)
    ds = index_dataset(archive)
    assert [t.id for t in ds.tracks] == ["rock.00001"] and ds.genres == ["rock"]
    assert len(ds.skipped) == 3
    assert all("'..'" in s and "refused" in s for s in ds.skipped)


def test_upload_bytes_are_decoded_without_a_copy_of_the_whole_file():
    """Decoding a 10-minute upload holds the bytes once plus the first 30 s decoded."""
    from genre_core.inference.audio import load_audio

    data = wav_bytes(np.tile(tone(60.0), 10), subtype="PCM_16")     # 10 min, ~25 MiB
    peak = _peak_mib(lambda: load_audio(data, name="long.wav"))
    assert peak < 12, f"peak {peak:.1f} MiB decoding a {len(data) / 2**20:.0f} MiB upload"


# ---------------------------------------------------------------- E: the cache survives

def test_feature_cache_rebuilds_bad_entries_with_one_warning_each(tmp_path):
    from genre_core.config import FeatureConfig
    from genre_core.inference.cache import CacheWarning, FeatureCache
    from genre_core.inference.dataset import extract_dataset, index_dataset

    root = make_root(tmp_path / "d", ids=("00000", "00001", "00002"))
    ds = index_dataset(root)
    cache = FeatureCache(tmp_path / "cache")
    first, _ = extract_dataset(ds.tracks, "mfcc", FeatureConfig(), cache, n_jobs=1,
                               progress=False)
    entries = sorted((tmp_path / "cache").glob("*/*.npy"))
    assert len(entries) == 6
    entries[0].write_bytes(b"")                                      # power cut
    np.save(entries[1], np.zeros((2, 7, 13), np.float32))           # wrong shape
    entries[2].unlink()
    entries[2].mkdir()                                               # a folder
    (entries[2] / "x").write_text("x")
    entries[3].write_bytes(entries[3].read_bytes()[:100])           # truncated
    (tmp_path / "cache" / "file_hashes.json").write_text("[1, 2, 3]")  # a list
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again, problems = extract_dataset(ds.tracks, "mfcc", FeatureConfig(), cache,
                                          n_jobs=1, progress=False)
    ours = [w for w in caught if issubclass(w.category, CacheWarning)]
    assert len(ours) == 5, [str(w.message) for w in ours]
    assert not problems and set(again) == set(first)
    for tid in first:
        np.testing.assert_array_equal(again[tid], first[tid])
    with warnings.catch_warnings(record=True) as caught:            # repaired for good
        warnings.simplefilter("always")
        extract_dataset(ds.tracks, "mfcc", FeatureConfig(), cache, n_jobs=1, progress=False)
    assert not [w for w in caught if issubclass(w.category, CacheWarning)]


def test_hash_index_as_a_folder_or_garbage_does_not_crash(tmp_path):
    from genre_core.inference.cache import CacheWarning, FeatureCache
    from genre_core.inference.dataset import extract_dataset, index_dataset

    ds = index_dataset(make_root(tmp_path / "d", ids=("00000",)))
    cache = FeatureCache(tmp_path / "cache")
    (tmp_path / "cache" / "file_hashes.json").mkdir(parents=True)
    with pytest.warns(CacheWarning):
        feats, _ = extract_dataset(ds.tracks, "mfcc", cache=cache, n_jobs=1, progress=False)
    assert len(feats) == 2
    assert json.loads((tmp_path / "cache" / "file_hashes.json").read_text())
    (tmp_path / "cache" / "file_hashes.json").write_bytes(b"\xff\xfe{")
    with pytest.warns(CacheWarning):
        assert len(extract_dataset(ds.tracks, "mfcc", cache=cache, n_jobs=1,
                                   progress=False)[0]) == 2


def test_cache_writes_are_synced_before_the_rename(tmp_path, monkeypatch):
    from genre_core import atomic
    from genre_core.inference import cache as cache_mod

    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: (events.append("fsync"),
                                                           real_fsync(fd))[1])
    monkeypatch.setattr(atomic.os, "replace", lambda a, b: (events.append("rename"),
                                                               real_replace(a, b))[1])
    c = cache_mod.FeatureCache(tmp_path)
    c.put("ab" * 16, np.ones((1, 130, 13), np.float32))
    assert events[:2] == ["fsync", "rename"]
    assert c.get("ab" * 16).shape == (1, 130, 13)
    assert [p.name for p in (tmp_path / "ab").iterdir()] == ["ab" * 16 + ".npy"]


# ---------------------------------------------------------------- E: interrupted saves

# (python -c imports from the working directory: the script moves to the checkout's root first)
KILL_BETWEEN_RENAMES = """
import os, signal
os.chdir({root!r})
import genre_core.inference.bundle as b
from tests.helpers.bundles import build_tiny_bundle
real = os.replace
calls = []
def replace(a, c):
    calls.append(a)
    real(a, c)
    if ".old-" in str(c):      # the bundle's first rename (model saves rename files too)
        os.kill(os.getpid(), signal.SIGKILL)      # between the two renames
b.os.replace = replace
build_tiny_bundle({out!r}, families=("cnn",))
"""


@pytest.mark.slow
def test_kill_between_renames_keeps_the_old_bundle(tmp_path):
    from genre_core.inference.bundle import load_bundle, read_bundle_meta, save_bundle

    out = tmp_path / "bundle"
    tiny_bundle(out)                                               # the good one: mlp
    script = KILL_BETWEEN_RENAMES.format(root=str(ROOT), out=str(out))
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=300,
                       env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert r.returncode == -signal.SIGKILL, r.stderr.decode()[-2000:]
    assert not out.exists()
    # the good bundle aside, the new one complete in its temporary folder
    assert sorted(p.name.split("-")[0] for p in tmp_path.iterdir()) == [".bundle.old",
                                                                        ".bundle.tmp"]
    (tmp_path / f".bundle.tmp-{_dead_pid()}-abc").mkdir()   # as a kill during saving leaves
    meta, _ = read_bundle_meta(out)                                # recovered on next load
    assert list(meta["models"]) == ["mlp"]
    assert load_bundle(out).model_names == ["mlp"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]   # leftovers gone
    # a save with `keep` now keeps the recovered model
    save_bundle(out, {}, meta["labels"], load_bundle(out).feature_config, {},
                keep=meta["models"])
    assert list(read_bundle_meta(out)[0]["models"]) == ["mlp"]


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


@pytest.mark.slow
def test_live_runs_leftovers_are_not_touched(tmp_path):
    from genre_core.inference.bundle import recover_bundle

    out = tiny_bundle(tmp_path / "bundle")
    mine = tmp_path / f".bundle.tmp-{os.getpid()}-xyz"
    mine.mkdir()
    recover_bundle(out)
    assert mine.exists()


WORKER_SCRIPT = """
import os, time
os.chdir({root!r})
from genre_core.inference.worker_pool import make_pool
pool = make_pool(2)
futures = [pool.submit(time.sleep, 120) for _ in range(2)]
time.sleep(1.5)
print(" ".join(str(p) for p in pool._processes), flush=True)
time.sleep(120)
"""


@pytest.mark.slow
def test_extraction_workers_die_with_their_parent(tmp_path):
    import psutil

    proc = subprocess.Popen([sys.executable, "-c", WORKER_SCRIPT.format(root=str(ROOT))],
                            stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert len(pids) == 2 and all(psutil.pid_exists(p) for p in pids)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.time() + 20
    alive = pids
    while alive and time.time() < deadline:
        alive = [p for p in pids if psutil.pid_exists(p)
                 and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
        time.sleep(0.2)
    assert not alive, f"workers {alive} outlived their parent"


# ---------------------------------------------------------------- F: errors

@pytest.mark.slow
def test_permission_denied_is_one_line_and_other_results_kept(tmp_path, monkeypatch, capsys):
    import builtins

    import genre_core.inference.audio as audio
    from genre_core.__main__ import main

    bundle = tiny_bundle(tmp_path / "bundle")
    good = tmp_path / "good.wav"
    denied = tmp_path / "denied.wav"
    good.write_bytes(wav_bytes(tone(4.0)))
    denied.write_bytes(wav_bytes(tone(4.0)))
    if os.geteuid() != 0:
        denied.chmod(0)
    else:   # root reads anything: make the open fail as it does for a user
        def fake_open(path, *a, **k):
            if str(path) == str(denied):
                raise PermissionError(13, "Permission denied", str(path))
            return builtins.open(path, *a, **k)
        monkeypatch.setattr(audio, "open", fake_open, raising=False)
    for as_json in (True, False):
        # --jobs 1: the fake open lives in this process (pool workers are forkserver
        # children here, TensorFlow being loaded); the pool's errors: test_bundle_predict
        code = main(["predict", str(good), str(denied), "--bundle", str(bundle), "--jobs", "1"]
                    + (["--json"] if as_json else []))
        out = capsys.readouterr()
        assert code == 1 and "Traceback" not in out.err
        if as_json:
            results = json.loads(out.out)
            assert results[0]["models"]["mlp"]["genre"]
            assert results[1] == {"file": str(denied),
                                  "error": f"{denied}: permission denied (the file cannot be read)"}
        else:
            lines = out.out.strip().splitlines()
            assert len(lines) == 2 and lines[0].startswith(f"{good}: mlp ")
            assert lines[1] == f"{denied}: error: {denied}: permission denied (the file " \
                               "cannot be read)"


def test_folder_that_cannot_be_listed_is_reported_not_fatal(tmp_path, monkeypatch):
    from pathlib import Path as P

    from genre_core.inference.dataset import index_dataset

    root = make_root(tmp_path / "d")
    locked = root / "genres_original" / "rock"
    real = P.iterdir

    def iterdir(self):
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)
    monkeypatch.setattr(P, "iterdir", iterdir)
    ds = index_dataset(root)
    assert ds.genres == ["blues"]
    assert any(str(locked) in s and "Permission denied" in s for s in ds.skipped)


def test_fifo_is_refused_without_blocking(tmp_path):
    from genre_core.inference.audio import load_audio

    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    with pytest.raises(AudioError, match=r"pipe\.wav: is a named pipe \(FIFO\)"):
        load_audio(fifo)


def test_truncated_mp3_says_damaged_not_pipe(tmp_path):
    from genre_core.inference.audio import load_audio

    path = tmp_path / "cut.mp3"
    sf.write(path, tone(3.0), 22050, format="MP3")
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(AudioError) as e:
        load_audio(path)
    assert "pipe" not in str(e.value) and "ends early or is damaged" in str(e.value)
    ok = tmp_path / "ok.mp3"
    sf.write(ok, tone(3.0), 22050, format="MP3")
    assert load_audio(ok).duration > 2.5


def test_name_that_is_not_utf8_is_accepted(tmp_path, capsys):
    from genre_core.inference.audio import load_audio
    from genre_core.inference.dataset import index_dataset

    raw = os.fsencode(tmp_path) + b"/genres_original/rock/rock.00001 caf\xe9.wav"
    os.makedirs(os.path.dirname(raw))
    with open(raw, "wb") as f:
        f.write(wav_bytes(tone(3.0)))
    name = os.fsdecode(raw)
    clip = load_audio(name)
    assert clip.duration > 2.9 and "caf\\xe9" in clip.name
    ds = index_dataset(tmp_path)
    assert [t.id for t in ds.tracks] == [Path(name).stem]
    json.dumps([clip.name, ds.tracks[0].display()]).encode("utf-8")   # printable


@pytest.mark.parametrize("source", [b"not audio at all" * 20,
                                    io.BytesIO(b"not audio at all" * 20)])
def test_upload_errors_name_the_upload(source):
    from genre_core.inference.audio import load_audio

    with pytest.raises(AudioError) as e:
        load_audio(source, name="my song.mp3")
    assert str(e.value).startswith("my song.mp3: ") and "_io." not in str(e.value)
    with pytest.raises(AudioError) as e:
        load_audio(b"x" * 100)
    assert "BytesIO" not in str(e.value) and str(e.value).startswith("uploaded audio: ")


# ---------------------------------------------------------------- the operator's settings

def test_server_settings_from_environment_and_arguments(tmp_path):
    from genre_core.inference.bundle import DEFAULT_BUNDLE
    from genre_core.inference.deploy import server_settings

    tiny_bundle(tmp_path / "bundles" / "small")
    (tmp_path / "bundles" / "not-a-bundle").mkdir()
    env = {"GENRE_DATA": os.pathsep.join(["/srv/gtzan", "/srv/gtzan/extra", "/x/Data"]),
           "GENRE_BUNDLES": str(tmp_path / "bundles")}
    s = server_settings(env, [])
    assert s.data_roots == {"gtzan": "/srv/gtzan", "extra": "/srv/gtzan/extra",
                            "x": "/x/Data"}
    assert list(s.dataset_options()) == ["all 3 datasets", "gtzan", "extra", "x"]
    assert s.bundles == {"default": str(DEFAULT_BUNDLE),
                         "small": str(tmp_path / "bundles" / "small")}
    assert not s.local_mode and s.allowed_bundle_roots == list(s.bundles.values())
    s = server_settings({"GENRE_LOCAL_MODE": "1"}, ["--data", "/a", "--data", "/b/a"])
    assert s.local_mode and s.allowed_bundle_roots is None
    assert s.data_roots == {"a": "/a", "a (2)": "/b/a"}
    assert server_settings({}, ["--local"]).local_mode
