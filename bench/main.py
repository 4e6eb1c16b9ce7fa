"""`python -m genre_core bench` / `python -m bench`: run the sections, print the table,
write the JSON results."""
from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from pathlib import Path

from bench import common
from bench.app import bench_app
from bench.batch import bench_batch
from bench.class_headless import bench_class_headless
from bench.classroom import bench_class
from bench.cold import bench_cold
from bench.common import SECTIONS, Material, eprint
from bench.extraction import bench_extraction
from bench.growth import bench_growth
from bench.latency import bench_latency
from bench.report import evaluate_targets, format_table, metric_at
from bench.training import bench_training, build_quick_bundle


def run(args) -> int:
    from genre_core.inference.bundle import DEFAULT_BUNDLE
    from genre_core.inference.dataset import default_data_root

    quick = bool(getattr(args, "quick", False))
    skip = {s.strip() for s in (getattr(args, "skip", "") or "").split(",") if s.strip()}
    unknown = skip - set(SECTIONS)
    if unknown:
        eprint(f"error: --skip: unknown section(s) {', '.join(sorted(unknown))}; known: "
               f"{', '.join(SECTIONS)}")
        return 2
    want = lambda s: s not in skip  # noqa: E731
    data_root = Path(getattr(args, "data", None) or default_data_root())
    if not (data_root / "Data" / "genres_original").is_dir() and not (
            data_root / "genres_original").is_dir() and not data_root.is_dir():
        data_root_ok = None
    else:
        data_root_ok = data_root
    R = dict(warm=5 if quick else 15, naive=2 if quick else 5, cold=1 if quick else 3,
             app=1, ext_cold=1 if quick else 2, ext_cached=2 if quick else 5,
             naive_clips=25 if quick else 50, epochs=1 if quick else 3,
             families=["mlp", "cnn"] if quick else ["mlp", "cnn", "lstm"],
             growth_reps=1 if quick else 3, batch=1 if quick else 2,
             batch_files=6 if quick else 12, class_sessions=8 if quick else 30)
    results: dict = {"meta": {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "quick": quick,
        "python": platform.python_version(), "machine": platform.machine(),
        "cpus": os.cpu_count(), "load_average": os.getloadavg() if hasattr(os, "getloadavg")
        else None, "data": str(data_root_ok) if data_root_ok else None, "repetitions": R}}
    skipped: dict[str, str] = {s: "--skip" for s in skip}
    started = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="genre-bench-") as tmpdir:
        tmp = Path(tmpdir)
        eprint("preparing test clips…")
        mat = Material(data_root_ok, tmp)
        results["meta"]["clip"] = {"source": mat.source, "wav": "22050 Hz mono PCM16",
                                   "mp3": "44100 Hz stereo (resampled on decode)"}

        data = None
        if want("extraction") or want("training"):
            if data_root_ok is None:
                for s in ("extraction", "training"):
                    skipped.setdefault(s, f"no dataset at {data_root} (--data)")
            else:
                eprint("3 extraction…")
                try:
                    ext, data = bench_extraction(data_root_ok, R["ext_cold"], R["ext_cached"],
                                                 R["naive_clips"] if want("extraction") else 0)
                    if want("extraction"):
                        results["extraction"] = ext
                except Exception as e:  # noqa: BLE001 - report, keep the other sections
                    skipped["extraction"] = f"failed: {type(e).__name__}: {e}"

        bundle_path = Path(args.bundle) if getattr(args, "bundle", None) else DEFAULT_BUNDLE
        common.MODELS = [m for m in (getattr(args, "models", "") or "").split(",") if m] or None
        if not (bundle_path / "bundle.json").exists():
            if getattr(args, "bundle", None):
                eprint(f"error: {bundle_path}: not a model bundle")
                return 2
            eprint(f"{bundle_path} missing: fitting a 2-epoch mlp+cnn bundle to measure with")
            bundle_path = build_quick_bundle(tmp / "bundle", data)
        results["meta"]["bundle"] = str(bundle_path)

        if want("training"):
            if data is None:
                skipped.setdefault("training", "needs the extraction section's features")
            else:
                eprint("4 training…")
                results["training"], _, _ = bench_training(data, R["families"], R["epochs"])

        if want("latency"):
            eprint("1 latency…")
            results["latency"] = bench_latency(bundle_path, mat, R["warm"], R["naive"])

        if want("growth"):
            eprint("6 growth…")
            results["growth"] = bench_growth(bundle_path, mat, [30.0, 180.0, 600.0],
                                             R["growth_reps"])
            if "error" in results["growth"]:
                skipped["growth"] = results["growth"]["error"][:300]

        if want("cold") or want("memory"):
            eprint("2 cold start…")
            results["cold"] = bench_cold(bundle_path, mat, R["cold"] if want("cold") else 1)
            if "error" in results["cold"]:
                skipped["cold"] = results["cold"]["error"][:300]

        if want("batch"):
            eprint("2 batch (predict DIR)…")
            results["batch"] = bench_batch(bundle_path, data_root_ok, mat, R["batch_files"],
                                           R["batch"])
            if "error" in results["batch"]:
                skipped["batch"] = results["batch"]["error"][:300]

        if want("app"):
            eprint("2 app (streamlit + chromium)…")
            try:
                results["app"] = bench_app(bundle_path, data_root_ok, mat, R["app"])
            except Exception as e:  # noqa: BLE001 - report, keep the other sections
                results["app"] = {"skipped": f"failed: {type(e).__name__}: {str(e)[:300]}"}
            if "skipped" in results["app"]:
                skipped["app"] = results["app"]["skipped"]
                eprint(f"  app skipped: {results['app']['skipped']}")

        if want("class"):
            eprint(f"2 class ({R['class_sessions']} sessions at once)…")
            try:
                results["class"] = bench_class(bundle_path, data_root_ok, R["class_sessions"],
                                               tmp)
            except Exception as e:  # noqa: BLE001 - report, keep the other sections
                results["class"] = {"skipped": f"failed: {type(e).__name__}: {str(e)[:300]}"}
            if "skipped" in results["class"]:
                skipped["class"] = results["class"]["skipped"]

        if want("class_headless"):
            eprint(f"2 class, headless clients ({R['class_sessions']} sessions at once)…")
            try:
                results["class_headless"] = bench_class_headless(
                    bundle_path, data_root_ok, R["class_sessions"], tmp)
            except Exception as e:  # noqa: BLE001 - report, keep the other sections
                results["class_headless"] = {
                    "skipped": f"failed: {type(e).__name__}: {str(e)[:300]}"}
            if "skipped" in results["class_headless"]:
                skipped["class_headless"] = results["class_headless"]["skipped"]

        if want("memory"):
            mem = {}
            if isinstance(metric_at(results, ("cold", "peak_rss")), dict):
                mem["predict_process_peak_rss"] = results["cold"]["peak_rss"]
            if isinstance(metric_at(results, ("app", "server_peak_rss")), dict):
                mem["app_server_peak_rss"] = results["app"]["server_peak_rss"]
            else:
                mem["app_server"] = "not measured (needs the app section)"
            results["memory"] = mem
        if not want("cold"):
            results.pop("cold", None)

    results["skipped"] = skipped
    results["targets"] = evaluate_targets(results)
    results["meta"]["bench_seconds"] = round(time.perf_counter() - started, 1)
    print(format_table(results))
    print(f"\n(bench took {results['meta']['bench_seconds']:.0f} s; figures in {args.out})")
    out = Path(args.out)
    if not out.is_absolute():
        out = Path.cwd() / out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, default=float))
    return 0
