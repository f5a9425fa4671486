"""The store's invariants and the engine's bounds (issue 9, points 6-11)."""
import time

import numpy as np
import pytest
import torch

from nuonuo_core import HybridMemory, MemoryConfig
from conftest import unit_rows

CPU = dict(device="cpu")


@pytest.mark.parametrize("fmt", ["sparse", "dense"])
def test_remove_after_noisy_replay_leaves_only_what_the_rest_stored(fmt):
    x = unit_rows(40, seed=1)
    D = 2048
    mem = HybridMemory(MemoryConfig(code_dim=D, k=12, w_format=fmt, **CPU))
    ids = mem.add_vectors(x, targets=unit_rows(40, seed=2), importance=3.0)
    mem.consolidate(epochs=3, replay_noise=0.3, homeostasis=0.9, prune_threshold=0.0)
    mem.remove(ids[20:])
    mem.validate()
    kept_units = np.unique(mem.codes(ids[:20])[1])
    W = mem.w_dense()
    assert not W[np.setdiff1d(np.arange(D), kept_units)].any()  # no removed memory's rows
    # what stays equals a replay of the kept memories' own shares
    v = mem.store.contrib       # column-major: (column, memory position, value)
    ref = np.zeros((D, D), np.float32)
    tc = mem.store.target_codes.numpy()
    for c, p, val in zip(v.cols().tolist(), v.mem.tolist(), v.vals.tolist()):
        ref[tc[p], c] += val
    assert np.allclose(W, ref, atol=1e-4)
    mem.remove(ids[:20])
    assert mem.stats()["w_nnz"] == 0 and not mem.w_dense().any()


@pytest.mark.parametrize("call", [
    lambda m: m.remove([0.9]), lambda m: m.get(1.7), lambda m: m.remove(np.array([1.0])),
    lambda m: m.get(True), lambda m: m.set_importance([0.5], 2.0), lambda m: m.chain(1.2),
    lambda m: m.codes(["0"]),
])
def test_non_integer_ids_are_refused(call):
    mem = HybridMemory(MemoryConfig(**CPU))
    mem.add_vectors(unit_rows(3))
    with pytest.raises(ValueError, match="memory ids must be integers"):
        call(mem)
    assert len(mem) == 3
    assert mem.get(np.int64(1))["id"] == 1 and 1 in mem and 1.5 not in mem


@pytest.mark.parametrize("scale", [1e20, 1e-30, 3e37])
def test_vectors_of_any_float32_scale_are_stored_by_direction(scale):
    x = unit_rows(3, seed=3)
    mem = HybridMemory(MemoryConfig(**CPU))
    mem.add_vectors((x * np.float32(scale)).astype(np.float32))
    for method in ("hopfield", "hebbian", "cosine"):
        s, got = mem.recall_vectors(x, k=1, method=method)
        assert got[:, 0].tolist() == [0, 1, 2], method
    # stored as float16: each entry within 2^-11 of itself, so the norm within ~5e-4 of 1
    assert np.allclose(mem.store.index.emb.norm(dim=1).numpy(), 1.0, atol=5e-4)
    with pytest.raises(ValueError, match="NaN or infinite"):
        mem.add_vectors(x.astype(np.float64) * 1e300)


def test_queries_never_change_torch_threads(monkeypatch):
    """torch.set_num_threads is not safe to call per query: new threads (each lab session's
    script run) inherit the last value set, so one user's query would change another's."""
    calls = []
    monkeypatch.setattr(torch, "set_num_threads", lambda n: calls.append(n))
    x = unit_rows(50, seed=4)
    mem = HybridMemory(MemoryConfig(**CPU))
    mem.add_vectors(x[:-1], targets=x[1:])
    for method in ("hopfield", "hebbian", "cosine"):
        mem.recall_vectors(x[:3], k=2, method=method)
        mem.recall_vectors(x[:1], k=2, method=method)
    assert mem.chain(0, hops=3)
    mem.recall_codes(x[:2], hops=2)
    mem.consolidate(epochs=1)
    assert calls == []


@pytest.mark.parametrize("field, value, rng", [
    ("code_dim", 2**40, "[2, 131072]"), ("max_steps", 10**9, "[1, 1000]"),
    ("eps", 1e-300, "[1e-09, 1]"), ("top_k", 10**12, "[1, 10000]"), ("k", 10**6, "[1, 256]"),
    ("beta", 1e9, "(0, 10000]"), ("lr", 1e30, "(0, 100]"), ("seed", -1, "[0, 4294967295]"),
    ("min_overlap", 0.0, "(0, 1]"), ("min_overlap", 1.5, "(0, 1]"),
    ("ann_nprobe", 10**7, "[1, 8192]"), ("embed_dim", 10**6, "[1, 8192]"),
])
def test_config_fields_have_documented_ranges(field, value, rng):
    with pytest.raises(ValueError) as err:
        MemoryConfig(**{field: value})
    kind = "an int" if isinstance(value, int) else "a finite number"
    assert f"{field} must be {kind} in {rng}, got {value!r}" in str(err.value)


def test_config_refuses_huge_projection_and_dense_w():
    with pytest.raises(ValueError, match="code_dim × embed_dim must be <= 2\\^26"):
        MemoryConfig(code_dim=2**17, embed_dim=1024)
    with pytest.raises(ValueError, match="w_format='dense' needs code_dim <= 16384"):
        MemoryConfig(code_dim=2**17, w_format="dense")


@pytest.mark.parametrize("imp", [1e5, 1e8, 1e300, 0.0, -1.0, float("inf"), 100.0001])
def test_importance_is_bounded(imp):
    mem = HybridMemory(MemoryConfig(**CPU))
    with pytest.raises(ValueError, match=r"importance must be one number or 1 numbers in "
                                         r"\(0, 100\]"):
        mem.add_vectors(unit_rows(1), importance=imp)
    mem.add_vectors(unit_rows(1), importance=100.0)
    with pytest.raises(ValueError, match=r"\(0, 100\]"):
        mem.set_importance([0], imp)


def test_a_nights_cost_does_not_depend_on_importance(monkeypatch):
    import nuonuo_core.consolidation as cons
    seen = []
    real = cons.perturb
    monkeypatch.setattr(cons, "perturb", lambda x, *a: seen.append(x.shape[0]) or real(x, *a))
    x = unit_rows(30, seed=5)
    for imp in (1.0, 100.0):
        mem = HybridMemory(MemoryConfig(**CPU))
        mem.add_vectors(x, importance=imp)
        t = time.perf_counter()
        mem.consolidate(epochs=2, replay_noise=0.2)
        assert time.perf_counter() - t < 5
        assert np.isfinite(mem.stats()["w_norm"])
    assert seen == [30, 30, 30, 30]


def test_hops_are_bounded():
    mem = HybridMemory(MemoryConfig(**CPU))
    mem.add_vectors(unit_rows(3))
    for hops in (1001, 10**6, 0, True, 2.0):
        with pytest.raises(ValueError, match=r"hops must be an int in \[1, 1000\]"):
            mem.chain(0, hops=hops)
        with pytest.raises(ValueError, match=r"hops must be an int in \[1, 1000\]"):
            mem.recall_codes(unit_rows(1), hops=hops)
    t = time.perf_counter()
    mem.chain(0, hops=1000)
    assert time.perf_counter() - t < 10
