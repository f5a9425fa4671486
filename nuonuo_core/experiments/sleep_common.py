"""What every sleep experiment shares: building the memory, storing pairs, and scoring.

Scoring (:func:`score`) reports, for Hebbian recall of a set of stored pairs:

- ``recall_at_1``: the *strict* criterion: the top-1 id is the expected memory (``-1``, no
  answer, is a miss) **and** the recalled code shares at least ``min_overlap · k`` live units
  with that memory's target code. A W pruned to nothing therefore scores 0, never a 1/n
  false hit from k-WTA's tie rule on an all-zero activity vector.
- ``code_cos`` and ``rate``: the seed's metric. ``code_cos`` is the mean cosine between the
  recalled code and the target code; for binary codes that is
  ``overlap / sqrt(k · live units)`` (0 when nothing is recalled); ``rate`` is the fraction
  of pairs whose cosine exceeds 0.5.

Every sleep config is a :class:`SleepConfig`, a :class:`~nuonuo_core.consolidation.Night`
plus the memory's settings; every sleep experiment has the ``no_sleep`` arm
(:data:`~nuonuo_core.consolidation.NO_SLEEP`: h = 1, no replay, no pruning) as its baseline.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from nuonuo_core import NO_ABSTENTION, HybridMemory
from nuonuo_core.consolidation import NO_SLEEP, Night
from nuonuo_core.recall import min_units

from .engine import ANSWERS, memory
from .registry import check_range, option, unit_vectors, validate_fields

RATE_COSINE = 0.5   # the seed's Rate: code cosine above this
PROJECTIONS = ("shared", "separate")
# the seed's Experiment 3: D 16384, k 20, targets coded by their own projection, 768-d random
# vectors, replay noise on the stored codes (its replay buffer holds codes, not embeddings)
SEED_CODES = {"code_dim": 16384, "wta_k": 20, "target_projection": "separate",
              "embed_dim": 768, "replay_noise_on": "code"}
DENSE_MAX = 1024  # dense W up to D 1024 (4 MiB); above it the sparse store costs less CPU
NO_SLEEP_ARM = "no_sleep"


@dataclass(frozen=True)
class SleepConfig(Night):
    """What every sleep experiment shares: the night's settings (:class:`Night`: epochs,
    homeostasis, prune_threshold, replay_noise, replay_noise_on, lr, replays; a subclass may
    make one a tuple, a grid, every value checked by the Night's ranges) and the memory the
    nights run on."""

    code_dim: int = 4096
    wta_k: int = option(20, aliases=("k",), help="k-WTA winners per code")
    target_projection: str = option("shared", choices=PROJECTIONS)
    embed_dim: int = option(384, help="dimension of the random cue/target vectors")

    def __post_init__(self) -> None:
        super().__post_init__()
        validate_fields(self)
        check_range(self, "code_dim", max(self.wta_k, 2))
        check_range(self, "wta_k", 1)
        check_range(self, "embed_dim", 2, 4096)
        for name, lo, hi in (("nights", 1, 10_000), ("test_noise", 0.0, 10.0)):
            if hasattr(self, name):     # test_noise (σ on the test cues): one, or a tuple
                check_range(self, name, lo, hi)


def no_sleep(cfg: Night) -> Night:
    """The no-sleep baseline night of ``cfg``: :data:`NO_SLEEP`'s epochs (0), h (1) and θ (0);
    the config's other night settings as they are (one value: a grid's first)."""
    keep = {f.name: (getattr(cfg, f.name)[0] if isinstance(getattr(cfg, f.name), tuple)
                     else getattr(cfg, f.name)) for f in dataclasses.fields(Night)}
    return Night(**{**keep, "epochs": NO_SLEEP.epochs, "homeostasis": NO_SLEEP.homeostasis,
                    "prune_threshold": NO_SLEEP.prune_threshold})


def night_columns(night: Night) -> dict:
    """The settings a row was measured under: its night's (what actually ran) and the recall
    threshold (none: every query is answered)."""
    return {**{f.name: getattr(night, f.name) for f in dataclasses.fields(Night)}, **ANSWERS}


def make_memory(cfg, seed: int) -> HybridMemory:
    """A fresh CPU memory with the experiment's embed_dim, code_dim, k and target projection."""
    return memory(embed_dim=cfg.embed_dim, code_dim=cfg.code_dim, k=cfg.wta_k, seed=seed,
                  w_format="dense" if cfg.code_dim <= DENSE_MAX else "sparse",
                  target_projection=cfg.target_projection)


def store_pairs(mem: HybridMemory, n: int, seed: int, importance=1.0):
    """Store n random cue -> target pairs; return (ids (n,), cues (n, embed_dim))."""
    d = mem.config.embed_dim
    cues = unit_vectors(n, d, seed)
    ids = np.asarray(mem.add_vectors(cues, unit_vectors(n, d, seed + 50_000),
                                     importance=importance))
    return ids, cues


def w_stats(mem: HybridMemory) -> dict:
    s = mem.stats()
    return {"w_norm": s["w_norm"], "w_nnz": s["w_nnz"], "w_sparsity": s["w_sparsity"]}


def code_overlap(recalled: np.ndarray, target: np.ndarray) -> np.ndarray:
    """recalled (m, k_r) unit indices, -1 for units with no activity; target (m, k) ->
    (m,) number of live recalled units that are in the target code."""
    recalled, target = np.asarray(recalled), np.asarray(target)
    same = (recalled[:, :, None] == target[:, None, :]) & (recalled[:, :, None] >= 0)
    return same.any(2).sum(1)


def code_cosine(recalled: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(m,) cosine between binary codes: overlap / sqrt(k_target · live recalled units);
    0 where nothing was recalled (every unit -1)."""
    recalled = np.asarray(recalled)
    live = (recalled >= 0).sum(1)
    k = np.asarray(target).shape[1]
    return np.where(live > 0, code_overlap(recalled, target) / np.sqrt(k * np.maximum(live, 1)),
                    0.0)


def hits(mem: HybridMemory, cues: np.ndarray, want_ids, noise_std: float = 0.0,
         seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pair: (strict hit (m,) bool, code cosine (m,), top-1 id (m,)) of Hebbian recall of
    ``cues``; both passes perturb the cues with the same (noise_std, seed)."""
    want = np.asarray(want_ids)
    _, got = mem.recall_vectors(cues, k=1, method="hebbian", noise_std=noise_std, seed=seed,
                                min_score=NO_ABSTENTION)  # storage fidelity: no threshold
    recalled = mem.recall_codes(cues, hops=1, noise_std=noise_std, seed=seed)
    target = mem.codes(want)[1]
    cos = code_cosine(recalled, target)
    need = min_units(mem.config)  # the engine's own rule: ceil(min_overlap · k)
    hit = (got[:, 0] == want) & (want >= 0) & (code_overlap(recalled, target) >= need)
    return hit, cos, got[:, 0]


def score(mem: HybridMemory, cues: np.ndarray, want_ids, noise_std: float = 0.0,
          seed: int = 0) -> dict[str, float]:
    """{"recall_at_1" (strict), "code_cos", "rate"} of Hebbian recall of ``cues``; see the
    module docstring. Both passes perturb the cues with the same (noise_std, seed)."""
    hit, cos, _ = hits(mem, cues, want_ids, noise_std, seed)
    return {"recall_at_1": float(np.mean(hit)), "code_cos": float(np.mean(cos)),
            "rate": float(np.mean(cos > RATE_COSINE))}
