"""Computations behind the pages (pure: no Streamlit). Every function returns DataFrames."""
from __future__ import annotations

import time
from typing import Callable

import networkx as nx
import numpy as np
import pandas as pd
import torch

from nuonuo_core import NO_ABSTENTION, HybridMemory, MemoryConfig, hopfield_settle, perturb

from lab.workspace import memory_rows

METHODS = ("hopfield", "hebbian", "cosine")
Progress = Callable[[float, str], None] | None


def _tell(progress: Progress, frac: float, text: str) -> None:
    if progress is not None:
        progress(min(max(frac, 0.0), 1.0), text)


def label(mem: HybridMemory, memory_id: int, width: int = 40) -> str:
    if memory_id < 0:
        return "(none)"
    g = mem.get(int(memory_id))
    text = g["cue"] or f"vector #{memory_id}"
    return f"#{memory_id} {text if len(text) <= width else text[:width - 1] + '…'}"


def text_memories(mem: HybridMemory, limit: int | None = None) -> list[int]:
    ids = [g["id"] for g in mem.records() if g["cue"]]
    return ids[:limit] if limit else ids


def answers(mem: HybridMemory, query: str, noise_std: float, k: int = 3, seed: int = 0
            ) -> pd.DataFrame:
    """Top-k answers of each method for one (noisy) query."""
    vec = mem.encoder([query])
    recs = []
    for method in METHODS:
        s, ids = mem.recall_vectors(vec, k=k, method=method, noise_std=noise_std, seed=seed)
        for rank, (score, mid) in enumerate(zip(s[0], ids[0]), start=1):
            if mid >= 0:
                recs.append({"method": method, "rank": rank, "id": int(mid),
                             "answer": memory_rows.answer_text(mem, int(mid)),
                             "score": float(score)})
    return pd.DataFrame(recs, columns=["method", "rank", "id", "answer", "score"])


def settle_frames(mem: HybridMemory, query: str, noise_std: float, seed: int = 0):
    """(attention df: step, candidate, weight; energy df: step, energy; noisy cosine; answer)."""
    tr = mem.settle_trace(query, noise_std=noise_std, seed=seed)
    keep = [j for j, c in enumerate(tr.candidate_ids) if c >= 0]
    names, seen = [], {}
    for j in keep:  # a memory with paraphrases can appear several times (one per cue row)
        base = label(mem, int(tr.candidate_ids[j]), 22)
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base} (variant {seen[base] - 1})")
    att = [{"step": s + 1, "candidate": names[i], "weight": float(tr.attention[s, j])}
           for s in range(tr.attention.shape[0]) for i, j in enumerate(keep)]
    en = pd.DataFrame({"step": np.arange(len(tr.energy)), "energy": tr.energy.astype(float)})
    return (pd.DataFrame(att, columns=["step", "candidate", "weight"]), en,
            tr.noisy_cosine, tr.answer_id)


def noise_sweep(mem: HybridMemory, levels, max_memories: int = 60, seed: int = 0,
                progress: Progress = None) -> pd.DataFrame:
    """recall@1 of each method when every stored cue is recalled with noise σ."""
    ids = text_memories(mem, max_memories)
    if not ids:
        raise ValueError("the workspace has no text memories to test; add some first")
    vecs = mem.encoder([mem.get(i)["cue"] for i in ids])
    truth = np.asarray(ids)
    recs = []
    levels = [float(x) for x in levels]
    for n, sigma in enumerate(levels):
        cos = float((perturb(vecs, sigma, seed) * torch.from_numpy(vecs)).sum(1).mean())
        for method in METHODS:
            _, got = mem.recall_vectors(vecs, k=1, method=method, noise_std=sigma, seed=seed,
                                        min_score=NO_ABSTENTION)  # storage, not answers
            recs.append({"noise_std": sigma, "cosine": cos, "method": method,
                         "recall_at_1": float((got[:, 0] == truth).mean()), "n": len(ids)})
        _tell(progress, (n + 1) / len(levels), f"noise σ = {sigma:.3f}")
    return pd.DataFrame(recs)


def chain_frame(mem: HybridMemory, start_id: int, hops: int) -> pd.DataFrame:
    steps = mem.chain(int(start_id), hops=int(hops))
    recs = [{"hop": 0, "id": int(start_id), "label": mem.get(int(start_id))["cue"][:24],
             "recalled": mem.get(int(start_id))["cue"], "cosine": 1.0}]
    for h, (mid, cos, _support) in enumerate(steps, start=1):
        text = memory_rows.answer_text(mem, mid)
        recs.append({"hop": h, "id": int(mid), "label": text[:24] if mid >= 0 else "∅",
                     "recalled": text, "cosine": float(cos)})
    return pd.DataFrame(recs)


