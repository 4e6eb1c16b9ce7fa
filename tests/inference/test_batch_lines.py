"""The one line `predict` prints per file, and its `--csv` row, say Genre Studio's verdict and
which part of a long file was heard."""
from genre_core.inference.audio import heard_span
from genre_core.inference.batch_predict import FileResult, csv_header, heard_part


def _prediction(duration: float, heard: float, start: float) -> dict:
    return {"duration": duration, "analysed_seconds": heard, "analysed_from": start,
            "verdict": "rock, 80%",
            "models": {"ensemble": {"genre": "rock", "probabilities": {"rock": 0.8}},
                       "cnn": {"genre": "metal", "probabilities": {"metal": 0.6}}}}


def test_a_long_file_names_the_middle_part_it_heard():
    line = FileResult("song.mp3", _prediction(180.2, 30.0, 75.1)).line()
    assert line.endswith("[heard 1:15-1:45 of 3:00]"), line
    assert line.startswith("song.mp3: Genre Studio says: rock, 80% | cnn metal (60%)"), line


def test_a_file_heard_whole_has_no_note():
    assert heard_part(_prediction(30.0, 30.0, 0.0)) == []
    assert heard_part(_prediction(0.5, 0.5, 0.0)) == []
    assert "[" not in FileResult("clip.wav", _prediction(29.9, 29.9, 0.0)).line()
    assert heard_part({"models": {}}) == []          # an older prediction without the fields


def test_heard_span_rounds_to_the_players_clock():
    assert heard_span(180.2, 75.1, 30.0) == "1:15-1:45 of 3:00"
    assert heard_span(3600.0, 1785.0, 30.0) == "29:45-30:15 of 60:00"
    assert heard_span(30.4, 0.0, 30.0) is None        # within half a second: all of it


def test_the_csv_row_carries_the_verdict_and_the_part_heard():
    models = ["ensemble", "cnn"]
    header = csv_header(models)
    row = dict(zip(header, FileResult("song.mp3", _prediction(180.2, 30.0, 75.1)).csv_row(models),
                   strict=True))
    assert row["verdict"] == "rock, 80%" and row["heard"] == "1:15-1:45 of 3:00"
    assert row["ensemble_genre"] == "rock" and row["cnn_probability"] == 0.6
    whole = dict(zip(header, FileResult("clip.wav", _prediction(29.9, 29.9, 0.0)).csv_row(models)))
    assert whole["heard"] == "" and whole["error"] == ""
    failed = dict(zip(header, FileResult("bad.wav", error="could not be decoded").csv_row(models)))
    assert failed["verdict"] == failed["heard"] == failed["cnn_genre"] == ""
    assert failed["error"] == "could not be decoded"
