"""The import contract (docs/architecture.md), read from the source with ``ast``: every
``import`` in every .py file of the repository, those inside functions included (a late
import hides a circle, it does not remove it). Imports under ``if TYPE_CHECKING:`` are left
out: they never run.

1. ``nuonuo_core`` imports nothing of the lab (lab, pages, app), of scripts or tests, and
   never streamlit or plotly: the engine works without a UI.
2. Pages import only the lab, nuonuo_core, streamlit, numpy, pandas and the standard
   library: figures are built in ``lab`` (no plotly), engine work goes through nuonuo_core
   (no torch), and a page never imports another page, app.py, scripts or tests.
3. ``lab`` never imports pages, app.py, scripts or tests; inside it, a module imports only
   its own layer or lower ones (``LAB_LAYERS``).
4. No import circle among the project's modules.
5. At most ``MAX_LAB_TOP`` modules and packages at ``lab/``'s top level.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP_DIRS = {"build", "dist", "workspaces", "node_modules", "__pycache__"}
MAX_LAB_TOP = 12
#: lab's layers, lowest first: a lab module may import its own layer and the ones below.
#: A top-level lab module or package not listed counts as a feature (layer 2).
LAB_LAYERS = {
    "lab.limits": 0, "lab.ui": 0, "lab.charts": 0, "lab.server": 0,
    "lab.workspace": 1,
    "lab.analysis": 2, "lab.nights": 2, "lab.patterns": 2, "lab.sweep": 2,
    "lab.conversation": 2,
    "lab.tour": 3,
}
FEATURE_LAYER = 2
PAGE_MAY_IMPORT = {"lab", "nuonuo_core", "streamlit", "numpy", "pandas"}
#: folders whose files import each other by bare name (the script's folder is on sys.path)
SIBLING_IMPORTS = {"scripts", "tests"}
ENGINE_MUST_NOT = {"lab", "pages", "app", "scripts", "tests", "streamlit", "plotly"}


# --- reading the project ---------------------------------------------------------------------
def python_files(root: Path) -> list[Path]:
    """Every .py file under ``root`` outside hidden and build folders (.venv, .git …)."""
    out = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if any(p.startswith(".") or p in SKIP_DIRS or p.endswith(".egg-info")
               for p in parts[:-1]):
            continue
        out.append(path)
    return out


def module_name(path: Path, root: Path) -> str:
    """``lab/workspace/state.py`` -> ``lab.workspace.state``; a package is its folder."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imported_names(source: str, module: str, is_package: bool) -> list[tuple[str, int]]:
    """(absolute dotted name, line) of every import in ``source``, at any depth. ``from X
    import a`` gives ``X.a`` (a submodule or a name in X: the caller tells them apart);
    relative imports are resolved against ``module``."""
    tree = ast.parse(source)
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    package = module if is_package else module.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".") if package else []
                anchor = anchor[:len(anchor) - (node.level - 1)] if node.level > 1 else anchor
                base = ".".join(anchor + ([base] if base else []))
            out += [(f"{base}.{alias.name}" if alias.name != "*" else base, node.lineno)
                    for alias in node.names]
    return out


def read_project(root: Path) -> dict[str, tuple[Path, list[tuple[str, int]]]]:
    """module name -> (file, [(imported name, line)])."""
    project = {}
    for path in python_files(root):
        name = module_name(path, root)
        project[name] = (path, imported_names(path.read_text(encoding="utf-8"), name,
                                              path.name == "__init__.py"))
    return project


def resolve(name: str, modules: set[str]) -> str | None:
    """The project module an imported name lands in (its longest known prefix), else None."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def graph(project) -> dict[str, dict[str, int]]:
    """module -> {project module it imports: first line}; a module's own name is left out."""
    modules = set(project)
    edges: dict[str, dict[str, int]] = {m: {} for m in modules}
    for mod, (_, names) in project.items():
        for name, line in names:
            target = resolve(name, modules)
            if target is None and top(mod) in SIBLING_IMPORTS:
                target = resolve(f"{top(mod)}.{name}", modules)
            if target is not None and target != mod:
                edges[mod].setdefault(target, line)
    return edges


