"""Issue #10 (safe to put on the web) in the core, for bundles: a bundle runs no code and names
nothing outside itself (no pickles, trusted skops types only, Keras in safe mode, the shipped
bundle converted with the same predictions), an interrupted save keeps the old bundle,
extraction workers die with their parent, and the operator's settings. Reads and the cache:
test_safety_reads.py; several roots and one-line errors: test_safety_roots.py."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from genre_core.errors import GenreError
from tests.helpers.bundles import tiny_bundle
from tests.helpers.paths import ROOT

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
