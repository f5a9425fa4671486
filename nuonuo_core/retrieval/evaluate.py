"""Recall@k of a conversation memory over labelled questions (questions whose evidence turns
are known), for one or several configurations: tidy records that carry their parameters.

Record: ``{"method": configuration name, "metric": "recall", "category", "at_k", "value",
"n"}``; ``at_k`` is the recall cutoff (how many ranked turns are read), never the engine's k
(winners of k-WTA). recall@k of one question = the fraction of its evidence turns among the
top k (the LoCoMo paper's turn-level recall); a record averages it over ``n`` questions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

from ..metrics import recall_at_k
from .config import RetrievalConfig
from .limits import check_count, check_int, check_text

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class LabelledQuestion:
    """A question with the ids of the turns that hold its answer (``evidence``)."""
    question: str
    evidence: tuple[str, ...]
    category: str = ""
    answer: str = ""
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        check_text("question_chars", self.question, "question")
        if not isinstance(self.evidence, tuple) or not all(isinstance(e, str)
                                                           for e in self.evidence):
            raise ValueError(f"evidence must be a tuple of turn ids, got {self.evidence!r:.80}")
        check_count("evidence_ids", len(self.evidence), "the number of evidence ids")
        check_text("turn_chars", self.answer, "answer")
        if not isinstance(self.category, str) or len(self.category) > 40:
            raise ValueError(f"category must be a string of at most 40 characters, got "
                             f"{self.category!r:.60}")


def recall_at(ranked: Sequence[str], evidence: Sequence[str], at_k: int) -> float:
    """Fraction of ``evidence`` among ``ranked[:at_k]``."""
    return recall_at_k(ranked, evidence, at_k)


def _check(memory, questions: Sequence[LabelledQuestion], at_k: Sequence[int]) -> list[int]:
    check_count("questions", len(questions), "the number of questions")
    cutoffs = [check_int("at_k", k, "at_k") for k in at_k]
    if not cutoffs:
        raise ValueError("at_k needs at least one cutoff")
    for i, q in enumerate(questions):
        if not isinstance(q, LabelledQuestion):
            raise ValueError(f"questions[{i}] must be a LabelledQuestion, got "
                             f"{type(q).__name__}")
        unknown = [e for e in q.evidence if e not in memory]
        if unknown:
            raise ValueError(f"questions[{i}] ({q.question[:40]!r}) names evidence turns "
                             f"that are not in the memory: {[u[:40] for u in unknown[:5]]}")
    return cutoffs


def evidence_ranks(memory, questions: Sequence[LabelledQuestion],
                   config: RetrievalConfig | None = None) -> list[dict]:
    """Per question: ``question``, ``category``, ``evidence`` and ``ranks`` (the 1-based rank
    of each evidence turn) under ``config`` (default: the memory's)."""
    _check(memory, questions, [1])
    if not questions:
        return []
    order = memory.ranking([q.question for q in questions], config)
    out = []
    for q, ranked in zip(questions, order):
        where = {tid: r + 1 for r, tid in enumerate(ranked)}
        out.append({"question": q.question, "category": q.category,
                    "evidence": list(q.evidence), "ranks": [where[e] for e in q.evidence]})
    return out


def recall_records(memory, questions: Sequence[LabelledQuestion],
                   at_k: Sequence[int] = (1, 5, 10, 25, 50),
                   configs: Mapping[str, RetrievalConfig] | None = None,
                   progress: Progress | None = None) -> list[dict]:
    """Recall@k records (module docstring) of each configuration (default: the memory's own,
    named "default"), overall and per category; questions without evidence are skipped."""
    cutoffs = _check(memory, questions, at_k)
    configs = {"default": memory.config} if configs is None else dict(configs)
    qs = [q for q in questions if q.evidence]
    acc: dict[tuple, list[float]] = {}
    for ci, (name, cfg) in enumerate(configs.items()):
        if progress:
            progress(ci, len(configs), str(name))
        if not qs:
            continue
        for q, ranked in zip(qs, memory.ranking([q.question for q in qs], cfg, max(cutoffs))):
            for k in cutoffs:
                r = recall_at(ranked, q.evidence, k)
                acc.setdefault((name, "overall", k), []).append(r)
                if q.category:
                    acc.setdefault((name, q.category, k), []).append(r)
    if progress:
        progress(len(configs), len(configs), "done")
    return records(acc)


def records(acc: dict[tuple, list[float]]) -> list[dict]:
    """{(method, category, at_k): [values]} -> recall records."""
    import numpy as np
    return [{"method": m, "metric": "recall", "category": c, "at_k": k,
             "value": float(np.mean(v)), "n": len(v)} for (m, c, k), v in acc.items()]
