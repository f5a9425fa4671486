"""The engine installs: a wheel built from the checkout's pyproject (offline, no build
isolation) carries every nuonuo_core module and its data file, installs into a fresh folder,
and from a folder outside the checkout ``import nuonuo_core``, ``python -m
nuonuo_core.experiments list`` and the console scripts run from that install, never from the
checkout."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow
OFFLINE = {"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_FIND_LINKS": ""}
SCRIPTS = {"nuonuo-experiments", "nuonuo-sweep", "nuonuo-bench"}


def run(cmd: list[str], cwd: Path, env: dict | None = None, timeout: float = 240):
    res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=timeout)
    assert res.returncode == 0, f"{cmd} failed:\n{res.stdout[-2000:]}\n{res.stderr[-4000:]}"
    return res


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(wheel, install folder): the wheel built from a copy of the checkout's packaging
    inputs (so the build leaves nothing in the checkout), installed with --target."""
    tmp = tmp_path_factory.mktemp("pkg")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "nuonuo_core", src / "nuonuo_core",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    env = {**os.environ, **OFFLINE}
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp / "dist"), str(src)], cwd=tmp, env=env)
    [wheel] = (tmp / "dist").glob("nuonuo_core-*.whl")
    target = tmp / "site"
    run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
         str(wheel)], cwd=tmp, env=env)
    return wheel, target


def outside_env(target: Path) -> dict:
    """The venv's dependencies, the install folder, and nothing of the checkout."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return {**env, "PYTHONPATH": str(target), "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1"}


def test_the_wheel_carries_every_module_and_the_data(installed):
    wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "nuonuo_core").rglob("*.py")
               if "__pycache__" not in p.parts}
    assert sources and sources <= names, sorted(sources - names)
    data = {p.relative_to(ROOT).as_posix() for p in (ROOT / "nuonuo_core" / "data").iterdir()}
    assert "nuonuo_core/data/paraphrase_facts.json" in data and data <= names
    assert not {n for n in names if n.split("/")[0] in {"lab", "pages", "tests", "scripts",
                                                         "assets"}}
    entry = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry).decode()
    assert all(f"{s} = nuonuo_core." in text for s in SCRIPTS), text


def test_import_and_cli_from_outside_the_checkout(installed, tmp_path):
    _, target = installed
    env = outside_env(target)
    probe = ("import sys, nuonuo_core\n"
             "from nuonuo_core.experiments import paraphrase\n"
             "print(nuonuo_core.__file__)\n"
             "print(paraphrase.ASSET, paraphrase.ASSET.is_file(), len(paraphrase.load_facts()))\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('lab', 'streamlit', 'plotly')))\n")
    out = run([sys.executable, "-c", probe], cwd=tmp_path, env=env).stdout.splitlines()
    assert Path(out[0]).resolve().is_relative_to(target.resolve()), out
    asset, exists, n = out[1].rsplit(" ", 2)
    assert Path(asset).resolve().is_relative_to(target.resolve()) and exists == "True"
    assert int(n) > 0
    assert out[2] == "[]"        # the engine pulled in no UI package
    listing = run([sys.executable, "-m", "nuonuo_core.experiments", "list"], cwd=tmp_path,
                  env=env).stdout
    from nuonuo_core.experiments import EXPERIMENTS
    firsts = {line.split()[0] for line in listing.splitlines() if line.strip()}
    assert set(EXPERIMENTS) <= firsts, listing


def test_console_scripts_run_from_the_install(installed, tmp_path):
    _, target = installed
    env = outside_env(target)
    assert {p.name for p in (target / "bin").iterdir()} >= SCRIPTS
    listing = run([str(target / "bin" / "nuonuo-experiments"), "list"], cwd=tmp_path,
                  env=env).stdout
    assert "noise" in {line.split()[0] for line in listing.splitlines() if line.strip()}
    for script in ("nuonuo-bench", "nuonuo-sweep"):
        out = run([str(target / "bin" / script), "--help"], cwd=tmp_path, env=env).stdout
        assert "nuonuo_core" in out or "usage" in out.lower(), out
