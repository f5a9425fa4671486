"""Bounds of conversation memory, in one table (so that they can move to a shared one).

Every value that comes from outside (a turn, a question, a file, an upload) is checked against
this table before any work is done; a refusal names the value, what was given and the range.
Sizes: one turn costs about 6 KB of sentence vectors (four 384-d float32 rows: own words,
speaker text, two context texts) plus 1.5 KB per wordpiece of token vectors (MiniLM reads at
most 256 wordpieces of a text), about 45 KB for a typical 25-word turn.
"""
from __future__ import annotations

# name: (lowest, highest) allowed
LIMITS: dict[str, tuple[int, int]] = {
    "turns": (0, 10_000),            # turns in one memory (a LoCoMo conversation: 369-689)
    "text_chars": (0, 20_000),       # one turn's text (MiniLM reads its first 256 wordpieces)
    "caption_chars": (0, 2_000),     # an image caption shared with a turn
    "id_chars": (1, 128),            # a turn id
    "speaker_chars": (0, 100),
    "session_chars": (0, 100),
    "time_chars": (0, 64),           # a date string ("1:56 pm on 8 May, 2023")
    "question_chars": (1, 2_000),    # one question
    "questions": (0, 10_000),        # questions in one batch search or evaluation
    "k": (1, 10_000),                # hits returned by one search
    "at_k": (1, 10_000),             # recall cutoffs of an evaluation
    "evidence": (1, 200),            # evidence ids of one labelled question
    "file_bytes": (0, 2 * 2**30),    # a saved conversation memory
    "chat_bytes": (0, 10 * 2**20),   # an uploaded chat (JSON or CSV)
    "json_depth": (0, 16),           # nesting of an uploaded JSON chat
}


def limit(name: str) -> int:
    """The highest allowed value of ``name``."""
    return LIMITS[name][1]


def span(name: str) -> str:
    lo, hi = LIMITS[name]
    return f"[{lo:,}, {hi:,}]"


def check_count(name: str, value: int, what: str | None = None) -> None:
    """Refuse a count or size outside LIMITS[name]: "<what> is 1,000,000; allowed [0, 10,000]"."""
    lo, hi = LIMITS[name]
    if not lo <= value <= hi:
        raise ValueError(f"{what or name} is {value:,}; allowed {span(name)}")


def check_int(name: str, value, what: str | None = None) -> int:
    """An int (not a bool) inside LIMITS[name]; ValueError naming the value otherwise."""
    lo, hi = LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        shown = repr(value)
        raise ValueError(f"{what or name} must be an int in {span(name)}, got "
                         f"{shown if len(shown) <= 40 else shown[:37] + '…'}")
    return int(value)


def check_text(name: str, value, what: str) -> str:
    """A str of at most LIMITS[name] characters."""
    return _text(name, value, what, False)


def check_optional_text(name: str, value, what: str) -> str | None:
    """:func:`check_text`, or None."""
    return None if value is None else _text(name, value, what, True)


def _text(name: str, value, what: str, optional: bool) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string{' or None' if optional else ''}, got "
                         f"{type(value).__name__}")
    lo, hi = LIMITS[name]
    if not lo <= len(value) <= hi:
        raise ValueError(f"{what} has {len(value):,} characters; allowed {span(name)}")
    return value
