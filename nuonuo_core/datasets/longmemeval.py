"""LongMemEval loader (Wu et al., ICLR 2025), official JSON format.

A file is a list of questions ``{question_id, question_type, question, answer, question_date,
haystack_session_ids, haystack_dates, haystack_sessions, answer_session_ids}``; a session is a
list of ``{role, content, has_answer?}`` turns. Question ids ending in ``_abs`` are abstention
questions (excluded from retrieval metrics, as upstream).

Retrieval corpus (upstream ``process_item_flat_index``, turn granularity): user turns only, id
``{session_id}_{turn_no}`` (1-based position in the session, assistant turns counted). Relevant
turns are user turns with ``has_answer`` in an answer session; other user turns of an answer
session get the id prefix ``noans:`` so that, as upstream, they do not count as that session.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

_REQUIRED = ("question_id", "question_type", "question", "answer", "question_date",
             "haystack_session_ids", "haystack_dates", "haystack_sessions")


@dataclass(frozen=True)
class LMETurn:
    role: str
    content: str
    has_answer: bool = False


@dataclass(frozen=True)
class LMESession:
    session_id: str
    date: str
    turns: tuple[LMETurn, ...]


@dataclass(frozen=True)
class CorpusTurn:
    """One retrievable user turn of a question's haystack."""
    corpus_id: str     # upstream id, e.g. "answer_4be1b6b4_2_3" or "noans:answer_..._1"
    session_id: str
    session_index: int  # position of the session in the haystack
    turn_no: int       # 1-based position in the session
    date: str
    text: str


@dataclass(frozen=True)
class LMEQuestion:
    question_id: str
    question_type: str
    question: str
    answer: str
    question_date: str
    sessions: tuple[LMESession, ...]
    answer_session_ids: tuple[str, ...]

    @property
    def is_abstention(self) -> bool:
        return "_abs" in self.question_id

    def corpus(self) -> list[CorpusTurn]:
        """User turns of the haystack in order, with upstream corpus ids."""
        ans = set(self.answer_session_ids)
        out = []
        for si, s in enumerate(self.sessions):
            for i, t in enumerate(s.turns):
                if t.role != "user":
                    continue
                cid = f"{s.session_id}_{i + 1}"
                if s.session_id in ans and not t.has_answer:
                    cid = "noans:" + cid
                out.append(CorpusTurn(cid, s.session_id, si, i + 1, s.date, t.content))
        return out

    def relevant_turn_ids(self) -> list[str]:
        """Corpus ids of evidence turns (user, has_answer, in an answer session)."""
        ans = set(self.answer_session_ids)
        return [c.corpus_id for c in self.corpus()
                if c.session_id in ans and not c.corpus_id.startswith("noans:")]


def parse_question(d: dict) -> LMEQuestion:
    missing = [k for k in _REQUIRED if k not in d]
    if missing:
        raise ValueError(f"LongMemEval item {d.get('question_id', '?')!r} lacks {missing!r}")
    ids, dates, sess = d["haystack_session_ids"], d["haystack_dates"], d["haystack_sessions"]
    if not (len(ids) == len(dates) == len(sess)):
        raise ValueError(f"{d['question_id']!r}: haystack lengths differ "
                         f"(ids {len(ids)}, dates {len(dates)}, sessions {len(sess)})")
    sessions = []
    for sid, date, turns in zip(ids, dates, sess):
        ts = []
        for t in turns:
            if t.get("role") not in ("user", "assistant"):
                raise ValueError(f"{d['question_id']!r} session {sid!r}: "
                                 f"bad role {t.get('role')!r}")
            ts.append(LMETurn(t["role"], str(t.get("content", "")),
                              bool(t.get("has_answer", False))))
        sessions.append(LMESession(str(sid), str(date), tuple(ts)))
    return LMEQuestion(str(d["question_id"]), str(d["question_type"]), str(d["question"]),
                       str(d["answer"]), str(d["question_date"]), tuple(sessions),
                       tuple(str(s) for s in d.get("answer_session_ids", [])))


def load_longmemeval(path: str | Path) -> list[LMEQuestion]:
    """Load ``longmemeval_s.json`` / ``_m`` / ``_oracle`` (a JSON list of questions)."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"LongMemEval file does not exist: {str(p)!r}")
    data = json.loads(p.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{str(p)!r}: expected a JSON list of questions, "
                         f"got {type(data).__name__}")
    return [parse_question(d) for d in data]
