"""Training on synthesized, separable audio; the bundle round trip; atomic writes;
prediction output; the command line's behaviour on bad files."""
import json
from pathlib import Path

import numpy as np
import pytest

from genre_core.config import FeatureConfig, TrainConfig
from genre_core.errors import GenreError
from genre_core.inference.bundle import load_bundle, save_bundle
from genre_core.inference.predict import Predictor
from genre_core.training.fitting import fit_model
from tests.helpers.audio import tone, wav_bytes
from tests.helpers.cli import run_cli

LABELS = ["low", "high"]


@pytest.fixture(scope="module")
def tone_bundle(tmp_path_factory):
    """MLP and CNN fitted on MFCCs of low vs high tones; must separate them."""
    from genre_core.features import mfcc_segments

    feats, genre_of = {}, {}
    for k in range(6):
        for label, freq in (("low", 150 + 10 * k), ("high", 3000 + 100 * k)):
            tid = f"{label}.{k}"
            feats[tid] = mfcc_segments(tone(6.0, freq=freq, seed=k))
            genre_of[tid] = label
    ids = sorted(feats)
    train = [i for i in ids if not i.endswith(".5")]
    valid = [i for i in ids if i.endswith(".5")]
    cfg = TrainConfig(epochs=8, learning_rate=1e-3, seed=1)
    models = {}
    for fam in ("mlp", "cnn"):
        models[fam], history, _ = fit_model(fam, "corrected", train, valid, feats, genre_of,
                                            LABELS, cfg)
        assert len(history["loss"]) >= 1
    folder = tmp_path_factory.mktemp("b") / "bundle"
    save_bundle(folder, models, LABELS, FeatureConfig(), {"evaluations": []})
    return folder


@pytest.mark.slow
def test_bundle_predicts_tones(tone_bundle, tmp_path):
    p = Predictor(tone_bundle)
    assert set(p.bundle.models) == {"mlp", "cnn"}
    low = p.predict(wav_bytes(tone(9.0, freq=170)), name="low.wav")
    high = p.predict(wav_bytes(tone(9.0, freq=3300)), name="high.wav")
    for name in ("mlp", "cnn"):
        assert low.models[name].genre == "low" and high.models[name].genre == "high"
        # the prediction says what the model heard and how it cut the clip
        assert low.models[name].feature == "mfcc" and not low.models[name].whole_clip
        assert low.models[name].segment_probabilities.shape == (3, 2)
        np.testing.assert_allclose(sum(low.models[name].probabilities.values()), 1, atol=1e-5)
    js = low.to_json()
    assert js["file"] == "low.wav" and len(js["models"]["cnn"]["segments"]) == 3
    assert js["models"]["cnn"]["segments"][1]["start"] == 3.0


@pytest.mark.slow
def test_reload_gives_identical_predictions(tone_bundle):
    y = tone(6.0, freq=900)
    a = Predictor(tone_bundle).predict(wav_bytes(y))
    b = Predictor(load_bundle(tone_bundle)).predict(wav_bytes(y))
    for name in a.models:
        np.testing.assert_allclose(a.models[name].segment_probabilities,
                                   b.models[name].segment_probabilities, atol=1e-6)


@pytest.mark.slow
def test_failed_write_keeps_the_old_bundle(tone_bundle, tmp_path):
    import shutil

    target = tmp_path / "bundle"
    shutil.copytree(tone_bundle, target)
    before = (target / "bundle.json").read_text()

    class Exploding:
        family, variant, feature, params = "mlp", "corrected", "mfcc", {}

        def save(self, folder):
            Path(folder).mkdir(parents=True)
            (Path(folder) / "partial").write_text("x")
            raise KeyboardInterrupt   # as if the user pressed Ctrl-C mid-write

    with pytest.raises(KeyboardInterrupt):
        save_bundle(target, {"mlp": Exploding()}, LABELS, FeatureConfig(), {})
    assert (target / "bundle.json").read_text() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".bundle.tmp")]
    load_bundle(target)


@pytest.mark.slow
def test_corrupt_bundle_is_a_clear_error(tone_bundle, tmp_path):
    import shutil

    with pytest.raises(GenreError, match="not found"):
        load_bundle(tmp_path / "none")
    broken = tmp_path / "broken"
    shutil.copytree(tone_bundle, broken)
    (broken / "cnn" / "model.keras").write_bytes(b"truncated")
    with pytest.raises(GenreError, match="cnn.*could not be loaded"):
        load_bundle(broken)
    (broken / "bundle.json").write_text("{not json")
    with pytest.raises(GenreError, match="corrupt"):
        load_bundle(broken)


