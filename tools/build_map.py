"""Build the map of music for a bundle: `python -m tools.build_map [--bundle DIR] [--data DIR
[--data DIR2]] [--method umap|tsne]`. Embeds the bundle's training tracks (report.json data.track_ids) with
musicnn (through the feature cache), fits the 2-D map and writes `<bundle>/map/`.
The shipped one: python -m tools.build_map --bundle assets/models/default --data ../shared/gtzan
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from genre_core.errors import GenreError
from genre_core.inference.bundle import DEFAULT_BUNDLE
from genre_core.inference.dataset import default_data_root
from genre_core.inference.music_map import build_for_bundle


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", default=str(DEFAULT_BUNDLE))
    ap.add_argument("--data", action="append",
                    help="dataset folder; repeat for several (default: ../shared/gtzan)")
    ap.add_argument("--method", choices=["umap", "tsne"], default="umap")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    try:
        m = build_for_bundle(args.bundle, args.data or [str(default_data_root())], args.method)
    except GenreError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{len(m.ids)} tracks mapped with {m.method} in {time.perf_counter() - t:.1f} s; "
          f"out-of-domain threshold {m.threshold:.4f}; written to {Path(args.bundle) / 'map'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
