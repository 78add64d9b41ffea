"""The service and shared code never import torch or the trainer (statically checked; the
running process is checked in test_office.py)."""

from __future__ import annotations

import ast

from tests.service.conftest import REPO

FORBIDDEN = ("torch", "trainer")


def _imported_modules(source: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_service_and_shared_import_neither_torch_nor_trainer():
    offenders = []
    files = sorted((REPO / "service").rglob("*.py")) + sorted((REPO / "shared").rglob("*.py"))
    assert len(files) > 20
    for path in files:
        for module in _imported_modules(path.read_text()):
            if module.split(".")[0] in FORBIDDEN:
                offenders.append(f"{path.relative_to(REPO)}: {module}")
    assert offenders == []
