"""Speed benchmark: add time, single-query recall latency per method, 6-hop chain latency and
state bytes for N memories, with a flat numpy top-k scan measured in the same run.

Vectors are synthetic, already "encoded": unit 384-d vectors in clusters of ~50 ("clustered":
sentence embeddings have such local structure) and structure-free Gaussian directions
("random": k-WTA codes then overlap least, the Hebbian decode's hardest case, and an
approximate index agrees less with exact search). Queries are stored cues perturbed to
cosine ≈ 0.8.
"""
from __future__ import annotations

import argparse
import json
import time
from typing import Callable

import numpy as np

from ..blas import one_blas_thread
from ..config import NO_ABSTENTION, MemoryConfig
from ..functional import noise_for_cosine, perturb
from ..memory import HybridMemory

DEFAULT_SIZES = (1_000, 20_000, 100_000, 1_000_000)
DATA = ("clustered", "random")


def random_unit_vectors(n: int, d: int = 384, seed: int = 0) -> np.ndarray:
    """(n, d) float32 unit rows with no structure (Gaussian directions)."""
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def clustered_unit_vectors(n: int, d: int = 384, seed: int = 0, cluster_size: int = 50,
                           spread: float = 0.8) -> np.ndarray:
    """(n, d) float32 unit rows: normalise(center + spread·N(0, I/d)), ~cluster_size a center."""
    rng = np.random.default_rng(seed)
    n_centers = max(1, n // cluster_size)
    centers = rng.standard_normal((n_centers, d)).astype(np.float32) / np.sqrt(d)
    out = np.empty((n, d), dtype=np.float32)
    for s in range(0, n, 100_000):
        m = min(100_000, n - s)
        x = centers[rng.integers(0, n_centers, m)]
        x += spread * rng.standard_normal((m, d)).astype(np.float32) / np.sqrt(d)
        out[s:s + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def _median_ms(fn: Callable[[int], object], n: int) -> tuple[float, float]:
    times = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t)
    return float(np.median(times) * 1e3), float(np.percentile(times, 90) * 1e3)


def bench_size(n: int, n_queries: int = 200, seed: int = 0, config: MemoryConfig | None = None,
               progress: Callable[[str], None] | None = None, data: str = "clustered") -> dict:
    """Measure one memory of ``n`` vectors (``data`` in DATA); returns one tidy record."""
    import torch

    say = progress or (lambda msg: None)
    cfg = config or MemoryConfig(device="cpu")
    if data not in DATA:
        raise ValueError(f"data must be one of {DATA}, got {data!r}")
    say(f"N={n:,} {data}: generating vectors")
    x = (clustered_unit_vectors if data == "clustered" else random_unit_vectors)(
        n, cfg.embed_dim, seed)
    rng = np.random.default_rng(seed + 1)
    pick = rng.choice(n, n_queries, replace=n < n_queries)
    queries = perturb(x[pick], noise_for_cosine(0.8, cfg.embed_dim), seed=seed).numpy()
    mem = HybridMemory(cfg)
    say(f"N={n:,}: adding")
    t0 = time.perf_counter()
    for s in range(0, n, 50_000):
        mem.add_vectors(x[s:s + 50_000])
    mem.recall_vectors(queries[:1], k=1)  # builds the approximate index where one is used
    add_s = time.perf_counter() - t0
    ids = np.array(mem.ids())
    rec = {"n": n, "data": data, "device": str(mem.device), "add_s": add_s,
           "add_us_per_memory": add_s / n * 1e6, "index": mem.stats()["index"],
           "threads": torch.get_num_threads()}
    say(f"N={n:,} {data}: timing recall")
    emb = mem.store.index.emb.cpu().numpy()
    methods = ("hopfield", "hebbian", "cosine")
    for method in methods:
        got = mem.recall_vectors(queries, k=1, method=method,
                                 min_score=NO_ABSTENTION)[1][:, 0]  # storage fidelity
        rec[f"{method}_recall@1"] = float((got == ids[pick]).mean())
    # one interleaved run: each query is timed with every method and the numpy scan in turn,
    # so machine noise hits all of them alike
    runs = {m: (lambda i, m=m: mem.recall_vectors(queries[i:i + 1], 5, m)) for m in methods}
    runs["numpy_scan"] = lambda i: np.argpartition(-(emb @ queries[i]), 20)[:20]
    times: dict[str, list[float]] = {m: [] for m in runs}
    for i in range(n_queries):
        for name, fn in runs.items():
            t = time.perf_counter()
            fn(i)
            times[name].append(time.perf_counter() - t)
    for name, ts in times.items():
        rec[f"{name}_ms"] = float(np.median(ts) * 1e3)
        rec[f"{name}_p90_ms"] = float(np.percentile(ts, 90) * 1e3)
    for m in ("hopfield", "hebbian"):
        rec[f"{m}_over_scan"] = rec[f"{m}_ms"] / rec["numpy_scan_ms"]
    # six hops of W whatever they reach (the memories are self-targets: a stopping chain
    # would end at its first revisit)
    rec["chain6_ms"] = _median_ms(lambda i: mem.chain(int(ids[pick[i]]), hops=6,
                                                      min_support=0.0, allow_revisits=True),
                                  min(n_queries, 50))[0]
    exact = np.argsort(-(queries @ emb.T), axis=1)[:, :20] if n <= 200_000 else np.stack(
        [np.argpartition(-(emb @ q), 20)[:20] for q in queries])
    with one_blas_thread():
        rec["numpy_scan_ms_1thread"] = _median_ms(
            lambda i: np.argpartition(-(emb @ queries[i]), 20)[:20], min(n_queries, 100))[0]
    rows = mem.store.index.search(torch.from_numpy(queries).to(mem.device), 20)[1].cpu().numpy()
    rec["top20_agreement"] = float(np.mean([len(set(a) & set(b)) / 20
                                            for a, b in zip(rows, exact)]))
    stats = mem.stats()
    rec.update({"state_mb": stats["bytes"] / 2**20, "w_mb": stats["bytes_by_part"]["w"] / 2**20,
                "w_nnz": stats["w_nnz"]})
    return rec


def run_speed(sizes=DEFAULT_SIZES, n_queries: int = 200, seed: int = 0,
              config: MemoryConfig | None = None, progress=None, data=DATA) -> list[dict]:
    return [bench_size(n, n_queries, seed, config, progress, d) for n in sizes for d in data]


COLUMNS = [("n", "N", "{:,}"), ("data", "data", "{}"), ("device", "device", "{}"),
           ("add_s", "add s", "{:.1f}"), ("index", "stage 1", "{}"),
           ("hopfield_ms", "hopfield ms", "{:.3f}"), ("hebbian_ms", "hebbian ms", "{:.3f}"),
           ("cosine_ms", "cosine ms", "{:.3f}"), ("chain6_ms", "6-hop ms", "{:.3f}"),
           ("numpy_scan_ms", "numpy scan ms", "{:.3f}"),
           ("hopfield_over_scan", "hopfield/scan", "{:.2f}"),
           ("hebbian_over_scan", "hebbian/scan", "{:.2f}"),
           ("top20_agreement", "top-20 agree", "{:.3f}"),
           ("hopfield_recall@1", "hopfield R@1", "{:.3f}"),
           ("hebbian_recall@1", "hebbian R@1", "{:.3f}"), ("state_mb", "state MB", "{:.1f}"),
           ("w_mb", "W MB", "{:.1f}")]


def format_table(records: list[dict]) -> str:
    head = "| " + " | ".join(c[1] for c in COLUMNS) + " |"
    sep = "|" + "|".join("---:" for _ in COLUMNS) + "|"
    rows = ["| " + " | ".join(fmt.format(r[key]) for key, _, fmt in COLUMNS) + " |"
            for r in records]
    return "\n".join([head, sep, *rows])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m nuonuo_core.bench speed", description=__doc__)
    p.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                   help="comma-separated memory counts (default: %(default)s)")
    p.add_argument("--queries", type=int, default=200, help="single queries timed per method")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--code-dim", type=int, default=16384)
    p.add_argument("--k", type=int, default=20)
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    p.add_argument("--data", default=",".join(DATA),
                   help="comma-separated vector sets: clustered, random (default: %(default)s)")
    p.add_argument("--out", help="write the records as JSON to this file")
    a = p.parse_args(argv)
    try:
        sizes = [int(s.replace("_", "")) for s in a.sizes.split(",") if s]
        cfg = MemoryConfig(code_dim=a.code_dim, k=a.k, device=a.device)
        data = [d for d in a.data.split(",") if d]
        bad = sorted(set(data) - set(DATA))
        if bad:
            raise ValueError(f"--data must name {DATA}, got {bad}")
    except ValueError as exc:
        p.error(str(exc))
    records = run_speed(sizes, a.queries, a.seed, cfg,
                        progress=lambda msg: print(msg, flush=True), data=data)
    print(format_table(records))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(records, f, indent=1)
    return 0
