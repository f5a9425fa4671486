"""The conversations the Conversation memory page can load, and their memories (pure).

Three sources, one shape (:class:`Source`): the example conversation shipped with the engine
(``nuonuo_core.retrieval.load_example``: works on a fresh clone, no data folder), a LoCoMo
conversation from the benchmark's data folder (``benchmark.data_dir()``), and a visitor's own
chat uploaded as JSON or CSV (``parse_chat``: every field validated like ``add_turns``), bounded
first by the lab's page limits (``lab.limits.CHAT_*``: bytes, turns, MiniLM wordpieces).

Shipped and LoCoMo texts are embedded through the engine's on-disk embedding cache (the same
texts for every visitor: embedded once per machine). A visitor's chat is embedded by the
shared MiniLM without that cache: nothing of it is written to disk or kept beyond the
visitor's session, and no other visitor's timing can tell what it held.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import pandas as pd

from nuonuo_core.bench.conversation_eval import locomo_questions, locomo_turns
from nuonuo_core.retrieval import (ConversationMemory, LabelledQuestion, load_example,
                                   parse_chat, parse_time)

from .. import limits
from . import benchmark

EXAMPLE, LOCOMO, UPLOAD = "Example conversation", "LoCoMo conversation", "Your own chat"
KINDS = (EXAMPLE, LOCOMO, UPLOAD)
MAX_PIECES = 254            # MiniLM reads 256 wordpieces of a text, [CLS] and [SEP] included
Progress = Callable[[int, int, str], None]
CSV_HELP = ("JSON: a list of turns, or {\"title\", \"turns\", \"questions\"}; a turn has text "
            "and optionally speaker, time, session, id. CSV: a header naming some of id, "
            "speaker, text, time, session, caption (text required), one turn per row. Dates "
            "such as 2024-03-03, 3 March, 2024 or 7:15 pm on 3 March, 2024.")


@dataclass
class Source:
    """A loaded conversation: ``key`` names it for the session's caches; ``private``: a
    visitor's upload (embedded without the shared on-disk cache)."""
    key: tuple
    title: str
    turns: list[dict]
    questions: list[LabelledQuestion] = field(default_factory=list)
    private: bool = False


def example() -> Source:
    chat = load_example()
    return Source(("example",), chat.title or "Example conversation", chat.turns,
                  chat.questions)


def locomo_names(folder: Path | None = None) -> list[str] | None:
    """Sample ids of the LoCoMo conversations in the data folder; None when it holds none.
    ValueError (without the files' contents) when they are not LoCoMo's format."""
    convs = benchmark.folder_conversations(folder)
    return None if convs is None else [c.sample_id for c in convs]


def locomo(sample_id: str, folder: Path | None = None) -> Source:
    convs = benchmark.folder_conversations(folder) or []
    conv = next((c for c in convs if c.sample_id == sample_id), None)
    if conv is None:
        raise ValueError(f"no LoCoMo conversation {sample_id[:40]!r} in the data folder")
    names = f"{conv.speaker_a} and {conv.speaker_b}"
    return Source(("locomo", str(folder or benchmark.data_dir()), sample_id),
                  f"LoCoMo {sample_id}: {names}", locomo_turns(conv), locomo_questions(conv))


def where_to_get() -> str:
    """What to do when the data folder holds no LoCoMo conversation (plain text)."""
    return (f"No LoCoMo data found. LoCoMo (Maharana et al., ACL 2024) is published in the "
            f"snap-research/locomo repository ({benchmark.SOURCE_REPO}) as the file "
            f"{benchmark.SOURCE_FILE}. Download it and put it (or its conv-*.json files) in the "
            f"folder below, then reload; set NUONUO_DATA_DIR to use another folder. The "
            f"Benchmark page also takes it as an upload. The example conversation needs no data.")


def upload(data: bytes, name: str, wordpieces: Callable[[list[str]], int]) -> Source:
    """A visitor's chat from uploaded bytes: bounded by the page's limits, then parsed and
    validated by the engine. ``wordpieces(texts)``: how many MiniLM wordpieces the turns hold
    (:func:`minilm_wordpieces`). ValueError with a message fit for the page otherwise."""
    if len(data) > limits.CHAT_UPLOAD_BYTES:
        raise ValueError(f"the file is {len(data) / 2**20:.1f} MB; this page takes chats up to "
                         f"{limits.CHAT_UPLOAD_BYTES // 2**20} MB")
    chat = parse_chat(data, name)
    if not chat.turns:
        raise ValueError("the file holds no turns")
    if len(chat.turns) > limits.CHAT_TURNS:
        raise ValueError(f"the chat has {len(chat.turns):,} turns; this page takes up to "
                         f"{limits.CHAT_TURNS:,}")
    pieces = wordpieces([turn_words(t) for t in chat.turns])
    if pieces > limits.CHAT_WORDPIECES:
        raise ValueError(f"the chat holds {pieces:,} MiniLM wordpieces; this page takes up to "
                         f"{limits.CHAT_WORDPIECES:,} (about 2,000 turns of 30 words)")
    title = chat.title or Path(str(name)).name[:80] or "your chat"
    return Source(("upload", hashlib.sha256(data).hexdigest()[:24]), title, chat.turns,
                  chat.questions, private=True)


