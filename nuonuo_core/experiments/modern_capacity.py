"""Modern Hopfield with more patterns than units: recall vs stored patterns, beside the
classical net and plain nearest-neighbour lookup on the same sets.

Patterns are ±1 vectors of N = ``n_units`` units: random (``correlation`` 0), or correlated:
every pattern copies a shared random prototype bit by bit with probability (1 + √c)/2, so two
patterns have expected overlap m = c (``correlation``). Probes are ``n_probes`` stored patterns
with exactly round(flip_fraction · N) bits flipped. Models:

* ``modern``: ξ ← Xᵀ softmax(β X ξ) on X/√N (so β multiplies cosines, as in the engine and
  :func:`nuonuo_core.patterns.modern_run`), up to ``max_steps`` steps; image sign(ξ);
* ``classical``: W = XᵀX / N, zero diagonal, asynchronous sign updates
  (:func:`nuonuo_core.patterns.classical_run`), the 0.138·N net;
* ``nearest``: the stored pattern with the largest X·s (a lookup table: the baseline).

Columns: ``overlap`` is the mean fraction of units equal to the probed pattern after settling
((1 + m)/2 for the textbook overlap m = s·ξ/N, also reported as ``m``); ``recalled`` the
fraction of probes with overlap >= 0.98 (:data:`nuonuo_core.patterns.RECALLED`).

The bound (Demircigil, Heusel, Löwe, Upgang & Vermet 2017, J. Stat. Phys. 168:288, Thm 3; the
exponential capacity Ramsauer et al. 2020, "Hopfield Networks is All You Need", build on):
with the interaction F(x) = eˣ on dot products, M = exp(αN) random patterns are retrieved from
probes with a fraction ρ of flipped bits when α < I(1 − 2ρ)/2, I(x) = ½[(1+x)ln(1+x) +
(1−x)ln(1−x)]. ``bound_patterns`` = exp(N·I(1 − 2ρ)/2) (for random patterns only; F = eˣ is
β = N here, since X ξ are cosines); ``n_over_bound`` = n_patterns / bound_patterns.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from nuonuo_core import patterns as pt
from nuonuo_core.blas import one_blas_thread

from .registry import Progress, check_range, experiment, option, validate_fields

MODELS = ("modern", "classical", "nearest")


@dataclass(frozen=True)
class ModernCapacityConfig:
    n_units: tuple[int, ...] = (32, 64, 128)
    n_patterns: tuple[int, ...] = (16, 64, 256, 1024, 4096, 16384, 65536)
    correlation: tuple[float, ...] = option(
        (0.0, 0.25), help="expected overlap m between two stored patterns; 0: random")
    flip_fraction: tuple[float, ...] = (0.1, 0.2)
    models: tuple[str, ...] = option(MODELS, choices=MODELS)
    beta: float = 64.0
    max_steps: int = 20
    n_probes: int = 50

    def __post_init__(self) -> None:
        validate_fields(self)
        check_range(self, "n_units", 4, 4096)
        check_range(self, "n_patterns", 1, 200_000)
        check_range(self, "correlation", 0.0, 0.99)
        check_range(self, "flip_fraction", 0.0, 0.5)
        check_range(self, "beta", 1e-3, 1e6)
        check_range(self, "max_steps", 1, 200)
        check_range(self, "n_probes", 1, 10_000)


def make_patterns(p: int, n: int, correlation: float, seed: int) -> np.ndarray:
    """(p, n) ±1 float32 patterns, nested in p; pairwise E[m] = correlation."""
    rng = np.random.default_rng([seed, n, int(round(correlation * 1e6))])
    u = rng.random((p, n))
    if correlation == 0:
        return np.where(u < 0.5, 1.0, -1.0).astype(np.float32)
    proto = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    keep = u < (1 + math.sqrt(correlation)) / 2
    return np.where(keep, proto, -proto).astype(np.float32)


def modern_settle(x: np.ndarray, probes: np.ndarray, beta: float, max_steps: int,
                  eps: float = 1e-4, chunk: int = 64) -> np.ndarray:
    """Final images sign(ξ) of :func:`nuonuo_core.patterns.modern_run` (same update, same
    scaling), in (m, P) memory instead of (m, P, N): x (P, N), probes (m, N) ±1."""
    scale = np.float32(1.0 / math.sqrt(x.shape[1]))
    xs = torch.from_numpy(x * scale)
    out = []
    for s in range(0, probes.shape[0], chunk):
        xi = torch.from_numpy(probes[s:s + chunk] * scale)
        image = probes[s:s + chunk].copy()
        active = torch.ones(xi.shape[0], dtype=torch.bool)
        for _ in range(max_steps):
            attn = torch.softmax(beta * (xi @ xs.T), dim=-1)
            new = attn @ xs
            moved = (new - xi).norm(dim=-1) >= eps
            xi = torch.where(active[:, None], new, xi)
            image = pt.pm1_sign(xi.numpy(), keep=image)
            active &= moved
            if not bool(active.any()):
                break
        out.append(image)
    return np.concatenate(out)


def info(x: float) -> float:
    """I(x) = ½[(1+x)ln(1+x) + (1−x)ln(1−x)] (0·ln 0 = 0)."""
    def t(v: float) -> float:
        return v * math.log(v) if v > 0 else 0.0
    return 0.5 * (t(1 + x) + t(1 - x))


def bound_patterns(n_units: int, flip_fraction: float) -> float:
    """exp(N·I(1 − 2ρ)/2): Demircigil et al.'s capacity for F = eˣ at ρ flipped bits."""
    return math.exp(n_units * info(1 - 2 * flip_fraction) / 2)


