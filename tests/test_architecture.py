"""The dependency direction of the README's "Layout" section: the domain core imports
nothing from the API, the CLI, the scheduler, the importers or the scorecards."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OUTER = ("pilot.api", "pilot.cli", "pilot.scheduler", "pilot.web", "importers", "scorecards")
CORE = sorted(
    p
    for p in (ROOT / "pilot").rglob("*.py")
    if p.relative_to(ROOT / "pilot").parts[0] not in {"api", "cli", "scheduler.py", "web"}
)


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(ROOT)))
def test_domain_core_does_not_import_the_outer_layers(path: Path) -> None:
    outer = {m for m in _imported_modules(path) if m.startswith(OUTER)}
    assert not outer, f"{path.relative_to(ROOT)} imports {sorted(outer)}"


def test_graphql_contract_folder_is_not_a_python_package() -> None:
    assert not (ROOT / "graphql" / "__init__.py").exists()
