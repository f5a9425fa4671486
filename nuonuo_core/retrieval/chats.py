"""Conversations from files: the example shipped with the engine, and users' own chats.

A chat is JSON or CSV, bounded (the table of limits, :mod:`nuonuo_core.limits`: bytes, JSON
values and nesting counted while it is read, turns, every field) and validated like
``add_turns`` before anything is built:

- JSON: a list of turns, or ``{"title": ..., "turns": [...], "questions": [...]}``. A turn:
  ``text`` required; ``speaker``, ``time``, ``session``, ``id``, ``caption`` optional (ids
  ``T1``, ``T2``, ... where absent). A question: ``question`` and ``evidence`` (turn ids)
  required; ``answer`` and ``category`` optional.
- CSV: a header row naming some of ``id, speaker, text, time, session, caption`` (``text``
  required), one turn per row; empty cells are absent values.

The example (``nuonuo_core/data/conversation_example.json``, in the wheel) is written for this
project: two friends over six months, with labelled questions (list, temporal, multi-hop and
paraphrased ones).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from .. import safejson
from .evaluate import LabelledQuestion
from .limits import check_count, check_text, limit
from .turns import FIELDS, check_turns

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "conversation_example.json"
_Q_FIELDS = ("question", "evidence", "answer", "category")
_TOP = ("title", "description", "turns", "questions")


@dataclass
class Chat:
    """Validated turns (dicts for ``add_turns``), labelled questions, a title."""
    turns: list[dict]
    questions: list[LabelledQuestion] = field(default_factory=list)
    title: str = ""
    description: str = ""

    def memory(self, config=None, encoder=None, progress=None):
        """A :class:`ConversationMemory` holding these turns."""
        from .memory import ConversationMemory
        mem = ConversationMemory(config, encoder)
        mem.add_turns(self.turns, progress)
        return mem


def load_example() -> Chat:
    """The example conversation shipped with the engine (``nuonuo_core/data/``)."""
    return read_chat(EXAMPLE)


def read_chat(path: str | Path) -> Chat:
    path = Path(path)
    size = path.stat().st_size
    check_count("chat_bytes", size, f"{path.name} (bytes)")
    return parse_chat(path.read_bytes(), path.name)


def parse_chat(data: bytes, name: str = "chat.json") -> Chat:
    """A chat from uploaded bytes; JSON or CSV by the name's extension (else by content).
    ValueError with a message fit to show the uploader."""
    if not isinstance(data, (bytes, bytearray)):
        raise ValueError(f"expected the file's bytes, got {type(data).__name__}")
    check_count("chat_bytes", len(data), "the file size in bytes")
    try:
        text = bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("the file is not UTF-8 text") from None
    low = str(name).lower()
    is_json = low.endswith(".json") or (not low.endswith(".csv")
                                        and text.lstrip()[:1] in ("[", "{"))
    return parse_json(text) if is_json else parse_csv(text)


def json_bounds() -> tuple[int, int]:
    """(values, nesting) a chat's JSON may hold, from the table: a turn is an object of at
    most 6 fields (7 values), a question an object of 4 with a few evidence ids (16 values on
    average), so a chat of the most turns and questions allowed holds at most
    8 · chat_turns + 16 · questions values (240,064 today: ~25 MB of Python objects)."""
    return 8 * limit("chat_turns") + 16 * limit("questions") + 64, limit("chat_json_depth")


def parse_json(text: str) -> Chat:
    """A chat from JSON text, counted and bounded while it is read (:mod:`nuonuo_core.safejson`:
    values and nesting, from :func:`json_bounds`), so that a small
    hostile file cannot cost much before it is refused."""
    try:
        data = safejson.loads(text, *json_bounds(), what="the chat's JSON")
    except safejson.TooLarge as exc:
        raise ValueError(str(exc)) from None
    except ValueError as exc:
        raise ValueError(f"the file is not valid JSON ({str(exc).split(': ', 1)[-1]})") from None
    if isinstance(data, list):
        data = {"turns": data}
    if not isinstance(data, dict) or "turns" not in data:
        raise ValueError("expected a list of turns or an object with 'turns'")
    unknown = [str(k)[:30] for k in data if k not in _TOP]
    if unknown:
        raise ValueError(f"unknown top-level fields {unknown[:5]}; allowed: {', '.join(_TOP)}")
    turns = _with_ids(data["turns"])
    title = check_text("chat_title_chars", data.get("title", ""), "the title")
    desc = check_text("chat_description_chars", data.get("description", ""), "the description")
    return Chat(turns, _questions(data.get("questions", []), turns), title, desc)


def parse_csv(text: str) -> Chat:
    try:
        rows = csv.reader(io.StringIO(text, newline=""))
        header = next(rows, None)
        if header is None:
            raise ValueError("the CSV file is empty")
        header = [h.strip().lower() for h in header]
        unknown = [h[:30] for h in header if h not in FIELDS]
        if unknown or "text" not in header or len(set(header)) != len(header):
            raise ValueError(f"the CSV header must name some of {', '.join(FIELDS)} (text "
                             f"required, each once), got {header[:8]}")
        turns: list[dict] = []
        for i, row in enumerate(rows):
            if not any(c.strip() for c in row):
                continue
            check_count("chat_turns", len(turns) + 1, "the number of rows")
            if len(row) != len(header):
                raise ValueError(f"CSV row {i + 2} has {len(row)} cells; the header has "
                                 f"{len(header)}")
            turns.append({h: c for h, c in zip(header, row) if c.strip() or h == "text"})
    except csv.Error as exc:
        raise ValueError(f"the file is not valid CSV ({str(exc)[:120]})") from None
    return Chat(_with_ids(turns))


def _with_ids(turns) -> list[dict]:
    """Validated turn dicts; ids ``T{i+1}`` where absent."""
    if not isinstance(turns, list):
        raise ValueError(f"turns must be a list, got {type(turns).__name__}")
    check_count("chat_turns", len(turns), "the number of turns")
    out = [dict(t, id=t.get("id", f"T{i + 1}")) if isinstance(t, dict) else t
           for i, t in enumerate(turns)]
    return [t.to_dict() for t in check_turns(out)]


def _questions(items, turns: list[dict]) -> list[LabelledQuestion]:
    if not isinstance(items, list):
        raise ValueError(f"questions must be a list, got {type(items).__name__}")
    check_count("questions", len(items), "the number of questions")
    ids = {t["id"] for t in turns}
    out = []
    for i, q in enumerate(items):
        if not isinstance(q, dict) or "question" not in q or "evidence" not in q:
            raise ValueError(f"questions[{i}] must be an object with question and evidence")
        unknown = [str(k)[:30] for k in q if k not in _Q_FIELDS]
        if unknown:
            raise ValueError(f"questions[{i}] has unknown fields {unknown[:5]}; allowed: "
                             f"{', '.join(_Q_FIELDS)}")
        ev = q["evidence"]
        if not isinstance(ev, list) or not ev:
            raise ValueError(f"questions[{i}] evidence must be a non-empty list of turn ids")
        try:
            lq = LabelledQuestion(q["question"], tuple(ev), q.get("category", ""),
                                  q.get("answer", ""))
        except ValueError as exc:
            raise ValueError(f"questions[{i}]: {exc}") from None
        missing = [e[:40] for e in lq.evidence if e not in ids]
        if missing:
            raise ValueError(f"questions[{i}] names evidence turns that are not in the chat: "
                             f"{missing[:5]}")
        out.append(lq)
    return out
