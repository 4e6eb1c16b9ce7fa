"""Write the generated tables of README.md, docs/results.md and docs/performance.md from the
figures they report, so no figure there is typed by hand.

    python -m tools.make_docs            # rewrite the generated blocks
    python -m tools.make_docs --check    # exit 1 if a doc differs from what would be written

A generated block sits between `<!-- generated: NAME -->` and `<!-- end generated -->`; only
its inside is rewritten, the prose around it is left as it is. Inputs: the shipped bundle's
`report.json` (and `bundle.json` beside it), read by genre_core.report and turned into rows
by studio.results and studio.summaries as the model card does, and the last benchmark run's
`bench/results.json` (printed by bench.report as `bench` prints it). bench/results.json is
git-ignored: where it is missing (a fresh clone, CI), the benchmark block is left as it is and
not checked. Every write is atomic (genre_core.atomic) and keeps the file's permissions.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from bench.report import format_table
from genre_core.atomic import atomic_write
from genre_core.errors import GenreError
from genre_core.report import Report, read_report
from studio.results import VIEW_NAMES, verdict_rows, view_rows
from studio.summaries import ENSEMBLE, calibration_summary, display_name

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REPORT = ROOT / "assets" / "models" / "default" / "report.json"
DEFAULT_BENCH = ROOT / "bench" / "results.json"

BLOCK = re.compile(r"(?P<start><!-- generated: (?P<name>[a-z0-9-]+) -->\n)(?P<body>.*?)"
                   r"(?P<end><!-- end generated -->)", re.S)

# which blocks each document holds (paths relative to --out)
DOCS: dict[str, tuple[str, ...]] = {
    "README.md": ("headline",),
    "docs/results.md": ("results-table", "verdict-table", "ensemble-table", "evaluations-table"),
    "docs/performance.md": ("bench-table",),
}


# ---------------------------------------------------------------- formatting

def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def _num(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _cell(value: object) -> str:
    """A value made safe for a Markdown table cell."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |",
             "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _figures(row: Mapping) -> str:
    """'75.5 % / 75.0 % / 0.748': right / balanced accuracy / macro F1 of a view_rows row."""
    return " / ".join([_pct(row["right (share of tracks)"]), _pct(row["balanced accuracy"]),
                       _num(row["macro F1"])])


# ---------------------------------------------------------------- the report's blocks

def headline_block(report: Report, meta: Mapping | None) -> str:
    """The shipped answer (the calibrated ensemble) on both views, for the README."""
    answer = display_name(ENSEMBLE)
    verdicts = {r["view"]: r for r in verdict_rows(report)}
    rows = []
    for row in view_rows(report, meta):
        if row["model"] != answer:
            continue
        verdict = verdicts.get(row["view"], {})
        rows.append([row["view"], row["tracks"], _pct(row["right (share of tracks)"]),
                     _pct(row["balanced accuracy"]), _num(row["macro F1"]),
                     verdict.get("names one genre", "-"), verdict.get("named genre right", "-")])
    return markdown_table(["held-out view", "tracks", "right", "balanced accuracy", "macro F1",
                           "names one genre", "named genre right"], rows)


def results_block(report: Report, meta: Mapping | None) -> str:
    """Every model on both views (studio.results.view_rows), Genre Studio's answer first."""
    views = list(VIEW_NAMES.values())
    by_model: dict[str, dict[str, Mapping]] = {}
    for row in view_rows(report, meta):
        by_model.setdefault(row["model"], {})[row["view"]] = row
        if row["view"] not in views:
            views.append(row["view"])
    answer = display_name(ENSEMBLE)
    order = sorted(by_model, key=lambda model: model != answer)
    header = ["model"]
    for view in views:
        header += [f"{view}: right / balanced / macro F1", "tracks, split"]
    rows = []
    for model in order:
        cells: list[object] = [f"**{model}**" if model == answer else model]
        for view in views:
            figures = by_model[model].get(view)
            cells += (["-", "-"] if figures is None
                      else [_figures(figures), f"{figures['tracks']}, {figures['how']}"])
        rows.append(cells)
    return markdown_table(header, rows)


