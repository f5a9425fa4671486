"""Conversation memory files: the same container as ``.nuonuo`` memory files
(:mod:`nuonuo_core.persistence`: one safetensors file whose metadata holds the JSON state and a
sha256 checksum over the tensor table, the state and the tensor bytes; atomic writes; never
pickle), with format name ``nuonuo-conversation``.

Tensors: the turns' sentence vectors per kept space (``words``, ``paper``, ``context``,
``reply``: (n, d) float32) and their token vectors (``tok_vecs`` (T, d), float16 when every
value is exactly a float16 (the embedding cache stores them so), else float32; ``tok_lens``
(n,) int32). State: the configuration, the turns (as ``add_turns`` takes them), the encoder's
name and dimension, the tokens' word pieces. Reading checks, in order and before any tensor
is allocated: the file size, the header and tensor table against the file size, the checksum,
the state JSON (its values counted while it is read, bounded by the turns and token vectors
the table declares: :func:`state_bounds`); then the state (the config's ranges, every turn as
``add_turns`` checks it), every tensor's shape against the turns, finite values. Derived
state (BM25, links, engine memories) is rebuilt from the turns, so a reloaded memory ranks
exactly as the saved one.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..limits import LIMITS
from .limits import check_count, limit

FORMAT = "nuonuo-conversation"
VERSION = 1
SPACES = ("words", "paper", "context", "reply")
TENSORS = {**{s: "F32" for s in SPACES}, "tok_vecs": ("F16", "F32"), "tok_lens": "I32"}
STATE_KEYS = {"config", "turns", "encoder", "pieces"}
MAX_DIM = LIMITS["embed_dim"].hi   # the encoder's dimension
MAX_PIECE = 100       # characters of one word piece
MAX_TOKENS = 512      # token vectors of one turn
# The state JSON: a few keys, the config (~30 values), the encoder, then per turn an object of
# at most 6 fields (7 values, 8 with its separator) and its word pieces (one value per token
# vector, one list per turn); 3 levels (state -> turns -> turn, state -> pieces -> turn's)
STATE_ITEMS, STATE_DEPTH, TURN_ITEMS = 256, 3, 8


def dump(mem) -> bytes:
    """A memory -> file bytes."""
    import torch

    from nuonuo_core.persistence import pack

    tensors = {s: torch.from_numpy(np.ascontiguousarray(mem._vec[s])) for s in SPACES
               if s in mem._vec}
    pieces = None
    if mem._tok is not None:
        flat = np.concatenate([v for _, v in mem._tok]).astype(np.float32)
        half = flat.astype(np.float16)
        exact = bool(np.array_equal(half.astype(np.float32), flat))
        tensors["tok_vecs"] = torch.from_numpy(half if exact else flat)
        tensors["tok_lens"] = torch.tensor([len(v) for _, v in mem._tok], dtype=torch.int32)
        pieces = [list(p) for p, _ in mem._tok]
    name = mem._embedder.name if mem._embedder is not None else _default_name()
    state = json.dumps({"config": mem.config.to_dict(), "turns": mem.turns(),
                        "encoder": {"name": name, "dim": mem._dim}, "pieces": pieces},
                       allow_nan=False)
    return pack(tensors, state, FORMAT, VERSION)


def _default_name() -> str:
    from nuonuo_core.encoders import MINILM_NAME
    return MINILM_NAME


def read(path: str | os.PathLike) -> bytes:
    """The bytes of a file, refused before reading when larger than the limit."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no conversation memory file at {str(path)!r}")
    size = path.stat().st_size
    if size > limit("conversation_file_bytes"):
        raise ValueError(f"{str(path)!r} is {size:,} bytes; a conversation memory file is at "
                         f"most {limit('conversation_file_bytes'):,}")
    return path.read_bytes()


def _fail(message: str):
    raise ValueError(message)


def state_bounds(table: dict) -> tuple[int, int]:
    """(values, nesting) the state JSON of a file with tensor table ``table`` may hold: bounded
    by the turns and token vectors the file declares (a memory without vectors: by the most
    turns a memory holds), so a small file with a huge state is refused while it is read."""
    def rows(name: str) -> int:      # a 0-d tensor (refused later by its shape) holds none
        shape = table[name]["shape"]
        return int(shape[0]) if shape else 0

    declared = [rows(name) for name in table if name in SPACES or name == "tok_lens"]
    n = min(declared[0] if declared else limit("chat_turns"), limit("chat_turns"))
    tokens = min(rows("tok_vecs"), n * MAX_TOKENS) if "tok_vecs" in table else 0
    return STATE_ITEMS + (TURN_ITEMS + 1) * n + tokens, STATE_DEPTH


