"""A second neural sentence encoder for the encoder comparisons: WordLlama (PyPI
``wordllama``, pinned in requirements.txt), whose package ships its own weights
(``l2_supercat_256.safetensors``, 16 MB: token embeddings distilled from Llama-2's input
embeddings and trained contrastively for sentence similarity, mean-pooled) and tokenizer.

It is loaded only from the files inside the installed package, never from a model hub: the
package's own lookup looks for the bundled tokenizer in a folder named ``tokenizer`` although
it ships it under ``tokenizers``, then tries to download; pointing ``cache_dir`` at the
package folder (where ``tokenizers/`` and ``weights/`` are) with ``disable_download=True``
finds both bundled files and can never reach the network.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

_MODEL = None


def available() -> bool:
    try:
        import wordllama  # noqa: F401
    except ImportError:
        return False
    return True


class WordLlamaEncoder:
    """texts -> (n, 256) float32 unit vectors (WordLlama l2_supercat, 256 dimensions)."""

    name = "wordllama-l2-supercat-256"

    def __init__(self):
        global _MODEL
        if _MODEL is None:
            import wordllama
            from wordllama import WordLlama

            pkg = Path(wordllama.__file__).resolve().parent
            _MODEL = WordLlama.load(cache_dir=pkg, disable_download=True)
        self._model = _MODEL

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        vec = np.asarray(self._model.embed(list(texts), norm=True), dtype=np.float32)
        return vec / np.linalg.norm(vec, axis=1, keepdims=True).clip(1e-12)
