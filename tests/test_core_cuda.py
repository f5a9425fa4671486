"""CUDA checks: run on a GPU machine (``scripts/cuda_check.sh``), skipped elsewhere.

Plain functions without fixtures, so scripts/cuda_check.sh can run them where pytest is
not installed. Every test name contains "cuda" (``pytest -k cuda``)."""
import numpy as np
import torch

from nuonuo_core import HybridMemory, MemoryConfig

try:
    import pytest
    pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                    reason="no CUDA device on this machine")
except ImportError:  # scripts/cuda_check.sh without pytest
    pytest = None


def _rows(n, seed=0, d=384):
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_cuda_memory_answers_like_cpu():
    x = _rows(500, seed=11)
    out = {}
    for dev in ("cpu", "cuda"):
        mem = HybridMemory(MemoryConfig(device=dev))
        mem.add_vectors(x[:-1], targets=x[1:])
        out[dev] = [mem.recall_vectors(x[:50], k=3, method=m, noise_std=0.05)[1]
                    for m in ("hopfield", "hebbian", "cosine")] + [mem.chain(0, 5)]
        one = [mem.recall_vectors(x[i:i + 1], k=3, method="hopfield")[1][0] for i in range(5)]
        assert np.array_equal(np.stack(one)[:, 0], np.arange(5))
    for a, b in zip(out["cpu"][:3], out["cuda"][:3]):
        assert (a[:, 0] == b[:, 0]).mean() >= 0.98
    assert out["cpu"][3] == out["cuda"][3]


def test_cuda_auto_uses_the_sparse_store():
    mem = HybridMemory(MemoryConfig(device="auto"))
    assert mem.device.type == "cuda"
    assert mem.stats()["w_format"] == "sparse"
    assert HybridMemory(MemoryConfig(device="cuda", w_format="dense")).stats()[
        "w_format"] == "dense"


def test_cuda_strict_recall_and_exact_remove():
    x = _rows(60, seed=3)
    mem = HybridMemory(MemoryConfig(device="cuda"))
    ids = mem.add_vectors(x[:-1], targets=x[1:])
    mem.consolidate(epochs=2, replay_noise=0.3, homeostasis=0.9, prune_threshold=0.0)
    mem.validate()
    mem.remove(ids[:30])
    mem.validate()
    mem.remove(ids[30:])
    assert mem.stats()["w_nnz"] == 0
    ids = mem.add_vectors(x)
    mem.consolidate(epochs=1, homeostasis=0.5, prune_threshold=10.0, replay=False)
    s, got = mem.recall_vectors(x[:4], k=2, method="hebbian")
    assert (got == -1).all() and (s == 0).all() and mem.chain(ids[0], 3) == []
    s, got = HybridMemory(MemoryConfig(device="cuda")).recall_vectors(x[:3], k=2)
    assert (got == -1).all()


def test_cuda_file_opens_on_cpu_and_back():
    x = _rows(40, seed=5)
    mem = HybridMemory(MemoryConfig(device="cuda"))
    mem.add_vectors(x)
    mem.consolidate(epochs=1, replay_noise=0.1)
    data = mem.to_bytes()
    on_cpu = HybridMemory.from_bytes(data, device="cpu")
    back = HybridMemory.from_bytes(on_cpu.to_bytes(), device="cuda")
    for m in (on_cpu, back):
        m.validate()
        assert np.array_equal(m.recall_vectors(x[:10], k=2)[1], mem.recall_vectors(x[:10], k=2)[1])


def test_cuda_scores_abstention_and_chain_stops_match_cpu():
    x = _rows(400, seed=13)
    q = x[:40] + np.linspace(0, 1.5, 40)[:, None] * _rows(40, seed=14)
    q = (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)
    out = {}
    for dev in ("cpu", "cuda"):
        mem = HybridMemory(MemoryConfig(device=dev))
        ids = mem.add_vectors(x[:-1], targets=x[1:])
        far = 0.55 * x[-1] + 0.45 * _rows(1, seed=15)[0]  # cross-talk past the chain's end
        mem.add_vectors((far / np.linalg.norm(far))[None].astype(np.float32), targets=x[:1])
        res = {m: mem.recall_details(q, k=3, method=m, min_score={"hebbian": 0.3}.get(m, 0.6))
               for m in ("hopfield", "hebbian", "cosine")}
        tail = mem.chain_details(ids[-3], hops=6)
        out[dev] = (res, tail.hops, tail.stop)
    for m in ("hopfield", "hebbian", "cosine"):
        a, b = out["cpu"][0][m], out["cuda"][0][m]
        assert (a.ids[:, 0] == b.ids[:, 0]).mean() >= 0.95, m
        same = a.best_ids[:, 0] == b.best_ids[:, 0]
        assert np.allclose(a.best_scores[same, 0], b.best_scores[same, 0], atol=1e-4), m
        assert (a.ids[:, 0] >= 0).any() and (a.ids[:, 0] < 0).any(), m
    assert out["cpu"][1:] == out["cuda"][1:]
    assert out["cpu"][2] in ("nothing", "no_link")
