"""The three recall methods, as functions over a memory's parts.

All take unit queries (m, d) and return (scores (m, k), memory positions (m, k)) with -1 for
"no answer"; :class:`~nuonuo_core.memory.HybridMemory` maps positions to ids.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .functional import expand_segments, hopfield_settle, kwta_indices, normalize


def dedupe_topk(scores: torch.Tensor, owner: torch.Tensor, k: int):
    """Rank candidates (m, C) by score, keep each owner's best, return top k (padded -1)."""
    s, o = scores.cpu().numpy(), owner.cpu().numpy()
    out_s = np.zeros((s.shape[0], k), dtype=np.float32)
    out_o = np.full((s.shape[0], k), -1, dtype=np.int64)
    for q in range(s.shape[0]):
        seen: set[int] = set()
        j = 0
        for c in np.argsort(-s[q], kind="stable"):
            own = int(o[q, c])
            if own < 0 or own in seen or not np.isfinite(s[q, c]):
                continue
            seen.add(own)
            out_s[q, j], out_o[q, j] = s[q, c], own
            j += 1
            if j == k:
                break
    return torch.from_numpy(out_s), torch.from_numpy(out_o)


def cosine_recall(mem, queries: torch.Tensor, k: int):
    """Flat nearest neighbour over every stored cue row, best row per memory."""
    index = mem._index
    if index.uses_ann() or index.n != mem._n_mem:
        width = min(index.n, k if index.n == mem._n_mem else max(4 * k, k + 16))
        s, rows = index.search(queries, max(width, 1))
        return dedupe_topk(s, row_owners(mem, rows), k)
    from .separation import matmul_t

    sims = matmul_t(queries, index.emb)
    kk = min(k, mem._n_mem)
    s, pos = torch.topk(sims, kk, dim=1)
    return _pad(s, pos, k)


def row_owners(mem, rows: torch.Tensor) -> torch.Tensor:
    owner = torch.full_like(rows, -1)
    ok = rows >= 0
    owner[ok] = mem._row_mem[rows[ok]]
    return owner


def _pad(s: torch.Tensor, pos: torch.Tensor, k: int):
    m, kk = s.shape
    out_s = torch.zeros(m, k)
    out_p = torch.full((m, k), -1, dtype=torch.long)
    out_s[:, :kk], out_p[:, :kk] = s.cpu(), pos.cpu()
    return out_s, out_p


@dataclass
class HopfieldCandidates:
    """Stage-1 output for m queries: K candidate rows, their patterns and a padding mask."""

    rows: torch.Tensor      # (m, K) cue rows, -1 = padding
    scores: torch.Tensor    # (m, K) stage-1 cosine
    patterns: torch.Tensor  # (m, K, d)
    mask: torch.Tensor      # (m, K) bool


def hopfield_stage1(mem, queries: torch.Tensor, width: int) -> HopfieldCandidates:
    scores, rows = mem._index.search(queries, width)
    mask = rows >= 0
    patterns = mem._index.emb[rows.clamp(min=0)] * mask[..., None]
    return HopfieldCandidates(rows, scores, patterns, mask)


def hopfield_recall(mem, queries: torch.Tensor, k: int, trace: bool = False,
                    beta: float | None = None):
    """Two-stage recall: top-K cue rows, settle ξ ← Xᵀ softmax(βXξ), rank by cos(ξ*, x)."""
    cfg = mem.config
    cand = hopfield_stage1(mem, queries, max(cfg.top_k, k))
    settle = hopfield_settle(queries, cand.patterns, beta or cfg.beta, cfg.max_steps, cfg.eps,
                             mask=cand.mask, trace=trace)
    final = torch.bmm(cand.patterns, normalize(settle.state).unsqueeze(-1)).squeeze(-1)
    final = final.masked_fill(~cand.mask, -float("inf"))
    owners = row_owners(mem, cand.rows)
    if mem._index.n == mem._n_mem:  # one cue row per memory: no duplicates to drop
        kk = min(k, final.shape[1])
        s, j = torch.topk(final, kk, dim=1)
        pos = owners.gather(1, j).masked_fill(~torch.isfinite(s), -1)
        s, pos = _pad(s.masked_fill(~torch.isfinite(s), 0.0), pos, k)
    else:
        s, pos = dedupe_topk(final, owners, k)
    return s, pos, cand, settle


def hebbian_recall(mem, queries: torch.Tensor, k: int, hops: int = 1):
    """Code the query, apply W ``hops`` times with k-WTA, decode to the nearest target code."""
    code = mem._sep.codes(queries).long()
    for _ in range(hops):
        r = mem._w.column_sums(code)
        code = kwta_indices(r, mem.config.k)
    return decode_codes(mem, code, r, k)


def target_postings(mem):
    """Inverted index of target codes: (unit_ptr (D+1,), positions) sorted by unit."""
    if mem._postings is None:
        flat = mem._target_codes.reshape(-1).long()
        order = torch.argsort(flat, stable=True)
        counts = torch.bincount(flat, minlength=mem.config.code_dim)
        ptr = torch.zeros(mem.config.code_dim + 1, dtype=torch.long, device=flat.device)
        ptr[1:] = counts.cumsum(0)
        mem._postings = (ptr, order // mem.config.k)
    return mem._postings


def decode_codes(mem, code: torch.Tensor, r: torch.Tensor | None, k: int):
    """Codes (m, k_code) -> the k stored memories whose target codes overlap most.

    Score = overlap / k_code (the cosine of binary codes); ties go to the memory whose
    overlapping units carry more of W·code (``r``): rank = overlap + 0.999·share ∈ [o, o+1).
    """
    m, kc = code.shape
    n = mem._n_mem
    out_s = torch.zeros(m, k)
    out_p = torch.full((m, k), -1, dtype=torch.long)
    if n == 0:
        return out_s, out_p
    ptr, post = target_postings(mem)
    units = code.reshape(-1).to(ptr.device)
    lo, hi = ptr[units], ptr[units + 1]
    lengths = hi - lo
    cells, seg = expand_segments(lo, lengths)
    total = cells.numel()
    if total == 0:
        return out_s, out_p
    positions = post[cells]
    query = seg // kc
    weight = torch.ones(total, device=ptr.device)
    if r is not None:
        r_win = r.gather(1, code.to(r.device))  # (m, kc)
        share = r_win / r_win.sum(1, keepdim=True).clamp_min(1e-12)
        weight = weight + 0.999 * share.reshape(-1)[seg]
    # rank the (query, memory) pairs that share a unit; memory ∝ postings, not m × n
    uniq, inverse = torch.unique(query * n + positions, return_inverse=True)
    rank = torch.zeros(uniq.shape[0], dtype=torch.float64, device=ptr.device)
    rank.index_add_(0, inverse, weight.double())
    q_of, p_of = uniq // n, uniq % n
    order = torch.argsort(q_of.double() * (kc + 2) + (kc + 1 - rank), stable=True)
    q_sorted = q_of[order]
    place = torch.arange(order.shape[0], device=ptr.device) - torch.searchsorted(q_sorted, q_sorted)
    keep = place < k
    rows, cols, best = q_sorted[keep].cpu(), place[keep].cpu(), order[keep]
    out_s[rows, cols] = (torch.floor(rank[best] + 1e-6) / kc).float().cpu()
    out_p[rows, cols] = p_of[best].cpu()
    return out_s, out_p
