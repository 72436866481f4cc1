"""The modules of gallery/ and trainers/ import each other without a circle, nor do the pages' sections; no file
grows past what a newcomer reads at one sitting.

Every import is read with ``ast``, those inside functions too (a lazy import that closes a loop is still a loop:
it only moves the failure from import time to the first call). An import of a package's name resolves to the
submodule where one exists (``from gallery.vae import sharp`` -> ``gallery.vae.sharp``), else to the package.

Sizes: a page file (pages/, its sections' folders too) at most 450 lines, a trainer module at most 600. A page that
grows past it becomes a thin file over a folder of sections (pages/4_VAE_Explorer.py over pages/vae_explorer/); a
trainer, a command line over one module per family (trainers/digits.py over trainers/digits_*.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gallery", "trainers")
MAX_LINES = {"pages": 450, "trainers": 600}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(packages=PACKAGES) -> dict[str, Path]:
    return {module_name(p): p for package in packages for p in sorted((ROOT / package).rglob("*.py"))}


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ``known`` that the file imports, anywhere in it."""
    is_package = path.name == "__init__.py"
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the file's package, one level up per extra dot
                package = name.split(".") if is_package else name.split(".")[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join(package + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        out |= {t for t in targets if t in known and t != name}
    return out


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of the graph as [a, b, ..., a], or None (depth-first search, colouring the nodes)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def import_graph(packages=PACKAGES) -> dict[str, set[str]]:
    mods = modules(packages)
    return {name: imported(name, path, set(mods)) for name, path in mods.items()}


def test_the_walk_sees_imports_inside_functions():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    graph = import_graph()
    assert "gallery.vae.model" in graph["gallery.vae.cli"]  # imported only inside the verbs' functions
    assert "gallery.registry" in graph["gallery.vae.model"]


def test_gallery_and_trainers_have_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_pages_sections_have_no_import_cycle():
    graph = import_graph(("pages",))
    assert "pages.maps.view" in graph["pages.maps.built_in"] and "pages.maps.view" in graph["pages.maps.own_vectors"]
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_page_file_over_450_lines_and_no_trainer_module_over_600():
    for folder, limit in MAX_LINES.items():
        sizes = {p.relative_to(ROOT).as_posix(): len(p.read_text().splitlines()) for p in (ROOT / folder).rglob("*.py")}
        assert len(sizes) > 5, f"no files found under {folder}/"
        over = {path: n for path, n in sorted(sizes.items()) if n > limit}
        assert not over, f"over {limit} lines in {folder}/ (split it into parts, as the module docstring says): {over}"
