"""The architecture holds (docs/contributing.md): no import runs up a layer, and every module stays short.

    fromzero/  <-  project/  <-  stages/  <-  tools/  <-  bench/

A module may import its own layer and those to its left. Read from the source (ast), imports inside
functions included: a lazy import is an import all the same.
"""

import ast

import pytest

from tests.conftest import ROOT

LAYERS = ["fromzero", "project", "stages", "tools", "bench"]
MAX_LINES = 300


def modules(folder):
    return sorted(path for path in (ROOT / folder).rglob("*.py") if "__pycache__" not in path.parts)


def first_party_imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
            [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else []
        for name in names:
            if name.split(".")[0] in LAYERS:
                yield node.lineno, name.split(".")[0]


@pytest.mark.parametrize("layer", LAYERS)
def test_no_import_runs_up_a_layer(layer):
    allowed = set(LAYERS[:LAYERS.index(layer) + 1])
    upward = [f"{path.relative_to(ROOT)}:{line} imports {name}" for path in modules(layer)
              for line, name in first_party_imports(path) if name not in allowed]
    assert not upward, upward


@pytest.mark.parametrize("layer", ["fromzero", "project", "stages", "tools"])
def test_every_module_has_one_job_and_stays_under_300_lines(layer):
    long = {str(path.relative_to(ROOT)): count for path in modules(layer)
            if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, long


def test_the_library_reads_and_writes_no_file():
    """fromzero/ is numpy in, numpy out: no open(), no pathlib, no os, no printing."""
    forbidden = {"open", "print"}
    found = []
    for path in modules("fromzero"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in forbidden:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} calls {node.func.id}()")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                found += [f"{path.relative_to(ROOT)}:{node.lineno} imports {name}" for name in names
                          if name.split(".")[0] in ("os", "pathlib", "shutil", "subprocess", "json", "yaml")]
    assert not found, found