@pytest.mark.slow
def test_cli_help_for_every_subcommand():
    for sub in ("train", "evaluate", "predict", "train-table", "evaluate-table", "bench"):
        r = run_cli(sub, "--help")
        assert r.returncode == 0 and "usage" in r.stdout


@pytest.mark.slow
def test_cli_predict_json_with_bad_files(tone_bundle, tmp_path):
    good = tmp_path / "good.wav"
    good.write_bytes(wav_bytes(tone(4.0, freq=3200)))
    text = tmp_path / "text.wav"
    text.write_text("hello")
    empty = tmp_path / "empty.flac"
    empty.write_bytes(b"")
    r = run_cli("predict", str(good), str(text), str(empty), str(tmp_path / "missing.mp3"),
                "--bundle", str(tone_bundle), "--json")
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    out = json.loads(r.stdout)
    assert [o["file"] for o in out] == [str(good), str(text), str(empty), str(tmp_path / "missing.mp3")]
    assert out[0]["models"]["mlp"]["genre"] == "high"
    assert set(out[0]["models"]["mlp"]["probabilities"]) == set(LABELS)
    assert "could not be decoded" in out[1]["error"] and "empty" in out[2]["error"]
    assert "not found" in out[3]["error"]
    r = run_cli("predict", str(good), str(text), "--bundle", str(tone_bundle))
    lines = r.stdout.strip().splitlines()
    assert r.returncode == 1 and len(lines) == 2 and "mlp high" in lines[0]
    assert lines[1].startswith(f"{text}: error:")


@pytest.mark.slow
def test_cli_missing_bundle_is_one_line(tmp_path):
    r = run_cli("predict", "x.wav", "--bundle", str(tmp_path / "nope"))
    assert r.returncode == 2 and "model bundle not found" in r.stderr and "Traceback" not in r.stderr


def test_shipped_bundle_holds_no_training_rows():
    """GTZAN data must not ship: the table model may not be an SVM (its support vectors are
    rows of the feature table); every other family stores weights or statistics only."""
    from genre_core.inference.bundle import DEFAULT_BUNDLE, read_bundle_meta

    if not (DEFAULT_BUNDLE / "bundle.json").exists():
        pytest.skip("no shipped bundle")
    meta, _ = read_bundle_meta(DEFAULT_BUNDLE)
    features = meta["models"].get("features")
    if features:
        assert "svm" not in features["params"].get("members", [])


@pytest.mark.slow
def test_cli_predict_folder_to_csv_with_a_process_pool(tone_bundle, tmp_path):
    """A folder is searched recursively; --csv writes one row per file in order (an error is
    a row too); two worker processes give exactly the rows of one process."""
    import csv

    songs = tmp_path / "songs"
    (songs / "b" / "deep").mkdir(parents=True)
    (songs / "a.wav").write_bytes(wav_bytes(tone(4.0, freq=170)))
    (songs / "b" / "deep" / "c.flac").write_bytes(wav_bytes(tone(4.0, freq=3300), fmt="FLAC"))
    (songs / "b" / "broken.wav").write_text("not audio")
    (songs / "b" / "notes.txt").write_text("ignored: not an audio extension")
    rows = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}.csv"
        r = run_cli("predict", str(songs), "--bundle", str(tone_bundle), "--csv", str(out),
                    "--jobs", jobs)
        assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
        with open(out, newline="") as fh:
            rows[jobs] = list(csv.DictReader(fh))
    assert rows["1"] == rows["2"]
    got = rows["2"]
    assert [Path(r["file"]).name for r in got] == ["a.wav", "broken.wav", "c.flac"]
    assert got[0]["mlp_genre"] == "low" and got[2]["cnn_genre"] == "high"
    assert 0.5 < float(got[0]["mlp_probability"]) <= 1 and got[0]["error"] == ""
    assert "could not be decoded" in got[1]["error"] and got[1]["mlp_genre"] == ""
    assert list(got[0]) == ["file", "verdict", "heard", "mlp_genre", "mlp_probability",
                            "cnn_genre", "cnn_probability", "out_of_domain", "error"]
    assert got[0]["verdict"] == "" and got[0]["heard"] == ""   # no ensemble; 4 s heard whole
    # pure tones: the answer comes with the steady-signal warning; no answer, no warning
    assert "barely changes over time" in got[0]["out_of_domain"]
    assert "barely changes over time" in got[2]["out_of_domain"]
    assert got[1]["out_of_domain"] == ""


