"""Finding 4 - sleep consolidation, scenarios (a)-(c) of the seed's Experiment 3
((d) and (e) are in :mod:`.sleep_decay`, the phase map in :mod:`.sleep_phase`).

Consolidation only touches W, so every recall here is *Hebbian* (cue code -> W -> k-WTA ->
nearest target code); Hopfield and cosine recall read the stored embeddings and are untouched
by sleep. Uniform scaling (homeostasis) never changes which memory wins a Hebbian recall;
what does is pruning (cells that fall below ``prune_threshold`` vanish), noise on the
replayed cue, and uneven replay (importance, a cleared buffer).

Every row carries ``recall_at_1`` (strict: a pruned-away W scores 0), the seed's metric
``code_cos`` / ``rate`` (see :mod:`.sleep_common`) and the parameters it ran with (an arm's
own night: ``no_sleep`` rows say h 1, θ 0). The "seed" presets hold the seed's settings:
``python -m nuonuo_core.experiments sleep_basic --preset seed``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nuonuo_core.blas import with_one_blas_thread

from .registry import Progress, check_range, experiment, option
from .sleep_common import (NO_SLEEP_ARM, SEED_CODES, SleepConfig, make_memory,
                           night_columns, no_sleep, score, store_pairs, w_stats)

ARMS_C = ("replay_all", "clear_priority", "clear_recent", "clear_random", "no_replay",
          NO_SLEEP_ARM)
SEED_PRUNE = 1e-3   # assumed: the seed's MemoryConsolidator is not in the seed document


# --- (a) basic effect -----------------------------------------------------------------
@dataclass(frozen=True)
class BasicConfig(SleepConfig):
    epochs: tuple[int, ...] = (1, 3, 5, 10)  # type: ignore[assignment]  # a grid of the Night field
    n_pairs: tuple[int, ...] = (100, 500)
    test_noise: tuple[float, ...] = (0.0, 0.05)
    arms: tuple[str, ...] = option(("sleep", NO_SLEEP_ARM), choices=("sleep", NO_SLEEP_ARM))

    def __post_init__(self) -> None:
        super().__post_init__()
        check_range(self, "n_pairs", 1)


@experiment("sleep_basic", BasicConfig,
            data="random unit Gaussian cue → target pairs (d = embed_dim: 384 ours, 768 in "
                 "--preset seed), recalled on the Hebbian path from their stored cues (plus "
                 "test_noise)",
            title="Sleep (a): 100/500 pairs x 1/3/5/10 epochs, recall before/after, W-norm, "
                  "sparsity",
            reported="no figure given (before/after recall, W-norm, sparsity)",
            presets={"seed": {"n_pairs": (100, 500), "epochs": (1, 3, 5, 10),
                              "homeostasis": 0.95, "prune_threshold": SEED_PRUNE,
                              "test_noise": (0.0,), **SEED_CODES}})
@with_one_blas_thread
def run_basic(cfg: BasicConfig, seed: int = 0, progress: Progress = None) -> list[dict]:
    """Rows: (arm, n_pairs, epochs, phase before/after, test_noise) -> recall, W-norm,
    sparsity. Arm "no_sleep" is the same memory after a night that changes nothing (h 1, no
    replay, no pruning): the baseline "after" is compared with."""
    rows, jobs = [], [(a, n, e) for a in cfg.arms for n in cfg.n_pairs for e in cfg.epochs]
    for j, (arm, n, epochs) in enumerate(jobs):
        night = cfg.night(epochs=epochs) if arm == "sleep" else no_sleep(cfg)
        mem = make_memory(cfg, seed)
        ids, cues = store_pairs(mem, n, seed)
        for phase in ("before", "after"):
            if phase == "after":
                mem.consolidate(night, replay=arm == "sleep", seed=seed)
            w = w_stats(mem)
            for tn in cfg.test_noise:
                rows.append({"arm": arm, "n_pairs": n, "phase": phase,
                             "test_noise": tn, **score(mem, cues, ids, tn, seed + 3), **w,
                             **night_columns(night), "epochs": epochs})
        if progress is not None:
            progress(j + 1, len(jobs))
    return rows


# --- (b) noisy replay -----------------------------------------------------------------
@dataclass(frozen=True)
class NoisyReplayConfig(SleepConfig):
    replay_noise: tuple[float, ...] = (0.0, 0.02, 0.1, 0.5, 1.0)  # type: ignore[assignment]  # a grid of the Night field
    n_pairs: int = 200
    test_noise: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2)

    def __post_init__(self) -> None:
        super().__post_init__()
        check_range(self, "n_pairs", 1)


@experiment("sleep_noisy_replay", NoisyReplayConfig,
            data="random unit Gaussian cue → target pairs (d = embed_dim), replayed with noise "
                 "replay_noise, recalled on the Hebbian path from cues with noise test_noise",
            title="Sleep (b): replay noise x test noise", reported="no figure given",
            presets={"seed": {"n_pairs": 100, "replay_noise": (0.0, 0.1, 0.5, 1.0),
                              "test_noise": (0.0, 0.05, 0.1, 0.2), "epochs": 5,
                              "homeostasis": 0.95, "prune_threshold": SEED_PRUNE,
                              **SEED_CODES}})
@with_one_blas_thread
def run_noisy_replay(cfg: NoisyReplayConfig, seed: int = 0,
                     progress: Progress = None) -> list[dict]:
    """Rows: (arm, replay_noise, test_noise) -> recall after one night. Arm "no_sleep" (no
    night at all; replay_noise NaN, ``consolidated`` False) is the baseline."""
    rows, arms = [], (float("nan"),) + cfg.replay_noise
    for j, rn in enumerate(arms):
        mem = make_memory(cfg, seed)
        ids, cues = store_pairs(mem, cfg.n_pairs, seed)
        night = cfg.night(replay_noise=rn) if rn == rn else no_sleep(cfg)
        mem.consolidate(night, replay=rn == rn, seed=seed)
        w = w_stats(mem)
        for tn in cfg.test_noise:
            rows.append({"arm": "replay" if rn == rn else NO_SLEEP_ARM,
                         "consolidated": rn == rn, "test_noise": tn,
                         **score(mem, cues, ids, tn, seed + 3), **w,
                         **night_columns(night), "replay_noise": rn})
        if progress is not None:
            progress(j + 1, len(arms))
    return rows


# --- (c) multi-night survival ---------------------------------------------------------
@dataclass(frozen=True)
class MultiNightConfig(SleepConfig):
    homeostasis: float = 0.9
    prune_threshold: float = 0.1
    n_per_day: int = 100
    nights: int = 7
    keep_fraction: float = 0.3
    arms: tuple[str, ...] = option(ARMS_C, choices=ARMS_C)
    importance_levels: tuple[float, ...] = (1.0, 2.0, 3.0)
    test_noise: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_range(self, "n_per_day", 1)
        check_range(self, "keep_fraction", 0.0, 1.0)
        check_range(self, "importance_levels", 1e-6, 100.0)


@experiment("sleep_multi_night", MultiNightConfig,
            data="random unit Gaussian cue → target pairs (d = embed_dim), n_per_day new ones "
                 "each day, recalled on the Hebbian path after every night",
            title="Sleep (c): day-1 and day-2 survival over 7 nights of new learning, "
                  "selective clearing 30%",
            reported="no figure given (day-1 / day-2 recall after 7 nights)",
            presets={"seed": {"n_per_day": 100, "nights": 7, "epochs": 5,
                              "homeostasis": 0.95, "prune_threshold": SEED_PRUNE,
                              "keep_fraction": 0.3, "importance_levels": (1.0,),
                              "test_noise": 0.0, **SEED_CODES}})
@with_one_blas_thread
def run_multi_night(cfg: MultiNightConfig, seed: int = 0,
                    progress: Progress = None) -> list[dict]:
    """Days 1 and 2 are tracked while a new day is learned before every later night.
    Clearing arms keep ``keep_fraction`` of the replay buffer after each night; "no_sleep"
    learns the same days with nights that change nothing."""
    rows, total = [], len(cfg.arms) * cfg.nights
    rng = np.random.default_rng(seed + 7)
    imps = [rng.choice(cfg.importance_levels, cfg.n_per_day) for _ in range(cfg.nights)]
    nan = {f"day2_{m}": float("nan") for m in ("recall_at_1", "code_cos", "rate")}
    for a, arm in enumerate(cfg.arms):
        night = no_sleep(cfg) if arm == NO_SLEEP_ARM else cfg.night()
        replay = arm not in ("no_replay", NO_SLEEP_ARM)
        mem = make_memory(cfg, seed)
        day1, cues1 = store_pairs(mem, cfg.n_per_day, seed, imps[0])
        day2 = cues2 = None
        for n in range(1, cfg.nights + 1):
            if n > 1:
                latest, latest_cues = store_pairs(mem, cfg.n_per_day, seed + n, imps[n - 1])
                if n == 2:
                    day2, cues2 = latest, latest_cues
            else:
                latest, latest_cues = day1, cues1
            in_buf = {r["id"] for r in mem.replay_buffer()}
            mem.consolidate(night, replay=replay, seed=seed)
            if arm.startswith("clear_"):
                mem.clear_replay(cfg.keep_fraction, arm[len("clear_"):], seed=seed + n)
            d2 = ({f"day2_{m}": v for m, v in score(mem, cues2, day2, cfg.test_noise,
                                                    seed + 3).items()}
                  if day2 is not None and cues2 is not None else nan)
            rows.append({"arm": arm, "night": n,
                         **{f"day1_{m}": v for m, v in score(
                             mem, cues1, day1, cfg.test_noise, seed + 3).items()},
                         **d2,
                         **{f"latest_day_{m}": v for m, v in score(
                             mem, latest_cues, latest, cfg.test_noise, seed + 3).items()},
                         "day1_replayed_fraction": float(np.mean([i in in_buf for i in day1]))
                         if replay else 0.0,
                         "replay_size": len(mem.replay_buffer()), **w_stats(mem),
                         **night_columns(night),
                         "keep_fraction": cfg.keep_fraction if arm.startswith("clear_")
                         else 1.0})
            if progress is not None:
                progress(a * cfg.nights + n, total)
    return rows
