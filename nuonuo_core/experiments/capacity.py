"""Finding 2 - capacity: recall vs number of memories, k and code_dim, with and without k-WTA.

Arms (column ``arm``):
  * ``kwta_hebbian``: the engine's Hebbian path (random projection d -> D, k-WTA, W over codes),
    recall@1 from the stored cue (plus optional ``query_noise``), decoded to the nearest target.
  * ``classical_hopfield``: no separation - a dense auto-associative Hopfield net over the
    sign of the same embeddings, N = embed_dim neurons, W = ξᵀξ / N (zero diagonal), synchronous
    updates from the stored pattern. A pattern counts as recalled when the settled state's
    overlap m = s·ξ / N (in [-1, 1]) with it is >= 0.95 (the criterion behind the 0.138·N
    bound); ``mean_m`` is the mean m. (The pattern views' ``overlap`` is the fraction of
    equal units, (1 + m) / 2: see :mod:`nuonuo_core.patterns`.)
Sweeps (column ``sweep``): "n_memories", "wta_k" and "code_dim" (the latter two at
``n_fixed``).
Every row carries the bound 0.138·N for the arm's neuron count N (code_dim for k-WTA).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nuonuo_core import NO_ABSTENTION

from .engine import ANSWERS, memory

from .registry import Progress, check_range, experiment, option, unit_vectors, validate_fields


@dataclass(frozen=True)
class CapacityConfig:
    n_memories: tuple[int, ...] = (100, 1000, 5000)
    classical_n: tuple[int, ...] = (10, 25, 50, 75, 100, 200)
    n_fixed: int = 2000
    wta_ks: tuple[int, ...] = option((5, 20, 50), aliases=("ks",),
                                     help="k-WTA winners of the wta_k sweep")
    code_dims: tuple[int, ...] = (256, 1024, 4096, 16384)
    code_dim: int = 16384
    wta_k: int = option(20, aliases=("k",), help="k-WTA winners per code")
    n_queries: int = 300
    query_noise: float = 0.0
    embed_dim: int = 384
    hopfield_steps: int = 20

    def __post_init__(self) -> None:
        validate_fields(self)
        for name in ("n_memories", "classical_n", "n_fixed", "n_queries", "hopfield_steps"):
            check_range(self, name, 1)
        check_range(self, "wta_ks", 1, min(self.code_dims + (self.code_dim,)))
        check_range(self, "code_dims", max(self.wta_k, 2))
        check_range(self, "code_dim", 2)
        check_range(self, "wta_k", 1, self.code_dim)
        check_range(self, "query_noise", 0.0, 10.0)
        check_range(self, "embed_dim", 2)


def kwta_recall(n: int, code_dim: int, wta_k: int, cfg: CapacityConfig, seed: int) -> float:
    """Store n random pairs in the engine; recall@1 (hebbian) on up to n_queries of them."""
    cues = unit_vectors(n, cfg.embed_dim, seed)
    targets = unit_vectors(n, cfg.embed_dim, seed + 10_000)
    mem = memory(embed_dim=cfg.embed_dim, code_dim=code_dim, k=wta_k, seed=seed)
    ids = np.asarray(mem.add_vectors(cues, targets))
    pick = np.random.default_rng(seed + 1).choice(n, min(n, cfg.n_queries), replace=False)
    _, got = mem.recall_vectors(cues[pick], k=1, method="hebbian", noise_std=cfg.query_noise,
                                seed=seed + 2, min_score=NO_ABSTENTION)  # storage fidelity
    return float(np.mean(got[:, 0] == ids[pick]))


def classical_hopfield(n: int, dim: int, steps: int, seed: int) -> tuple[float, float]:
    """Dense Hopfield over n sign patterns of N = dim neurons; (recalled fraction: m >= 0.95,
    mean overlap m = s·ξ / N).

    Exact arithmetic: N·W = ξᵀξ and the fields s·(N·W) are integers below 2^53, so float64
    BLAS sums them exactly in any order. A float32 product summed in a thread-count-dependent
    order flipped the sign of near-zero fields, so reruns of one seed differed (82% vs 84% at
    n = 50); exact sums make a seed's result deterministic."""
    xi = np.sign(unit_vectors(n, dim, seed)).astype(np.float64)
    xi[xi == 0] = 1
    w = xi.T @ xi           # N·W, exact (integer-valued float64)
    np.fill_diagonal(w, 0)
    s = xi.copy()
    for _ in range(steps):  # synchronous update from every stored pattern at once
        new = np.sign(s @ w)
        new[new == 0] = 1
        if np.array_equal(new, s):
            break
        s = new
    overlap = (s * xi).sum(1) / dim
    return float(np.mean(overlap >= 0.95)), float(overlap.mean())


@experiment("capacity", CapacityConfig,
            data="random unit Gaussian cue → target pairs (d = embed_dim, 384), probed with their "
                 "own stored cues (plus query_noise); the classical arm stores the signs of the "
                 "same cues",
            title="Capacity: recall vs memories, k and code_dim; classical Hopfield bound 0.138·N",
            reported="no figure given; compare with the classical bound 0.138·N")
def run_capacity(cfg: CapacityConfig, seed: int = 0, progress: Progress = None) -> list[dict]:
    """One row per (arm, sweep, n, wta_k, code_dim)."""
    jobs = [("kwta_hebbian", "n_memories", n, cfg.wta_k, cfg.code_dim) for n in cfg.n_memories]
    jobs += [("kwta_hebbian", "wta_k", cfg.n_fixed, wk, cfg.code_dim) for wk in cfg.wta_ks]
    jobs += [("kwta_hebbian", "code_dim", cfg.n_fixed, cfg.wta_k, D) for D in cfg.code_dims]
    jobs += [("classical_hopfield", "n_memories", n, None, None) for n in cfg.classical_n]
    rows = []
    for i, (arm, sweep, n, wta_k, D) in enumerate(jobs):
        if arm == "kwta_hebbian":
            rec, ov, neurons, crit = kwta_recall(n, D, wta_k, cfg, seed), float("nan"), D, \
                "top-1"
        else:
            rec, ov = classical_hopfield(n, cfg.embed_dim, cfg.hopfield_steps, seed)
            neurons, crit = cfg.embed_dim, "m>=0.95"
        rows.append({"arm": arm, "sweep": sweep, "n_memories": n, "wta_k": wta_k, "code_dim": D,
                     "neurons": neurons, "recall_at_1": rec, "mean_m": ov,
                     "criterion": crit, "bound_0138N": 0.138 * neurons,
                     "n_over_bound": n / (0.138 * neurons),
                     "query_noise": cfg.query_noise if arm == "kwta_hebbian" else 0.0,
                     "embed_dim": cfg.embed_dim,
                     "min_score": ANSWERS["min_score"] if arm == "kwta_hebbian" else None})
        if progress is not None:
            progress(i + 1, len(jobs))
    return rows
