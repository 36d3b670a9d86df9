"""The shape of the code: no import cycles (lazy imports included) and small modules.

The layering itself is the import contract in pyproject.toml, checked by `lint-imports`.
"""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 400


def test_no_module_imports_itself_through_others() -> None:
    graph = grimp.build_graph("bot", "handlers")
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if imported == module or not imported.startswith(("bot", "handlers")):
                continue
            back = graph.find_shortest_chain(importer=imported, imported=module)
            # A package importing its own submodules (an __init__ re-export) is not a cycle.
            if back and not imported.startswith(module + "."):
                cycles.append(" -> ".join((module, *back)))
    assert cycles == []


@pytest.mark.parametrize(
    "path",
    sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("[bh][oa]*/**/*.py")),
)
def test_modules_stay_small(path: str) -> None:
    lines = (ROOT / path).read_text().count("\n")
    assert lines <= MAX_LINES, f"{path} has {lines} lines; split it by job"
