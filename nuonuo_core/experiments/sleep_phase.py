"""Where does forgetting start, and when does sleep matter? A phase map of day-1 survival.

Day 1 stores ``n_pairs`` random cue -> target pairs; every later day stores ``new_per_night``
new ones (interference), and every night runs ``epochs`` epochs of scale -> replay -> prune.
For each (arm, homeostasis h, prune threshold θ, epochs) the record after each night holds
``survival``: the fraction of day-1 memories recalled by the strict criterion (top-1 is the
right memory with >= min_overlap · k live units shared with its target; a W pruned to nothing
answers nothing, so it scores 0), beside the seed's ``code_cos`` and ``rate``.

Without replay an unreplayed cell of weight 1 is pruned once h^(epochs·nights) < θ (the
``unreplayed_pruned`` column says whether that has happened by that night); with replay a
cell stays >= 1, so only θ above the replayed weight prunes it. ``SEED_POINT`` and
``OUR_POINTS`` are the (h, θ) settings of the seed's Experiment 3 and of our
sleep_multi_night / sleep_forgetting defaults. Arm ``no_sleep`` (h 1, θ 0, no epochs) runs
once, whatever the grid: the baseline.
"""
from __future__ import annotations

from dataclasses import dataclass

from nuonuo_core.blas import with_one_blas_thread

from .registry import Progress, check, check_range, experiment, option
from .sleep_common import (NO_SLEEP, NO_SLEEP_ARM, SleepConfig, make_memory, night_columns,
                           score, store_pairs)

PHASE_ARMS = ("replay", "no_replay", NO_SLEEP_ARM)
# (h, θ, epochs a night) of the seed's Experiment 3 ((c) 5 epochs, (e) 1) and of our
# sleep_multi_night (c) / sleep_forgetting (e) defaults
SEED_POINT = {"homeostasis": 0.95, "prune_threshold": 1e-3, "epochs": (1, 5)}
OUR_POINTS = {"ours (c)": {"homeostasis": 0.9, "prune_threshold": 0.1, "epochs": (5,)},
              "ours (e)": {"homeostasis": 0.95, "prune_threshold": 0.1, "epochs": (5,)}}


@dataclass(frozen=True)
class PhaseConfig(SleepConfig):
    epochs: tuple[int, ...] = (1, 5)  # type: ignore[assignment]  # a grid of the Night field
    homeostasis: tuple[float, ...] = (0.5, 0.9, 0.95, 1.0)  # type: ignore[assignment]  # a grid of the Night field
    prune_threshold: tuple[float, ...] = (0.0, 1e-3, 0.1, 1.0)  # type: ignore[assignment]  # a grid of the Night field
    nights: int = 10
    arms: tuple[str, ...] = option(PHASE_ARMS, choices=PHASE_ARMS)
    n_pairs: int = 20
    new_per_night: int = 20
    test_noise: float = 0.0
    code_dim: int = 1024

    def __post_init__(self) -> None:
        super().__post_init__()
        check_range(self, "nights", 1, 100)
        check_range(self, "epochs", 0, 100)
        check_range(self, "n_pairs", 1, 10_000)
        check_range(self, "new_per_night", 0, 10_000)
        runs = (len(self.arms) * len(self.homeostasis) * len(self.prune_threshold)
                * len(self.epochs))
        check(runs <= 2000, f"the grid has {runs} runs; at most 2000 are allowed")


def _jobs(cfg: PhaseConfig) -> list[tuple]:
    """(arm, h, θ, epochs) runs; "no_sleep" ignores the grid: one run (h 1, θ 0, 0 epochs)."""
    jobs = []
    for arm in cfg.arms:
        if arm == NO_SLEEP_ARM:
            jobs.append((arm, NO_SLEEP.homeostasis, NO_SLEEP.prune_threshold, NO_SLEEP.epochs))
            continue
        jobs += [(arm, h, thr, e) for e in cfg.epochs for h in cfg.homeostasis
                 for thr in cfg.prune_threshold]
    return jobs


@experiment("sleep_phase", PhaseConfig,
            data="random unit Gaussian cue → target pairs (d = embed_dim): n_pairs on day 1, "
                 "new_per_night new ones every later day; day-1 pairs recalled on the Hebbian "
                 "path",
            title="Sleep phase map: day-1 survival over homeostasis x prune threshold x "
                  "nights, replay vs no replay vs no sleep",
            reported="no figure given (where forgetting starts)")
@with_one_blas_thread
def run_phase(cfg: PhaseConfig, seed: int = 0, progress: Progress = None) -> list[dict]:
    """Rows: (arm, homeostasis, prune_threshold, epochs, night) -> survival of day 1 (night 0
    is before any sleep), code_cos, rate, W's non-zeros, and whether decay alone has pruned
    an unreplayed cell of weight 1 (``unreplayed_pruned``)."""
    jobs = _jobs(cfg)
    rows = []
    for j, (arm, h, thr, epochs) in enumerate(jobs):
        night = cfg.night(epochs=epochs, homeostasis=h, prune_threshold=thr)
        mem = make_memory(cfg, seed)
        ids, cues = store_pairs(mem, cfg.n_pairs, seed)
        for n in range(0, cfg.nights + 1):
            if n >= 1:
                if n > 1 and cfg.new_per_night:
                    store_pairs(mem, cfg.new_per_night, seed + 1000 + n)
                mem.consolidate(night, replay=arm == "replay", seed=seed)
            s = score(mem, cues, ids, cfg.test_noise, seed + 3)
            rows.append({"arm": arm, **night_columns(night), "night": n,
                         "survival": s["recall_at_1"], "code_cos": s["code_cos"],
                         "rate": s["rate"], "w_nnz": mem.stats()["w_nnz"],
                         "unreplayed_pruned": bool(epochs * n >= 1 and thr > 0
                                                   and h ** (epochs * n) < thr)})
        if progress is not None:
            progress(j + 1, len(jobs))
    return rows
