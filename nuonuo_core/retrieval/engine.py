"""The engine's part in conversation retrieval: Hebbian links between turns, the association
hop over them, and the engine's own ranking (two-stage Hopfield, or cosine over paraphrase
cue rows) of a conversation's turns.

Everything here stores turns in a :class:`~nuonuo_core.HybridMemory` and reads it back with
its public methods. Recall here never abstains (the smallest ``min_overlap``: a recalled
memory counts when its target code shares one unit), so the rows of the LoCoMo table keep the
numbers they were measured with.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .config import RetrievalConfig

# min_overlap for the memories built here: ceil(1e-6 · k) = 1 shared unit counts (no abstention)
NO_ABSTENTION = 1e-6


def engine_config(dim: int, cfg: RetrievalConfig, **changes):
    """The MemoryConfig of the engine memories built here: CPU, and never abstaining (the
    smallest ``min_overlap``, and every answer threshold ``min_score_*`` the engine has at
    its lowest), so that the rows of the LoCoMo table keep the numbers they were measured
    with. The one place to say "no abstention" for conversation retrieval."""
    from dataclasses import fields

    from nuonuo_core import MemoryConfig
    floor = {f.name: -1.0 for f in fields(MemoryConfig) if f.name.startswith("min_score_")}
    # word_match re-scores text queries only (these are vectors): off, to say so
    return MemoryConfig(embed_dim=dim, seed=cfg.seed, device="cpu", min_overlap=NO_ABSTENTION,
                        **{"word_match": False, **floor, **changes})


def hebbian_recall(mem, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(target-code overlap / k (m, k), memory ids (m, k)) of one Hebbian hop from each query:
    the score the links were measured with. Where the engine reports the overlap apart from
    its answer score (``recall_details``), that factor is read."""
    details = getattr(mem, "recall_details", None)
    if details is not None:
        out = details(queries, k=k, method="hebbian", min_score=-1.0)
        if getattr(out, "overlap", None) is not None:
            return np.asarray(out.overlap), np.asarray(out.best_ids)
    return mem.recall_vectors(queries, k=k, method="hebbian")