def verdict_block(report: Report, meta: Mapping | None) -> str:
    """How the verdict reads per view (studio.results.verdict_rows) and its threshold."""
    rows = verdict_rows(report)
    if not rows:
        return "(the report has no verdict figures)"
    header = list(rows[0])
    table = markdown_table(header, [[r[h] for h in header] for r in rows])
    ensemble = report.models.get(ENSEMBLE)
    threshold = None if ensemble is None else ensemble.unsure_below
    if threshold is None:
        return table
    return (f"{table}\n\nThreshold: a genre is named at {threshold:.0%} confidence or more; "
            "below it the verdict is \"not sure: A or B\".")


def ensemble_block(report: Report, meta: Mapping | None) -> str:
    """The shipped ensemble's weights, temperature and calibration
    (studio.summaries.calibration_summary)."""
    summary = calibration_summary(report)
    if summary is None:
        return "(the report has no calibrated ensemble)"
    weights = sorted(summary["weights"].items(), key=lambda kv: -kv[1])
    table = markdown_table(["member", "weight"],
                           [[display_name(m), f"{w:.3f}"] for m, w in weights])
    return (f"{table}\n\nTemperature {_num(summary['temperature'], 2)}, then a floor of "
            f"{_num(summary['floor'])} (that share of an even spread over the genres mixed in: "
            f"no answer above {_pct(summary['max_answer'])}); over all "
            f"{summary['n_tracks']} held-out tracks of both views ({summary['split']} split): "
            f"right {_pct(summary['track_accuracy'])}, macro F1 {_num(summary['macro_f1'])}, "
            f"ECE {_num(summary['ece_before'])} before calibration, "
            f"{_num(summary['ece_after'])} after.")


def evaluations_block(report: Report, meta: Mapping | None) -> str:
    """Every held-out evaluation the report keeps."""
    rows = []
    for ev in report.evaluations:
        rows.append([display_name(ev.model), ev.split, ev.n_folds or "",
                     ("" if ev.variant is None else ev.variant)
                     + (f", mean of {ev.networks} networks" if ev.networks else "")
                     + (", straddling segments too" if ev.straddling else ""),
                     "yes" if ev.augmented else "no", "" if ev.n_tracks is None else ev.n_tracks,
                     _pct(ev.segment_accuracy), _pct(ev.track_accuracy), _num(ev.macro_f1),
                     "" if ev.seconds is None else f"{ev.seconds:.0f} s", ev.computed_on or ""])
    return markdown_table(["model", "split", "folds", "variant", "own-recording copies",
                           "tracks", "segments right", "tracks right", "macro F1",
                           "CV time", "computed on (blank: where the bundle was trained)"], rows)


# ---------------------------------------------------------------- the benchmark's block

def bench_block(results: Mapping) -> str:
    """The last `bench` run: when and where, then the table `bench` printed."""
    meta = results.get("meta", {}) or {}
    load = meta.get("load_average") or []
    parts = [f"Run of {meta.get('when', '?')}"]
    if meta.get("cpus"):
        parts.append(f"{meta['cpus']} CPU cores ({meta.get('machine', '?')}, "
                     f"Python {meta.get('python', '?')})")
    if load:
        parts.append(f"load average {load[0]:.1f} at the start")
    if meta.get("data"):
        parts.append(f"data `{meta['data']}`")
    if meta.get("quick"):
        parts.append("`--quick`")
    if meta.get("bench_seconds") is not None:
        parts.append(f"{meta['bench_seconds']:.0f} s in all")
    return "; ".join(parts) + ".\n\n```\n" + format_table(dict(results)) + "\n```"


REPORT_BLOCKS: dict[str, Callable[[Report, Mapping | None], str]] = {
    "headline": headline_block,
    "results-table": results_block,
    "verdict-table": verdict_block,
    "ensemble-table": ensemble_block,
    "evaluations-table": evaluations_block,
}


