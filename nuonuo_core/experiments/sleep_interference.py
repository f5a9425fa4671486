"""Sleep where it could matter: learning goes on past W's capacity, and some cues are
re-learned with new targets (A -> B, later A -> C).

Every day ``n_per_day`` new cue -> target pairs are stored (importance drawn from
``importance_levels``); from day 2 on, a ``reused_cue_fraction`` of them re-use the cue of an
earlier pair with a fresh target (an update: the right answer is now the newest target).
Every night each arm sleeps (``SleepConfig`` night fields) and then all pairs are probed on
the Hebbian path (the only path sleep changes), by the strict criterion, with cues at
``test_noise``. By day ``nights`` the memory holds nights · n_per_day pairs, past the point
where cross-talk in a D = ``code_dim`` W erodes recall when nothing forgets.

Arms (column ``arm``):

* ``no_sleep``: h = 1, no replay, no pruning (W only grows): the baseline;
* ``homeostasis_only``: W *= h every epoch, no replay, no pruning: older links fade
  relative to newer ones (a palimpsest, Nadal et al. 1986; Parisi 1986);
* ``replay``: homeostasis, replay of the whole buffer, pruning below θ;
* ``priority_replay``: as ``replay``, but after every night the buffer keeps only the
  ``keep_fraction`` most important memories (later days' memories enter it as they come).

Recall columns per row (one row per arm and day, measured after that day's night):
``old_recall_at_1`` (day-1 pairs whose cue was never re-used), ``new_recall_at_1`` (that
day's fresh pairs), ``all_recall_at_1`` (every pair whose answer is current: for a re-used
cue only its newest pair), ``updated_recall_at_1`` / ``stale_recall_at_1`` (re-used cues
answered with their newest / an older target), ``important_old_recall_at_1`` (day-1 pairs of
the top importance level).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nuonuo_core.blas import with_one_blas_thread

from .registry import Progress, check_range, experiment, option, unit_vectors
from .sleep_common import (NO_SLEEP_ARM, no_sleep, SleepConfig, hits, make_memory,
                           night_columns, w_stats)

ARMS = (NO_SLEEP_ARM, "homeostasis_only", "replay", "priority_replay")


@dataclass(frozen=True)
class InterferenceConfig(SleepConfig):
    epochs: int = 1
    homeostasis: float = 0.8
    prune_threshold: float = 0.05
    code_dim: int = 512
    n_per_day: int = 100
    nights: int = 20
    reused_cue_fraction: float = 0.2
    importance_levels: tuple[float, ...] = (1.0, 3.0)
    keep_fraction: float = 0.3
    test_noise: float = 0.0
    arms: tuple[str, ...] = option(ARMS, choices=ARMS)

    def __post_init__(self) -> None:
        super().__post_init__()
        check_range(self, "n_per_day", 1, 10_000)
        check_range(self, "nights", 1, 200)
        check_range(self, "reused_cue_fraction", 0.0, 1.0)
        check_range(self, "importance_levels", 1e-6, 100.0)
        check_range(self, "keep_fraction", 0.0, 1.0)


def _night(cfg: InterferenceConfig, arm: str):
    if arm == NO_SLEEP_ARM:
        return no_sleep(cfg), False
    if arm == "homeostasis_only":
        return cfg.night(prune_threshold=0.0), False
    return cfg.night(), True


def _plan(cfg: InterferenceConfig, seed: int):
    """Per day: (cue vectors, target vectors, importance, index of the earlier pair whose cue
    is re-used or -1); pairs are numbered in order of learning."""
    rng = np.random.default_rng([seed, 11])
    d, days, n_total = cfg.embed_dim, [], 0
    fresh_cues = unit_vectors(cfg.nights * cfg.n_per_day, d, seed)
    targets = unit_vectors(cfg.nights * cfg.n_per_day, d, seed + 50_000)
    cue_of: list[np.ndarray] = []
    for day in range(cfg.nights):
        n = cfg.n_per_day
        reuse = np.full(n, -1)
        if day > 0 and cfg.reused_cue_fraction > 0:
            n_re = int(round(cfg.reused_cue_fraction * n))
            reuse[:n_re] = rng.choice(n_total, n_re, replace=False)
        cues = fresh_cues[n_total:n_total + n].copy()
        for i in np.flatnonzero(reuse >= 0):
            cues[i] = cue_of[reuse[i]]
        cue_of += list(cues)
        imp = rng.choice(cfg.importance_levels, n)
        days.append((cues, targets[n_total:n_total + n], imp, reuse))
        n_total += n
    return days


@experiment("sleep_interference", InterferenceConfig,
            data="random unit Gaussian cue → target pairs (d = embed_dim), n_per_day new ones a "
                 "day, a reused_cue_fraction of them re-using an older cue with a new target; "
                 "recalled on the Hebbian path",
            title="Sleep under interference: old / new / updated recall per day while "
                  "learning past W's capacity, arms no_sleep / homeostasis_only / replay / "
                  "priority_replay",
            reported="not in the seed (does sleep help when W is crowded?)",
            presets={"quick": {"nights": 12, "n_per_day": 100}})
@with_one_blas_thread
def run_sleep_interference(cfg: InterferenceConfig, seed: int = 0,
                           progress: Progress = None) -> list[dict]:
    """One row per (arm, night): the recall columns of the module docstring."""
    plan = _plan(cfg, seed)
    top = max(cfg.importance_levels)
    rows = []
    for a, arm in enumerate(cfg.arms):
        night, replay = _night(cfg, arm)
        mem = make_memory(cfg, seed)
        ids: list[int] = []
        cues_all: list[np.ndarray] = []
        newest: dict[int, int] = {}       # first pair of a cue -> its newest pair
        members: dict[int, list[int]] = {}  # first pair of a cue -> all its pairs
        root: list[int] = []              # pair -> first pair with the same cue
        reused_roots: set[int] = set()
        for day, (cues, targets, imp, reuse) in enumerate(plan, start=1):
            base = len(ids)
            ids += mem.add_vectors(cues, targets, importance=imp)
            cues_all += list(cues)
            for i in range(len(cues)):
                r = root[reuse[i]] if reuse[i] >= 0 else base + i
                root.append(r)
                newest[r] = base + i
                members.setdefault(r, []).append(base + i)
                if reuse[i] >= 0:
                    reused_roots.add(r)
            mem.consolidate(night, replay=replay, seed=seed)
            if arm == "priority_replay":
                mem.clear_replay(cfg.keep_fraction, "priority")
            idx = np.asarray(ids)
            cue_arr = np.asarray(cues_all)
            current = sorted(newest.values())        # every pair whose answer is current
            hit, _, got = hits(mem, cue_arr[current], idx[current], cfg.test_noise, seed + 3)
            at = {p: i for i, p in enumerate(current)}
            day1 = [i for i in range(cfg.n_per_day) if root[i] not in reused_roots]
            fresh = [base + i for i in range(len(cues)) if reuse[i] < 0]
            updated = [newest[r] for r in sorted(reused_roots)]
            important = [i for i in day1 if plan[0][2][i] == top]

            def rec(sel: list[int], hit=hit, at=at) -> float:
                return float(np.mean([hit[at[p]] for p in sel])) if sel else float("nan")

            stale = float("nan")
            if updated:
                older = [{int(idx[p]) for p in members[r][:-1]} for r in sorted(reused_roots)]
                stale = float(np.mean([int(got[at[p]]) in o for p, o in zip(updated, older)]))
            rows.append({"arm": arm, "night": day, "stored": len(ids),
                         "old_recall_at_1": rec(day1), "new_recall_at_1": rec(fresh),
                         "all_recall_at_1": rec(current),
                         "updated_recall_at_1": rec(updated), "stale_recall_at_1": stale,
                         "important_old_recall_at_1": rec(important),
                         "replay_size": len(mem.replay_buffer()), **w_stats(mem),
                         **night_columns(night),
                         "keep_fraction": cfg.keep_fraction if arm == "priority_replay"
                         else 1.0})
            if progress is not None:
                progress(a * cfg.nights + day, len(cfg.arms) * cfg.nights)
    return rows
