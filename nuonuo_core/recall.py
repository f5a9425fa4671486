"""The three recall methods, as functions over a :class:`~nuonuo_core.store.MemoryStore`.

All take unit queries (m, d) and return (scores (m, k), memory positions (m, k)) with -1 for
"no answer"; :class:`~nuonuo_core.memory.HybridMemory` maps positions to ids.
"""
from __future__ import annotations

from dataclasses import dataclass

import math

import numpy as np
import torch

from .functional import expand_segments, hopfield_settle, kwta_active, normalize
from .ops import compact, first_per_owner, topk_stable


def best_rows(store, queries: torch.Tensor, width: int):
    """Stage-1 window counted in memories: each memory's best cue row, the ``width`` best
    memories -> (scores (m, width), rows (m, width)); -inf / -1 past the end. Paraphrase
    rows of one memory never crowd others out: the row search widens until every query has
    ``width`` distinct memories or all rows were searched."""
    index = store.index
    if index.n == store.n:  # one cue row per memory: every row has its own owner
        return index.search(queries, width)
    want, w = min(width, store.n), min(index.n, width)
    while True:
        s, rows = index.search(queries, w)
        first = first_per_owner(store.row_owners(rows))
        if w >= index.n or bool((first.sum(1) >= want).all()):
            break
        w = min(index.n, 2 * w + 16)
    return tuple(compact(first, width, s, rows, fill=(-float("inf"), -1)))


def cosine_recall(store, queries: torch.Tensor, k: int):
    """Nearest neighbour over every stored cue row, best row per memory."""
    s, rows = best_rows(store, queries, k)
    ok = rows >= 0
    return s.masked_fill(~ok, 0.0).cpu(), store.row_owners(rows).cpu()


@dataclass
class HopfieldTrace:
    """What stage 2 did for one query: K candidates, attention (steps, K), energy (steps+1,)."""

    candidate_ids: np.ndarray
    stage1_scores: np.ndarray
    attention: np.ndarray
    energy: np.ndarray
    answer_id: int
    answer_score: float
    query: np.ndarray
    noisy_cosine: float


@dataclass
class HopfieldCandidates:
    """Stage-1 output for m queries: K candidate rows (one per memory), their patterns and a
    padding mask."""

    rows: torch.Tensor      # (m, K) cue rows, -1 = padding
    scores: torch.Tensor    # (m, K) stage-1 cosine
    patterns: torch.Tensor  # (m, K, d)
    mask: torch.Tensor      # (m, K) bool


def hopfield_stage1(store, queries: torch.Tensor, width: int) -> HopfieldCandidates:
    scores, rows = best_rows(store, queries, width)
    mask = rows >= 0
    emb = store.index.emb
    if emb.shape[0] == 0:
        patterns = torch.zeros(*rows.shape, emb.shape[1], device=emb.device)
    else:
        patterns = emb[rows.clamp(min=0)] * mask[..., None]
    return HopfieldCandidates(rows, scores, patterns, mask)


def rank_final(final: torch.Tensor, owners: torch.Tensor, k: int):
    """Settled scores (m, K) of candidates owned by distinct memories -> the k best
    (scores (m, k), positions (m, k)), -1 / 0 where none; ties to the earlier candidate."""
    s, j = topk_stable(final, k)
    pos = owners.gather(1, j).masked_fill(~torch.isfinite(s), -1)
    return _pad(s.masked_fill(~torch.isfinite(s), 0.0), pos, k)


def _pad(s: torch.Tensor, pos: torch.Tensor, k: int):
    m, kk = s.shape
    out_s = torch.zeros(m, k)
    out_p = torch.full((m, k), -1, dtype=torch.long)
    out_s[:, :kk], out_p[:, :kk] = s.cpu(), pos.cpu()
    return out_s, out_p


