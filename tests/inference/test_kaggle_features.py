"""Tests for genre_core.features.kaggle and the table model (genre_core.models.table)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from genre_core.config import GENRES, TrainConfig
from genre_core.errors import GenreError
from genre_core.features.kaggle import (
    KAGGLE_COLUMNS,
    FeatureTable,
    extract_kaggle_features,
    read_feature_table,
)
from tests.helpers.paths import DATA_ROOT

SR = 22050


def _data_or_skip() -> Path:
    csv_path = DATA_ROOT / "Data" / "features_30_sec.csv"
    if not (DATA_ROOT / "Data" / "genres_original").is_dir() or not csv_path.is_file():
        msg = (f"GTZAN data not found at {DATA_ROOT} (set GENRE_DATA_ROOT to a folder with "
               f"Data/genres_original and Data/features_30_sec.csv)")
        if os.environ.get("GENRE_REQUIRE_DATA") == "1":
            pytest.fail(msg + "; GENRE_REQUIRE_DATA=1 forbids skipping")
        pytest.skip(msg)
    return DATA_ROOT


# ------------------------------------------------------------------ parity with the table

# Every column reproduces the Kaggle table to float32 rounding once the old librosa
# behaviour is matched (reflect-padded STFT; HPSS inverted without `length=`; beat-tracker
# onset envelope aggregated with np.median; see the kaggle_features docstring). Measured on
# all 96 shared clips with a CSV row: tempo and rms/zcr exact; every other column's worst
# relative error <= 7.4e-5, except harmony_mean (1.8e-3) and perceptr_mean (6.2e-5), means
# of order 1e-5..1e-7 over 660k float32 samples whose absolute error is <= 1e-9. So no column
# needs a tolerance looser than the brief's 1 % relative / 1e-6 absolute.
REL_TOL = 0.01
ABS_TOL = 1e-6
COLUMN_TOL: dict[str, float] = {}   # column -> relative tolerance override (none needed)

# Extraction costs ~1.8 s a clip on one core, so the test checks PARITY_CLIPS_PER_GENRE clips
# per genre (1 -> 10 clips, ~20 s); set GENRE_PARITY_ALL=1 to check all 96 clips with a CSV row.
PARITY_CLIPS_PER_GENRE = 1


def _parity_clips(root: Path, table: FeatureTable) -> list[tuple[Path, np.ndarray]]:
    ref = dict(zip(table.filenames, table.X))
    out = []
    for genre in GENRES:
        clips = [p for p in sorted((root / "Data" / "genres_original" / genre).glob("*.wav"))
                 if p.name in ref]
        if os.environ.get("GENRE_PARITY_ALL") != "1":
            clips = clips[:PARITY_CLIPS_PER_GENRE]
        out += [(p, ref[p.name]) for p in clips]
    return out


@pytest.mark.slow
def test_features_match_kaggle_table():
    import librosa

    root = _data_or_skip()
    table = read_feature_table(root / "Data" / "features_30_sec.csv")
    clips = _parity_clips(root, table)
    assert clips, "no shared clip has a row in the CSV"
    failures = []
    for path, expected in clips:
        y, sr = librosa.load(path, sr=SR, mono=True)
        got = extract_kaggle_features(y, sr)
        for col, g, e in zip(KAGGLE_COLUMNS, got, expected):
            tol = COLUMN_TOL.get(col, REL_TOL)
            if not (abs(g - e) <= tol * abs(e) or abs(g - e) <= ABS_TOL):
                failures.append(f"{path.name} {col}: got {g:.6g}, table {e:.6g}")
    assert not failures, "\n".join(failures)


# ------------------------------------------------------------------ synthetic audio

def _tone(freq=440.0, seconds=3.0, sr=SR):
    t = np.arange(int(seconds * sr)) / sr
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_column_names():
    assert len(KAGGLE_COLUMNS) == 57
    assert len(set(KAGGLE_COLUMNS)) == 57
    assert KAGGLE_COLUMNS[0] == "chroma_stft_mean" and KAGGLE_COLUMNS[-1] == "mfcc20_var"
    assert KAGGLE_COLUMNS[16] == "tempo"


@pytest.mark.parametrize("kind", ["sine", "noise", "silence"])
def test_extract_shape_and_finite(kind):
    rng = np.random.default_rng(0)
    y = {"sine": _tone(),
         "noise": (0.1 * rng.standard_normal(3 * SR)).astype(np.float32),
         "silence": np.zeros(3 * SR, np.float32)}[kind]
    x = extract_kaggle_features(y, SR)
    assert x.shape == (57,) and x.dtype == np.float64
    assert np.all(np.isfinite(x))


def test_extract_is_sensible_on_sine_and_noise():
    col = {c: i for i, c in enumerate(KAGGLE_COLUMNS)}
    sine = extract_kaggle_features(_tone(440.0), SR)
    noise = extract_kaggle_features(
        (0.1 * np.random.default_rng(1).standard_normal(3 * SR)).astype(np.float32), SR)
    # a 440 Hz tone's centroid sits near 440 Hz; white noise's near sr/4
    assert 380 < sine[col["spectral_centroid_mean"]] < 700
    assert 4000 < noise[col["spectral_centroid_mean"]] < 7000
    assert sine[col["zero_crossing_rate_mean"]] < noise[col["zero_crossing_rate_mean"]]
    # rms of a 0.5-amplitude sine is 0.5/sqrt(2)
    assert abs(sine[col["rms_mean"]] - 0.5 / np.sqrt(2)) < 0.02
    # a steady tone is harmonic, not percussive
    assert sine[col["harmony_var"]] > 10 * sine[col["perceptr_var"]]


def test_extract_rejects_bad_input():
    with pytest.raises(GenreError):
        extract_kaggle_features(np.zeros(100, np.float32), SR)
    with pytest.raises(GenreError):
        extract_kaggle_features(np.zeros((2, SR), np.float32), SR)
    bad = _tone()
    bad[10] = np.nan
    with pytest.raises(GenreError):
        extract_kaggle_features(bad, SR)


# ------------------------------------------------------------------ reading the table

def _write_table(path: Path, rows: list[list], extra_cols=()):
    header = ["filename", "length", *KAGGLE_COLUMNS, *extra_cols, "label"]
    lines = [",".join(header)] + [",".join(str(v) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")


def _row(name, label, value=1.0, extra=()):
    return [name, 661794, *([value] * 57), *extra, label]


def test_read_table_skips_bad_rows(tmp_path):
    rows = [_row("blues.00000.wav", "blues", 0.5),
            _row("rock.00001.wav", "rock", 2.0),
            _row("jazz.00002.wav", "jazz", 1.0),
            _row("pop.00003.wav", "pop", 1.0)]
    rows[1][2 + 5] = "nan"          # NaN feature
    rows[2][2 + 20] = "abc"         # non-numeric feature
    rows[3][2 + 30] = ""            # missing feature
    p = tmp_path / "features.csv"
    _write_table(p, rows)
    t = read_feature_table(p)
    assert t.X.shape == (1, 57) and t.labels == ["blues"] and t.filenames == ["blues.00000.wav"]
    assert np.all(t.X == 0.5)
    assert len(t.skipped) == 3
    assert "rock.00001.wav" in t.skipped[0] and KAGGLE_COLUMNS[5] in t.skipped[0]
    assert "jazz.00002.wav" in t.skipped[1] and "non-numeric" in t.skipped[1]
    assert "pop.00003.wav" in t.skipped[2] and "missing" in t.skipped[2]


def test_read_table_accepts_extra_columns_and_any_order(tmp_path):
    import csv

    p = tmp_path / "extra.csv"
    header = ["label", "filename", "notes", *reversed(KAGGLE_COLUMNS)]
    with open(p, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerow(["disco", "disco.00000.0.wav", "x", *range(57, 0, -1)])
    t = read_feature_table(p)
    assert t.labels == ["disco"] and t.filenames == ["disco.00000.0.wav"]
    np.testing.assert_array_equal(t.X[0], np.arange(1, 58))


def test_read_table_missing_columns_raises(tmp_path):
    p = tmp_path / "not_kaggle.csv"
    p.write_text("filename,chroma_stft_mean,label\na.wav,0.1,blues\n")
    with pytest.raises(GenreError) as exc:
        read_feature_table(p)
    msg = str(exc.value)
    assert "not_kaggle.csv" in msg and "rms_mean" in msg


def test_read_table_missing_file_raises(tmp_path):
    with pytest.raises(GenreError, match="nope.csv"):
        read_feature_table(tmp_path / "nope.csv")


def test_read_real_table():
    root = _data_or_skip()
    t = read_feature_table(root / "Data" / "features_30_sec.csv")
    assert t.X.shape == (710, 57) and not t.skipped
    assert set(t.labels) == set(GENRES)


# ------------------------------------------------------------------ table model

def _separable(n_per_class=12, classes=(0, 3, 5), seed=0):
    """Well-separated clusters, one per class; `seed` varies the samples, not the centres."""
    centres = np.random.default_rng(1234).normal(0, 1, (10, 57)) * 4
    rng = np.random.default_rng(seed)
    X, y = [], []
    var_cols = np.array([c.endswith("_var") for c in KAGGLE_COLUMNS])
    for c in classes:
        block = centres[c] + rng.normal(0, 0.3, (n_per_class, 57))
        block[:, var_cols] = np.exp(block[:, var_cols] / 4)  # variances are positive
        X.append(block)
        y += [c] * n_per_class
    return np.concatenate(X), np.array(y)


@pytest.mark.slow
def test_table_model_round_trip(tmp_path):
    from genre_core.models import model_class
    from genre_core.models.table import TableModel

    assert model_class("features") is TableModel
    labels = list(GENRES)
    X, y = _separable()
    Xv, yv = _separable(n_per_class=4, seed=1)
    # small MLP budget keeps the test fast; every candidate still runs
    m = TableModel(labels, "corrected", {"mlp_epochs": 30})
    hist = m.fit(X, y, Xv, yv, TrainConfig(seed=1))
    assert set(m.params["candidates"]) == {"logreg", "svm", "gbm", "mlp", "vote"}
    assert m.params["kept"] in m.params["candidates"]
    assert len(hist["loss"]) > 0
    p = m.predict_proba(Xv)
    assert p.shape == (len(Xv), len(labels))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-6)
    absent = [i for i in range(len(labels)) if i not in (0, 3, 5)]
    assert np.all(p[:, absent] == 0)
    assert all(v == 1.0 for v in m.params["candidates"].values())
    assert np.all(p.argmax(1) == yv)

    m.save(tmp_path / "bundle")
    m2 = TableModel.load(tmp_path / "bundle", labels, "corrected", m.params)
    np.testing.assert_array_equal(m2.predict_proba(Xv), p)


@pytest.mark.slow
def test_table_model_mlp_and_vote_save_load(tmp_path):
    """Keras member saves as mlp.keras; string labels and carved validation work."""
    from genre_core.models.table import TableModel

    labels = list(GENRES)
    X, y = _separable(n_per_class=10, classes=(1, 2))
    m = TableModel(labels, "corrected",
                   {"candidate_names": ["mlp", "logreg", "vote"], "mlp_epochs": 20})
    m.fit(X, np.array(labels)[y], None, None, TrainConfig(seed=3))
    assert m.params["validation"].startswith("carved")
    assert set(m.params["candidates"]) == {"mlp", "logreg", "vote"}
    # force the vote to exercise the Keras path in save/load
    m.members = {"logreg": m.candidates_["logreg"], "mlp": m.candidates_["mlp"]}
    m.pre = m._pre_candidates
    p = m.predict_proba(X)
    m.save(tmp_path / "b")
    assert (tmp_path / "b" / "mlp.keras").exists() and (tmp_path / "b" / "logreg.skops").exists()
    m2 = TableModel.load(tmp_path / "b", labels, "corrected", m.params)
    np.testing.assert_allclose(m2.predict_proba(X), p, rtol=0, atol=1e-6)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-6)


def test_table_model_rejects_wrong_width():
    from genre_core.models.table import TableModel

    m = TableModel(list(GENRES))
    with pytest.raises(GenreError):
        m.fit(np.zeros((10, 13)), np.zeros(10, int), None, None, TrainConfig())


@pytest.mark.parametrize("n_samples", [2048, 5000, 3 * SR])
def test_fast_hpss_is_librosa_hpss_exactly(n_samples):
    """The bottleneck moving-median HPSS gives librosa.decompose.hpss's result bit for bit,
    also when the spectrogram is shorter than the 31-frame kernel (reflection repeats)."""
    import librosa

    from genre_core.features.kaggle import hpss

    y = np.random.default_rng(n_samples).standard_normal(n_samples).astype(np.float32)
    D = librosa.stft(y, n_fft=2048, hop_length=512, pad_mode="reflect")
    for want, got in zip(librosa.decompose.hpss(D), hpss(D), strict=True):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_yeo_johnson_matches_scikit_learn():
    from sklearn.preprocessing import PowerTransformer

    from genre_core.models.table import yeo_johnson

    rng = np.random.default_rng(0)
    Z = np.column_stack([rng.standard_normal(200) * 3, rng.exponential(2, 200) - 1,
                         -rng.exponential(1, 200), rng.standard_normal(200)])
    pt = PowerTransformer(standardize=False).fit(Z)
    np.testing.assert_allclose(yeo_johnson(Z, pt.lambdas_), pt.transform(Z), atol=1e-10)
    assert np.allclose(yeo_johnson(Z[:, [2]], np.array([2.0]))[:, 0], -np.log1p(-Z[:, 2]))
    assert np.allclose(yeo_johnson(np.abs(Z[:, [0]]), np.array([0.0]))[:, 0],
                       np.log1p(np.abs(Z[:, 0])))


def test_table_model_lda_vote_on_power_features_round_trips(tmp_path):
    """The shipped recipe: no loudness columns, Yeo-Johnson, a vote of LDA and logreg; saved
    as arrays + skops and loaded back to the same probabilities."""
    from genre_core.models.table import TableModel

    labels = list(GENRES)
    X, y = _separable()
    Xv, yv = _separable(n_per_class=4, seed=1)
    m = TableModel(labels, "corrected", {"candidate_names": ["lda_vote"], "preprocess": "power"})
    m.fit(X, y, Xv, yv, TrainConfig(seed=1))
    assert m.params["kept"] == "lda_vote" and m.params["members"] == ["lda", "logreg"]
    assert m.pre.keep.sum() == 55 and len(m.pre.lambdas) == 55     # rms_mean, rms_var dropped
    p = m.predict_proba(Xv)
    assert np.all(p.argmax(1) == yv)
    X2 = Xv.copy()
    X2[:, [2, 3]] *= 100.0                                         # a louder master: rms only
    np.testing.assert_allclose(m.predict_proba(X2), p)
    m.save(tmp_path / "b")
    m2 = TableModel.load(tmp_path / "b", labels, "corrected", m.params)
    np.testing.assert_allclose(m2.predict_proba(Xv), p, atol=1e-12)


def test_power_preprocessing_survives_features_far_outside_training():
    """A clip whose features lie far beyond the training rows (a tone, a glitch) gets finite
    probabilities, not an overflow."""
    from genre_core.models.table import TableModel

    labels = list(GENRES)
    X, y = _separable()
    m = TableModel(labels, "corrected", {"candidate_names": ["lda_vote"], "preprocess": "power"})
    m.fit(X, y, None, None, TrainConfig(seed=1))
    wild = np.vstack([X[:1] * 1e6, -np.abs(X[:1]) * 1e6, np.full((1, 57), 1e300)])
    p = m.predict_proba(wild)
    assert np.all(np.isfinite(p)) and np.allclose(p.sum(axis=1), 1.0)


def test_a_long_clip_is_described_by_its_middle_30_seconds():
    """The table's rows describe 30-s clips: a longer clip (--max-seconds 0) gives the
    features of its middle 30 s; a clip up to 3 s longer than 30 s is described whole."""
    from genre_core.config import FeatureConfig
    from genre_core.features import kaggle_units
    from genre_core.features.kaggle import extract_kaggle_features

    sr = FeatureConfig().sample_rate
    rng = np.random.default_rng(3)
    t = np.arange(70 * sr) / sr
    y = (0.3 * np.sin(2 * np.pi * (200 + 5 * t) * t) * (1 + np.sin(t))     # changes with time
         + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
    middle = y[20 * sr:50 * sr]
    np.testing.assert_array_equal(kaggle_units(y)[0],
                                  extract_kaggle_features(middle, sr).astype(np.float32))
    assert not np.allclose(kaggle_units(y)[0], kaggle_units(y[:30 * sr])[0], rtol=1e-3)
    short = y[:32 * sr]
    np.testing.assert_array_equal(kaggle_units(short)[0],
                                  extract_kaggle_features(short, sr).astype(np.float32))
