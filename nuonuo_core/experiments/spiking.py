"""Finding 7 - spiking encoder: embedding -> spike train -> embedding.

Two codes, each mapping a unit embedding x (d,) to T time steps of spikes (T, d) and back:
  * ``rate``: Bernoulli (Poisson-like) rate code. Each component is scaled to a firing
    probability p = clip(0.5 + gain·x, 0, 1); decoding counts spikes, p̂ = count / T, and
    inverts the map, x̂ = (p̂ − 0.5) / gain. Error shrinks like 1/sqrt(T).
  * ``lif``: deterministic leaky integrate-and-fire. Input current I = 0.5 + gain·x (per
    step), membrane v ← v·(1 − 1/tau) + I, spike and subtract the threshold 1 when v ≥ 1.
    Decoding inverts the neuron's measured rate curve (calibrated on a current grid with
    the same T), so the error is quantisation, ~1/T.
``gain`` is chosen per vector as 0.45 / max|x| so every p or I stays inside its range.
Reported: cosine(x, x̂) per (code, T), mean and min over n random unit vectors (d = 384).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .registry import Progress, check_range, experiment, option, unit_vectors, validate_fields

CODES = ("rate", "lif")


@dataclass(frozen=True)
class SpikingConfig:
    time_steps: tuple[int, ...] = (8, 16, 32, 64, 128, 256, 1024)
    codes: tuple[str, ...] = option(CODES, choices=CODES)
    n_vectors: int = 200
    embed_dim: int = 384
    tau: float = 20.0

    def __post_init__(self) -> None:
        validate_fields(self)
        check_range(self, "time_steps", 1, 100_000)
        check_range(self, "n_vectors", 1)
        check_range(self, "embed_dim", 2)
        check_range(self, "tau", 1.0)


def _gain(x: torch.Tensor) -> torch.Tensor:
    return 0.45 / x.abs().amax(dim=1, keepdim=True)


def rate_encode(x: torch.Tensor, T: int, seed: int = 0) -> torch.Tensor:
    """(n, d) -> spikes (T, n, d) uint8, Bernoulli with p = 0.5 + gain·x."""
    p = (0.5 + _gain(x) * x).clamp(0, 1)
    gen = torch.Generator().manual_seed(seed)
    return (torch.rand((T,) + tuple(x.shape), generator=gen) < p).to(torch.uint8)


def lif_encode(current: torch.Tensor, T: int, tau: float) -> torch.Tensor:
    """Input currents (…) -> spikes (T, …) uint8 of a leaky integrate-and-fire neuron."""
    v = torch.zeros_like(current)
    out = torch.zeros((T,) + tuple(current.shape), dtype=torch.uint8)
    for t in range(T):
        v = v * (1.0 - 1.0 / tau) + current
        fired = v >= 1.0
        out[t] = fired.to(torch.uint8)
        v = torch.where(fired, v - 1.0, v)
    return out


def lif_decode(counts: torch.Tensor, T: int, tau: float) -> torch.Tensor:
    """Spike counts -> currents, inverting the rate curve measured on a fine current grid."""
    grid = torch.linspace(0.0, 1.0, 2001, dtype=torch.float64)
    curve = lif_encode(grid, T, tau).sum(0).double()  # non-decreasing in the current
    c = counts.double()
    lo = torch.searchsorted(curve, c, right=False).clamp(max=len(grid) - 1)
    hi = (torch.searchsorted(curve, c, right=True) - 1).clamp(min=0, max=len(grid) - 1)
    return ((grid[lo] + grid[hi]) / 2).float()  # middle of the currents giving this count


@experiment("spiking", SpikingConfig,
            data="random unit Gaussian vectors (d = embed_dim, 384) turned into spike trains and "
                 "back",
            title="Spiking encoder: embedding -> spike train -> embedding, cosine vs time steps",
            reported="cosine 0.99")
def run_spiking(cfg: SpikingConfig, seed: int = 0, progress: Progress = None) -> list[dict]:
    """One row per (code, time_steps): mean/min cosine and firing rate."""
    x = torch.from_numpy(unit_vectors(cfg.n_vectors, cfg.embed_dim, seed))
    g = _gain(x)
    rows, jobs = [], [(c, T) for c in cfg.codes for T in cfg.time_steps]
    for j, (code, T) in enumerate(jobs):
        if code == "rate":
            spikes = rate_encode(x, T, seed)
            xhat = (spikes.float().mean(0) - 0.5) / g
        else:
            spikes = lif_encode(0.5 + g * x, T, cfg.tau)
            xhat = (lif_decode(spikes.sum(0), T, cfg.tau) - 0.5) / g
        cos = torch.nn.functional.cosine_similarity(x, xhat, dim=1)
        cos = torch.nan_to_num(cos, nan=0.0)
        rows.append({"code": code, "time_steps": T, "mean_cosine": float(cos.mean()),
                     "min_cosine": float(cos.min()),
                     "spikes_per_neuron_step": float(spikes.float().mean()),
                     "tau": cfg.tau if code == "lif" else float("nan")})
        if progress is not None:
            progress(j + 1, len(jobs))
    return rows
