"""No import circles inside genre_core or the app's studio package (function-level imports
count too): import-linter's contracts say who may import whom, this says nothing imports
itself round a loop."""
from __future__ import annotations

import sys
from pathlib import Path

import grimp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.setrecursionlimit(10_000)


def cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    edges = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for m in sorted(edges):
        if m not in index:
            visit(m)
    return found


if __name__ == "__main__":
    graph = grimp.build_graph("genre_core", "studio")
    found = cycles(graph)
    for comp in found:
        print("import circle:", " <-> ".join(comp))
    print(f"genre_core + studio import circles ({len(graph.modules)} modules): "
          f"{'BROKEN' if found else 'none'}")
    sys.exit(1 if found else 0)
