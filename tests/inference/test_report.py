"""report.json's typed schema (genre_core.report): the shipped report reads and writes back
unchanged, a version-1 report (no version key) is read, a newer one and a malformed one are
refused with one line, and the query methods answer what the dict code they replace answered."""
from __future__ import annotations

import copy
import json
import shutil

import pytest

from genre_core.config import FeatureConfig
from genre_core.errors import GenreError
from genre_core.inference.bundle import (
    DEFAULT_BUNDLE,
    read_bundle_meta,
    read_bundle_report,
    save_bundle,
)
from genre_core.report import (
    SCHEMA_VERSION,
    SPLIT_PREFERENCE,
    Evaluation,
    ModelEntry,
    NewerReportError,
    Report,
    as_report,
    read_report,
)

SHIPPED = DEFAULT_BUNDLE / "report.json"


@pytest.fixture(scope="module")
def shipped() -> dict:
    return json.loads(SHIPPED.read_text(encoding="utf-8"))


def _bundle_copy(tmp_path, report: dict):
    """bundle.json of the shipped bundle beside `report` (no model: enough to read metadata)."""
    folder = tmp_path / "bundle"
    folder.mkdir()
    shutil.copy(DEFAULT_BUNDLE / "bundle.json", folder / "bundle.json")
    (folder / "report.json").write_text(json.dumps(report), encoding="utf-8")
    return folder


# ---------------------------------------------------------------- versions and round trip

def test_the_shipped_report_round_trips_losslessly(shipped):
    report = Report.from_dict(shipped)
    assert SCHEMA_VERSION == 2
    assert report.schema_version == shipped.get("schema_version", 1)   # 1: written before it
    out = report.to_dict()
    assert out == shipped
    assert list(out) == list(shipped)                              # the keys' order too
    assert [list(e) for e in out["evaluations"]] == [list(e) for e in shipped["evaluations"]]
    # a writer stamps the version on a report read as version 1; it reads back the same
    v1 = Report.from_dict({k: v for k, v in shipped.items() if k != "schema_version"})
    assert v1.schema_version == 1
    stamped = v1.stamped().to_dict()
    assert stamped == {"schema_version": SCHEMA_VERSION,
                       **{k: v for k, v in shipped.items() if k != "schema_version"}}
    assert Report.from_dict(stamped).to_dict() == stamped
    assert v1.schema_version == 1                                  # stamped() is a copy


def test_keys_the_schema_does_not_name_and_nulls_are_kept():
    raw = {"schema_version": 2, "created": "x", "future_section": {"a": [1, 2]},
           "models": {"m": {"family": "mlp", "temperature": None, "new": True}},
           "evaluations": [{"model": "m", "split": "artist", "track_accuracy": None,
                            "tracks_seen_in_training": 3,
                            "views": {"GTZAN": {"n_tracks": 2, "extra_figure": 0.5}},
                            "verdict": {"GTZAN": {"n_tracks": 2, "selective_accuracy": None}}}]}
    report = Report.from_dict(copy.deepcopy(raw))
    assert report.to_dict() == raw
    ev = report.evaluations[0]
    assert ev.extra == {"tracks_seen_in_training": 3} and ev.track_accuracy is None
    assert ev.views is not None and ev.views["GTZAN"].extra == {"extra_figure": 0.5}
    assert report.extra == {"future_section": {"a": [1, 2]}}


def test_a_report_built_in_code_writes_every_field_set():
    report = Report(created="now", models={"cnn": ModelEntry(family="cnn", augmented=False)})
    report.merge_evaluations([Evaluation(model="cnn", split="artist", track_accuracy=0.5)])
    assert report.to_dict() == {
        "schema_version": SCHEMA_VERSION, "created": "now",
        "models": {"cnn": {"family": "cnn", "augmented": False}},
        "evaluations": [{"model": "cnn", "split": "artist", "track_accuracy": 0.5}]}


