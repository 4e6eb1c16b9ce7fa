"""The app's router (app.py) obeys the genre_core part of the app's contract in pyproject.toml,
as app_pages/ and studio/ do. import-linter cannot take a single-file top-level module as a root
package, so this reads its imports with ast and follows them with grimp (through studio/)."""
from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
FILES = ["app.py"]


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
                    if c["id"] == "app-layout-only")
    forbidden = set(contract["forbidden_modules"])

    def is_forbidden(module: str) -> bool:
        return any(module == f or module.startswith(f + ".") for f in forbidden)

    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph("genre_core", "studio", "bench", include_external_packages=True)
    broken = []
    for name in FILES:
        for mod in sorted(imported(ROOT / name)):
            if is_forbidden(mod):
                broken.append(f"{name} imports {mod}")
            elif mod in graph.modules:
                reach = graph.find_upstream_modules(mod) | {mod}
                bad = {m for m in reach if is_forbidden(m)}
                broken += [f"{name} imports {mod}, which reaches {b}" for b in sorted(bad)]
    for line in broken:
        print(line)
    print(f"app router ({', '.join(FILES)}): {'BROKEN' if broken else 'KEPT'}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
