"""Correctness at the edges (issue 9, points 1-5): strict Hebbian recall, empty memories,
masked padding, one tie rule, candidate windows counted in memories. Every test runs on both
recall paths (the ``recall_path`` fixture: numpy, torch), chosen in nuonuo_core.recall."""
import numpy as np
import pytest

from nuonuo_core import NO_ABSTENTION, HybridMemory, MemoryConfig
from conftest import unit_rows

pytestmark = pytest.mark.usefixtures("recall_path")

CPU = dict(device="cpu")
METHODS = ("hopfield", "hebbian", "cosine")


def _both_paths(mem, q, k, method):
    """(single-query numpy path, batched torch path) answers for one query (1, d), without
    abstention (these tests are about what the methods recall at all)."""
    one = mem.recall_vectors(q, k=k, method=method, min_score=NO_ABSTENTION)
    two = mem.recall_vectors(np.repeat(q, 2, axis=0), k=k, method=method,
                             min_score=NO_ABSTENTION)
    return one, (two[0][:1], two[1][:1])


def test_pruned_w_recalls_nothing_and_chain_stops():
    x = unit_rows(50, seed=1)
    mem = HybridMemory(MemoryConfig(**CPU))
    mem.add_vectors(x[:-1], targets=x[1:])
    mem.consolidate(epochs=1, homeostasis=0.5, prune_threshold=10.0, replay=False)
    assert mem.stats()["w_nnz"] == 0
    for s, ids in _both_paths(mem, x[:1], 5, "hebbian"):
        assert ids.tolist() == [[-1] * 5] and s.tolist() == [[0.0] * 5]
    assert mem.chain(0, hops=6) == []
    assert (mem.recall_codes(x[:3]) == -1).all()


def test_one_surviving_cell_is_not_a_recall():
    x = unit_rows(20, seed=2)
    mem = HybridMemory(MemoryConfig(**CPU))
    mem.add_vectors(x)
    cue, target = mem.codes([0])
    w = mem.store.w = mem.store.w.materialize()  # W's cells, as after a cut
    # keep a single cell of W: one unit of activity for memory 0's cue
    w._drop(w.keys.long() == int(cue[0, 0]) * 16384 + int(target[0, 0]))
    assert mem.stats()["w_nnz"] == 1
    for s, ids in _both_paths(mem, x[:1], 3, "hebbian"):
        assert ids.tolist() == [[-1] * 3] and s.tolist() == [[0.0] * 3]
    assert mem.chain(0, hops=3) == []
    code = mem.recall_codes(x[:1])
    assert (code[0, 1:] == -1).all() and code[0, 0] >= 0  # one live unit, the rest none


def test_min_overlap_decides_what_counts():
    x = unit_rows(300, seed=4)
    q = unit_rows(40, seed=5) * 0.6 + x[:40]
    q = (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)
    out = {}
    for mo in (0.05, 0.5, 1.0):
        mem = HybridMemory(MemoryConfig(min_overlap=mo, **CPU))
        mem.add_vectors(x)
        r = mem.recall_details(q, k=3, method="hebbian", min_score=NO_ABSTENTION)
        got = r.ids
        assert np.array_equal(r.ids, r.best_ids)  # no abstention: every recall is answered
        assert (r.overlap[got >= 0] >= np.ceil(mo * 20 - 1e-9) / 20 - 1e-6).all()
        assert (r.overlap[got < 0] == 0).all() and (r.scores[got < 0] == 0).all()
        assert np.allclose(r.scores, r.overlap * r.support, atol=1e-6)
        out[mo] = (got >= 0).sum()
    assert out[0.05] > out[0.5] > 0 and out[1.0] <= out[0.5]


def test_empty_memory_batches_and_traces_answer_none():
    mem = HybridMemory(MemoryConfig(**CPU))
    q = unit_rows(3, seed=6)
    for method in METHODS:
        for m in (1, 3):
            s, ids = mem.recall_vectors(q[:m], k=4, method=method)
            assert ids.shape == (m, 4) and (ids == -1).all() and (s == 0).all()
    tr = mem.settle_trace(q[0])
    assert tr.answer_id == -1 and tr.answer_score == 0.0
    assert (tr.candidate_ids == -1).all()
    assert np.isfinite(tr.energy).all() and np.isfinite(tr.attention).all()


def test_energy_never_rises_with_padding_rows():
    x = unit_rows(3, seed=7)
    mem = HybridMemory(MemoryConfig(beta=2.0, **CPU))
    mem.add_vectors(x)
    for i in range(3):
        tr = mem.settle_trace(x[i], noise_std=0.05, seed=i)
        assert tr.attention.shape[1] == 20
        assert np.all(np.diff(tr.energy) <= 1e-6), tr.energy
        assert np.allclose(tr.attention[:, 3:], 0.0)


def test_one_tie_rule_for_numpy_and_torch_paths_on_duplicates():
    x = unit_rows(20, seed=8)
    x[13], x[17] = x[3], x[7]
    mem = HybridMemory(MemoryConfig(**CPU))
    mem.add_vectors(x)
    q = 0.7 * x[3] + 0.69 * x[7]
    q = (q / np.linalg.norm(q))[None].astype(np.float32)
    for method in ("hopfield", "cosine"):
        (s1, i1), (s2, i2) = _both_paths(mem, q, 4, method)
        assert i1.tolist() == i2.tolist(), method
        assert np.allclose(s1, s2, atol=1e-6)
        assert i1[0, :2].tolist() == [3, 13]
    assert i1.tolist() == [[3, 13, 7, 17]]  # cosine: duplicates in index order


def test_paraphrase_rows_do_not_crowd_out_other_memories():
    x = unit_rows(6, seed=9)
    many = x[0] + 0.05 * unit_rows(40, seed=10)
    mem = HybridMemory(MemoryConfig(**CPU))
    mem.add_vectors(x[:1], paraphrases=[many])
    mem.add_vectors(x[1:])
    for method in ("hopfield", "cosine"):
        for q in (x[:1], np.repeat(x[:1], 2, axis=0)):
            _, got = mem.recall_vectors(q, k=5, method=method, min_score=NO_ABSTENTION)
            assert got[0, 0] == 0 and len(set(got[0])) == 5 and (got >= 0).all(), (method, got)
    tr = mem.settle_trace(x[0])
    live = tr.candidate_ids[tr.candidate_ids >= 0]
    assert sorted(live) == [0, 1, 2, 3, 4, 5]
