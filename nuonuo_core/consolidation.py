"""Sleep consolidation: replay buffer, homeostasis, pruning, selective clearing.

Functions over a :class:`~nuonuo_core.store.MemoryStore`. A night (``consolidate``) runs
``epochs`` times: W *= homeostasis, replay the buffer (importance-weighted, optionally with
noise on the replayed cue), prune |w| < threshold.
Uniform scaling alone never changes which memory wins a recall; pruning, replay noise and
uneven replay do.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from .functional import perturb
from .limits import LIMITS

POLICIES = ("priority", "recent", "random")
# keeps replay-noise seeds apart from the small seeds recall uses (torch's CPU generator only
# uses the low 32 bits of a seed, so the salt and the result stay below 2**32)
REPLAY_SEED_SALT = 0x5EED_C0DE
MAX_EPOCHS = LIMITS["epochs"].hi
MAX_REPLAYS = LIMITS["replays"].hi


def consolidate(store, sep, epochs: int = 5, replay_noise: float = 0.0,
                homeostasis: float = 0.95, prune_threshold: float = 1e-3, lr: float = 1.0,
                replay: bool = True, seed: int = 0, replays: int = 1,
                progress: Callable[[int, int], None] | None = None) -> list[dict]:
    """One night of sleep over a :class:`~nuonuo_core.store.MemoryStore` (``sep`` codes the
    noisy replays). Each epoch: W *= homeostasis; every buffered memory is replayed with
    weight lr · importance shared by its cue rows (noisy: ``replays`` noisy copies of each
    row, each with 1/replays of the weight, so a night's cost does not depend on the
    importance values); cells below ``prune_threshold`` are cut. Returns one record per
    epoch (W-norm, nnz, sparsity, replayed, pruned); the store's day advances by one."""
    epochs, replays = LIMITS["epochs"].check(epochs), LIMITS["replays"].check(replays)
    replay_noise = LIMITS["replay_noise"].check(replay_noise)
    homeostasis = LIMITS["homeostasis"].check(homeostasis)
    prune_threshold = LIMITS["prune_threshold"].check(prune_threshold)
    lr = LIMITS["lr"].check(lr)
    store.check_night()  # before anything changes: the clock must have a next day
    dev = store.device
    rows = torch.nonzero(store.in_replay.to(dev)[store.row_mem]).squeeze(1) \
        if replay else torch.zeros(0, dtype=torch.long, device=dev)
    mem_pos = store.row_mem[rows]
    importance = store.importance.to(dev)[mem_pos]
    # a memory's replay weight is its importance, shared by its cue rows (paraphrases)
    rows_per_mem = store.rows_per_memory().to(dev)
    weight = lr * importance / rows_per_mem[mem_pos].to(importance.dtype)
    report = []
    for epoch in range(epochs):
        store.scale(homeostasis)
        if rows.numel():
            rseed = (REPLAY_SEED_SALT + seed * 1_000_003 + store.day * 1009 + epoch) % 2**32
            _replay(store, sep, rows, mem_pos, weight, replay_noise, replays, rseed)
        pruned = store.w.prune(prune_threshold) if prune_threshold > 0 else 0
        w = store.w.stats()
        report.append({"night": store.day, "epoch": epoch + 1, "w_norm": w["w_norm"],
                       "w_nnz": w["w_nnz"], "w_sparsity": w["w_sparsity"],
                       "replayed": int(torch.unique(mem_pos).numel()), "pruned": pruned})
        if progress is not None:
            progress(epoch + 1, epochs)
    store.advance_day()
    return report


def _replay(store, sep, rows, mem_pos, weight, noise: float, replays: int, seed: int) -> None:
    if noise == 0:  # replaying r times without noise = one replay with r× the weight
        store.reinforce(mem_pos, store.row_codes[rows], weight)
        return
    rep_rows = rows.repeat_interleave(replays) if replays > 1 else rows
    cues = perturb(store.index.emb[rep_rows], noise, seed)
    rep_pos = mem_pos.repeat_interleave(replays) if replays > 1 else mem_pos
    rep_w = (weight / replays).repeat_interleave(replays) if replays > 1 else weight
    store.reinforce(rep_pos, sep.codes(cues), rep_w)


def clear_replay(store, keep_fraction: float, policy: str = "priority", seed: int = 0) -> int:
    """Keep ``keep_fraction`` of the replay buffer, chosen by ``policy`` ("priority": most
    important, "recent": latest day, "random"); returns how many stay."""
    keep_fraction = LIMITS["keep_fraction"].check(keep_fraction)
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
    buf = torch.nonzero(store.in_replay).squeeze(1)
    n_keep = int(math.ceil(keep_fraction * buf.numel() - 1e-9))
    if policy == "random":
        gen = torch.Generator().manual_seed(seed)
        chosen = buf[torch.randperm(buf.numel(), generator=gen)[:n_keep]]
    else:
        primary = store.importance[buf] if policy == "priority" else store.days[buf].float()
        secondary = store.days[buf].float() if policy == "priority" else store.importance[buf]
        # sort by secondary, then stable by primary: ties on primary go to secondary
        order = torch.argsort(-secondary, stable=True)
        order = order[torch.argsort(-primary[order], stable=True)]
        chosen = buf[order[:n_keep]]
    store.set_replay(chosen)
    return n_keep


def replay_buffer(store) -> list[dict]:
    """The memories waiting to be replayed: id, importance, day."""
    idx = torch.nonzero(store.in_replay).squeeze(1)
    return [{"id": int(store.ids[i]), "importance": float(store.importance[i]),
             "day": int(store.days[i])} for i in idx.tolist()]
