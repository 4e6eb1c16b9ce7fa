"""Issue #23: two views (GTZAN by unseen artists, real recordings by unseen artists) and a
verdict whose "not sure" threshold is fitted per view and stored in the ensemble file."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tests.helpers.paths import require_data


def test_artist_key_folds_spellings():
    from genre_core.inference.dataset import artist_key

    assert artist_key(" 2Pac ") == artist_key("2pac") == "2pac"
    assert artist_key("Peter  Tosh") == artist_key("peter tosh")


def test_manifest_artists_join_the_gtzan_index(tmp_path):
    from genre_core.inference.dataset import load_artist_index

    (tmp_path / "MANIFEST.tsv").write_text(
        "file\tgtzan_genre\tartist\ttitle\nreggae/MT01.mp3\treggae\tPeter Tosh\tLegalize It\n"
        "rock/MT02.mp3\trock\t\tunknown artist\n", encoding="utf-8")
    index = tmp_path / "GTZANindex.txt"
    index.write_text("reggae.00001.wav ::: Peter Tosh ::: Stepping Razor\n", encoding="utf-8")
    artists = load_artist_index(index, [str(tmp_path)])
    assert artists == {"reggae.00001": "peter tosh", "MT01": "peter tosh"}


def test_track_views():
    from genre_core.inference.track_views import track_view

    assert track_view("rock.00042", "/data/gtzan/extra") == "GTZAN"
    assert track_view("MT0011391187", "/x/shared/realworld") == "realworld"


def test_view_metrics_per_view():
    from genre_core.training.evaluation import view_metrics

    rows = [{"track": "rock.00001", "genre": "rock", "predicted": "rock"},
            {"track": "rock.00002", "genre": "rock", "predicted": "metal"},
            {"track": "jazz.00001", "genre": "jazz", "predicted": "jazz"},
            {"track": "MT1", "genre": "rock", "predicted": "rock"},
            {"track": "MT2", "genre": "jazz", "predicted": "rock"}]
    views = {"rock.00001": "GTZAN", "rock.00002": "GTZAN", "jazz.00001": "GTZAN",
             "MT1": "realworld", "MT2": "realworld"}
    out = view_metrics(rows, views)
    assert out["GTZAN"]["n_tracks"] == 3 and out["GTZAN"]["track_accuracy"] == pytest.approx(2 / 3)
    assert out["GTZAN"]["balanced_accuracy"] == pytest.approx((0.5 + 1.0) / 2)
    assert out["realworld"]["track_accuracy"] == 0.5
    assert out["realworld"]["balanced_accuracy"] == pytest.approx(0.5)


def _overconfident(n, accuracy, rng, labels=5):
    """Probabilities whose top is ~0.8 whatever, right `accuracy` of the time, with the
    right answers a little more confident than the wrong ones."""
    y = rng.integers(0, labels, n)
    right = rng.random(n) < accuracy
    top = np.where(right, y, (y + 1) % labels)
    conf = np.where(right, rng.uniform(0.6, 0.99, n), rng.uniform(0.4, 0.8, n))
    p = np.full((n, labels), 0.0)
    p[np.arange(n), top] = conf
    second = (top + 1) % labels
    p[np.arange(n), second] = 1 - conf
    return p, y


def test_threshold_meets_the_target_in_every_view():
    from genre_core.inference.ensemble import fit_unsure_threshold, verdict_figures

    rng = np.random.default_rng(0)
    easy, y_easy = _overconfident(400, 0.95, rng)
    hard, y_hard = _overconfident(400, 0.65, rng)
    alone = fit_unsure_threshold(easy, y_easy)
    probs, y = np.vstack([easy, hard]), np.concatenate([y_easy, y_hard])
    views = np.array(["GTZAN"] * 400 + ["realworld"] * 400, dtype=object)
    both = fit_unsure_threshold(probs, y, views, target=0.9)
    assert both > alone                      # the hard view asks for a stricter rule
    for v, (p, yy) in {"GTZAN": (easy, y_easy), "realworld": (hard, y_hard)}.items():
        fig = verdict_figures(p, yy, both)
        assert fig["selective_accuracy"] >= 0.9, (v, fig)
        assert 0 < fig["coverage"] < 1


def test_the_verdict_rule_comes_from_the_ensemble_file(tmp_path):
    from genre_core.inference.ensemble import Ensemble
    from genre_core.inference.predict import ModelPrediction

    ens = Ensemble(["metal", "rock"], ["a"], [1.0], 1.0, unsure_below=0.8)
    ens.save(tmp_path)
    assert json.loads((tmp_path / "ensemble.json").read_text())["unsure_below"] == 0.8
    back = Ensemble.load(tmp_path)
    probs = {"metal": 0.25, "rock": 0.75}
    assert back.verdict(probs).startswith("not sure: rock or metal")
    mp = ModelPrediction("rock", probs, np.array([[0.25, 0.75]]), [0.0], back.unsure_below)
    assert mp.verdict().startswith("not sure")
    ens.unsure_below = 0.7
    ens.save(tmp_path)
    assert Ensemble.load(tmp_path).verdict(probs) == "rock, 75%"


@pytest.mark.slow
def test_artist_folds_never_share_an_artist_across_the_two_domains():
    """GTZAN and the real recordings share artists (12 over all of GTZAN's index; among the
    clips here De La Soul, John Lee Hooker, Mariah Carey and Travis Tritt): their tracks in
    either domain are one group, never on both sides of a fold."""
    from genre_core.inference.dataset import dataset_views, index_dataset, load_artist_index
    from genre_core.training.splits import artist_groups, make_split

    gtzan = require_data()
    real = gtzan.parent / "realworld"
    if not (real / "MANIFEST.tsv").is_file():
        pytest.skip(f"{real}: the real recordings are not beside the project")
    ds = index_dataset([str(gtzan), str(gtzan / "extra"), str(real)])
    views = dataset_views(ds)
    assert {"GTZAN", "realworld"} == set(views.values())
    gtzan_only = artist_groups([t for t in ds.tracks if views[t.id] == "GTZAN"],
                               load_artist_index(None))
    group = artist_groups(ds.tracks, load_artist_index(None, ds.roots))
    assert not any(g.startswith("(unknown") for t, g in group.items() if views[t] == "realworld")
    assert {group[t] for t in gtzan_only} == set(gtzan_only.values())   # the manifests blank none
    shared = {g for g in group.values()
              if {views[t] for t in group if group[t] == g} == {"GTZAN", "realworld"}}
    assert len(shared) >= 3, shared
    for folds in (0, 10):
        split = make_split("artist", ds.tracks, artist_folds=folds, roots=ds.roots)
        for fold in split.folds:
            train = {group[t] for t in list(fold.train) + list(fold.valid)}
            test = {group[t] for t in fold.test}
            assert not train & test, (folds, train & test)


def test_a_manifest_without_artists_keeps_the_index(tmp_path):
    """GTZAN's extra clips come with a MANIFEST.tsv that names no artist: it must not blank
    the artists Sturm's index gives them (every such track would become 'unknown')."""
    from genre_core.inference.dataset import load_artist_index

    (tmp_path / "MANIFEST.tsv").write_text("file\tgenre\nblues.00042.flac\tblues\n",
                                           encoding="utf-8")
    index = tmp_path / "GTZANindex.txt"
    index.write_text("blues.00042.wav ::: Albert Collins ::: x\n", encoding="utf-8")
    assert load_artist_index(index, [str(tmp_path)]) == {"blues.00042": "albert collins"}


