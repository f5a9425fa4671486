"""MemoryStore: the one owner of a memory's state and the one place for its invariants.

Per memory (n, position order = id order): ``ids``, ``target_codes`` (n, k), ``importance``,
``days`` (day added), ``in_replay``, ``texts``. Per cue row (R): ``row_mem`` (owning memory
position), ``row_codes`` (R, k) and the row embeddings (float16) in ``index``. Shared: what
each memory put into W (``contrib``, column-major) and W (``w``): factored from ``contrib``
and the target codes until pruning cuts a cell (:class:`~nuonuo_core.hebbian.FactoredW`),
then its cells (:class:`~nuonuo_core.hebbian.SparseW`), or dense for small D; ``next_id``
and the clock ``day``. Other modules read these fields and change them only through the
methods below.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .config import MemoryConfig
from .hebbian import Contributions, DenseW, FactoredW, SparseW, is_dense, make_w
from .index import CueIndex
from .limits import LIMITS

MAX_IMPORTANCE = LIMITS["importance"].hi  # importance lies in (0, MAX_IMPORTANCE]
MAX_ID = LIMITS["next_id"].hi  # next_id <= MAX_ID: ids exact in JSON, id · D + col in int64
MAX_DAY = LIMITS["day"].hi
MAX_TEXT = LIMITS["text_chars"].hi
MAX_PARAPHRASES = LIMITS["paraphrases"].hi
# W may exceed what the contributions say it holds by float rounding only: relative to the
# cell and to the largest cell (dust that removals leave is pruned at 1e-5 of the largest)
SUM_RTOL, SUM_ATOL = 1e-3, 1e-4
DENSE_SUMS = 1 << 21   # a column range's S is summed densely up to this many cells (16 MB)
# a factored W becomes cells before homeostasis could take a share below this: cells of a
# cell store underflow to 0 and leave W, while a share is kept at the smallest normal float
UNDERFLOW_GUARD = 2.0 ** -64
TENSORS = ("ids", "target_codes", "importance", "days", "in_replay", "row_mem", "row_codes")


def _ok(cond: bool, message: str) -> None:
    if not cond:
        raise ValueError(message)


def _want(t, name: str, shape: tuple, dtype: torch.dtype) -> None:
    _ok(isinstance(t, torch.Tensor) and t.dtype == dtype and tuple(t.shape) == tuple(shape),
        f"{name} must be a {dtype} tensor of shape {tuple(shape)}, got " + (
            f"{t.dtype} {tuple(t.shape)}" if isinstance(t, torch.Tensor) else type(t).__name__))


def _text_ok(t, rows: int) -> bool:
    """A text record: null (a vector memory) or {cue, target, paraphrases} whose texts are
    non-empty strings of at most MAX_TEXT characters and whose paraphrases are exactly the
    memory's cue rows after the first (``rows`` cue rows in all)."""
    if t is None:
        return True

    def ok(x) -> bool:
        return isinstance(x, str) and 0 < len(x) <= MAX_TEXT and bool(x.strip())

    return isinstance(t, dict) and set(t) == {"cue", "target", "paraphrases"} \
        and ok(t["cue"]) and (t["target"] is None or ok(t["target"])) \
        and isinstance(t["paraphrases"], list) and len(t["paraphrases"]) == rows - 1 \
        and len(t["paraphrases"]) <= MAX_PARAPHRASES and all(ok(p) for p in t["paraphrases"])