def test_a_version_1_report_is_read_and_saved_as_the_current_version(tmp_path, shipped):
    shipped = {k: v for k, v in shipped.items() if k != "schema_version"}   # as before it
    folder = _bundle_copy(tmp_path, shipped)          # no schema_version key: version 1
    meta, raw = read_bundle_meta(folder)
    assert raw == shipped
    meta, report = read_bundle_report(folder)
    assert report.schema_version == 1 and len(report.evaluations) == len(shipped["evaluations"])
    out = tmp_path / "saved"
    save_bundle(out, {}, meta["labels"], FeatureConfig(), report)
    written = json.loads((out / "report.json").read_text())
    assert written == {"schema_version": SCHEMA_VERSION, **shipped}
    # a plain dict (report.json's object) is stamped the same way
    save_bundle(tmp_path / "from_dict", {}, meta["labels"], FeatureConfig(), {"evaluations": []})
    assert json.loads((tmp_path / "from_dict" / "report.json").read_text()) == {
        "schema_version": SCHEMA_VERSION, "evaluations": []}


def test_a_report_from_a_newer_genre_studio_is_refused_naming_the_file(tmp_path, shipped):
    folder = _bundle_copy(tmp_path, {**shipped, "schema_version": SCHEMA_VERSION + 1})
    for read in (read_bundle_meta, read_bundle_report, lambda f: read_report(f / "report.json")):
        with pytest.raises(NewerReportError) as caught:
            read(folder)
        message = str(caught.value)
        assert str(folder / "report.json") in message and "newer Genre Studio" in message
        assert f"version {SCHEMA_VERSION + 1}" in message and "\n" not in message
    assert isinstance(caught.value, GenreError)        # the app and the CLI show it as one


def test_figures_are_not_merged_into_a_newer_report(tmp_path, shipped):
    from genre_core.training.pipeline import merge_evaluations

    folder = _bundle_copy(tmp_path, {**shipped, "schema_version": SCHEMA_VERSION + 1})
    before = (folder / "report.json").read_bytes()
    labels = json.loads((folder / "bundle.json").read_text())["labels"]
    with pytest.raises(NewerReportError):
        merge_evaluations(folder, [{"model": "mlp", "split": "artist"}], labels, log=lambda m: None)
    assert (folder / "report.json").read_bytes() == before


@pytest.mark.parametrize("raw, where", [
    ([], "the report is a list, not an object"),
    ({"evaluations": {"model": "mlp"}}, "evaluations is an object, not a list"),
    ({"evaluations": [{"split": "artist"}]}, "evaluations[0] has no 'model'"),
    ({"evaluations": [{"model": "mlp"}]}, "evaluations[0] has no 'split'"),
    ({"evaluations": [{"model": "mlp", "split": "artist", "track_accuracy": "0.8"}]},
     "evaluations[0].track_accuracy is a string, not a number"),
    ({"evaluations": [{"model": "mlp", "split": "artist", "per_track": [{"genre": "rock"}]}]},
     "evaluations[0].per_track[0] has no track id"),
    ({"evaluations": [{"model": "mlp", "split": "a", "views": {"GTZAN": {"n_tracks": "2\nx"}}}]},
     "evaluations[0].views.GTZAN.n_tracks is a string, not a whole number"),
    ({"models": ["mlp"]}, "models is a list, not an object"),
    ({"models": {"mlp": 3}}, "models.mlp is a number, not an object"),
    ({"data": {"track_ids": "blues.00000"}}, "data.track_ids is a string, not a list"),
    ({"schema_version": "2"}, "schema_version is '2', not a version number"),
])
def test_a_malformed_report_is_refused_with_one_line(tmp_path, raw, where):
    with pytest.raises(GenreError) as caught:
        Report.from_dict(raw, source="x/report.json")
    assert str(caught.value) == f"x/report.json: malformed report: {where}"
    folder = _bundle_copy(tmp_path, raw)
    with pytest.raises(GenreError) as caught:
        read_bundle_meta(folder)
    message = str(caught.value)
    assert message.startswith(f"{folder / 'report.json'}: malformed report") and "\n" not in message


