"""genre_core.views.plots and studio.summaries from synthetic arrays: the right traces, shapes,
labels and readable fonts, without Streamlit or a model."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from genre_core.config import GENRES, FeatureConfig
from genre_core.report import Report
from genre_core.views import plots
from studio import summaries as sup

SR, HOP = 22050, 512
LABELS = list(GENRES)


def _readable(fig: go.Figure) -> None:
    assert fig.layout.font.size >= 14
    assert fig.layout.height <= 560


def test_waveform_envelope_and_segment_lines():
    y = np.sin(np.linspace(0, 2000, SR * 10)).astype(np.float32)
    fig = plots.waveform(y, SR, 3.0, max_points=500)
    assert [type(t) for t in fig.data] == [go.Scatter, go.Scatter]
    assert len(fig.data[0].x) <= 500
    assert np.all(np.asarray(fig.data[0].y) >= np.asarray(fig.data[1].y))
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert [s.x0 for s in lines] == [0, 3, 6, 9]   # 3 full segments in 10 s
    assert fig.layout.xaxis.title.text == "time (s)"
    _readable(fig)


def test_waveform_of_short_clip():
    fig = plots.waveform(np.zeros(100, np.float32), SR)
    assert len(fig.data) == 2


def test_mfcc_heatmap_axes_and_unit():
    m = np.random.default_rng(0).standard_normal((13, 1293))
    fig = plots.mfcc_heatmap(m, SR, HOP, max_columns=400)
    hm = fig.data[0]
    assert isinstance(hm, go.Heatmap)
    z = np.asarray(hm.z)
    assert z.shape[0] == 13 and z.shape[1] <= 400
    assert list(hm.y) == list(range(13))
    assert hm.x[-1] == pytest.approx(1292 * HOP / SR, abs=0.1)
    assert "MFCC" in hm.colorbar.title.text and "dB" in hm.colorbar.title.text
    assert fig.layout.xaxis.title.text == "time (s)"
    _readable(fig)


def test_mel_chroma_tempogram():
    rng = np.random.default_rng(1)
    mel = plots.mel_heatmap(rng.standard_normal((128, 300)) - 40, SR, HOP,
                            frequencies=np.linspace(0, 11025, 128))
    assert np.asarray(mel.data[0].z).shape == (128, 300)
    assert "dB" in mel.data[0].colorbar.title.text
    chroma = plots.chroma_heatmap(rng.random((12, 300)), SR, HOP)
    assert list(chroma.data[0].y)[:2] == ["C", "C♯"] and len(chroma.data[0].y) == 12
    tg = plots.tempogram_heatmap(rng.random((384, 300)), SR, HOP, tempo=120.0)
    bpm = np.asarray(tg.data[0].y, dtype=float)
    assert bpm.min() >= 30 and bpm.max() <= 300 and np.all(np.diff(bpm) > 0)
    assert "120" in tg.layout.title.text
    for fig in (mel, chroma, tg):
        _readable(fig)


def test_segment_block_is_exactly_the_model_input():
    cfg = FeatureConfig()
    block = np.random.default_rng(2).standard_normal((cfg.frames_per_segment, cfg.n_mfcc))
    fig = plots.segment_block_heatmap(block, SR, HOP, start=6.0)
    z = np.asarray(fig.data[0].z)
    assert z.shape == (cfg.n_mfcc, cfg.frames_per_segment) == (13, 130)
    np.testing.assert_allclose(z, block.T)
    assert "130" in fig.layout.title.text


def test_the_mel_cnns_input_block_is_drawn_with_its_bands_in_hz():
    from genre_core.features import logmel_segments, mel_band_hz

    block = logmel_segments(np.random.default_rng(4).normal(0, 0.1, 3 * SR).astype(np.float32))[0]
    hz = mel_band_hz(block.shape[1])
    fig = plots.segment_block_heatmap(block, SR, HOP, band_hz=hz)
    np.testing.assert_allclose(np.asarray(fig.data[0].z), block.T)
    assert "64 mel bands" in fig.layout.title.text
    assert fig.layout.yaxis.ticktext[0] == "0" and int(fig.layout.yaxis.ticktext[-1]) > 7000
    assert np.asarray(fig.data[0].customdata).shape == (64, 130, 2)


def test_segment_timeline_segments_by_genres():
    p = np.random.default_rng(3).dirichlet(np.ones(10), size=10)
    fig = plots.segment_timeline(p, [3.0 * i for i in range(10)], LABELS)
    hm = fig.data[0]
    assert np.asarray(hm.z).shape == (10, 10)
    assert list(hm.y) == LABELS and hm.x[0] == "0–3 s"
    assert hm.zmin == 0 and hm.zmax == 1
    whole = plots.segment_timeline(p[:1], [0.0], LABELS, segment_seconds=0)
    assert list(whole.data[0].x) == ["whole clip"]


def test_probability_bars_grouped_per_model():
    probs = {"mlp": dict(zip(LABELS, np.full(10, 0.1))), "cnn": {"rock": 0.9, "metal": 0.1},
             "features": {"jazz": 1.0}}
    fig = plots.probability_bars(probs, LABELS, display_names={"mlp": "MLP"})
    assert [t.name for t in fig.data] == ["MLP", "cnn", "features"]
    assert all(isinstance(t, go.Bar) and list(t.x) == LABELS for t in fig.data)
    assert fig.layout.barmode == "group"
    assert fig.data[1].y[LABELS.index("rock")] == pytest.approx(0.9)
    _readable(fig)


@pytest.mark.parametrize("normalise", [False, True])
def test_confusion_heatmap(normalise):
    cm = np.diag(np.full(10, 8))
    cm[0, 1] = 2
    fig = plots.confusion_heatmap(cm, LABELS, normalise=normalise)
    hm, cells = fig.data
    z = np.asarray(hm.z, dtype=float)
    assert z.shape == (10, 10)
    if normalise:
        np.testing.assert_allclose(z.sum(axis=1), 1.0)
        assert hm.text[0][1] == "20%"
    else:
        assert z[0, 1] == 2 and hm.text[0][1] == "2" and hm.text[0][2] == ""
    assert hm.textfont.size >= 14
    assert len(cells.x) == 100 and isinstance(cells, go.Scatter)   # click targets
    assert fig.layout.xaxis.title.text == "predicted genre"
    assert fig.layout.yaxis.title.text == "true genre"
    _readable(fig)


def test_confusion_with_empty_rows_normalises_safely():
    cm = np.zeros((10, 10), int)
    cm[2, 2] = 5
    z = np.asarray(plots.confusion_heatmap(cm, LABELS, True).data[0].z, dtype=float)
    assert np.isfinite(z).all() and z[2, 2] == 1.0


def test_learning_curves_two_panels():
    h = {"loss": [2.0, 1.5, 1.2], "accuracy": [0.2, 0.4, 0.5], "val_loss": [2.1, 1.8, 1.9],
         "val_accuracy": [0.2, 0.3, 0.35]}
    fig = plots.learning_curves({"fold 1": h, "fold 2": {"loss": [1.0], "accuracy": [0.5]}})
    names = [t.name for t in fig.data]
    assert names.count("fold 1 train") == 2 and names.count("fold 1 validation") == 2
    assert "fold 2 validation" not in names
    assert {t.xaxis for t in fig.data} == {"x", "x2"}
    assert [a.text for a in fig.layout.annotations] == ["loss", "accuracy"]


def test_per_genre_bars():
    pg = {g: {"precision": 0.5, "recall": 0.6, "f1-score": 0.55, "support": 10} for g in LABELS}
    fig = plots.per_genre_bars(pg)
    assert [t.name for t in fig.data] == ["precision", "recall", "F1"]
    assert list(fig.data[2].y) == [0.55] * 10


# ---------------------------------------------------------------- studio.summaries


def test_in_domain_line_names_the_nearest_track_by_artist_and_title():
    from genre_core.inference.domain import DomainCheck

    near = {"track": "MT0001376988", "genre": "rock", "artist": "Crucifucks",
            "title": "Lights Over Baghdad", "distance": 0.1}
    check = DomainCheck(0.0, 0.0, 0.0, novelty=0.36, threshold=1.0, nearest=[near])
    assert sup.in_domain_line(check) == (
        "In domain: this sounds like the music the models were trained on (distance 0.36x the "
        "limit). Nearest training track: MT0001376988: Crucifucks – Lights Over Baghdad (rock).")
    unnamed = DomainCheck(0.0, 0.0, 0.0, nearest=[{"track": "rock.00012", "genre": "rock"}])
    assert sup.in_domain_line(unnamed).endswith("Nearest training track: rock.00012 (rock).")
    assert sup.in_domain_line(DomainCheck(0.0, 0.0, 0.0)) == (
        "In domain: this sounds like the music the models were trained on.")

def _report():
    def ev(model, split, variant, acc, wrong):
        per_track = [{"track": f"rock.{i:05d}", "genre": "rock",
                      "predicted": "metal" if i in wrong else "rock", "confidence": 0.7,
                      "correct": i not in wrong, "probabilities": {"rock": 0.3, "metal": 0.7},
                      "segment_predictions": ["rock", "metal"]} for i in range(4)]
        return {"model": model, "split": split, "variant": variant, "track_accuracy": acc,
                "segment_accuracy": acc - 0.1, "macro_f1": acc - 0.05, "per_track": per_track,
                "split_description": f"{split} desc", "n_tracks": 4,
                "track_confusion": [[0]], "segment_confusion": [[0]],
                "learning_curves": [{"loss": [1, 0.5]}]}
    return {"evaluations": [ev("mlp", "kfold", "corrected", 0.8, {1}),
                            ev("mlp", "artist", "corrected", 0.6, {1, 2}),
                            ev("mlp", "artist", "plain", 0.5, {1, 2, 3}),
                            ev("cnn", "kfold", "corrected", 0.7, {3})],
            "models": {"mlp": {"history": {"loss": [1, 0.4]}}}}


def test_agreement_sentence():
    assert sup.agreement_sentence({"mlp": "rock", "cnn": "rock"}) == "Both models say rock."
    assert sup.agreement_sentence({"mlp": "rock", "cnn": "metal"}) == \
        "The models disagree: MLP says rock, CNN says metal."
    assert sup.agreement_sentence({"mlp": "rock", "cnn": "rock", "lstm": "rock"}) == \
        "All 3 models say rock."
    assert "2 of 3 say rock" in sup.agreement_sentence({"mlp": "rock", "cnn": "rock",
                                                        "features": "jazz"})
    assert sup.agreement_sentence({"musicnn": "pop"}) == "musicnn says pop."


def test_home_summary_prefers_artist_split():
    meta = {"models": {"mlp": {"family": "mlp", "variant": "corrected"},
                       "cnn": {"family": "cnn", "variant": "corrected"},
                       "lstm": {"family": "lstm", "variant": "corrected"}}}
    rows = {r["model"]: r for r in sup.home_summary(meta, _report())}
    assert rows["MLP"]["split"] == "artist" and rows["MLP"]["track accuracy"] == 0.6
    assert rows["CNN"]["split"] == "kfold"
    assert rows["LSTM"]["track accuracy"] is None


def test_evaluations_and_cells():
    rep = _report()
    assert len(sup.evaluations_for(rep, "mlp")) == 3
    assert len(sup.evaluations_for(rep, "mlp", "artist")) == 2
    assert sup.preferred_evaluation(rep, "mlp")["split"] == "artist"   # the glue's dict form
    ev = Report.from_dict(rep).preferred_evaluation("mlp")
    assert ev is not None and ev.split == "artist" and ev.variant == "corrected"
    assert [t["track"] for t in ev.tracks_in_cell("rock", "metal")] == \
        ["rock.00001", "rock.00002"]
    rows = sup.cell_rows(ev.tracks_in_cell("rock", "metal"), {"rock.00001": ("Queen", "Song")})
    assert rows[0]["artist"] == "Queen" and rows[1]["artist"] == "unknown"


def test_misclassified_table_and_filter():
    rep = _report()
    df = sup.misclassified_table(rep, {"rock.00001": ("Queen", "Song")}, split="kfold")
    assert list(df["track"]) == ["rock.00001", "rock.00003"]
    assert {"MLP prediction", "MLP confidence", "CNN prediction", "CNN confidence"} <= set(df)
    assert df.iloc[0]["artist"] == "Queen" and df.iloc[0]["true genre"] == "rock"
    assert df.iloc[0]["MLP prediction"] == "metal" and df.iloc[0]["CNN prediction"] == "rock"
    assert len(sup.filter_misclassified(df, ["rock"], ["metal"])) == 2
    assert len(sup.filter_misclassified(df, ["jazz"], None)) == 0
    # without a split: the best split every model has (kfold: cnn lacks artist)
    assert len(sup.misclassified_table(rep)) == 2


def test_accuracy_table_and_curves():
    rows = sup.accuracy_table(_report())
    artist = next(r for r in rows if r["model"] == "MLP" and r["split"] == "artist")
    assert artist["plain track acc."] == 0.5 and artist["corrected track acc."] == 0.6
    sets = sup.learning_curve_sets(_report(), "mlp")
    assert "final fit" in sets and "artist split · plain" in sets


def test_accuracy_table_keeps_apart_fold_counts_and_machines():
    """One split name, two fold counts, one figure from a lent machine: three rows, and the
    model card lists both descriptions of the artist split."""
    def ev(n_folds, acc, computed_on=None):
        return {"model": "cnn_mel", "split": "artist", "variant": "corrected",
                "n_folds": n_folds, "augmented": True, "track_accuracy": acc,
                "segment_accuracy": acc, "macro_f1": acc,
                "split_description": f"{n_folds} folds grouped by artist",
                **({"computed_on": computed_on} if computed_on else {})}
    report = {"evaluations": [ev(10, 0.5), ev(94, 0.45, "a lent GPU machine"), ev(10, 0.47,
                                                                               "a lent GPU machine")]}
    rows = sup.accuracy_table(report)
    assert len(rows) == 3
    assert {(r["folds"], r["computed on"], r["corrected track acc."]) for r in rows} == {
        ("10", "where the bundle was trained", 0.5), ("94", "a lent GPU machine", 0.45),
        ("10", "a lent GPU machine", 0.47)}
    assert sup.split_descriptions(report) == [
        {"split": "artist", "description": "10 folds grouped by artist"},
        {"split": "artist", "description": "94 folds grouped by artist"}]


class _T:
    def __init__(self, tid, genre):
        self.id, self.genre = tid, genre


class _DS:
    tracks = [_T("blues.00000", "blues"), _T("blues.00042", "blues"), _T("rock.00007", "rock")]
    skipped = ["x"]


def test_dataset_lookups():
    ds = _DS()
    assert sup.track_numbers(ds, "blues") == [0, 42]
    assert sup.find_track(ds, "blues", 42).id == "blues.00042"
    assert sup.find_track(ds, "rock", 1) is None
    s = sup.dataset_summary(ds)
    assert s == {"n_tracks": 3, "genres": {"blues": 2, "rock": 1}, "skipped": 1}
    assert sup.audio_mime("a.MP3") == "audio/mpeg" and sup.audio_mime("x") == "audio/wav"


def test_tag_bars_shows_the_strongest_tags_first():
    from genre_core.views.plots import tag_bars

    fig = tag_bars({"rock": 0.8, "jazz": 0.1, "guitar": 0.5, "pop": 0.05}, top=3)
    assert list(fig.data[0].y) == ["jazz", "guitar", "rock"]   # drawn bottom-up


def test_the_figures_shown_are_those_of_the_model_as_shipped():
    """A model shipped with augmentation is described by its augmented evaluation."""
    def ev(augmented, acc):
        return {"model": "musicnn4", "variant": "corrected", "split": "artist",
                "augmented": augmented, "track_accuracy": acc}
    rep = {"evaluations": [ev(False, 0.73), ev(True, 0.72)], "models": {"musicnn4": {}}}
    assert sup.preferred_evaluation(rep, "musicnn4")["track_accuracy"] == 0.73
    rep["models"]["musicnn4"]["augmented"] = True
    assert sup.preferred_evaluation(rep, "musicnn4")["track_accuracy"] == 0.72


def test_agreement_line_is_short_and_leaves_the_ensemble_out():
    assert sup.agreement_line({"mlp": "rock", "cnn": "rock", "lstm": "metal", "features": "rock",
                               "ensemble": "rock"}) == "3 of 4 models agree: rock"
    assert sup.agreement_line({"mlp": "rock", "cnn": "rock"}) == "All 2 models agree: rock"
    assert sup.agreement_line({"mlp": "rock", "cnn": "metal"}) == "No majority: rock 1, metal 1"
    assert sup.agreement_line({"mlp": "rock", "cnn": "rock", "lstm": "jazz", "x": "pop",
                               "y": "disco"}) == "2 of 5 models agree: rock"


def test_one_colour_per_model_whatever_the_order():
    from genre_core.views.plots import model_colour, probability_bars

    a = probability_bars({"ensemble": {"rock": 1.0}, "mlp": {"rock": 0.5}}, ["rock"])
    b = probability_bars({"mlp": {"rock": 0.5}, "musicnn4": {"rock": 0.2},
                          "ensemble": {"rock": 1.0}}, ["rock"])
    colours_a = {t.name: t.marker.color for t in a.data}
    colours_b = {t.name: t.marker.color for t in b.data}
    assert colours_a["ensemble"] == colours_b["ensemble"] and colours_a["mlp"] == colours_b["mlp"]
    named = ["ensemble", "mlp", "cnn", "cnn_mel", "lstm", "features", "musicnn4", "musicnn"]
    assert len({model_colour(m) for m in named}) == len(named)       # the ensemble's distinct
    assert model_colour("new_family") == model_colour("new_family")


def test_for_projector_enlarges_every_font_and_keeps_the_original():
    from genre_core.views import view_plots
    from genre_core.views.plots import probability_bars

    fig = probability_bars({"mlp": {"rock": 0.6, "metal": 0.4}}, ["rock", "metal"], title="t")
    big = view_plots.for_projector(fig)
    assert big.layout.font.size > fig.layout.font.size
    assert big.layout.xaxis.tickfont.size > fig.layout.xaxis.tickfont.size
    assert big.layout.title.font.size > fig.layout.title.font.size
    assert big.layout.height > fig.layout.height and fig.layout.font.size == 15
