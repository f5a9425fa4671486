"""Deterministic engine scenarios whose outputs were recorded with main's engine before the
representation of issue 19 (factored W, float16 cue rows) replaced it.

``scripts/record_engine_outputs.py`` ran :func:`run_all` with main's code (commit in the
fixture) and wrote ``tests/fixtures/engine_outputs_main.json``; ``tests/test_core_old_vs_new.py``
runs the same scenarios with today's engine and compares. Only the public API is used, so
the same file runs against both engines. Vectors come from numpy's seeded generator.
"""
from __future__ import annotations

import numpy as np

D_BIG = 16384


def clustered(n: int, d: int = 384, seed: int = 0, size: int = 25, spread: float = 0.8):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((max(1, n // size), d)).astype(np.float32) / np.sqrt(d)
    x = centers[rng.integers(0, centers.shape[0], n)]
    x = x + spread * rng.standard_normal((n, d)).astype(np.float32) / np.sqrt(d)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def noisy(x: np.ndarray, cos: float, seed: int) -> np.ndarray:
    """Rows of ``x`` moved to cosine ≈ ``cos``."""
    rng = np.random.default_rng(seed)
    e = rng.standard_normal(x.shape).astype(np.float32)
    e -= (e * x).sum(1, keepdims=True) * x
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    q = cos * x + np.sqrt(1 - cos ** 2) * e
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


def _arr(a) -> list:
    return np.asarray(a).tolist()


def recalls(mem, queries: np.ndarray, k: int = 5) -> dict:
    """Every method's answers before and after the default thresholds."""
    out = {}
    for method in ("hopfield", "hebbian", "cosine"):
        for m, q in (("batch", queries), ("one", queries[:3])):
            got = {"best_ids": [], "best_scores": [], "ids": [], "scores": [], "extra": []}
            rows = [q] if m == "batch" else [q[i:i + 1] for i in range(q.shape[0])]
            for part in rows:
                r = mem.recall_details(part, k=k, method=method)
                got["best_ids"] += _arr(r.best_ids)
                got["best_scores"] += _arr(r.best_scores)
                got["ids"] += _arr(r.ids)
                got["scores"] += _arr(r.scores)
                if method == "hebbian":
                    got["extra"] += _arr(np.stack([r.overlap, r.support], -1))
                elif method == "hopfield":
                    got["extra"] += _arr(r.settled)
            out[f"{method}/{m}"] = got
    return out


def chains(mem, starts, hops: int = 6) -> list:
    out = []
    for s in starts:
        for args in ((None, False), (0.0, True)):
            r = mem.chain_details(int(s), hops=hops, min_support=args[0],
                                  allow_revisits=args[1])
            out.append({"start": int(s), "args": list(args), "stop": r.stop,
                        "hops": [list(h) for h in r.hops],
                        "refused": list(r.refused) if r.refused is not None else None})
    return out


def boundary_ties(mem, probe) -> list | None:
    """For each probe's primary cue code: the units whose activity W · code equals the k-th
    winner's (the tie at the k-WTA boundary), or None with an engine that cannot say (main's:
    its activity was summed in float32 in cell order, so exact ties came out in an order of
    rounding). Only used to explain a code that differs from main's by such a tie."""
    w = mem.store.w
    if not hasattr(w, "column_sums_np"):
        return None
    out = []
    for code in mem.codes(probe)[0]:
        r = w.column_sums_np(np.asarray(code, np.int64))
        kth = np.sort(r)[::-1][mem.config.k - 1]
        out.append(np.flatnonzero(r == kth).tolist() if kth > 0 else [])
    return out


def snapshot(mem, queries, starts, k: int = 5) -> dict:
    st = mem.stats()
    ids = mem.ids()
    probe = ids[: min(len(ids), 40)]
    stored = mem.recall_stored(probe, k=2) if probe else None
    return {"stored_ties": boundary_ties(mem, probe) if probe else None,
            "ids": ids, "w_nnz": st["w_nnz"], "w_norm": st["w_norm"],
            "w_sparsity": st["w_sparsity"], "recalls": recalls(mem, queries, k),
            "chains": chains(mem, starts),
            "recall_codes": _arr(mem.recall_codes(queries[:8], hops=2)),
            "stored": None if stored is None else
            {"scores": _arr(stored[0]), "ids": _arr(stored[1]), "codes": _arr(stored[2])}}


def scenario_big(HybridMemory, MemoryConfig) -> dict:
    """D 16384 (sparse W), 600 self-target memories in clusters plus 40 chains of 5 links;
    nights with replay, homeostasis and pruning that cuts cells; a replay buffer cleared to
    a half; removals; noisy replays on the embedding and on the code."""
    x = clustered(800, seed=11)
    mem = HybridMemory(MemoryConfig(device="cpu"))
    mem.add_vectors(x[:600], importance=np.where(np.arange(600) % 7 == 0, 3.0, 1.0))
    links = x[600:800].reshape(40, 5, 384)
    for c in range(40):
        mem.add_vectors(links[c, :-1], targets=links[c, 1:])
    q = np.concatenate([noisy(x[:600:20], 0.85, 1), noisy(x[600:800:10], 0.9, 2),
                        noisy(clustered(10, seed=99), 0.99, 3)])
    starts = [0, 5, 17, 600, 604, 612, 640, 700, 756]
    out = {"fresh": snapshot(mem, q, starts)}
    nights = []
    nights.append(mem.consolidate(epochs=2, homeostasis=0.9, prune_threshold=1e-3, seed=1))
    mem.clear_replay(0.5, "priority")
    nights.append(mem.consolidate(epochs=3, homeostasis=0.5, prune_threshold=0.5, seed=2))
    out["after_nights"] = snapshot(mem, q, starts)
    mem.remove(list(range(1, 600, 13)) + [601, 602])
    out["after_remove"] = snapshot(mem, q, [s for s in starts if s not in (601, 602)])
    nights.append(mem.consolidate(epochs=2, homeostasis=0.8, prune_threshold=0.2,
                                  replay_noise=0.3, seed=3))
    nights.append(mem.consolidate(epochs=1, homeostasis=0.9, prune_threshold=0.1,
                                  replay_noise=0.5, replay_noise_on="code", replays=2, seed=4))
    out["after_noisy"] = snapshot(mem, q, [s for s in starts if s not in (601, 602)])
    out["nights"] = nights
    return out


def scenario_small(HybridMemory, MemoryConfig) -> dict:
    """D 512 sparse W, k 8: paraphrase rows, separate targets, duplicates (ties), nights with
    noise and pruning, removals down to empty and back."""
    x = clustered(120, d=64, seed=21, size=6)
    x[30], x[31] = x[10], x[10]                     # duplicate cues: the tie rule decides
    cfg = MemoryConfig(embed_dim=64, code_dim=512, k=8, top_k=6, w_format="sparse",
                       target_projection="separate", device="cpu", seed=5)
    mem = HybridMemory(cfg)
    paras = [noisy(np.repeat(x[i:i + 1], 1 + i % 3, 0), 0.8, 100 + i) if i % 4 == 0 else None
             for i in range(60)]
    mem.add_vectors(x[:60], targets=x[60:120], paraphrases=paras,
                    importance=1.0 + (np.arange(60) % 5))
    q = np.concatenate([noisy(x[:60:3], 0.8, 7), x[28:33]])
    starts = [0, 10, 30, 44]
    out = {"fresh": snapshot(mem, q, starts, k=4)}
    nights = [mem.consolidate(epochs=2, homeostasis=0.8, prune_threshold=0.5,
                              replay_noise=0.2, seed=8)]
    mem.clear_replay(0.3, "recent")
    nights.append(mem.consolidate(epochs=4, homeostasis=0.5, prune_threshold=0.3, seed=9))
    out["after_nights"] = snapshot(mem, q, starts, k=4)
    mem.remove(list(range(0, 60, 2)))
    out["after_remove"] = snapshot(mem, q, [s for s in starts if s % 2], k=4)
    mem.remove(mem.ids())
    mem.add_vectors(x[:20], targets=x[20:40])
    out["refilled"] = snapshot(mem, q, [60, 65], k=4)
    out["nights"] = nights
    return out


def run_all(HybridMemory, MemoryConfig) -> dict:
    return {"big": scenario_big(HybridMemory, MemoryConfig),
            "small": scenario_small(HybridMemory, MemoryConfig)}


def format2_memory(HybridMemory, MemoryConfig):
    """The small memory saved as ``tests/fixtures/format2_main.nuonuo`` by main's engine:
    text-free vectors, D 2048 sparse W, a paraphrase row, a night that cut cells."""
    x = clustered(40, d=384, seed=31, size=5)
    mem = HybridMemory(MemoryConfig(code_dim=2048, k=16, w_format="sparse", device="cpu"))
    mem.add_vectors(x[:20], paraphrases=[noisy(x[:1], 0.8, 5)] + [None] * 19)
    mem.add_vectors(x[20:39], targets=x[21:40])
    mem.consolidate(epochs=2, homeostasis=0.7, prune_threshold=0.6, seed=1)
    mem.clear_replay(0.5)
    mem.consolidate(epochs=1, homeostasis=0.9, prune_threshold=0.2, seed=2)
    return mem, np.concatenate([noisy(x[::2], 0.85, 6), x[20:25]])
