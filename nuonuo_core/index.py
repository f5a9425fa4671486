"""Stage 1 of recall: top-K search over the stored cue rows (unit rows, cosine).

The rows are kept in float16 (IEEE half, rounded to nearest as numpy and torch round): 768
bytes a row at d = 384 instead of 1,536. A row's score is *exact* for what is stored: the
query's dot product with the float16 row, summed in float64 and rounded to float32 once
(:func:`exact_scores`), on every path and in the reference. Rounding a unit row to float16
moves each entry by at most 2⁻¹¹ of itself, so a score moves by at most 2⁻¹¹ ≈ 4.9e-4 from
the float32 row's (:data:`SCORE_TOLERANCE`; ~1e-5 typically).

Search: a fast scan proposes the ``k + TIE_WINDOW`` best rows (CPU: faiss's float16 flat
scanner over the rows themselves, no copy; CUDA: float32 products of float16 chunks), their
exact scores rank them (ties to the lower row), and the answer is certified: every row left
out scored at most the last proposal's scan score, and a scan score is within
:data:`scan_error(self.dim)` of the exact one, so when the last proposal scans below the k-th exact
score by more than that, no row left out can reach the top k. A query that is not certified
(long runs of equal rows at the k-th place) is answered by an exact scan of every row.

From ``ann_threshold`` rows on, ``index="auto"`` uses a FAISS inverted-file index over float16
codes (IVF, inner product): approximate, ~1-3 ms at 1M rows instead of ~40 ms for the exact
scan; its proposals are ranked by their exact scores too.
"""
from __future__ import annotations

import math
from contextlib import nullcontext
from typing import Any

import numpy as np
import torch

from .ops import TIE_WINDOW
from .threads import LARGE_WORK, caller_threads

MIN_NLIST = 16
# FAISS's k-means needs a training point per list (it raises below that) and asks for 39 per
# list; below this many rows the exact scan (well under 1 ms here) answers instead
IVF_MIN_ROWS = 39 * MIN_NLIST
#: |score from float16 rows − score from the float32 rows they were rounded from| <= this
SCORE_TOLERANCE = 2.0 ** -11

_EXACT_ROWS = 1 << 15   # rows of an exact full scan scored at a time