def hopfield_recall(store, queries: torch.Tensor, k: int, trace: bool = False,
                    beta: float | None = None):
    """Two-stage recall: top-K memories' best cue rows, settle ξ ← Xᵀ softmax(βXξ), rank by
    cos(ξ*, x)."""
    cfg = store.config
    cand = hopfield_stage1(store, queries, max(cfg.top_k, k))
    settle = hopfield_settle(queries, cand.patterns, beta or cfg.beta, cfg.max_steps, cfg.eps,
                             mask=cand.mask, trace=trace)
    final = torch.bmm(cand.patterns, normalize(settle.state).unsqueeze(-1)).squeeze(-1)
    final = final.masked_fill(~cand.mask, -float("inf"))
    s, pos = rank_final(final, store.row_owners(cand.rows), k)
    return s, pos, cand, settle


def hebbian_step(w, code: torch.Tensor, k: int):
    """One application of W: codes (m, k) (-1 = no unit) -> (activity r (m, D), new code
    (m, k)): k-WTA among units with activity > 0, -1 where fewer than k are active."""
    r = w.column_sums(code)
    return r, kwta_active(r, k)


def hebbian_recall(store, sep, queries: torch.Tensor, k: int, hops: int = 1):
    """Code the query, apply W ``hops`` times with k-WTA, decode to the nearest target code."""
    code = sep.codes(queries).long()
    for _ in range(hops):
        r, code = hebbian_step(store.w, code, store.config.k)
    return decode_codes(store, code, r, k)


def min_units(cfg) -> int:
    """Fewest shared units for a Hebbian recall to count: ceil(min_overlap · k)."""
    return max(1, math.ceil(cfg.min_overlap * cfg.k - 1e-9))


def decode_codes(store, code: torch.Tensor, r: torch.Tensor | None, k: int):
    """Codes (m, k_code) (-1 = no unit) -> the k stored memories whose target codes overlap
    most, among those sharing at least :func:`min_units` units (the rest are not recalls).

    Score = overlap / k_code (the cosine of binary codes); ties go to the memory whose
    overlapping units carry more of W·code (``r``): rank = overlap + 0.999·share ∈ [o, o+1),
    then to the lower position.
    """
    m, kc = code.shape
    n = store.n
    out_s = torch.zeros(m, k)
    out_p = torch.full((m, k), -1, dtype=torch.long)
    if n == 0:
        return out_s, out_p
    ptr, post = store.postings()
    units = code.reshape(-1).to(ptr.device)
    live = units >= 0
    units = units.clamp(min=0)
    lo, hi = ptr[units], ptr[units + 1]
    lengths = (hi - lo) * live
    cells, seg = expand_segments(lo, lengths)
    total = cells.numel()
    if total == 0:
        return out_s, out_p
    positions = post[cells]
    query = seg // kc
    weight = torch.ones(total, device=ptr.device)
    if r is not None:
        c = code.to(r.device)
        r_win = r.gather(1, c.clamp(min=0)) * (c >= 0)  # (m, kc)
        share = r_win / r_win.sum(1, keepdim=True).clamp_min(1e-12)
        weight = weight + 0.999 * share.reshape(-1)[seg]
    # rank the (query, memory) pairs that share a unit; memory ∝ postings, not m × n
    uniq, inverse = torch.unique(query * n + positions, return_inverse=True)
    rank = torch.zeros(uniq.shape[0], dtype=torch.float64, device=ptr.device)
    rank.index_add_(0, inverse, weight.double())
    enough = torch.floor(rank + 1e-6) >= min_units(store.config)
    uniq, rank = uniq[enough], rank[enough]
    q_of, p_of = uniq // n, uniq % n
    order = torch.argsort(q_of.double() * (kc + 2) + (kc + 1 - rank), stable=True)
    q_sorted = q_of[order]
    place = torch.arange(order.shape[0], device=ptr.device) - torch.searchsorted(q_sorted, q_sorted)
    keep = place < k
    rows, cols, best = q_sorted[keep].cpu(), place[keep].cpu(), order[keep]
    out_s[rows, cols] = (torch.floor(rank[best] + 1e-6) / kc).float().cpu()
    out_p[rows, cols] = p_of[best].cpu()
    return out_s, out_p
