"""The three recall methods, as functions over a :class:`~nuonuo_core.store.MemoryStore`.

All take unit queries (m, d) and return the method's answers before any threshold: (match
scores (m, k), memory positions (m, k)) with -1 / 0 for "none", plus what each method knows
besides; :class:`~nuonuo_core.memory.HybridMemory` applies the answer threshold (``min_score``)
and maps positions to ids.

A score says how well the *query* matches the answered memory (docs/engine.md, "When to answer"):

* cosine and hopfield: the query's cosine with the memory's best cue row. Hopfield still
  chooses (and ranks) its answers by settling; the settled state's similarity to a pattern is
  kept apart as ``settled`` (it is ~1 for every answer, right or wrong).
* hebbian: ``support × overlap``. ``support`` is the fraction of the k × k block of W between
  the query's code and the memory's target code that holds a stored link (1 for a stored cue,
  ~ the shared cue units / k for a paraphrase, ~0.1 for cross-talk); ``overlap`` is the
  decoded overlap of the recalled code with the target code / k (the memory is recalled only
  from ``min_overlap``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import math

import numpy as np
import torch

from .functional import (SettleResult, expand_segments, hopfield_settle, kwta_active,
                         normalize)
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
    """Nearest neighbour over every stored cue row, best row per memory -> (scores, positions,
    {})."""
    s, rows = best_rows(store, queries, k)
    ok = rows >= 0
    return s.masked_fill(~ok, 0.0).cpu(), store.row_owners(rows).cpu(), {}


@dataclass
class HopfieldTrace:
    """What stage 2 did for one query: K candidates, attention (steps, K), energy (steps+1,).

    settled_id: the memory settling reached (-1 when nothing is stored); match_score: the
    query's cosine with that memory's best cue row (its confidence); answer_id / answer_score:
    the same after the threshold ``min_score`` (-1 / 0 when it abstains: "no memory
    matches"). settled_similarity: the settled state's cosine with that memory's cue row, a
    property of the dynamics (~1 for every answer), not a confidence."""

    candidate_ids: np.ndarray
    stage1_scores: np.ndarray
    attention: np.ndarray
    energy: np.ndarray
    answer_id: int
    answer_score: float
    query: np.ndarray
    noisy_cosine: float
    settled_id: int = -1
    match_score: float = 0.0
    settled_similarity: float = 0.0
    min_score: float = 0.0


@dataclass
class RecallResult:
    """m queries' answers and the evidence behind them (``HybridMemory.recall_details``).

    ids, scores: (m, k) the answers after the threshold: memory ids (-1 = no answer, always
    after the answers) and their match scores (0 where -1); what ``recall`` returns.
    best_ids, best_scores: (m, k) the method's answers before the threshold, in the method's
    order, with their match scores (a page can say "no memory matches; nearest: X at 0.42").
    min_score: the threshold applied. settled (hopfield): (m, k) the settled state's cosine
    with each of best_ids' cue rows (self-similarity, not a confidence). overlap, support
    (hebbian): (m, k) the two factors of the score (module doc of :mod:`nuonuo_core.recall`).
    """

    method: str
    min_score: float
    ids: np.ndarray
    scores: np.ndarray
    best_ids: np.ndarray
    best_scores: np.ndarray
    settled: np.ndarray | None = None
    overlap: np.ndarray | None = None
    support: np.ndarray | None = None

    @property
    def answered(self) -> np.ndarray:
        """(m,) bool: the query got an answer."""
        return self.ids[:, 0] >= 0

    @property
    def abstained(self) -> np.ndarray:
        """(m,) bool: the method had a best guess but its score was below ``min_score``."""
        return (self.best_ids[:, 0] >= 0) & (self.ids[:, 0] < 0)


class Hop(NamedTuple):
    """One step of ``HybridMemory.chain``: the recalled memory, the cosine of the recalled code
    with its target code (overlap / k), and the hop's support: the fraction of the k × k
    block of W between the previous memory's target code (the start's cue code for the first
    hop) and this memory's target code that holds stored links (1.0 for a stored link)."""

    memory_id: int
    cosine: float
    support: float


@dataclass
class ChainResult:
    """A chain and why it ended (``HybridMemory.chain_details``).

    hops: the hops that count. stop: "hops" (all hops taken), "nothing" (no memory recalled
    with ``min_overlap``), "no_link" (the next memory's support was below
    ``chain_min_support``), "revisit" (the next memory was already in the chain).
    refused: the hop that ended the chain ("no_link", "revisit"), else None."""

    hops: list[Hop]
    stop: str
    refused: Hop | None = None
    min_support: float = 0.0


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
    r = w.column_sums(code)
    return r, kwta_active(r, k)


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