def check_importance(importance, n: int) -> torch.Tensor:
    """One number or n numbers in (0, 100] -> (n,) float32; ValueError naming the value."""
    try:
        imp = np.asarray(importance, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        imp = np.array([np.nan])
    if imp.size == 1:
        imp = np.full(n, imp[0])
    if imp.size != n or not np.all(np.isfinite(imp)) or np.any(imp <= 0) \
            or np.any(imp > MAX_IMPORTANCE):
        raise ValueError(f"importance must be one number or {n} numbers in "
                         f"(0, {MAX_IMPORTANCE:g}], got {importance!r}")
    return torch.as_tensor(imp, dtype=torch.float32)


def check_room(next_id: int, n: int) -> None:
    """Refuse adding ``n`` memories when their ids would pass MAX_ID (files keep next_id in
    [0, MAX_ID]; a memory the engine made must load)."""
    if next_id + n > MAX_ID:
        raise ValueError(f"adding {n} memories would move next_id to {next_id + n}, past "
                         f"its limit {LIMITS['next_id'].span()}: this memory has used up its "
                         f"ids")


def check_ids(ids) -> torch.Tensor:
    """Memory ids (int or sequence of ints) -> (m,) int64; refuses floats, bools, text."""
    arr = np.asarray(ids if not isinstance(ids, torch.Tensor) else ids.cpu().numpy())
    flat = arr.reshape(-1)
    if flat.dtype == object:
        ok = all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
                 for v in flat)
    else:
        ok = np.issubdtype(flat.dtype, np.integer)
    if not ok:
        raise ValueError(f"memory ids must be integers, got {ids!r}")
    return torch.as_tensor(flat.astype(np.int64))


