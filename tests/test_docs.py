"""README.md stays short and true, the docs' links lead somewhere, and their tables of figures
are the ones tools/make_docs.py generates from the shipped report and the last bench run."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tools import make_docs

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
INSTALL_AND_START = "pip install -r requirements.txt && streamlit run app.py"

LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.S | re.M)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def _commands(block: str) -> list[str]:
    """The commands of a shell block: comment lines, trailing comments and blank lines dropped."""
    lines = [re.sub(r"\s+#.*$", "", line).strip() for line in block.splitlines()
             if not line.lstrip().startswith("#")]
    return [line for line in lines if line]


def _first_block(text: str) -> str:
    m = re.search(r"^```[a-z]*\n(.*?)^```", text, re.S | re.M)
    assert m, "README.md has no code block"
    return m.group(1)


def _ci_test_command() -> str:
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    marker = next(i for i, line in enumerate(lines)
                  if line.lstrip().startswith("#") and line.rstrip().endswith("README's test command:"))
    return next(line.strip() for line in lines[marker + 1:] if line.strip())


def test_readme_is_short():
    n = len(README.read_text(encoding="utf-8").splitlines())
    assert n < 200, f"README.md has {n} lines; move detail into docs/"


def test_readme_starts_with_install_and_test_commands():
    text = README.read_text(encoding="utf-8")
    first_block_at = text.index("```")
    assert text[:first_block_at].strip() == "# Genre Studio", "the commands come first"
    commands = _commands(_first_block(text))
    assert commands[:2] == [INSTALL_AND_START, _ci_test_command()], commands
    assert (ROOT / "requirements.txt").is_file() and (ROOT / "app.py").is_file()


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    out = set()
    for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.M):
        slug = _slug(m.group(1))
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def _links(path: Path) -> list[str]:
    text = CODE_SPAN.sub("", FENCE.sub("", path.read_text(encoding="utf-8")))
    return [m.group(1) for m in LINK.finditer(text)]


@pytest.mark.parametrize("doc", [README, *DOCS], ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_lead_to_existing_files(doc):
    broken = []
    for target in _links(doc):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):      # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (doc.parent / file_part).resolve() if file_part else doc
        if not dest.exists():
            broken.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"{doc.relative_to(ROOT)}: broken links {broken}"


def test_docs_exist_and_readme_links_them():
    names = {p.name for p in DOCS}
    assert {"results.md", "performance.md", "deployment.md", "architecture.md",
            "data.md"} <= names
    linked = {Path(t.partition("#")[0]).name for t in _links(README)}
    assert names <= linked, f"docs not linked from README.md: {sorted(names - linked)}"
    assert "docs/images/compare.png" in _links(README)


def test_generated_tables_are_up_to_date(capsys):
    assert make_docs.main(["--check"]) == 0, capsys.readouterr().err


@pytest.fixture
def docs_copy(tmp_path):
    """README.md and docs/*.md copied to a folder make_docs can rewrite."""
    out = tmp_path / "out"
    (out / "docs").mkdir(parents=True)
    shutil.copy(README, out / "README.md")
    for doc in DOCS:
        shutil.copy(doc, out / "docs" / doc.name)
    return out


def _bundle_copy(tmp_path, change=None) -> Path:
    """The shipped report (and bundle.json beside it), optionally changed, in tmp_path."""
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    shutil.copy(make_docs.DEFAULT_REPORT.with_name("bundle.json"), bundle / "bundle.json")
    report = json.loads(make_docs.DEFAULT_REPORT.read_text(encoding="utf-8"))
    if change:
        change(report)
    (bundle / "report.json").write_text(json.dumps(report), encoding="utf-8")
    return bundle / "report.json"


def _outside_generated(text: str) -> str:
    return make_docs.BLOCK.sub(lambda m: m["start"] + m["end"], text)


def test_generated_tables_follow_the_report(tmp_path, docs_copy, capsys):
    def worse_ensemble(report):
        ev = next(e for e in report["evaluations"] if e["model"] == "ensemble")
        ev["views"]["GTZAN"]["track_accuracy"] = 0.123
        ev["verdict"]["realworld"]["selective_accuracy"] = 0.5
    report = _bundle_copy(tmp_path, worse_ensemble)
    bench = tmp_path / "no-bench.json"
    before = {p: p.read_text(encoding="utf-8") for p in docs_copy.rglob("*.md")}

    # the copies match what the shipped report gives; the changed report makes them stale
    args = ["--report", str(report), "--bench", str(bench), "--out", str(docs_copy)]
    assert make_docs.main(["--check", *args]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "README.md" in err and "docs/results.md" in err

    assert make_docs.main(args) == 0
    after = {p: p.read_text(encoding="utf-8") for p in before}
    readme, results = docs_copy / "README.md", docs_copy / "docs" / "results.md"
    assert "12.3 %" in after[readme] and "12.3 %" not in before[readme]
    assert "12.3 %" in after[results]
    shipped = json.loads(report.read_text(encoding="utf-8"))
    real = next(e for e in shipped["evaluations"] if e["model"] == "ensemble")["verdict"]["realworld"]
    assert re.search(rf"\| real recordings \(unseen artists\) \| {real['n_tracks']} \| "
                     rf"{real['coverage']:.0%} \| 50% \|", after[results])
    for path, text in after.items():                    # prose around the blocks untouched
        assert _outside_generated(text) == _outside_generated(before[path]), path
    assert not list(docs_copy.rglob("*.tmp")), "a temporary file was left behind"
    assert make_docs.main(["--check", *args]) == 0      # written once, then up to date

    # and back: the shipped report gives the committed tables again
    shipped = ["--report", str(make_docs.DEFAULT_REPORT), "--bench", str(bench),
               "--out", str(docs_copy)]
    assert make_docs.main(shipped) == 0
    assert {p: p.read_text(encoding="utf-8") for p in before} == before


def test_bench_table_follows_the_bench_results(tmp_path, docs_copy):
    results = {"meta": {"when": "2030-01-02T03:04:05+0000", "cpus": 2, "machine": "x86_64",
                        "python": "3.11", "load_average": [0.5, 0.5, 0.5]},
               "cold": {"predict_process": {"min": 3.0, "median": 3.25, "max": 3.5, "n": 3}},
               "targets": [{"target": "whole-process predict", "limit": "< 5 s",
                            "value": 3.25, "status": "met"}]}
    bench = tmp_path / "results.json"
    bench.write_text(json.dumps(results), encoding="utf-8")
    args = ["--bench", str(bench), "--out", str(docs_copy)]
    assert make_docs.main(args) == 0
    text = (docs_copy / "docs" / "performance.md").read_text(encoding="utf-8")
    block = next(m["body"] for m in make_docs.BLOCK.finditer(text) if m["name"] == "bench-table")
    assert "2030-01-02T03:04:05+0000" in block and "predict process (wall)" in block
    assert "3.25" in block and "whole-process predict" in block


def test_a_missing_block_is_an_error(tmp_path, docs_copy, capsys):
    results = docs_copy / "docs" / "results.md"
    results.write_text(make_docs.BLOCK.sub("", results.read_text(encoding="utf-8")),
                       encoding="utf-8")
    assert make_docs.main(["--check", "--out", str(docs_copy)]) == 2
    assert "docs/results.md" in capsys.readouterr().err