def test_an_empty_or_missing_report_is_an_empty_one(tmp_path, shipped):
    assert as_report(None).to_dict() == Report.from_dict({}).to_dict() == {}
    assert as_report(None).stamped().to_dict() == {"schema_version": SCHEMA_VERSION}
    assert Report().to_dict() == {"schema_version": SCHEMA_VERSION, "models": {},
                                  "evaluations": []}
    folder = _bundle_copy(tmp_path, {})
    (folder / "report.json").unlink()
    meta, report = read_bundle_report(folder)
    assert report.evaluations == [] and report.track_ids == [] and report.model_names() == []


# ---------------------------------------------------------------- the queries

# the dict code the methods replace (studio.summaries before genre_core.report), as it was
def _old_evaluations_for(report, model=None, split=None, variant=None):
    return [ev for ev in report.get("evaluations", []) or []
            if (model is None or ev.get("model") == model)
            and (split is None or ev.get("split") == split)
            and (variant is None or ev.get("variant") == variant)]


def _old_split_rank(split):
    return (SPLIT_PREFERENCE.index(split) if split in SPLIT_PREFERENCE
            else len(SPLIT_PREFERENCE))


def _old_preferred_evaluation(report, model, variant="corrected", split=None):
    evs = _old_evaluations_for(report, model, split)
    if not evs:
        return None
    shipped_augmented = bool(report.get("models", {}).get(model, {}).get("augmented"))
    return min(evs, key=lambda ev: (_old_split_rank(ev.get("split", "")),
                                    0 if variant is None or ev.get("variant") == variant else 1,
                                    0 if bool(ev.get("augmented")) == shipped_augmented else 1))


def test_the_queries_answer_what_the_dict_code_answered(shipped):
    report = Report.from_dict(shipped)
    names = list(dict.fromkeys([ev["model"] for ev in shipped["evaluations"]]
                               + list(shipped["models"])))
    assert report.model_names() == names
    splits = {ev["split"] for ev in shipped["evaluations"]}
    assert sorted(report.splits()) == sorted(splits)
    assert [_old_split_rank(s) for s in report.splits()] == sorted(map(_old_split_rank, splits))
    for model in names + ["not a model"]:
        for split in [None, *splits]:
            for variant in (None, "corrected", "calibrated"):
                got = [e.to_dict() for e in report.evaluations_for(model, split, variant)]
                assert got == _old_evaluations_for(shipped, model, split, variant)
                best = report.preferred_evaluation(model, variant, split)
                old = _old_preferred_evaluation(shipped, model, variant, split)
                assert (None if best is None else best.to_dict()) == old
        assert report.shipped_augmented(model) == bool(
            shipped["models"].get(model, {}).get("augmented"))
    assert report.track_ids == shipped["data"]["track_ids"]
    assert report.genres == shipped["data"]["genres"]
    assert report.track_views == shipped["data"]["views"]
    assert set(report.view_names()) == set(shipped["data"]["views"].values()) == {
        "GTZAN", "realworld"}
    truth = {}
    for ev in shipped["evaluations"]:
        for r in ev.get("per_track", []):
            truth[r["track"]] = r["genre"]
    assert report.track_truth() == truth
    ensemble = report.models["ensemble"]
    assert ensemble.weights == shipped["models"]["ensemble"]["weights"]
    assert ensemble.unsure_below == shipped["models"]["ensemble"]["unsure_below"]


def test_an_evaluation_answers_for_its_cells_and_tracks(shipped):
    report = Report.from_dict(shipped)
    ev = report.preferred_evaluation("ensemble", "calibrated")
    raw = next(e for e in shipped["evaluations"] if e["model"] == "ensemble")
    assert ev is not None and ev.label == "artist split · calibrated"
    assert ev.confusion("track") == raw["track_confusion"]
    assert ev.confusion("segment") == raw["segment_confusion"]
    assert ev.tracks_in_cell("rock", "metal") == [
        t for t in raw["per_track"] if t["genre"] == "rock" and t["predicted"] == "metal"]
    first = raw["per_track"][0]
    assert ev.track(first["track"]) == first and ev.track("no such track") is None
    assert ev.track_count == raw["n_tracks"]
    assert ev.views is not None and ev.views["GTZAN"].to_dict() == raw["views"]["GTZAN"]
    assert ev.verdict is not None and ev.verdict["GTZAN"].coverage == \
        raw["verdict"]["GTZAN"]["coverage"]


