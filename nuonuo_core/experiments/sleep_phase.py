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
sleep_multi_night / sleep_forgetting defaults.
"""
from __future__ import annotations

from dataclasses import dataclass

from nuonuo_core.blas import with_one_blas_thread

from . import Progress, check, check_range
from .sleep_common import check_sleep, make_memory, score, store_pairs

PHASE_ARMS = ("replay", "no_replay")
# (h, θ, epochs a night) of the seed's Experiment 3 ((c) 5 epochs, (e) 1) and of our
# sleep_multi_night (c) / sleep_forgetting (e) defaults
SEED_POINT = {"homeostasis": 0.95, "prune_threshold": 1e-3, "epochs": (1, 5)}
OUR_POINTS = {"ours (c)": {"homeostasis": 0.9, "prune_threshold": 0.1, "epochs": (5,)},
              "ours (e)": {"homeostasis": 0.95, "prune_threshold": 0.1, "epochs": (5,)}}


@dataclass(frozen=True)
class PhaseConfig:
    homeostasis: tuple[float, ...] = (0.5, 0.9, 0.95, 1.0)
    prune_threshold: tuple[float, ...] = (0.0, 1e-3, 0.1, 1.0)
    nights: int = 10
    epochs: tuple[int, ...] = (1, 5)
    arms: tuple[str, ...] = PHASE_ARMS
    n_pairs: int = 20
    new_per_night: int = 20
    test_noise: float = 0.0
    code_dim: int = 1024
    target_projection: str = "shared"
    k: int = 20

    def __post_init__(self) -> None:
        check_sleep(self)
        check_range(self, "nights", 1, 100)
        check_range(self, "epochs", 0, 100)
        check_range(self, "n_pairs", 1, 10_000)
        check_range(self, "new_per_night", 0, 10_000)
        for a in self.arms:
            check(a in PHASE_ARMS, f"arms must be from {PHASE_ARMS}, got {a!r}")
        runs = (len(self.arms) * len(self.homeostasis) * len(self.prune_threshold)
                * len(self.epochs))
        check(runs <= 2000, f"the grid has {runs} runs; at most 2000 are allowed")


@with_one_blas_thread
def run_phase(cfg: PhaseConfig, seed: int = 0, progress: Progress = None) -> list[dict]:
    """Rows: (arm, homeostasis, prune_threshold, epochs, night) -> survival of day 1 (night 0
    is before any sleep), code_cos, rate, W's non-zeros, and whether decay alone has pruned
    an unreplayed cell of weight 1 (``unreplayed_pruned``)."""
    jobs = [(arm, h, thr, e) for arm in cfg.arms for e in cfg.epochs
            for h in cfg.homeostasis for thr in cfg.prune_threshold]
    rows = []
    for j, (arm, h, thr, epochs) in enumerate(jobs):
        mem = make_memory(cfg, seed)
        ids, cues = store_pairs(mem, cfg.n_pairs, seed)
        for night in range(0, cfg.nights + 1):
            if night >= 1:
                if night > 1 and cfg.new_per_night:
                    store_pairs(mem, cfg.new_per_night, seed + 1000 + night)
                mem.consolidate(epochs=epochs, homeostasis=h, prune_threshold=thr,
                                replay=arm == "replay", seed=seed)
            s = score(mem, cues, ids, cfg.test_noise, seed + 3)
            rows.append({"arm": arm, "homeostasis": h, "prune_threshold": thr,
                         "epochs": epochs, "night": night, "survival": s["recall_at_1"],
                         "code_cos": s["code_cos"], "rate": s["rate"],
                         "w_nnz": mem.stats()["w_nnz"],
                         "unreplayed_pruned": bool(epochs * night >= 1
                                                   and h ** (epochs * night) < thr),
                         "n_pairs": cfg.n_pairs, "new_per_night": cfg.new_per_night,
                         "nights": cfg.nights, "test_noise": cfg.test_noise,
                         "code_dim": cfg.code_dim, "k": cfg.k,
                         "target_projection": cfg.target_projection})
        if progress is not None:
            progress(j + 1, len(jobs))
    return rows
