"""The torch recall path: m queries at once, on any device (the CPU's batches, a GPU).

The same maths and ranking rules as the numpy path (:mod:`nuonuo_core.fastpath`) and the
slow reference (:mod:`nuonuo_core.reference`); :mod:`nuonuo_core.recall` chooses the path.
Each function takes unit queries (m, d) and returns the method's answers before any
threshold: (match scores (m, k), memory positions (m, k)), -1 / 0 for "none".
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .candidates import best_rows, min_units
from .functional import (SettleResult, expand_segments, hopfield_settle, kwta_active,
                         normalize)
from .ops import topk_stable

#: queries whose W activity (m, D) is summed at once (float64: 128 KiB a query at D 16384)
STEP_CHUNK = 256


def cosine_recall(store, queries: torch.Tensor, k: int):
    """Nearest neighbour over every stored cue row, best row per memory -> (scores, positions,
    {})."""
    s, rows = best_rows(store, queries, k)
    ok = rows >= 0
    return s.masked_fill(~ok, 0.0).cpu(), store.row_owners(rows).cpu(), {}


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
    if store.index.n == 0:
        patterns = torch.zeros(*rows.shape, store.config.embed_dim, device=queries.device)
    else:
        patterns = store.index.rows(rows.clamp(min=0)).to(queries.device) * mask[..., None]
    return HopfieldCandidates(rows, scores, patterns, mask)


def rank_final(final: torch.Tensor, owners: torch.Tensor, k: int, match: torch.Tensor):
    """Settled scores (m, K) of candidates owned by distinct memories -> the k best by settled
    score, ties to the earlier candidate: (match scores (m, k), positions (m, k), settled
    scores (m, k)), -1 / 0 where none. ``match`` (m, K): each candidate's stage-1 cosine."""
    s, j = topk_stable(final, k)
    live = torch.isfinite(s)
    pos = owners.gather(1, j).masked_fill(~live, -1)
    got = match.gather(1, j).masked_fill(~live, 0.0)
    out_s, out_p = _pad(got, pos, k)
    return out_s, out_p, _pad(s.masked_fill(~live, 0.0), pos, k)[0]


def _pad(s: torch.Tensor, pos: torch.Tensor, k: int):
    m, kk = s.shape
    out_s = torch.zeros(m, k)
    out_p = torch.full((m, k), -1, dtype=torch.long)
    out_s[:, :kk], out_p[:, :kk] = s.cpu(), pos.cpu()
    return out_s, out_p


@dataclass
class HopfieldOut:
    """:func:`hopfield_recall`'s result: match scores, positions and settled scores (m, k),
    stage-1 candidates and the settling."""

    scores: torch.Tensor
    pos: torch.Tensor
    settled: torch.Tensor
    cand: HopfieldCandidates
    settle: SettleResult


def hopfield_recall(store, queries: torch.Tensor, k: int, trace: bool = False,
                    beta: float | None = None) -> HopfieldOut:
    """Two-stage recall: top-K memories' best cue rows, settle ξ ← Xᵀ softmax(βXξ), rank by
    cos(ξ*, x); each answer's score is the query's cosine with its cue row (the match)."""
    cfg = store.config
    cand = hopfield_stage1(store, queries, max(cfg.top_k, k))
    settle = hopfield_settle(queries, cand.patterns, beta or cfg.beta, cfg.max_steps, cfg.eps,
                             mask=cand.mask, trace=trace)
    final = torch.bmm(cand.patterns, normalize(settle.state).unsqueeze(-1)).squeeze(-1)
    final = final.masked_fill(~cand.mask, -float("inf"))
    s, pos, settled = rank_final(final, store.row_owners(cand.rows), k, cand.scores)
    return HopfieldOut(s, pos, settled, cand, settle)


def hebbian_step(w, code: torch.Tensor, k: int):
    """One application of W: codes (m, k) (-1 = no unit) -> (activity r (m, D), new code
    (m, k)): k-WTA among units with activity > 0, -1 where fewer than k are active."""
    if code.shape[0] <= STEP_CHUNK:
        r = w.column_sums(code)
        return r, kwta_active(r, k)
    parts = [hebbian_step(w, code[a:a + STEP_CHUNK], k) for a in range(0, code.shape[0],
                                                                          STEP_CHUNK)]
    return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])