def test_merging_replaces_what_was_measured_again(shipped):
    report = Report.from_dict(copy.deepcopy(shipped))
    old = report.preferred_evaluation("mlp")
    assert old is not None
    again = Evaluation.from_dict({**old.to_dict(), "track_accuracy": 0.99})
    report.merge_evaluations([again])
    assert len(report.evaluations) == len(shipped["evaluations"])
    assert [e.track_accuracy for e in report.evaluations_for("mlp") if e.key == old.key] == [0.99]
    report.add_views({"new.track": "mine"})
    assert report.track_views["new.track"] == "mine"
    assert "mine" in report.view_names()


def test_the_app_helpers_take_a_report_or_its_json_alike(shipped):
    """studio.summaries and studio.results give the same rows for the typed report and for
    report.json's object (the Streamlit glue still passes the object)."""
    from studio import results
    from studio import summaries as sup

    meta = json.loads((DEFAULT_BUNDLE / "bundle.json").read_text())
    report = Report.from_dict(shipped)
    for fn in (sup.home_summary, sup.evaluated_models, sup.report_models, sup.bundle_labels):
        assert fn(meta, report) == fn(meta, shipped)
    for fn in (sup.calibration_summary, sup.accuracy_table, sup.split_descriptions,
               sup.data_summary, results.verdict_rows):
        assert fn(report) == fn(shipped)
    assert results.view_rows(report, meta) == results.view_rows(shipped, meta)
    for model in ("mlp", "lstm"):       # one shipped distilled, one plain
        assert sup.preferred_evaluation(shipped, model) == _old_preferred_evaluation(
            shipped, model, shipped["models"][model].get("variant") or "corrected")
    assert sup.misclassified_table(report, split="artist").equals(
        sup.misclassified_table(shipped, split="artist"))


def test_a_models_figures_are_those_of_the_variant_the_bundle_ships():
    """The shipped CNN is the distilled one: its figures (results table, model card,
    confusion matrix) must be the distilled evaluation's, not the plain one's; a model with no
    entry, or one asked for a variant explicitly, gets that variant (plain by default)."""
    from genre_core.report import ModelEntry

    report = Report()
    report.merge_evaluations([
        Evaluation(model="cnn", variant="corrected", split="artist", track_accuracy=0.38),
        Evaluation(model="cnn", variant="distilled", split="artist", track_accuracy=0.47),
        Evaluation(model="mlp", variant="corrected", split="artist", track_accuracy=0.35),
        Evaluation(model="mlp", variant="distilled", split="artist", track_accuracy=0.34)])
    report.models["cnn"] = ModelEntry(family="cnn", variant="distilled")
    assert report.preferred_evaluation("cnn").track_accuracy == 0.47
    assert report.preferred_evaluation("cnn", "corrected").track_accuracy == 0.38
    assert report.preferred_evaluation("mlp").track_accuracy == 0.35      # no entry: plain


def test_the_model_cards_words_say_when_a_model_averages_networks():
    """The shipped CNN averages three networks (bundle.json's params): its plain words say
    so; the same family without the param, and the MLP, do not."""
    from studio.results import plain_words

    meta = json.loads((DEFAULT_BUNDLE / "bundle.json").read_text())
    assert meta["models"]["cnn"]["params"]["networks"] == 3
    assert "3 copies of it" in plain_words("cnn", meta)
    single = {"models": {"cnn": {"family": "cnn", "params": {}}}}
    assert plain_words("cnn", single) == plain_words("cnn") and "copies" not in plain_words("cnn")
    assert "copies" not in plain_words("mlp", meta)
