"""Finding 4 - sleep consolidation, scenarios (d) priority replay and (e) the forgetting
curve of the seed's Experiment 3 (see :mod:`.sleep` for the shared conventions: strict
``recall_at_1``, the seed's ``code_cos`` / ``rate``, the parameters in every row).
"""
from __future__ import annotations

from dataclasses import dataclass

from nuonuo_core.blas import with_one_blas_thread

from .registry import Progress, check_range, experiment, option
from .sleep_common import (NO_SLEEP_ARM, SEED_CODES, SleepConfig, make_memory,
                           night_columns, no_sleep, score, store_pairs, w_stats)
from .sleep import SEED_PRUNE

ARMS_D = ("weighted_only", "priority_clear", NO_SLEEP_ARM)
ARMS_E = ("replay", "no_replay", "no_replay_no_prune", NO_SLEEP_ARM)


# --- (d) priority replay --------------------------------------------------------------
@dataclass(frozen=True)
class PriorityConfig(SleepConfig):
    homeostasis: float = 0.9
    epochs: int = 10
    prune_threshold: float = 1.0
    n_important: int = 50
    n_unimportant: int = 50
    importance: float = 5.0
    nights: int = 5
    keep_fraction: float = 0.5
    test_noise: tuple[float, ...] = (0.0, 0.05)
    arms: tuple[str, ...] = option(ARMS_D, choices=ARMS_D)

    def __post_init__(self) -> None:
        super().__post_init__()
        check_range(self, "n_important", 1)
        check_range(self, "n_unimportant", 1)
        check_range(self, "importance", 1e-6, 100.0)
        check_range(self, "keep_fraction", 0.0, 1.0)


@experiment("sleep_priority", PriorityConfig,
            data="random unit Gaussian cue → target pairs (d = embed_dim): n_important replayed "
                 "importance times as often as n_unimportant, recalled on the Hebbian path",
            title="Sleep (d): 50 important (5x replay) vs 50 unimportant, homeostasis 0.90, "
                  "10 epochs",
            reported="no figure given (important outlast unimportant)",
            # 50 important (replayed 5x) vs 50 unimportant, one night of 10 epochs at h 0.90
            presets={"seed": {"n_important": 50, "n_unimportant": 50, "importance": 5.0,
                              "homeostasis": 0.9, "epochs": 10, "prune_threshold": SEED_PRUNE,
                              "nights": 1, "test_noise": (0.0,), **SEED_CODES}})
@with_one_blas_thread
def run_priority(cfg: PriorityConfig, seed: int = 0, progress: Progress = None) -> list[dict]:
    """Night 1 replays everyone, important memories ``importance``× as often. Then arm
    "weighted_only": later nights replay nothing (the 5× strength alone must carry them);
    arm "priority_clear": before night 2 the buffer is cut once to ``keep_fraction`` by
    priority (the important ones) and every later night replays what is left; arm
    "no_sleep": nights that change nothing (the baseline)."""
    rows = []
    for a, arm in enumerate(cfg.arms):
        night = no_sleep(cfg) if arm == NO_SLEEP_ARM else cfg.night()
        mem = make_memory(cfg, seed)
        imp_ids, imp_cues = store_pairs(mem, cfg.n_important, seed, cfg.importance)
        un_ids, un_cues = store_pairs(mem, cfg.n_unimportant, seed + 1, 1.0)
        for n in range(0, cfg.nights + 1):
            if n >= 1:
                if n == 2 and arm == "priority_clear":
                    mem.clear_replay(cfg.keep_fraction, "priority")
                replay = arm != NO_SLEEP_ARM and (n == 1 or arm == "priority_clear")
                mem.consolidate(night, replay=replay, seed=seed)
            w = w_stats(mem)
            for group, ids, cues in (("important", imp_ids, imp_cues),
                                     ("unimportant", un_ids, un_cues)):
                for tn in cfg.test_noise:
                    rows.append({"arm": arm, "night": n, "group": group, "test_noise": tn,
                                 **score(mem, cues, ids, tn, seed + 3), **w,
                                 "importance": cfg.importance if group == "important"
                                 else 1.0, **night_columns(night),
                                 "keep_fraction": cfg.keep_fraction
                                 if arm == "priority_clear" else 0.0})
            if progress is not None:
                progress(a * (cfg.nights + 1) + n + 1, len(cfg.arms) * (cfg.nights + 1))
    return rows


# --- (e) forgetting curve -------------------------------------------------------------
@dataclass(frozen=True)
class ForgettingConfig(SleepConfig):
    prune_threshold: float = 0.1
    n_pairs: int = 200
    nights: int = 10
    new_per_night: tuple[int, ...] = (0, 50)
    arms: tuple[str, ...] = option(ARMS_E, choices=ARMS_E)
    test_noise: tuple[float, ...] = (0.0, 0.05)

    def __post_init__(self) -> None:
        super().__post_init__()
        check_range(self, "n_pairs", 1)
        check_range(self, "new_per_night", 0)


@experiment("sleep_forgetting", ForgettingConfig,
            data="random unit Gaussian cue → target pairs (d = embed_dim), optionally "
                 "new_per_night new ones each night, recalled on the Hebbian path after every "
                 "night",
            title="Sleep (e): forgetting curve over 10 nights, with vs without replay",
            reported="no figure given (forgetting curve)",
            # 100 pairs, 10 nights of one x0.95 scaling each, prune 1e-3, no new learning
            presets={"seed": {"n_pairs": 100, "nights": 10, "epochs": 1,
                              "homeostasis": 0.95, "prune_threshold": SEED_PRUNE,
                              "new_per_night": (0,), "test_noise": (0.0,), **SEED_CODES}})
@with_one_blas_thread
def run_forgetting(cfg: ForgettingConfig, seed: int = 0, progress: Progress = None
                   ) -> list[dict]:
    """Recall of the day-0 memories after each of ``nights`` nights, while ``new_per_night``
    new memories are learned each day. "no_replay_no_prune" is homeostasis alone
    (prune_threshold = 0): with no new learning that is uniform scaling and recall must not
    move; with new learning the fresh, unscaled memories out-compete the decayed old ones.
    "no_sleep" learns the same days with nights that change nothing."""
    jobs = [(a, n) for n in cfg.new_per_night for a in cfg.arms]
    rows, total = [], len(jobs) * (cfg.nights + 1)
    for j, (arm, new) in enumerate(jobs):
        night = (no_sleep(cfg) if arm == NO_SLEEP_ARM else
                 cfg.night(prune_threshold=0.0) if arm == "no_replay_no_prune" else cfg.night())
        mem = make_memory(cfg, seed)
        ids, cues = store_pairs(mem, cfg.n_pairs, seed)
        for n in range(0, cfg.nights + 1):
            if n >= 1:
                if new:
                    store_pairs(mem, new, seed + 100 + n)
                mem.consolidate(night, replay=arm == "replay", seed=seed)
            w = w_stats(mem)
            for tn in cfg.test_noise:
                rows.append({"arm": arm, "night": n, "test_noise": tn,
                             **score(mem, cues, ids, tn, seed + 3), **w,
                             "new_per_night": new, **night_columns(night)})
            if progress is not None:
                progress(j * (cfg.nights + 1) + n + 1, total)
    return rows
