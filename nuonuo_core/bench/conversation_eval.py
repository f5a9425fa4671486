"""Evaluation loops of turn retrieval on LoCoMo and LongMemEval, through the conversation
memory API (:mod:`nuonuo_core.retrieval`).

Each conversation (LoCoMo) or question haystack (LongMemEval) becomes one
:class:`~nuonuo_core.retrieval.ConversationMemory`; each table row is one
:class:`~nuonuo_core.retrieval.RetrievalConfig` (the named rows of
:data:`~nuonuo_core.retrieval.PRESETS`, or any mapping name -> config), scored over the same
memory. Only the memory's own turns build it: no answers or evidence labels are used.
Records: ``{"method", "metric", "category", "at_k", "value", "n"}`` (``at_k``: the recall
cutoff; None for MRR).
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np

from nuonuo_core.retrieval import (ConversationMemory, LabelledQuestion, RetrievalConfig,
                                   as_embedder, preset)
from nuonuo_core.retrieval.config import METHODS
from nuonuo_core.retrieval.evaluate import recall_at, records
from nuonuo_core.retrieval.limits import limit

__all__ = ["METHODS", "RetrievalConfig", "configs_of", "evaluate_locomo", "evaluate_longmemeval",
           "locomo_questions", "locomo_turns", "lme_turns"]

Progress = Callable[[int, int, str], None]  # evaluation loops: (done, total, message)
Methods = Sequence[str] | Mapping[str, RetrievalConfig]


def configs_of(methods: Methods) -> dict[str, RetrievalConfig]:
    """Row names (:data:`METHODS`) or a mapping name -> config -> {name: config}."""
    if isinstance(methods, Mapping):
        out = dict(methods)
        bad = [k for k, v in out.items() if not isinstance(v, RetrievalConfig)]
        if bad:
            raise ValueError(f"{bad[:3]!r}: every method must map to a RetrievalConfig")
        return out
    if isinstance(methods, str):
        raise ValueError("methods must be a list of names, not one string")
    return {m: preset(m) for m in methods}


def locomo_turns(conv) -> list[dict]:
    """A LoCoMo conversation's turns as ``add_turns`` takes them (session date as time)."""
    return [{"id": t.dia_id, "text": t.text, "speaker": t.speaker, "session": str(t.session),
             "time": t.date or None, "caption": t.blip_caption} for t in conv.turns]


def locomo_questions(conv) -> list[LabelledQuestion]:
    """A conversation's questions with evidence (the others cannot be scored)."""
    from nuonuo_core.datasets.locomo import CATEGORIES
    return [LabelledQuestion(q.question, q.evidence, CATEGORIES.get(q.category,
                                                                    str(q.category)), q.answer)
            for q in conv.questions if q.evidence]


def evaluate_locomo(convs, methods: Methods, at_k: Sequence[int], encoder=None,
                    progress: Progress | None = None) -> list[dict]:
    """LoCoMo turn recall@k per method, overall and per category. Questions whose evidence is
    empty after normalisation are skipped (not counted in ``n``). ``encoder``: see
    :func:`~nuonuo_core.retrieval.as_embedder` (default: cached MiniLM)."""
    configs = configs_of(methods)
    emb = as_embedder(encoder)
    cutoffs = sorted(set(at_k))
    acc: dict[tuple, list[float]] = {}
    for ci, conv in enumerate(convs):
        qs = locomo_questions(conv)
        if progress:
            progress(ci, len(convs), f"{conv.sample_id}: {len(conv.turns)} turns, "
                                     f"{len(qs)} questions")
        if not qs:
            continue
        mem = ConversationMemory(encoder=emb)
        mem.add_turns(locomo_turns(conv))
        for name, cfg in configs.items():
            for q, ranked in zip(qs, mem.ranking([q.question for q in qs], cfg, max(cutoffs))):
                for k in cutoffs:
                    r = recall_at(ranked, q.evidence, k)
                    acc.setdefault((name, "overall", k), []).append(r)
                    acc.setdefault((name, q.category, k), []).append(r)
    if progress:
        progress(len(convs), len(convs), "done")
    return records(acc)


def lme_turns(question) -> tuple[list[dict], int]:
    """The user turns of a LongMemEval haystack as ``add_turns`` takes them (the official
    turn corpus; no speaker: one anonymous user), and how many texts were cut to the turn
    text limit."""
    cut, out = 0, []
    for c in question.corpus():
        text = c.text if c.text.strip() else "(empty)"
        if len(text) > limit("turn_chars"):
            text, cut = text[:limit("turn_chars")], cut + 1
        out.append({"id": c.corpus_id, "text": text, "session": str(c.session_index),
                    "time": c.date or None})
    return out, cut


def evaluate_longmemeval(questions, methods: Methods, at_k: Sequence[int], encoder=None,
                         progress: Progress | None = None) -> list[dict]:
    """LongMemEval's recall_any/recall_all/ndcg_any@k at turn and session level (turn ranking;
    session metrics by the official turn2session), plus MRR (at_k None); ``_abs`` questions
    and questions without evidence turns are skipped. Category: ``overall`` and
    question_type. Token vectors of haystacks are not kept on disk."""
    from nuonuo_core.metrics import (evaluate_retrieval, evaluate_turn2session,
                                           reciprocal_rank, session_of)
    from nuonuo_core.embed_cache import CachedEncoder, cached_minilm
    from nuonuo_core.retrieval import Embedder
    configs = configs_of(methods)
    enc = cached_minilm() if encoder is None else encoder
    if isinstance(enc, CachedEncoder):   # token vectors computed per question, not cached
        cached = enc

        def tokens(texts: list[str]) -> list:
            return cached.encode_tokens(texts, persist=False)
        enc = Embedder(cached.encode, tokens, cached.model_name)
    emb = as_embedder(enc)
    acc: dict[tuple, list[float]] = {}
    qs = [q for q in questions if not q.is_abstention and q.relevant_turn_ids()]
    for qi, q in enumerate(qs):
        if progress and qi % 10 == 0:
            progress(qi, len(qs), q.question_id)
        turns, _ = lme_turns(q)
        ids = [t["id"] for t in turns]
        mem = ConversationMemory(encoder=emb)
        mem.add_turns(turns)
        rel = q.relevant_turn_ids()
        pos = {t: i for i, t in enumerate(ids)}
        for name, cfg in configs.items():
            order = [pos[t] for t in mem.ranking([q.question], cfg)[0]]
            vals: list[tuple[str, int | None, float]] = []
            for k in at_k:
                for lvl, fn in (("turn", evaluate_retrieval), ("session", evaluate_turn2session)):
                    ra, rl, nd = fn(order, rel, ids, k)
                    vals += [(f"{lvl}_recall_any", k, ra), (f"{lvl}_recall_all", k, rl),
                             (f"{lvl}_ndcg_any", k, nd)]
            sess = list(dict.fromkeys(session_of(ids[i]) for i in order))
            vals += [("turn_mrr", None, reciprocal_rank([ids[i] for i in order], rel)),
                     ("session_mrr", None, reciprocal_rank(sess, {session_of(r) for r in rel}))]
            for met, cut, v in vals:
                for cat in ("overall", q.question_type):
                    acc.setdefault((name, met, cat, cut), []).append(v)
    if progress:
        progress(len(qs), len(qs), "done")
    return [{"method": m, "metric": met, "category": c, "at_k": k, "value": float(np.mean(v)),
             "n": len(v)} for (m, met, c, k), v in acc.items()]
