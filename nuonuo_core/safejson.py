"""JSON from outside, parsed in bounded time and memory.

``json.loads`` builds every list and dict before anyone can count them: 19 MB of
``[[],[],…]`` are six million lists (+500 MB) before a check after parsing could refuse
them. :func:`loads` first reads the text once with a tokenizer that counts values, nesting
and the entries of each container *as it goes* and stops at the first one past its bounds
(so refusing costs O(bound), not O(file)); only text inside the bounds reaches ``json.loads``.
Python's own limit on digits per integer (4300) bounds number conversion.
"""
from __future__ import annotations

import json
import re

# a complete string token (escapes included), or one structural character
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]')


class TooLarge(ValueError):
    """The JSON holds more values, deeper nesting or longer containers than allowed."""


def scan(text: str, max_items: int, max_depth: int, max_len: int | None = None,
         what: str = "JSON") -> int:
    """Count the values of ``text`` (an upper bound: commas + opened containers + 1) while
    reading it; TooLarge at the first value, level or container entry past its bound.
    Returns the count. Malformed text is left for ``json.loads`` to describe."""
    items, depth = 1, 0
    lengths: list[int] = []
    for m in _TOKENS.finditer(text):
        c = text[m.start()]
        if c == '"':
            continue
        if c == "[" or c == "{":
            depth += 1
            items += 1
            if depth > max_depth:
                raise TooLarge(f"{what} is nested too deeply: {depth} levels reached; at "
                               f"most {max_depth} levels are allowed")
            lengths.append(1)
        elif c == "]" or c == "}":
            depth -= 1
            if lengths:
                lengths.pop()
        else:
            items += 1
            if lengths:
                lengths[-1] += 1
                if max_len is not None and lengths[-1] > max_len:
                    raise TooLarge(f"{what} has a list or object of more than {max_len} "
                                   f"entries; at most {max_len} are allowed")
        if items > max_items:
            raise TooLarge(f"{what} holds more than {max_items} values; at most "
                           f"{max_items} are allowed")
    return items


def loads(text: str | bytes, max_items: int, max_depth: int, max_len: int | None = None,
          what: str = "JSON"):
    """``json.loads`` of text whose size was bounded by :func:`scan` first. ValueError
    (TooLarge, or a parse error naming ``what``) otherwise."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{what} is not UTF-8 text") from None
    scan(text, max_items, max_depth, max_len, what)
    try:
        return json.loads(text)
    except RecursionError:   # pragma: no cover - the depth bound comes first
        raise TooLarge(f"{what} is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{what} is not valid JSON: {str(exc)[:200]}") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise ValueError(f"{what} is not valid JSON: {str(exc)[:200]}") from None
