"""The slow reference: every recall method and the chain written plainly, one query at a
time, in numpy and Python loops, from the store's data alone (its float16 cue rows, codes and
W's cells or contributions). The property tests compare both fast paths with it
(:mod:`nuonuo_core.fastpath`, :mod:`nuonuo_core.batchpath`); it is never used to answer.

The definitions (docs/engine.md's "When to answer" and :mod:`nuonuo_core.recall`'s doc):

* A cue row's score is the query's dot product with the stored float16 row, summed exactly
  (float64) and rounded to float32 once.
* Stage 1 ranks memories by their best cue row; ties go to the lower row.
* cosine: the k best memories by that score.
* hopfield: the ``max(top_k, k)`` best memories' rows X settle ξ ← Xᵀ softmax(β X ξ) from the
  query until the step moves ξ by less than ``eps`` or ``max_steps``; the candidates are
  ranked by their row's cosine with the settled state (ties to the earlier candidate); each
  answer's score is its stage-1 score, ``settled`` the settled cosine.
* W · code: for each unit, the sum of W[unit, c] over the code's units c (float64, rounded
  to float32 once). W[r, c] = Σ_i v_i[c] over memories i whose target code holds r while W is
  factored, else the stored cell.
* k-WTA: the k largest activities > 0, ties to the lower unit; fewer than k active -> -1.
* decode: memories sharing at least ``min_units`` units of the recalled code with their
  target code, ranked by overlap + 0.999 · (their overlapping units' share of the code's
  activity), ties to the lower position; score overlap / k.
* support: the stored cells among the k × k block W[target units, query code units] / k².
* hebbian: the query's code (k-WTA of the projection), one step, decode; score support ×
  overlap.
* chain: from a memory's first cue row's code, step and decode the best memory; stop at
  "nothing", before a link whose support from the previous target code (the start's cue code
  first) is below ``min_support`` ("no_link"), before a revisit ("revisit") unless allowed.
"""
from __future__ import annotations

import math

import numpy as np


# --- the store's data -----------------------------------------------------------------------
def cue_rows(store) -> np.ndarray:
    """(R, d) float16 rows as stored."""
    return store.index.emb16().cpu().numpy()


def row_score(row16: np.ndarray, q: np.ndarray) -> float:
    return float(np.float32(np.dot(row16.astype(np.float64), q.astype(np.float64))))


