"""What a conversation memory needs from an encoder, and adapters for the encoders we have.

A :class:`Embedder` gives sentence vectors (``embed``), token vectors for late interaction
(``tokens``), both from one pass where the model allows (``embed_tokens``), and question
vectors (``query``: read from a cache when there, never written to one, so a search does not
grow the cache or touch the disk).
"""
from __future__ import annotations

import threading
from typing import Callable, Sequence

import numpy as np

Vectors = Callable[[list[str]], np.ndarray]
TokenVectors = Callable[[list[str]], list]   # texts -> [(tokens, (t, d) unit vectors)]


class Embedder:
    """Sentence and token vectors for a :class:`~nuonuo_core.retrieval.ConversationMemory`.

    ``embed``: texts -> (n, d) float32 unit rows. ``tokens``: texts -> [(pieces, (t, d))];
    None uses hashed words (exact word matching, :meth:`HashingEncoder.token_vectors`).
    ``both``: texts -> (vectors, token vectors) in one pass (optional). ``query``: like
    ``both`` for questions, (texts, with_tokens) -> (vectors, token vectors or None)
    (optional; default ``both`` or the two calls). ``name``: the
    model's name, saved with a memory and checked when it is loaded (None: not checked)."""

    def __init__(self, embed: Vectors, tokens: TokenVectors | None = None,
                 name: str | None = None, both: Callable | None = None,
                 query: Callable | None = None) -> None:
        self._embed, self._tokens, self.name = embed, tokens, name
        self._both, self._query = both, query

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, 0), np.float32)
        out = np.asarray(self._embed(texts), dtype=np.float32)
        if out.ndim != 2 or out.shape[0] != len(texts):
            raise ValueError(f"the encoder returned shape {out.shape} for {len(texts)} texts")
        return out

    def tokens(self, texts: Sequence[str], dim: int) -> list:
        texts = list(texts)
        if not texts:
            return []
        if self._tokens is None:
            from nuonuo_core.encoders import HashingEncoder
            self._tokens = HashingEncoder(dim).token_vectors
        out = self._tokens(texts)
        if len(out) != len(texts):
            raise ValueError(f"the token encoder returned {len(out)} items for {len(texts)} texts")
        return out

    def embed_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list]:
        texts = list(texts)
        if self._both is not None and texts:
            vecs, toks = self._both(texts)
            vecs = np.asarray(vecs, dtype=np.float32)
            if vecs.shape[0] != len(texts) or len(toks) != len(texts):
                raise ValueError("the encoder returned a wrong number of vectors")
            return vecs, toks
        vecs = self.embed(texts)
        return vecs, self.tokens(texts, vecs.shape[1] if vecs.size else 1)

    def query(self, texts: Sequence[str], with_tokens: bool) -> tuple[np.ndarray, list | None]:
        """Question vectors (and token vectors when ``with_tokens``)."""
        texts = list(texts)
        if self._query is not None:
            vecs, toks = self._query(texts, with_tokens)
            if with_tokens and toks is None:
                toks = self.tokens(texts, vecs.shape[1])
            return np.asarray(vecs, dtype=np.float32), (toks if with_tokens else None)
        if with_tokens:
            return self.embed_tokens(texts)
        return self.embed(texts), None


_defaults: dict = {}
_defaults_lock = threading.Lock()


def as_embedder(encoder=None) -> Embedder:
    """An :class:`Embedder` from: None (MiniLM behind the on-disk embedding cache,
    ``$NUONUO_CACHE_DIR`` or ~/.cache/nuonuo/embeddings; one per process and cache folder,
    shared by every memory), an Embedder, a :class:`~nuonuo_core.embed_cache.CachedEncoder`,
    an encoder with ``token_vectors`` (MiniLMEncoder, HashingEncoder) or any callable
    texts -> (n, d)."""
    from nuonuo_core.embed_cache import CachedEncoder, cached_minilm, default_cache_dir
    if encoder is None:
        where = default_cache_dir()
        with _defaults_lock:
            if where not in _defaults:
                _defaults[where] = as_embedder(cached_minilm(where))
            return _defaults[where]
    if isinstance(encoder, Embedder):
        return encoder
    if isinstance(encoder, CachedEncoder):
        enc = encoder
        has_tokens = enc.token_encoder is not None
        return Embedder(enc.encode, enc.encode_tokens if has_tokens else None, enc.model_name,
                        both=enc.encode_with_tokens if has_tokens else None,
                        query=lambda t, tok: enc.encode_with_tokens(t, persist=False,
                                                                     tokens=tok and has_tokens))
    if not callable(encoder):
        raise ValueError(f"encoder must be callable (texts -> vectors), got "
                         f"{type(encoder).__name__}")
    name = getattr(encoder, "name", None)
    return Embedder(encoder, getattr(encoder, "token_vectors", None),
                    name if isinstance(name, str) else None,
                    both=getattr(encoder, "embed_with_tokens", None))
