"""Targets and the printed table (the JSON results format is built in bench.main)."""
from __future__ import annotations

# target name -> (description, metric path in results, comparison, threshold)
TARGETS = [
    ("warm prediction, 30-s WAV, all models", ("latency", "wav", "fast", "total"), "<", 0.250, "s"),
    ("warm prediction, 30-s MP3, all models", ("latency", "mp3", "fast", "total"), "<", 0.250, "s"),
    ("fast vs naive, 30-s WAV", ("latency", "wav", "speedup"), ">=", 6.0, "x"),
    ("fast vs naive, 30-s MP3", ("latency", "mp3", "speedup"), ">=", 6.0, "x"),
    ("whole-process predict", ("cold", "predict_process"), "<", 5.0, "s"),
    ("predict process peak memory", ("cold", "peak_rss_mib"), "<", 600.0, "MiB"),
    ("predict DIR, pool vs one process", ("batch", "speedup"), ">=", 1.7, "x"),
    ("cached extraction vs cold", ("extraction", "cached_vs_cold"), ">=", 50.0, "x"),
    ("cold extraction vs sequential loop", ("extraction", "cold_vs_naive"), ">=", 1.7, "x"),
    ("app first render (Home)", ("app", "first_render"), "<", 3.0, "s"),
    ("app upload -> Compare verdict", ("app", "upload_to_predictions"), "<", 4.0, "s"),
    ("app warm upload -> Compare verdict", ("app", "warm_upload_to_predictions"), "<", 1.5, "s"),
    ("What the model heard, musicnn", ("app", "saliency_musicnn"), "<", 3.0, "s"),
    ("class of 30, browsers: slowest session's verdict", ("class", "slowest_session_s"), "<",
     45.0, "s"),
    ("class of 30, browsers: server peak memory", ("class", "server_peak_rss_mib"), "<",
     3072.0, "MiB"),
    ("class of 30, headless clients: slowest session's verdict",
     ("class_headless", "slowest_session_s"), "<", 45.0, "s"),
    ("class of 30, headless clients: server peak memory",
     ("class_headless", "server_peak_rss_mib"), "<", 3072.0, "MiB"),

]


def metric_at(results: dict, path: tuple):
    cur = results
    for p in path:
        if not isinstance(cur, dict) or p not in cur:
            return None
        cur = cur[p]
    return cur


def evaluate_targets(results: dict) -> list[dict]:
    out = []
    for name, path, op, limit, unit in TARGETS:
        v = metric_at(results, path)
        if isinstance(v, (int, float)):          # a single figure (the slowest session, ...)
            v = {"median": float(v)}
        if not isinstance(v, dict) or "median" not in v:
            out.append({"target": name, "limit": f"{op} {limit:g} {unit}", "value": None,
                        "status": "not measured"})
            continue
        val = v["median"]
        met = val < limit if op == "<" else val >= limit
        out.append({"target": name, "limit": f"{op} {limit:g} {unit}", "value": val,
                    "status": "met" if met else "MISSED"})
    return out


def _fmt(v, unit: str) -> str:
    if v is None:
        return "-"
    if unit == "ms":
        return f"{v * 1000:.1f}"
    if unit == "MiB":
        return f"{v / 2**20:.0f}"
    if unit in ("x", "clips/s", "files/s", "s"):
        return f"{v:.2f}" if v < 100 else f"{v:.0f}"
    return f"{v:.3g}"


