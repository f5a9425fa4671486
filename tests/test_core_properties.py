"""Property tests: random sequences of add / remove / consolidate / clear / save / load keep
the store valid and agree with a slow reference recall written here from the definitions:
each reference gives every candidate memory (rank key, match score); the engine answers the
best k by rank key whose match score reaches min_score, with that score."""
import math

import numpy as np
import pytest
import torch

from nuonuo_core import HybridMemory, MemoryConfig

D, K, DIM = 512, 8, 64


def _rows(rng, n):
    x = rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _order(scores, index):
    """Indices sorted by score (high first), ties to the lower index: the engine's rule."""
    return np.lexsort((index, -scores))


def _best_rows(s, owner):
    """Each memory's best cue row by score ``s`` (ties to the lower row): {memory: row}."""
    best = {}
    for r in _order(s, np.arange(len(s))):
        best.setdefault(int(owner[r]), r)
    return best


def ref_cosine(mem, q, k):
    emb = mem.store.index.emb.numpy().astype(np.float64)
    owner = mem.store.row_mem.numpy()
    out = []
    for qi in q.astype(np.float64):
        s = emb @ qi
        out.append({m: (s[r], s[r]) for m, r in _best_rows(s, owner).items()})
    return out


def ref_hopfield(mem, q, k):
    cfg, emb = mem.config, mem.store.index.emb.numpy().astype(np.float64)
    owner = mem.store.row_mem.numpy()
    out = []
    for qi in q.astype(np.float64):
        s = emb @ qi
        best = _best_rows(s, owner)
        cand = sorted(best.values(), key=lambda r: (-s[r], r))[:max(cfg.top_k, k)]
        if not cand:
            out.append({})
            continue
        X, xi = emb[cand], qi.copy()
        for _ in range(cfg.max_steps):
            a = np.exp(cfg.beta * (X @ xi) - (cfg.beta * (X @ xi)).max())
            new = (a / a.sum()) @ X
            done = np.linalg.norm(new - xi) < cfg.eps
            xi = new
            if done:
                break
        final = X @ (xi / np.linalg.norm(xi))
        out.append({int(owner[c]): (f, s[c]) for c, f in zip(cand, final)})
    return out


def ref_hebbian(mem, q, k):
    gen = torch.Generator().manual_seed(mem.config.seed)
    P = (torch.randn(D, DIM, generator=gen) / math.sqrt(DIM)).numpy().astype(np.float64)
    W = mem.w_dense().astype(np.float64)
    ids = mem.ids()
    targets = mem.codes(ids)[1] if ids else np.zeros((0, K), int)
    need = math.ceil(mem.config.min_overlap * K - 1e-9)
    out = []
    for qi in q.astype(np.float64):
        code = _order(P @ qi, np.arange(D))[:K]
        r = W[:, code].sum(1)
        win = [u for u in _order(r, np.arange(D))[:K] if r[u] > 0]
        total = sum(r[u] for u in win) or 1.0
        cands = []
        for pos, t in enumerate(targets):
            shared = [u for u in win if u in set(t.tolist())]
            if len(shared) >= need:
                support = (W[np.ix_(t, code)] != 0).sum() / K**2  # stored links, query -> t
                cands.append((pos, (len(shared) + 0.999 * sum(r[u] for u in shared) / total,
                                    support * len(shared) / K)))
        out.append(dict(cands))
    return out


def agree(got_pos, got_scores, ref_scores, k, min_score, tol=1e-4):
    """The engine's answers are the reference's best k (by rank key) whose match score reaches
    ``min_score``, in order, up to near-ties, with the reference's match scores."""
    for row, srow, ref in zip(got_pos, got_scores, ref_scores):
        best = [v for v in sorted(ref.values(), key=lambda v: -v[0])[:k] if v[1] >= min_score]
        live = [p for p in row if p >= 0]
        assert len(live) == len(best) and list(row[len(live):]) == [-1] * (k - len(live))
        assert len(set(live)) == len(live)
        assert np.allclose([ref[p][0] for p in live], [v[0] for v in best], atol=tol), (row, best)
        assert np.allclose(srow[:len(live)], [ref[p][1] for p in live], atol=tol)
        assert (srow[len(live):] == 0).all()


def to_positions(mem, ids):
    where = {i: p for p, i in enumerate(mem.ids())}
    return np.vectorize(lambda i: where.get(int(i), -1))(ids)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_operation_sequences_stay_valid_and_match_the_reference(seed):
    rng = np.random.default_rng(seed)
    mem = HybridMemory(MemoryConfig(embed_dim=DIM, code_dim=D, k=K, device="cpu", seed=seed))
    base = _rows(rng, 40)
    kept, dropped = {m: 0 for m in "cosine hopfield hebbian".split()}, {}
    dropped.update(kept)
    for step in range(30):
        op = rng.choice(["add", "add", "remove", "night", "clear", "save"])
        if op == "add":
            n = int(rng.integers(1, 5))
            pick = rng.integers(0, 40, n)
            paras = [(_rows(rng, int(rng.integers(1, 4))) * 0.3 + base[p]) if rng.random() < .4
                     else None for p in pick]
            mem.add_vectors(base[pick] + 0.05 * _rows(rng, n),
                            targets=base[rng.integers(0, 40, n)] if rng.random() < .5 else None,
                            paraphrases=paras, importance=rng.uniform(0.5, 5, n))
        elif op == "remove" and len(mem):
            ids = mem.ids()
            mem.remove(list(rng.choice(ids, int(rng.integers(1, len(ids) + 1)), replace=False)))
        elif op == "night":
            mem.consolidate(epochs=int(rng.integers(1, 3)), replay_noise=float(
                rng.choice([0.0, 0.2])), homeostasis=float(rng.uniform(0.7, 1.0)),
                prune_threshold=float(rng.choice([0.0, 0.5])), seed=step)
        elif op == "clear":
            mem.clear_replay(float(rng.uniform(0, 1)), str(rng.choice(["priority", "recent",
                                                                         "random"])))
        elif op == "save":
            back = HybridMemory.from_bytes(mem.to_bytes())
            assert back.ids() == mem.ids() and back.records() == mem.records()
            assert np.array_equal(back.w_dense(), mem.w_dense())
            mem = back
        mem.validate()
        q = _rows(rng, 4) * 0.5 + base[rng.integers(0, 40, 4)]
        q = (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)
        for method, ref in (("cosine", ref_cosine), ("hopfield", ref_hopfield),
                            ("hebbian", ref_hebbian)):
            want = ref(mem, q, 3)
            # no abstention, and a threshold inside the score range (both sides are hit)
            for min_score in (-1.0, {"hebbian": 0.3}.get(method, 0.6)):
                s, got = mem.recall_vectors(q, k=3, method=method, min_score=min_score)
                s1, one = mem.recall_vectors(q[:1], k=3, method=method, min_score=min_score)
                agree(to_positions(mem, got), s, want, 3, min_score)  # batched torch path
                agree(to_positions(mem, one), s1, want[:1], 3, min_score)  # numpy path
                kept[method] += int((got >= 0).sum())
                dropped[method] += int((got < 0).sum())
    assert mem.store.next_id >= len(mem)
    assert all(kept[m] > 0 and dropped[m] > 0 for m in kept), (kept, dropped)
