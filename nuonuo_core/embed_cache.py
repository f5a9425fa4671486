"""On-disk embedding cache keyed by sha256(model name + text).

Layout: ``{cache_dir}/{model_slug}/shard-*.npz``; each shard holds ``keys`` (n,) ``S32`` raw
sha256 digests and ``vecs`` (n, d) float32. Token vectors (late interaction) live beside them
in ``{model_slug}-tokens/``: ``keys``, ``lens`` (n,) int32, ``pieces`` (n,) str (tokens joined
by U+001F) and ``vecs`` (sum(lens), d) float16 (about 0.8 KB per token). Shards are written
atomically (:mod:`nuonuo_core.atomic`: fsync, rename, folder fsync) and read with
``allow_pickle=False``: no pickle anywhere.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .atomic import atomic_write

DEFAULT_CACHE_DIR = Path("~/.cache/nuonuo/embeddings")


def default_cache_dir() -> Path:
    """``$NUONUO_CACHE_DIR`` if set, else ``~/.cache/nuonuo/embeddings``."""
    env = os.environ.get("NUONUO_CACHE_DIR")
    return Path(env).expanduser() if env else DEFAULT_CACHE_DIR.expanduser()


def text_key(model_name: str, text: str) -> bytes:
    """32-byte sha256 digest of model name + NUL + text."""
    return hashlib.sha256(f"{model_name}\0{text}".encode("utf-8")).digest()


class CachedEncoder:
    """Wrap ``encoder(list[str]) -> (n, d)`` with a persistent per-model cache.

    ``encode(texts)`` returns (n, d) float32 in input order; only unseen texts are encoded,
    in chunks of ``batch_size``, and each chunk is saved as a new shard immediately, so an
    interrupted run keeps its progress. ``progress(done, total)`` is called after each chunk.
    """

    def __init__(self, encoder: Callable[[list[str]], np.ndarray], model_name: str,
                 cache_dir: str | os.PathLike | None = None, batch_size: int = 512,
                 token_encoder: Callable[[list[str]], list] | None = None,
                 both_encoder: Callable[[list[str]], tuple] | None = None) -> None:
        if not model_name:
            raise ValueError(f"model_name must be non-empty, got {model_name!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
        self.encoder = encoder
        self.model_name = model_name
        self.batch_size = batch_size
        root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        self.dir = root / re.sub(r"[^A-Za-z0-9_.-]+", "_", model_name)
        self._mem: dict[bytes, np.ndarray] = {}
        self._loaded = False
        self.token_encoder = token_encoder
        self.both_encoder = both_encoder   # texts -> (vectors, token vectors), one pass
        self.token_dir = self.dir.with_name(self.dir.name + "-tokens")
        self._tok: dict[bytes, tuple[list[str], np.ndarray]] | None = None

    def _load(self) -> None:
        if self._loaded:
            return
        for keys, vecs in _read_shards(self.dir, "keys", "vecs"):
            self._mem.update(zip(keys, vecs))
        self._loaded = True

    def __len__(self) -> int:
        self._load()
        return len(self._mem)

    def _fill(self, texts: Sequence[str], store: dict, encode_chunk: Callable,
              progress: Callable[[int, int], None] | None) -> list[bytes]:
        """Keys of ``texts``; the texts not yet in ``store`` are encoded in chunks of
        ``batch_size`` by ``encode_chunk(keys, texts) -> values`` (which also writes the
        chunk's shard), so an interrupted run keeps its progress."""
        keys = [text_key(self.model_name, t) for t in texts]
        todo = list(dict((k, t) for k, t in zip(keys, texts) if k not in store).items())
        for s in range(0, len(todo), self.batch_size):
            chunk = todo[s:s + self.batch_size]
            done = [k for k, _ in chunk]
            store.update(zip(done, encode_chunk(done, [t for _, t in chunk])))
            if progress is not None:
                progress(min(s + self.batch_size, len(todo)), len(todo))
        return keys

    def encode(self, texts: Sequence[str],
               progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """Embed ``texts`` -> (n, d) float32, using and filling the cache."""
        if isinstance(texts, str):
            raise ValueError("encode() takes a list of texts, not a single string")
        self._load()

        def encode_chunk(keys: list[bytes], chunk: list[str]) -> np.ndarray:
            vecs = np.asarray(self.encoder(chunk), dtype=np.float32)
            if vecs.ndim != 2 or len(vecs) != len(chunk):
                raise ValueError(f"encoder returned shape {vecs.shape} for {len(chunk)} texts")
            _write_shard(self.dir, keys, keys=np.array(keys, dtype="S32"), vecs=vecs)
            return vecs

        keys = self._fill(texts, self._mem, encode_chunk, progress)
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self._mem[k] for k in keys]).astype(np.float32, copy=False)

    def encode_with_tokens(self, texts: Sequence[str], persist: bool = True,
                           tokens: bool = True) -> tuple[np.ndarray, list | None]:
        """(:meth:`encode`, :meth:`encode_tokens`) of ``texts``, the texts missing from either
        cache computed in one forward pass when a ``both_encoder`` is given. ``persist=False``
        reads the cache but neither writes it nor keeps new results (questions: a search
        should not grow the cache or write a file). ``tokens=False``: vectors only (None)."""
        if isinstance(texts, str):
            raise ValueError("encode_with_tokens() takes a list of texts, not a single string")
        if tokens and self.token_encoder is None:
            raise ValueError(f"no token encoder for {self.model_name!r}")
        texts = list(texts)
        self._load()
        if tokens:
            self._load_tokens()
        keys = [text_key(self.model_name, t) for t in texts]
        todo = list(dict((k, t) for k, t in zip(keys, texts)
                         if k not in self._mem or (tokens and k not in self._tok)).items())
        fresh_v: dict[bytes, np.ndarray] = {}
        fresh_t: dict[bytes, tuple] = {}
        for s in range(0, len(todo), self.batch_size):
            chunk = todo[s:s + self.batch_size]
            chunk_keys, ts = [k for k, _ in chunk], [t for _, t in chunk]
            toks: list
            if not tokens:
                vecs, toks = self.encoder(ts), [None] * len(ts)
            elif self.both_encoder is not None:
                vecs, toks = self.both_encoder(ts)
            else:
                vecs, toks = self.encoder(ts), self.token_encoder(ts)
            vecs = np.asarray(vecs, dtype=np.float32)
            if vecs.ndim != 2 or len(vecs) != len(ts) or len(toks) != len(ts):
                raise ValueError(f"encoder returned {vecs.shape} and {len(toks)} token lists "
                                 f"for {len(ts)} texts")
            if persist:
                new_v = [i for i, k in enumerate(chunk_keys) if k not in self._mem]
                new_t = [i for i, k in enumerate(chunk_keys) if tokens and k not in self._tok]
                if new_v:
                    self._put_vectors([chunk_keys[i] for i in new_v], vecs[new_v])
                if new_t:
                    self._put_tokens([chunk_keys[i] for i in new_t], [toks[i] for i in new_t])
            else:
                fresh_v.update(zip(chunk_keys, vecs))
                if tokens:
                    for k, (pieces, tv) in zip(chunk_keys, toks):
                        fresh_t[k] = (list(pieces), np.asarray(tv).astype(np.float16))

        def vec(k):
            return self._mem[k] if k in self._mem else fresh_v[k]

        def tok(k):
            p, v = self._tok[k] if k in self._tok else fresh_t[k]
            return p, v.astype(np.float32)

        if not keys:
            return np.zeros((0, 0), dtype=np.float32), [] if tokens else None
        return (np.stack([vec(k) for k in keys]).astype(np.float32, copy=False),
                [tok(k) for k in keys] if tokens else None)

    def _put_vectors(self, keys: list[bytes], vecs: np.ndarray) -> None:
        _write_shard(self.dir, keys, keys=np.array(keys, dtype="S32"), vecs=vecs)
        self._mem.update(zip(keys, vecs))

    def _put_tokens(self, keys: list[bytes], got: list) -> None:
        _write_shard(self.token_dir, keys, keys=np.array(keys, dtype="S32"),
                     lens=np.array([len(v) for _, v in got], dtype=np.int32),
                     pieces=np.array(["\x1f".join(p) for p, _ in got]),
                     vecs=np.concatenate([v for _, v in got]).astype(np.float16))
        self._tok.update((k, (list(p), v.astype(np.float16))) for k, (p, v) in zip(keys, got))

    def _load_tokens(self) -> None:
        if self._tok is None:
            self._tok = {}
            for keys, lens, pieces, vecs in _read_shards(self.token_dir, "keys", "lens",
                                                         "pieces", "vecs"):
                ends = np.cumsum(lens)
                for k, p, a, b in zip(keys, pieces.tolist(), ends - lens, ends):
                    self._tok[k] = (p.split("\x1f"), vecs[a:b])

    def encode_tokens(self, texts: Sequence[str], persist: bool = True,
                      progress: Callable[[int, int], None] | None = None) -> list:
        """Token vectors of ``texts`` (see ``MiniLMEncoder.token_vectors``), float32.
        ``persist=False`` computes without reading or growing the cache (for corpora too
        large to keep: LongMemEval haystacks would need tens of GB)."""
        if isinstance(texts, str):
            raise ValueError("encode_tokens() takes a list of texts, not a single string")
        if self.token_encoder is None:
            raise ValueError(f"no token encoder for {self.model_name!r}")
        if not persist:
            return self.token_encoder(list(texts))
        self._load_tokens()

        def encode_chunk(keys: list[bytes], chunk: list[str]) -> list:
            got = self.token_encoder(chunk)
            if len(got) != len(chunk):
                raise ValueError(f"token encoder returned {len(got)} items for {len(chunk)} texts")
            _write_shard(self.token_dir, keys, keys=np.array(keys, dtype="S32"),
                         lens=np.array([len(v) for _, v in got], dtype=np.int32),
                         pieces=np.array(["\x1f".join(p) for p, _ in got]),
                         vecs=np.concatenate([v for _, v in got]).astype(np.float16))
            return [(list(p), v.astype(np.float16)) for p, v in got]

        keys = self._fill(texts, self._tok, encode_chunk, progress)
        return [(self._tok[k][0], self._tok[k][1].astype(np.float32)) for k in keys]


