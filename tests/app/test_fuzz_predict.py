"""Issue #24's fuzz suite: about 300 seeded inputs (fuzz_inputs: every length, rate, width,
channel count, DC offset, clipping, phase-inverted stereo, NaN/Inf, malformed containers,
huge declared lengths) through the Python API, the command line in one batch (two worker
processes) and the app's upload path (AppTest: Batch with every file at once; Listen, Compare
and What the model heard with one file of each kind). Every input gets an answer or one line
naming its file; one bad file never costs another its answer. A failure prints the seed and
every generated case."""
from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys

import pytest

from tests.app.apptest_helpers import texts
from tests.helpers.bundles import _bundle_is_usable, build_tiny_bundle
from tests.helpers.fuzz_inputs import SEED, describe, fuzz_cases
from tests.helpers.paths import ROOT, SHIPPED_BUNDLE

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
              pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore::FutureWarning")]

CASES = fuzz_cases()


@pytest.fixture(scope="module")
def fuzz_bundle(tmp_path_factory):
    if os.environ.get("GENRE_TEST_TINY_BUNDLE") != "1" and _bundle_is_usable(SHIPPED_BUNDLE):
        return SHIPPED_BUNDLE
    return build_tiny_bundle(tmp_path_factory.mktemp("bundle") / "tiny")


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    for _, name, data in CASES:
        (folder / name).write_bytes(data)
    return folder


def _one_line_naming(message: str, name: str) -> bool:
    return name in message and "\n" not in message and "Traceback" not in message


def _answer_ok(models: dict) -> bool:
    return all(math.isclose(sum(m["probabilities"].values()), 1.0, abs_tol=1e-3)
               and all(math.isfinite(p) for p in m["probabilities"].values())
               for m in models.values())


def test_case_count_and_kinds():
    kinds = {case.split()[0] for case, _, _ in CASES}
    assert len(CASES) >= 300, len(CASES)
    assert {"inverted", "nan", "inf", "dc", "clipped", "silence", "malformed", "WAV"} <= kinds


def test_fuzz_python_api(fuzz_bundle):
    from genre_core import Predictor
    from genre_core.errors import GenreError

    predictor = Predictor(fuzz_bundle)
    failures, answered = [], 0
    for case, name, data in CASES:
        try:
            prediction = predictor.predict(data, name=name)
        except GenreError as e:
            if not _one_line_naming(str(e), name):
                failures.append(f"{name} ({case}): message {e!r}")
            continue
        except Exception as e:  # noqa: BLE001 - what the test is looking for
            failures.append(f"{name} ({case}): {type(e).__name__}: {e}")
            continue
        answered += 1
        out = prediction.to_json()
        if not _answer_ok(out["models"]) or prediction.domain is None:
            failures.append(f"{name} ({case}): an answer that is not a distribution")
    assert not failures, "\n".join(failures) + "\n" + describe(CASES, SEED)
    assert answered > 100, answered          # the suite reaches the models, not only errors


