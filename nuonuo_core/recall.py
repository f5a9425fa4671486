"""The three recall methods and the chain, over a :class:`~nuonuo_core.store.MemoryStore`,
and the one place that chooses how they run.

Two paths compute the same answers: the numpy path (:mod:`nuonuo_core.fastpath`, one query
on the CPU, where small torch kernels would cost more than the work) and the torch path
(:mod:`nuonuo_core.batchpath`, batches and GPUs). :func:`choose_path` picks one; both follow
the definitions written plainly in :mod:`nuonuo_core.reference` (ranking, scores, ties,
strictness, the chain's stops), and the tests run every tie and strictness case on both.

:func:`recall` takes unit queries (m, d) and returns the method's answers before any
threshold: (match scores (m, k), memory positions (m, k)) with -1 / 0 for "none", plus what
each method knows besides; :class:`~nuonuo_core.memory.HybridMemory` applies the answer
threshold (``min_score``) and maps positions to ids.

A score says how well the *query* matches the answered memory (README, "When to answer"):

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

import numpy as np
import torch

from . import batchpath, fastpath
from .candidates import min_units

__all__ = ["recall", "chain", "choose_path", "PATHS", "min_units", "RecallResult", "Hop",
           "ChainResult", "HopfieldTrace"]

PATHS = ("numpy", "torch")
#: tests set this to run every recall and chain on one path ("numpy" or "torch")
FORCE_PATH: str | None = None


def choose_path(store, m: int) -> str:
    """"numpy" for one query on the CPU, "torch" for batches and other devices (or the path
    :data:`FORCE_PATH` names; the numpy path then answers a batch one query at a time)."""
    if FORCE_PATH is not None:
        if FORCE_PATH not in PATHS:
            raise ValueError(f"FORCE_PATH must be one of {PATHS}, got {FORCE_PATH!r}")
        return FORCE_PATH
    return "numpy" if m == 1 and store.device.type == "cpu" else "torch"


def recall(store, sep, queries: torch.Tensor, k: int, method: str
           ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Unit queries (m, d) -> (match scores (m, k) float32, positions (m, k) int64, extra):
    extra is {"settled"} (hopfield), {"overlap", "support"} (hebbian) or {} (cosine), each
    (m, k) float32; before any threshold."""
    if queries.shape[0] and choose_path(store, queries.shape[0]) == "numpy":
        rows = [_one(store, sep, q, k, method) for q in queries.cpu().numpy()]
        names = rows[0][2].keys() if rows else []
        return (np.stack([r[0] for r in rows]).astype(np.float32),
                np.stack([r[1] for r in rows]).astype(np.int64),
                {n: np.stack([r[2][n] for r in rows]).astype(np.float32) for n in names})
    if method == "hopfield":
        out = batchpath.hopfield_recall(store, queries, k)
        s, pos, extra = out.scores, out.pos, {"settled": out.settled}
    elif method == "hebbian":
        s, pos, extra = batchpath.hebbian_recall(store, sep, queries, k)
    else:
        s, pos, extra = batchpath.cosine_recall(store, queries, k)
    return (s.cpu().numpy().astype(np.float32), pos.cpu().numpy().astype(np.int64),
            {n: v.cpu().numpy().astype(np.float32) for n, v in extra.items()})


def _one(store, sep, q: np.ndarray, k: int, method: str):
    if method == "hopfield":
        s, pos, settled = fastpath.hopfield_one(store, q, k)
        return s, pos, {"settled": settled}
    if method == "hebbian":
        return fastpath.hebbian_one(store, sep, q, k)
    s, pos = fastpath.cosine_one(store, q, k)
    return s, pos, {}


def chain(store, start_pos: int, hops: int, min_support: float,
          allow_revisits: bool) -> "ChainResult":
    """Follow W from the memory at ``start_pos``'s first cue row (``HybridMemory.chain``):
    each hop applies W to the recalled code with k-WTA and decodes the memory whose target
    code overlaps it most (at least ``min_overlap``); the chain stops at "nothing" (no such
    memory), before a hop whose support from the previous memory's target code (the start's
    cue code for the first hop) is below ``min_support`` ("no_link") and before a memory
    already visited unless ``allow_revisits`` ("revisit")."""
    winners = store.config.k
    row = int(store.first_rows()[start_pos:start_pos + 1][0])
    code_np = store.row_codes[row].cpu().numpy().astype(np.int64)
    prev = code_np               # the code the next link must start at
    numpy_path = choose_path(store, 1) == "numpy"
    steps: list[Hop] = []
    seen: set[int] = set()
    for _ in range(hops):
        if numpy_path:
            r, code_np = fastpath.hebbian_step_np(store.w, code_np, winners)
            s, p = fastpath.decode_np(store, code_np, r, 1)
            score, p0 = float(s[0]), int(p[0])
        else:
            code = torch.from_numpy(code_np)[None].to(store.device)
            r_t, code = batchpath.hebbian_step(store.w, code, winners)
            s_t, p_t = batchpath.decode_codes(store, code, r_t, 1)
            code_np = code[0].cpu().numpy().astype(np.int64)
            score, p0 = float(s_t[0, 0]), int(p_t[0, 0])
        if p0 < 0:
            return ChainResult(steps, "nothing", None, min_support)
        target = store.target_codes[p0].cpu().numpy().astype(np.int64)
        if numpy_path:
            links = int(fastpath.link_counts_np(store.w, prev, target[None])[0])
        else:
            links = int(batchpath.link_counts(
                store.w, torch.from_numpy(prev)[None].to(store.device),
                torch.from_numpy(target)[None].to(store.device))[0])
        hop = Hop(int(store.ids[p0]), score, links / (winners * winners))
        if hop.support < min_support:
            return ChainResult(steps, "no_link", hop, min_support)
        if hop.memory_id in seen and not allow_revisits:
            return ChainResult(steps, "revisit", hop, min_support)
        seen.add(hop.memory_id)
        steps.append(hop)
        prev = target
    return ChainResult(steps, "hops", None, min_support)


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


