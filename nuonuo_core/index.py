"""Stage 1 of recall: top-K search over stored cue embeddings (unit rows, cosine).

Exact search scans every row (numpy BLAS on the CPU). From ``ann_threshold`` rows on,
``index="auto"`` uses a FAISS inverted-file index (IVF-Flat, inner product): approximate,
~0.5–3 ms at 1M rows instead of ~65 ms for the exact scan.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from .ops import matmul_t, topk_stable

MIN_NLIST = 16
# FAISS's k-means needs a training point per list (it raises below that) and asks for 39 per
# list; below this many rows the exact scan (well under 1 ms here) answers instead
IVF_MIN_ROWS = 39 * MIN_NLIST


class CueIndex:
    """Growing (n, d) float32 store of unit cue rows with exact or IVF top-k search."""

    def __init__(self, dim: int, device: torch.device, kind: str = "auto",
                 ann_threshold: int = 200_000, nprobe: int = 24):
        self.dim, self.device, self.kind = dim, device, kind
        self.ann_threshold, self.nprobe = ann_threshold, nprobe
        self._buf = torch.zeros(0, dim, dtype=torch.float32, device=device)
        self.n = 0
        self._ivf: Any = None      # a faiss.IndexIVFFlat once built (faiss has no types)

    @property
    def emb(self) -> torch.Tensor:
        """The stored rows (n, d) (a view, not a copy)."""
        return self._buf[:self.n]

    def add(self, x: torch.Tensor) -> None:
        """Append unit rows (m, d); capacity grows geometrically so adds stay amortised O(m)."""
        need = self.n + x.shape[0]
        if self.n == 0 and x.shape[0] >= self._buf.shape[0]:  # adopt the first rows as they are
            self._buf = x.to(self.device, torch.float32).contiguous()
        elif need > self._buf.shape[0]:
            cap = max(need, int(self._buf.shape[0] * 1.5) + 64)
            buf = torch.zeros(cap, self.dim, dtype=torch.float32, device=self.device)
            buf[:self.n] = self.emb
            self._buf = buf
            self._buf[self.n:need] = x
        else:
            self._buf[self.n:need] = x
        if self._ivf is not None:
            self._ivf.add(np.ascontiguousarray(x.cpu().numpy()))
        self.n = need

    def keep(self, mask: torch.Tensor) -> None:
        """Keep only the rows where ``mask`` (n,) is True (order preserved)."""
        kept = self.emb[mask.to(self.device)].clone()
        self._buf, self.n, self._ivf = kept, kept.shape[0], None

    def uses_ann(self) -> bool:
        """IVF when asked for ("ivf", or "auto" from ``ann_threshold`` rows on the CPU) and
        there are enough rows to train it (``IVF_MIN_ROWS``); the exact scan otherwise."""
        if self.n < IVF_MIN_ROWS:
            return False
        if self.kind == "ivf":
            return True
        return self.kind == "auto" and self.device.type == "cpu" and self.n >= self.ann_threshold

    def search(self, queries: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Unit queries (m, d) -> (scores (m, k), rows (m, k)) best first, ties to the lower
        row (exact search); rows = -1 past the end."""
        m = queries.shape[0]
        kk = min(k, self.n)
        scores = torch.full((m, k), -float("inf"), device=self.device)
        rows = torch.full((m, k), -1, dtype=torch.long, device=self.device)
        if kk == 0:
            return scores, rows
        if self.uses_ann():
            s, r = self._ivf_search(queries, kk)
        else:
            s, r = topk_stable(matmul_t(queries, self.emb), kk)
        scores[:, :kk], rows[:, :kk] = s, r
        return scores, rows

    # --- approximate index ----------------------------------------------------------
    def _build_ivf(self) -> None:
        import faiss  # optional dependency, only needed for large memories

        x = np.ascontiguousarray(self.emb.cpu().numpy())
        nlist = int(min(8192, max(MIN_NLIST, 4 * math.sqrt(self.n))))
        quantizer = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(0)
        sample = x if self.n <= 40 * nlist else x[rng.choice(self.n, 40 * nlist, replace=False)]
        index.train(sample)
        index.add(x)
        self._ivf = index

    def _ivf_search(self, queries: torch.Tensor, k: int
                    ) -> tuple[torch.Tensor, torch.Tensor]:
        if self._ivf is None:
            self._build_ivf()
        self._ivf.nprobe = self.nprobe
        s, r = self._ivf.search(np.ascontiguousarray(queries.cpu().numpy()), k)
        s = torch.from_numpy(s).to(self.device)
        r = torch.from_numpy(r).to(self.device)
        s[r < 0] = -float("inf")
        return s, r

    def nbytes(self) -> int:
        extra = 0 if self._ivf is None else self.n * self.dim * 4 + self.n * 8
        return self._buf.numel() * 4 + extra