def render_blocks(report: Report, meta: Mapping | None, bench: Mapping | None
                  ) -> dict[str, str | None]:
    """Every block's text; None for a block whose input is missing (left as it is)."""
    blocks: dict[str, str | None] = {name: make(report, meta)
                                     for name, make in REPORT_BLOCKS.items()}
    blocks["bench-table"] = None if bench is None else bench_block(bench)
    return blocks


def fill(text: str, blocks: Mapping[str, str | None], expected: tuple[str, ...], doc: str) -> str:
    """`text` with the inside of each generated block replaced; a block `expected` but absent,
    or a marker naming no known block, is an error."""
    found = [m["name"] for m in BLOCK.finditer(text)]
    unknown = sorted(set(found) - set(blocks))
    if unknown:
        raise ValueError(f"{doc}: unknown generated block(s) {', '.join(unknown)}")
    missing = [name for name in expected if name not in found]
    if missing:
        raise ValueError(f"{doc}: no <!-- generated: {missing[0]} --> ... <!-- end generated --> "
                         "block")

    def replace(m: re.Match) -> str:
        body = blocks[m["name"]]
        if body is None:
            return m.group(0)
        return m["start"] + body.rstrip("\n") + "\n" + m["end"]

    return BLOCK.sub(replace, text)


def write_keeping_mode(path: Path, text: str) -> None:
    """Atomic write (temporary sibling, flush, fsync, rename) with the old file's mode."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    data = text.encode("utf-8")

    def write(f) -> None:
        os.fchmod(f.fileno(), mode)
        f.write(data)

    atomic_write(path, write)


# ---------------------------------------------------------------- entry point

def _load_json(path: Path, what: str) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SystemExit(f"make_docs: {what} not found: {path}") from None
    except (OSError, ValueError) as exc:
        raise SystemExit(f"make_docs: cannot read {what} {path}: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.make_docs", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a doc differs from what would be written")
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT,
                        help="the bundle's report.json (bundle.json beside it is read too; "
                             "default: the shipped bundle's)")
    parser.add_argument("--bench", type=Path, default=DEFAULT_BENCH,
                        help="the benchmark's results.json (default: bench/results.json; "
                             "missing: the benchmark block is left as it is)")
    parser.add_argument("--out", type=Path, default=ROOT,
                        help="the folder holding README.md and docs/ (default: the repository)")
    args = parser.parse_args(argv)

    try:
        report = read_report(args.report)
    except GenreError as exc:
        raise SystemExit(f"make_docs: {exc}") from None
    meta_path = args.report.with_name("bundle.json")
    meta = _load_json(meta_path, "bundle metadata") if meta_path.exists() else None
    bench = _load_json(args.bench, "benchmark results") if args.bench.exists() else None
    blocks = render_blocks(report, meta, bench)

    stale, written = [], []
    for doc, expected in DOCS.items():
        path = args.out / doc
        try:
            old = path.read_text(encoding="utf-8")
        except OSError as exc:
            print(f"make_docs: cannot read {path}: {exc}", file=sys.stderr)
            return 2
        try:
            new = fill(old, blocks, expected, doc)
        except ValueError as exc:
            print(f"make_docs: {exc}", file=sys.stderr)
            return 2
        if new == old:
            continue
        if args.check:
            stale.append(doc)
        else:
            write_keeping_mode(path, new)
            written.append(doc)
    if stale:
        print(f"make_docs: stale (generated tables differ from the report/bench figures): "
              f"{', '.join(stale)}; run python -m tools.make_docs", file=sys.stderr)
        return 1
    if bench is None:
        print(f"make_docs: {args.bench} not found: the benchmark table was left as it is",
              file=sys.stderr)
    if not args.check:
        print("make_docs: " + (f"wrote {', '.join(written)}" if written else "up to date"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
