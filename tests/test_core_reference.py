"""Both recall paths against the slow reference (nuonuo_core/reference.py): ids equal, scores
equal up to float rounding, chains equal, on memories with paraphrase rows, duplicate cues
(ties), separate targets, a dense W, a factored W, and a W that pruning cut into cells, after
removals. The tie and strictness modules (test_kwta_ties.py, test_core_strict.py) run every
test on both paths through the ``recall_path`` fixture."""
import numpy as np
import pytest

from nuonuo_core import NO_ABSTENTION, HybridMemory, MemoryConfig, reference
import engine_scenarios as sc

pytestmark = pytest.mark.usefixtures("recall_path")


def build(kind: str) -> tuple[HybridMemory, np.ndarray]:
    x = sc.clustered(90, d=64, seed=41, size=6)
    x[31], x[32] = x[12], x[12]                         # duplicate cues: ties
    cfg = dict(embed_dim=64, k=8, top_k=6, device="cpu", seed=3)
    if kind == "dense":
        mem = HybridMemory(MemoryConfig(code_dim=512, target_projection="separate", **cfg))
    else:
        mem = HybridMemory(MemoryConfig(code_dim=4096, w_format="sparse", **cfg))
    paras = [sc.noisy(np.repeat(x[i:i + 1], 1 + i % 2, 0), 0.85, 50 + i) if i % 5 == 0
             else None for i in range(45)]
    mem.add_vectors(x[:45], targets=x[45:90], paraphrases=paras)
    if kind == "cells":
        mem.consolidate(epochs=2, homeostasis=0.9, prune_threshold=1.5, replay_noise=0.3,
                        seed=2)
        assert not mem.store.factored
        mem.remove([3, 7, 20])
    elif kind == "factored":
        assert mem.store.factored
        mem.remove([4])
    q = np.concatenate([sc.noisy(x[:45:4], 0.8, 9), x[10:14], x[31:33]])
    return mem, q


@pytest.mark.parametrize("kind", ["dense", "factored", "cells"])
def test_recall_and_chains_equal_the_reference(kind):
    mem, q = build(kind)
    mem.validate()
    store, ids = mem.store, np.asarray(mem.ids())
    cells = reference.w_cells(store)
    k = 4
    for method in ("cosine", "hopfield", "hebbian"):
        got = mem.recall_details(q, k=k, method=method, min_score=NO_ABSTENTION)
        for i, qi in enumerate(q):
            if method == "cosine":
                s, pos = reference.cosine(store, qi, k)
            elif method == "hopfield":
                s, pos, settled = reference.hopfield(store, qi, k)
                assert np.allclose(got.settled[i, :len(pos)], settled, atol=1e-4), (method, i)
            else:
                s, pos, overlap, sup = reference.hebbian(store, mem._sep, qi, k, cells)
                assert np.allclose(got.overlap[i, :len(pos)], overlap, atol=1e-6)
                assert np.allclose(got.support[i, :len(pos)], sup, atol=1e-6)
            want = [int(ids[p]) for p in pos] + [-1] * (k - len(pos))
            assert got.best_ids[i].tolist() == want, (kind, method, i)
            assert np.allclose(got.best_scores[i, :len(pos)], s, atol=1e-6), (kind, method, i)
    for start in mem.ids()[:12]:
        pos = int(store.positions([start])[0])
        for args in ((0.0, True), (0.3, False)):
            r = mem.chain_details(start, hops=5, min_support=args[0], allow_revisits=args[1])
            steps, stop, refused = reference.chain(store, pos, 5, *args)
            assert r.stop == stop, (kind, start, args)
            assert [h.memory_id for h in r.hops] == [s[0] for s in steps]
            assert np.allclose([h.cosine for h in r.hops], [s[1] for s in steps])
            assert np.allclose([h.support for h in r.hops], [s[2] for s in steps])
            assert (r.refused is None) == (refused is None)
            if refused is not None:
                assert r.refused.memory_id == refused[0]
