"""Command-line value lists: ``'a,b,c'`` split strictly, duplicates refused, seeds parsed.

Shared by the experiments CLI (``--seed 0,1,2``) and the sweep grid (every varied
parameter), so the experiments package never imports the sweep package: sweep builds on
experiments, not the other way round. Bounds come from the one limits table.
"""
from __future__ import annotations

from typing import Any

from ..limits import LIMITS
from .registry import check

MAX_AXIS_VALUES = int(LIMITS["grid_values"].hi)
MAX_SEEDS = int(LIMITS["grid_seeds"].hi)
MAX_TEXT = int(LIMITS["grid_text"].hi)   # characters in one parameter's value list


def split_values(name: str, text: Any) -> list:
    """'a,b,c' -> ['a', 'b', 'c'] strictly (no empty items); lists pass as they are."""
    if not isinstance(text, str):
        return list(text) if isinstance(text, (list, tuple)) else [text]
    check(len(text) <= MAX_TEXT,
          f"{name}: value list of {len(text)} characters, at most {MAX_TEXT} allowed")
    items = [p.strip() for p in text.split(",")]
    check(all(items), f"{name}: empty value in {text!r} (write values as v1,v2,...)")
    return items


def distinct_values(name: str, values: list) -> tuple:
    """``values`` as a tuple, refused if longer than the table allows or with a repeat."""
    check(len(values) <= MAX_AXIS_VALUES,
          f"{name}: {len(values)} values, at most {MAX_AXIS_VALUES} allowed")
    dup = next((v for i, v in enumerate(values) if v in values[:i]), None)
    check(dup is None, f"{name}: value {dup!r} is given twice")
    return tuple(values)


def parse_seeds(text: Any) -> tuple[int, ...]:
    """'0,1,2' -> (0, 1, 2): distinct seeds, each an int in the table's seed range
    ([0, 2**32 - 1], the engine's), at most MAX_SEEDS of them."""
    seeds = []
    for item in split_values("seeds", text):
        ok = isinstance(item, (int, str)) and not isinstance(item, bool)
        if isinstance(item, str):   # digits only: no sign, exponent or underscore in a seed
            ok = item.isdigit() and item.isascii()
        if ok:
            try:
                item = LIMITS["seed"].parse(item)
            except ValueError:
                ok = False
        check(ok, f"seeds: {item!r} is not an integer in {LIMITS['seed'].span()}")
        seeds.append(item)
    check(len(seeds) <= MAX_SEEDS, f"seeds: {len(seeds)} seeds, at most {MAX_SEEDS} allowed")
    return distinct_values("seeds", seeds)
