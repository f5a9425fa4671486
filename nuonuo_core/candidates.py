"""What both recall paths share (:mod:`nuonuo_core.batchpath`, :mod:`nuonuo_core.fastpath`):
stage 1's candidate window counted in memories, and when a Hebbian recall counts."""
from __future__ import annotations

import math

import torch

from .ops import compact, first_per_owner


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


def min_units(cfg) -> int:
    """Fewest shared units for a Hebbian recall to count: ceil(min_overlap · k)."""
    return max(1, math.ceil(cfg.min_overlap * cfg.k - 1e-9))