def _read_shards(folder: Path, *names: str):
    """The named arrays of each readable shard in ``folder`` ("keys" padded back to 32 bytes:
    numpy "S" drops trailing NULs); a corrupt or foreign shard is skipped, never fatal."""
    for f in sorted(folder.glob("shard-*.npz")) if folder.is_dir() else []:
        try:
            with np.load(f, allow_pickle=False) as z:
                arrays = {n: z[n] for n in names}
        except (OSError, ValueError, KeyError):
            continue
        if "keys" in arrays:
            arrays["keys"] = [k.ljust(32, b"\0") for k in arrays["keys"].tolist()]
        yield [arrays[n] for n in names]


def _write_shard(folder: Path, names: list[bytes], **arrays: np.ndarray) -> None:
    """Write one shard atomically (:func:`~nuonuo_core.atomic.atomic_write`), named by its
    keys' hash."""
    name = hashlib.sha256(b"".join(names)).hexdigest()[:24]
    atomic_write(folder / f"shard-{name}.npz", lambda fh: np.savez(fh, **arrays))


def minilm_encoder() -> Callable[[list[str]], np.ndarray]:
    """The engine's shared offline all-MiniLM-L6-v2 encoder (384-d, L2-normalised)."""
    from nuonuo_core.encoders import get_minilm_encoder
    return get_minilm_encoder()


def cached_minilm(cache_dir: str | os.PathLike | None = None) -> CachedEncoder:
    """MiniLM behind the on-disk cache; the model loads lazily, only when a text is new."""
    from nuonuo_core.encoders import MINILM_NAME
    return CachedEncoder(lambda texts: minilm_encoder()(list(texts)), MINILM_NAME, cache_dir,
                         token_encoder=lambda texts: minilm_encoder().token_vectors(list(texts)),
                         both_encoder=lambda texts: minilm_encoder().embed_with_tokens(
                             list(texts)))
