"""Sleep consolidation: replay buffer, homeostasis, pruning, selective clearing.

Functions over a :class:`~nuonuo_core.store.MemoryStore`. A night (``consolidate``, settings
in one :class:`Night`) runs ``epochs`` times: W *= homeostasis, replay the buffer
(importance-weighted, optionally with noise on the replayed cue embedding or on its code),
prune |w| < threshold.
Uniform scaling alone never changes which memory wins a recall; pruning, replay noise and
uneven replay do.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Callable

import torch

from .functional import kwta_indices, perturb
from .limits import LIMITS

POLICIES = ("priority", "recent", "random")
NOISE_ON = ("embedding", "code")
# keeps replay-noise seeds apart from the small seeds recall uses (torch's CPU generator only
# uses the low 32 bits of a seed, so the salt and the result stay below 2**32)
REPLAY_SEED_SALT = 0x5EED_C0DE
MAX_EPOCHS = LIMITS["epochs"].hi
MAX_REPLAYS = LIMITS["replays"].hi


def _each(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


@dataclass(frozen=True)
class Night:
    """One night of sleep: what :func:`consolidate` runs.

    Attributes:
        epochs: scale -> replay -> prune rounds in the night (0 = only the day advances).
        homeostasis: h, W *= h at the start of every epoch (1 = no scaling).
        prune_threshold: θ, cells with |w| < θ are cut after every epoch (0 = no pruning).
        replay_noise: σ of the noise on each replayed cue (0 = replay the stored cue code).
        replay_noise_on: "embedding" (normalise(x + σ·N(0, I)) on the d-dim cue, then coded
            afresh) or "code" (kWTA(code + σ·N(0, I)) on the stored binary code, the seed
            code's replay buffer of codes).
        lr: replay learning rate: a memory's replay adds lr · importance · outer(target, cue).
        replays: noisy copies of each replayed row (each with 1/replays of its weight).

    Sleep experiment configs subclass this and may turn a field into a tuple of values (a
    grid); every value of such a tuple is checked by the same ranges.
    """

    epochs: int = 5
    homeostasis: float = 0.95
    prune_threshold: float = 1e-3
    replay_noise: float = 0.0
    replay_noise_on: str = "embedding"
    lr: float = 1.0
    replays: int = 1

    def __post_init__(self) -> None:
        if type(self) is Night:
            bad = [f.name for f in dataclasses.fields(self)
                   if isinstance(getattr(self, f.name), tuple)]
            if bad:
                raise ValueError(f"a Night takes one value per setting, got tuples for {bad}")
        for name in ("epochs", "replays", "homeostasis", "prune_threshold", "replay_noise",
                     "lr"):                    # ranges from the one limits table
            for v in _each(getattr(self, name)):
                LIMITS[name].check(v)
        for v in _each(self.replay_noise_on):
            if v not in NOISE_ON:
                raise ValueError(f"replay_noise_on must be one of {NOISE_ON}, got {v!r}")

    def night(self, **changes) -> "Night":
        """The plain :class:`Night` of this config's night fields (a subclass's tuple fields
        must be given a single value in ``changes``)."""
        names = [f.name for f in dataclasses.fields(Night)]
        return Night(**{**{n: getattr(self, n) for n in names}, **changes})


#: the no-sleep baseline: the day advances, W is untouched (h = 1, no pruning; no replay)
NO_SLEEP = Night(epochs=0, homeostasis=1.0, prune_threshold=0.0)


def consolidate(store, sep, night: Night | None = None, *, replay: bool = True, seed: int = 0,
                progress: Callable[[int, int], None] | None = None, **settings) -> list[dict]:
    """One night of sleep over a :class:`~nuonuo_core.store.MemoryStore` (``sep`` codes the
    noisy replays). ``night`` holds the settings (or give them as keywords: ``epochs=3``,
    ``homeostasis=0.9``, ... build a :class:`Night`). Each epoch: W *= homeostasis; every
    buffered memory (when ``replay``) is replayed with weight lr · importance shared by its cue
    rows (noisy: ``replays`` noisy copies of each row, each with 1/replays of the weight, so a
    night's cost does not depend on the importance values); cells below ``prune_threshold``
    are cut. Returns one record per epoch (W-norm, nnz, sparsity, replayed, pruned, and
    ‖W‖ after the scaling and after the replay of that epoch: ``w_norm_scaled``,
    ``w_norm_replayed``); the store's day advances by one."""
    if night is None:
        night = Night(**settings)
    elif settings:
        night = dataclasses.replace(night, **settings)
    if not isinstance(night, Night):
        raise ValueError(f"night must be a Night, got {type(night).__name__}")
    night = night.night() if type(night) is not Night else night
    store.check_night()  # before anything changes: the clock must have a next day
    dev = store.device
    rows = torch.nonzero(store.in_replay.to(dev)[store.row_mem]).squeeze(1) \
        if replay else torch.zeros(0, dtype=torch.long, device=dev)
    mem_pos = store.row_mem[rows]
    importance = store.importance.to(dev)[mem_pos]
    # a memory's replay weight is its importance, shared by its cue rows (paraphrases)
    rows_per_mem = store.rows_per_memory().to(dev)
    weight = night.lr * importance / rows_per_mem[mem_pos].to(importance.dtype)
    report = []
    norm = store.w.stats()["w_norm"] if night.epochs else 0.0
    for epoch in range(night.epochs):
        store.scale(night.homeostasis)
        scaled = norm * night.homeostasis          # ‖hW‖ = h‖W‖
        if rows.numel():
            rseed = (REPLAY_SEED_SALT + seed * 1_000_003 + store.day * 1009 + epoch) % 2**32
            _replay(store, sep, rows, mem_pos, weight, night, rseed)
        replayed = store.w.stats()["w_norm"] if rows.numel() else scaled
        pruned = store.prune(night.prune_threshold)
        w = store.w.stats()
        norm = w["w_norm"]
        # ‖W‖ after each step of the epoch: what homeostasis, replay and pruning each changed
        report.append({"night": store.day, "epoch": epoch + 1, "w_norm": w["w_norm"],
                       "w_nnz": w["w_nnz"], "w_sparsity": w["w_sparsity"],
                       "replayed": int(torch.unique(mem_pos).numel()), "pruned": pruned,
                       "w_norm_scaled": scaled, "w_norm_replayed": replayed})
        if progress is not None:
            progress(epoch + 1, night.epochs)
    store.advance_day()
    return report


def noisy_codes(codes: torch.Tensor, code_dim: int, noise: float, seed: int,
                chunk: int = 256) -> torch.Tensor:
    """kWTA(code + noise · N(0, I)): binary codes given as index rows (n, k) -> (n, k) int32
    index rows of the noisy codes (noise drawn on the CPU from ``seed``)."""
    n, k = codes.shape
    gen = torch.Generator().manual_seed(int(seed))
    out = torch.empty_like(codes)
    for s in range(0, n, chunk):
        part = codes[s:s + chunk].long()
        dense = noise * torch.randn(part.shape[0], code_dim, generator=gen)
        dense = dense.to(codes.device)
        dense.scatter_add_(1, part, torch.ones_like(part, dtype=dense.dtype))
        out[s:s + chunk] = kwta_indices(dense, k).to(codes.dtype)
    return out


def _replay(store, sep, rows, mem_pos, weight, night: Night, seed: int) -> None:
    noise, replays = night.replay_noise, night.replays
    if noise == 0:  # replaying r times without noise = one replay with r× the weight
        store.reinforce(mem_pos, store.row_codes[rows], weight)
        return
    rep_rows = rows.repeat_interleave(replays) if replays > 1 else rows
    if night.replay_noise_on == "code":
        codes = noisy_codes(store.row_codes[rep_rows], sep.code_dim, noise, seed)
    else:
        codes = sep.codes(perturb(store.index.rows(rep_rows), noise, seed))
    rep_pos = mem_pos.repeat_interleave(replays) if replays > 1 else mem_pos
    rep_w = (weight / replays).repeat_interleave(replays) if replays > 1 else weight
    store.reinforce(rep_pos, codes, rep_w)


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
