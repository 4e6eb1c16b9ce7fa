"""Issue #9 section 1 (several dataset roots) and issue #10's one-line errors, in the core:
multi-root indexing (mixed kinds, duplicate ids naming both files, the CLI's repeatable
--data), and errors naming the file and the real problem (permission denied, a folder that
cannot be listed, a FIFO, a truncated MP3, a name that is not UTF-8, an upload)."""
from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pytest
import soundfile as sf

from genre_core.errors import AudioError, GenreError
from tests.helpers.audio import tone, wav_bytes
from tests.helpers.bundles import tiny_bundle
from tests.helpers.datasets import make_root

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
