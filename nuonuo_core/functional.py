"""Pure functions of the engine: k-WTA, noise, Hopfield settling, Hebbian update.

Shapes: n = rows, d = embedding dim, D = code dim, K = stored patterns in play.
Each function works on torch tensors (any device); numpy arrays are accepted where noted.
"""
from __future__ import annotations

from dataclasses import dataclass

from typing import Any

import numpy as np
import torch

from .ops import active_set, topk_set


def as_tensor(x: Any, device: torch.device | str | None = None,
              dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """numpy array / list / tensor -> tensor of ``dtype`` on ``device`` (no copy when possible)."""
    if isinstance(x, torch.Tensor):
        t = x
    else:
        t = torch.from_numpy(np.ascontiguousarray(np.asarray(x)))
    return t.to(device=device or t.device, dtype=dtype)


def normalize(x: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """L2-normalise each row of ``x`` (…, d)."""
    return x / x.norm(dim=-1, keepdim=True).clamp_min(eps)


def kwta_indices(x: torch.Tensor, k: int, positive_only: bool = False) -> torch.Tensor:
    """Indices of the k largest entries of each row of ``x`` (n, D) -> (n, k), sorted ascending.

    Ties are broken deterministically in favour of the lower index (:func:`ops.topk_stable`,
    the one tie rule); with ``positive_only`` ties among units with no activity are left
    unresolved (:func:`kwta_active` drops those units).
    """
    if x.dim() != 2:
        raise ValueError(f"kwta expects a 2-d (n, D) tensor, got shape {tuple(x.shape)}")
    n, dim = x.shape
    if not 1 <= k <= dim:
        raise ValueError(f"k must be in [1, {dim}], got {k}")
    if k == dim:
        return torch.arange(dim, device=x.device).expand(n, dim).clone()
    return topk_set(x, k, ties_above=0.0 if positive_only else None)


def kwta_active(x: torch.Tensor, k: int) -> torch.Tensor:
    """k-WTA among units with activity > 0: (n, D) -> (n, k) unit indices, the active winners
    ascending, then -1 where fewer than k units are active (all-zero activity -> all -1).
    Winners as :func:`kwta_indices` (:func:`ops.active_set`); callers read -1 as "no unit"."""
    if x.dim() != 2:
        raise ValueError(f"kwta expects a 2-d (n, D) tensor, got shape {tuple(x.shape)}")
    if not 1 <= k <= x.shape[1]:
        raise ValueError(f"k must be in [1, {x.shape[1]}], got {k}")
    return active_set(x, k)


def kwta(x: torch.Tensor, k: int) -> torch.Tensor:
    """k-winners-take-all: a binary (n, D) code with exactly k ones per row (the k largest)."""
    x = as_tensor(x)
    squeeze = x.dim() == 1
    x2 = x[None] if squeeze else x
    out = torch.zeros_like(x2)
    out.scatter_(1, kwta_indices(x2, k), 1.0)
    return out[0] if squeeze else out


def perturb(x: Any, noise_std: float, seed: int | None = 0) -> torch.Tensor:
    """normalise(x + noise_std · N(0, I)) for each row of ``x`` (n, d) or (d,).

    With a fixed ``seed`` the same noise is drawn every time (drawn on the CPU, so it is
    the same on every device). ``noise_std == 0`` returns the normalised input.
    """
    if not (noise_std >= 0 and np.isfinite(noise_std)):
        raise ValueError(f"noise_std must be a finite number >= 0, got {noise_std!r}")
    x = as_tensor(x)
    if noise_std == 0:
        return normalize(x)
    gen = torch.Generator().manual_seed(int(seed)) if seed is not None else None
    noise = torch.randn(x.shape, generator=gen, dtype=torch.float32).to(x.device)
    return normalize(x + noise_std * noise)


def noise_for_cosine(cos: float, dim: int) -> float:
    """The noise_std at which E[cos(perturb(x), x)] ≈ ``cos`` for a unit x in ``dim`` dims."""
    if not 0 < cos <= 1:
        raise ValueError(f"cos must be in (0, 1], got {cos}")
    return float(np.sqrt((1.0 / cos**2 - 1.0) / dim))


def hopfield_energy(xi: torch.Tensor, patterns: torch.Tensor, beta: float,
                    mask: torch.Tensor | None = None) -> torch.Tensor:
    """Modern-Hopfield energy E = −lse(β, Xξ) + ½ ξᵀξ for ξ (…, d), X (…, K, d) -> (…).

    ``mask`` (…, K), False for padding slots: they are left out of the log-sum-exp (a zero
    padding row would otherwise add exp(0) and bend the energy). No live pattern -> ½ ξᵀξ."""
    logits = beta * torch.einsum("...kd,...d->...k", patterns, xi)
    if mask is not None:
        logits = logits.masked_fill(~mask, -float("inf"))
    lse = torch.logsumexp(logits, dim=-1)
    lse = torch.where(torch.isfinite(lse), lse, torch.zeros_like(lse))
    return -lse / beta + 0.5 * (xi * xi).sum(-1)


@dataclass
class SettleResult:
    """Outcome of :func:`hopfield_settle` for m queries over K patterns each.

    state: (m, d) settled ξ. attention: list over steps of (m, K) softmax weights.
    energy: list over steps (first entry: the start) of (m,) energies. steps: (m,) steps taken.
    """

    state: torch.Tensor
    attention: list[torch.Tensor]
    energy: list[torch.Tensor]
    steps: torch.Tensor


def hopfield_settle(xi: torch.Tensor, patterns: torch.Tensor, beta: float,
                    max_steps: int = 10, eps: float = 1e-4, mask: torch.Tensor | None = None,
                    trace: bool = False) -> SettleResult:
    """Settle ξ ← Xᵀ softmax(β X ξ) until ‖Δξ‖ < eps or ``max_steps``.

    Args:
        xi: (m, d) start states (the queries).
        patterns: (m, K, d) stored patterns X each query settles over (stage-1 candidates).
        mask: optional (m, K) bool, False for padding slots that must get no attention.
        trace: keep every step's attention and energy (for the UI); else only the last.
    """
    if xi.dim() != 2 or patterns.dim() != 3 or patterns.shape[0] != xi.shape[0] \
            or patterns.shape[2] != xi.shape[1]:
        raise ValueError(f"hopfield_settle expects xi (m, d) and patterns (m, K, d), "
                         f"got {tuple(xi.shape)} and {tuple(patterns.shape)}")
    state = xi
    active = torch.ones(xi.shape[0], dtype=torch.bool, device=xi.device)
    steps = torch.zeros(xi.shape[0], dtype=torch.long, device=xi.device)
    bias = None if mask is None else torch.zeros(mask.shape, dtype=xi.dtype,
                                                  device=xi.device).masked_fill(
        ~mask, torch.finfo(xi.dtype).min)
    attn_log: list[torch.Tensor] = []
    energy_log = [hopfield_energy(state, patterns, beta, mask)] if trace else []
    for _ in range(max_steps):
        logits = beta * torch.bmm(patterns, state.unsqueeze(-1)).squeeze(-1)  # (m, K)
        if bias is not None:
            logits = logits + bias
        attn = torch.softmax(logits, dim=-1)
        new = torch.bmm(attn.unsqueeze(1), patterns).squeeze(1)  # (m, d)
        delta = (new - state).norm(dim=-1)
        state = torch.where(active[:, None], new, state)
        steps += active.long()
        if trace or not attn_log:
            attn_log.append(attn)
        else:
            attn_log[-1] = attn
        if trace:
            energy_log.append(hopfield_energy(state, patterns, beta, mask))
        active = active & (delta >= eps)
        if not bool(active.any()):
            break
    return SettleResult(state=state, attention=attn_log, energy=energy_log, steps=steps)


def hebbian_update(W: torch.Tensor, target_codes: torch.Tensor, cue_codes: torch.Tensor,
                   lr: float = 1.0) -> torch.Tensor:
    """Dense reference rule: W + lr · Σ_i outer(target_i, cue_i); codes (n, D), W (D, D)."""
    return W + lr * target_codes.T.to(W.dtype) @ cue_codes.to(W.dtype)


def expand_segments(starts: torch.Tensor, lengths: torch.Tensor
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """Enumerate the cells of segments [start, start + length): -> (cells, segment of each).

    A searchsorted formulation: on the CPU ``torch.repeat_interleave`` is 100× slower here.
    """
    ends = lengths.cumsum(0)
    total = int(ends[-1]) if ends.numel() else 0
    pos = torch.arange(total, device=starts.device)
    seg = torch.searchsorted(ends, pos, right=True)
    return starts[seg] + pos - (ends - lengths)[seg], seg