def hebbian_recall(store, sep, queries: torch.Tensor, k: int):
    """Code the query, apply W once with k-WTA, decode to the nearest target codes ->
    (scores = support × overlap, positions, {"overlap", "support"}) (m, k) each."""
    query_code = sep.codes(queries).long()
    r, code = hebbian_step(store.w, query_code, store.config.k)
    overlap, pos = decode_codes(store, code, r, k)
    del r
    support = answer_support(store, query_code, pos)
    score = (support * overlap.double()).float()
    return score, pos, {"overlap": overlap, "support": support.float()}


def link_counts(w, codes: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Stored links between codes and target codes: codes (n, a), targets (n, b) unit indices
    (-1 = none) -> (n,) how many of the b × a cells W[target unit, code unit] are non-zero."""
    n, a = codes.shape
    b = targets.shape[1]
    rows = targets.to(w.device)[:, :, None].expand(n, b, a).reshape(-1)
    cols = codes.to(w.device)[:, None, :].expand(n, b, a).reshape(-1)
    return w.has_cells(rows, cols).view(n, b * a).sum(1)


def answer_support(store, query_code: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    """W-link support of each answer: query codes (m, winners), answers' positions (m, k)
    (-1 = none) -> (m, k) float64 in [0, 1]: link_counts / winners², 0 where no answer."""
    out = torch.zeros(pos.shape, dtype=torch.float64)
    live = (pos >= 0).nonzero()
    if live.shape[0] == 0:
        return out
    winners = store.config.k
    targets = store.target_codes[pos[live[:, 0], live[:, 1]].to(store.target_codes.device)]
    counts = link_counts(store.w, query_code[live[:, 0].to(query_code.device)], targets.long())
    out[live[:, 0], live[:, 1]] = counts.cpu().double() / (winners * winners)
    return out


def decode_codes(store, code: torch.Tensor, r: torch.Tensor | None, k: int):
    """Codes (m, k_code) (-1 = no unit) -> the k stored memories whose target codes overlap
    most, among those sharing at least :func:`min_units` units (the rest are not recalls).

    Score = overlap / k_code (the cosine of binary codes); ties go to the memory whose
    overlapping units carry more of W·code (``r``): rank = overlap + 0.999·share ∈ [o, o+1),
    then to the lower position.
    """
    m, winners = code.shape
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
    query = seg // winners
    weight = torch.ones(total, device=ptr.device)
    if r is not None:
        c = code.to(r.device)
        r_win = r.gather(1, c.clamp(min=0)) * (c >= 0)  # (m, winners)
        share = r_win / r_win.sum(1, keepdim=True).clamp_min(1e-12)
        weight = weight + 0.999 * share.reshape(-1)[seg]
    # rank the (query, memory) pairs that share a unit; memory ∝ postings, not m × n
    uniq, inverse = torch.unique(query * n + positions, return_inverse=True)
    rank = torch.zeros(uniq.shape[0], dtype=torch.float64, device=ptr.device)
    rank.index_add_(0, inverse, weight.double())
    enough = torch.floor(rank + 1e-6) >= min_units(store.config)
    uniq, rank = uniq[enough], rank[enough]
    q_of, p_of = uniq // n, uniq % n
    order = torch.argsort(q_of.double() * (winners + 2) + (winners + 1 - rank), stable=True)
    q_sorted = q_of[order]
    place = torch.arange(order.shape[0], device=ptr.device) - torch.searchsorted(q_sorted, q_sorted)
    keep = place < k
    rows, cols, best = q_sorted[keep].cpu(), place[keep].cpu(), order[keep]
    out_s[rows, cols] = (torch.floor(rank[best] + 1e-6) / winners).float().cpu()
    out_p[rows, cols] = p_of[best].cpu()
    return out_s, out_p