def graph_data(mem: HybridMemory, limit: int = 40):
    """Nodes (texts) and cue→target edges to draw. Chains (components of 3+ texts) come
    first; memories that link nothing else are left out unless there are no chains."""
    edges = []
    for g in mem.records():
        if g["cue"] and g["target"] and g["cue"] != g["target"]:
            edges.append((g["cue"], g["target"]))
    size = {v: len(c) for c in nx.weakly_connected_components(nx.DiGraph(edges)) for v in c}
    chained = [e for e in edges if size[e[0]] >= 3]
    edges = chained or edges
    nodes: list[str] = []
    for a, b in edges:
        for v in (a, b):
            if v not in nodes and len(nodes) < limit:
                nodes.append(v)
    edges = [(a, b) for a, b in edges if a in nodes and b in nodes]
    return nodes, edges


def edges_frame(edges) -> pd.DataFrame:
    return pd.DataFrame(edges, columns=["cue", "target"])


def w_frame(w: np.ndarray, units: np.ndarray) -> pd.DataFrame:
    """Non-zero entries of a W view as (target_unit, cue_unit, w) rows."""
    i, j = np.nonzero(w)
    return pd.DataFrame({"target_unit": units[i], "cue_unit": units[j], "w": w[i, j]})


def layered_layout(nodes: list[str], edges) -> dict[str, tuple[float, float]]:
    """node -> (x, y): x = hops from the chain's first item, y = one row per chain
    (component, in order of first node), a fork's extra branches on the rows below it.

    networkx finds the chains (weakly connected components) and the hops (breadth-first
    layers from the chain's sources: the items nothing points to, or its first item when it
    is a closed loop); an item no source reaches sits at hop 0."""
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    g.add_edges_from(edges)
    order = {v: i for i, v in enumerate(nodes)}
    pos: dict[str, tuple[float, float]] = {}
    row = 0
    for comp in sorted(nx.weakly_connected_components(g), key=lambda c: min(map(order.get, c))):
        members = sorted(comp, key=order.__getitem__)
        roots = [u for u in members if g.in_degree(u) == 0] or members[:1]
        depth = {u: d for d, layer in enumerate(nx.bfs_layers(g, roots)) for u in layer}
        used: dict[int, int] = {}
        for u in members:
            d = depth.get(u, 0)
            pos[u] = (float(d), -float(row + used.get(d, 0)))
            used[d] = used.get(d, 0) + 1
        row += max(used.values())
    return pos


def codes_frame(mem: HybridMemory, ids) -> pd.DataFrame:
    cue, tgt = mem.codes(list(ids))
    recs = []
    for i, mid in enumerate(ids):
        name = label(mem, int(mid), 22)
        recs += [{"memory": name, "kind": "cue", "unit": int(u)} for u in cue[i]]
        recs += [{"memory": name, "kind": "target", "unit": int(u)} for u in tgt[i]]
    return pd.DataFrame(recs, columns=["memory", "kind", "unit"])


def w_view(mem: HybridMemory, max_units: int = 160):
    """(W restricted to used units, those units) for code_dim <= 4096 memories."""
    if mem.config.code_dim > 4096:
        raise ValueError(f"W can be drawn only for code_dim <= 4096; this workspace has "
                         f"code_dim {mem.config.code_dim}")
    w = mem.w_dense()
    used = np.nonzero((np.abs(w).sum(0) + np.abs(w).sum(1)) > 0)[0][:max_units]
    return w[np.ix_(used, used)], used


def beta_sweep(mem: HybridMemory, query: str, betas, n_candidates: int = 8,
               noise_std: float = 0.0, seed: int = 0):
    """Settle one query over its top cosine candidates at several β.

    Returns (final attention per β and candidate, summary per β: largest weight and
    exp(entropy) = how many patterns are mixed)."""
    if len(mem) == 0:
        raise ValueError("the workspace is empty; add memories first")
    q = perturb(mem.encoder([query]), noise_std, seed)
    _, ids = mem.recall_vectors(q.numpy(), k=min(n_candidates, len(mem)), method="cosine",
                                min_score=NO_ABSTENTION)  # the nearest, matching or not
    ids = [int(i) for i in ids[0] if i >= 0 and mem.get(int(i))["cue"]]
    pats = torch.from_numpy(mem.encoder([mem.get(i)["cue"] for i in ids]))[None]
    rows, summary = [], []
    for beta in betas:
        res = hopfield_settle(q, pats, float(beta), max_steps=mem.config.max_steps)
        w = res.attention[-1][0].numpy()
        rows += [{"beta": float(beta), "candidate": label(mem, i, 30), "weight": float(x)}
                 for i, x in zip(ids, w)]
        ent = float(-(w * np.log(np.clip(w, 1e-12, 1))).sum())
        summary.append({"beta": float(beta), "max_weight": float(w.max()),
                        "effective_patterns": float(np.exp(ent))})
    return pd.DataFrame(rows), pd.DataFrame(summary)