def cycles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """Every strongly connected component of 2+ modules (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
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

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(edges) + 100))
    try:
        for v in sorted(edges):
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return found


def top(name: str) -> str:
    return name.split(".")[0]


def lab_unit(name: str) -> str:
    """``lab.workspace.state`` -> ``lab.workspace``; ``lab.ui`` -> ``lab.ui``."""
    return ".".join(name.split(".")[:2])


def violations(project) -> list[str]:
    """Every broken rule, one readable line each (empty: the contract holds)."""
    modules = set(project)
    bad = []
    for mod, (path, names) in sorted(project.items()):
        where = path.name if "." not in mod else mod
        for name, line in names:
            first = top(name)
            target = resolve(name, modules)
            if top(mod) == "nuonuo_core" and first in ENGINE_MUST_NOT:
                bad.append(f"{mod}:{line} imports {name}: nuonuo_core never imports the lab, "
                           f"scripts, tests, streamlit or plotly")
            if top(mod) == "pages":
                stdlib = first in sys.stdlib_module_names and target is None
                if not (stdlib or first in PAGE_MAY_IMPORT):
                    bad.append(f"{where}:{line} imports {name}: pages import only "
                               f"{sorted(PAGE_MAY_IMPORT)} and the standard library")
            if top(mod) == "lab" and first in {"pages", "app", "scripts", "tests"}:
                bad.append(f"{mod}:{line} imports {name}: the lab never imports pages, app, "
                           f"scripts or tests")
            if top(mod) == "lab" and target is not None and top(target) == "lab" \
                    and lab_unit(target) != lab_unit(mod) and lab_unit(mod) != "lab":
                mine = LAB_LAYERS.get(lab_unit(mod), FEATURE_LAYER)
                theirs = LAB_LAYERS.get(lab_unit(target), FEATURE_LAYER)
                if theirs > mine:
                    bad.append(f"{mod}:{line} imports {target}: layer {mine} may not import "
                               f"layer {theirs} (tests/test_import_contract.py LAB_LAYERS)")
    for comp in cycles(graph(project)):
        bad.append("import circle: " + " -> ".join(comp))
    for comp in cycles(engine_packages(graph(project))):
        bad.append("package circle: " + " -> ".join(comp))
    return bad


def engine_unit(name: str) -> str | None:
    """``nuonuo_core.sweep.grid`` -> ``nuonuo_core.sweep``; a top-level engine module is its
    own unit; outside the engine: None."""
    parts = name.split(".")
    if parts[0] != "nuonuo_core" or len(parts) < 2:
        return None
    return ".".join(parts[:2])


def engine_packages(edges: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """The module graph folded onto the engine's subpackages: two packages that import each
    other (through any of their modules) are a circle too, even when no two modules are."""
    folded: dict[str, dict[str, int]] = {}
    for mod, targets in edges.items():
        unit = engine_unit(mod)
        if unit is None:
            continue
        folded.setdefault(unit, {})
        for target, line in targets.items():
            other = engine_unit(target)
            if other is not None and other != unit:
                folded[unit].setdefault(other, line)
    return folded


def lab_top_level(root: Path) -> list[str]:
    """Modules and packages at lab/'s top level (``__init__.py`` not counted)."""
    lab = root / "lab"
    return sorted(p.stem if p.is_file() else p.name for p in lab.iterdir()
                  if (p.suffix == ".py" and p.name != "__init__.py")
                  or (p.is_dir() and (p / "__init__.py").is_file()))


# --- the contract on this repository ---------------------------------------------------------
@pytest.fixture(scope="module")
def project():
    return read_project(ROOT)


def test_the_import_contract_holds(project):
    bad = violations(project)
    assert not bad, "\n".join(bad)


def test_the_reader_sees_every_part_of_the_project(project):
    """The graph covers the engine, the lab, the pages, app.py, tests and scripts, and reads
    imports inside functions (the lab's page frame imports the sidebar)."""
    tops = {top(m) for m in project}
    assert {"nuonuo_core", "lab", "pages", "app", "tests", "scripts"} <= tops
    edges = graph(project)
    assert "lab.workspace.sidebar" in edges["lab.workspace.frame"]
    assert "lab.workspace.state" in edges["lab.workspace.sidebar"]
    assert len(project) > 100


def test_lab_top_level_is_small():
    found = lab_top_level(ROOT)
    assert len(found) <= MAX_LAB_TOP, found


def test_lab_init_describes_every_module_and_package():
    """lab/__init__.py names every module (``workspace/state``) and package (``sweep/``)."""
    doc = ast.get_docstring(ast.parse((ROOT / "lab" / "__init__.py").read_text("utf-8")))
    lab = ROOT / "lab"
    named = [f"``{'/'.join(p.relative_to(lab).with_suffix('').parts)}``"
             for p in sorted(lab.rglob("*.py"))
             if p.name != "__init__.py" and "__pycache__" not in p.parts]
    named += [f"``{p.name}/``" for p in sorted(lab.iterdir()) if (p / "__init__.py").is_file()]
    missing = [n for n in named if n not in doc]
    assert not missing, f"lab/__init__.py does not describe {missing}"


