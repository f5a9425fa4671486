"""The numpy recall path: one query on the CPU, with numpy where small torch kernels cost
more than the work (~5–10 µs each, ~0.5 ms a query).

The same maths and ranking rules as the torch path (:mod:`nuonuo_core.batchpath`) and the
slow reference (:mod:`nuonuo_core.reference`): stage 1 through the same search
(:func:`~nuonuo_core.candidates.best_rows`), one tie rule (a higher score first, equal
scores to the lower row / unit / position), W's activity summed in float64 from the same
cells. :mod:`nuonuo_core.recall` chooses the path; tests run every tie and strictness case on
both and compare both with the reference.
"""
from __future__ import annotations

import numpy as np
import torch

from .candidates import best_rows, min_units
from .functional import kwta_indices


def hopfield_one(store, q: np.ndarray, k: int):
    """Two-stage recall of one unit query (d,) -> (match scores (k,), memory positions (k,),
    settled scores (k,)): ranked by the settled state, scored by the query's cosine."""
    cfg, index = store.config, store.index
    out_s, out_p = np.zeros(k, np.float32), np.full(k, -1, np.int64)
    settled = np.zeros(k, np.float32)
    if index.n == 0:
        return out_s, out_p, settled
    s_t, rows_t = best_rows(store, torch.from_numpy(q)[None], max(cfg.top_k, k))
    live = rows_t[0] >= 0
    rows, stage1 = rows_t[0][live].numpy(), s_t[0][live].numpy()
    X = index.rows16_np(rows).astype(np.float32)
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
    # best settled score first, ties to the earlier candidate (batchpath.rank_final's rule)
    owners = store.row_mem.numpy()[rows]
    order = np.lexsort((np.arange(final.shape[0]), -final))[:k]
    out_s[:order.shape[0]], out_p[:order.shape[0]] = stage1[order], owners[order]
    settled[:order.shape[0]] = final[order]
    return out_s, out_p, settled


def cosine_one(store, q: np.ndarray, k: int):
    """Each memory's best cue row, the k best -> (scores (k,), positions (k,))."""
    s_t, rows_t = best_rows(store, torch.from_numpy(q)[None], k)
    rows = rows_t[0].numpy()
    live = rows >= 0
    pos = np.full(k, -1, np.int64)
    pos[live] = store.row_mem.numpy()[rows[live]]
    return np.where(live, s_t[0].numpy(), np.float32(0.0)).astype(np.float32), pos


def kwta_indices_np(h: np.ndarray, winners: int) -> np.ndarray:
    """k-WTA of one activity vector (D,) float32 -> (k,) units ascending
    (:func:`~nuonuo_core.functional.kwta_indices`); a tie at the k-th value or a NaN goes
    through it."""
    part = np.argpartition(-h, winners)
    win = part[:winners]
    if h[win].min() > h[part[winners]] and not np.isnan(h[part[winners]]):
        return np.sort(win)
    return kwta_indices(torch.from_numpy(h[None]), winners)[0].numpy()


def kwta_active_np(r: np.ndarray, winners: int) -> np.ndarray:
    """k-WTA among units with activity > 0 of one activity vector (D,) -> (k,) units,
    ascending, -1 where fewer than k are active (:func:`~nuonuo_core.functional.kwta_active`)."""
    active = np.flatnonzero(r > 0)                  # ascending; NaN is never active
    out = np.full(winners, -1, dtype=np.int64)
    if active.size <= winners:
        out[:active.size] = active
        return out
    vals = r[active]
    part = np.argpartition(-vals, winners)
    win = part[:winners]
    if not vals[win].min() > vals[part[winners]]:  # a tie at the k-th value: lower unit first
        win = np.argsort(-vals, kind="stable")[:winners]
    out[:] = np.sort(active[win])
    return out


def hebbian_step_np(w, code: np.ndarray, winners: int) -> tuple[np.ndarray, np.ndarray]:
    """One application of W to one code (k,) (-1 = no unit) -> (r (D,), new code (k,))."""
    r = w.column_sums_np(code)
    return r, kwta_active_np(r, winners)


def hebbian_one(store, sep, q: np.ndarray, k: int):
    """One Hebbian hop for one unit query (d,) -> (scores = support × overlap (k,), memory
    positions (k,), {"overlap", "support"}) as :func:`batchpath.hebbian_recall`."""
    winners, w = store.config.k, store.w
    h = torch.mv(sep.projection, torch.from_numpy(np.ascontiguousarray(q, np.float32))).numpy()
    query_code = kwta_indices_np(h, winners)
    j, rows, vals = w.columns_np(query_code)   # the cells of the query code's columns
    r = np.bincount(rows, weights=vals, minlength=w.dim).astype(np.float32)
    code = kwta_active_np(r, winners)
    overlap, pos = decode_np(store, code, r, k)
    support = np.zeros(k, np.float64)
    live = pos >= 0
    if live.any():
        links = np.zeros((winners, w.dim), dtype=bool)  # W[row, query unit j] is stored
        links[j, rows] = True
        targets = store.target_codes.numpy()[pos[live]].astype(np.int64)   # (a, target winners)
        counts = links[:, targets].sum((0, 2))
        support[live] = counts / float(winners * winners)
    score = (support * overlap.astype(np.float64)).astype(np.float32)
    return score, pos, {"overlap": overlap, "support": support.astype(np.float32)}


def link_counts_np(w, code: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Stored links from one code (a,) to target codes (n, b) -> (n,) (as
    :func:`batchpath.link_counts`)."""
    return w.links_np(code, targets)


def decode_np(store, code: np.ndarray, r: np.ndarray, k: int):
    """:func:`batchpath.decode_codes` for one code (k,) -> (scores (k,), positions (k,))."""
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
