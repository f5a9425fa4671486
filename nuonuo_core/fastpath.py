"""Single-query recall on the CPU in numpy: the same maths as :mod:`recall`, without the
per-operation overhead of small torch kernels (~5–10 µs each, ~0.5 ms a query).

Used by ``HybridMemory.recall_vectors`` for one query on the CPU with the exact index; tests
check it returns what the batched torch path returns.
"""
from __future__ import annotations

import numpy as np
import torch

from .hebbian import SparseW
from .recall import dedupe_topk, target_postings


def kwta_np(x: np.ndarray, k: int) -> np.ndarray:
    """Sorted indices of the k largest entries of ``x`` (D,); ties go to the lower index."""
    idx = np.argpartition(-x, k - 1)[:k]
    kth = x[idx].min()
    if np.count_nonzero(x >= kth) > k:  # a tie straddles the boundary: decide by index
        idx = np.argsort(-x, kind="stable")[:k]
    return np.sort(idx)


def hopfield_one(mem, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Two-stage recall of one unit query (d,) -> (scores (k,), memory positions (k,))."""
    cfg, index = mem.config, mem._index
    out_s, out_p = np.zeros(k, np.float32), np.full(k, -1, np.int64)
    if index.n == 0:
        return out_s, out_p
    emb = index.emb.numpy()
    sims = emb @ q
    width = min(max(cfg.top_k, k), index.n)
    rows = np.argpartition(-sims, width - 1)[:width] if width < index.n else np.arange(index.n)
    rows = rows[np.argsort(-sims[rows], kind="stable")]
    X = emb[rows]
    xi = q.astype(np.float32)
    for _ in range(cfg.max_steps):  # ξ ← Xᵀ softmax(β X ξ)
        logits = cfg.beta * (X @ xi)
        a = np.exp(logits - logits.max())
        new = (a / a.sum()) @ X
        delta = float(np.linalg.norm(new - xi))
        xi = new
        if delta < cfg.eps:
            break
    final = X @ (xi / max(float(np.linalg.norm(xi)), 1e-12))
    owners = mem._row_mem.numpy()[rows]
    out_s, out_p = dedupe_topk(torch.from_numpy(final[None]), torch.from_numpy(owners[None]), k)
    return out_s[0].numpy(), out_p[0].numpy()


def hebbian_one(mem, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """One Hebbian hop for one unit query (d,) -> (scores (k,), memory positions (k,))."""
    kc, dim = mem.config.k, mem.config.code_dim
    out_s, out_p = np.zeros(k, np.float32), np.full(k, -1, np.int64)
    code = kwta_np(mem._sep.projection.numpy() @ q, kc)
    w = mem._w
    if isinstance(w, SparseW):
        ptr, keys, vals = w.colptr().numpy(), w.keys.numpy(), w.vals.numpy()
        cells = np.concatenate([np.arange(ptr[c], ptr[c + 1]) for c in code])
        r = np.bincount(keys[cells].astype(np.int64) % dim, weights=vals[cells],
                        minlength=dim).astype(np.float32)
    else:
        r = w.W.numpy()[:, code].sum(1)
    code = kwta_np(r, kc)
    if mem._n_mem == 0:
        return out_s, out_p
    uptr, post = (t.numpy() for t in target_postings(mem))
    lengths = uptr[code + 1] - uptr[code]
    if lengths.sum() == 0:
        return out_s, out_p
    positions = np.concatenate([post[uptr[u]:uptr[u + 1]] for u in code])
    r_win = r[code]
    share = (r_win / max(float(r_win.sum()), 1e-12)).astype(np.float32)
    weight = (np.float32(1.0) + np.float32(0.999) * np.repeat(share, lengths)).astype(np.float64)
    uniq, inverse = np.unique(positions, return_inverse=True)
    rank = np.bincount(inverse, weights=weight, minlength=uniq.shape[0])
    best = np.argsort(-rank, kind="stable")[:k]  # ties to the lower position
    out_s[:best.shape[0]] = np.floor(rank[best] + 1e-6) / kc
    out_p[:best.shape[0]] = uniq[best]
    return out_s, out_p
