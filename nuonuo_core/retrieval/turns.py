"""Turns of a conversation memory: validation of the dicts users pass, and their dates.

A turn is a dict with ``id`` (unique str) and ``text`` (str) required, and ``speaker``,
``session``, ``time`` and ``caption`` (str or None) optional. Everything is checked against
:mod:`nuonuo_core.retrieval.limits` before anything is stored; a refusal names the turn (its
position and id), the field, the value and what is allowed.

Accepted dates (``time``): LoCoMo's "1:56 pm on 8 May, 2023" and "8 May, 2023" (also
"May 8, 2023" and three-letter months), LongMemEval's "2023/05/20 (Sat) 02:21", ISO 8601
dates "2023-05-20", "2023-05-20 14:30", "2023-05-20T14:30:00Z" (a zone is accepted and not
converted). A turn without ``session`` belongs to the session of its calendar day when it has
a time, otherwise to one session shared by all such turns.
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import asdict, dataclass
from typing import NamedTuple

from .limits import check_count, check_optional_text, check_text

FIELDS = ("id", "text", "speaker", "session", "time", "caption")
MONTHS = ("january february march april may june july august september october november "
          "december").split()
_MONTH = {**{m: i + 1 for i, m in enumerate(MONTHS)}, **{m[:3]: i + 1 for i, m in
                                                         enumerate(MONTHS)}, "sept": 9}
FORMATS = ("'1:56 pm on 8 May, 2023'", "'8 May, 2023'", "'May 8, 2023'",
           "'2023/05/20 (Sat) 02:21'", "'2023-05-20'", "'2023-05-20T14:30:00'")
_WEEKDAY = r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?"
_DMY = re.compile(r"^(?:(\d{1,2}):(\d{2})\s*([ap])\.?\s?m\.?\s+on\s+)?(?:" + _WEEKDAY +
                  r",?\s+)?(\d{1,2})\s+([a-z]+)\.?,?\s+(\d{4})$", re.I)
_MDY = re.compile(r"^(?:" + _WEEKDAY + r",?\s+)?([a-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})$", re.I)
_SLASH = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?:\s*\(" + _WEEKDAY + r"\))?"
                    r"(?:\s+(\d{1,2}):(\d{2}))?$", re.I)
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?"
                  r"(?:Z|[+-]\d{2}:?\d{2})?)?$", re.I)


class When(NamedTuple):
    """A parsed date: calendar day and minutes after midnight (-1 when no clock time)."""
    year: int
    month: int
    day: int
    minute: int = -1

    @property
    def month_index(self) -> int:
        """year * 12 + month - 1 (the time channel's unit)."""
        return self.year * 12 + self.month - 1

    @property
    def day_key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


def parse_time(text: str) -> When:
    """A date string in one of :data:`FORMATS` -> :class:`When`; ValueError otherwise."""
    s = re.sub(r"\s+", " ", text.strip())
    clock: tuple[int, int] | None = None          # (hour 0-23, minute)
    if m := _DMY.match(s):
        h, mi, ampm, day, mon, year = m.groups()
        if h is not None:
            if not 1 <= int(h) <= 12:
                raise ValueError(f"hour {int(h)} is not a 12-hour clock hour")
            clock = (int(h) % 12 + (12 if ampm.lower() == "p" else 0), int(mi))
    elif m := _MDY.match(s):
        mon, day, year = m.groups()
    elif (m := _SLASH.match(s)) or (m := _ISO.match(s)):
        year, mon, day, h, mi = m.groups()[:5]
        if h is not None:
            clock = (int(h), int(mi))
    else:
        raise ValueError("it is not in a known date format")
    if mon.isdigit():
        month = int(mon)
    elif mon.lower() in _MONTH:
        month = _MONTH[mon.lower()]
    else:
        raise ValueError(f"{mon!r} is not a month name")
    try:
        _dt.date(int(year), month, int(day))
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    if int(year) < 1000:
        raise ValueError(f"year {year} is before 1000")
    if clock is not None and not (0 <= clock[0] <= 23 and 0 <= clock[1] <= 59):
        raise ValueError(f"{clock[0]:02d}:{clock[1]:02d} is not a time of day")
    return When(int(year), month, int(day), -1 if clock is None else clock[0] * 60 + clock[1])


@dataclass(frozen=True)
class Turn:
    """One validated turn (see the module docstring)."""
    id: str
    text: str
    speaker: str | None = None
    session: str | None = None
    time: str | None = None
    caption: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def words(self) -> str:
        """The turn's own words: text (+ " and shared {caption}" for an image turn)."""
        return (self.text + (f" and shared {self.caption}" if self.caption else "")).strip() \
            or self.paper

    @property
    def paper(self) -> str:
        """The LoCoMo paper's text: ``{speaker} said, "{text}"`` (+ caption); without a
        speaker, the turn's words."""
        cap = f" and shared {self.caption}" if self.caption else ""
        if self.speaker is None:
            return (self.text + cap).strip()
        return f'{self.speaker} said, "{self.text}"' + cap

    @property
    def asks(self) -> bool:
        """The turn asks a question (its text ends with "?")."""
        return self.text.rstrip().endswith("?")

    @property
    def when(self) -> When | None:
        return None if self.time is None else parse_time(self.time)

    @property
    def month_index(self) -> int:
        """year * 12 + month - 1 of its time; -1 without one (the time channel's unit)."""
        return -1 if self.time is None else parse_time(self.time).month_index

    @property
    def day_index(self) -> int:
        """Its calendar day as ``datetime.date.toordinal()``; -1 without a time (the day
        channel's unit)."""
        if self.time is None:
            return -1
        w = parse_time(self.time)
        return _dt.date(w.year, w.month, w.day).toordinal()

    @property
    def session_key(self) -> str:
        """The session this turn belongs to: ``session``; else its calendar day; else ""."""
        if self.session is not None:
            return "s:" + self.session
        return "" if self.time is None else "d:" + parse_time(self.time).day_key


def _where(i: int, item) -> str:
    tid = item.get("id") if isinstance(item, dict) else None
    if isinstance(tid, str):
        shown = tid if len(tid) <= 40 else tid[:37] + "…"
        return f"turns[{i}] (id {shown!r})"
    return f"turns[{i}]"


def check_turns(turns, known_ids: set[str] | frozenset = frozenset(),
                n_before: int = 0) -> list[Turn]:
    """Validate a list of turn dicts -> :class:`Turn` list. ``known_ids`` are ids already in
    the memory (``n_before`` turns). Nothing is kept on failure."""
    if isinstance(turns, (str, bytes, dict)) or not isinstance(turns, (list, tuple)):
        raise ValueError(f"turns must be a list of dicts, got {type(turns).__name__}")
    check_count("chat_turns", n_before + len(turns),
                f"the number of turns ({n_before:,} stored + {len(turns):,} new)")
    out: list[Turn] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(turns):
        where = _where(i, item)
        if not isinstance(item, dict):
            raise ValueError(f"{where} must be a dict, got {type(item).__name__}")
        unknown = [k for k in item if k not in FIELDS]
        if unknown:
            shown = [str(k)[:30] for k in unknown[:5]]
            raise ValueError(f"{where} has unknown fields {shown}; allowed: {', '.join(FIELDS)}")
        for req in ("id", "text"):
            if req not in item:
                raise ValueError(f"{where} has no {req!r} (id and text are required)")
        tid = check_text("turn_id_chars", item["id"], f"{where} id")
        if not tid.strip():
            raise ValueError(f"{where} id must not be blank")
        if tid in known_ids:
            raise ValueError(f"{where}: id {tid[:40]!r} is already in the memory")
        if tid in seen:
            raise ValueError(f"{where}: id {tid[:40]!r} is used twice (also turns[{seen[tid]}])")
        seen[tid] = i
        text = check_text("turn_chars", item["text"], f"{where} text")
        values: dict[str, str | None] = {}
        for name, lim in (("speaker", "speaker_chars"), ("session", "session_chars"),
                          ("time", "time_chars"), ("caption", "caption_chars")):
            v = check_optional_text(lim, item.get(name), f"{where} {name}")
            values[name] = v if v is None or v.strip() else None   # "" means absent
        if not text.strip() and not values["caption"]:
            raise ValueError(f"{where} has no text (an empty text needs a caption)")
        time = values["time"]
        if time is not None:
            try:
                parse_time(time)
            except ValueError as exc:
                raise ValueError(f"{where} time {time[:64]!r} is not a date: {exc}; "
                                 f"accepted forms: {', '.join(FORMATS)}") from None
        out.append(Turn(tid, text, values["speaker"], values["session"], time,
                        values["caption"]))
    return out


def pair_texts(turns: list[Turn]) -> dict[str, list[str]]:
    """Each turn after its predecessor ("context") and before its reply ("reply") in the same
    session (the turn alone at a session's edge)."""
    words = [t.words for t in turns]
    key = [t.session_key for t in turns]
    n = len(turns)
    ctx = [(words[i - 1] + " " if i > 0 and key[i - 1] == key[i] else "") + words[i]
           for i in range(n)]
    rep = [words[i] + (" " + words[i + 1] if i + 1 < n and key[i + 1] == key[i] else "")
           for i in range(n)]
    return {"context": ctx, "reply": rep}