def exact_scores(rows16: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """The one score of a stored row: float16 rows (..., d) · queries (..., d) summed in
    float64, rounded to float32 (numpy; :func:`exact_scores_t` is the same in torch)."""
    return np.einsum("...d,...d->...", rows16.astype(np.float64),
                     queries.astype(np.float64)).astype(np.float32)


def exact_scores_t(rows16: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
    return (rows16.double() * queries.double()).sum(-1).float()


def scan_error(dim: int) -> float:
    """A bound, with a factor 2 to spare, on |a float32 scan's score − the exact score| for
    unit rows: a float32 dot product of d terms errs by at most (d + 1)·2⁻²⁴·Σ|q_i x_i|."""
    return 2.0 * (dim + 2) * 2.0 ** -24


def _vector() -> Any:
    import faiss

    return faiss.UInt8Vector()


class CueIndex:
    """Growing (n, d) store of unit cue rows in float16 with exact top-k search."""

    def __init__(self, dim: int, device: torch.device, kind: str = "auto",
                 ann_threshold: int = 200_000, nprobe: int = 24):
        self.dim, self.device, self.kind = dim, torch.device(device), kind
        self.ann_threshold, self.nprobe = ann_threshold, nprobe
        self.n = 0
        self._cap = 0
        self._ivf: Any = None
        if self.device.type == "cpu":
            import faiss

            self._flat: Any = faiss.IndexScalarQuantizer(
                dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
            self._buf: torch.Tensor | None = None
        else:
            self._flat = None
            self._buf = torch.zeros(0, dim, dtype=torch.float16, device=self.device)

    # --- storage --------------------------------------------------------------------
    def _view(self) -> np.ndarray:
        """The stored rows (n, d) float16 as a numpy view of faiss's codes (CPU). Valid until
        the next add or keep: never kept by a caller."""
        import faiss

        if self.n == 0:
            return np.zeros((0, self.dim), np.float16)
        raw = faiss.rev_swig_ptr(self._flat.codes.data(), self.n * self.dim * 2)
        return raw.view(np.float16).reshape(self.n, self.dim)

    def emb16(self) -> torch.Tensor:
        """The stored rows (n, d) float16, a copy (files, validation)."""
        if self._buf is not None:
            return self._buf[:self.n].clone()
        return torch.from_numpy(self._view().copy())

    @property
    def emb(self) -> torch.Tensor:
        """The stored rows (n, d) as float32 (a decoded copy: 4 bytes a value)."""
        if self._buf is not None:
            return self._buf[:self.n].float()
        return torch.from_numpy(self._view().astype(np.float32))

    def rows(self, idx: torch.Tensor) -> torch.Tensor:
        """Rows ``idx`` (any shape, each in [0, n)) decoded to float32 (..., d)."""
        if self._buf is not None:
            return self._buf[idx].float()
        flat = idx.reshape(-1).cpu().numpy()
        out = self._view()[flat].astype(np.float32)
        return torch.from_numpy(out).view(*idx.shape, self.dim)

    def rows16_np(self, idx: np.ndarray) -> np.ndarray:
        """numpy float16 rows ``idx`` (CPU store), a copy."""
        return self._view()[idx]

    def _set_rows(self, x16: np.ndarray, at: int) -> None:
        """Write float16 rows at row ``at`` of the CPU store (rows below ``n``)."""
        self._view()[at:at + x16.shape[0]] = x16

    def _reserve(self, rows: int, grow: bool = True) -> None:
        """CPU store: capacity for ``rows`` rows (x1.5 growth, so adds stay amortised O(m));
        faiss's buffer is replaced by one of exactly that capacity (swap), so the bytes
        counted are the bytes held."""
        if rows <= self._cap and grow:
            return
        cap = max(rows, int(self._cap * 1.5) + 64) if grow else rows
        v = _vector()
        v.resize(cap * self.dim * 2)
        if self.n:
            import faiss

            raw = faiss.rev_swig_ptr(v.data(), cap * self.dim * 2)
            raw[:self.n * self.dim * 2] = self._view().view(np.uint8).reshape(-1)
        v.resize(self.n * self.dim * 2)                  # size n rows, capacity cap
        self._flat.codes.owned_data.swap(v)
        self._flat.codes.resize(self.n * self.dim * 2)   # faiss re-reads its pointer
        self._cap = cap

    def _commit(self, n: int) -> None:
        """Make the CPU store n rows long (inside its capacity: no reallocation; new rows are
        zero until written)."""
        self._flat.codes.resize(n * self.dim * 2)
        self._flat.ntotal = n
        self.n = n

    def add(self, x: torch.Tensor) -> None:
        """Append unit rows (m, d) (rounded to float16)."""
        self.add16(x.to(torch.float16))

    def add16(self, x16: torch.Tensor) -> None:
        """Append float16 rows (m, d) as they are (files)."""
        m = x16.shape[0]
        if m == 0:
            return
        if self._buf is not None:
            need = self.n + m
            if need > self._buf.shape[0]:
                cap = max(need, int(self._buf.shape[0] * 1.5) + 64)
                buf = torch.zeros(cap, self.dim, dtype=torch.float16, device=self.device)
                buf[:self.n] = self._buf[:self.n]
                self._buf = buf
            self._buf[self.n:need] = x16.to(self.device)
            self.n = need
        else:
            at = self.n
            self._reserve(at + m)
            self._commit(at + m)
            self._set_rows(x16.cpu().numpy(), at)
        if self._ivf is not None:
            self._ivf.add(np.ascontiguousarray(x16.float().cpu().numpy()))

    def keep(self, mask: torch.Tensor) -> None:
        """Keep only the rows where ``mask`` (n,) is True (order preserved)."""
        self._ivf = None
        if self._buf is not None:
            kept = self._buf[:self.n][mask.to(self.device)].clone()
            self._buf, self.n = kept, kept.shape[0]
            return
        kept = self._view()[mask.cpu().numpy()].copy()
        self.n = 0
        self._reserve(kept.shape[0], grow=False)
        self._commit(kept.shape[0])
        if kept.shape[0]:
            self._set_rows(kept, 0)

    def uses_ann(self) -> bool:
        """IVF when asked for ("ivf", or "auto" from ``ann_threshold`` rows on the CPU) and
        there are enough rows to train it (``IVF_MIN_ROWS``); the exact scan otherwise."""
        if self.n < IVF_MIN_ROWS:
            return False
        if self.kind == "ivf":
            return True
        return self.kind == "auto" and self.device.type == "cpu" and self.n >= self.ann_threshold

    # --- search ---------------------------------------------------------------------
    def search(self, queries: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Unit queries (m, d) -> (exact scores (m, k), rows (m, k)) best first, ties to the
        lower row; -inf / -1 past the end (module doc: proposals, exact scores, certificate)."""
        m = queries.shape[0]
        kk = min(k, self.n)
        scores = torch.full((m, k), -float("inf"), device=self.device)
        rows = torch.full((m, k), -1, dtype=torch.long, device=self.device)
        if kk == 0 or m == 0:
            return scores, rows
        want = min(self.n, kk + TIE_WINDOW)
        q = queries.to(self.device, torch.float32)
        if self._buf is not None:
            s, r = self._search_torch(q, kk, want)
        else:
            s_np, r_np = self._search_cpu(q.cpu().numpy(), kk, want)
            s, r = torch.from_numpy(s_np).to(self.device), torch.from_numpy(r_np).to(self.device)
        scores[:, :kk], rows[:, :kk] = s, r
        return scores, rows

    def _search_cpu(self, q: np.ndarray, kk: int, want: int) -> tuple[np.ndarray, np.ndarray]:
        m = q.shape[0]
        if self.uses_ann():
            if self._ivf is None:
                self._build_ivf()
            self._ivf.nprobe = self.nprobe
            _, prop = self._ivf.search(np.ascontiguousarray(q), want)
            return self._rank(q, prop, kk)
        with caller_threads() if m * self.n * self.dim >= LARGE_WORK else nullcontext():
            scan, prop = self._flat.search(np.ascontiguousarray(q), want)
        s, r = self._rank(q, prop, kk)
        if want < self.n:
            last = scan[:, want - 1]
            bad = ~(last + scan_error(self.dim) < s[:, kk - 1])
            for i in np.flatnonzero(bad):        # not certified: exact scores of every row
                s[i], r[i] = self._exact_top(q[i], kk)
        return s, r

    def _rank(self, q: np.ndarray, prop: np.ndarray, kk: int) -> tuple[np.ndarray, np.ndarray]:
        """Proposals (m, w) (-1 = none) -> their k best by exact score, ties to the lower row."""
        view = self._view()
        live = prop >= 0
        ex = exact_scores(view[np.maximum(prop, 0)], q[:, None, :])
        ex = np.where(live, ex, -np.inf).astype(np.float32)
        row_key = np.where(live, prop, np.iinfo(np.int64).max)
        order = np.lexsort((row_key, -ex), axis=1)[:, :kk]
        s = np.take_along_axis(ex, order, 1)
        r = np.where(np.isfinite(s), np.take_along_axis(prop, order, 1), -1)
        return s, r

    def _exact_top(self, q: np.ndarray, kk: int) -> tuple[np.ndarray, np.ndarray]:
        view = self._view()
        ex = np.concatenate([exact_scores(view[a:a + _EXACT_ROWS], q[None, :])
                             for a in range(0, self.n, _EXACT_ROWS)])
        order = np.lexsort((np.arange(self.n), -ex))[:kk]
        return ex[order], order

    def _search_torch(self, q: torch.Tensor, kk: int, want: int
                      ) -> tuple[torch.Tensor, torch.Tensor]:
        """CUDA: scan scores from float32 products of float16 chunks, then as on the CPU."""
        assert self._buf is not None
        X = self._buf[:self.n]
        scan = torch.cat([q @ X[a:a + _EXACT_ROWS].float().T
                          for a in range(0, self.n, _EXACT_ROWS)], dim=1)   # (m, n)
        top_s, prop = torch.topk(scan, want, dim=1)
        ex = exact_scores_t(X[prop], q[:, None, :])
        by_row, o = torch.sort(prop, dim=1)
        ex = ex.gather(1, o)
        s, o2 = torch.sort(ex, dim=1, descending=True, stable=True)
        s, r = s[:, :kk], by_row.gather(1, o2)[:, :kk]
        if want < self.n:
            bad = ~(top_s[:, -1] + scan_error(self.dim) < s[:, kk - 1])
            for i in bad.nonzero().flatten().tolist():
                full = exact_scores_t(X, q[i][None, :])
                s_i, r_i = torch.sort(full, descending=True, stable=True)
                s[i], r[i] = s_i[:kk], r_i[:kk]
        return s, r

    # --- approximate index ----------------------------------------------------------
    def _build_ivf(self) -> None:
        import faiss  # optional dependency, only needed for large memories

        view = self._view()
        nlist = int(min(8192, max(MIN_NLIST, 4 * math.sqrt(self.n))))
        quantizer = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIVFScalarQuantizer(quantizer, self.dim, nlist,
                                              faiss.ScalarQuantizer.QT_fp16,
                                              faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(0)
        pick = np.arange(self.n) if self.n <= 40 * nlist else np.sort(
            rng.choice(self.n, 40 * nlist, replace=False))
        index.train(view[pick].astype(np.float32))
        for a in range(0, self.n, 1 << 16):
            index.add(view[a:a + (1 << 16)].astype(np.float32))
        self._ivf = index

    def nbytes(self) -> int:
        """Bytes held: the float16 rows' capacity, and the IVF's codes and ids."""
        extra = 0 if self._ivf is None else self.n * (self.dim * 2 + 8)
        if self._buf is not None:
            return self._buf.numel() * 2 + extra
        return self._cap * self.dim * 2 + extra
