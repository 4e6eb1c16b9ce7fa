"""train-table / evaluate-table on the shared Kaggle table (data test) and on bad tables."""
import json

import pytest

from tests.helpers.cli import run_cli

pytestmark = pytest.mark.slow   # AppTest/browser/CLI subprocess: see pyproject.toml


def test_train_table_then_evaluate_table_json(gtzan, tmp_path):
    csv = gtzan / "Data" / "features_30_sec.csv"
    out = tmp_path / "bundle"
    r = run_cli("train-table", "--csv", str(csv), "--out", str(out), "--cv", "0")
    assert r.returncode == 0, r.stderr[-2000:]
    report = json.loads((out / "report.json").read_text())
    ev = [e for e in report["evaluations"] if e["model"] == "features"][0]
    assert ev["split"] == "table-filtered-valid" and ev["n_tracks"] == 197
    assert ev["track_accuracy"] > 0.25          # chance is 0.10 on the artist-filtered valid rows
    assert "candidates" in report["models"]["features"]
    # a table with a broken row: reported and skipped
    lines = csv.read_text().splitlines()
    header = lines[0].split(",")
    bad = lines[1].split(",")
    bad[header.index("tempo")] = "not-a-number"
    small = tmp_path / "small.csv"
    small.write_text("\n".join([lines[0], ",".join(bad)] + lines[2:60]) + "\n")
    r = run_cli("evaluate-table", "--csv", str(small), "--bundle", str(out), "--json")
    assert r.returncode == 0, r.stderr[-2000:]
    result = json.loads(r.stdout)
    assert result["n"] == 58 and len(result["confusion"]) == len(result["labels"]) == 10
    assert 0 <= result["accuracy"] <= 1 and "skipped" in r.stderr and bad[0] in r.stderr


def test_evaluate_table_rejects_a_non_table(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("a,b\n1,2\n")
    r = run_cli("evaluate-table", "--csv", str(f), "--bundle", str(tmp_path / "none"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
