"""LoCoMo loader (Maharana et al., ACL 2024): both released layouts.

- a folder of per-conversation files (``conv-NN.json``: a dict with ``speaker_a``,
  ``session_N``, ``session_N_date_time``, ``qa``), or
- the single file ``locomo10.json``: a list of ``{sample_id, conversation: {...}, qa: [...]}``.

Evidence ids are normalised ("D8:6; D9:17" -> two ids, "D:11:26" -> "D11:26"); ids naming no
turn of the conversation are dropped and counted in ``Conversation.dropped_evidence``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

CATEGORIES: dict[int, str] = {1: "multi-hop", 2: "temporal", 3: "open-domain",
                              4: "single-hop", 5: "adversarial"}
_SESSION_RE = re.compile(r"session_(\d+)$")
_ID_RE = re.compile(r"D\s*:?\s*(\d+)\s*:\s*(\d+)")


@dataclass(frozen=True)
class Turn:
    """One dialog turn; ``index`` is its position in the conversation (0-based)."""
    dia_id: str
    session: int
    speaker: str
    text: str
    date: str = ""
    blip_caption: str | None = None
    index: int = 0

    def render(self) -> str:
        """The LoCoMo paper's turn text: ``{speaker} said, "{text}"`` (+ image caption)."""
        s = f'{self.speaker} said, "{self.text}"'
        return s + f" and shared {self.blip_caption}" if self.blip_caption else s


@dataclass(frozen=True)
class Question:
    question: str
    answer: str
    category: int
    evidence: tuple[str, ...]   # normalised dia_ids that exist in the conversation

    @property
    def category_name(self) -> str:
        return CATEGORIES.get(self.category, str(self.category))


@dataclass
class Conversation:
    sample_id: str
    speaker_a: str
    speaker_b: str
    turns: list[Turn]
    questions: list[Question]
    session_dates: dict[int, str] = field(default_factory=dict)
    dropped_evidence: int = 0   # evidence ids removed because they name no turn

    def turn_index(self) -> dict[str, int]:
        return {t.dia_id: t.index for t in self.turns}


def normalize_evidence(raw: str | list | tuple) -> list[str]:
    """Split and canonicalise evidence strings: "D8:6; D9:17" -> ["D8:6", "D9:17"],
    "D:11:26" -> ["D11:26"]; strings with no id (e.g. "D") give []."""
    items = raw if isinstance(raw, (list, tuple)) else [raw]
    out: list[str] = []
    for item in items:
        for m in _ID_RE.finditer(str(item)):
            out.append(f"D{int(m.group(1))}:{int(m.group(2))}")
    return out


def parse_conversation(conv: dict, qa: list[dict], sample_id: str) -> Conversation:
    """Build a :class:`Conversation` from the ``conversation`` dict and its ``qa`` list."""
    if not isinstance(conv, dict) or "speaker_a" not in conv:
        raise ValueError(f"{sample_id}: not a LoCoMo conversation (keys {list(conv)[:6]!r})")
    sessions = sorted(int(m.group(1)) for k in conv if (m := _SESSION_RE.match(k)))
    turns: list[Turn] = []
    dates: dict[int, str] = {}
    for s in sessions:
        dates[s] = str(conv.get(f"session_{s}_date_time", ""))
        for t in conv[f"session_{s}"] or []:
            ids = normalize_evidence(t.get("dia_id", ""))
            if not ids:
                raise ValueError(f"{sample_id}: turn without a valid dia_id: {t!r:.120}")
            turns.append(Turn(dia_id=ids[0], session=s, speaker=str(t.get("speaker", "")),
                              text=str(t.get("text", "")), date=dates[s],
                              blip_caption=t.get("blip_caption") or None, index=len(turns)))
    known = {t.dia_id for t in turns}
    questions: list[Question] = []
    dropped = 0
    for q in qa:
        raw = q.get("evidence", [])
        ids = normalize_evidence(raw)
        n_raw = max(len(ids), len(raw) if isinstance(raw, list) else 1)
        keep = tuple(dict.fromkeys(i for i in ids if i in known))
        dropped += n_raw - len([i for i in ids if i in known])
        ans = q.get("answer", q.get("adversarial_answer", ""))
        questions.append(Question(question=str(q["question"]), answer=str(ans),
                                  category=int(q.get("category", 0)), evidence=keep))
    return Conversation(sample_id, str(conv["speaker_a"]), str(conv["speaker_b"]), turns,
                        questions, dates, dropped)


def load_locomo(path: str | Path) -> list[Conversation]:
    """Load a folder of ``conv-*.json`` / ``*.json`` files or a ``locomo10.json`` list."""
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.glob("*.json"))
        if not files:
            raise ValueError(f"no .json files in LoCoMo folder {str(p)!r}")
        out = []
        for f in files:
            data = json.loads(f.read_text(encoding="utf-8"))
            if isinstance(data, list):
                out.extend(_from_list(data, f))
            else:
                out.append(_from_dict(data, f.stem))
        return out
    if not p.is_file():
        raise ValueError(f"LoCoMo path does not exist: {str(p)!r}")
    data = json.loads(p.read_text(encoding="utf-8"))
    return _from_list(data, p) if isinstance(data, list) else [_from_dict(data, p.stem)]


def _from_dict(d: dict, stem: str) -> Conversation:
    if "conversation" in d:  # one element of the list layout saved alone
        return parse_conversation(d["conversation"], d.get("qa", []), d.get("sample_id", stem))
    return parse_conversation(d, d.get("qa", []), stem)


def _from_list(items: list, src: Path) -> list[Conversation]:
    out = []
    for i, d in enumerate(items):
        if not isinstance(d, dict) or "conversation" not in d:
            raise ValueError(f"{str(src)!r} item {i}: expected a dict with 'conversation'")
        out.append(parse_conversation(d["conversation"], d.get("qa", []),
                                      str(d.get("sample_id", f"{src.stem}-{i}"))))
    return out


def parse_locomo(data, source: str = "locomo10.json") -> list[Conversation]:
    """Conversations from already-parsed JSON ``data`` (the ``locomo10.json`` list, or one
    conversation dict), e.g. an uploaded file; ``source`` names it in error messages."""
    src = Path(source)
    if isinstance(data, list):
        return _from_list(data, src)
    if isinstance(data, dict):
        return [_from_dict(data, src.stem)]
    raise ValueError(f"{source!r}: expected a list of conversations, got {type(data).__name__}")
