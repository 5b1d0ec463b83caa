"""The code's rooms keep their doors: no import circles, and each layer imports only below it.

Every import counts, at module level, inside functions and under `TYPE_CHECKING`, read from
the source with `ast` (nothing is imported to check it).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ledger", "projections", "api", "web")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources(*packages: str) -> Iterator[tuple[str, Path]]:
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield _module_name(path), path


def _imports(name: str, path: Path) -> set[str]:
    """Returns the modules a source file imports, absolute, as written."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _graph(*packages: str) -> dict[str, set[str]]:
    sources = dict(_sources(*packages))
    return {name: {imported for imported in _imports(name, path) if imported in sources
                   and imported != name}
            for name, path in sources.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Returns one import circle of the graph, or None."""
    state: dict[str, int] = {}
    trail: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        trail.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*trail[trail.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        trail.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def _importers(prefix: str, *packages: str, among: str = "") -> list[str]:
    return sorted(f"{name} imports {imported}"
                  for name, path in _sources(*packages) if name.startswith(among)
                  for imported in _imports(name, path)
                  if imported == prefix or imported.startswith(prefix + "."))


def test_the_application_has_no_import_circle() -> None:
    assert _cycle(_graph(*PACKAGES)) is None


def test_the_ledger_imports_no_adapter() -> None:
    for adapter in ("api", "projections", "web", "fastapi", "sqlalchemy"):
        assert _importers(adapter, "ledger", among="ledger.domain") == []
    for adapter in ("api", "projections", "web"):
        assert _importers(adapter, "ledger") == []


def test_only_the_app_imports_the_routers() -> None:
    """Routers share nothing with each other or the till's fast path: shared code lives in
    `api/deps.py` or below."""
    assert [line for line in _importers("api.routers", *PACKAGES)
            if not line.startswith(("api.app imports", "api.routers imports"))] == []


def test_the_pages_import_no_router() -> None:
    assert _importers("api.routers", "web") == []


def test_commands_import_the_unit_of_work_not_the_writer() -> None:
    assert _importers("ledger.write.writer", "ledger", among="ledger.commands") == []


@pytest.mark.parametrize(("importer", "imported"), [("tests", "bench"), ("bench", "tests")])
def test_tests_and_benchmarks_stand_apart(importer: str, imported: str) -> None:
    assert _importers(imported, importer) == []
