"""Finding 4 - sleep consolidation, scenarios (a)-(c) of the seed's Experiment 3
((d) and (e) are in :mod:`.sleep_decay`, the phase map in :mod:`.sleep_phase`).

Consolidation only touches W, so every recall here is *Hebbian* (cue code -> W -> k-WTA ->
nearest target code); Hopfield and cosine recall read the stored embeddings and are untouched
by sleep. Uniform scaling (homeostasis) never changes which memory wins a Hebbian recall;
what does is pruning (cells that fall below ``prune_threshold`` vanish), noise on the
replayed cue, and uneven replay (importance, a cleared buffer).

Every row carries ``recall_at_1`` (strict: a pruned-away W scores 0), the seed's metric
``code_cos`` / ``rate`` (see :mod:`.sleep_common`) and the parameters it ran with. ``PRESETS``
holds the seed's settings: ``python -m nuonuo_core.experiments sleep_basic --preset seed``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nuonuo_core.blas import with_one_blas_thread

from . import Progress, check, check_range
from .sleep_common import (SEED_CODES, check_sleep, make_memory, score,
                           store_pairs, w_stats)

ARMS_C = ("replay_all", "clear_priority", "clear_recent", "clear_random", "no_replay")
PRESETS = {
    "sleep_basic": {"seed": {"n_pairs": (100, 500), "epochs": (1, 3, 5, 10),
                             "homeostasis": 0.95, "prune_threshold": 1e-3,
                             "test_noise": (0.0,), **SEED_CODES}},
    "sleep_noisy_replay": {"seed": {"n_pairs": 100, "replay_noise": (0.0, 0.1, 0.5, 1.0),
                                    "test_noise": (0.0, 0.05, 0.1, 0.2), "epochs": 5,
                                    "homeostasis": 0.95, "prune_threshold": 1e-3,
                                    **SEED_CODES}},
    "sleep_multi_night": {"seed": {"n_per_day": 100, "nights": 7, "epochs": 5,
                                   "homeostasis": 0.95, "prune_threshold": 1e-3,
                                   "keep_fraction": 0.3, "importance_levels": (1.0,),
                                   "test_noise": 0.0, **SEED_CODES}},
}


# --- (a) basic effect -----------------------------------------------------------------
@dataclass(frozen=True)
class BasicConfig:
    n_pairs: tuple[int, ...] = (100, 500)
    epochs: tuple[int, ...] = (1, 3, 5, 10)
    homeostasis: float = 0.95
    prune_threshold: float = 1e-3
    test_noise: tuple[float, ...] = (0.0, 0.05)
    code_dim: int = 4096
    target_projection: str = "shared"
    k: int = 20

    def __post_init__(self) -> None:
        check_sleep(self)
        check_range(self, "n_pairs", 1)


@with_one_blas_thread
def run_basic(cfg: BasicConfig, seed: int = 0, progress: Progress = None) -> list[dict]:
    """Rows: (n_pairs, epochs, phase before/after, test_noise) -> recall, W-norm, sparsity."""
    rows, jobs = [], [(n, e) for n in cfg.n_pairs for e in cfg.epochs]
    for j, (n, epochs) in enumerate(jobs):
        mem = make_memory(cfg, seed)
        ids, cues = store_pairs(mem, n, seed)
        for phase in ("before", "after"):
            if phase == "after":
                mem.consolidate(epochs=epochs, homeostasis=cfg.homeostasis,
                                prune_threshold=cfg.prune_threshold, seed=seed)
            w = w_stats(mem)
            for tn in cfg.test_noise:
                rows.append({"n_pairs": n, "epochs": epochs, "phase": phase, "test_noise": tn,
                             **score(mem, cues, ids, tn, seed + 3),
                             **w, "homeostasis": cfg.homeostasis,
                             "prune_threshold": cfg.prune_threshold, "code_dim": cfg.code_dim,
                             "k": cfg.k})
        if progress is not None:
            progress(j + 1, len(jobs))
    return rows


# --- (b) noisy replay -----------------------------------------------------------------
@dataclass(frozen=True)
class NoisyReplayConfig:
    n_pairs: int = 200
    replay_noise: tuple[float, ...] = (0.0, 0.02, 0.1, 0.5, 1.0)
    test_noise: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2)
    epochs: int = 5
    homeostasis: float = 0.95
    prune_threshold: float = 1e-3
    code_dim: int = 4096
    target_projection: str = "shared"
    k: int = 20

    def __post_init__(self) -> None:
        check_sleep(self)
        check_range(self, "n_pairs", 1)
        check_range(self, "replay_noise", 0.0, 10.0)


@with_one_blas_thread
def run_noisy_replay(cfg: NoisyReplayConfig, seed: int = 0,
                     progress: Progress = None) -> list[dict]:
    """Rows: (replay_noise, test_noise) -> recall after one night; replay_noise = NaN marks
    the unconsolidated baseline."""
    rows, arms = [], (float("nan"),) + cfg.replay_noise
    for j, rn in enumerate(arms):
        mem = make_memory(cfg, seed)
        ids, cues = store_pairs(mem, cfg.n_pairs, seed)
        if rn == rn:  # not NaN: consolidate with this replay noise
            mem.consolidate(epochs=cfg.epochs, replay_noise=rn, homeostasis=cfg.homeostasis,
                            prune_threshold=cfg.prune_threshold, seed=seed)
        w = w_stats(mem)
        for tn in cfg.test_noise:
            rows.append({"replay_noise": rn, "consolidated": rn == rn, "test_noise": tn,
                         **score(mem, cues, ids, tn, seed + 3),
                         **w, "n_pairs": cfg.n_pairs, "epochs": cfg.epochs,
                         "homeostasis": cfg.homeostasis, "prune_threshold": cfg.prune_threshold,
                         "code_dim": cfg.code_dim, "k": cfg.k})
        if progress is not None:
            progress(j + 1, len(arms))
    return rows


# --- (c) multi-night survival ---------------------------------------------------------
@dataclass(frozen=True)
class MultiNightConfig:
    n_per_day: int = 100
    nights: int = 7
    epochs: int = 5
    homeostasis: float = 0.9
    prune_threshold: float = 0.1
    keep_fraction: float = 0.3
    arms: tuple[str, ...] = ARMS_C
    importance_levels: tuple[float, ...] = (1.0, 2.0, 3.0)
    test_noise: float = 0.0
    code_dim: int = 4096
    target_projection: str = "shared"
    k: int = 20

    def __post_init__(self) -> None:
        check_sleep(self)
        check_range(self, "n_per_day", 1)
        check_range(self, "keep_fraction", 0.0, 1.0)
        check_range(self, "importance_levels", 1e-6)
        for a in self.arms:
            check(a in ARMS_C, f"arms must be from {ARMS_C}, got {a!r}")


@with_one_blas_thread
def run_multi_night(cfg: MultiNightConfig, seed: int = 0,
                    progress: Progress = None) -> list[dict]:
    """Day 1's memories are tracked while a new day is learned before every later night.
    Clearing arms keep ``keep_fraction`` of the replay buffer after each night."""
    rows, total = [], len(cfg.arms) * cfg.nights
    rng = np.random.default_rng(seed + 7)
    imps = [rng.choice(cfg.importance_levels, cfg.n_per_day) for _ in range(cfg.nights)]
    for a, arm in enumerate(cfg.arms):
        mem = make_memory(cfg, seed)
        day1, cues1 = store_pairs(mem, cfg.n_per_day, seed, imps[0])
        for night in range(1, cfg.nights + 1):
            if night > 1:
                latest, latest_cues = store_pairs(mem, cfg.n_per_day, seed + night, imps[night - 1])
            else:
                latest, latest_cues = day1, cues1
            in_buf = {r["id"] for r in mem.replay_buffer()}
            mem.consolidate(epochs=cfg.epochs, homeostasis=cfg.homeostasis,
                            prune_threshold=cfg.prune_threshold, replay=arm != "no_replay",
                            seed=seed)
            if arm.startswith("clear_"):
                mem.clear_replay(cfg.keep_fraction, arm[len("clear_"):], seed=seed + night)
            rows.append({"arm": arm, "night": night,
                         **{f"day1_{k}": v for k, v in score(
                             mem, cues1, day1, cfg.test_noise, seed + 3).items()},
                         **{f"latest_day_{k}": v for k, v in score(
                             mem, latest_cues, latest, cfg.test_noise,
                             seed + 3).items()},
                         "day1_replayed_fraction": float(np.mean([i in in_buf for i in day1]))
                         if arm != "no_replay" else 0.0,
                         "replay_size": len(mem.replay_buffer()), **w_stats(mem),
                         "n_per_day": cfg.n_per_day, "epochs": cfg.epochs,
                         "homeostasis": cfg.homeostasis, "prune_threshold": cfg.prune_threshold,
                         "keep_fraction": cfg.keep_fraction if arm.startswith("clear_") else 1.0,
                         "test_noise": cfg.test_noise, "code_dim": cfg.code_dim, "k": cfg.k})
            if progress is not None:
                progress(a * cfg.nights + night, total)
    return rows