def w_cells(store) -> dict[tuple[int, int], float]:
    """W as {(row unit, column unit): value}, non-zero cells only."""
    D = store.config.code_dim
    cells: dict[tuple[int, int], float] = {}
    if store.factored:
        c = store.contrib
        cols = c.cols().cpu().numpy()
        mem = c.mem.cpu().numpy()
        vals = c.vals.cpu().numpy().astype(np.float64)
        targets = store.target_codes.cpu().numpy()
        for col, i, v in zip(cols, mem, vals):
            for r in targets[i]:
                cells[(int(r), int(col))] = cells.get((int(r), int(col)), 0.0) + float(v)
        return cells
    state = store.w.state_dict()
    for key, v in zip(state["w_keys"].numpy(), state["w_vals"].numpy()):
        cells[(int(key) % D, int(key) // D)] = float(v)
    return cells


# --- stage 1 and cosine ---------------------------------------------------------------------
def best_memories(store, q: np.ndarray, width: int) -> list[tuple[float, int, int]]:
    """The ``width`` best memories by their best cue row -> [(score, row, position)]."""
    rows16 = cue_rows(store)
    owners = store.row_mem.cpu().numpy()
    best: dict[int, tuple[float, int]] = {}
    for row in range(rows16.shape[0]):
        s = row_score(rows16[row], q)
        p = int(owners[row])
        if p not in best or s > best[p][0]:
            best[p] = (s, row)
    ranked = sorted(((s, row, p) for p, (s, row) in best.items()), key=lambda t: (-t[0], t[1]))
    return ranked[:width]


def cosine(store, q: np.ndarray, k: int) -> tuple[list[float], list[int]]:
    got = best_memories(store, q, k)
    return [s for s, _, _ in got], [p for _, _, p in got]


# --- hopfield -------------------------------------------------------------------------------
def hopfield(store, q: np.ndarray, k: int) -> tuple[list[float], list[int], list[float]]:
    """-> (match scores, positions, settled scores), best first."""
    cfg = store.config
    cand = best_memories(store, q, max(cfg.top_k, k))
    if not cand:
        return [], [], []
    X = np.stack([cue_rows(store)[row].astype(np.float64) for _, row, _ in cand])
    xi = q.astype(np.float64)
    for _ in range(cfg.max_steps):
        logits = cfg.beta * (X @ xi)
        attn = np.exp(logits - logits.max())
        new = (attn / attn.sum()) @ X
        moved = float(np.linalg.norm(new - xi))
        xi = new
        if moved < cfg.eps:
            break
    final = X @ (xi / max(float(np.linalg.norm(xi)), 1e-12))
    order = sorted(range(len(cand)), key=lambda j: (-final[j], j))[:k]
    return ([cand[j][0] for j in order], [cand[j][2] for j in order],
            [float(final[j]) for j in order])


# --- hebbian --------------------------------------------------------------------------------
def activity(cells: dict, code, dim: int) -> np.ndarray:
    """W · code (-1 = no unit) -> (D,) float32."""
    units = {int(c) for c in code if c >= 0}
    r = np.zeros(dim, np.float64)
    for (row, col), v in cells.items():
        if col in units:
            r[row] += v
    return r.astype(np.float32)


def kwta(r: np.ndarray, k: int) -> list[int]:
    """The k units of largest activity > 0 (ties to the lower unit), ascending; -1 for each
    missing winner."""
    active = [u for u in sorted(range(r.shape[0]), key=lambda u: (-r[u], u))[:k] if r[u] > 0]
    return sorted(active) + [-1] * (k - len(active))


def min_units(cfg) -> int:
    return max(1, math.ceil(cfg.min_overlap * cfg.k - 1e-9))


def decode(store, code, r: np.ndarray, k: int) -> tuple[list[float], list[int]]:
    """-> (overlap / k, positions), best first."""
    winners = store.config.k
    units = [int(u) for u in code if u >= 0]
    total = float(sum(float(r[u]) for u in units))
    ranked = []
    for p, target in enumerate(store.target_codes.cpu().numpy()):
        shared = [u for u in units if u in set(int(t) for t in target)]
        if len(shared) < min_units(store.config):
            continue
        share = sum(float(r[u]) for u in shared) / max(total, 1e-12)
        ranked.append((len(shared) + 0.999 * share, len(shared), p))
    ranked.sort(key=lambda t: (-t[0], t[2]))
    return [o / winners for _, o, _ in ranked[:k]], [p for _, _, p in ranked[:k]]


def support(store, cells: dict, code, target) -> float:
    winners = store.config.k
    links = sum(1 for t in target if t >= 0 for c in code if c >= 0 and (int(t), int(c)) in cells)
    return links / float(winners * winners)


def hebbian(store, sep, q: np.ndarray, k: int, cells: dict | None = None):
    """-> (scores = support × overlap, positions, overlaps, supports), best first."""
    cfg = store.config
    cells = w_cells(store) if cells is None else cells
    h = sep.projection.cpu().numpy().astype(np.float64) @ q.astype(np.float64)
    query_code = sorted(sorted(range(h.shape[0]), key=lambda u: (-h[u], u))[:cfg.k])
    r = activity(cells, query_code, cfg.code_dim)
    overlap, pos = decode(store, kwta(r, cfg.k), r, k)
    targets = store.target_codes.cpu().numpy()
    sup = [support(store, cells, query_code, targets[p]) for p in pos]
    return [s * o for s, o in zip(sup, overlap)], pos, overlap, sup


# --- chain ----------------------------------------------------------------------------------
def chain(store, start_pos: int, hops: int, min_support: float, allow_revisits: bool):
    """-> ([(memory id, score, support)], stop reason, refused hop or None)."""
    cfg = store.config
    cells = w_cells(store)
    owners = store.row_mem.cpu().numpy()
    first = min(row for row in range(owners.shape[0]) if owners[row] == start_pos)
    code = [int(u) for u in store.row_codes[first].cpu().numpy()]
    prev = code
    steps: list[tuple[int, float, float]] = []
    seen: set[int] = set()
    targets = store.target_codes.cpu().numpy()
    ids = store.ids.cpu().numpy()
    for _ in range(hops):
        r = activity(cells, code, cfg.code_dim)
        code = kwta(r, cfg.k)
        score, pos = decode(store, code, r, 1)
        if not pos:
            return steps, "nothing", None
        hop = (int(ids[pos[0]]), score[0], support(store, cells, prev, targets[pos[0]]))
        if hop[2] < min_support:
            return steps, "no_link", hop
        if hop[0] in seen and not allow_revisits:
            return steps, "revisit", hop
        seen.add(hop[0])
        steps.append(hop)
        prev = [int(t) for t in targets[pos[0]]]
    return steps, "hops", None
