"""The Hebbian association matrix W (D × D): factored, sparse cells or dense.

Learning is W += w · outer(target_code, cue_code) for binary k-sparse codes given as index
rows (n, k). Every change is W += Σ_i outer(target_i, v_i) for memories i and cue weight
vectors v_i (:class:`Contributions`), so W = Σ_i t_i v_iᵀ exactly until pruning cuts a cell
(W·c = Σ_i t_i (v_i·c) needs the memories whose v_i touches c's units, not the cells). Three
stores answer the same questions with the same numbers (``columns_t``/``columns_np``: the
cells of the columns a code activates; ``column_sums``: W · code; ``has_cells``; stats):

* :class:`FactoredW` (``w_format`` "sparse", until the first cut): stores nothing of its
  own; column c of W is Σ_i v_i[c] t_i over the memories listed under c in the store's
  column-major contributions (8 bytes an entry, ~20 entries a memory, instead of 8 bytes a
  cell, ~300-400 cells a memory). A product W · code gathers the code's k columns' entries
  (~n·k/D each) and their target codes.
* :class:`SparseW` ("sparse", once pruning has cut a cell: cells are individual now): the
  non-zero cells as one sorted array of keys col·D + row (int32 while D² < 2³¹) and their
  float32 values, 8 bytes a cell.
* :class:`DenseW` ("dense", small D): the (D, D) float32 matrix.

Cell sums are accumulated in float64 and rounded to float32 once (W · code on every path), so
the numpy and torch paths and the reference give the same activity, bit for bit.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
import torch

from .functional import expand_segments

SPARSITY_EPS = 1e-3  # a cell counts as empty for the sparsity statistic when |w| < this
FLOOR = torch.finfo(torch.float32).tiny  # a contribution never scales below this


BLOCK = 1 << 18  # cells handled at a time when W grows: bounds the temporaries (~10 MB)
DENSE_CELLS = 1 << 21  # cells of a column range summed densely at once (16 MB of float64)


def _cells_by_column(target_idx, cue_idx, weight, dim: int, dtype):
    """Σ_i weight_i · outer(target_i, cue_i) as sorted unique (keys, values) blocks, one
    range of columns at a time (~BLOCK cells each), in key order: never all n·k² cells at
    once. Cue units of -1 add nothing."""
    n, cue_winners = cue_idx.shape
    target_winners = target_idx.shape[1]
    w = torch.as_tensor(weight, dtype=torch.float32, device=cue_idx.device)
    w = w.expand(n) if w.dim() == 0 else w
    cols = cue_idx.reshape(-1).to(torch.int64)
    owner = torch.arange(n, device=cue_idx.device).repeat_interleave(cue_winners)
    live = cols >= 0
    cols, owner = cols[live], owner[live]
    order = torch.argsort(cols, stable=True)
    cols, owner = cols[order], owner[order]
    step = max(1, BLOCK // target_winners)
    s = 0
    while s < cols.shape[0]:
        e = min(s + step, cols.shape[0])
        e = int(torch.searchsorted(cols, cols[e - 1:e], right=True))  # whole columns
        c, o = cols[s:e], owner[s:e]
        keys = (c[:, None] * dim + target_idx[o].to(torch.int64)).reshape(-1)
        vals = w[o][:, None].expand(-1, target_winners).reshape(-1)
        k2, v2 = coalesce(keys, vals)
        yield k2.to(dtype), v2
        s = e


def coalesce(keys: torch.Tensor, vals: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Unsorted (keys, values) with repeats -> sorted unique keys and their summed values."""
    keys, order = torch.sort(keys)
    uniq, inverse = torch.unique_consecutive(keys, return_inverse=True)
    summed = torch.zeros(uniq.shape[0], dtype=torch.float32, device=keys.device)
    summed.index_add_(0, inverse, vals[order].to(torch.float32))
    return uniq, summed