def turn_words(turn: dict) -> str:
    """The text MiniLM reads for a turn's token vectors (its words and image caption)."""
    cap = turn.get("caption")
    return (turn["text"] + (f" and shared {cap}" if cap else "")).strip() or turn["text"]


def minilm_wordpieces(texts: list[str]) -> int:
    """MiniLM wordpieces of ``texts`` (at most :data:`MAX_PIECES` a text, as it reads them)."""
    from nuonuo_core.encoders import get_minilm_encoder
    tok = get_minilm_encoder().model.tokenizer
    if not texts:
        return 0
    ids = tok(list(texts), add_special_tokens=False, truncation=True,
              max_length=MAX_PIECES)["input_ids"]
    return sum(len(i) for i in ids)


def build(source: Source, progress: Progress | None = None) -> ConversationMemory:
    """The source's memory (default configuration) with its W links built, so that the
    first question is as fast as the next."""
    encoder = None
    if source.private:
        from nuonuo_core.encoders import get_minilm_encoder
        encoder = get_minilm_encoder()
    mem = ConversationMemory(encoder=encoder)
    mem.add_turns(source.turns, progress)
    if progress:
        progress(1, 1, "building the Hebbian links (question → reply)")
    mem.links()
    return mem


# --- what the page shows of a conversation -----------------------------------------------------
def day(time: str | None) -> str:
    """"3 March 2024" for any accepted date string; "" without one."""
    if not time:
        return ""
    w = parse_time(time)
    return f"{w.day} {_MONTHS[w.month - 1]} {w.year}"


_MONTHS = ("January February March April May June July August September October November "
           "December").split()


def session_of(turn: dict) -> str:
    """A turn's session as the page names it: its session ("session 3" for LoCoMo's bare
    "3"), else the day of its date, else "(no session)" (as the engine groups them)."""
    s = turn.get("session")
    if s:
        return f"session {s}" if s.isdigit() else s
    return day(turn.get("time")) or "(no session)"


def sessions(turns: Sequence[dict]) -> pd.DataFrame:
    """One row per session, in order: session, date, turns, speakers, how it opens."""
    rows: dict[str, dict] = {}
    for t in turns:
        key = session_of(t)
        r = rows.setdefault(key, {"session": key, "date": day(t.get("time")), "turns": 0,
                                  "speakers": [], "opens with": t["text"][:120]})
        r["turns"] += 1
        if t.get("speaker") and t["speaker"] not in r["speakers"]:
            r["speakers"].append(t["speaker"])
    out = pd.DataFrame(list(rows.values()),
                       columns=["session", "date", "turns", "speakers", "opens with"])
    out["speakers"] = out["speakers"].map(", ".join)
    return out


def session_turns(turns: Sequence[dict], session: str) -> pd.DataFrame:
    """The turns of one session (as :func:`sessions` names it): id, speaker, text."""
    sel = [t for t in turns if session_of(t) == session]
    return pd.DataFrame([{"id": t["id"], "speaker": t.get("speaker") or "",
                          "text": t["text"]} for t in sel], columns=["id", "speaker", "text"])


def summary(source: Source) -> str:
    """One line: turns, sessions, speakers, dates, labelled questions."""
    t = source.turns
    speakers = list(dict.fromkeys(x["speaker"] for x in t if x.get("speaker")))
    dates = sorted((parse_time(x["time"])[:3], x["time"]) for x in t if x.get("time"))
    n_sessions = len(sessions(t))
    parts = [f"{len(t):,} turns", f"{n_sessions} session{'s' * (n_sessions != 1)}"]
    if speakers:
        parts.append(", ".join(speakers[:4]) + (f" and {len(speakers) - 4} more"
                                               if len(speakers) > 4 else ""))
    if dates:
        first, last = day(dates[0][1]), day(dates[-1][1])
        parts.append(first if first == last else f"{first} to {last}")
    if source.questions:
        parts.append(f"{len(source.questions)} labelled question"
                     f"{'s' * (len(source.questions) != 1)}")
    return " · ".join(parts)


def template_csv(source: Source) -> bytes:
    """The conversation as the CSV an upload takes (id, speaker, text, time, session)."""
    cols = ["id", "speaker", "text", "time", "session"]
    return pd.DataFrame([{c: t.get(c) or "" for c in cols} for t in source.turns],
                        columns=cols).to_csv(index=False).encode("utf-8")
