"""Small tensor operations that the index, recall and fast paths share.

One tie rule everywhere: a higher score ranks first; equal scores go to the lower index
(the lower cue row, the lower memory position, the lower candidate column).
"""
from __future__ import annotations

import numpy as np
import torch


#: extra candidates :func:`topk_stable` takes so that ties at the k-th place resolve in O(k)
TIE_WINDOW = 48


def matmul_t(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a (m, d) @ b (n, d)ᵀ -> (m, n), through torch, whose OpenMP honours the engine's
    per-call thread setting (:mod:`nuonuo_core.threads`; numpy's BLAS has one process-wide
    pool, which beside a busy core made a single 16384 × 384 product ~20× slower). One row on
    the CPU is a matrix-vector product on the stored layout."""
    if a.device.type == "cpu" and a.shape[0] == 1:
        return torch.mv(b, a[0])[None]
    return a @ b.T


def topk_stable(x: torch.Tensor, k: int, ties_above: float | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """The k largest entries of each row of ``x`` (m, n) -> (values (m, k), indices (m, k)),
    best first; ties (inside the k and at the k-th place) go to the lower index.

    ``torch.topk`` orders equal values arbitrarily. Rows with a tie among their first k + 1
    values are redone in O(k) when every entry equal to the k-th value lies in a window of
    the k + ``TIE_WINDOW`` largest (sorted by index, then stably by value), else in O(n):
    every entry above the k-th value, then the lowest-index entries equal to it. NaN never
    ranks (treated as -inf). With ``ties_above`` set, ties among values <= it are left
    unresolved (k-WTA drops those entries anyway). The one rule k-WTA, the Hopfield ranking
    and the index share.
    """
    m, n = x.shape
    k = min(k, n)
    if k == 0:
        return x[:, :0], torch.zeros(m, 0, dtype=torch.long, device=x.device)
    if m == 1 and x.device.type == "cpu":
        return _topk_one(x[0], k, ties_above)
    if k + 1 < n:
        # the k + 1 largest first (unsorted selection is the cheap part of a wide k-WTA: 16,384
        # units, ~half of topk(k + TIE_WINDOW)); a row whose k + 1 values are all distinct and
        # not NaN has one answer, the same as below. Rows with a tie or a NaN among them go
        # through the window (exactly as if they were alone).
        vals, idx = torch.topk(x, k + 1, dim=1, sorted=False)
        vals, order = torch.sort(vals, dim=1, descending=True)
        idx = idx.gather(1, order)
        hard = (vals[:, 1:] == vals[:, :-1]).any(1) | vals.isnan().any(1)
        out_v, out_i = vals[:, :k], idx[:, :k]
        if not bool(hard.any()):
            return out_v, out_i
        rows = hard.nonzero().squeeze(1)
        out_v, out_i = out_v.clone(), out_i.clone()
        out_v[rows], out_i[rows] = _topk_window(x[rows], k, ties_above)
        return out_v, out_i
    return _topk_window(x, k, ties_above)


#: width of the blocks :func:`topk_set` scans first (a multiple of it must be the row width)
SET_BLOCK = 64


def _blocks_apply(x: torch.Tensor, k: int) -> bool:
    m, n = x.shape
    return (x.device.type == "cpu" and x.dtype == torch.float32 and m >= 2 and 1 <= k
            and n % SET_BLOCK == 0 and 4 * (k + 1) * SET_BLOCK <= n)


def _best_blocks(x: torch.Tensor, k: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Wide rows (m, n) -> the k blocks of :data:`SET_BLOCK` units with the largest maxima:
    (their entries (m, k · bs), their block numbers (m, k), the k-th and (k + 1)-th block
    maximum (m,) each, rows holding a NaN (m,) bool)."""
    m, n = x.shape
    bs = SET_BLOCK
    blocks = x.contiguous().view(m, n // bs, bs)
    top = blocks.amax(2).numpy()                             # (m, n / bs); NaN propagates
    at = np.arange(m)[:, None]
    part = np.argpartition(-top, k, axis=1)                  # the k best blocks, then the next
    best = part[:, :k]
    cand = blocks.numpy()[at, best].reshape(m, k * bs)
    return cand, best, top[at, best].min(1), top[at[:, 0], part[:, k]], np.isnan(top).any(1)


def _pick(cand: np.ndarray, best: np.ndarray, k: int) -> np.ndarray:
    """The k largest of candidate rows (m, k · bs) that hold every entry of their row at least
    its k-th value -> their unit indices (m, k) ascending, ties at the k-th value to the
    lower unit index."""
    bs = SET_BLOCK
    at = np.arange(cand.shape[0])[:, None]
    part = np.argpartition(-cand, k, axis=1)
    win = part[:, :k]
    out = np.sort(best[at, win // bs] * bs + win % bs, axis=1)
    tied = ~(cand[at, win].min(1) > cand[at[:, 0], part[:, k]])
    if tied.any():      # a tie at the k-th entry, all of them among the candidates: by index
        r = np.flatnonzero(tied)
        where = (best[r, :, None] * bs + np.arange(bs)).reshape(r.size, k * bs)
        by_index = np.argsort(where, axis=1)
        vals = np.take_along_axis(cand[r], by_index, axis=1)
        first = np.argsort(-vals, axis=1, kind="stable")[:, :k]
        out[r] = np.sort(np.take_along_axis(np.take_along_axis(where, by_index, axis=1),
                                            first, axis=1), axis=1)
    return out


def topk_set(x: torch.Tensor, k: int, ties_above: float | None = None) -> torch.Tensor:
    """The indices of the k largest entries of each row of ``x`` (m, n) -> (m, k), ascending:
    the same set as :func:`topk_stable` (ties at the k-th place to the lower index; with
    ``ties_above``, ties among values <= it left unresolved), in O(n) cheap work a row.

    k-WTA needs the winners, not their order, and a row of 16,384 units has 20 of them: a
    full ``torch.topk`` of each wide row was a third of adding memories. On the CPU, for
    float32 rows of at least two rows and ``4 (k + 1)`` blocks of :data:`SET_BLOCK` units:
    each block's maximum first, then the k blocks with the largest maxima, then the k largest
    entries among those k blocks. When the k-th block maximum is above the (k + 1)-th, every
    entry of the row at least its k-th value is among those blocks (every entry outside them
    is at most the (k + 1)-th maximum, below the k-th entry): the k largest are unique when
    the k-th entry found is above the (k + 1)-th, else the ties at the k-th value go to the
    lower index among the candidates (with ``ties_above``, ties at or below it are resolved
    the same way, one of the answers topk_stable allows). Rows with a tie at the k-th block
    maximum or a NaN are redone by :func:`topk_stable` alone.
    """
    k = min(k, x.shape[1])
    if not _blocks_apply(x, k):
        return torch.sort(topk_stable(x, k, ties_above)[1], dim=1).values
    cand, best, kth, nxt, nan = _best_blocks(x, k)
    ok = (kth > nxt) & ~nan
    idx = torch.from_numpy(_pick(cand, best, k))
    if not ok.all():
        rows = torch.from_numpy(np.flatnonzero(~ok))
        idx[rows] = torch.sort(topk_stable(x[rows], k, ties_above)[1], dim=1).values
    return idx


def active_first(idx: torch.Tensor) -> torch.Tensor:
    """Rows of unit indices (m, k), -1 = none -> the units ascending, then the -1s."""
    big = torch.iinfo(idx.dtype).max
    out = torch.where(idx < 0, big, idx).sort(dim=1).values
    return out.masked_fill(out == big, -1)


def _only_active(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Winners idx (m, k) of rows x (m, n) -> the active ones (x > 0) first, then -1."""
    return active_first(idx.masked_fill(x.gather(1, idx) <= 0, -1))


def active_set(x: torch.Tensor, k: int) -> torch.Tensor:
    """k-WTA among entries > 0 of wide CPU rows (m, n) -> (m, k) unit indices, ascending,
    then -1 where fewer than k entries are > 0: what masking ``topk_set(x, k, 0.0)`` gives
    (the same active units), without a full pass over most rows.

    W's activity after a hop is mostly silent (in a night's probes ~70 % of rows have at most
    k active units). After :func:`_best_blocks`: when the k-th block maximum is <= 0, every
    active unit lies in the k best blocks, so a row with at most k of them among the
    candidates is answered there; rows whose candidates hold every entry at least their k-th
    value (that case with more than k active units, or a k-th block maximum above the next)
    are picked there; the rest (a tie at the k-th block maximum above 0, a NaN) go through
    :func:`topk_stable`. Rows that do not fit the block scan (:func:`topk_set`'s conditions):
    the same masking on the whole row."""
    if not _blocks_apply(x, k):
        return _only_active(x, topk_set(x, k, 0.0))
    m = x.shape[0]
    bs = SET_BLOCK
    cand, best, kth, nxt, nan = _best_blocks(x, k)
    live = cand > 0
    count = np.count_nonzero(live, axis=1)
    few = (kth <= 0) & (count <= k) & ~nan
    picked = ~few & ~nan & ((kth <= 0) | (kth > nxt))
    out = np.full((m, k), -1, dtype=np.int64)
    if few.any():
        r = np.flatnonzero(few)
        rr, cc = np.nonzero(live[r])
        unit = best[r[rr], cc // bs] * bs + cc % bs
        order = np.lexsort((unit, rr))
        rr, unit = rr[order], unit[order]
        place = np.arange(rr.size) - np.searchsorted(rr, rr)
        out[r[rr], place] = unit
    if picked.any():
        r = np.flatnonzero(picked)
        out[r] = _pick(cand[r], best[r], k)
    idx = torch.from_numpy(out)
    rest = ~few & ~picked
    if rest.any():
        rows = torch.from_numpy(np.flatnonzero(rest))
        xr = x[rows]
        idx[rows] = _only_active(xr, topk_stable(xr, k, 0.0)[1])
    return idx


def _topk_window(x: torch.Tensor, k: int, ties_above: float | None
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`topk_stable` for (m, n) rows, 1 <= k <= n: topk(k + TIE_WINDOW), then every
    row with a tie redone (in the window, or in O(n))."""
    m, n = x.shape
    w = min(n, k + TIE_WINDOW)
    vals, idx = torch.topk(x, w, dim=1)          # NaN sorts first in torch.topk
    if x.is_floating_point() and bool(vals[:, :k + 1].isnan().any()):
        x = torch.nan_to_num(x, nan=-float("inf"), posinf=float("inf"),
                             neginf=-float("inf"))
        vals, idx = torch.topk(x, w, dim=1)
    head = vals[:, :min(k + 1, w)]
    tie = head[:, 1:] == head[:, :-1]
    if ties_above is not None:
        tie &= head[:, 1:] > ties_above
    tied = tie.any(1)
    out_v, out_i = vals[:, :k], idx[:, :k]
    if not bool(tied.any()):
        return out_v, out_i
    out_v, out_i = out_v.clone(), out_i.clone()
    kth = vals[:, k - 1]
    fits = tied & ((w == n) | (vals[:, w - 1] < kth))
    rows = fits.nonzero().squeeze(1)
    if rows.numel():                             # every tie is inside the window
        by_index, o = torch.sort(idx[rows], dim=1)
        v = vals[rows].gather(1, o)
        v, o2 = torch.sort(v, dim=1, descending=True, stable=True)
        out_v[rows], out_i[rows] = v[:, :k], by_index.gather(1, o2)[:, :k]
    rows = (tied & ~fits).nonzero().squeeze(1)
    if rows.numel():                             # long runs of ties: O(n) per row
        xr, thr = x[rows], kth[rows, None]
        r, c = (xr >= thr).nonzero(as_tuple=True)        # row-major: ascending index
        eq = (xr[r, c] == thr[r, 0]).long()
        need = k - (xr > thr).sum(1)
        start = torch.searchsorted(r, torch.arange(rows.shape[0], device=x.device))
        csum = torch.cumsum(eq, 0)
        rank = csum - (csum - eq)[start][r]              # 1-based rank among the row's ties
        keep = (eq == 0) | (rank <= need[r])
        pick = c[keep].view(-1, k)                       # ascending index
        v = xr.gather(1, pick)
        v, o = torch.sort(v, dim=1, descending=True, stable=True)
        out_v[rows], out_i[rows] = v, pick.gather(1, o)
    return out_v, out_i


def _topk_one(x: torch.Tensor, k: int, ties_above: float | None
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """topk_stable for one CPU row with few small torch kernels (a single query's path)."""
    n = x.shape[0]
    tv, ti = torch.topk(x, min(k + 1, n))
    v, i = tv.numpy(), ti.numpy()
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


def _topk_nan(x: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
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


def compact(keep: torch.Tensor, k: int, *columns: torch.Tensor,
            fill: tuple[float, ...] = (0.0, -1)) -> list[torch.Tensor]:
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