def center(x: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """(x - mu), L2-normalised rows: removes the component all turns of a memory share."""
    y = x - mu
    return (y / np.maximum(np.linalg.norm(y, axis=-1, keepdims=True), 1e-9)).astype(np.float32)


@dataclass(frozen=True)
class Links:
    """What one hop through W reaches, sparse: turn ``src[e]`` reaches turn ``dst[e]`` with
    engine score ``val[e]`` (target-code overlap); edges sorted by source, ``ptr`` (n + 1,)
    indexes them by source turn (CSR)."""
    n: int
    src: np.ndarray
    dst: np.ndarray
    val: np.ndarray
    ptr: np.ndarray

    @classmethod
    def from_dict(cls, n: int, best: dict[tuple[int, int], float]) -> "Links":
        keys = sorted(best)
        src = np.array([a for a, _ in keys], dtype=np.int64)
        dst = np.array([b for _, b in keys], dtype=np.int64)
        val = np.array([best[k] for k in keys], dtype=np.float32)
        ptr = np.searchsorted(src, np.arange(n + 1)).astype(np.int64)
        return cls(n, src, dst, val, ptr)

    def dense(self) -> np.ndarray:
        """L (n, n): L[i, j] = engine score of reaching turn j from turn i, 0 where not."""
        out = np.zeros((self.n, self.n), dtype=np.float32)
        out[self.src, self.dst] = self.val
        return out

    def __len__(self) -> int:
        return int(self.src.shape[0])


def hebbian_links(emb: np.ndarray, links: Sequence[tuple[int, int]], cfg: RetrievalConfig,
                  fanout: int | None = None) -> Links:
    """Store links a -> b in the engine's Hebbian W (cue emb[a], target emb[b]), then recall
    one hop through W from every source turn's embedding (``fanout`` targets each).

    Embeddings are centred first: turns of one conversation share a large common component,
    which makes their k-WTA codes overlap and W's recall cross-talk (precision ~0.25 -> ~0.8)."""
    n = len(emb)
    best: dict[tuple[int, int], float] = {}
    if not links:
        return Links.from_dict(n, best)
    from nuonuo_core import HybridMemory
    emb = center(emb, emb.mean(0))
    mem = HybridMemory(engine_config(emb.shape[1], cfg))
    src = np.array([a for a, _ in links])
    dst = np.array([b for _, b in links])
    ids = mem.add_vectors(emb[src], targets=emb[dst])
    to_dst = dict(zip(ids, dst.tolist()))
    has_out = np.unique(src)
    scores, got = hebbian_recall(mem, emb[has_out], fanout or cfg.fanout)
    for row, i in enumerate(has_out.tolist()):
        for s, mid in zip(scores[row], got[row]):
            if mid >= 0 and to_dst[int(mid)] != i:
                key = (i, to_dst[int(mid)])
                best[key] = max(best.get(key, 0.0), float(s))
    return Links.from_dict(n, best)


def hebbian_link_matrix(emb: np.ndarray, links: Sequence[tuple[int, int]],
                        cfg: RetrievalConfig, fanout: int = 4) -> np.ndarray:
    """:func:`hebbian_links` as a dense (n, n) matrix (small memories, tests)."""
    return hebbian_links(emb, links, cfg, fanout).dense()


def _top_rows(first: np.ndarray, top: int) -> np.ndarray:
    top = min(top, first.shape[1])
    return np.argpartition(-first, top - 1, axis=1)[:, :top]


def spread(first: np.ndarray, L: Links | np.ndarray, top: int) -> np.ndarray:
    """Second hop: turn j gains max over the ``top`` best first-hop turns i of
    relu(first[i]) · L[i, j] (0 where none reaches it). ``first`` (m, n)."""
    out = np.zeros_like(first)
    if isinstance(L, np.ndarray):
        L = Links.from_dict(L.shape[0], {(int(i), int(j)): float(L[i, j])
                                         for i, j in zip(*np.nonzero(L))})
    if len(L) == 0:
        return out
    idx = _top_rows(first, top)
    for q in range(first.shape[0]):
        rows = idx[q]
        counts = L.ptr[rows + 1] - L.ptr[rows]
        if not counts.any():
            continue
        sel = np.concatenate([np.arange(L.ptr[i], L.ptr[i + 1]) for i in rows[counts > 0]])
        w = np.repeat(np.maximum(first[q, rows], 0.0)[counts > 0], counts[counts > 0])
        np.maximum.at(out[q], L.dst[sel], w * L.val[sel])
    return out


def link_sources(first: np.ndarray, L: Links, top: int, q: int,
                 targets: Sequence[int] | np.ndarray) -> dict[int, tuple[int, float]]:
    """For question ``q`` and turns ``targets``: the first-hop turn whose link lifted each
    (the arg max of :func:`spread`) -> {target: (source turn, link score)}; only lifted turns."""
    rows = _top_rows(first[q:q + 1], top)[0]
    want = set(int(t) for t in targets)
    best: dict[int, tuple[float, int, float]] = {}
    for i in rows.tolist():
        w = max(float(first[q, i]), 0.0)
        for e in range(L.ptr[i], L.ptr[i + 1]):
            j = int(L.dst[e])
            if j in want:
                gain = w * float(L.val[e])
                if gain > 0 and (j not in best or gain > best[j][0]):
                    best[j] = (gain, i, float(L.val[e]))
    return {j: (i, s) for j, (_, i, s) in best.items()}


class EngineRanker:
    """A conversation's turns stored in the engine, one memory per turn (with the turn's two
    context texts as paraphrase cue rows when given), recalled with one of its methods."""

    def __init__(self, emb: np.ndarray, cfg: RetrievalConfig,
                 paraphrases: list | None = None) -> None:
        from nuonuo_core import HybridMemory
        self.n = len(emb)
        self.emb = np.asarray(emb, dtype=np.float32)
        self.beta = cfg.beta
        self.mem = HybridMemory(engine_config(emb.shape[1], cfg, beta=cfg.beta))
        ids = np.asarray(self.mem.add_vectors(emb, paraphrases=paraphrases))
        self.pos = {int(x): i for i, x in enumerate(ids)}

    def rank(self, Q: np.ndarray, below: np.ndarray, method: str,
             depth: int) -> tuple[np.ndarray, np.ndarray]:
        """Recall the top ``depth`` turns for queries Q (m, d) with ``method``: they score
        depth - r (rank r, from 0); every other turn keeps the order of ``below`` (m, n),
        under them. Returns (scores (m, n), recalled positions (m, depth), -1 where none). A
        fixed depth keeps recall@k independent of which other k are asked."""
        k = min(depth, self.n)
        if method == "hopfield-seq":
            got = self.sequential(Q, k)
        else:
            _, got = self.mem.recall_vectors(Q, k=k, method=method)
        out = below - below.max(1, keepdims=True) - 1.0
        pos = np.full(got.shape, -1, dtype=np.int64)
        for q in range(len(Q)):
            for r, mid in enumerate(got[q]):
                if mid >= 0:
                    pos[q, r] = self.pos[int(mid)]
                    out[q, pos[q, r]] = k - r
        return out, pos

    def sequential(self, Q: np.ndarray, k: int) -> np.ndarray:
        """Sequential attractor recall: the engine's stage 1 takes the ``k`` turns most similar
        to each query (m, d); stage 2 settles ξ ← Xᵀ softmax(β X ξ) from the query over them
        (the engine's ``hopfield_settle``, its max_steps and eps), the candidate nearest the
        settled state is recalled and removed, and the query settles again over the rest, k
        times. Returns engine ids (m, k) in the order recalled (-1 past the end)."""
        import torch

        from nuonuo_core.functional import hopfield_settle, normalize
        _, first = self.mem.recall_vectors(Q, k=k, method="cosine")
        first = np.asarray(first)
        m = len(Q)
        ok = first >= 0
        pos = np.array([[self.pos.get(int(i), 0) for i in row] for row in first])
        pat = torch.from_numpy(self.emb[pos] * ok[..., None])          # (m, k, d)
        left = torch.from_numpy(ok.copy())
        xi = torch.from_numpy(np.asarray(Q, dtype=np.float32))
        cfg = self.mem.config
        out = np.full((m, k), -1, dtype=np.int64)
        rows = torch.arange(m)
        for r in range(k):
            live = left.any(1)
            if not bool(live.any()):
                break
            mask = left | ~live[:, None]       # a query with nothing left settles harmlessly
            settled = hopfield_settle(xi, pat, self.beta, cfg.max_steps, cfg.eps, mask=mask).state
            near = torch.bmm(pat, normalize(settled).unsqueeze(-1)).squeeze(-1)
            j = near.masked_fill(~left, -float("inf")).argmax(1)
            got = live.numpy()
            out[got, r] = first[got, j.numpy()[got]]
            left[rows, j] = False
        return out

    def trace(self, q: np.ndarray):
        """The two-stage Hopfield recall of one query (d,): the engine's
        :class:`~nuonuo_core.HopfieldTrace` with candidate and answer *positions* (turn
        indices) instead of engine ids (-1 stays -1)."""
        from dataclasses import replace
        t = self.mem.settle_trace(q, beta=self.beta)
        cand = np.array([self.pos.get(int(i), -1) for i in t.candidate_ids])
        return replace(t, candidate_ids=cand, answer_id=self.pos.get(int(t.answer_id), -1))
