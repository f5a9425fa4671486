"""Single-query recall on the CPU: the same maths as :mod:`recall`, with numpy where small
torch kernels cost more than the work (~5–10 µs each, ~0.5 ms a query).

Used by ``HybridMemory.recall_vectors`` for one query on the CPU with the exact index; ranking
goes through the same functions as the batch path (``best_rows``, ``topk_stable``,
``kwta_active``), so both answer alike, ties included, with the same match scores (module doc
of :mod:`recall`). Tests check they agree.
"""
from __future__ import annotations

import numpy as np
import torch

from .functional import kwta_active, kwta_indices
from .hebbian import SparseW
from .recall import best_rows, min_units


def hopfield_one(store, q: np.ndarray, k: int):
    """Two-stage recall of one unit query (d,) -> (match scores (k,), memory positions (k,),
    settled scores (k,)): ranked by the settled state, scored by the query's cosine."""
    cfg, index = store.config, store.index
    if index.n == 0:
        return np.zeros(k, np.float32), np.full(k, -1, np.int64), np.zeros(k, np.float32)
    s_t, rows_t = best_rows(store, torch.from_numpy(q)[None], max(cfg.top_k, k))
    live = rows_t[0] >= 0
    rows_t, stage1 = rows_t[0][live], s_t[0][live].numpy()
    X = index.emb.numpy()[rows_t.numpy()]
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
    # rank_final's rule in numpy: best first, ties to the earlier candidate
    owners = store.row_owners(rows_t[None])[0].numpy()
    order = np.lexsort((np.arange(final.shape[0]), -final))[:k]
    out_s, out_p = np.zeros(k, np.float32), np.full(k, -1, np.int64)
    settled = np.zeros(k, np.float32)
    out_s[:order.shape[0]], out_p[:order.shape[0]] = stage1[order], owners[order]
    settled[:order.shape[0]] = final[order]
    return out_s, out_p, settled


def hebbian_step_np(w, code: np.ndarray, winners: int) -> tuple[np.ndarray, np.ndarray]:
    """One application of W to one code (k,) (-1 = no unit) -> (r (D,), new code (k,))."""
    code = code[code >= 0]
    if isinstance(w, SparseW):
        ptr, keys, vals = w.colptr().numpy(), w.keys.numpy(), w.vals.numpy()
        cells = np.concatenate([np.arange(ptr[c], ptr[c + 1]) for c in code]) \
            if code.size else np.zeros(0, np.int64)
        r = np.bincount(keys[cells].astype(np.int64) % w.dim, weights=vals[cells],
                        minlength=w.dim).astype(np.float32)
    else:
        r = w.W.numpy()[:, code].sum(1)
    return r, kwta_active(torch.from_numpy(r[None]), winners)[0].numpy()


def hebbian_one(store, sep, q: np.ndarray, k: int):
    """One Hebbian hop for one unit query (d,) -> (scores = support × overlap (k,), memory
    positions (k,), {"overlap", "support"}) as :func:`recall.hebbian_recall`."""
    winners = store.config.k
    h = sep.projection.numpy() @ q
    query_code = kwta_indices(torch.from_numpy(h[None]), winners)[0].numpy()
    r, code = hebbian_step_np(store.w, query_code, winners)
    overlap, pos = decode_np(store, code, r, k)
    support = np.zeros(k, np.float64)
    live = pos >= 0
    if live.any():
        targets = store.target_codes.numpy()[pos[live]].astype(np.int64)
        support[live] = link_counts_np(store.w, query_code, targets) / float(winners * winners)
    score = (support * overlap.astype(np.float64)).astype(np.float32)
    return score, pos, {"overlap": overlap, "support": support.astype(np.float32)}


def has_cells_np(w, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """:meth:`SparseW.has_cells` / :meth:`DenseW.has_cells` in numpy (index arrays >= 0)."""
    if isinstance(w, SparseW):
        keys = w.keys.numpy()
        if keys.shape[0] == 0:
            return np.zeros(rows.shape, bool)
        q = (cols.astype(np.int64) * w.dim + rows.astype(np.int64)).astype(keys.dtype)
        i = np.minimum(np.searchsorted(keys, q), keys.shape[0] - 1)
        return keys[i] == q
    return w.W.numpy()[rows, cols] > 0


def link_counts_np(w, code: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """:func:`recall.link_counts` for one code (a,) against target codes (n, b) -> (n,)."""
    code = code[code >= 0]
    n, target_winners = targets.shape
    rows = np.repeat(targets, code.shape[0], axis=1)
    cols = np.tile(code, (n, target_winners))
    hit = has_cells_np(w, np.maximum(rows, 0), cols) & (rows >= 0)
    return hit.sum(1)


def decode_np(store, code: np.ndarray, r: np.ndarray, k: int):
    """:func:`recall.decode_codes` for one code (k,) -> (scores (k,), positions (k,))."""
    winners = store.config.k
    out_s, out_p = np.zeros(k, np.float32), np.full(k, -1, np.int64)
    code = code[code >= 0]
    if store.n == 0 or code.size == 0:
        return out_s, out_p
    uptr, post = (t.numpy() for t in store.postings())
    lengths = uptr[code + 1] - uptr[code]
    if lengths.sum() == 0:
        return out_s, out_p
    positions = np.concatenate([post[uptr[u]:uptr[u + 1]] for u in code])
    r_win = r[code]
    share = (r_win / max(float(r_win.sum()), 1e-12)).astype(np.float32)
    weight = (np.float32(1.0) + np.float32(0.999) * np.repeat(share, lengths)).astype(np.float64)
    uniq, inverse = np.unique(positions, return_inverse=True)
    rank = np.bincount(inverse, weights=weight, minlength=uniq.shape[0])
    enough = np.floor(rank + 1e-6) >= min_units(store.config)
    uniq, rank = uniq[enough], rank[enough]
    best = np.argsort(-rank, kind="stable")[:k]  # ties to the lower position
    out_s[:best.shape[0]] = np.floor(rank[best] + 1e-6) / winners
    out_p[:best.shape[0]] = uniq[best]
    return out_s, out_p
