"""Hebbian capacity: recall@1 at a fixed cue noise vs stored associations, for several D and
k, with a sparse-associative-memory estimate beside every measurement.

n random cue -> target pairs (d = ``embed_dim``) are stored in the engine (codes: random
projection d -> D, k-WTA with k = ``wta_k``; W += outer(target code, cue code)); each
measurement queries up to ``n_queries`` stored cues moved to exact cosine ``cue_cosine``
(see :mod:`.single_hop_value`) and counts a hit by the engine's strict rule (top-1 is the
memory and the recalled code shares >= ⌈k/2⌉ units with its target code). Memories are added
in steps, so one run measures every n of ``n_memories``. Method ``cosine`` (flat top-1 over
the stored cues) is the plain baseline on the same queries.

``theory`` (Willshaw-style estimate for binary k-of-D codes; Willshaw, Buneman &
Longuet-Higgins 1969, Nature 222:960; Palm 1980, Biol. Cybern. 36:19; Tsodyks & Feigel'man
1988, Europhys. Lett. 6:101). W here sums links (it is not clipped). The input of a unit
outside the wanted target code is cross-talk: the ~(n − 1)·k/D other pairs whose target code
holds the unit each add their cue code's overlap with the query code (≈ Poisson(k²/D)), so
the input is compound Poisson with mean λ = (n − 1)·k³/D² and variance λ·(1 + k²/D). A wanted
target unit gets a + the same cross-talk, where a is how many of the stored cue's k units
the noisy query code still has (measured per query; ``cue_code_overlap`` is the mean a / k).
Half the wanted units sit above their median a + λ; a unit outside the target passes that
median with probability q = Φ̄((a − ½) / √(λ(1 + k²/D))) (normal approximation, continuity
corrected), so ≈ Poisson(μ = (D − k)·q) outside units out-rank half the wanted ones, and the
recall holds (>= ⌈k/2⌉ wanted units among the k winners) with P = P(Poisson(μ) <= ⌊k/2⌋).
``theory`` is the mean of P over the queries. It ignores the correlations the shared random
projection puts between codes and the decoding step, so it estimates where recall falls; it
is not a fit. ``willshaw_capacity`` = ln 2 · D² / k² is the classic capacity of a clipped
Willshaw net at half-filled W (the scale at which cross-talk takes over).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from nuonuo_core.blas import with_one_blas_thread
from nuonuo_core.separation import PatternSeparator

from .engine import ANSWERS, NO_ABSTENTION, memory
from .registry import (Progress, check, check_range, experiment, option, unit_vectors,
                       validate_fields)
from .single_hop_value import at_cosine

METHODS = ("hebbian", "cosine")


@dataclass(frozen=True)
class HebbianCapacityConfig:
    code_dims: tuple[int, ...] = (1024, 2048, 4096)
    wta_ks: tuple[int, ...] = option((10, 20, 40), aliases=("ks",),
                                     help="k-WTA winners per code")
    n_memories: tuple[int, ...] = (250, 500, 1000, 2000, 4000, 8000, 16000)
    cue_cosine: float = 0.9
    methods: tuple[str, ...] = option(METHODS, choices=METHODS)
    n_queries: int = 200
    embed_dim: int = 384

    def __post_init__(self) -> None:
        validate_fields(self)
        check_range(self, "code_dims", 16, 1 << 16)
        check_range(self, "wta_ks", 1)
        check(max(self.wta_ks) <= min(self.code_dims),
              f"wta_ks must be at most the smallest code_dim, got {self.wta_ks} for "
              f"{self.code_dims}")
        check_range(self, "n_memories", 1, 200_000)
        check_range(self, "cue_cosine", 0.0, 1.0)
        check_range(self, "n_queries", 1, 100_000)
        check_range(self, "embed_dim", 8, 4096)


def _poisson_cdf(mu: float, at: int) -> float:
    """P(Poisson(mu) <= at)."""
    term = math.exp(-mu)
    cdf = term
    for i in range(1, at + 1):
        term *= mu / i
        cdf += term
    return min(1.0, cdf)


def theory(n: int, code_dim: int, wta_k: int, overlaps: np.ndarray) -> float:
    """The module docstring's estimate of recall@1 for n stored pairs, averaged over queries
    whose codes keep ``overlaps`` (m,) of their stored cue's k units."""
    k = wta_k
    lam = (n - 1) * k ** 3 / code_dim ** 2
    sd = math.sqrt(lam * (1 + k * k / code_dim))
    out = []
    for a in np.asarray(overlaps, dtype=int).tolist():
        if a == 0:
            out.append(0.0)
            continue
        q = 0.5 * math.erfc((a - 0.5) / sd / math.sqrt(2)) if sd > 0 else 0.0
        out.append(_poisson_cdf((code_dim - k) * q, k // 2))
    return float(np.mean(out)) if out else float("nan")


def willshaw_capacity(code_dim: int, wta_k: int) -> float:
    """ln 2 · D² / k²: pairs a clipped Willshaw net holds at half-filled W."""
    return math.log(2) * code_dim ** 2 / wta_k ** 2


@experiment("hebbian_capacity", HebbianCapacityConfig,
            data="random unit Gaussian cue → target pairs (d = embed_dim, 384), stored in steps "
                 "of n_memories; queries are stored cues moved to an exact cosine cue_cosine "
                 "(0.9) with them",
            title="Hebbian capacity: recall@1 at fixed cue noise vs stored pairs for several "
                  "D and k, beside a Willshaw-style estimate (theory)",
            reported="the seed: '20K+' memories at D 16384, k 20 (clean cues only)",
            presets={"quick": {"code_dims": (1024, 2048), "wta_ks": (10, 20, 40),
                               "n_memories": (250, 500, 1000, 2000, 4000, 8000),
                               "n_queries": 100}})
@with_one_blas_thread
def run_hebbian_capacity(cfg: HebbianCapacityConfig, seed: int = 0,
                         progress: Progress = None) -> list[dict]:
    """One row per (code_dim, wta_k, n_memories, method)."""
    total = max(cfg.n_memories)
    cues = unit_vectors(total, cfg.embed_dim, seed)
    targets = unit_vectors(total, cfg.embed_dim, seed + 50_000)
    steps = sorted(set(cfg.n_memories))
    rows, jobs = [], [(D, wk) for D in cfg.code_dims for wk in cfg.wta_ks]
    for j, (D, wk) in enumerate(jobs):
        mem = memory(embed_dim=cfg.embed_dim, code_dim=D, k=wk, seed=seed,
                     w_format="dense" if D <= 4096 else "sparse")
        sep = PatternSeparator(cfg.embed_dim, D, wk, seed)   # the memory's own projection
        ids: list[int] = []
        for n in steps:
            ids += mem.add_vectors(cues[len(ids):n], targets[len(ids):n])
            pick = np.random.default_rng([seed, n, 2]).choice(n, min(n, cfg.n_queries),
                                                              replace=False)
            q = at_cosine(cues[pick], cfg.cue_cosine, seed + 3 + n)
            qcodes = sep.codes(torch.from_numpy(q)).numpy()
            stored = mem.codes(np.asarray(ids)[pick])[0]
            a = np.array([len(np.intersect1d(x, y)) for x, y in zip(qcodes, stored)])
            for method in cfg.methods:
                _, got = mem.recall_vectors(q, k=1, method=method, min_score=NO_ABSTENTION)
                rows.append({"code_dim": D, "wta_k": wk, "n_memories": n, "method": method,
                             "recall_at_1": float(np.mean(got[:, 0] == np.asarray(ids)[pick])),
                             "theory": theory(n, D, wk, a) if method == "hebbian"
                             else float("nan"),
                             "cue_code_overlap": float(a.mean() / wk),
                             "crosstalk_lambda": (n - 1) * wk ** 3 / D ** 2,
                             "willshaw_capacity": willshaw_capacity(D, wk),
                             "n_queries": len(pick), **ANSWERS})
        if progress is not None:
            progress(j + 1, len(jobs))
    return rows