def load(cls, data: bytes, encoder, source: str):
    """File bytes -> a memory of class ``cls``; ValueError naming the first problem."""
    from nuonuo_core.persistence import unpack

    from .config import RetrievalConfig
    from .turns import check_turns, pair_texts

    try:
        if not isinstance(data, (bytes, bytearray)):
            _fail(f"expected bytes, got {type(data).__name__}")
        check_count("conversation_file_bytes", len(data), "the file size in bytes")
        state, tensors = unpack(bytes(data), FORMAT, VERSION, TENSORS, state_bounds)
        if not isinstance(state, dict) or set(state) != STATE_KEYS:
            _fail(f"state must hold exactly {sorted(STATE_KEYS)}")
        config = RetrievalConfig.from_dict(state["config"])
        if not isinstance(state["turns"], list):
            _fail("state turns must be a list")
        turns = check_turns(state["turns"])
        n = len(turns)
        enc = state["encoder"]
        if not isinstance(enc, dict) or set(enc) != {"name", "dim"}:
            _fail("state encoder must hold exactly name and dim")
        name, dim = enc["name"], enc["dim"]
        if name is not None and not (isinstance(name, str) and len(name) <= 200):
            _fail("encoder name must be a string of at most 200 characters or null")
        if dim is not None and not (type(dim) is int and 1 <= dim <= MAX_DIM):
            _fail(f"encoder dim must be an int in [1, {MAX_DIM}] or null, got {str(dim)[:20]}")
        vec = {}
        for s in SPACES:
            if s in tensors:
                t = tensors[s]
                if dim is None or tuple(t.shape) != (n, dim):
                    _fail(f"tensor {s!r} has shape {tuple(t.shape)}, expected ({n}, {dim})")
                vec[s] = t.numpy().astype(np.float32)
        if ("context" in vec) != ("reply" in vec):
            _fail("the context and reply vectors must be saved together")
        tok = None
        has = {"tok_vecs" in tensors, "tok_lens" in tensors, state["pieces"] is not None}
        if has == {True}:
            if "words" not in vec:
                _fail("token vectors are saved without the turns' vectors")
            lens = tensors["tok_lens"].numpy().astype(np.int64)
            flat = tensors["tok_vecs"].float().numpy()
            if lens.shape != (n,) or (lens < 1).any() or (lens > MAX_TOKENS).any():
                _fail(f"tok_lens must be {n} counts in [1, {MAX_TOKENS}]")
            if flat.shape != (int(lens.sum()), dim):
                _fail(f"tok_vecs has shape {tuple(flat.shape)}, expected ({int(lens.sum())}, "
                      f"{dim})")
            pieces = state["pieces"]
            if not (isinstance(pieces, list) and len(pieces) == n and all(
                    isinstance(p, list) and len(p) == c and all(
                        isinstance(x, str) and len(x) <= MAX_PIECE for x in p)
                    for p, c in zip(pieces, lens.tolist()))):
                _fail("pieces must hold each turn's word pieces, one per token vector")
            ends = np.cumsum(lens)
            tok = [(list(p), flat[a:b]) for p, a, b in zip(pieces, ends - lens, ends)]
        elif has != {False}:
            _fail("tok_vecs, tok_lens and pieces must be saved together")
        for s, v in list(vec.items()) + ([("tok_vecs", flat)] if tok is not None else []):
            if not np.isfinite(v).all():
                _fail(f"tensor {s!r} holds values that are not finite")
        mem = cls(config, encoder)
        have = mem.embedder.name
        if name is not None and have is not None and have != name:
            _fail(f"it was saved with the encoder {name[:60]!r}; this one is {have[:60]!r}")
        mem._turns = turns
        mem._pos = {t.id: i for i, t in enumerate(turns)}
        mem._month = [t.month_index for t in turns]
        mem._dim = dim if vec else None
        mem._vec = vec
        mem._pair_text = pair_texts(turns) if "context" in vec else {}
        mem._tok = tok
        return mem
    except (KeyError, TypeError, ValueError, RuntimeError, OverflowError) as exc:
        raise ValueError(f"{source} is not a valid conversation memory file: {exc}") from None