@pytest.mark.slow
def test_cli_predict_empty_folder_is_one_line(tone_bundle, tmp_path):
    (tmp_path / "empty").mkdir()
    r = run_cli("predict", str(tmp_path / "empty"), "--bundle", str(tone_bundle))
    assert r.returncode == 2 and "holds no audio files" in r.stderr and "Traceback" not in r.stderr


def test_the_prediction_carries_the_musicnn_units_the_map_would_compute():
    """The out-of-domain check and the map reuse the prediction's musicnn units: the same
    numbers as running the MSD_musicnn network on the clip again."""
    from genre_core.features import extract
    from genre_core.inference.audio import load_audio
    from genre_core.inference.bundle import DEFAULT_BUNDLE
    from genre_core.inference.predict import Predictor

    if not (DEFAULT_BUNDLE / "bundle.json").exists():
        pytest.skip("no shipped bundle")
    p = Predictor(DEFAULT_BUNDLE)
    clip = load_audio(wav_bytes(tone(7.0, freq=220)), p.config, name="t.wav")
    units = p.predict_clip(clip).musicnn_units
    assert units is not None
    np.testing.assert_allclose(units, extract("musicnn", clip.samples, p.config), atol=1e-5)
    assert p.predict_clip(clip, models=p.fast_models()).musicnn_units is None


def _bundle_heard_as_is(tmp_path, write_audio):
    """The shipped bundle's metadata saved as before musicnn_level (its musicnn4 heard audio
    as it was) in tmp_path/old, and a two-tone dataset in tmp_path/data."""
    from genre_core.inference.bundle import DEFAULT_BUNDLE

    if not (DEFAULT_BUNDLE / "bundle.json").exists():
        pytest.skip("no shipped bundle")
    old = tmp_path / "old"
    old.mkdir()
    meta = json.loads((DEFAULT_BUNDLE / "bundle.json").read_text())
    meta["feature_config"].pop("musicnn_level", None)
    (old / "bundle.json").write_text(json.dumps(meta))
    (old / "report.json").write_text((DEFAULT_BUNDLE / "report.json").read_text())
    for genre, freq in (("low", 200), ("high", 3000)):
        (tmp_path / "data" / genre).mkdir(parents=True)
        write_audio(f"data/{genre}/{genre}.00000.wav", tone(4.0, freq=freq))
    return old


@pytest.mark.slow
def test_train_refuses_to_keep_a_musicnn_model_that_heard_another_level(tmp_path, write_audio):
    """A bundle saved before musicnn_level (its musicnn4 heard audio as it was) must not gain
    models of the new level beside that musicnn4: one line, before any training."""
    old = _bundle_heard_as_is(tmp_path, write_audio)
    before = (old / "bundle.json").read_bytes()
    r = run_cli("train", "--data", str(tmp_path / "data"), "--models", "mlp", "--epochs", "1",
                "--split", "none", "--out", str(old))
    assert r.returncode == 2, r.stderr
    assert "'musicnn4' model heard musicnn input 'as_is'" in r.stderr and "Traceback" not in r.stderr
    assert "epoch" not in r.stderr.lower() and (old / "bundle.json").read_bytes() == before


@pytest.mark.slow
def test_no_final_refuses_figures_of_a_musicnn_model_that_heard_another_level(tmp_path,
                                                                              write_audio):
    """train --no-final adds figures to a bundle's report: musicnn4 figures measured at the
    new level must not be filed beside a musicnn4 that heard audio as it was."""
    old = _bundle_heard_as_is(tmp_path, write_audio)
    before = (old / "report.json").read_bytes()
    r = run_cli("train", "--data", str(tmp_path / "data"), "--models", "musicnn4",
                "--split", "none", "--no-final", "--out", str(old))
    assert r.returncode == 2, r.stderr
    assert "hear musicnn input 'as_is' and this run's is 'rms'" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and "extracting" not in r.stderr
    assert (old / "report.json").read_bytes() == before


