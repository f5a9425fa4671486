"""Thin checks over the one table of limits (:mod:`nuonuo_core.limits`) for conversation memory.

The bounds themselves live in that table, with the engine's (rows ``chat_turns``,
``turn_chars``, ``caption_chars``, ``turn_id_chars``, ``speaker_chars``, ``session_chars``,
``time_chars``, ``question_chars``, ``questions``, ``hits``, ``at_k``, ``evidence_ids``,
``chat_bytes``, ``chat_json_depth``, ``chat_title_chars``, ``chat_description_chars``,
``conversation_file_bytes``); these helpers read it at call time and word the refusals for
counts, sizes and texts. Every value that comes from outside (a turn, a question, a file, an
upload) is checked before any work is done; a refusal names the value, what was given and the
range. Sizes: one turn costs about 6 KB of sentence vectors (four 384-d float32 rows: own
words, speaker text, two context texts) plus 1.5 KB per wordpiece of token vectors (MiniLM
reads at most 256 wordpieces of a text), about 45 KB for a typical 25-word turn.
"""
from __future__ import annotations

from ..limits import LIMITS

__all__ = ["LIMITS", "limit", "span", "check_count", "check_int", "check_text",
           "check_optional_text"]


def limit(name: str) -> int:
    """The highest allowed value of ``name``."""
    return int(LIMITS[name].hi)


def span(name: str) -> str:
    return LIMITS[name].span()


def check_count(name: str, value: int, what: str | None = None) -> None:
    """Refuse a count or size outside LIMITS[name]: "<what> is 1,000,000; allowed [0, 10000]"."""
    lim = LIMITS[name]
    if not lim.contains(value):
        raise ValueError(f"{what or name} is {value:,}; allowed {lim.span()}")


def check_int(name: str, value, what: str | None = None) -> int:
    """An int (not a bool) inside LIMITS[name]; ValueError naming the value otherwise."""
    return int(LIMITS[name].check(value, what or name))


def check_text(name: str, value, what: str) -> str:
    """A str whose length lies inside LIMITS[name]."""
    return _text(name, value, what, False)


def check_optional_text(name: str, value, what: str) -> str | None:
    """:func:`check_text`, or None."""
    return None if value is None else _text(name, value, what, True)


def _text(name: str, value, what: str, optional: bool) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string{' or None' if optional else ''}, got "
                         f"{type(value).__name__}")
    lim = LIMITS[name]
    if not lim.contains(len(value)):
        raise ValueError(f"{what} has {len(value):,} characters; allowed {lim.span()}")
    return value
