"""Warnings about memories the encoder cannot tell apart.

MiniLM (and the hashing encoder) read words: a text with no letters or digits (emoji,
arrows, punctuation) gives a vector that says little, and different such texts embed almost
identically (🍎, 🍌 and 🍒 are one point), so recall and chains mix them up while reporting a
perfect cosine. :func:`check` finds both cases for memories just added.
"""
from __future__ import annotations

import unicodedata

#: two different texts whose embeddings are closer than this are indistinguishable
SAME_COSINE = 0.999
#: the near-duplicate check embeds the new cues once more: at most this many per add
MAX_CHECKED = 500


def has_words(text: str) -> bool:
    """True if ``text`` has a letter or a digit (any script)."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in str(text))


def symbol_only(texts) -> list[str]:
    """The distinct non-empty texts with no letters or digits, in order."""
    return list(dict.fromkeys(t for t in texts if t and t.strip() and not has_words(t)))


def near_duplicates(mem, ids, limit: int = MAX_CHECKED) -> list[tuple[str, str, float]]:
    """(new cue, other stored cue, cosine) for the first ``limit`` of ``ids`` whose cue embeds
    within cosine > SAME_COSINE of a memory with a different cue text."""
    ids = [int(i) for i in ids][:limit]
    if not ids:
        return []
    cue = {g["id"]: g["cue"] for g in mem.records()}
    mine = [i for i in ids if cue.get(i)]
    if not mine:
        return []
    scores, got = mem.recall_vectors(mem.encoder([cue[i] for i in mine]), k=4,
                                     method="cosine")
    out, seen = [], set()
    for i, row_s, row_id in zip(mine, scores, got):
        for s, j in zip(row_s, row_id):
            j = int(j)
            pair = tuple(sorted((cue[i], cue.get(j) or "")))
            if j >= 0 and j != i and s > SAME_COSINE and cue.get(j) and cue[j] != cue[i] \
                    and pair not in seen:
                seen.add(pair)
                out.append((cue[i], cue[j], float(s)))
    return out


def _quote(texts, n: int = 4) -> str:
    shown = ", ".join(repr(t[:20]) for t in texts[:n])
    return shown + (f" and {len(texts) - n} more" if len(texts) > n else "")


def check(mem, ids) -> list[str]:
    """Plain-text warnings (no markdown) for memories ``ids`` just added to ``mem``."""
    recs = [g for g in mem.records() if g["id"] in set(int(i) for i in ids)]
    texts = [t for g in recs for t in (g["cue"], g["target"]) if t]
    msgs = []
    bare = symbol_only(texts)
    if bare:
        msgs.append(f"{len(bare)} text(s) have no letters or digits ({_quote(bare)}): the "
                    "encoder cannot tell emoji- or symbol-only texts apart, so recall and "
                    "chains may confuse them. Add a word to each, e.g. '🍎 apple'.")
    dup = near_duplicates(mem, ids)
    if dup:
        pairs = "; ".join(f"{a[:20]!r} ≈ {b[:20]!r} (cosine {c:.4f})" for a, b, c in dup[:3])
        more = f" and {len(dup) - 3} more pairs" if len(dup) > 3 else ""
        msgs.append(f"Different texts embed almost identically (cosine > {SAME_COSINE}): "
                    f"{pairs}{more}. The encoder cannot tell them apart.")
    return msgs