def merge_sorted(keys, vals, new_keys, new_vals) -> tuple[torch.Tensor, torch.Tensor]:
    """Add sorted unique (new_keys, new_vals) into sorted unique (keys, vals) in O(n + m);
    returns the merged pair (the inputs' values may be updated in place)."""
    n = keys.shape[0]
    pos = torch.searchsorted(keys, new_keys)
    exists = pos < n
    if n:
        exists &= keys[pos.clamp(max=n - 1)] == new_keys
    vals.index_add_(0, pos[exists], new_vals[exists])
    fresh = ~exists
    ins_pos, ins_keys, ins_vals = pos[fresh], new_keys[fresh], new_vals[fresh]
    m = ins_keys.shape[0]
    if not m:
        return keys, vals
    shift = torch.bincount(ins_pos, minlength=n + 1).cumsum(0)[:n]
    old_out = torch.arange(n, device=keys.device) + shift
    new_out = ins_pos + torch.arange(m, device=keys.device)
    out_k = torch.empty(n + m, dtype=keys.dtype, device=keys.device)
    out_v = torch.empty(n + m, dtype=torch.float32, device=keys.device)
    out_k[old_out], out_k[new_out] = keys, ins_keys
    out_v[old_out], out_v[new_out] = vals, ins_vals
    return out_k, out_v