# --- the checker catches what it must (planted mistakes) -------------------------------------
def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


BASE = {
    "nuonuo_core/__init__.py": "from .memory import Memory\n",
    "nuonuo_core/memory.py": "import numpy as np\nfrom .config import Config\n",
    "nuonuo_core/config.py": "import dataclasses\n",
    "lab/__init__.py": "",
    "lab/ui.py": "import streamlit as st\n",
    "lab/workspace/__init__.py": "",
    "lab/workspace/state.py": "from lab.ui import plain\nfrom nuonuo_core import Memory\n",
    "lab/workspace/frame.py": "def page():\n    from .state import memory\n",
    "pages/1_Home.py": "import json\nimport streamlit as st\nfrom lab.workspace import frame\n",
    "app.py": "from lab.workspace import frame\n",
    ".venv/lib/bad.py": "import lab.pages\n",   # hidden folders are not the project
}


def test_checker_passes_a_clean_tree(tmp_path):
    _write(tmp_path, BASE)
    assert violations(read_project(tmp_path)) == []


@pytest.mark.parametrize("path,text,expect", [
    ("nuonuo_core/config.py", "import streamlit as st\n", "nuonuo_core never imports"),
    ("nuonuo_core/config.py", "def f():\n    import plotly.express\n", "nuonuo_core never"),
    ("nuonuo_core/config.py", "def f():\n    from lab.workspace import state\n", "never"),
    ("nuonuo_core/config.py", "from nuonuo_core import memory\n", "import circle"),
    ("nuonuo_core/config.py", "def f():\n    from . import memory\n", "import circle"),
    ("lab/ui.py", "def f():\n    from lab.workspace import state\n", "layer 0 may not"),
    ("lab/ui.py", "def f():\n    from .workspace.frame import page\n", "layer 0 may not"),
    ("lab/workspace/state.py", "from .frame import page\n", "import circle"),
    ("lab/workspace/state.py", "import app\n", "the lab never imports"),
    ("pages/1_Home.py", "import plotly.graph_objects as go\n", "pages import only"),
    ("pages/1_Home.py", "import torch\n", "pages import only"),
    ("pages/1_Home.py", "import app\n", "pages import only"),
])
def test_checker_catches_a_planted_mistake(tmp_path, path, text, expect):
    _write(tmp_path, {**BASE, path: BASE.get(path, "") + text})
    found = violations(read_project(tmp_path))
    assert any(expect in line for line in found), found


def test_type_checking_imports_do_not_count(tmp_path):
    _write(tmp_path, {**BASE, "nuonuo_core/config.py": "from typing import TYPE_CHECKING\n"
                      "if TYPE_CHECKING:\n    from nuonuo_core.memory import Memory\n"})
    assert violations(read_project(tmp_path)) == []


def test_lab_top_level_counts_modules_and_packages(tmp_path):
    _write(tmp_path, {**BASE, **{f"lab/m{i}.py": "" for i in range(12)}, "lab/notes.txt": ""})
    assert len(lab_top_level(tmp_path)) == 14     # m0..m11, ui, workspace


def test_checker_catches_a_circle_between_two_engine_packages(tmp_path):
    """sweep.grid -> experiments.registry and experiments.cli -> sweep.seeds: no two modules
    import each other, but the two packages do (the old experiments <-> sweep seed parser)."""
    files = {**BASE,
             "nuonuo_core/experiments/__init__.py": "",
             "nuonuo_core/experiments/registry.py": "import dataclasses\n",
             "nuonuo_core/experiments/cli.py": "from ..sweep.seeds import parse\n",
             "nuonuo_core/sweep/__init__.py": "",
             "nuonuo_core/sweep/seeds.py": "import re\n",
             "nuonuo_core/sweep/grid.py": "from ..experiments.registry import Config\n"}
    _write(tmp_path, files)
    found = violations(read_project(tmp_path))
    assert found == ["package circle: nuonuo_core.experiments -> nuonuo_core.sweep"], found
    files["nuonuo_core/experiments/cli.py"] = "import argparse\n"     # the circle broken
    _write(tmp_path, files)
    assert violations(read_project(tmp_path)) == []
