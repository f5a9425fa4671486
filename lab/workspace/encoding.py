"""The encoder every session shares, with the demo sets' embeddings computed once.

Every visitor's first steps embed the same shipped texts (a demo set on Home or Memories, the
night player's default day plan): under 20 sessions that was a third of the server's encoding
work, repeated per session. Only shipped texts are held, never what a visitor types, so
nothing one visitor entered can be observed through another's timings.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from nuonuo_core.encoders import check_texts


class KnownTexts:
    """``encoder`` with the embeddings of ``texts`` computed up front. Same interface:
    ``enc(texts) -> (n, dim) float32``, each distinct text encoded at most once per call;
    other attributes pass through. ``remember=True`` also keeps every text it encodes (for
    one session's own use, e.g. the night player's twins learning the same days); the shared
    encoder keeps only the shipped texts and is read-only after construction."""

    def __init__(self, encoder, texts: Sequence[str] = (), remember: bool = False):
        self._encoder, self._remember = encoder, remember
        unique = list(dict.fromkeys(check_texts(list(texts), "texts")))
        self._known = dict(zip(unique, encoder(unique))) if unique else {}

    def __call__(self, texts: Sequence[str], **kwargs) -> np.ndarray:
        texts = check_texts(texts)
        if not texts:
            return np.zeros((0, self._encoder.dim), dtype=np.float32)
        missing = [t for t in dict.fromkeys(texts) if t not in self._known]
        fresh = dict(zip(missing, self._encoder(missing, **kwargs))) if missing else {}
        if self._remember:
            self._known.update(fresh)
        return np.stack([self._known[t] if t in self._known else fresh[t]
                         for t in texts]).astype(np.float32, copy=False)

    def __len__(self) -> int:
        return len(self._known)

    def __getattr__(self, name):          # name, dim, token_vectors … of the wrapped encoder
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._encoder, name)