def _checked_cells(state: dict, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Saved W cells: int64 keys (nnz,) sorted, unique, in [0, D²); float32 values > 0."""
    keys, vals = state["w_keys"], state["w_vals"]
    if keys.dtype != torch.int64 or vals.dtype != torch.float32 or keys.dim() != 1 \
            or keys.shape != vals.shape:
        raise ValueError("W keys (int64) and values (float32) must be 1-d of equal length")
    if keys.numel() and (int(keys.min()) < 0 or int(keys.max()) >= dim ** 2
                         or not bool((keys[1:] > keys[:-1]).all())):
        raise ValueError("W keys are out of range or not sorted")
    if not bool(torch.isfinite(vals).all()) or not bool((vals > 0).all()):
        raise ValueError("W values must be finite and > 0")
    return keys, vals


def segments_np(ptr: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """numpy :func:`~nuonuo_core.functional.expand_segments` over a CSR pointer: for column
    indices ``cols`` (L,) -> (entries of those columns, index into ``cols`` of each)."""
    lo = ptr[cols]
    lengths = ptr[cols + 1] - lo
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    seg = np.repeat(np.arange(cols.shape[0]), lengths)
    starts = np.cumsum(lengths) - lengths
    return lo[seg] + np.arange(total) - starts[seg], seg


class _Apply:
    """What every W store answers from ``columns_t`` / ``columns_np`` (the cells of the
    columns a code activates): W · code and stored links."""

    dim: int
    device: torch.device

    def columns_t(self, codes: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # pragma: no cover
        raise NotImplementedError

    def columns_np(self, code: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    def column_sums(self, codes: torch.Tensor) -> torch.Tensor:
        """W · code for binary codes given as indices (m, k) -> (m, D) float32 (summed in
        float64); an index of -1 is "no unit" and adds nothing."""
        m, k = codes.shape
        seg, rows, vals = self.columns_t(codes)
        out = torch.zeros(m * self.dim, dtype=torch.float64, device=self.device)
        if rows.numel():
            out.index_add_(0, torch.div(seg, k, rounding_mode="floor") * self.dim + rows,
                           vals.double())
        return out.view(m, self.dim).float()

    def column_sums_np(self, code: np.ndarray) -> np.ndarray:
        """W · code for one code (k,) (-1 = no unit) -> (D,) float32 (summed in float64)."""
        _, rows, vals = self.columns_np(code)
        return np.bincount(rows, weights=vals, minlength=self.dim).astype(np.float32)

    def has_cells(self, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
        """Whether W[row, col] holds a stored (non-zero) cell, for index pairs of one shape
        (-1 = none: False)."""
        shape = rows.shape
        r = rows.reshape(-1).to(self.device, torch.int64)
        c = cols.reshape(-1).to(self.device, torch.int64)
        ok = (r >= 0) & (c >= 0)
        out = torch.zeros(r.shape, dtype=torch.bool, device=self.device)
        if not bool(ok.any()):
            return out.view(shape)
        ucols = torch.unique(c[ok])
        seg, crow, _ = self.columns_t(ucols[None])
        if crow.numel() == 0:
            return out.view(shape)
        keys = torch.unique(ucols[seg] * self.dim + crow)
        q = c.clamp(min=0) * self.dim + r.clamp(min=0)
        i = torch.searchsorted(keys, q).clamp(max=keys.shape[0] - 1)
        return (ok & (keys[i] == q)).view(shape)

    def links_np(self, code: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Stored links from one code (a,) (-1 = none) to target codes (n, b) (-1 = none)
        -> (n,) how many of the b × a cells W[target unit, code unit] are non-zero."""
        live = code >= 0
        bitmap = np.zeros((code.shape[0], self.dim), dtype=bool)
        j, rows, _ = self.columns_np(code)
        bitmap[j, rows] = True
        t = np.asarray(targets, dtype=np.int64)
        hit = bitmap[:, np.maximum(t, 0)] & (t >= 0)[None] & live[:, None, None]  # (a, n, b)
        return hit.sum((0, 2))


class SparseW(_Apply):
    """Sparse W: sorted unique cell keys (nnz,) and float32 values (nnz,)."""

    format = "sparse"

    def __init__(self, dim: int, device: torch.device | str = "cpu"):
        self.dim = dim
        self.device = torch.device(device)
        self.key_dtype = torch.int32 if dim * dim < 2**31 else torch.int64
        self.keys = torch.zeros(0, dtype=self.key_dtype, device=self.device)
        self.vals = torch.zeros(0, dtype=torch.float32, device=self.device)
        self._colptr: torch.Tensor | None = None  # (D+1,) start of each column, lazily built

    # --- learning -------------------------------------------------------------------
    def add(self, target_idx: torch.Tensor, cue_idx: torch.Tensor, weight) -> None:
        """W += weight_i · outer(target_i, cue_i) for each row i; weight scalar or (n,)."""
        if target_idx.shape[0] == 0:
            return
        parts = list(_cells_by_column(target_idx.to(self.device), cue_idx.to(self.device),
                                      weight, self.dim, self.key_dtype))
        keys = torch.cat([p[0] for p in parts])
        vals = torch.cat([p[1] for p in parts])
        del parts
        self._merge(keys, vals)

    def _merge(self, new_keys: torch.Tensor, new_vals: torch.Tensor) -> None:
        """Add sorted unique (new_keys, new_vals) into the sorted store, one block of
        BLOCK stored cells at a time, so temporaries stay block-sized; untouched blocks are
        kept as they are."""
        n = self.keys.shape[0]
        if n == 0:
            self.keys, self.vals = new_keys.to(self.key_dtype), new_vals
        elif new_keys.numel():
            starts = list(range(0, n, BLOCK)) + [n]
            cut = torch.searchsorted(new_keys, self.keys[starts[1:-1]]).tolist()
            cut = [0] + cut + [new_keys.shape[0]]
            pk, pv = [], []
            for b in range(len(starts) - 1):
                ok, ov = self.keys[starts[b]:starts[b + 1]], self.vals[starts[b]:starts[b + 1]]
                nk, nv = new_keys[cut[b]:cut[b + 1]], new_vals[cut[b]:cut[b + 1]]
                if nk.numel():
                    ok, ov = merge_sorted(ok, ov.clone(), nk.to(self.key_dtype), nv)
                pk.append(ok)
                pv.append(ov)
            self.keys, self.vals = torch.cat(pk), torch.cat(pv)
        self._colptr = None
        self._drop(self.vals > 0)  # subtraction may leave empty or negative cells

    def _drop(self, keep: torch.Tensor) -> int:
        dropped = int(keep.numel() - keep.sum())
        if dropped:
            self.keys, self.vals = self.keys[keep], self.vals[keep]
            self._colptr = None
        return dropped

    def scale(self, factor: float) -> None:
        """Homeostasis: W *= factor (cells that underflow to 0 leave the store, which holds
        only cells > 0)."""
        self.vals.mul_(factor)
        if self.vals.numel() and not bool((self.vals > 0).all()):
            self._drop(self.vals > 0)

    def prune(self, threshold: float) -> int:
        """Zero every cell with |w| < threshold; returns how many were removed."""
        return self._drop(self.vals.abs() >= threshold)

    def cells_in_columns(self, c_lo: int, c_hi: int):
        """The stored cells of columns [c_lo, c_hi) as one (int64 keys col·D + row, values)
        pair, sorted by key (a view of the store: no copy of W)."""
        k = self.keys
        lo = int(torch.searchsorted(k, torch.tensor([c_lo * self.dim], dtype=k.dtype,
                                                    device=k.device)))
        hi = int(torch.searchsorted(k, torch.tensor([c_hi * self.dim], dtype=k.dtype,
                                                    device=k.device)))
        yield k[lo:hi].to(torch.int64), self.vals[lo:hi]

    # --- recall ---------------------------------------------------------------------
    def colptr(self) -> torch.Tensor:
        """(D+1,) where each column's cells start in ``keys``; rebuilt only after W changes."""
        if self._colptr is None:
            starts = torch.arange(self.dim + 1, device=self.device, dtype=torch.int64) * self.dim
            self._colptr = torch.searchsorted(self.keys.to(torch.int64), starts)
        return self._colptr

    def columns_t(self, codes: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The stored cells of the columns that codes (m, k) activate (-1 = no unit) ->
        (segment m_i·k + j of each cell, its row, its value)."""
        cols = codes.to(self.device, torch.int64).reshape(-1)
        live = cols >= 0
        cols = cols.clamp(min=0)
        colptr = self.colptr()
        lo = colptr[cols]
        cells, seg = expand_segments(lo, (colptr[cols + 1] - lo) * live)
        return seg, self.keys[cells].to(torch.int64) % self.dim, self.vals[cells]

    def columns_np(self, code: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`columns_t` for one code (k,) in numpy -> (j, rows, values)."""
        live = np.flatnonzero(code >= 0)
        cells, j = segments_np(self.colptr().numpy(), np.asarray(code)[live].astype(np.int64))
        return live[j], self.keys.numpy()[cells].astype(np.int64) % self.dim, \
            self.vals.numpy()[cells]

    def has_cells(self, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
        """Whether W[row, col] holds a stored (non-zero) cell, for index pairs of one shape
        (-1 = none: False), by binary search in the sorted keys."""
        ok = (rows >= 0) & (cols >= 0)
        n = self.keys.shape[0]
        if n == 0:
            return torch.zeros(rows.shape, dtype=torch.bool, device=self.device)
        q = (cols.clamp(min=0).to(self.device, torch.int64) * self.dim
             + rows.clamp(min=0).to(self.device, torch.int64)).to(self.key_dtype)
        i = torch.searchsorted(self.keys, q).clamp(max=n - 1)
        return ok.to(self.device) & (self.keys[i] == q)

    # --- inspection -----------------------------------------------------------------
    def stats(self) -> dict:
        nnz = int(self.vals.shape[0])
        big = int((self.vals.abs() >= SPARSITY_EPS).sum())
        return {"w_norm": float(self.vals.double().norm()) if nnz else 0.0, "w_nnz": nnz,
                "w_sparsity": 1.0 - big / float(self.dim) ** 2, "w_bytes": self.nbytes()}

    def nbytes(self) -> int:
        return self.keys.numel() * self.keys.element_size() + self.vals.numel() * 4

    def to_dense(self) -> torch.Tensor:
        """The full (D, D) matrix; only for small D (teaching views, tests)."""
        if self.dim > 4096:
            raise ValueError(f"to_dense is for code_dim <= 4096, got {self.dim}")
        W = torch.zeros(self.dim * self.dim, dtype=torch.float32, device=self.device)
        keys = self.keys.to(torch.int64)
        W[(keys % self.dim) * self.dim + keys // self.dim] = self.vals
        return W.view(self.dim, self.dim)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"w_keys": self.keys.to(torch.int64).cpu(), "w_vals": self.vals.cpu()}

    def max_value(self) -> float:
        return float(self.vals.abs().max()) if self.vals.numel() else 0.0

    def validate(self) -> None:
        """Keys sorted, unique, inside D²; values finite and > 0."""
        k, v = self.keys, self.vals
        if k.shape != v.shape or k.dim() != 1 or v.dtype != torch.float32:
            raise ValueError("W keys and values differ in shape or type")
        if k.numel() and (int(k.min()) < 0 or int(k.max()) >= self.dim ** 2
                          or not bool((k[1:] > k[:-1]).all())):
            raise ValueError("W keys are out of range or not sorted")
        if not bool(torch.isfinite(v).all()) or not bool((v > 0).all()):
            raise ValueError("W values must be finite and > 0")

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        keys, vals = _checked_cells(state, self.dim)
        self.keys = keys.to(self.device, self.key_dtype)
        self.vals = vals.to(self.device)
        self._colptr = None
        self.validate()


class DenseW(_Apply):
    """Dense W (D, D) float32: for small code_dim (teaching views) or a GPU."""

    format = "dense"

    def __init__(self, dim: int, device: torch.device | str = "cpu"):
        self.dim = dim
        self.device = torch.device(device)
        self.W = torch.zeros(dim, dim, dtype=torch.float32, device=self.device)

    def add(self, target_idx: torch.Tensor, cue_idx: torch.Tensor, weight) -> None:
        if target_idx.shape[0] == 0:
            return
        flat = self.W.view(-1)  # cell (row, col) lives at row·D + col
        for keys, vals in _cells_by_column(target_idx.to(self.device), cue_idx.to(self.device),
                                           weight, self.dim, torch.int64):
            flat.index_add_(0, (keys % self.dim) * self.dim + keys // self.dim, vals)
        self.W.clamp_(min=0)

    def scale(self, factor: float) -> None:
        self.W.mul_(factor)

    def prune(self, threshold: float) -> int:
        small = (self.W.abs() < threshold) & (self.W != 0)
        count = int(small.sum())
        self.W[small] = 0
        return count

    def cells_in_columns(self, c_lo: int, c_hi: int):
        """The non-zero cells of columns [c_lo, c_hi) as (int64 keys col·D + row, values)
        pairs sorted by key, a few columns at a time (temporaries ~BLOCK cells)."""
        width = max(1, BLOCK // self.dim)
        for a in range(c_lo, c_hi, width):
            b = min(a + width, c_hi)
            block = self.W[:, a:b].T.contiguous()          # (columns, rows)
            nz = block.nonzero()                            # sorted by (column, row)
            yield (nz[:, 0] + a) * self.dim + nz[:, 1], block[nz[:, 0], nz[:, 1]]

    def column_sums(self, codes: torch.Tensor) -> torch.Tensor:
        """W · code for index codes (m, k) -> (m, D) (summed in float64); -1 is "no unit"."""
        m, k = codes.shape
        idx = codes.to(self.device, torch.int64).reshape(-1)
        cols = self.W[:, idx.clamp(min=0)].double() * (idx >= 0)  # (D, m·k)
        return cols.view(self.dim, m, k).sum(-1).T.float().contiguous()

    def column_sums_np(self, code: np.ndarray) -> np.ndarray:
        live = code[code >= 0]
        return self.W.numpy()[:, live].astype(np.float64).sum(1).astype(np.float32)

    def columns_t(self, codes: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        idx = codes.to(self.device, torch.int64).reshape(-1)
        sub = self.W[:, idx.clamp(min=0)] * (idx >= 0)
        rows, seg = sub.nonzero(as_tuple=True)
        return seg, rows, sub[rows, seg]

    def columns_np(self, code: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        live = np.flatnonzero(code >= 0)
        sub = self.W.numpy()[:, np.asarray(code)[live]]
        rows, j = np.nonzero(sub)
        return live[j], rows, sub[rows, j]

    def has_cells(self, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
        """Whether W[row, col] is non-zero, for index pairs of one shape (-1 = none: False)."""
        ok = ((rows >= 0) & (cols >= 0)).to(self.device)
        r = rows.clamp(min=0).to(self.device, torch.int64)
        c = cols.clamp(min=0).to(self.device, torch.int64)
        return ok & (self.W[r, c] > 0)

    def stats(self) -> dict:
        nz = self.W[self.W != 0]
        big = int((nz.abs() >= SPARSITY_EPS).sum())
        return {"w_norm": float(nz.double().norm()), "w_nnz": int(nz.numel()),
                "w_sparsity": 1.0 - big / float(self.dim) ** 2, "w_bytes": self.nbytes()}

    def nbytes(self) -> int:
        return self.W.numel() * 4

    def to_dense(self) -> torch.Tensor:
        return self.W

    def state_dict(self) -> dict[str, torch.Tensor]:
        flat = self.W.T.reshape(-1)  # keys are col·D + row, as in the sparse store
        keys = flat.nonzero().squeeze(1)
        return {"w_keys": keys.cpu(), "w_vals": flat[keys].cpu()}

    def max_value(self) -> float:
        return float(self.W.abs().max())

    def validate(self) -> None:
        if not bool(torch.isfinite(self.W).all()) or not bool((self.W >= 0).all()):
            raise ValueError("W values must be finite and >= 0")

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        keys, vals = _checked_cells(state, self.dim)
        self.W.zero_()
        self.W.view(-1)[(keys % self.dim) * self.dim + keys // self.dim] = vals.to(self.device)


class Contributions:
    """What each memory put into W, so that removing a memory removes exactly its share, and
    the factored W itself (:class:`FactoredW`).

    Every change to W is W += Σ_i outer(target_i, v_i) for memories i and cue weight vectors
    v_i (D,): storing a cue row adds lr · cue_code, a replay adds weight · (noisy) cue code,
    homeostasis scales every v_i. So W = Σ_i outer(target_i, v_i) minus what pruning cut, and
    v_i is short (the columns its cue and replays touched). Kept column-major (CSR): column c's
    entries are ``ptr[c]:ptr[c+1]``, each the position of a memory (int32, ascending within the
    column) and its v_i[c] (float32 > 0): 8 bytes an entry. Files keep the entries as sorted
    keys id · D + column (int64) and values, as format 2 did.
    """

    def __init__(self, dim: int, device: torch.device | str = "cpu"):
        self.dim, self.device = dim, torch.device(device)
        self.ptr = torch.zeros(dim + 1, dtype=torch.int64, device=self.device)
        self.mem = torch.zeros(0, dtype=torch.int32, device=self.device)
        self.vals = torch.zeros(0, dtype=torch.float32, device=self.device)

    @property
    def size(self) -> int:
        return int(self.vals.shape[0])

    def cols(self) -> torch.Tensor:
        """(E,) int64: the column of each entry."""
        return torch.repeat_interleave(torch.arange(self.dim, device=self.device),
                                       self.ptr.diff())

    def _set(self, keys: torch.Tensor, vals: torch.Tensor, n: int) -> None:
        """Entries from sorted unique keys column · n + position."""
        cols = torch.div(keys, n, rounding_mode="floor")
        self.ptr = torch.zeros(self.dim + 1, dtype=torch.int64, device=self.device)
        self.ptr[1:] = torch.bincount(cols, minlength=self.dim).cumsum(0)
        self.mem = (keys - cols * n).to(torch.int32)
        self.vals = vals

    def add(self, pos: torch.Tensor, cue_idx: torch.Tensor, weight, n: int) -> None:
        """v_pos += weight · code for each row: memory positions (r,) below ``n`` (the memories
        stored now), codes (r, k) (-1 = none), weight a number or (r,)."""
        r, k = cue_idx.shape
        if r == 0:
            return
        w = torch.as_tensor(weight, dtype=torch.float32, device=self.device)
        w = (w.expand(r) if w.dim() == 0 else w)[:, None].expand(r, k)
        cols = cue_idx.to(self.device, torch.int64)
        keys = cols * n + pos.to(self.device, torch.int64)[:, None]
        live = cols >= 0
        new_k, new_v = coalesce(keys[live], w[live])
        old_k = self.cols() * n + self.mem.long()
        keys, vals = merge_sorted(old_k, self.vals, new_k, new_v)
        self._set(keys, vals, n)

    def scale(self, factor: float) -> None:
        """Homeostasis scales every share; a share never underflows to 0 (it is kept at the
        smallest normal float32), so every memory keeps the entries of its cue rows."""
        self.vals.mul_(factor).clamp_(min=FLOOR)

    def take(self, drop: torch.Tensor, new_pos: torch.Tensor
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Remove the entries of the memories at positions where ``drop`` (n,) is True and
        renumber the rest by ``new_pos`` (n,); returns the removed (positions, columns,
        values), positions in the old numbering."""
        mem = self.mem.long()
        hit = drop.to(self.device)[mem]
        cols = self.cols()
        out = (mem[hit], cols[hit], self.vals[hit])
        keep = ~hit
        counts = torch.bincount(cols[keep], minlength=self.dim)
        self.ptr = torch.zeros(self.dim + 1, dtype=torch.int64, device=self.device)
        self.ptr[1:] = counts.cumsum(0)
        self.mem = new_pos.to(self.device)[mem[keep]].to(torch.int32)
        self.vals = self.vals[keep]
        return out

    def nbytes(self) -> int:
        return self.ptr.numel() * 8 + self.size * 8

    def state_dict(self, ids: torch.Tensor) -> dict[str, torch.Tensor]:
        """Entries as sorted keys id · D + column (int64) and values (format 2 and 3)."""
        keys = ids.to(self.device)[self.mem.long()] * self.dim + self.cols()
        order = torch.argsort(keys)
        return {"c_keys": keys[order].cpu(), "c_vals": self.vals[order].cpu()}

    def load_state(self, keys: torch.Tensor, vals: torch.Tensor, ids: torch.Tensor) -> None:
        """From :meth:`state_dict`'s keys of stored memories (checked by the store)."""
        keys, vals = keys.to(self.device), vals.to(self.device)
        n = max(int(ids.shape[0]), 1)
        pos = torch.searchsorted(ids.to(self.device), torch.div(keys, self.dim,
                                                                 rounding_mode="floor"))
        pos = pos.clamp(max=n - 1)
        cols = keys % self.dim
        order = torch.argsort(cols * n + pos)
        self._set((cols * n + pos)[order], vals[order].contiguous(), n)

    def validate(self, n: int) -> None:
        """CSR structure: ptr from 0 to E, non-decreasing; positions in [0, n), ascending and
        unique within each column; values finite and > 0."""
        p, mem, v = self.ptr, self.mem, self.vals
        if p.shape != (self.dim + 1,) or p.dtype != torch.int64 or int(p[0]) != 0 \
                or int(p[-1]) != v.shape[0] or not bool((p.diff() >= 0).all()):
            raise ValueError("contributions: the column pointer does not tile the entries")
        if mem.dtype != torch.int32 or v.dtype != torch.float32 or mem.shape != v.shape:
            raise ValueError("contributions: positions (int32) and values (float32) differ")
        if mem.numel() and (int(mem.min()) < 0 or int(mem.max()) >= n):
            raise ValueError("contributions must belong to stored memories")
        keys = self.cols() * max(n, 1) + mem.long()
        if keys.numel() > 1 and not bool((keys[1:] > keys[:-1]).all()):
            raise ValueError("contributions must be unique and sorted within each column")
        if not bool(torch.isfinite(v).all()) or not bool((v > 0).all()):
            raise ValueError("contributions must be finite and > 0")


class FactoredW(_Apply):
    """W = Σ_i t_i v_iᵀ computed from a store's contributions and target codes: nothing of
    its own is stored (module doc). Valid while no cell has been cut; the store replaces it
    with :meth:`materialize`'s :class:`SparseW` at the first cut. Read-only: the store
    changes the contributions."""

    format = "sparse"
    factored = True

    def __init__(self, store) -> None:
        self._store = store
        self.dim = store.config.code_dim
        self.device = store.device
        self._stats: tuple[int, dict] | None = None

    # --- cells ----------------------------------------------------------------------
    def columns_t(self, codes: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The cells (with repeats: one per memory and target unit) of the columns codes
        (m, k) activate -> (segment m_i·k + j, row, value)."""
        c = self._store.contrib
        tc = self._store.target_codes
        cols = codes.to(self.device, torch.int64).reshape(-1)
        live = cols >= 0
        cols = cols.clamp(min=0)
        lo = c.ptr[cols]
        ent, seg = expand_segments(lo, (c.ptr[cols + 1] - lo) * live)
        target_winners = tc.shape[1]
        rows = tc[c.mem[ent].long()].long().reshape(-1)
        return (seg.repeat_interleave(target_winners), rows,
                c.vals[ent].repeat_interleave(target_winners))

    def columns_np(self, code: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        c = self._store.contrib
        live = np.flatnonzero(code >= 0)
        ent, j = segments_np(c.ptr.numpy(), np.asarray(code)[live].astype(np.int64))
        tc = self._store.target_codes.numpy()
        target_winners = tc.shape[1]
        return np.repeat(live[j], target_winners), tc[c.mem.numpy()[ent]].reshape(-1), \
            np.repeat(c.vals.numpy()[ent], target_winners)

    def cells_in_columns(self, c_lo: int, c_hi: int) -> Iterator[tuple[torch.Tensor,
                                                                      torch.Tensor]]:
        """W's cells in columns [c_lo, c_hi) as (int64 keys col·D + row, float32 values)
        blocks in key order; a block's sums take at most ~DENSE_CELLS cells of memory."""
        c = self._store.contrib
        ptr, mem, vals = (t.cpu().numpy() for t in (c.ptr, c.mem, c.vals))
        tc = self._store.target_codes.cpu().numpy()
        D, target_winners = self.dim, tc.shape[1]
        width = max(1, DENSE_CELLS // D)
        a = c_lo
        while a < c_hi:
            b = min(a + width, c_hi)
            e0, e1 = int(ptr[a]), int(ptr[b])
            # a crowded range: narrower
            while b > a + 1 and (e1 - e0) * target_winners > DENSE_CELLS:
                b = a + max(1, (b - a) // 2)
                e1 = int(ptr[b])
            if e1 > e0:
                col = np.repeat(np.arange(a, b), np.diff(ptr[a:b + 1]))
                keys = ((col - a) * D)[:, None] + tc[mem[e0:e1]]
                keys = keys.reshape(-1)
                w = np.repeat(vals[e0:e1].astype(np.float64), target_winners)
                if keys.shape[0] * 16 >= (b - a) * D:     # dense enough: sum in place
                    s = np.bincount(keys, weights=w, minlength=(b - a) * D)
                    uniq = np.flatnonzero(s)
                    summed = s[uniq]
                else:
                    uniq, inverse = np.unique(keys, return_inverse=True)
                    summed = np.bincount(inverse, weights=w, minlength=uniq.shape[0])
                yield (torch.from_numpy(uniq + a * D).to(self.device),
                       torch.from_numpy(summed.astype(np.float32)).to(self.device))
            a = b

    def materialize(self) -> SparseW:
        """The cells as a :class:`SparseW` (values: the float64 sums rounded to float32)."""
        out = SparseW(self.dim, self.device)
        parts = list(self.cells_in_columns(0, self.dim))
        if parts:
            out.keys = torch.cat([p[0] for p in parts]).to(out.key_dtype)
            out.vals = torch.cat([p[1] for p in parts])
        return out

    def min_cell_below(self, threshold: float) -> bool:
        """Whether some cell is below ``threshold``: only columns holding an entry below it
        can have one (a cell is at least each entry that adds to it)."""
        c = self._store.contrib
        small = c.vals < threshold
        if not bool(small.any()):
            return False
        cols = torch.unique(c.cols()[small])
        seg, rows, vals = self.columns_t(cols[None])
        keys = cols[seg] * self.dim + rows
        _, inverse = torch.unique(keys, return_inverse=True)
        sums = torch.zeros(int(inverse.max()) + 1, dtype=torch.float64, device=self.device)
        sums.index_add_(0, inverse, vals.double())
        return bool((sums.float() < threshold).any())

    # --- inspection -----------------------------------------------------------------
    def stats(self) -> dict:
        """W-norm, non-zero cells, sparsity (one pass over the cells, cached until the store
        changes)."""
        version = self._store.version
        if self._stats is None or self._stats[0] != version:
            nnz, big, sq, top = 0, 0, 0.0, 0.0
            for _, v in self.cells_in_columns(0, self.dim):
                v64 = v.double()
                nnz += int(v.shape[0])
                big += int((v >= SPARSITY_EPS).sum())
                sq += float((v64 * v64).sum())
                top = max(top, float(v.max()))
            self._stats = (version, {"w_norm": sq ** 0.5, "w_nnz": nnz,
                                     "w_sparsity": 1.0 - big / float(self.dim) ** 2,
                                     "w_bytes": 0, "w_max": top})
        out = dict(self._stats[1])
        out.pop("w_max")
        return out

    def max_value(self) -> float:
        self.stats()
        assert self._stats is not None
        return float(self._stats[1]["w_max"])

    def nbytes(self) -> int:
        return 0  # the contributions are the store's (counted there)

    def to_dense(self) -> torch.Tensor:
        """The full (D, D) matrix; only for small D (teaching views, tests)."""
        if self.dim > 4096:
            raise ValueError(f"to_dense is for code_dim <= 4096, got {self.dim}")
        return self.materialize().to_dense()

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"w_keys": torch.zeros(0, dtype=torch.int64),
                "w_vals": torch.zeros(0, dtype=torch.float32)}

    def validate(self) -> None:
        """Nothing of its own: the store validates the contributions and target codes."""


def make_w(w_format: str, dim: int, device: torch.device) -> SparseW | DenseW:
    """The cell store of a format: "auto" is dense for D ≤ 2048 (16 MiB at most), else
    sparse, on every device (a dense W of the default D = 16384 would be 1 GiB per memory).
    A "sparse" memory starts factored (:class:`FactoredW`, the store builds it) and gets this
    cell store at its first cut."""
    if w_format == "auto":
        w_format = "dense" if dim <= 2048 else "sparse"
    return DenseW(dim, device) if w_format == "dense" else SparseW(dim, device)


def is_dense(w_format: str, dim: int) -> bool:
    return w_format == "dense" or (w_format == "auto" and dim <= 2048)
