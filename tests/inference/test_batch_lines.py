"""The one line `predict` prints per file says which part of a long file was heard."""
from genre_core.inference.audio import heard_span
from genre_core.inference.batch_predict import FileResult, heard_part


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