def test_out_of_fold_fills_uncovered_tracks_from_held_out_predictions():
    """A member cross-validated on GTZAN only takes its predictions for tracks (and artists)
    it never heard, kept by `evaluate --into-report`; its fold predictions win where both exist."""
    from genre_core.training.ensemble import out_of_fold

    labels = ["metal", "rock"]

    def ev(split, rows):
        return {"model": "features", "variant": "corrected", "split": split, "augmented": False,
                "per_track": [{"track": t, "probabilities": {"metal": p, "rock": 1 - p}}
                              for t, p in rows]}

    report = {"models": {"features": {"augmented": False}},
              "evaluations": [ev("artist", [("rock.00001", 0.2)]),
                              ev("held-out", [("MT1", 0.7), ("rock.00001", 0.9)])]}
    meta = {"labels": labels, "models": {"features": {"variant": "corrected"}}}
    oof = out_of_fold(report, meta)["features"]
    assert set(oof) == {"rock.00001", "MT1"}
    assert oof["rock.00001"][0] == pytest.approx(0.2) and oof["MT1"][0] == pytest.approx(0.7)
    report["evaluations"] = report["evaluations"][1:]     # no fold figures: not a member
    assert "features" not in out_of_fold(report, meta)


@pytest.mark.slow
def test_evaluate_into_report_keeps_only_unheard_tracks_and_artists(tmp_path):
    """`evaluate --into-report` on a root of 'real recordings' with a MANIFEST.tsv: Genre
    Studio's answer and every model get per-view figures, and the report keeps the models'
    predictions as split 'held-out' only for tracks whose artist no model heard (an artist
    of GTZAN's index counts as heard)."""
    import shutil
    import subprocess
    import sys

    import soundfile as sf

    from genre_core.inference.dataset import default_data_root
    from tests.helpers.audio import tone
    from tests.helpers.paths import ROOT

    if not (default_data_root() / "metadata" / "GTZANindex.txt").is_file():
        pytest.skip("GTZAN's artist index is not beside the project")
    bundle = tmp_path / "bundle"
    shutil.copytree(ROOT / "assets" / "models" / "default", bundle)
    root = tmp_path / "mine"
    rows = ["file\tgtzan_genre\tartist\ttitle"]
    for k, (genre, artist, freq) in enumerate([("reggae", "Bob Marley", 200),
                                               ("rock", "Nobody Heard Of", 900),
                                               ("rock", "Nobody Heard Of", 1200),
                                               ("jazz", "Another Unknown", 400)]):
        (root / genre).mkdir(parents=True, exist_ok=True)
        sf.write(root / genre / f"MT{k}.wav", tone(4.0, freq=freq, seed=k), 22050)
        rows.append(f"{genre}/MT{k}.wav\t{genre}\t{artist}\tsong {k}")
    (root / "MANIFEST.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "genre_core", "evaluate", "--bundle", str(bundle),
                        "--data", str(root), "--into-report", "--json"],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    figures = json.loads(r.stdout)
    assert figures[0]["model"] == "ensemble" and "mine" in figures[0]["verdict"]
    assert all(ev["views"]["mine"]["n_tracks"] == 4 for ev in figures)
    report = json.loads((bundle / "report.json").read_text())
    held = [e for e in report["evaluations"] if e["split"] == "held-out"]
    assert {e["model"] for e in held} == set(json.loads((bundle / "bundle.json").read_text())
                                             ["models"])
    for e in held:
        assert {t["track"] for t in e["per_track"]} == {"MT1", "MT2", "MT3"}   # not Marley's
    assert report["data"]["views"]["MT1"] == "mine"


