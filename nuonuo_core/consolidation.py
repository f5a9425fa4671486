"""Sleep consolidation: replay buffer, homeostasis, pruning, selective clearing.

A night (``consolidate``) runs ``epochs`` times: W *= homeostasis, replay the buffer
(importance-weighted, optionally with noise on the replayed cue), prune |w| < threshold.
Uniform scaling alone never changes which memory wins a recall; pruning, replay noise and
uneven replay do.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

from .functional import perturb

POLICIES = ("priority", "recent", "random")
# keeps replay-noise seeds apart from the small seeds recall uses (torch's CPU generator only
# uses the low 32 bits of a seed, so the salt and the result stay below 2**32)
REPLAY_SEED_SALT = 0x5EED_C0DE


def _number(value, name: str, lo: float, hi: float | None = None, lo_open=False) -> float:
    ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool) \
        and math.isfinite(value) and (value > lo if lo_open else value >= lo) \
        and (hi is None or value <= hi)
    if not ok:
        rng = f"({lo}, {hi}]" if lo_open else f"[{lo}, {hi if hi is not None else 'inf'})"
        raise ValueError(f"{name} must be a finite number in {rng}, got {value!r}")
    return float(value)


class ConsolidationMixin:
    """Adds ``consolidate``, ``clear_replay`` and ``replay_buffer`` to HybridMemory."""

    def consolidate(self, epochs: int = 5, replay_noise: float = 0.0, homeostasis: float = 0.95,
                    prune_threshold: float = 1e-3, lr: float = 1.0, replay: bool = True,
                    seed: int = 0, progress: Callable[[int, int], None] | None = None
                    ) -> list[dict]:
        """One night of sleep. Returns one record per epoch (W-norm, nnz, sparsity, replayed,
        pruned); the memory's day advances by one."""
        if not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"epochs must be an int >= 0, got {epochs!r}")
        replay_noise = _number(replay_noise, "replay_noise", 0.0)
        homeostasis = _number(homeostasis, "homeostasis", 0.0, 1.0, lo_open=True)
        prune_threshold = _number(prune_threshold, "prune_threshold", 0.0)
        lr = _number(lr, "lr", 0.0, lo_open=True)
        rows = torch.nonzero(self._in_replay.to(self.device)[self._row_mem]).squeeze(1) \
            if replay else torch.zeros(0, dtype=torch.long, device=self.device)
        mem_pos = self._row_mem[rows]
        importance = self._importance.to(self.device)[mem_pos]
        reps = torch.ceil(importance).long().clamp(min=1)
        # a memory's replay weight is its importance, shared by its cue rows (paraphrases)
        rows_per_mem = torch.bincount(self._row_mem, minlength=self._n_mem)
        imp = importance / rows_per_mem[mem_pos].to(importance.dtype)
        report = []
        for epoch in range(epochs):
            self._w.scale(homeostasis)
            self._row_strength *= homeostasis
            if rows.numel():
                rseed = (REPLAY_SEED_SALT + seed * 1_000_003 + self.day * 1009 + epoch) % 2**32
                self._replay(rows, mem_pos, imp, reps, replay_noise, lr, rseed)
            pruned = self._w.prune(prune_threshold) if prune_threshold > 0 else 0
            w = self._w.stats()
            report.append({"night": self.day, "epoch": epoch + 1, "w_norm": w["w_norm"],
                           "w_nnz": w["w_nnz"], "w_sparsity": w["w_sparsity"],
                           "replayed": int(torch.unique(mem_pos).numel()), "pruned": pruned})
            if progress is not None:
                progress(epoch + 1, epochs)
        self.day += 1
        return report

    def _replay(self, rows, mem_pos, imp, reps, noise: float, lr: float, seed: int) -> None:
        targets = self._target_codes[mem_pos]
        if noise == 0:  # replaying r times without noise = one replay with r× the weight
            self._w.add(targets, self._row_codes[rows], lr * imp)
        else:  # ceil(importance) noisy replays, each with weight lr·importance/replays
            rep_rows = torch.repeat_interleave(rows, reps)
            cues = perturb(self._index.emb[rep_rows], noise, seed)
            weight = torch.repeat_interleave(lr * imp / reps, reps)
            self._w.add(torch.repeat_interleave(targets, reps, dim=0), self._sep.codes(cues),
                        weight)
        self._row_strength[rows.cpu()] += (lr * imp).cpu()

    def clear_replay(self, keep_fraction: float, policy: str = "priority", seed: int = 0) -> int:
        """Keep ``keep_fraction`` of the replay buffer, chosen by ``policy`` ("priority": most
        important, "recent": latest day, "random"); returns how many stay."""
        keep_fraction = _number(keep_fraction, "keep_fraction", 0.0, 1.0)
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
        buf = torch.nonzero(self._in_replay).squeeze(1)
        n_keep = int(math.ceil(keep_fraction * buf.numel() - 1e-9))
        if policy == "random":
            gen = torch.Generator().manual_seed(seed)
            chosen = buf[torch.randperm(buf.numel(), generator=gen)[:n_keep]]
        else:
            primary = self._importance[buf] if policy == "priority" else self._day[buf].float()
            secondary = self._day[buf].float() if policy == "priority" else self._importance[buf]
            # sort by secondary, then stable by primary: ties on primary go to secondary
            order = torch.argsort(-secondary, stable=True)
            order = order[torch.argsort(-primary[order], stable=True)]
            chosen = buf[order[:n_keep]]
        self._in_replay[:] = False
        self._in_replay[chosen] = True
        return n_keep

    def replay_buffer(self) -> list[dict]:
        """The memories waiting to be replayed: id, importance, day."""
        idx = torch.nonzero(self._in_replay).squeeze(1)
        return [{"id": int(self._ids[i]), "importance": float(self._importance[i]),
                 "day": int(self._day[i])} for i in idx.tolist()]

    def set_importance(self, ids, importance) -> None:
        """Change the replay priority of stored memories."""
        pos = self._positions(ids)
        self._importance[pos] = self._check_importance(importance, pos.numel())
