"""Recall on the visitor's own memories: the noise experiment, run on the workspace.

For every seed, up to ``n_queries`` of the workspace's memories are picked (all of them when
there are no more; else a random sample drawn by the seed), and each one's own stored cue
embedding (its first cue row, :meth:`HybridMemory.cue_vectors`) is recalled with Gaussian
noise of σ added per dimension (the engine's ``perturb``: the noise of each (seed, σ) is
drawn once, as the ``noise`` experiment draws it), by each method, with no answer threshold
(``NO_ABSTENTION``: this measures what the memory holds, not when it would answer).
``recall_at_1`` is the fraction of those cues answered with their own memory. It measures how
far apart the visitor's memories lie for each method: look-alike cues fail first.

Only the engine's read-only recall is called; the workspace is never changed (tested: its
bytes are equal before and after). Every value is bounded (:func:`parse`): at most
:data:`MAX_LEVELS` noise levels in [0, :data:`MAX_NOISE`], :data:`MAX_SEEDS` seeds,
:data:`MAX_QUERIES` cues a seed, and at most :data:`MAX_WORK` recalls per method in all.
Pure: no Streamlit.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import torch

from nuonuo_core import NO_ABSTENTION, HybridMemory, perturb
from nuonuo_core.experiments.noise import noise_seed
from nuonuo_core.config import METHODS

from lab import limits

EXPERIMENT = "workspace_recall"
MAX_LEVELS = 8
MAX_NOISE = 1.0              # at d = 384, σ = 1 leaves a cue cosine of about 0.05
MAX_SEEDS = 10
MAX_QUERIES = 500
MAX_WORK = 20_000            # recalls per method: queries x levels x seeds
DEFAULT_NOISE = "0,0.05,0.1,0.15,0.2"
DEFAULT_SEEDS = "0,1,2"
DEFAULT_QUERIES = 200


@dataclass(frozen=True)
class OwnRun:
    noise_stds: tuple[float, ...]
    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    n_queries: int


def _items(text: str, name: str, most: int) -> list[str]:
    if not isinstance(text, str):
        raise ValueError(f"{name} must be text such as 0,1,2")
    items = [v.strip() for v in text.split(",", most)]
    if len(items) > most:
        raise ValueError(f"{name}: at most {most} values, got more")
    if not items or any(v == "" for v in items):
        raise ValueError(f"{name}: empty value in {text[:60]!r} (write values as v1,v2,...)")
    if len(set(items)) != len(items):
        raise ValueError(f"{name}: a value is given twice in {text[:60]!r}")
    return items


def parse(noise_stds: str, methods, seeds: str, n_queries) -> OwnRun:
    """The form's values, checked (ValueError names the value and the allowed range)."""
    levels = tuple(limits.number("noise σ", v, 0.0, MAX_NOISE)
                   for v in _items(noise_stds, "noise σ values", MAX_LEVELS))
    if len(set(levels)) != len(levels):
        raise ValueError("noise σ values: a level is given twice")
    seed_list = tuple(limits.number("seed", v, *limits.SEED_RANGE, integer=True)
                      for v in _items(seeds, "seeds", MAX_SEEDS))
    if len(set(seed_list)) != len(seed_list):
        raise ValueError("seeds: a seed is given twice")
    chosen = tuple(m for m in METHODS if m in set(methods or ()))
    bad = [m for m in (methods or ()) if m not in METHODS]
    if bad or not chosen:
        raise ValueError(f"methods must be a non-empty choice of {METHODS}, got "
                         f"{list(methods or ())[:5]}")
    nq = limits.number("cues per seed", n_queries, 1, MAX_QUERIES, integer=True)
    work = nq * len(levels) * len(seed_list)
    if work > MAX_WORK:
        raise ValueError(f"{nq} cues × {len(levels)} noise levels × {len(seed_list)} seeds = "
                         f"{work:,} recalls per method; at most {MAX_WORK:,} in the lab")
    return OwnRun(levels, chosen, seed_list, nq)


def run(mem: HybridMemory, cfg: OwnRun,
        progress: Callable[[float, str], None] | None = None) -> pd.DataFrame:
    """Tidy records: one row per (seed, noise σ, method) with ``recall_at_1``, the measured
    mean ``cue_cosine`` of the noisy cues to the clean ones, ``n_queries`` and
    ``n_memories``. ValueError for an empty workspace."""
    ids = np.asarray(mem.ids(), dtype=np.int64)
    if len(ids) == 0:
        raise ValueError("the workspace has no memories yet: add some (Memories page) or "
                         "load a demo set (Home), then run this again")
    nq = min(cfg.n_queries, len(ids))
    rows, steps, done = [], len(cfg.seeds) * len(cfg.noise_stds), 0
    for seed in cfg.seeds:
        pick = ids if nq == len(ids) else \
            np.sort(np.random.default_rng(seed).choice(ids, nq, replace=False))
        clean = mem.cue_vectors(pick)
        for sigma in cfg.noise_stds:
            qseed = noise_seed(seed, sigma)
            noisy = perturb(clean, sigma, qseed)
            cos = float((noisy * torch.from_numpy(clean)).sum(1).mean())
            for method in cfg.methods:
                _, got = mem.recall_vectors(clean, k=1, method=method, noise_std=sigma,
                                            seed=qseed, min_score=NO_ABSTENTION)
                rows.append({"experiment": EXPERIMENT, "noise_std": sigma,
                             "cue_cosine": round(cos, 4), "method": method,
                             "recall_at_1": float(np.mean(got[:, 0] == pick)),
                             "n_queries": nq, "n_memories": len(ids), "seed": seed})
            done += 1
            if progress is not None:
                progress(done / steps, f"seed {seed}, noise σ = {sigma:g}")
    return pd.DataFrame(rows)
