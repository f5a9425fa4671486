"""Pattern completion on ±1 pixel patterns: classical Hopfield, modern Hopfield, the hybrid.

Shapes: P stored patterns X (P, N) of N units with values ±1; m probes S (m, N).

* Classical (Hopfield 1982): W = (1/N) Σ_μ ξ^μ ξ^μᵀ with a zero diagonal; a unit takes the
  sign of its local field h = W s (h = 0 keeps its value). ``sync`` updates every unit at once (may
  cycle between two states); ``async`` updates one unit at a time in a seeded random order
  (one step = one sweep over all N units), under which E = -½ sᵀ W s never rises.
* Modern (Ramsauer et al. 2020): ξ ← Xᵀ softmax(β X ξ) on the unit-scaled patterns X/√N (so
  X ξ are cosines and β means what it means in the engine), via
  :func:`~nuonuo_core.functional.hopfield_settle`; the pixel image is sign(ξ).
* Hybrid: see :class:`HybridPatterns`.

One name, one meaning: **overlap** is the fraction of pixels equal to a stored pattern (1.0 =
recalled exactly, 0.5 = unrelated); the textbook order parameter m = s·ξ / N ∈ [-1, 1] is
called **m** (overlap = (1 + m) / 2), as in the capacity experiments' ``mean_m``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .functional import hopfield_energy, hopfield_settle

UPDATES = ("async", "sync")
RECALLED = 0.98  # a state is named as a stored pattern when >= 98 % of its pixels agree


def check_pm1(x, what: str) -> np.ndarray:
    """x as a float32 2-d array of ±1 values, else ValueError naming ``what``."""
    a = np.asarray(x, dtype=np.float32)
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"{what} must be a non-empty (n, N) array, got shape {a.shape}")
    if not np.all(np.abs(a) == 1):
        raise ValueError(f"{what} must hold only -1 and +1")
    return a


def pm1_sign(x: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """sign(x) in {-1, +1}; where x == 0 the value of ``keep`` (else +1)."""
    out = np.where(x > 0, 1.0, -1.0).astype(np.float32)
    zero = x == 0
    if zero.any():
        out[zero] = 1.0 if keep is None else keep[zero]
    return out


def overlap(states, pattern) -> np.ndarray:
    """Fraction of pixels of each state (…, N) equal to ``pattern`` (…, N) -> (…)."""
    return np.mean(np.asarray(states) == np.asarray(pattern), axis=-1)


def hebbian_weights(patterns) -> np.ndarray:
    """W = (1/N) Xᵀ X with a zero diagonal: (N, N) float32 for patterns X (P, N) of ±1."""
    x = check_pm1(patterns, "patterns")
    w = (x.T @ x) / np.float32(x.shape[1])
    np.fill_diagonal(w, 0.0)
    return w


def classical_energy(w: np.ndarray, states) -> np.ndarray:
    """E = -½ sᵀ W s for each state (m, N) -> (m,)."""
    s = np.atleast_2d(np.asarray(states, dtype=np.float32))
    return -0.5 * np.einsum("mn,mn->m", s @ w, s)


def corrupt(patterns, flip_fraction: float, seed: int, occlude: bool = False,
            shape: tuple[int, int] | None = None) -> np.ndarray:
    """Probes from patterns (m, N): with ``occlude`` the bottom half of each (h, w) image is
    erased to -1 (background), then exactly round(flip_fraction · N) pixels per probe, chosen
    at random (seeded), are flipped."""
    x = check_pm1(patterns, "patterns").copy()
    if not (0.0 <= flip_fraction <= 1.0):
        raise ValueError(f"flip_fraction must be in [0, 1], got {flip_fraction!r}")
    m, n = x.shape
    if occlude:
        h, w = shape or (1, n)
        if h * w != n:
            raise ValueError(f"shape {shape} does not hold N = {n} units")
        x[:, (h // 2) * w if h > 1 else n // 2:] = -1.0
    n_flip = int(round(flip_fraction * n))
    if n_flip:
        rng = np.random.default_rng(seed)
        cols = np.argsort(rng.random((m, n)), axis=1)[:, :n_flip]
        rows = np.repeat(np.arange(m), n_flip)
        x[rows, cols.ravel()] *= -1.0
    return x


@dataclass
class Run:
    """Trajectories of m probes: ``states`` and ``energy`` per step (entry 0 is the start),
    each (m, N) ±1 (0 where a model recalled nothing) and (m,); ``steps`` (m,) the steps
    that changed the state (0 for a fixed point)."""

    states: list[np.ndarray]
    energy: list[np.ndarray]
    steps: np.ndarray
    extra: dict = field(default_factory=dict)

    @property
    def final(self) -> np.ndarray:
        return self.states[-1]


def async_sweep(w: np.ndarray, s: np.ndarray, h: np.ndarray, order: np.ndarray,
                on_update=None) -> np.ndarray:
    """One asynchronous sweep, in place: probe p updates its units one at a time in the order
    order[p] to the sign of the local field h (0 keeps the value); h = W s is kept current by
    a rank-1 update after every flip, so a sweep costs N scalar checks plus O(N) per flip.
    Returns (m,) the number of flips. ``on_update(s)`` (tests) runs after every unit."""
    m = s.shape[0]
    flips = np.zeros(m, dtype=np.int64)
    for p in range(m):
        sp, hp = s[p], h[p]
        for i in order[p].tolist():
            field_, old = hp[i], sp[i]
            if (field_ > 0 and old < 0) or (field_ < 0 and old > 0):
                sp[i] = -old
                hp -= (2.0 * old) * w[i]             # W symmetric: column i = row i
                flips[p] += 1
            if on_update is not None:
                on_update(s)
    return flips


def classical_run(w: np.ndarray, probes, update: str = "async", max_steps: int = 20,
                  seed: int = 0) -> Run:
    """Settle probes (m, N) in the classical network W (N, N): up to ``max_steps`` steps (an
    async step is a sweep over all N units in a fresh seeded random order per probe)."""
    if update not in UPDATES:
        raise ValueError(f"update must be one of {UPDATES}, got {update!r}")
    s = check_pm1(probes, "probes").copy()
    m, n = s.shape
    if w.shape != (n, n):
        raise ValueError(f"W must be ({n}, {n}) for probes of N = {n}, got {w.shape}")
    rng = np.random.default_rng(seed)
    h = s @ w                                   # local fields; E = -½ Σ s·h reuses them
    states, energy = [s.copy()], [-0.5 * np.einsum("mn,mn->m", s, h)]
    steps = np.zeros(m, dtype=np.int64)
    active = np.ones(m, dtype=bool)
    for _ in range(max_steps):
        if update == "sync":
            new = pm1_sign(h, keep=s)
            changed = np.any(new != s, axis=1)
            s = new
            h = s @ w
        else:
            order = np.argsort(rng.random((m, n)), axis=1)
            changed = async_sweep(w, s, h, order) > 0
        active &= changed
        steps += active
        states.append(s.copy())
        energy.append(-0.5 * np.einsum("mn,mn->m", s, h))
        if not active.any():
            break
    return Run(states, energy, steps)


def modern_run(patterns, probes, beta: float, max_steps: int = 20, eps: float = 1e-4) -> Run:
    """Settle probes with ξ ← Xᵀ softmax(β X ξ) over the unit-scaled stored patterns X/√N.

    ``states`` are the pixel images sign(ξ) per step; ``extra["attention"]`` the (m, P)
    softmax weights per step; energy is the modern energy -lse(β, Xξ)/β + ½ ξᵀξ."""
    if not (np.isfinite(beta) and beta > 0):
        raise ValueError(f"beta must be a finite number > 0, got {beta!r}")
    x = check_pm1(patterns, "patterns")
    s = check_pm1(probes, "probes")
    if s.shape[1] != x.shape[1]:
        raise ValueError(f"probes have N = {s.shape[1]} units, patterns N = {x.shape[1]}")
    scale = np.float32(1.0 / np.sqrt(x.shape[1]))
    xs = torch.from_numpy(x * scale)[None].expand(s.shape[0], -1, -1)
    xi = torch.from_numpy(s * scale)
    states, energy, attention = [s.copy()], [hopfield_energy(xi, xs, beta).numpy()], []
    steps = np.zeros(s.shape[0], dtype=np.int64)
    for _ in range(max_steps):
        res = hopfield_settle(xi, xs, beta, max_steps=1, eps=eps)
        moved = (res.state - xi).norm(dim=-1).numpy() >= eps
        xi = res.state
        steps += moved & (steps == len(states) - 1)
        states.append(pm1_sign(xi.numpy(), keep=states[-1]))
        energy.append(hopfield_energy(xi, xs, beta).numpy())
        attention.append(res.attention[-1].numpy())
        if not moved.any():
            break
    return Run(states, energy, steps, {"attention": attention})


def nearest(patterns, states) -> np.ndarray:
    """Index of the stored pattern with the largest dot product X s, per state (m,)."""
    return np.argmax(np.asarray(states, np.float32) @ np.asarray(patterns, np.float32).T, axis=1)


@dataclass(frozen=True)
class StateName:
    """What a settled state is: kind in {"pattern", "inverted", "mixture", "spurious",
    "none"}, the stored patterns involved (signed: -1 for an inverted member), the overlap of
    the state with the named pattern or mixture, and a sentence."""

    kind: str
    members: tuple[int, ...]
    signs: tuple[int, ...]
    fit: float
    text: str


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def name_state(state, patterns, labels=None, threshold: float = RECALLED,
               mix_sizes=(3, 5, 7)) -> StateName:
    """Name a state (N,) against stored patterns (P, N): a stored pattern (overlap >=
    ``threshold``), an inverted one, a mixture sign(Σ ± ξ) of the r patterns with the largest
    |m| (r odd, best fit >= ``threshold``), a spurious state, or none (all zero)."""
    s = np.asarray(state, dtype=np.float32).reshape(-1)
    x = check_pm1(patterns, "patterns")
    names = [str(v) for v in (labels if labels is not None else range(len(x)))]
    if not np.any(s):
        return StateName("none", (), (), 0.0, "nothing recalled")
    m = (x @ s) / x.shape[1]                       # m of each pattern, in [-1, 1]
    best = int(np.argmax(np.abs(m)))
    fit = float((1 + abs(m[best])) / 2)
    sign = 1 if m[best] >= 0 else -1
    if fit >= threshold:
        kind = "pattern" if sign > 0 else "inverted"
        text = f"pattern {names[best]}" if sign > 0 else f"inverted pattern {names[best]}"
        return StateName(kind, (best,), (sign,), fit, text)
    order = np.argsort(-np.abs(m), kind="stable")
    top = None
    for r in mix_sizes:
        if r > len(x):
            break
        idx = order[:r]
        sg = np.where(m[idx] >= 0, 1.0, -1.0)
        mix_fit = float(overlap(s, pm1_sign(sg @ x[idx])))
        if top is None or mix_fit > top[0]:
            top = (mix_fit, idx, sg)
    if top is not None and top[0] >= threshold:
        idx, sg = top[1], top[2]
        parts = [("inverted " if g < 0 else "") + names[i] for i, g in zip(idx, sg)]
        return StateName("mixture", tuple(int(i) for i in idx), tuple(int(g) for g in sg),
                         top[0], f"a mixture of patterns {_join(parts)}")
    near = f"{'inverted ' if sign < 0 else ''}pattern {names[best]}"
    return StateName("spurious", (best,), (sign,), fit,
                     f"a spurious state (nearest: {near}, overlap {fit:.2f})")
