"""Pattern completion: overlap after settling vs stored patterns and corruption, per model.

Stored patterns are ±1 pixel grids (``random``: seeded, nested - the first P of a larger set
are the same P; ``glyphs``: A–Z, 0–9 rendered with Pillow's bundled font). Probes are
``n_probes`` stored patterns (chosen at random, seeded) with exactly round(flip_fraction · N)
pixels flipped (and, with ``occlude``, the bottom half erased first). Models:

* ``classical``: Hebbian W = XᵀX / N (zero diagonal), sign updates (``update``), up to
  ``max_steps`` steps (an async step is one sweep over all N units).
* ``modern``: ξ ← Xᵀ softmax(β X ξ) on X/√N, up to ``max_steps`` steps; image sign(ξ).
* ``hybrid``: the engine's k-WTA codes + W (D = ``code_dim``, ``k``), ``hybrid_hops`` hops,
  decoded to a stored pattern (blank when nothing is recalled, overlap 0 then).

``overlap`` = mean over probes of the fraction of pixels equal to the probed stored pattern
after settling, (1 + m) / 2 for the textbook overlap m = s·ξ / N (``m`` is reported too);
``recalled`` = fraction of probes with overlap >= 0.98 (``patterns.RECALLED``).
``n_patterns`` left empty is the set's own grid (:data:`DEFAULT_N_PATTERNS`: the glyph set
holds 36 letters).
The classical bound is 0.138 · N stored patterns (random patterns, small corruption).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nuonuo_core import pattern_sets, patterns as pt
from nuonuo_core.blas import one_blas_thread
from nuonuo_core.pattern_hybrid import HybridPatterns

from .registry import Progress, check_range, experiment, option, validate_fields

MODELS = ("classical", "modern", "hybrid")
DEFAULT_N_PATTERNS = {"random": (20, 60, 100, 140, 180, 220, 300), "glyphs": (3, 10, 20, 36)}


@dataclass(frozen=True)
class PatternCompletionConfig:
    pattern_set: str = option("random", choices=pattern_sets.PATTERN_SETS)
    n_units: int = 1024
    n_patterns: tuple[int, ...] = option((), help="stored patterns; empty: the set's own grid "
                                         + "; ".join(f"{s} {','.join(map(str, v))}" for s, v
                                                     in DEFAULT_N_PATTERNS.items()))
    flip_fraction: tuple[float, ...] = (0.1,)
    occlude: bool = False
    models: tuple[str, ...] = option(("classical", "modern"), choices=MODELS)
    beta: float = 64.0
    update: str = option("async", choices=pt.UPDATES)
    max_steps: int = 20
    n_probes: int = 20
    code_dim: int = 4096
    wta_k: int = option(20, aliases=("k",), help="k-WTA winners per code (hybrid)")
    hybrid_hops: int = 3

    def __post_init__(self) -> None:
        if self.n_patterns == () and self.pattern_set in DEFAULT_N_PATTERNS:
            object.__setattr__(self, "n_patterns", DEFAULT_N_PATTERNS[self.pattern_set])
        validate_fields(self)
        check_range(self, "n_units", 16, pattern_sets.MAX_UNITS)
        if self.pattern_set == "glyphs":
            pattern_sets.glyph_side(self.n_units)
            check_range(self, "n_patterns", 1, len(pattern_sets.GLYPHS))
        check_range(self, "n_patterns", 1, 2000)
        check_range(self, "flip_fraction", 0.0, 1.0)
        check_range(self, "beta", 1e-3, 1e6)
        check_range(self, "max_steps", 1, 200)
        check_range(self, "n_probes", 1, 1000)
        check_range(self, "code_dim", 64, 65536)
        check_range(self, "wta_k", 1, self.code_dim)
        check_range(self, "hybrid_hops", 1, 20)


def settle(model: str, x: np.ndarray, probes: np.ndarray, cfg, seed: int,
           w: np.ndarray | None = None, hybrid: HybridPatterns | None = None) -> pt.Run:
    """One model's run on probes (m, N) over stored patterns x (P, N)."""
    if model == "classical":
        return pt.classical_run(pt.hebbian_weights(x) if w is None else w, probes,
                                cfg.update, cfg.max_steps, seed)
    if model == "modern":
        return pt.modern_run(x, probes, cfg.beta, cfg.max_steps)
    if model == "hybrid":
        hybrid = hybrid or HybridPatterns(x, cfg.code_dim, cfg.wta_k, seed)
        return hybrid.run(probes, cfg.hybrid_hops)
    raise ValueError(f"model must be one of {MODELS}, got {model!r}")


@experiment("pattern_completion", PatternCompletionConfig,
            data="±1 pixel images of n_units pixels: random patterns or the letters A–Z and "
                 "digits 0–9 (glyphs, 32 × 32), probed with flip_fraction of their pixels flipped "
                 "(or the bottom half erased)",
            title="Pattern completion on ±1 images: overlap after settling vs stored patterns, "
                  "classical / modern Hopfield / hybrid",
            reported="classical bound 0.138·N (Amit et al.); modern: exponential capacity")
def run_pattern_completion(cfg: PatternCompletionConfig, seed: int = 0,
                           progress: Progress = None) -> list[dict]:
    """One row per (model, n_patterns, flip_fraction); BLAS and torch on one thread."""
    with one_blas_thread():
        return _run(cfg, seed, progress)


def _run(cfg: PatternCompletionConfig, seed: int, progress: Progress) -> list[dict]:
    full = pattern_sets.make_set(cfg.pattern_set, max(cfg.n_patterns), cfg.n_units, seed)
    n = cfg.n_units
    total = len(cfg.n_patterns) * len(cfg.flip_fraction) * len(cfg.models)
    rows, done = [], 0
    for p in cfg.n_patterns:
        x = full.patterns[:p]
        which = np.random.default_rng([seed, p]).choice(p, min(p, cfg.n_probes), replace=False)
        w = pt.hebbian_weights(x) if "classical" in cfg.models else None
        hyb = (HybridPatterns(x, cfg.code_dim, cfg.wta_k, seed) if "hybrid" in cfg.models
               else None)
        for j, f in enumerate(cfg.flip_fraction):
            probes = pt.corrupt(x[which], f, seed + 1000 * j + p, cfg.occlude, full.shape)
            start = pt.overlap(probes, x[which])
            for model in cfg.models:
                run = settle(model, x, probes, cfg, seed + 1, w, hyb)
                ov = pt.overlap(run.final, x[which])
                rows.append({
                    "model": model, "pattern_set": cfg.pattern_set, "n_units": n,
                    "n_patterns": p, "flip_fraction": f, "overlap": float(ov.mean()),
                    "m": float(2 * ov.mean() - 1),
                    "overlap_min": float(ov.min()),
                    "recalled": float(np.mean(ov >= pt.RECALLED)),
                    "start_overlap": float(start.mean()), "steps_mean": float(run.steps.mean()),
                    "load": p / n, "bound_0138N": 0.138 * n, "n_probes": len(which)})
                done += 1
                if progress is not None:
                    progress(done, total)
    return rows
