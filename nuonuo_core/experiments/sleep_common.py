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
"""
from __future__ import annotations


import numpy as np

from nuonuo_core import NO_ABSTENTION, HybridMemory, MemoryConfig
from nuonuo_core.recall import min_units

from . import check, check_range, unit_vectors, validate_fields

RATE_COSINE = 0.5   # the seed's Rate: code cosine above this
PROJECTIONS = ("shared", "separate")
# the seed's code space: D 16384, k 20, targets coded by their own projection
SEED_CODES = {"code_dim": 16384, "k": 20, "target_projection": "separate"}
DENSE_MAX = 0  # never dense: the sparse store costs less CPU at these sizes


def make_memory(cfg, seed: int) -> HybridMemory:
    """A fresh CPU memory with the experiment's code_dim, k and target projection."""
    return HybridMemory(MemoryConfig(code_dim=cfg.code_dim, k=cfg.k, seed=seed, device="cpu",
                                     w_format="dense" if cfg.code_dim <= DENSE_MAX else "sparse",
                                     target_projection=cfg.target_projection))


def store_pairs(mem: HybridMemory, n: int, seed: int, importance=1.0):
    """Store n random cue -> target pairs; return (ids (n,), cues (n, 384))."""
    cues = unit_vectors(n, 384, seed)
    ids = np.asarray(mem.add_vectors(cues, unit_vectors(n, 384, seed + 50_000),
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


def score(mem: HybridMemory, cues: np.ndarray, want_ids, noise_std: float = 0.0,
          seed: int = 0) -> dict[str, float]:
    """{"recall_at_1" (strict), "code_cos", "rate"} of Hebbian recall of ``cues``; see the
    module docstring. Both passes perturb the cues with the same (noise_std, seed)."""
    want = np.asarray(want_ids)
    _, got = mem.recall_vectors(cues, k=1, method="hebbian", noise_std=noise_std, seed=seed,
                                min_score=NO_ABSTENTION)  # storage fidelity: no threshold
    recalled = mem.recall_codes(cues, hops=1, noise_std=noise_std, seed=seed)
    target = mem.codes(want)[1]
    cos = code_cosine(recalled, target)
    need = min_units(mem.config)  # the engine's own rule: ceil(min_overlap · k)
    hit = (got[:, 0] == want) & (want >= 0) & (code_overlap(recalled, target) >= need)
    return {"recall_at_1": float(np.mean(hit)), "code_cos": float(np.mean(cos)),
            "rate": float(np.mean(cos > RATE_COSINE))}


def check_sleep(cfg) -> None:
    """Field types and the ranges every sleep config shares."""
    validate_fields(cfg)
    check_range(cfg, "homeostasis", 1e-6, 1.0)
    check_range(cfg, "prune_threshold", 0.0, 1e12)
    check_range(cfg, "code_dim", max(cfg.k, 2), 1 << 17)
    check_range(cfg, "k", 1, 1000)
    check_range(cfg, "test_noise", 0.0, 10.0)
    check(cfg.target_projection in PROJECTIONS,
          f"target_projection must be one of {PROJECTIONS}, got {cfg.target_projection!r}")
    for name in ("epochs", "nights"):
        if hasattr(cfg, name):
            check_range(cfg, name, 0 if name == "epochs" else 1, 10_000)
