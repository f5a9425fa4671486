"""Bounds for every value a visitor can enter (forms, import cells, uploads).

One checker, one message shape: the value's name, the allowed range and what was given, so a
page can show it in place. Pure (no Streamlit); used by ``io``, ``workspaces`` and the pages.
"""
from __future__ import annotations

import json
import math

IMPORTANCE = (0.0, 100.0)          # (lo, hi], the Memories form's cap; engine bounds it too
CODE_DIMS = (256, 1024, 4096, 16384, 32768)
K_RANGE = (1, 256)
SEED_RANGE = (0, 2**31 - 1)
PER_DAY = (1, 50)
RECALL = {                          # live recall settings: (lo, hi, integer, lo_open)
    "beta": (0.0, 1000.0, False, True),
    "top_k": (1, 1000, True, False),
    "max_steps": (1, 100, True, False),
    "eps": (0.0, 1.0, False, True),
}
REBUILD = {                         # settings that change codes or W: need a rebuild
    "lr": (0.0, 100.0, False, True),
    "k": (*K_RANGE, True, False),
    "seed": (*SEED_RANGE, True, False),
}
MAX_JSON_DEPTH = 16


def number(name: str, value, lo, hi, *, integer: bool = False, lo_open: bool = False):
    """``value`` as a number in [lo, hi] ((lo, hi] if ``lo_open``); ValueError otherwise.

    Text, bool, NaN, inf and fractional values for an integer setting are refused; the message
    names the setting, the allowed range and the value given.
    """
    kind = "a whole number" if integer else "a number"
    where = span(lo, hi, lo_open)
    msg = f"{name} must be {kind} in {where}, got {_show(value)}"
    if isinstance(value, bool) or value is None:
        raise ValueError(msg)
    try:
        x = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(msg) from None
    if not math.isfinite(x) or x < lo or x > hi or (lo_open and x == lo):
        raise ValueError(msg)
    if integer:
        if x != int(x):
            raise ValueError(msg)
        return int(x)
    return x


def span(lo, hi, lo_open: bool = False) -> str:
    """The range as the messages write it: [1, 50], (0, 100]."""
    def fmt(v):
        return str(v) if isinstance(v, int) else f"{v:g}"
    return f"{'(' if lo_open else '['}{fmt(lo)}, {fmt(hi)}]"


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


def check_params(table: dict, values: dict) -> dict:
    """Check ``values`` against a table like :data:`RECALL`; returns the converted values."""
    out = {}
    for name, value in values.items():
        lo, hi, integer, lo_open = table[name]
        out[name] = number(name, value, lo, hi, integer=integer, lo_open=lo_open)
    return out


def json_depth(obj) -> int:
    """Deepest nesting of lists / dicts in a parsed JSON value (iterative, no recursion)."""
    best, stack = 0, [(obj, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            best = max(best, depth)
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict)
                                                  else item))
    return best


def load_json(text: str, max_depth: int = MAX_JSON_DEPTH):
    """``json.loads`` that refuses deep nesting with a message instead of a RecursionError."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError(f"JSON is nested too deeply; at most {max_depth} levels are "
                         f"allowed") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"malformed JSON: {exc}") from None
    depth = json_depth(data)
    if depth > max_depth:
        raise ValueError(f"JSON is nested {depth} levels deep; at most {max_depth} levels "
                         f"are allowed")
    return data


# --- the Conversation memory page (page 11): a visitor's own chat -----------------------------
# The engine takes chats up to 10 MB and 10,000 turns (nuonuo_core/retrieval/limits.py); the
# page takes less, because a visitor's chat is embedded for that visitor alone on a shared
# server and held in their session. Memory and time grow with MiniLM wordpieces (each keeps a
# 384-d token vector, ~2.3 KB with its index; MiniLM reads at most 254 of a turn), so the page
# bounds them: 60,000 wordpieces is ~140 MB and ~25 s of two free cores (LoCoMo's longest
# conversation, 663 turns, has 22,880).
CHAT_UPLOAD_BYTES = 1 * 2**20      # an uploaded chat file (JSON or CSV)
CHAT_TURNS = 2_000                 # turns of an uploaded chat
CHAT_WORDPIECES = 60_000           # MiniLM wordpieces over all its turns (at most 254 a turn)
CHAT_HITS = (1, 20)                # turns shown for one question
