"""HybridMemory: the engine every page, experiment and benchmark drives.

A memory is a cue (and optional paraphrase cue variants) pointing to a target. Each cue row
keeps its embedding (for Hopfield/cosine recall) and its k-WTA code; each memory keeps its
target code; W holds Σ lr · outer(target_code, cue_code) over all cue rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from . import consolidation, persistence
from .config import METHODS, TARGET_SEED_SALT, MemoryConfig
from .encoders import Encoder, check_texts, get_minilm_encoder
from .fastpath import hebbian_one, hopfield_one
from .functional import as_tensor, kwta_indices, normalize, perturb
from .hebbian import make_w
from .index import CueIndex
from .recall import cosine_recall, decode_codes, hebbian_recall, hopfield_recall, row_owners
from .separation import PatternSeparator
from .threads import single_thread


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was asked for but no CUDA device is available")
    return torch.device(name)


@dataclass
class HopfieldTrace:
    """What stage 2 did for one query: K candidates, attention (steps, K), energy (steps+1,)."""

    candidate_ids: np.ndarray
    stage1_scores: np.ndarray
    attention: np.ndarray
    energy: np.ndarray
    answer_id: int
    answer_score: float
    query: np.ndarray
    noisy_cosine: float


class HybridMemory(consolidation.ConsolidationMixin, persistence.PersistenceMixin):
    """Two-stage Hopfield + Hebbian memory. Batch-first API; ids are assigned automatically."""

    def __init__(self, config: MemoryConfig | None = None, encoder: Encoder | None = None):
        self.config = config or MemoryConfig()
        if not isinstance(self.config, MemoryConfig):
            raise ValueError(f"config must be a MemoryConfig, got {type(config).__name__}")
        self.device = resolve_device(self.config.device)
        self._encoder = encoder
        c = self.config
        self._sep = PatternSeparator(c.embed_dim, c.code_dim, c.k, c.seed, self.device)
        self._tsep = self._sep if c.target_projection == "shared" else PatternSeparator(
            c.embed_dim, c.code_dim, c.k, c.seed + TARGET_SEED_SALT, self.device)
        self._w = make_w(c.w_format, c.code_dim, self.device)
        self._index = CueIndex(c.embed_dim, self.device, c.index, c.ann_threshold, c.ann_nprobe)
        self._ids = torch.zeros(0, dtype=torch.long)
        self._target_codes = torch.zeros(0, c.k, dtype=torch.int32, device=self.device)
        self._importance = torch.zeros(0)
        self._day = torch.zeros(0, dtype=torch.long)
        self._in_replay = torch.zeros(0, dtype=torch.bool)
        self._row_mem = torch.zeros(0, dtype=torch.long, device=self.device)
        self._row_codes = torch.zeros(0, c.k, dtype=torch.int32, device=self.device)
        self._row_strength = torch.zeros(0)
        self._texts: list[dict | None] = []
        self._next_id = 0
        self.day = 0
        self._postings = None

    # --- helpers --------------------------------------------------------------------
    @property
    def _n_mem(self) -> int:
        return int(self._ids.shape[0])

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = get_minilm_encoder()
        return self._encoder

    def _vectors(self, x, what: str) -> torch.Tensor:
        """Validate (n, d) vectors (numpy or torch) and return unit rows on the device."""
        if isinstance(x, (list, tuple)) and len(x) == 0:
            raise ValueError(f"{what} is empty")
        try:
            t = as_tensor(x, self.device)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{what} must be an (n, {self.config.embed_dim}) array: {exc}")
        if t.dim() != 2 or t.shape[1] != self.config.embed_dim:
            raise ValueError(f"{what} must have shape (n, {self.config.embed_dim}), "
                             f"got {tuple(t.shape)}")
        if t.shape[0] == 0:
            raise ValueError(f"{what} is empty")
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"{what} contains NaN or infinite values")
        if bool((t.norm(dim=1) == 0).any()):
            raise ValueError(f"{what} contains an all-zero vector, which has no direction")
        return normalize(t)

    def _positions(self, ids) -> torch.Tensor:
        ids_t = torch.as_tensor(np.asarray(ids, dtype=np.int64).reshape(-1))
        pos = torch.searchsorted(self._ids, ids_t)
        ok = (pos < self._n_mem) & (self._ids[pos.clamp(max=max(self._n_mem - 1, 0))] == ids_t) \
            if self._n_mem else torch.zeros_like(ids_t, dtype=torch.bool)
        if not bool(ok.all()):
            raise KeyError(f"unknown memory ids: {ids_t[~ok].tolist()[:10]}")
        return pos

    # --- adding ---------------------------------------------------------------------
    def add(self, cues: Sequence[str], targets: Sequence[str] | None = None,
            paraphrases: Sequence[Sequence[str]] | None = None, importance=1.0,
            day: int | None = None) -> list[int]:
        """Store text memories; returns their ids. ``targets=None`` stores cue -> itself."""
        cues = check_texts(cues, "cues")
        if not cues:
            raise ValueError("cues is empty")
        if targets is not None:
            targets = check_texts(targets, "targets")
            if len(targets) != len(cues):
                raise ValueError(f"got {len(cues)} cues but {len(targets)} targets")
        paras = self._check_paraphrases(paraphrases, len(cues))
        flat = [p for ps in paras for p in ps]
        vecs = self.encoder(cues + (targets or []) + flat)
        n = len(cues)
        tvecs = vecs[n:2 * n] if targets is not None else None
        start = n + (n if targets is not None else 0)
        pvecs, off = [], start
        for ps in paras:
            pvecs.append(vecs[off:off + len(ps)] if ps else None)
            off += len(ps)
        texts = [{"cue": c, "target": targets[i] if targets else None, "paraphrases": paras[i]}
                 for i, c in enumerate(cues)]
        return self._add(vecs[:n], tvecs, pvecs, importance, day, texts)

    @staticmethod
    def _check_paraphrases(paraphrases, n: int) -> list[list[str]]:
        if paraphrases is None:
            return [[] for _ in range(n)]
        if len(paraphrases) != n:
            raise ValueError(f"got {n} cues but {len(paraphrases)} paraphrase lists")
        return [check_texts(list(p or []), f"paraphrases[{i}]") for i, p in enumerate(paraphrases)]

    def add_vectors(self, cues, targets=None, importance=1.0, paraphrases=None,
                    day: int | None = None) -> list[int]:
        """Store embedding memories: cues (n, d), targets (n, d) or None, paraphrases a list of
        n arrays (p_i, d) or None. Returns the new ids."""
        return self._add(cues, targets, paraphrases, importance, day, None)

    def _add(self, cues, targets, paraphrases, importance, day, texts) -> list[int]:
        c = self._vectors(cues, "cues")
        n = c.shape[0]
        t = None
        if targets is not None:
            t = self._vectors(targets, "targets")
            if t.shape[0] != n:
                raise ValueError(f"got {n} cues but {t.shape[0]} targets")
        if paraphrases is not None and len(paraphrases) != n:
            raise ValueError(f"got {n} cues but {len(paraphrases)} paraphrase arrays")
        extra = [self._vectors(p, f"paraphrases[{i}]") if p is not None and len(p) else None
                 for i, p in enumerate(paraphrases or [None] * n)]
        imp = self._check_importance(importance, n)
        day = self.day if day is None else day
        if not isinstance(day, (int, np.integer)) or day < 0:
            raise ValueError(f"day must be an int >= 0, got {day!r}")
        # every check passed: now change state
        rows = [c] + [e for e in extra if e is not None]
        local = torch.cat([torch.arange(n)] + [torch.full((e.shape[0],), i) for i, e in
                                                enumerate(extra) if e is not None])
        row_codes = self._sep.codes(torch.cat(rows))
        if t is not None:
            target_codes = self._tsep.codes(t)
        else:  # autoassociative: the target is the cue itself
            target_codes = row_codes[:n] if self._tsep is self._sep else self._tsep.codes(c)
        local = local.to(self.device)
        self._w.add(target_codes[local], row_codes, self.config.lr)
        base = self._n_mem
        ids = torch.arange(self._next_id, self._next_id + n)
        self._next_id += n
        self._ids = torch.cat([self._ids, ids])
        self._target_codes = torch.cat([self._target_codes, target_codes])
        self._importance = torch.cat([self._importance, imp])
        self._day = torch.cat([self._day, torch.full((n,), int(day))])
        self._in_replay = torch.cat([self._in_replay, torch.ones(n, dtype=torch.bool)])
        self._index.add(torch.cat(rows))
        self._row_mem = torch.cat([self._row_mem, local + base])
        self._row_codes = torch.cat([self._row_codes, row_codes])
        self._row_strength = torch.cat([self._row_strength,
                                        torch.full((row_codes.shape[0],), self.config.lr)])
        self._texts.extend(texts if texts is not None else [None] * n)
        self._postings = None
        return ids.tolist()

    @staticmethod
    def _check_importance(importance, n: int) -> torch.Tensor:
        imp = np.asarray(importance, dtype=np.float64).reshape(-1)
        if imp.size == 1:
            imp = np.full(n, imp[0])
        if imp.size != n or not np.all(np.isfinite(imp)) or np.any(imp <= 0):
            raise ValueError(f"importance must be one positive number or {n} of them, "
                             f"got {importance!r}")
        return torch.as_tensor(imp, dtype=torch.float32)

    # --- recall ---------------------------------------------------------------------
    def recall(self, queries: Sequence[str], k: int = 5, method: str = "hopfield",
               noise_std: float = 0.0, seed: int = 0):
        """Text queries -> (scores (m, k), ids (m, k)) numpy; ids -1 where none."""
        return self.recall_vectors(self.encoder(check_texts(queries, "queries")), k, method,
                                   noise_std, seed)

    def recall_vectors(self, queries, k: int = 5, method: str = "hopfield",
                       noise_std: float = 0.0, seed: int = 0):
        """Query vectors (m, d) -> (scores (m, k) float32, ids (m, k) int64) numpy arrays."""
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be an int >= 1, got {k!r}")
        q = perturb(self._vectors(queries, "queries"), noise_std, seed)
        if q.shape[0] == 1 and self.device.type == "cpu" and method != "cosine" \
                and not self._index.uses_ann():
            one = hopfield_one if method == "hopfield" else hebbian_one
            s, pos = one(self, q[0].numpy(), k)
            return s[None], self._to_ids(torch.from_numpy(pos)[None])
        with single_thread(q.shape[0] < 32 and self.device.type == "cpu"):
            if method == "hopfield":
                s, pos = hopfield_recall(self, q, k)[:2]
            elif method == "hebbian":
                s, pos = hebbian_recall(self, q, k)
            else:
                s, pos = cosine_recall(self, q, k)
        return s.numpy().astype(np.float32), self._to_ids(pos)

    def _to_ids(self, pos: torch.Tensor) -> np.ndarray:
        pos = pos.cpu()
        ids = torch.full_like(pos, -1)
        ok = pos >= 0
        ids[ok] = self._ids[pos[ok]]
        return ids.numpy()

    def settle_trace(self, query, noise_std: float = 0.0, seed: int = 0,
                     beta: float | None = None) -> HopfieldTrace:
        """Inspect Hopfield recall of one query (text or (d,) vector): stage-1 candidates,
        attention over them at every settling step, and the energy after each step.
        ``beta`` overrides the configured β for this trace only (teaching views)."""
        if beta is not None and not (isinstance(beta, (int, float)) and 0 < beta < float("inf")):
            raise ValueError(f"beta must be a finite number > 0, got {beta!r}")
        vec = self.encoder([query]) if isinstance(query, str) else np.asarray(query)[None]
        clean = self._vectors(vec.reshape(1, -1), "query")
        q = perturb(clean, noise_std, seed)
        s, pos, cand, settle = hopfield_recall(self, q, 1, trace=True, beta=beta)
        ids = self._to_ids(row_owners(self, cand.rows))[0]
        return HopfieldTrace(
            candidate_ids=ids, stage1_scores=cand.scores[0].cpu().numpy(),
            attention=torch.stack([a[0] for a in settle.attention]).cpu().numpy(),
            energy=torch.stack([e[0] for e in settle.energy]).cpu().numpy(),
            answer_id=int(self._to_ids(pos)[0, 0]), answer_score=float(s[0, 0]),
            query=q[0].cpu().numpy(), noisy_cosine=float((q[0] * clean[0]).sum()))

    def chain(self, start_id: int, hops: int = 6) -> list[tuple[int, float]]:
        """Follow W from memory ``start_id``'s cue: one (memory_id, cosine) per hop, where
        cosine compares the recalled code with that memory's target code."""
        if not isinstance(hops, (int, np.integer)) or hops < 1:
            raise ValueError(f"hops must be an int >= 1, got {hops!r}")
        pos = int(self._positions([start_id])[0])
        row = int((self._row_mem == pos).nonzero()[0, 0])
        code = self._row_codes[row:row + 1].long()
        steps = []
        with single_thread(self.device.type == "cpu"):
            for _ in range(hops):
                r = self._w.column_sums(code)
                code = kwta_indices(r, self.config.k)
                s, p = decode_codes(self, code, r, 1)
                steps.append((int(self._to_ids(p)[0, 0]), float(s[0, 0])))
        return steps

    def set_recall_params(self, **changes) -> MemoryConfig:
        """Change recall-only settings on a live memory (no rebuild): ``beta``, ``top_k``,
        ``max_steps``, ``eps``. Validated like :class:`MemoryConfig`; returns the new config.
        D, k, seed and lr change the stored codes or W and need a rebuild instead."""
        allowed = {"beta", "top_k", "max_steps", "eps"}
        bad = sorted(set(changes) - allowed)
        if bad:
            raise ValueError(f"only {sorted(allowed)} can change on a live memory, got {bad}")
        import dataclasses

        self.config = dataclasses.replace(self.config, **changes)
        return self.config

    def recall_codes(self, queries, hops: int = 1, noise_std: float = 0.0,
                     seed: int = 0) -> np.ndarray:
        """Query vectors (m, d) -> the code recalled after ``hops`` applications of W with
        k-WTA: (m, k) unit indices, ascending, live units first; -1 where fewer than k units
        have activity > 0 (a unit with no activity is never a winner). For the seed's metric,
        the cosine between a recalled code and a k-unit target code (:meth:`codes`) is
        overlap / sqrt(k · live units)."""
        if not isinstance(hops, (int, np.integer)) or not 1 <= hops <= 1000:
            raise ValueError(f"hops must be an int in [1, 1000], got {hops!r}")
        q = perturb(self._vectors(queries, "queries"), noise_std, seed)
        code = self._sep.codes(q).long()
        dead = torch.zeros(code.shape, dtype=torch.bool, device=code.device)
        with single_thread(self.device.type == "cpu"):
            for _ in range(hops):
                # a dead unit is sent to column 0 and column 0's share taken back out
                r = self._w.column_sums(code.masked_fill(dead, 0))
                n_dead = dead.sum(1, keepdim=True)
                if bool(n_dead.any()):
                    zero = torch.zeros(1, 1, dtype=torch.long, device=code.device)
                    r = r - n_dead.to(r.dtype) * self._w.column_sums(zero)
                code = kwta_indices(r, self.config.k)
                dead = r.gather(1, code) <= 0
        out = code.masked_fill(dead, -1).cpu().numpy().astype(np.int64)
        live_first = np.argsort(out < 0, axis=1, kind="stable")
        return np.take_along_axis(out, live_first, axis=1)

    def recall_stored(self, ids, k: int = 1):
        """Hebbian recall probed by memories' own stored primary cue codes (the noise-free
        probe of a stored cue, without projecting its embedding again): one application of W
        with k-WTA, decoded as :meth:`recall_vectors` does. Returns (scores (m, k), ids (m, k),
        recalled codes (m, code k) as :meth:`recall_codes` gives them, -1 for dead units)."""
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be an int >= 1, got {k!r}")
        code = torch.from_numpy(self.codes(ids)[0]).long().to(self.device)
        with single_thread(self.device.type == "cpu"):
            r = self._w.column_sums(code)
            code = kwta_indices(r, self.config.k)
            s, pos = decode_codes(self, code, r, k)
            dead = r.gather(1, code) <= 0
        out = code.masked_fill(dead, -1).cpu().numpy().astype(np.int64)
        live_first = np.argsort(out < 0, axis=1, kind="stable")
        return (s.numpy().astype(np.float32), self._to_ids(pos),
                np.take_along_axis(out, live_first, axis=1))

    # --- inspection -----------------------------------------------------------------
    def codes(self, ids) -> tuple[np.ndarray, np.ndarray]:
        """(primary cue codes (n, k), target codes (n, k)) of memories, as unit indices."""
        pos = self._positions(ids).to(self.device)
        first = torch.full((self._n_mem,), -1, dtype=torch.long, device=self.device)
        rows = torch.arange(self._row_mem.shape[0], device=self.device)
        first.scatter_reduce_(0, self._row_mem, rows, reduce="amin", include_self=False)
        return (self._row_codes[first[pos]].cpu().numpy(),
                self._target_codes[pos].cpu().numpy())

    def w_dense(self) -> np.ndarray:
        """W as a dense (D, D) array, for small code_dim teaching views only."""
        return self._w.to_dense().cpu().numpy()

    def stats(self) -> dict:
        w = self._w.stats()
        parts = {"cue_embeddings": self._index.nbytes(), "w": w["w_bytes"],
                 "projection": self._sep.nbytes() + (
                     self._tsep.nbytes() if self._tsep is not self._sep else 0),
                 "codes": (self._row_codes.numel() + self._target_codes.numel()) * 4,
                 "bookkeeping": self._row_mem.numel() * 12 + self._n_mem * 21}
        return {"n_memories": self._n_mem, "n_cues": int(self._row_mem.shape[0]),
                "w_norm": w["w_norm"], "w_nnz": w["w_nnz"], "w_sparsity": w["w_sparsity"],
                "w_format": self._w.format, "bytes": sum(parts.values()), "bytes_by_part": parts,
                "device": str(self.device), "code_dim": self.config.code_dim,
                "k": self.config.k, "day": self.day,
                "replay_size": int(self._in_replay.sum()),
                "index": "ivf" if self._index.uses_ann() else "flat"}

    def __len__(self) -> int:
        return self._n_mem

    def __contains__(self, memory_id) -> bool:
        try:
            self._positions([memory_id])
            return True
        except KeyError:
            return False

    def ids(self) -> list[int]:
        return self._ids.tolist()

    def records(self) -> list[dict]:
        """Every memory as :meth:`get` returns it, in id order, in one O(n + rows) pass."""
        n_cues = torch.bincount(self._row_mem.cpu(), minlength=self._n_mem).tolist()
        empty = {"cue": None, "target": None, "paraphrases": []}
        return [{"id": i, **(t or empty), "importance": imp, "day": d, "in_replay": r,
                 "n_cues": c} for i, t, imp, d, r, c in zip(
                    self._ids.tolist(), self._texts, self._importance.tolist(),
                    self._day.tolist(), self._in_replay.tolist(), n_cues)]

    def get(self, memory_id: int) -> dict:
        """One memory's texts (None for vector memories) and bookkeeping."""
        p = int(self._positions([memory_id])[0])
        t = self._texts[p] or {"cue": None, "target": None, "paraphrases": []}
        return {"id": int(memory_id), **t, "importance": float(self._importance[p]),
                "day": int(self._day[p]), "in_replay": bool(self._in_replay[p]),
                "n_cues": int((self._row_mem == p).sum())}

    def remove(self, ids) -> int:
        """Forget memories: their cue rows, target codes and their tracked share of W."""
        pos = self._positions(ids)
        drop = torch.zeros(self._n_mem, dtype=torch.bool)
        drop[pos] = True
        row_drop = drop.to(self.device)[self._row_mem]
        rd = row_drop.cpu()
        self._w.add(self._target_codes[self._row_mem[row_drop]], self._row_codes[row_drop],
                    -self._row_strength[rd].to(self.device))
        keep = ~drop
        new_pos = torch.cumsum(keep.long(), 0) - 1
        self._index.keep(~row_drop)
        self._row_mem = new_pos.to(self.device)[self._row_mem[~row_drop]]
        self._row_codes = self._row_codes[~row_drop]
        self._row_strength = self._row_strength[~rd]
        self._ids, self._importance = self._ids[keep], self._importance[keep]
        self._day, self._in_replay = self._day[keep], self._in_replay[keep]
        self._target_codes = self._target_codes[keep.to(self.device)]
        self._texts = [t for t, k in zip(self._texts, keep.tolist()) if k]
        self._postings = None
        return int(drop.sum())