def _check_sums(w, cols: np.ndarray, pos: np.ndarray, vals: np.ndarray,
                targets: np.ndarray, D: int) -> None:
    """Every cell of W is a cell of S = Σ_i outer(target_i, v_i) and W <= S up to rounding.
    Contributions (column, memory position, value) sorted by column. Column ranges of at most
    DENSE_SUMS cells, one at a time: the range's S is summed densely (``np.bincount``, no
    sort) and read at the range's W cells; cells of S that W lacks were pruned. Temporaries:
    one range (16 MB) and its contributions."""
    k = targets.shape[1]
    top = w.max_value()
    width = max(1, DENSE_SUMS // D)
    for c_lo in range(0, D, width):
        c_hi = min(c_lo + width, D)
        parts = [(wk.cpu().numpy() - c_lo * D, wv.cpu().numpy())
                 for wk, wv in w.cells_in_columns(c_lo, c_hi)]
        if not parts or not sum(p[0].size for p in parts):
            continue
        wk = np.concatenate([p[0] for p in parts])
        wv = np.concatenate([p[1] for p in parts])
        s, e = np.searchsorted(cols, [c_lo, c_hi])
        keys = ((cols[s:e, None] - c_lo) * D + targets[pos[s:e]]).reshape(-1)
        sw = np.bincount(keys, np.repeat(vals[s:e].astype(np.float64), k),
                         minlength=(c_hi - c_lo) * D)[wk]
        _ok(bool((sw > 0).all()), f"W has {int((sw <= 0).sum())} cells that no memory's "
                                  f"contribution explains")
        _ok(float((wv - sw * (1 + SUM_RTOL) - SUM_ATOL * top).max()) <= 0,
            "W holds more than the memories' contributions sum to")


def _check_contribution_keys(keys: torch.Tensor, ids: torch.Tensor, D: int) -> None:
    """A file's contributions: sorted unique keys id · D + column of stored memories."""
    ck = keys.numpy()
    idn = ids.numpy()
    mem = ck // D
    at = np.minimum(np.searchsorted(idn, mem), max(idn.size - 1, 0))
    _ok(ck.size == 0 or (bool((ck[1:] > ck[:-1]).all()) and int(ck[0]) >= 0
                         and idn.size > 0 and bool((idn[at] == mem).all())),
        "contributions must be sorted, unique and belong to stored memories")


# settings that only change how the store is read, never its state
RECALL_PARAMS = ("beta", "top_k", "max_steps", "eps", "min_overlap", "min_score_hopfield",
                 "min_score_hebbian", "min_score_cosine", "word_match", "min_score_words",
                 "chain_min_support")


@dataclass(eq=False)
class MemoryStore:
    config: MemoryConfig
    device: torch.device
    w: FactoredW | SparseW | DenseW
    index: CueIndex
    contrib: Contributions
    ids: torch.Tensor = field(init=False)  # (n,) int64, CPU, strictly increasing
    target_codes: torch.Tensor = field(init=False)  # (n, k) int32, device
    importance: torch.Tensor = field(init=False)  # (n,) float32, CPU, in (0, 100]
    days: torch.Tensor = field(init=False)  # (n,) int64, CPU, day each memory was added
    in_replay: torch.Tensor = field(init=False)  # (n,) bool, CPU
    row_mem: torch.Tensor = field(init=False)  # (R,) int64, device, owner position of each cue row
    row_codes: torch.Tensor = field(init=False)  # (R, k) int32, device
    texts: list = field(default_factory=list)
    next_id: int = 0
    day: int = 0
    version: int = 0     # counts changes (caches of derived values compare it)
    _postings: tuple | None = None

    @classmethod
    def empty(cls, config: MemoryConfig, device: torch.device) -> "MemoryStore":
        c, k = config, config.k
        s = cls(c, device, make_w(c.w_format, c.code_dim, device),
                CueIndex(c.embed_dim, device, c.index, c.ann_threshold, c.ann_nprobe),
                Contributions(c.code_dim, device))
        s._fresh_w()
        s.ids, s.importance = torch.zeros(0, dtype=torch.long), torch.zeros(0)
        s.days, s.in_replay = torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.bool)
        s.target_codes = torch.zeros(0, k, dtype=torch.int32, device=device)
        s.row_mem = torch.zeros(0, dtype=torch.long, device=device)
        s.row_codes = torch.zeros(0, k, dtype=torch.int32, device=device)
        return s

    def _fresh_w(self) -> None:
        """An empty W: factored for the sparse format, else an empty dense matrix."""
        c = self.config
        self.w = DenseW(c.code_dim, self.device) if is_dense(c.w_format, c.code_dim) \
            else FactoredW(self)

    @property
    def factored(self) -> bool:
        return isinstance(self.w, FactoredW)

    @property
    def n(self) -> int:
        return int(self.ids.shape[0])

    @property
    def n_rows(self) -> int:
        return int(self.row_mem.shape[0])

    # --- lookups --------------------------------------------------------------------
    def positions(self, ids) -> torch.Tensor:
        """Memory ids -> positions (m,); ValueError for non-integers, KeyError if unknown."""
        ids_t = check_ids(ids)
        pos = torch.searchsorted(self.ids, ids_t)
        ok = (pos < self.n) & (self.ids[pos.clamp(max=max(self.n - 1, 0))] == ids_t) \
            if self.n else torch.zeros_like(ids_t, dtype=torch.bool)
        if not bool(ok.all()):
            raise KeyError(f"unknown memory ids: {ids_t[~ok].tolist()[:10]}")
        return pos

    def row_owners(self, rows: torch.Tensor) -> torch.Tensor:
        """Cue rows (any shape, -1 = none) -> owning memory positions (-1 = none)."""
        owner = torch.full_like(rows, -1)
        ok = rows >= 0
        owner[ok] = self.row_mem[rows[ok]]
        return owner

    def first_rows(self) -> torch.Tensor:
        """(n,) the primary (first) cue row of each memory."""
        first = torch.full((self.n,), self.n_rows, dtype=torch.long, device=self.device)
        rows = torch.arange(self.n_rows, device=self.device)
        return first.scatter_reduce_(0, self.row_mem, rows, reduce="amin")

    def rows_per_memory(self) -> torch.Tensor:
        return torch.bincount(self.row_mem.cpu(), minlength=self.n)

    def postings(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Inverted index of target codes: (unit_ptr (D+1,), positions) sorted by unit."""
        if self._postings is None:
            dim = self.config.code_dim
            flat = self.target_codes.reshape(-1).long()
            order = torch.argsort(flat, stable=True)
            ptr = torch.zeros(dim + 1, dtype=torch.long, device=flat.device)
            ptr[1:] = torch.bincount(flat, minlength=dim).cumsum(0)
            self._postings = (ptr, (order // self.config.k).to(torch.int32))
        return self._postings

    # --- changes --------------------------------------------------------------------
    def append(self, rows: torch.Tensor, row_local: torch.Tensor, row_codes: torch.Tensor,
               target_codes: torch.Tensor, importance: torch.Tensor, day: int,
               texts: list | None) -> list[int]:
        """Store n memories: cue rows (R, d) owned by local memory row_local (R,) in [0, n),
        their codes (R, k), target codes (n, k), importance (n,). Returns the new ids."""
        n, lr = target_codes.shape[0], self.config.lr
        check_room(self.next_id, n)
        LIMITS["day"].check(day)
        ids = torch.arange(self.next_id, self.next_id + n)
        local = row_local.to(self.device)
        base = self.n
        if not isinstance(self.w, FactoredW):
            self.w.add(target_codes[local], row_codes, lr)
        self.contrib.add(local + base, row_codes, lr, base + n)
        self.next_id += n
        self.version += 1
        self.ids = torch.cat([self.ids, ids])
        self.target_codes = torch.cat([self.target_codes, target_codes])
        self.importance = torch.cat([self.importance, importance.float()])
        self.days = torch.cat([self.days, torch.full((n,), int(day))])
        self.in_replay = torch.cat([self.in_replay, torch.ones(n, dtype=torch.bool)])
        self.index.add(rows)
        self.row_mem = torch.cat([self.row_mem, local + base])
        self.row_codes = torch.cat([self.row_codes, row_codes])
        self.texts.extend(texts if texts is not None else [None] * n)
        self._postings = None
        return ids.tolist()

    def reinforce(self, mem_pos: torch.Tensor, cue_codes: torch.Tensor, weight) -> None:
        """W += weight_i · outer(target of memory mem_pos_i, cue_codes_i) (replay)."""
        if not isinstance(self.w, FactoredW):
            self.w.add(self.target_codes[mem_pos], cue_codes, weight)
        self.contrib.add(mem_pos, cue_codes, weight, self.n)
        self.version += 1

    def scale(self, factor: float) -> None:
        """Homeostasis: W *= factor (and every memory's share with it). A factored W about to
        hold shares near float32's underflow (:data:`UNDERFLOW_GUARD`) becomes cells first,
        so that its cells underflow to 0 and leave W as a cell store's do."""
        if self.factored and self.contrib.size and \
                float(self.contrib.vals.min()) * factor < UNDERFLOW_GUARD:
            assert isinstance(self.w, FactoredW)
            self.w = self.w.materialize()
        if not isinstance(self.w, FactoredW):
            self.w.scale(factor)
        self.contrib.scale(factor)
        self.version += 1

    def prune(self, threshold: float) -> int:
        """Cut every cell of W below ``threshold``; returns how many. A factored W whose
        cells all reach the threshold stays factored; at the first cut its cells are
        materialised (they are individual from now on) and pruned."""
        if threshold <= 0:
            return 0
        if isinstance(self.w, FactoredW):
            if not self.w.min_cell_below(threshold):
                return 0
            self.w = self.w.materialize()
        pruned = self.w.prune(threshold)
        if pruned:
            self.version += 1
        return pruned

    def check_night(self) -> None:
        """Refuse a night when the clock is at its last day (the day after would not load)."""
        if self.day >= MAX_DAY:
            raise ValueError(f"the clock is at day {self.day}, the last one (day must stay in "
                             f"{LIMITS['day'].span()}): no night can follow")

    def advance_day(self) -> None:
        self.check_night()
        self.day += 1

    def set_recall_params(self, **changes) -> MemoryConfig:
        """Change recall-only settings (RECALL_PARAMS); validated."""
        import dataclasses

        allowed = set(RECALL_PARAMS)
        bad = sorted(set(changes) - allowed)
        if bad:
            raise ValueError(f"only {sorted(allowed)} can change on a live memory, got {bad}")
        self.config = dataclasses.replace(self.config, **changes)
        return self.config

    def set_importance(self, pos: torch.Tensor, importance: torch.Tensor) -> None:
        self.importance[pos] = importance

    def set_replay(self, chosen: torch.Tensor) -> None:
        """The replay buffer becomes exactly the memory positions ``chosen``."""
        self.in_replay[:] = False
        self.in_replay[chosen] = True

    def remove(self, ids) -> int:
        """Forget memories: their rows, codes and exactly what they put into W (a factored W
        loses their terms exactly; a cell store subtracts their shares, and the float dust
        of the subtraction, below 1e-5 of the largest cell, is cut)."""
        pos = self.positions(ids)
        drop = torch.zeros(self.n, dtype=torch.bool)
        drop[pos] = True
        if not bool(drop.any()):
            return 0
        if int(drop.sum()) == self.n:  # nothing stays: W is exactly empty
            self.contrib = Contributions(self.config.code_dim, self.device)
            self._fresh_w()
        else:
            new_pos = torch.cumsum((~drop).long(), 0) - 1
            gone_pos, cols, vals = self.contrib.take(drop, new_pos)
            if not isinstance(self.w, FactoredW) and vals.numel():
                top = self.w.max_value()
                self.w.add(self.target_codes[gone_pos], cols[:, None], -vals)
                self.w.prune(1e-5 * top)  # float rounding of the subtraction leaves dust
        self._keep(~drop)
        return int(drop.sum())

    def _keep(self, keep: torch.Tensor) -> None:
        row_keep = keep.to(self.device)[self.row_mem]
        new_pos = torch.cumsum(keep.long(), 0) - 1
        self.index.keep(row_keep)
        self.row_mem = new_pos.to(self.device)[self.row_mem[row_keep]]
        self.row_codes = self.row_codes[row_keep]
        self.ids, self.importance = self.ids[keep], self.importance[keep]
        self.days, self.in_replay = self.days[keep], self.in_replay[keep]
        self.target_codes = self.target_codes[keep.to(self.device)]
        self.texts = [t for t, k in zip(self.texts, keep.tolist()) if k]
        self._postings = None
        self.version += 1

    # --- invariants and state -------------------------------------------------------
    def validate(self) -> None:
        """Check every invariant of the store; ValueError naming the first one broken."""
        c, n, R = self.config, self.n, self.n_rows
        k, D = c.k, c.code_dim
        _want(self.ids, "ids", (n,), torch.int64)
        for name, shape, dtype in (("target_codes", (n, k), torch.int32),
                                   ("importance", (n,), torch.float32),
                                   ("days", (n,), torch.int64), ("in_replay", (n,), torch.bool),
                                   ("row_mem", (R,), torch.int64),
                                   ("row_codes", (R, k), torch.int32)):
            _want(getattr(self, name), name, shape, dtype)
        _ok(isinstance(self.next_id, int) and 0 <= self.next_id <= MAX_ID,
            f"next_id must be an int in [0, {MAX_ID}], got {self.next_id!r}")
        _ok(isinstance(self.day, int) and 0 <= self.day <= MAX_DAY,
            f"day must be an int in [0, {MAX_DAY}], got {self.day!r}")
        ids = self.ids
        _ok(n == 0 or (int(ids[0]) >= 0 and bool((ids[1:] > ids[:-1]).all())),
            "ids must be >= 0, unique and strictly increasing")
        _ok(n == 0 or int(ids[-1]) < self.next_id,
            f"next_id {self.next_id} must be above every id (largest {int(ids[-1]) if n else -1})")
        for name in ("target_codes", "row_codes"):
            t = getattr(self, name).long()
            _ok(t.numel() == 0 or (int(t.min()) >= 0 and int(t.max()) < D),
                f"{name} index units outside [0, code_dim={D})")
            _ok(t.shape[1] < 2 or bool((t[:, 1:] > t[:, :-1]).all()),
                f"{name} rows must hold {k} distinct units in ascending order")
        imp = self.importance
        _ok(bool(torch.isfinite(imp).all()) and bool((imp > 0).all())
            and bool((imp <= MAX_IMPORTANCE).all()),
            f"importance must lie in (0, {MAX_IMPORTANCE:g}]")
        _ok(n == 0 or (int(self.days.min()) >= 0 and int(self.days.max()) <= MAX_DAY),
            f"days must lie in [0, {MAX_DAY}]")
        rm = self.row_mem
        _ok(R == 0 or (int(rm.min()) >= 0 and int(rm.max()) < n),
            "cue rows point to missing memories")
        _ok(bool((self.rows_per_memory() >= 1).all()), "every memory needs a cue row")
        emb = self.index.emb
        _ok(tuple(emb.shape) == (R, c.embed_dim), f"cue embeddings have shape "
            f"{tuple(emb.shape)}, expected {(R, c.embed_dim)}")
        _ok(bool(torch.isfinite(emb).all()) and (R == 0 or bool(
            ((emb.double().norm(dim=1) - 1).abs() < 1e-3).all())),
            "cue embeddings must be finite unit rows")
        _ok(isinstance(self.texts, list) and len(self.texts) == n,
            f"{len(self.texts) if isinstance(self.texts, list) else '?'} text records for "
            f"{n} memories")
        per_mem = self.rows_per_memory().tolist()
        for i, t in enumerate(self.texts):
            _ok(_text_ok(t, per_mem[i]),
                f"text record {i} must be null or {{cue: str, target: str or null, "
                f"paraphrases: [str]}} with one paraphrase per extra cue row ({per_mem[i]} cue "
                f"rows) and texts of 1-{MAX_TEXT} characters, got {str(t)[:80]!r}")
        self.w.validate()
        self._validate_contributions()

    def _validate_contributions(self) -> None:
        """Contributions: column-major entries of stored memories, values finite and > 0
        (:meth:`Contributions.validate`); every cue row's units are in its owner's vector (a
        row filed under another memory is caught); a cell store sums to them: every cell of W
        is a cell of S = Σ_i outer(target_i, v_i) and W <= S up to float rounding (W < S where
        pruning cut; a contribution filed under the wrong memory or zeroed leaves W above S).
        A factored W is S by construction."""
        D, n = self.config.code_dim, self.n
        self.contrib.validate(n)
        cols = self.contrib.cols().cpu().numpy()
        pos = self.contrib.mem.cpu().numpy().astype(np.int64)
        vals = self.contrib.vals.cpu().numpy()
        if self.n_rows:
            have = cols * max(n, 1) + pos                      # sorted (column, position)
            want = (self.row_codes.cpu().numpy().astype(np.int64) * max(n, 1)
                    + self.row_mem.cpu().numpy()[:, None]).reshape(-1)
            at = np.minimum(np.searchsorted(have, want), max(have.size - 1, 0))
            _ok(have.size > 0 and bool((have[at] == want).all()),
                "a cue row's units are missing from its memory's contributions (a cue row "
                "owned by the wrong memory?)")
        if not self.factored:
            _check_sums(self.w, cols, pos, vals, self.target_codes.cpu().numpy(), D)

    def state_dict(self) -> tuple[dict[str, torch.Tensor], dict]:
        """(tensors, JSON-able state): everything needed to rebuild the store."""
        tensors = {name: getattr(self, name).contiguous().cpu() for name in TENSORS}
        tensors["cue_emb"] = self.index.emb16().contiguous().cpu()
        tensors.update(self.w.state_dict())
        tensors.update(self.contrib.state_dict(self.ids))
        return tensors, {"texts": self.texts, "next_id": self.next_id, "day": self.day,
                         "w_form": "factored" if self.factored else "cells"}

    @classmethod
    def from_state_dict(cls, config: MemoryConfig, device: torch.device,
                        tensors: dict[str, torch.Tensor], state: dict) -> "MemoryStore":
        """Rebuild and :meth:`validate` a store; ValueError if anything is inconsistent.
        ``state["w_form"]``: "factored" (W is the contributions' sum; no cells saved) or
        "cells" (W's cells saved). A format-2 file (float32 rows, W always as cells) is
        converted: rows rounded to float16, and a sparse W whose cells are exactly what its
        contributions sum to becomes factored (see :meth:`adopt_factored`)."""
        s = cls.empty(config, device)
        n = tensors["ids"].shape[0] if tensors["ids"].dim() == 1 else -1
        R = tensors["row_mem"].shape[0] if tensors["row_mem"].dim() == 1 else -1
        k = config.k
        emb_dtype = tensors["cue_emb"].dtype
        want = {"ids": ((n,), torch.int64), "target_codes": ((n, k), torch.int32),
                "importance": ((n,), torch.float32), "days": ((n,), torch.int64),
                "in_replay": ((n,), torch.bool), "row_mem": ((R,), torch.int64),
                "row_codes": ((R, k), torch.int32),
                "cue_emb": ((R, config.embed_dim), emb_dtype)}
        _ok(emb_dtype in (torch.float16, torch.float32), "cue embeddings must be float16")
        for name, (shape, dtype) in want.items():
            _want(tensors[name], name, shape, dtype)
        dev = {"target_codes", "row_mem", "row_codes"}
        for name in TENSORS:
            setattr(s, name, tensors[name].to(device) if name in dev else tensors[name])
        ids = tensors["ids"]
        _ok(n == 0 or (int(ids[0]) >= 0 and bool((ids[1:] > ids[:-1]).all())),
            "ids must be >= 0, unique and strictly increasing")
        rm = tensors["row_mem"]
        _ok(R == 0 or (int(rm.min()) >= 0 and int(rm.max()) < n),
            "cue rows point to missing memories")
        for name in ("target_codes", "row_codes"):
            t = tensors[name]
            _ok(t.numel() == 0 or (int(t.min()) >= 0 and int(t.max()) < config.code_dim),
                f"{name} index units outside [0, code_dim={config.code_dim})")
        ck, cv = tensors["c_keys"], tensors["c_vals"]
        _want(ck, "c_keys", (ck.shape[0],), torch.int64)
        _want(cv, "c_vals", (ck.shape[0],), torch.float32)
        _check_contribution_keys(ck, ids, config.code_dim)
        s.contrib.load_state(ck, cv, ids)
        form = state.get("w_form", "cells")
        _ok(form in ("factored", "cells"), f"w_form must be 'factored' or 'cells', got "
                                           f"{str(form)[:20]!r}")
        if form == "factored":
            _ok(not is_dense(config.w_format, config.code_dim),
                "a dense W is saved as cells, not factored")
            _ok(tensors["w_keys"].numel() == 0, "a factored W saves no cells")
        else:
            cells = make_w(config.w_format, config.code_dim, device)
            cells.load_state(tensors)
            s.w = cells
        s.index.add16(tensors["cue_emb"].to(torch.float16).to(device))
        s.texts, s.next_id, s.day = state["texts"], state["next_id"], state["day"]
        s.validate()
        if "w_form" not in state:
            s.adopt_factored()
        return s

    def adopt_factored(self) -> bool:
        """A sparse cell store whose cells are what the contributions sum to (the same cells,
        values within float rounding: no cell was ever cut) becomes factored; returns whether
        it did. Format-2 files saved every W as cells."""
        if not isinstance(self.w, SparseW):
            return False
        ref = FactoredW(self)
        D = self.config.code_dim
        width = max(1, DENSE_SUMS // D)
        for c_lo in range(0, D, width):
            c_hi = min(c_lo + width, D)
            mine = list(self.w.cells_in_columns(c_lo, c_hi))
            theirs = list(ref.cells_in_columns(c_lo, c_hi))
            mk = torch.cat([p[0] for p in mine]) if mine else torch.zeros(0, dtype=torch.int64)
            mv = torch.cat([p[1] for p in mine]) if mine else torch.zeros(0)
            tk = torch.cat([p[0] for p in theirs]) if theirs else torch.zeros(0,
                                                                            dtype=torch.int64)
            tv = torch.cat([p[1] for p in theirs]) if theirs else torch.zeros(0)
            if not torch.equal(mk.cpu(), tk.cpu()) or not torch.allclose(
                    mv.cpu(), tv.cpu(), rtol=SUM_RTOL, atol=0.0):
                return False
        self.w = ref
        self.version += 1
        return True

    def nbytes(self) -> int:
        """Bytes of the per-memory and per-row arrays, the contributions and the postings
        cache (not W's cells, the rows or the projection: see ``HybridMemory.stats``)."""
        post = 0 if self._postings is None else sum(t.numel() * t.element_size()
                                                    for t in self._postings)
        return (self.row_codes.numel() + self.target_codes.numel()) * 4 \
            + self.n_rows * 8 + self.n * 21 + self.contrib.nbytes() + post
