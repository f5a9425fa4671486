"""Small tensor operations that the index, recall and fast paths share.

One tie rule everywhere: a higher score ranks first; equal scores go to the lower index
(the lower cue row, the lower memory position, the lower candidate column).
"""
from __future__ import annotations

import numpy as np
import torch


def matmul_t(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a (m, d) @ b (n, d)ᵀ -> (m, n). Few rows on the CPU go through numpy's BLAS, whose
    matrix-vector kernel is ~4× faster than torch's; batches use torch's GEMM."""
    if a.device.type == "cpu" and a.shape[0] == 1:  # plain gemv on the stored layout
        return torch.from_numpy(b.numpy() @ a.numpy()[0])[None]
    if a.device.type == "cpu" and a.shape[0] < 32:
        return torch.from_numpy(a.numpy() @ b.numpy().T)
    return a @ b.T


def topk_stable(x: torch.Tensor, k: int, ties_above: float | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """The k largest entries of each row of ``x`` (m, n) -> (values (m, k), indices (m, k)),
    best first; ties (inside the k and at the k-th place) go to the lower index.

    ``torch.topk`` orders equal values arbitrarily; rows with a tie anywhere in their first
    k + 1 values are redone with a stable sort. NaN never ranks (treated as -inf). With
    ``ties_above`` set, ties among values <= it are left unresolved (k-WTA drops them anyway).
    """
    m, n = x.shape
    k = min(k, n)
    if k == 0:
        return x[:, :0], torch.zeros(m, 0, dtype=torch.long, device=x.device)
    if m == 1 and x.device.type == "cpu":
        return _topk_one(x[0], k, ties_above)
    x = torch.nan_to_num(x, nan=-float("inf"), posinf=float("inf"), neginf=-float("inf"))
    vals, idx = torch.topk(x, min(k + 1, n), dim=1)
    tied = (vals[:, 1:] == vals[:, :-1]).any(1) if vals.shape[1] > 1 else \
        torch.zeros(m, dtype=torch.bool, device=x.device)
    vals, idx = vals[:, :k], idx[:, :k]
    if bool(tied.any()):
        rows = tied.nonzero().squeeze(1)
        sv, si = torch.sort(x[rows], dim=1, descending=True, stable=True)
        vals, idx = vals.clone(), idx.clone()
        vals[rows], idx[rows] = sv[:, :k], si[:, :k]
    return vals, idx


def _topk_one(x: torch.Tensor, k: int, ties_above: float | None):
    """topk_stable for one CPU row with few small torch kernels (a single query's path)."""
    n = x.shape[0]
    v, i = torch.topk(x, min(k + 1, n))
    v, i = v.numpy(), i.numpy()
    if np.isnan(v).any():
        return _topk_nan(x, k)
    tie = v[1:] == v[:-1]
    if ties_above is not None:
        tie &= v[1:] > ties_above
    if tie.any():  # O(n): every entry above the k-th value, then the lowest-index equal ones
        xv = x.numpy()
        kth = v[k - 1]
        above = np.flatnonzero(xv > kth)
        equal = np.flatnonzero(xv == kth)[:k - above.size]
        pick = np.concatenate([above, equal])
        order = pick[np.lexsort((pick, -xv[pick]))]
        return torch.from_numpy(xv[order])[None], torch.from_numpy(order)[None]
    return torch.from_numpy(v[:k].copy())[None], torch.from_numpy(i[:k].copy())[None]


def _topk_nan(x: torch.Tensor, k: int):
    xv = np.nan_to_num(x.numpy(), nan=-np.inf, posinf=np.inf, neginf=-np.inf)
    order = np.lexsort((np.arange(xv.shape[0]), -xv))[:k]
    return torch.from_numpy(xv[order])[None], torch.from_numpy(order)[None]


def first_per_owner(owner: torch.Tensor) -> torch.Tensor:
    """(m, C) owners of ranked candidates (-1 = none) -> (m, C) bool, True at the first
    (best-ranked) candidate of each owner in each row."""
    m, c = owner.shape
    if c == 0:
        return torch.zeros(m, 0, dtype=torch.bool, device=owner.device)
    so, perm = torch.sort(owner, dim=1, stable=True)
    first = torch.ones_like(so, dtype=torch.bool)
    first[:, 1:] = so[:, 1:] != so[:, :-1]
    first &= so >= 0
    out = torch.zeros_like(first)
    out.scatter_(1, perm, first)
    return out


def compact(keep: torch.Tensor, k: int, *columns: torch.Tensor, fill=(0.0, -1)):
    """Move the first k kept columns of each row to the front: keep (m, C) bool and tensors
    (m, C) -> tensors (m, k) padded with ``fill`` (one value per tensor, 0 / -1 default)."""
    m = keep.shape[0]
    place = keep.long().cumsum(1) - 1
    ok = keep & (place < k)
    r, c = ok.nonzero(as_tuple=True)
    out = []
    for col, f in zip(columns, fill):
        t = torch.full((m, k), f, dtype=col.dtype, device=col.device)
        t[r, place[r, c]] = col[r, c]
        out.append(t)
    return out
