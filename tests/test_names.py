"""Issue 21 point 4, one meaning per name: read from the source tree, so a new ``kc`` or a
store called ``st`` (Streamlit's name in the lab) fails here. The two public meanings of
``k`` stay (``MemoryConfig.k``: k-WTA winners; ``recall(k=)``: results); tables and
internal names say which (``wta_k``, ``at_k``, cutoffs, winners)."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [p for top in ("nuonuo_core", "lab", "pages", "scripts") for p in
           sorted((ROOT / top).rglob("*.py"))] + [ROOT / "app.py"]
# names that left k ambiguous inside the code: a code's winners (kc, kt), a list of recall
# cutoffs or of k-WTA values (ks)
AMBIGUOUS = {"kc", "kt", "ks"}


def _bound_names(tree: ast.AST):
    """(name, line) of every name a module binds or uses: variables, arguments, functions,
    classes, attributes, imports' aliases, exception names."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            yield node.id, node.lineno, isinstance(node.ctx, ast.Store)
        elif isinstance(node, ast.arg):
            yield node.arg, node.lineno, True
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node.name, node.lineno, True
        elif isinstance(node, ast.Attribute):
            yield node.attr, node.lineno, False
        elif isinstance(node, ast.ExceptHandler) and node.name:
            yield node.name, node.lineno, True


def test_sources_are_found():
    assert len(SOURCES) > 80 and (ROOT / "nuonuo_core" / "hebbian.py") in SOURCES


def test_no_internal_name_leaves_k_ambiguous():
    bad = [f"{p.relative_to(ROOT)}:{line} {name}" for p in SOURCES
           for name, line, _ in _bound_names(ast.parse(p.read_text(), str(p)))
           if name in AMBIGUOUS]
    assert not bad, bad


def test_st_is_only_streamlit():
    """``st`` is Streamlit's name everywhere: never a store, stats or a settled state."""
    bad = []
    for p in SOURCES:
        tree = ast.parse(p.read_text(), str(p))
        for name, line, binds in _bound_names(tree):
            if name == "st" and binds:
                bad.append(f"{p.relative_to(ROOT)}:{line}")
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    if alias.asname == "st" and not (isinstance(node, ast.Import) and
                                                     alias.name == "streamlit"):
                        bad.append(f"{p.relative_to(ROOT)}:{node.lineno} import as st")
    assert not bad, bad


def test_module_names_are_unique_and_do_not_shadow_the_standard_library():
    """One module called ``store`` (the engine's), and none named like a standard module
    (the lab's old ``io.py``)."""
    stores = [p for p in SOURCES if p.stem == "store"]
    assert stores == [ROOT / "nuonuo_core" / "store.py"]
    shadow = [str(p.relative_to(ROOT)) for p in SOURCES
              if p.stem in sys.stdlib_module_names and p.stem != "__main__"]
    assert not shadow, shadow


def test_stats_say_which_k():
    from nuonuo_core import HybridMemory, MemoryConfig

    mem = HybridMemory(MemoryConfig(code_dim=256, k=12, embed_dim=16, device="cpu"))
    mem.add_vectors(np.eye(16, dtype=np.float32)[:3])
    stats = mem.stats()
    assert stats["wta_k"] == 12 and "k" not in stats and stats["code_dim"] == 256
