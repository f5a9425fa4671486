"""What MemoryConfig.min_overlap trades: Hebbian right / wrong answers and hits on unrelated
queries at 20K memories, clustered and random vectors (prints a markdown table).

    PYTHONPATH=. .venv/bin/python scripts/min_overlap_tradeoff.py [--n 20000]
"""
from __future__ import annotations

import argparse

import numpy as np

from nuonuo_core import NO_ABSTENTION, HybridMemory, MemoryConfig, perturb
from nuonuo_core.bench.speed import clustered_unit_vectors
from nuonuo_core.functional import noise_for_cosine

LEVELS = (0.5, 0.35, 0.25, 0.15, 0.05)


def rows(n: int, data: str) -> np.ndarray:
    if data == "clustered":
        return clustered_unit_vectors(n, seed=0)
    x = np.random.default_rng(0).standard_normal((n, 384)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--queries", type=int, default=300)
    a = ap.parse_args()
    print("| data | min_overlap | right | wrong | unrelated hit |\n|---|---:|---:|---:|---:|")
    for data in ("clustered", "random"):
        x = rows(a.n, data)
        mem = HybridMemory(MemoryConfig(device="cpu"))
        mem.add_vectors(x)
        qi = np.linspace(0, a.n - 1, a.queries).astype(int)
        q = perturb(x[qi], noise_for_cosine(0.8, 384), 1).numpy()
        far = np.random.default_rng(5).standard_normal((a.queries, 384)).astype(np.float32)
        for mo in LEVELS:
            mem.set_recall_params(min_overlap=mo)
            # min_overlap alone (no answer threshold: docs/engine.md, "When to answer")
            top = mem.recall_vectors(q, k=1, method="hebbian", min_score=NO_ABSTENTION)[1][:, 0]
            unrelated = mem.recall_vectors(far, k=1, method="hebbian",
                                           min_score=NO_ABSTENTION)[1][:, 0]
            print(f"| {data} | {mo} | {(top == qi).mean():.3f} | "
                  f"{((top != qi) & (top >= 0)).mean():.3f} | {(unrelated >= 0).mean():.3f} |")


if __name__ == "__main__":
    main()
