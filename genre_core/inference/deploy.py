"""Where a served app may read from: the operator's choice, made when the server starts.

A visitor of a public demo must not reach the server's files: the dataset roots and model
bundles are listed by the operator (environment, or arguments after `--` of
`streamlit run app.py`) and a visitor picks among them by name. Typing free paths is a local,
single-user mode the operator turns on explicitly (GENRE_LOCAL_MODE=1 or --local).

    GENRE_DATA=/srv/gtzan:/srv/extra           dataset roots (os.pathsep-separated)
    GENRE_BUNDLES=/srv/bundles                 bundle folders, or folders holding bundles
    GENRE_BUNDLE=/srv/bundles/default          the default bundle (else the shipped one)
    GENRE_LOCAL_MODE=1                          free paths in the sidebar (one trusted user)
    streamlit run app.py -- --data A --data B --bundles C --local
"""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path

TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class ServerSettings:
    data_roots: dict[str, str] = field(default_factory=dict)   # name -> path, in order
    bundles: dict[str, str] = field(default_factory=dict)      # name -> bundle folder
    local_mode: bool = False

    @property
    def allowed_bundle_roots(self) -> list[str] | None:
        """Where bundles may be loaded from (None = anywhere, in local mode)."""
        return None if self.local_mode else list(self.bundles.values())

    def dataset_options(self) -> dict[str, list[str]]:
        """Choices offered to a visitor: all roots together (when several), then each."""
        roots = list(self.data_roots.values())
        out: dict[str, list[str]] = {}
        if len(roots) > 1:
            out[f"all {len(roots)} datasets"] = roots
        out.update({name: [path] for name, path in self.data_roots.items()})
        return out


def _split(values) -> list[str]:
    return [p for v in values or [] for p in str(v).split(os.pathsep) if p.strip()]


def _name(path: Path, taken: dict) -> str:
    base = path.name if path.name not in ("", "Data", "genres_original") else path.parent.name
    base = base or str(path)
    name, k = base, 2
    while name in taken:
        name, k = f"{base} ({k})", k + 1
    return name


def _bundle_folders(entry: Path) -> list[Path]:
    if (entry / "bundle.json").exists():
        return [entry]
    try:
        return sorted(p for p in entry.iterdir() if (p / "bundle.json").exists())
    except OSError:
        return []


def server_settings(environ=None, argv: list[str] | None = None) -> ServerSettings:
    """Read the operator's settings from the environment and the script arguments."""
    from genre_core.inference.bundle import DEFAULT_BUNDLE

    env = os.environ if environ is None else environ
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--data", action="append", default=[])
    ap.add_argument("--bundles", action="append", default=[])
    ap.add_argument("--bundle", default=None)
    ap.add_argument("--local", action="store_true")
    args, _ = ap.parse_known_args(argv or [])

    data: dict[str, str] = {}
    for p in _split(args.data or [env.get("GENRE_DATA", "")]):
        path = Path(p).expanduser()
        data[_name(path, data)] = str(path)

    bundles: dict[str, str] = {}
    default = args.bundle or env.get("GENRE_BUNDLE") or str(DEFAULT_BUNDLE)
    entries = [Path(default).expanduser()] + [Path(p).expanduser() for p in
                                              _split(args.bundles or
                                                     [env.get("GENRE_BUNDLES", "")])]
    for i, entry in enumerate(entries):
        for folder in (_bundle_folders(entry) if i else [entry]):
            if str(folder) not in bundles.values():
                name = "default" if folder == DEFAULT_BUNDLE else _name(folder, bundles)
                bundles[name] = str(folder)
    local = args.local or env.get("GENRE_LOCAL_MODE", "").strip().lower() in TRUE
    return ServerSettings(data, bundles, local)
