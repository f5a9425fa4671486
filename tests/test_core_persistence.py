import os

import numpy as np
import pytest
import torch

from nuonuo_core import HashingEncoder, HybridMemory, MemoryConfig
from conftest import unit_rows


@pytest.fixture
def mem():
    m = HybridMemory(MemoryConfig(device="cpu", code_dim=4096, k=16), encoder=HashingEncoder())
    m.add(["the red key opens the shed", "lunch is at noon"], targets=["shed", "noon"],
          paraphrases=[["which key opens the shed"], []], importance=[3.0, 1.0])
    m.add_vectors(unit_rows(40), targets=unit_rows(40, seed=1))
    m.consolidate(epochs=2, replay_noise=0.1, homeostasis=0.9)
    m.clear_replay(0.5, "priority")
    return m


def test_round_trip_is_exact(tmp_path, mem):
    path = mem.save(tmp_path / "ws" / "demo.nuonuo")
    back = HybridMemory.load(path, encoder=HashingEncoder())
    assert back.config == mem.config and back.day == mem.day and back.ids() == mem.ids()
    ta, sa = mem.store.state_dict()
    tb, sb = back.store.state_dict()
    assert sa == sb and ta.keys() == tb.keys()
    for name in ta:
        assert torch.equal(ta[name], tb[name]), name
    back.validate()
    assert back.get(0) == mem.get(0) and back.stats()["w_norm"] == mem.stats()["w_norm"]
    q = unit_rows(10, seed=2)
    for method in ("hopfield", "hebbian", "cosine"):
        a, b = mem.recall_vectors(q, 3, method), back.recall_vectors(q, 3, method)
        assert np.array_equal(a[1], b[1]) and np.array_equal(a[0], b[0])
    assert back.add_vectors(unit_rows(1, seed=3)) == mem.add_vectors(unit_rows(1, seed=3))
    assert not [p for p in os.listdir(path.parent) if p.endswith(".tmp")]


def test_save_replaces_atomically(tmp_path, mem):
    path = tmp_path / "m.nuonuo"
    mem.save(path)
    mem.add_vectors(unit_rows(1, seed=9))
    mem.save(path)
    assert len(HybridMemory.load(path)) == len(mem)


def test_missing_truncated_and_corrupt_files_give_clear_errors(tmp_path, mem):
    with pytest.raises(FileNotFoundError, match="no memory file at"):
        HybridMemory.load(tmp_path / "nope.nuonuo")
    data = mem.to_bytes()
    cases = {"truncated": data[: len(data) // 2], "short": data[:5],
             "garbage": b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!",
             "other": b"PK\x03\x04" + bytes(100)}
    for name, blob in cases.items():
        p = tmp_path / f"{name}.nuonuo"
        p.write_bytes(blob)
        with pytest.raises(ValueError, match="is not a valid NuoNuo memory file"):
            HybridMemory.load(p)


def test_future_version_and_inconsistent_state_are_rejected(mem):
    from safetensors.torch import load, save

    from nuonuo_core.persistence import read_header, resign
    data = mem.to_bytes()
    tensors = load(data)
    meta = read_header(data)[0]
    with pytest.raises(ValueError, match="format version '99' is not supported"):
        HybridMemory.from_bytes(save(tensors, metadata={**meta, "version": "99"}))
    bad = dict(tensors, row_codes=tensors["row_codes"][:-1])
    with pytest.raises(ValueError, match="row_codes"):
        HybridMemory.from_bytes(resign(save(bad, metadata=meta)))
    bad = dict(tensors, target_codes=tensors["target_codes"] + 10_000)
    with pytest.raises(ValueError, match="outside"):
        HybridMemory.from_bytes(resign(save(bad, metadata=meta)))
