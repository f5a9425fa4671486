"""Retrieval metrics, pure functions.

``ranking`` is a sequence of corpus positions, best first (a permutation or a prefix of one);
``corpus_ids`` maps a position to its document id; ``relevant`` is a collection of ids.

- LoCoMo (Maharana et al. 2024): :func:`recall_at_k`, the fraction of evidence ids in the top k.
- LongMemEval (Wu et al. 2025, ``src/retrieval/eval_utils.py``): :func:`evaluate_retrieval`
  (recall_any, recall_all, ndcg_any) and :func:`evaluate_turn2session`, reproduced exactly,
  including its DCG (ranks 1 and 2 both undiscounted) and its growing effective k.
"""
from __future__ import annotations

import math
from typing import Collection, Sequence


def _check_k(k: int) -> None:
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")


def recall_at_k(ranked_ids: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Fraction of ``relevant`` ids present in ``ranked_ids[:k]`` (LoCoMo turn recall).

    Raises ValueError for an empty ``relevant`` (such questions must be skipped by the caller).
    """
    _check_k(k)
    rel = set(relevant)
    if not rel:
        raise ValueError("recall_at_k needs at least one relevant id, got none")
    return len(rel & set(ranked_ids[:k])) / len(rel)


def reciprocal_rank(ranked_ids: Sequence[str], relevant: Collection[str]) -> float:
    """1 / (1-based rank of the first relevant id); 0.0 when none is ranked."""
    rel = set(relevant)
    for i, d in enumerate(ranked_ids):
        if d in rel:
            return 1.0 / (i + 1)
    return 0.0


def dcg(relevances: Sequence[float], k: int) -> float:
    """LongMemEval's DCG@k: rel[0] + sum_{i>=1} rel[i] / log2(i + 1) (ranks 1 and 2 weigh 1)."""
    r = list(relevances)[:k]
    if not r:
        return 0.0
    return float(r[0] + sum(x / math.log2(i + 1) for i, x in enumerate(r[1:], start=1)))


def ndcg(ranking: Sequence[int], relevant: Collection[str], corpus_ids: Sequence[str],
         k: int) -> float:
    """LongMemEval's ndcg: ideal DCG over all corpus entries whose id is relevant."""
    rel = set(relevant)
    relevances = [1 if d in rel else 0 for d in corpus_ids]
    ideal = dcg(sorted(relevances, reverse=True), k)
    if ideal == 0:
        return 0.0
    return dcg([relevances[i] for i in ranking[:k]], k) / ideal


def evaluate_retrieval(ranking: Sequence[int], relevant: Collection[str],
                       corpus_ids: Sequence[str], k: int) -> tuple[float, float, float]:
    """(recall_any@k, recall_all@k, ndcg_any@k) as LongMemEval computes them.

    recall_all is 1.0 when ``relevant`` is empty (Python's ``all([])``), as upstream.
    """
    _check_k(k)
    got = {corpus_ids[i] for i in ranking[:k]}
    rel = list(dict.fromkeys(relevant))
    r_any = float(any(d in got for d in rel))
    r_all = float(all(d in got for d in rel))
    return r_any, r_all, ndcg(ranking, rel, corpus_ids, k)


def session_of(turn_id: str) -> str:
    """Upstream ``strip_turn_id``: ``"sess_a_3"`` -> ``"sess_a"`` (drop the last ``_`` part)."""
    return "_".join(turn_id.split("_")[:-1])


def evaluate_turn2session(ranking: Sequence[int], relevant_turns: Collection[str],
                          corpus_turn_ids: Sequence[str], k: int) -> tuple[float, float, float]:
    """Session-level metrics from a turn ranking (LongMemEval's turn2session).

    Turn ids map to sessions by :func:`session_of`; k grows until the top ``effective_k`` turns
    span k distinct sessions (or the corpus is exhausted).
    """
    _check_k(k)
    rel = list({session_of(t) for t in relevant_turns})
    sess = [session_of(t) for t in corpus_turn_ids]
    eff = k
    uniq = {sess[i] for i in ranking[:eff]}
    while eff <= len(sess) and len(uniq) < k:
        eff += 1
        uniq = {sess[i] for i in ranking[:eff]}
    return evaluate_retrieval(ranking, rel, sess, eff)


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean; NaN for an empty sequence."""
    return float(sum(values) / len(values)) if len(values) else float("nan")
