"""The project's hybrid path on ±1 pixel patterns (for the pattern-completion sandbox).

What it does, honestly: each stored pattern ξ (N pixels) is added to a
:class:`~nuonuo_core.HybridMemory` as an auto-associative memory (``add_vectors`` with no
target), so the engine codes ξ/√N as c = kWTA_k(P ξ/√N) (random projection N -> D) and learns
W += c cᵀ. A probe is coded the same way, W is applied ``hop`` times with k-WTA
(``recall_codes``) and the recalled code is decoded to the stored pattern whose code shares
most units with it (a tie or no shared unit: nothing recalled, shown as a blank image).
W holds codes, not pixels: the hybrid either returns a stored pattern exactly or nothing, and
its energy is the Hebbian energy of the code, E(c) = -½ cᵀ W c = -½ Σ_μ (c · c_μ)².
"""
from __future__ import annotations

import numpy as np
import torch

from .config import MemoryConfig
from .memory import HybridMemory
from .patterns import Run, check_pm1
from .separation import PatternSeparator

CODE_DIM = 4096
K = 20


class HybridPatterns:
    """Stored ±1 patterns (P, N) in a HybridMemory (D = code_dim, k winners, seeded)."""

    def __init__(self, patterns, code_dim: int = CODE_DIM, k: int = K, seed: int = 0):
        self.patterns = check_pm1(patterns, "patterns")
        n = self.patterns.shape[1]
        self.memory = HybridMemory(MemoryConfig(embed_dim=n, code_dim=code_dim, k=k,
                                                seed=seed, device="cpu"))
        self.ids = np.asarray(self.memory.add_vectors(self.patterns))
        self.codes = self.memory.codes(self.ids)[1]             # (P, k) target codes
        self._separator = PatternSeparator(n, code_dim, k, seed)  # the same P (same seed)

    def probe_codes(self, probes) -> np.ndarray:
        """Hop 0: the k-WTA codes (m, k) of the probes, before W is applied."""
        x = torch.from_numpy(check_pm1(probes, "probes"))
        return self._separator.codes(x / x.norm(dim=1, keepdim=True)).numpy().astype(np.int64)

    def shared_units(self, codes: np.ndarray) -> np.ndarray:
        """(m, k) codes (-1 = dead unit) -> (m, P) units shared with each stored code."""
        eq = codes[:, None, :, None] == self.codes[None, :, None, :]
        return (eq & (codes >= 0)[:, None, :, None]).sum(axis=(2, 3))

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """(m,) stored-pattern index with the most shared units; -1 on a tie or none."""
        shared = self.shared_units(codes)
        best = shared.argmax(axis=1)
        top = shared.max(axis=1)
        ties = (shared == top[:, None]).sum(axis=1) > 1
        return np.where((top > 0) & ~ties, best, -1)

    def energy(self, codes: np.ndarray) -> np.ndarray:
        return -0.5 * (self.shared_units(codes).astype(np.float64) ** 2).sum(axis=1)

    def run(self, probes, max_steps: int = 3) -> Run:
        """States per hop: the probe (hop 0), then the decoded stored pattern (zeros when
        nothing is recalled). ``extra``: "recalled" (m,) index per hop, "codes" per hop."""
        s = check_pm1(probes, "probes")
        codes = [self.probe_codes(s)]
        recalled = [self.decode(codes[0])]
        states, energy = [s.copy()], [self.energy(codes[0])]
        steps = np.zeros(s.shape[0], dtype=np.int64)
        for hop in range(1, max_steps + 1):
            code = self.memory.recall_codes(s, hops=hop)
            moved = np.any(np.sort(code, axis=1) != np.sort(codes[-1], axis=1), axis=1)
            steps += moved & (steps == hop - 1)
            codes.append(code)
            recalled.append(self.decode(code))
            idx = recalled[-1]
            img = np.where((idx >= 0)[:, None], self.patterns[np.maximum(idx, 0)], 0.0)
            states.append(img.astype(np.float32))
            energy.append(self.energy(code))
            if not moved.any():
                break
        return Run(states, energy, steps, {"recalled": recalled, "codes": codes})