@experiment("modern_capacity", ModernCapacityConfig,
            data="random ±1 patterns of n_units units, or correlated ones (copies of a shared "
                 "prototype, pairwise overlap m = correlation); probes are stored patterns with "
                 "flip_fraction of their bits flipped",
            title="Modern Hopfield past N patterns: overlap vs stored patterns (up to 65K at "
                  "N 32-128), random and correlated, vs classical and nearest neighbour",
            reported="modern Hopfield: exponential capacity (Demircigil et al. 2017, Ramsauer "
                     "et al. 2020); classical: 0.138·N",
            presets={"quick": {"n_patterns": (16, 64, 256, 1024, 4096, 16384, 65536),
                               "n_probes": 50}})
def run_modern_capacity(cfg: ModernCapacityConfig, seed: int = 0,
                        progress: Progress = None) -> list[dict]:
    """One row per (n_units, correlation, n_patterns, flip_fraction, model)."""
    with one_blas_thread():
        return _run(cfg, seed, progress)


def _run(cfg: ModernCapacityConfig, seed: int, progress: Progress) -> list[dict]:
    rows = []
    jobs = [(n, c) for n in cfg.n_units for c in cfg.correlation]
    for j, (n, c) in enumerate(jobs):
        full = make_patterns(max(cfg.n_patterns), n, c, seed)
        for p in sorted(set(cfg.n_patterns)):
            x = full[:p]
            which = np.random.default_rng([seed, n, p]).choice(p, min(p, cfg.n_probes),
                                                               replace=False)
            pairs = x[:min(p, 200)] @ x[:min(p, 200)].T / n
            m_pairs = float(pairs[np.triu_indices(len(pairs), 1)].mean()) if p > 1 \
                else float("nan")
            w = pt.hebbian_weights(x) if "classical" in cfg.models else None
            for i, f in enumerate(cfg.flip_fraction):
                probes = pt.corrupt(x[which], f, seed + 1000 * i + p)
                for model in cfg.models:
                    if model == "modern":
                        final = modern_settle(x, probes, cfg.beta, cfg.max_steps)
                    elif model == "classical" and w is not None:
                        final = pt.classical_run(w, probes, "async", cfg.max_steps,
                                                 seed + 1).final
                    else:
                        final = x[pt.nearest(x, probes)]
                    ov = pt.overlap(final, x[which])
                    bound = bound_patterns(n, f)
                    rows.append({"model": model, "n_units": n, "n_patterns": p,
                                 "correlation": c, "measured_correlation": m_pairs,
                                 "flip_fraction": f, "overlap": float(ov.mean()),
                                 "m": float(2 * ov.mean() - 1),
                                 "recalled": float(np.mean(ov >= pt.RECALLED)),
                                 "load": p / n, "bound_0138N": 0.138 * n,
                                 "bound_patterns": bound if c == 0 else float("nan"),
                                 "n_over_bound": p / bound if c == 0 else float("nan"),
                                 "n_probes": len(which)})
        if progress is not None:
            progress(j + 1, len(jobs))
    return rows