def table_rows(results: dict) -> list[tuple[str, str, dict | None, str]]:
    """(section, metric, stats, unit) rows in report order."""
    rows: list[tuple[str, str, dict | None, str]] = []
    lat = results.get("latency", {})
    for fmt in ("wav", "mp3"):
        d = lat.get(fmt)
        if not d:
            continue
        for part, s in d["fast"].items():
            rows.append(("1 latency", f"{fmt} fast {part}", s, "ms"))
        for part, s in d["naive"].items():
            rows.append(("1 latency", f"{fmt} naive {part}", s, "ms"))
        for part, s in d["speedup_parts"].items():
            rows.append(("1 latency", f"{fmt} naive/fast {part}", s, "x"))
    cold = results.get("cold", {})
    if "predict_process" in cold:
        rows.append(("2 cold", "predict process (wall)", cold["predict_process"], "s"))
        for k, v in cold.get("stages", {}).items():
            rows.append(("2 cold", f"  in-process {k}", v, "s"))
        if "import_only" in cold:
            rows.append(("2 cold", "python + imports only (process wall)", cold["import_only"],
                         "s"))
            for k, v in cold.get("import_parts", {}).items():
                rows.append(("2 cold", f"  import {k}", v, "s"))
    batch = results.get("batch", {})
    if "speedup" in batch:
        rows += [("2 batch", f"predict DIR, 1 process ({batch['files']} files)",
                  batch["one_process_files_per_s"], "files/s"),
                 ("2 batch", f"predict DIR, {batch['workers']} processes",
                  batch["pool_files_per_s"], "files/s"),
                 ("2 batch", "pool/one process", batch["speedup"], "x")]
    app = results.get("app", {})
    for key, label in (("server_start", "streamlit server healthy"),
                       ("first_render", "Home rendered (browser nav -> done)"),
                       ("process_to_home", "server launch -> Home rendered"),
                       ("upload_to_listen", "upload -> Listen shows clip"),
                       ("upload_to_first_answer", "upload -> Compare's first answers"),
                       ("upload_to_predictions", "upload -> Compare shows predictions"),
                       ("warm_upload_to_predictions", "2nd clip upload -> all predictions")):
        if isinstance(app.get(key), dict):
            rows.append(("2 app", label, app[key], "s"))
    if isinstance(app.get("saliency_musicnn"), dict):
        rows.append(("2 app", "What the model heard (musicnn) shown", app["saliency_musicnn"],
                     "s"))
    for section, how in (("class", "browsers"), ("class_headless", "headless clients")):
        cls = results.get(section, {})
        if not isinstance(cls.get("upload_to_verdict"), dict):
            continue
        rows.append(("2 class", f"{cls['sessions']} sessions ({how}): upload -> own verdict",
                     cls["upload_to_verdict"], "s"))
        for key, label, unit in (("p95_upload_to_verdict_s", "95th percentile", "s"),
                                 ("slowest_session_s", "slowest session", "s"),
                                 ("server_peak_rss_mib", "server peak RSS", "MiB")):
            if key in cls:
                v = cls[key] * (2**20 if unit == "MiB" else 1)
                rows.append(("2 class", f"  {label}", {"min": v, "median": v, "max": v, "n": 1},
                             unit))
    ext = results.get("extraction", {})
    if "cold_clips_per_s" in ext:
        rows += [("3 extraction", f"cold ({ext['workers']} procs, {ext['clips']} clips)",
                  ext["cold_clips_per_s"], "clips/s"),
                 ("3 extraction", "cached", ext["cached_clips_per_s"], "clips/s"),
                 ("3 extraction", f"naive sequential ({ext['naive_clips']} clips)",
                  ext["naive_clips_per_s"], "clips/s"),
                 ("3 extraction", "cached/cold", ext["cached_vs_cold"], "x"),
                 ("3 extraction", "cold/naive", ext["cold_vs_naive"], "x")]
    tr = results.get("training", {})
    for fam, d in tr.items():
        if isinstance(d, dict) and "seconds_per_epoch" in d:
            rows.append(("4 training", f"{fam} s/epoch", d["seconds_per_epoch"], "s"))
            rows.append(("4 training", f"{fam} total ({tr['epochs']} ep)", d["total"], "s"))
    mem = results.get("memory", {})
    if isinstance(mem.get("predict_process_peak_rss"), dict):
        rows.append(("5 memory", "predict process peak RSS", mem["predict_process_peak_rss"],
                     "MiB"))
    if isinstance(mem.get("app_server_peak_rss"), dict):
        rows.append(("5 memory", "app server peak RSS (all pages)", mem["app_server_peak_rss"],
                     "MiB"))
    gr = results.get("growth", {})
    for name, d in gr.get("clips", {}).items():
        rows.append(("6 growth", f"{name} total", d["total"], "s"))
        one = {"min": d["ms_per_audio_second"] / 1000, "median": d["ms_per_audio_second"] / 1000,
               "max": d["ms_per_audio_second"] / 1000, "n": 1}
        rows.append(("6 growth", f"{name} per audio second", one, "ms"))
        if d.get("peak_rss_above_baseline") is not None:
            v = float(d["peak_rss_above_baseline"])
            rows.append(("6 growth", f"{name} peak RSS above warm baseline",
                         {"min": v, "median": v, "max": v, "n": 1}, "MiB"))
    return rows


def format_table(results: dict) -> str:
    rows = table_rows(results)
    lines = [f"{'section':<13} {'metric':<45} {'unit':>7} {'min':>9} {'median':>9} {'max':>9} "
             f"{'n':>3}", "-" * 101]
    for sec, metric, s, unit in rows:
        lines.append(f"{sec:<13} {metric:<45} {unit:>7} {_fmt(s['min'], unit):>9} "
                     f"{_fmt(s['median'], unit):>9} {_fmt(s['max'], unit):>9} {s['n']:>3}")
    for name, d in results.get("skipped", {}).items():
        lines.append(f"{name:<13} skipped: {d}")
    lines.append("")
    lines.append("Targets (on the median):")
    for t in results.get("targets", []):
        val = "-" if t["value"] is None else f"{t['value']:.3g}"
        lines.append(f"  [{t['status']:^12}] {t['target']:<40} {t['limit']:<10} measured {val}")
    return "\n".join(lines)
