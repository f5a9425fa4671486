"""Typed, frozen configuration for the memory engine.

Every field is validated when the config is built; errors quote the bad value.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

METHODS = ("hopfield", "hebbian", "cosine")
DEVICES = ("auto", "cpu", "cuda")
W_FORMATS = ("auto", "sparse", "dense")
INDEXES = ("auto", "flat", "ivf")
TARGET_PROJECTIONS = ("shared", "separate")
TARGET_SEED_SALT = 0x7A56_E7  # seeds the separate target projection: seed + salt


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


@dataclass(frozen=True)
class MemoryConfig:
    """Configuration of one :class:`~nuonuo_core.HybridMemory`.

    Attributes:
        embed_dim: d, the dimension of cue/target embeddings (384 for MiniLM-L6).
        code_dim: D, size of the pattern-separated code space.
        k: winners kept by k-WTA in each code (exactly k ones per code).
        top_k: K, candidates taken by stage 1 of Hopfield recall.
        beta: β, inverse temperature of the Hopfield softmax.
        max_steps: most settling steps of stage 2.
        eps: settling stops once ‖ξ_new − ξ‖ < eps.
        lr: Hebbian learning rate: W += lr · outer(target_code, cue_code).
        seed: seeds the random projection (same seed → same codes).
        target_projection: "shared" (targets coded by the cue projection, our default) or
            "separate" (a second projection seeded from ``seed``, as the seed code's Experiment 3).
        device: "auto" (CUDA when present, else CPU), "cpu" or "cuda".
        w_format: "sparse" (CPU default), "dense" (small code_dim or a GPU) or "auto".
        index: stage-1 search: "flat" (exact), "ivf" (FAISS, approximate) or "auto"
            (ivf from ``ann_threshold`` cue rows on, CPU only).
        ann_threshold: cue rows from which "auto" switches to the approximate index.
        ann_nprobe: inverted lists visited per query by the approximate index.
    """

    embed_dim: int = 384
    code_dim: int = 16384
    k: int = 20
    top_k: int = 20
    beta: float = 16.0
    max_steps: int = 10
    eps: float = 1e-4
    lr: float = 1.0
    seed: int = 0
    target_projection: str = "shared"
    device: str = "auto"
    w_format: str = "auto"
    index: str = "auto"
    ann_threshold: int = 200_000
    ann_nprobe: int = 64

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            want = f.type if isinstance(f.type, str) else f.type.__name__
            if want == "int":
                _check(isinstance(value, int) and not isinstance(value, bool),
                       f"{f.name} must be an int, got {value!r}")
            elif want == "float":
                _check(isinstance(value, (int, float)) and not isinstance(value, bool),
                       f"{f.name} must be a number, got {value!r}")
                _check(value == value and abs(value) != float("inf"),
                       f"{f.name} must be finite, got {value!r}")
        _check(self.embed_dim >= 1, f"embed_dim must be >= 1, got {self.embed_dim}")
        _check(self.code_dim >= 2, f"code_dim must be >= 2, got {self.code_dim}")
        _check(1 <= self.k <= self.code_dim,
               f"k must be in [1, code_dim={self.code_dim}], got {self.k}")
        _check(self.top_k >= 1, f"top_k must be >= 1, got {self.top_k}")
        _check(self.beta > 0, f"beta must be > 0, got {self.beta}")
        _check(self.max_steps >= 1, f"max_steps must be >= 1, got {self.max_steps}")
        _check(self.eps > 0, f"eps must be > 0, got {self.eps}")
        _check(self.lr > 0, f"lr must be > 0, got {self.lr}")
        _check(self.seed >= 0, f"seed must be >= 0, got {self.seed}")
        _check(self.target_projection in TARGET_PROJECTIONS,
               f"target_projection must be one of {TARGET_PROJECTIONS}, "
               f"got {self.target_projection!r}")
        _check(self.device in DEVICES, f"device must be one of {DEVICES}, got {self.device!r}")
        _check(self.w_format in W_FORMATS,
               f"w_format must be one of {W_FORMATS}, got {self.w_format!r}")
        _check(self.index in INDEXES, f"index must be one of {INDEXES}, got {self.index!r}")
        _check(self.ann_threshold >= 1, f"ann_threshold must be >= 1, got {self.ann_threshold}")
        _check(self.ann_nprobe >= 1, f"ann_nprobe must be >= 1, got {self.ann_nprobe}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "MemoryConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown MemoryConfig fields: {unknown}")
        return cls(**data)
