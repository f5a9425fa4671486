"""The Hebbian association matrix W (D × D), stored sparse or dense.

Learning is W += w · outer(target_code, cue_code) for binary k-sparse codes given as
index rows (n, k). Both stores answer the same questions with the same numbers:
``column_sums`` (W · cue_code), ``scale`` (homeostasis), ``prune`` and W statistics.

The sparse store keeps the non-zero cells as one sorted array of keys col·D + row (int32
while D² < 2³¹) and their float32 values: 8 bytes a cell, never a dense D² matrix. A
product W · code gathers the k columns the code activates with binary search.
"""
from __future__ import annotations

import torch

from .functional import expand_segments

SPARSITY_EPS = 1e-3  # a cell counts as empty for the sparsity statistic when |w| < this
FLOOR = torch.finfo(torch.float32).tiny  # a contribution never scales below this


BLOCK = 1 << 18  # cells handled at a time when W grows: bounds the temporaries (~10 MB)


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


class SparseW:
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

    def column_sums(self, cue_idx: torch.Tensor) -> torch.Tensor:
        """W · code for binary codes given as indices (m, k) -> (m, D) float32; an index of
        -1 is "no unit" and adds nothing."""
        m, k = cue_idx.shape
        cols = cue_idx.to(self.device, torch.int64).reshape(-1)
        live = cols >= 0
        cols = cols.clamp(min=0)
        colptr = self.colptr()
        lo = colptr[cols]
        lengths = (colptr[cols + 1] - lo) * live
        out = torch.zeros(m, self.dim, dtype=torch.float32, device=self.device)
        cells, seg = expand_segments(lo, lengths)
        if cells.numel() == 0:
            return out
        query = seg // k
        rows = (self.keys[cells].to(torch.int64) % self.dim)
        out.index_put_((query, rows), self.vals[cells], accumulate=True)
        return out

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


class DenseW:
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

    def column_sums(self, cue_idx: torch.Tensor) -> torch.Tensor:
        """W · code for index codes (m, k) -> (m, D); -1 is "no unit"."""
        m, k = cue_idx.shape
        idx = cue_idx.to(self.device, torch.int64).reshape(-1)
        cols = self.W[:, idx.clamp(min=0)] * (idx >= 0)  # (D, m·k)
        return cols.view(self.dim, m, k).sum(-1).T.contiguous()

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
    """What each memory put into W, so that removing a memory removes exactly its share.

    Every change to W is W += Σ_i outer(target_i, v_i) for memories i and cue weight vectors
    v_i (D,): storing a cue row adds lr · cue_code, a replay adds weight · (noisy) cue code,
    homeostasis scales every v_i. So W = Σ_i outer(target_i, v_i) minus what pruning cut, and
    v_i is short (the columns its cue and replays touched). Kept sparse as sorted keys
    id · D + column (int64) and float32 values.
    """

    def __init__(self, dim: int, device: torch.device | str = "cpu"):
        self.dim, self.device = dim, torch.device(device)
        self.keys = torch.zeros(0, dtype=torch.int64, device=self.device)
        self.vals = torch.zeros(0, dtype=torch.float32, device=self.device)

    def add(self, ids: torch.Tensor, cue_idx: torch.Tensor, weight) -> None:
        """v_id += weight · code for each row: ids (n,), codes (n, k) (-1 = none), weight."""
        n, k = cue_idx.shape
        if n == 0:
            return
        w = torch.as_tensor(weight, dtype=torch.float32, device=self.device)
        w = (w.expand(n) if w.dim() == 0 else w)[:, None].expand(n, k)
        cols = cue_idx.to(self.device, torch.int64)
        keys = ids.to(self.device, torch.int64)[:, None] * self.dim + cols
        live = cols >= 0
        self.keys, self.vals = merge_sorted(self.keys, self.vals,
                                            *coalesce(keys[live], w[live]))

    def scale(self, factor: float) -> None:
        """Homeostasis scales every share; a share never underflows to 0 (it is kept at the
        smallest normal float32), so every memory keeps the keys of its cue rows."""
        self.vals.mul_(factor).clamp_(min=FLOOR)

    def take(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Remove the given memories' vectors; returns their (ids, columns, values)."""
        mem = self.keys // self.dim
        hit = torch.isin(mem, ids.to(self.device, torch.int64))
        out = (mem[hit], self.keys[hit] % self.dim, self.vals[hit])
        self.keys, self.vals = self.keys[~hit], self.vals[~hit]
        return out

    def nbytes(self) -> int:
        return self.keys.numel() * 12

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"c_keys": self.keys.cpu(), "c_vals": self.vals.cpu()}

    def load_state(self, keys: torch.Tensor, vals: torch.Tensor) -> None:
        self.keys, self.vals = keys.to(self.device), vals.to(self.device)


def make_w(w_format: str, dim: int, device: torch.device) -> SparseW | DenseW:
    """Choose the store: "auto" is dense for D ≤ 2048 (16 MiB at most), else sparse, on every
    device (a dense W of the default D = 16384 would be 1 GiB per memory)."""
    if w_format == "auto":
        w_format = "dense" if dim <= 2048 else "sparse"
    return DenseW(dim, device) if w_format == "dense" else SparseW(dim, device)