def test_the_nested_evaluation_keeps_a_reliability_diagram_per_view():
    """The pooled diagram is mostly GTZAN; the model card draws one line per view, so an
    overconfident view shows below the diagonal on its own."""
    from genre_core.training.ensemble import cross_validate_ensemble
    from genre_core.views.plots import reliability_diagram

    rng = np.random.default_rng(1)
    easy, y_easy = _overconfident(300, 0.95, rng)
    hard, y_hard = _overconfident(200, 0.55, rng)
    probs, y = np.vstack([easy, hard]), np.concatenate([y_easy, y_hard])
    views = ["GTZAN"] * 300 + ["realworld"] * 200
    groups = [f"artist{i % 50}" for i in range(len(y))]
    res = cross_validate_ensemble(list("abcde"), {"m": probs}, y, groups, n_folds=5,
                                  views=views)
    per_view = res["reliability_views"]
    assert set(per_view) == {"GTZAN", "realworld"}
    assert sum(b["count"] for b in per_view["GTZAN"]) == 300
    assert sum(b["count"] for b in per_view["realworld"]) == 200

    def gap(bins):                  # confidence minus accuracy, weighted by tracks
        return sum(b["count"] * (b["confidence"] - b["accuracy"]) for b in bins) / sum(
            b["count"] for b in bins)
    assert gap(per_view["realworld"]) > gap(per_view["GTZAN"]) + 0.1   # the hard view is surer than right
    fig = reliability_diagram(res["reliability_before"], res["reliability_after"],
                              {"GTZAN clips": per_view["GTZAN"],
                               "real recordings": per_view["realworld"]})
    names = [t.name for t in fig.data]
    assert names == ["perfectly calibrated", "all, before calibration",
                     "GTZAN clips, after calibration", "real recordings, after calibration"]