def test_fuzz_command_line_one_batch(fuzz_bundle, fuzz_dir):
    names = [name for _, name, _ in CASES]
    out_csv = fuzz_dir.parent / "fuzz.csv"
    r = subprocess.run(
        [sys.executable, "-m", "genre_core", "predict", "--bundle", str(fuzz_bundle), "--json",
         "--jobs", "2", *[str(fuzz_dir / n) for n in names]],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"})
    context = f"exit {r.returncode}\nstderr tail: {r.stderr[-3000:]}\n" + describe(CASES, SEED)
    assert "Traceback" not in r.stderr, context
    assert r.returncode == 1, context                   # some files fail: status 1
    rows = json.loads(r.stdout)
    assert [os.path.basename(row["file"]) for row in rows] == names, context
    for row, (case, name, _) in zip(rows, CASES):
        if "error" in row:
            assert _one_line_naming(row["error"], name), f"{name} ({case}): {row['error']!r}"
        else:
            assert _answer_ok(row["models"]), f"{name} ({case})"
    # the same files as a CSV and as plain lines: one row / line each (the first 30 files)
    few = [str(fuzz_dir / n) for n in names[:30]]
    for flag in (["--csv", str(out_csv)], []):
        r = subprocess.run([sys.executable, "-m", "genre_core", "predict", "--bundle",
                            str(fuzz_bundle), "--jobs", "2", *flag, *few],
                           capture_output=True, text=True, cwd=ROOT, timeout=600,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert "Traceback" not in r.stderr and r.returncode == 1, r.stderr[-3000:]
        if flag:
            with open(out_csv, newline="", encoding="utf-8") as f:
                table = list(csv.DictReader(f))
            assert [row["file"] for row in table] == few
        else:
            lines = r.stdout.strip().splitlines()
            assert [line.split(": ", 1)[0] for line in lines] == few, r.stdout[-2000:]


def _app(monkeypatch, bundle, page: str):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("GENRE_STUDIO_DEBUG", "1")      # real exceptions, not a message
    monkeypatch.setenv("GENRE_BUNDLE", str(bundle))
    monkeypatch.delenv("GENRE_DATA", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.run()
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_fuzz_batch_page_every_file_at_once(monkeypatch, fuzz_bundle):
    at = _app(monkeypatch, fuzz_bundle, "batch")
    at.file_uploader(key="batch_files").set_value(
        [(name, data, "application/octet-stream") for _, name, data in CASES]).run()
    context = describe(CASES, SEED)
    assert not at.exception, [e.value for e in at.exception] + [context]
    table = at.dataframe[0].value
    assert list(table["file"]) == [name for _, name, _ in CASES], context
    for (case, name, _), (_, row) in zip(CASES, table.iterrows()):
        error = row.get("error")
        if isinstance(error, str) and error:
            assert _one_line_naming(error, name), f"{name} ({case}): {error!r}"
        else:
            assert isinstance(row.get("Genre Studio says", ""), str), f"{name} ({case})"
    assert f"of {len(CASES)} files analysed" in texts(at.caption)


def _one_of_each_kind() -> list[tuple[str, str, bytes]]:
    """One case per content (tone, noise, NaN, inverted stereo, ...), one with (nearly) no
    samples, one huge declared length, a malformed WAV and MP3: every kind the pages meet, at
    a cost CI can pay (the API, the CLI and Batch take all 310)."""
    seen, out = set(), []
    for case, name, data in CASES:
        words = case.split()
        kind = ("tiny" if len(words) > 1 and words[1] in ("0", "1", "2", "3") else
                case if case in ("malformed wav", "malformed mp3") else words[0])
        if kind not in seen:
            seen.add(kind)
            out.append((case, name, data))
    return out


@pytest.mark.parametrize("page", ["listen", "compare", "saliency"])
def test_fuzz_one_clip_pages(monkeypatch, fuzz_bundle, page):
    """Listen's uploader with one file of each kind, then the page itself (one session, as a
    visitor would: upload, look, upload the next): an answer or the file's one-line error,
    never an exception element."""
    cases = _one_of_each_kind()
    if page != "compare":   # these pages never show the full prediction: no background one
        from studio import state as app_state

        monkeypatch.setattr(app_state, "prefetch_prediction", lambda: None)
        monkeypatch.setattr(app_state, "_start_prefetch", lambda digest, clip: None)
    at = _app(monkeypatch, fuzz_bundle, "listen")
    for k, (case, name, data) in enumerate(cases):
        if page != "listen":
            at.switch_page("app_pages/listen.py").run()
        if page == "saliency":      # the answer's network (musicnn4) every 7th case, else the CNN
            at.session_state["sal_model"] = "musicnn4" if k % 7 == 0 else "cnn"
        at.file_uploader(key="listen_upload").set_value(
            (name, data, "application/octet-stream")).run()
        context = f"{name} ({case}) on {page}\n" + describe(cases, SEED)
        assert not at.exception, [e.value for e in at.exception] + [context]
        if page != "listen":
            at.switch_page(f"app_pages/{page}.py").run()
            assert not at.exception, [e.value for e in at.exception] + [context]
        shown = texts(at.error) + texts(at.header) + texts(at.subheader) + texts(at.info)
        assert shown, context
        if not at.error and page == "compare":      # the upload was read: its answer shows
            assert name in texts(at.caption) + texts(at.markdown), context


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_file_whose_analysis_raises_is_its_own_error_row(monkeypatch, fuzz_bundle, tmp_path,
                                                           jobs):
    """A bug that strikes one file (any exception, not a GenreError) becomes that file's row;
    the files before and after it keep their answers, in one process and in the pool."""
    import soundfile as sf

    from genre_core.config import FeatureConfig
    from genre_core.inference import predict as predict_module
    from genre_core.inference.batch_predict import predict_files
    from tests.helpers.audio import tone

    files = []
    for k in range(3):
        path = tmp_path / f"clip{k}.wav"
        sf.write(path, tone(4.0, freq=300 + 200 * k, seed=k), 22050)
        files.append(str(path))
    real = predict_module.Predictor.predict_clip

    def flaky(self, clip, *args, **kwargs):
        if clip.name.endswith("clip1.wav"):
            raise ValueError("operands could not be broadcast together")
        return real(self, clip, *args, **kwargs)

    monkeypatch.setattr(predict_module.Predictor, "predict_clip", flaky)
    if jobs > 1:    # forked workers inherit the patch (the pool forks only before TensorFlow)
        import multiprocessing as mp

        from genre_core.inference import batch_predict, worker_pool

        fork = mp.get_context("fork")
        monkeypatch.setattr(worker_pool, "pool_context", lambda: fork)
        monkeypatch.setattr(batch_predict, "pool_context", lambda: fork)
    rows = list(predict_files(files, fuzz_bundle, ["mlp"], FeatureConfig(), jobs=jobs))
    assert [r.file for r in rows] == files
    assert rows[0].error is None and rows[2].error is None
    assert "internal error (ValueError: operands could not be broadcast" in rows[1].error
