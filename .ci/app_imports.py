"""The app's top-level modules (app.py, ui_state.py, ui_views.py) obey the genre_core part of
the pages contract in pyproject.toml. import-linter cannot take single-file top-level modules
as root packages, so this reads their imports with ast and follows them with grimp."""
from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
FILES = ["app.py", "ui_state.py", "ui_views.py"]


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def main() -> int:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(c for c in config["tool"]["importlinter"]["contracts"]
                    if c["id"] == "pages-layout-only")
    # the training modules only: the app loads Keras models (through the inference layer)
    forbidden = {m for m in contract["forbidden_modules"] if m.startswith("genre_core.")}
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph("genre_core", include_external_packages=True)
    broken = []
    for name in FILES:
        for mod in sorted(imported(ROOT / name)):
            top = mod.split(".")[0]
            if mod in forbidden or top in forbidden:
                broken.append(f"{name} imports {mod}")
            elif mod in graph.modules:
                reach = graph.find_upstream_modules(mod) | {mod}
                bad = {m for m in reach if m in forbidden or m.split(".")[0] in forbidden}
                broken += [f"{name} imports {mod}, which reaches {b}" for b in sorted(bad)]
    for line in broken:
        print(line)
    print(f"app modules ({', '.join(FILES)}): {'BROKEN' if broken else 'KEPT'}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
