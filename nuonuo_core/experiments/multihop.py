"""Finding 3 - multi-hop: follow W along stored chains v0 -> v1 -> ... -> v_L.

Each chain is L pairs (v_i -> v_{i+1}) of random unit vectors stored with ``add_vectors``;
the target code of pair i is then the cue code of pair i+1, so W can be iterated. From the
cue code of v0 we apply code <- kwta(W · code) ``hops`` times (what ``HybridMemory.chain``
does) and, at each hop h, report the cosine of the recalled code with the *expected* code
of v_{h} (overlap / k) - not the nearest stored code, which ``chain`` reports - and the
fraction of chains whose recalled code is exactly the expected one. ``n_chains`` chains
share one W; more chains -> more crosstalk.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .engine import memory

from .registry import Progress, check_range, experiment, option, unit_vectors, validate_fields


@dataclass(frozen=True)
class MultihopConfig:
    chain_length: int = 10
    n_chains: tuple[int, ...] = (1, 100, 300, 1000)
    code_dims: tuple[int, ...] = (2048, 16384)
    wta_k: int = option(20, aliases=("k",), help="k-WTA winners per code")
    n_tracked: int = 50

    def __post_init__(self) -> None:
        validate_fields(self)
        check_range(self, "chain_length", 1, 100)
        check_range(self, "n_chains", 1)
        check_range(self, "code_dims", max(self.wta_k, 2))
        check_range(self, "wta_k", 1)
        check_range(self, "n_tracked", 1)


@experiment("multihop", MultihopConfig,
            data="chains v0 → v1 → … of random unit Gaussian vectors (d 384), stored as pairs in "
                 "one W; walked from each chain's first cue code",
            title="Multi-hop: code cosine at each hop of a chain, vs chains sharing W",
            reported="6 hops at cosine 1.0")
def run_multihop(cfg: MultihopConfig, seed: int = 0, progress: Progress = None) -> list[dict]:
    """One row per (code_dim, n_chains, hop): mean code cosine and the fraction of exact codes over
    the first ``n_tracked`` chains."""
    rows, L = [], cfg.chain_length
    jobs = [(D, c) for D in cfg.code_dims for c in cfg.n_chains]
    for j, (D, n_chains) in enumerate(jobs):
        vecs = unit_vectors(n_chains * (L + 1), 384, seed).reshape(n_chains, L + 1, 384)
        mem = memory(code_dim=D, k=cfg.wta_k, seed=seed, w_format="sparse")
        ids = np.asarray(mem.add_vectors(vecs[:, :-1].reshape(-1, 384),
                                         vecs[:, 1:].reshape(-1, 384))).reshape(n_chains, L)
        tracked = ids[: min(cfg.n_tracked, n_chains)]
        cue_codes, _ = mem.codes(np.ascontiguousarray(tracked[:, 0]))
        code = cue_codes
        for hop in range(1, L + 1):
            code = mem.propagate(code)  # W · code + k-WTA, the step HybridMemory.chain takes
            # expected: the target code of pair hop-1 of each tracked chain
            _, want = mem.codes(np.ascontiguousarray(tracked[:, hop - 1]))
            overlap = np.array([len(np.intersect1d(a, b)) for a, b in
                                zip(code, want)]) / cfg.wta_k
            rows.append({"code_dim": D, "n_chains": n_chains, "chain_length": L,
                         "n_pairs": n_chains * L, "hop": hop,
                         "cosine": float(overlap.mean()), "min_cosine": float(overlap.min()),
                         "exact": float(np.mean(overlap == 1.0)),
                         "n_tracked": len(tracked)})
        if progress is not None:
            progress(j + 1, len(jobs))
    return rows
