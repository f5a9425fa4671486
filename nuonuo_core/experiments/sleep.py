"""Finding 4 - sleep consolidation, the five scenarios (a)-(e) of the reported experiment.

Consolidation only touches W, so every recall here is *Hebbian* recall@1 (cue code -> W ->
k-WTA -> nearest target code); Hopfield and cosine recall read the stored embeddings and
are untouched by sleep. Uniform scaling (homeostasis) never changes which memory wins a
Hebbian recall; what does is pruning (cells that fall below ``prune_threshold`` vanish),
noise on the replayed cue, and uneven replay (importance, a cleared buffer). The configs
make that explicit: forgetting needs a prune threshold the decayed cells actually cross.
Rows report ``recall_at_1`` (top-1 is right) and ``recall_strict`` (right and the recalled
code shares >= half its units with the target): decoding still names the right memory
from a single surviving W cell, so forgetting is judged by the strict measure.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nuonuo_core import HybridMemory, MemoryConfig

from . import Progress, check, check_range, recall_pair, unit_vectors, validate_fields

ARMS_C = ("replay_all", "clear_priority", "clear_recent", "clear_random", "no_replay")
ARMS_E = ("replay", "no_replay", "no_replay_no_prune")


def _memory(code_dim: int, k: int, seed: int) -> HybridMemory:
    return HybridMemory(MemoryConfig(code_dim=code_dim, k=k, seed=seed, device="cpu",
                                     w_format="sparse"))


def _pairs(mem: HybridMemory, n: int, seed: int, importance=1.0):
    """Store n random pairs; return (ids (n,), cues (n, 384))."""
    cues = unit_vectors(n, 384, seed)
    ids = np.asarray(mem.add_vectors(cues, unit_vectors(n, 384, seed + 50_000),
                                     importance=importance))
    return ids, cues


def _w(mem: HybridMemory) -> dict:
    s = mem.stats()
    return {"w_norm": s["w_norm"], "w_nnz": s["w_nnz"], "w_sparsity": s["w_sparsity"]}


def _check_sleep(cfg) -> None:
    validate_fields(cfg)
    check_range(cfg, "homeostasis", 1e-6, 1.0)
    check_range(cfg, "prune_threshold", 0.0)
    check_range(cfg, "code_dim", max(cfg.k, 2))
    check_range(cfg, "k", 1)
    check_range(cfg, "test_noise", 0.0, 10.0)
    for name in ("epochs", "nights"):
        if hasattr(cfg, name):
            check_range(cfg, name, 0 if name == "epochs" else 1, 10_000)


# --- (a) basic effect -----------------------------------------------------------------
@dataclass(frozen=True)
class BasicConfig:
    n_pairs: tuple[int, ...] = (100, 500)
    epochs: tuple[int, ...] = (1, 3, 5, 10)
    homeostasis: float = 0.95
    prune_threshold: float = 1e-3
    test_noise: tuple[float, ...] = (0.0, 0.05)
    code_dim: int = 4096
    k: int = 20

    def __post_init__(self) -> None:
        _check_sleep(self)
        check_range(self, "n_pairs", 1)


def run_basic(cfg: BasicConfig, seed: int = 0, progress: Progress = None) -> list[dict]:
    """Rows: (n_pairs, epochs, phase before/after, test_noise) -> recall, W-norm, sparsity."""
    rows, jobs = [], [(n, e) for n in cfg.n_pairs for e in cfg.epochs]
    for j, (n, epochs) in enumerate(jobs):
        mem = _memory(cfg.code_dim, cfg.k, seed)
        ids, cues = _pairs(mem, n, seed)
        for phase in ("before", "after"):
            if phase == "after":
                mem.consolidate(epochs=epochs, homeostasis=cfg.homeostasis,
                                prune_threshold=cfg.prune_threshold, seed=seed)
            w = _w(mem)
            for tn in cfg.test_noise:
                rows.append({"n_pairs": n, "epochs": epochs, "phase": phase, "test_noise": tn,
                             **recall_pair(mem, cues, ids, "hebbian", tn, seed + 3),
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
    k: int = 20

    def __post_init__(self) -> None:
        _check_sleep(self)
        check_range(self, "n_pairs", 1)
        check_range(self, "replay_noise", 0.0, 10.0)


def run_noisy_replay(cfg: NoisyReplayConfig, seed: int = 0,
                     progress: Progress = None) -> list[dict]:
    """Rows: (replay_noise, test_noise) -> recall after one night; replay_noise = NaN marks
    the unconsolidated baseline."""
    rows, arms = [], (float("nan"),) + cfg.replay_noise
    for j, rn in enumerate(arms):
        mem = _memory(cfg.code_dim, cfg.k, seed)
        ids, cues = _pairs(mem, cfg.n_pairs, seed)
        if rn == rn:  # not NaN: consolidate with this replay noise
            mem.consolidate(epochs=cfg.epochs, replay_noise=rn, homeostasis=cfg.homeostasis,
                            prune_threshold=cfg.prune_threshold, seed=seed)
        w = _w(mem)
        for tn in cfg.test_noise:
            rows.append({"replay_noise": rn, "consolidated": rn == rn, "test_noise": tn,
                         **recall_pair(mem, cues, ids, "hebbian", tn, seed + 3),
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
    k: int = 20

    def __post_init__(self) -> None:
        _check_sleep(self)
        check_range(self, "n_per_day", 1)
        check_range(self, "keep_fraction", 0.0, 1.0)
        check_range(self, "importance_levels", 1e-6)
        for a in self.arms:
            check(a in ARMS_C, f"arms must be from {ARMS_C}, got {a!r}")


def run_multi_night(cfg: MultiNightConfig, seed: int = 0,
                    progress: Progress = None) -> list[dict]:
    """Day 1's memories are tracked while a new day is learned before every later night.
    Clearing arms keep ``keep_fraction`` of the replay buffer after each night."""
    rows, total = [], len(cfg.arms) * cfg.nights
    rng = np.random.default_rng(seed + 7)
    imps = [rng.choice(cfg.importance_levels, cfg.n_per_day) for _ in range(cfg.nights)]
    for a, arm in enumerate(cfg.arms):
        mem = _memory(cfg.code_dim, cfg.k, seed)
        day1, cues1 = _pairs(mem, cfg.n_per_day, seed, imps[0])
        for night in range(1, cfg.nights + 1):
            if night > 1:
                latest, latest_cues = _pairs(mem, cfg.n_per_day, seed + night, imps[night - 1])
            else:
                latest, latest_cues = day1, cues1
            in_buf = {r["id"] for r in mem.replay_buffer()}
            mem.consolidate(epochs=cfg.epochs, homeostasis=cfg.homeostasis,
                            prune_threshold=cfg.prune_threshold, replay=arm != "no_replay",
                            seed=seed)
            if arm.startswith("clear_"):
                mem.clear_replay(cfg.keep_fraction, arm[len("clear_"):], seed=seed + night)
            rows.append({"arm": arm, "night": night,
                         **{f"day1_{k}": v for k, v in recall_pair(
                             mem, cues1, day1, "hebbian", cfg.test_noise, seed + 3).items()},
                         **{f"latest_day_{k}": v for k, v in recall_pair(
                             mem, latest_cues, latest, "hebbian", cfg.test_noise,
                             seed + 3).items()},
                         "day1_replayed_fraction": float(np.mean([i in in_buf for i in day1]))
                         if arm != "no_replay" else 0.0,
                         "replay_size": len(mem.replay_buffer()), **_w(mem),
                         "n_per_day": cfg.n_per_day, "epochs": cfg.epochs,
                         "homeostasis": cfg.homeostasis, "prune_threshold": cfg.prune_threshold,
                         "keep_fraction": cfg.keep_fraction if arm.startswith("clear_") else 1.0,
                         "test_noise": cfg.test_noise, "code_dim": cfg.code_dim, "k": cfg.k})
            if progress is not None:
                progress(a * cfg.nights + night, total)
    return rows


# --- (d) priority replay --------------------------------------------------------------
@dataclass(frozen=True)
class PriorityConfig:
    n_important: int = 50
    n_unimportant: int = 50
    importance: float = 5.0
    homeostasis: float = 0.9
    epochs: int = 10
    prune_threshold: float = 1.0
    nights: int = 5
    keep_fraction: float = 0.5
    test_noise: tuple[float, ...] = (0.0, 0.05)
    code_dim: int = 4096
    k: int = 20

    def __post_init__(self) -> None:
        _check_sleep(self)
        check_range(self, "n_important", 1)
        check_range(self, "n_unimportant", 1)
        check_range(self, "importance", 1e-6)
        check_range(self, "keep_fraction", 0.0, 1.0)


def run_priority(cfg: PriorityConfig, seed: int = 0, progress: Progress = None) -> list[dict]:
    """Night 1 replays everyone, important memories ``importance``× as often. Then arm
    "weighted_only": later nights replay nothing (the 5× strength alone must carry them);
    arm "priority_clear": before night 2 the buffer is cut once to ``keep_fraction`` by
    priority (the important ones) and every later night replays what is left."""
    rows, arms = [], ("weighted_only", "priority_clear")
    for a, arm in enumerate(arms):
        mem = _memory(cfg.code_dim, cfg.k, seed)
        imp_ids, imp_cues = _pairs(mem, cfg.n_important, seed, cfg.importance)
        un_ids, un_cues = _pairs(mem, cfg.n_unimportant, seed + 1, 1.0)
        for night in range(0, cfg.nights + 1):
            if night >= 1:
                if night == 2 and arm == "priority_clear":
                    mem.clear_replay(cfg.keep_fraction, "priority")
                mem.consolidate(epochs=cfg.epochs, homeostasis=cfg.homeostasis,
                                prune_threshold=cfg.prune_threshold,
                                replay=night == 1 or arm == "priority_clear", seed=seed)
            w = _w(mem)
            for group, ids, cues in (("important", imp_ids, imp_cues),
                                     ("unimportant", un_ids, un_cues)):
                for tn in cfg.test_noise:
                    rows.append({"arm": arm, "night": night, "group": group, "test_noise": tn,
                                 **recall_pair(mem, cues, ids, "hebbian", tn,
                                                            seed + 3),
                                 **w, "importance": cfg.importance if group == "important"
                                 else 1.0, "homeostasis": cfg.homeostasis,
                                 "epochs": cfg.epochs, "prune_threshold": cfg.prune_threshold,
                                 "keep_fraction": cfg.keep_fraction
                                 if arm == "priority_clear" else 0.0,
                                 "code_dim": cfg.code_dim, "k": cfg.k})
            if progress is not None:
                progress(a * (cfg.nights + 1) + night + 1, len(arms) * (cfg.nights + 1))
    return rows


# --- (e) forgetting curve -------------------------------------------------------------
@dataclass(frozen=True)
class ForgettingConfig:
    n_pairs: int = 200
    nights: int = 10
    epochs: int = 5
    homeostasis: float = 0.95
    prune_threshold: float = 0.1
    new_per_night: tuple[int, ...] = (0, 50)
    arms: tuple[str, ...] = ARMS_E
    test_noise: tuple[float, ...] = (0.0, 0.05)
    code_dim: int = 4096
    k: int = 20

    def __post_init__(self) -> None:
        _check_sleep(self)
        check_range(self, "n_pairs", 1)
        check_range(self, "new_per_night", 0)
        for a in self.arms:
            check(a in ARMS_E, f"arms must be from {ARMS_E}, got {a!r}")


def run_forgetting(cfg: ForgettingConfig, seed: int = 0, progress: Progress = None
                   ) -> list[dict]:
    """Recall of the day-0 memories after each of ``nights`` nights, while ``new_per_night``
    new memories are learned each day. "no_replay_no_prune" is homeostasis alone
    (prune_threshold = 0): with no new learning that is uniform scaling and recall must not
    move; with new learning the fresh, unscaled memories out-compete the decayed old ones."""
    jobs = [(a, n) for n in cfg.new_per_night for a in cfg.arms]
    rows, total = [], len(jobs) * (cfg.nights + 1)
    for j, (arm, new) in enumerate(jobs):
        mem = _memory(cfg.code_dim, cfg.k, seed)
        ids, cues = _pairs(mem, cfg.n_pairs, seed)
        thr = 0.0 if arm == "no_replay_no_prune" else cfg.prune_threshold
        for night in range(0, cfg.nights + 1):
            if night >= 1:
                if new:
                    _pairs(mem, new, seed + 100 + night)
                mem.consolidate(epochs=cfg.epochs, homeostasis=cfg.homeostasis,
                                prune_threshold=thr, replay=arm == "replay", seed=seed)
            w = _w(mem)
            for tn in cfg.test_noise:
                rows.append({"arm": arm, "night": night, "test_noise": tn,
                             **recall_pair(mem, cues, ids, "hebbian", tn,
                                                        seed + 3),
                             **w, "n_pairs": cfg.n_pairs, "new_per_night": new,
                             "epochs": cfg.epochs, "homeostasis": cfg.homeostasis,
                             "prune_threshold": thr, "code_dim": cfg.code_dim, "k": cfg.k})
            if progress is not None:
                progress(j * (cfg.nights + 1) + night + 1, total)
    return rows
