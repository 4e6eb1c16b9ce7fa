"""Every script in tools/ and studies/ imports as a module of its package (`python -m tools.x`,
`python -m studies.x` from the repository root), without touching sys.path, and runs only
when asked (a `main` function or an `if __name__ == "__main__":` guard). The scripts are
found with a glob, so a new one is covered without a line here."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from tests.helpers.paths import ROOT

PACKAGES = ("tools", "studies")
SCRIPTS = [p for pkg in PACKAGES for p in sorted((ROOT / pkg).glob("*.py"))
           if p.name != "__init__.py"]
GUARD = 'if __name__ == "__main__":'


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def test_scripts_found():
    assert {p.parent.name for p in SCRIPTS} == set(PACKAGES)
    for pkg in PACKAGES:
        assert (ROOT / pkg / "__init__.py").is_file(), f"{pkg}/ is not a package"


@pytest.mark.parametrize("path", SCRIPTS, ids=_id)
def test_script_imports_as_module(path: Path):
    source = path.read_text(encoding="utf-8")
    assert "sys.path.insert" not in source and "sys.path.append" not in source, (
        f"{_id(path)} edits sys.path: import through the package instead "
        f"(from {path.parent.name}.x import ...), and run it as python -m {path.parent.name}.x")
    before = list(sys.path)
    module = importlib.import_module(f"{path.parent.name}.{path.stem}")
    # the repository's file, not a same-named package elsewhere on the path
    assert Path(module.__file__).resolve() == path.resolve()
    assert sys.path == before, f"importing {_id(path)} changed sys.path"
    assert callable(getattr(module, "main", None)) or GUARD in source, (
        f"{_id(path)} has neither a main() nor an {GUARD} guard")