@pytest.mark.slow
def test_a_bundle_with_an_unknown_musicnn_level_is_one_line(tmp_path):
    from genre_core.inference.bundle import DEFAULT_BUNDLE

    if not (DEFAULT_BUNDLE / "bundle.json").exists():
        pytest.skip("no shipped bundle")
    bad = tmp_path / "bad"
    bad.mkdir()
    meta = json.loads((DEFAULT_BUNDLE / "bundle.json").read_text())
    meta["feature_config"]["musicnn_level"] = "loud"
    (bad / "bundle.json").write_text(json.dumps(meta))
    r = run_cli("predict", "--bundle", str(bad), str(tmp_path / "missing.wav"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "invalid feature_config (unknown musicnn_level 'loud'" in r.stderr


@pytest.mark.slow
def test_cli_predict_says_when_a_clip_is_unlike_music(gtzan, tmp_path):
    """The shipped bundle on a GTZAN clip and on a 440-Hz tone: the tone's answer carries the
    out-of-domain warning (line, --json); the music's does not."""
    music = gtzan / "Data" / "genres_original" / "jazz" / "jazz.00002.wav"
    steady = tmp_path / "tone.wav"
    steady.write_bytes(wav_bytes(tone(8.0, freq=440)))
    r = run_cli("predict", str(music), str(steady), "--jobs", "1", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    # the music gets a genre verdict about jazz ("jazz, N %" or "not sure: jazz or ..."),
    # never "not music it knows"
    assert "out_of_domain" not in out[0] and "jazz" in out[0]["verdict"]
    assert not out[0]["verdict"].startswith("not music")
    assert any("barely changes over time" in m for m in out[1]["out_of_domain"])
    assert out[1]["verdict"].startswith("not music it knows (best guess: ")
    r = run_cli("predict", str(music), str(steady), "--jobs", "1")
    lines = r.stdout.strip().splitlines()
    assert "out of domain" not in lines[0] and "Genre Studio says: " in lines[0]
    assert "jazz" in lines[0].split("|")[0] and "not music" not in lines[0]
    assert "Genre Studio says: not music it knows (best guess: " in lines[1]
    assert "[out of domain: Its sound barely changes" in lines[1]


@pytest.mark.slow
def test_cli_predict_with_an_unreadable_map_says_so_once_and_answers(tone_bundle, tmp_path):
    import shutil

    bundle = tmp_path / "bundle"
    shutil.copytree(tone_bundle, bundle)
    (bundle / "map").mkdir()
    (bundle / "map" / "map.json").write_text("{ not json")
    clips = []
    for k in range(2):
        clips.append(tmp_path / f"tone{k}.wav")
        clips[-1].write_bytes(wav_bytes(tone(4.0, freq=3200 + 100 * k)))
    r = run_cli("predict", *map(str, clips), "--bundle", str(bundle), "--jobs", "2")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    warned = [line for line in r.stderr.splitlines() if "music map is unreadable" in line]
    assert len(warned) == 1 and "out-of-domain warnings use the audio alone" in warned[0]
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 2 and all("mlp high" in line and "barely changes" in line
                                   for line in lines)


@pytest.mark.slow
def test_the_mel_cnn_trains_saves_and_predicts_from_its_own_input(tmp_path):
    """cnn_mel: the seed's CNN on log-mel segments. A bundle holding it computes that input
    itself, answers among the fast models, and its saliency is drawn over mel bands in Hz."""
    from genre_core.features import LOGMEL_BANDS, logmel_segments
    from genre_core.views.saliency import segment_saliency

    feats, genre_of = {}, {}
    for k in range(6):
        for label, freq in (("low", 150 + 10 * k), ("high", 3000 + 100 * k)):
            feats[f"{label}.{k}"] = logmel_segments(tone(6.0, freq=freq, seed=k))
            genre_of[f"{label}.{k}"] = label
    ids = sorted(feats)
    model, _, _ = fit_model("cnn_mel", "corrected", [i for i in ids if not i.endswith(".5")],
                            [i for i in ids if i.endswith(".5")], feats, genre_of, LABELS,
                            TrainConfig(epochs=8, learning_rate=1e-3, seed=1))
    folder = tmp_path / "bundle"
    save_bundle(folder, {"cnn_mel": model}, LABELS, FeatureConfig(), {"evaluations": []})
    p = Predictor(folder)
    assert p.bundle.feature_of("cnn_mel") == "logmel" and p.fast_models() == ["cnn_mel"]
    for label, freq in (("low", 170), ("high", 3300)):
        pred = p.predict(wav_bytes(tone(9.0, freq=freq)), name=f"{label}.wav")
        assert pred.models["cnn_mel"].genre == label
        assert pred.models["cnn_mel"].segment_probabilities.shape == (3, 2)
    net = p.bundle.models["cnn_mel"]
    s = segment_saliency(net, logmel_segments(tone(3.0, freq=3300))[0], 0.0, 22050, 512)
    assert s.feature == "mel" and s.input.shape == (130, LOGMEL_BANDS)
    assert s.genres[0] == "high" and len(s.bins) == LOGMEL_BANDS and s.bins[-1] > 8000
