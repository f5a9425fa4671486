"""Checks on values coming into the engine: vectors, text memories, hop counts.

Every function refuses bad input with a ValueError naming the value and what was expected.
"""
from __future__ import annotations

from typing import Sequence

import torch

from .encoders import check_texts
from .functional import as_tensor
from .limits import LIMITS

MAX_HOPS = LIMITS["hops"].hi  # chain / recall_codes / propagate: applications of W
MAX_K = LIMITS["results"].hi  # results per query


def check_hops(hops) -> None:
    LIMITS["hops"].check(hops)


def check_k(k) -> None:
    LIMITS["results"].check(k, "k")


def unit_rows(x, what: str, dim: int, device: torch.device) -> torch.Tensor:
    """(n, dim) vectors (numpy, torch or lists) -> unit float32 rows on ``device``.

    Rows are first divided by their largest |entry|, so vectors of any finite scale (1e-30
    or 1e20 in float32) normalise without overflow or underflow."""
    if isinstance(x, (list, tuple)) and len(x) == 0:
        raise ValueError(f"{what} is empty")
    try:
        t = as_tensor(x, device)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(f"{what} must be an (n, {dim}) array: {exc}") from None
    if t.dim() != 2 or t.shape[1] != dim:
        raise ValueError(f"{what} must have shape (n, {dim}), got {tuple(t.shape)}")
    if t.shape[0] == 0:
        raise ValueError(f"{what} is empty")
    peak = t.abs().amax(dim=1, keepdim=True)      # NaN and inf propagate: one pass checks all
    if not bool(torch.isfinite(peak).all()):
        raise ValueError(f"{what} contains NaN or infinite values (or values beyond float32)")
    if bool((peak == 0).any()):
        raise ValueError(f"{what} contains an all-zero vector, which has no direction")
    t = t / peak  # a new tensor: the caller's array is never changed
    return t.div_(t.norm(dim=1, keepdim=True))


def memory_texts(texts, what: str) -> list[str]:
    """Texts a memory will hold: non-empty strings, stored without surrounding whitespace
    (so the lab's import, which strips cells, reads an export back exactly), each at most
    ``text_chars`` characters long."""
    out = [t.strip() for t in check_texts(texts, what)]
    for i, t in enumerate(out):
        if len(t) > LIMITS["text_chars"].hi:
            raise ValueError(f"{what}[{i}] has {len(t):,} characters; a memory's texts have "
                             f"at most {LIMITS['text_chars'].hi:,}")
    return out


def check_paraphrases(paraphrases, n: int) -> list[list[str]]:
    if paraphrases is None:
        return [[] for _ in range(n)]
    if len(paraphrases) != n:
        raise ValueError(f"got {n} cues but {len(paraphrases)} paraphrase lists")
    out = []
    for i, p in enumerate(paraphrases):
        p = memory_texts(list(p or []), f"paraphrases[{i}]")
        LIMITS["paraphrases"].check(len(p), f"the number of paraphrases[{i}]")
        out.append(p)
    return out


def encode_memories(encoder, cues: Sequence[str], targets: Sequence[str] | None,
                    paraphrases) -> tuple:
    """Text memories -> (cue vectors (n, d), target vectors or None, per-memory paraphrase
    vectors (or None), text records), with one call to ``encoder``."""
    cues = memory_texts(cues, "cues")
    if not cues:
        raise ValueError("cues is empty")
    if targets is not None:
        targets = memory_texts(targets, "targets")
        if len(targets) != len(cues):
            raise ValueError(f"got {len(cues)} cues but {len(targets)} targets")
    paras = check_paraphrases(paraphrases, len(cues))
    flat = [p for ps in paras for p in ps]
    vecs = encoder(cues + (targets or []) + flat)
    n = len(cues)
    tvecs = vecs[n:2 * n] if targets is not None else None
    off = n + (n if targets is not None else 0)
    pvecs = []
    for ps in paras:
        pvecs.append(vecs[off:off + len(ps)] if ps else None)
        off += len(ps)
    texts = [{"cue": c, "target": targets[i] if targets else None, "paraphrases": paras[i]}
             for i, c in enumerate(cues)]
    return vecs[:n], tvecs, pvecs, texts


def check_optional(value, limit: str, name: str):
    """A per-call setting: None (use the configured one) or a value inside the table's row
    ``limit`` (e.g. a call's ``min_score``), returned as a number."""
    return None if value is None else LIMITS[limit].check(value, name)
