"""Pattern separation: a seeded random projection d -> D followed by k-WTA.

Codes are binary with exactly k ones; they are stored as sorted index rows (n, k).
"""
from __future__ import annotations

import math
import queue
import threading
import weakref

import numpy as np
import torch

from .functional import kwta_indices
from .ops import matmul_t
from .threads import chunk_workers, map_chunks


#: bytes of activity buffers an add's workers may hold at once (8 workers at D = 16384)
BUFFER_BUDGET = 128 << 20

# One read-only P per (d, D, seed, device) while any memory uses it: a lab server holds many
# memories of the same shape (each session's workspace, the night player's twins), and P is
# 25 MB at D = 16384. Weak values: P is freed with the last memory that uses it.
_SHARED: "weakref.WeakValueDictionary[tuple, torch.Tensor]" = weakref.WeakValueDictionary()
_SHARED_LOCK = threading.Lock()
# P is a pure function of its key, so is its checksum: computed once per key (it converts the
# 25 MB P to float64; every save of a workspace, i.e. every autosave, asked for it).
_FINGERPRINTS: dict[tuple, float] = {}


def _key(embed_dim: int, code_dim: int, seed: int, device: torch.device | str) -> tuple:
    return (embed_dim, code_dim, seed, str(torch.device(device)))


def shared_projection(embed_dim: int, code_dim: int, seed: int,
                      device: torch.device | str = "cpu") -> torch.Tensor:
    """P (D, d) ~ N(0, 1/d) drawn on the CPU from ``seed``; never written to after creation."""
    key = _key(embed_dim, code_dim, seed, device)
    with _SHARED_LOCK:
        proj = _SHARED.get(key)
        if proj is None:
            gen = torch.Generator().manual_seed(seed)
            proj = torch.randn(code_dim, embed_dim, generator=gen)
            proj = proj.div_(math.sqrt(embed_dim)).to(device)   # in place: one D×d buffer
            _SHARED[key] = proj
        return proj


class PatternSeparator:
    """Projection P (D, d) ~ N(0, 1/d), drawn on the CPU from ``seed`` (same on every device;
    shared read-only by every separator of the same shape and seed)."""

    def __init__(self, embed_dim: int, code_dim: int, k: int, seed: int,
                 device: torch.device | str = "cpu"):
        self.projection = shared_projection(embed_dim, code_dim, seed, device)
        self.code_dim, self.k = code_dim, k
        self._key = _key(embed_dim, code_dim, seed, device)

    def codes(self, x: torch.Tensor, chunk: int = 256) -> torch.Tensor:
        """Embeddings (n, d) -> k-WTA code indices (n, k) int32, sorted per row.

        On the CPU, chunks of ``chunk`` rows, each projected (one-thread product) and
        k-WTA'd by one worker of :func:`~nuonuo_core.threads.map_chunks` (the caller's threads
        when the work is large; the codes do not depend on how it is split)."""
        n = x.shape[0]
        out = torch.empty(n, self.k, dtype=torch.int32, device=x.device)
        proj = self.projection
        starts = range(0, n, chunk)
        if x.device.type != "cpu" or n == 1:
            for s in starts:
                h = matmul_t(x[s:s + chunk], proj)
                out[s:s + chunk] = kwta_indices(h, self.k).to(torch.int32)
            return out
        work = n * proj.shape[0] * proj.shape[1]
        # one activity buffer a worker, allocated here (the workers' own allocations would
        # stay cached in each thread's malloc arena after the call: measured +66 MB of RSS),
        # and no more workers than BUFFER_BUDGET holds (a 64-core machine would ask for 64)
        rows_per_buffer = min(chunk, n)
        limit = max(1, BUFFER_BUDGET // max(1, rows_per_buffer * proj.shape[0] * 4))
        workers = chunk_workers(len(starts), work, limit)
        buffers: queue.SimpleQueue[torch.Tensor] = queue.SimpleQueue()
        for _ in range(workers):
            buffers.put(torch.empty(rows_per_buffer, proj.shape[0]))

        def one(s: int) -> None:
            rows = x[s:s + chunk]
            buf = buffers.get()
            try:
                h = torch.mm(rows, proj.T, out=buf[:rows.shape[0]])
                out[s:s + chunk] = kwta_indices(h, self.k).to(torch.int32)
            finally:
                buffers.put(buf)

        map_chunks(one, starts, work, workers)
        return out

    def fingerprint(self) -> float:
        """A checksum of P, saved with a memory so a reload can prove it rebuilt the same P."""
        fp = _FINGERPRINTS.get(self._key)
        if fp is None:
            p = self.projection     # summed in float64 a block of rows at a time
            step = max(1, 2**20 // max(p.shape[1], 1))
            fp = float(np.float64(sum(p[i:i + step].double().abs().sum().item()
                                      for i in range(0, p.shape[0], step))))
            _FINGERPRINTS[self._key] = fp
        return fp

    def nbytes(self) -> int:
        return self.projection.numel() * 4