def latency_sweep(sizes=(100, 1000, 4000), queries: int = 32, code_dim: int = 16384,
                  seed: int = 0, progress: Progress = None) -> pd.DataFrame:
    """Milliseconds per query of each method as the memory grows (random unit vectors)."""
    rng = np.random.default_rng(seed)
    mem = HybridMemory(MemoryConfig(code_dim=code_dim, seed=seed, device="cpu"))
    recs, have = [], 0
    for n, size in enumerate(sizes):
        x = rng.standard_normal((size - have, 384)).astype(np.float32)
        mem.add_vectors(x)
        have = size
        q = rng.standard_normal((queries, 384)).astype(np.float32)
        for method in METHODS:
            mem.recall_vectors(q[:2], k=1, method=method)
            t = time.perf_counter()
            mem.recall_vectors(q, k=1, method=method)
            recs.append({"memories": size, "method": method,
                         "ms_per_query": 1000 * (time.perf_counter() - t) / queries})
        _tell(progress, (n + 1) / len(sizes), f"{size} memories")
    return pd.DataFrame(recs)


def capacity_sweep(sizes=(50, 200, 800), noise_std: float = 0.04, code_dim: int = 16384,
                   seed: int = 0, progress: Progress = None) -> pd.DataFrame:
    """recall@1 of each method vs stored memories (random cue→target pairs, noisy cues)."""
    rng = np.random.default_rng(seed)
    mem = HybridMemory(MemoryConfig(code_dim=code_dim, seed=seed, device="cpu"))
    cues = rng.standard_normal((max(sizes), 384)).astype(np.float32)
    tgts = rng.standard_normal((max(sizes), 384)).astype(np.float32)
    recs, have = [], 0
    for n, size in enumerate(sizes):
        mem.add_vectors(cues[have:size], tgts[have:size])
        have = size
        probe = min(size, 200)
        for method in METHODS:
            _, got = mem.recall_vectors(cues[:probe], k=1, method=method, noise_std=noise_std,
                                        seed=seed, min_score=NO_ABSTENTION)
            recs.append({"memories": size, "method": method,
                         "recall_at_1": float((got[:, 0] == np.arange(probe)).mean())})
        _tell(progress, (n + 1) / len(sizes), f"{size} memories")
    return pd.DataFrame(recs)


def capacity_curve(progress: Progress = None) -> pd.DataFrame:
    """Capacity from the experiments package (k-WTA Hebbian vs classical Hopfield) when it is
    there, else :func:`capacity_sweep`; columns: memories, method, recall_at_1."""
    if "capacity" in experiment_names():
        try:
            return _capacity_experiment(progress)
        except (ValueError, KeyError, TypeError, AttributeError):  # its API moved: fall back
            pass
    return capacity_sweep(progress=progress)


def _capacity_experiment(progress: Progress) -> pd.DataFrame:
    from nuonuo_core.experiments import run_experiment

    df = run_experiment("capacity", n_memories=(100, 500, 2000),
                        classical_n=(10, 25, 50, 100), ks=(20,), code_dims=(16384,),
                        n_fixed=500, n_queries=100,
                        progress=(lambda i, n: _tell(progress, i / max(n, 1), "capacity"))
                        if progress else None)
    df = df[df.sweep == "n_memories"]
    return pd.DataFrame({"memories": df.n_memories, "method": df.arm,
                         "recall_at_1": df.recall_at_1, "bound_0138N": df.bound_0138N})


def experiment_names() -> list[str]:
    """Keys of ``nuonuo_core.experiments.EXPERIMENTS`` (empty if that package is missing)."""
    try:
        from nuonuo_core.experiments import EXPERIMENTS
    except Exception:  # the experiments package is optional for the lab
        return []
    return sorted(EXPERIMENTS)
