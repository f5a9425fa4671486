"""Computations behind the pages (pure: no Streamlit). Every function returns DataFrames."""
from __future__ import annotations

import threading
import time
from typing import Callable

import networkx as nx
import numpy as np
import pandas as pd
import torch

from nuonuo_core import NO_ABSTENTION, HybridMemory, MemoryConfig, hopfield_settle, perturb

from lab import charts
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


ANSWER_COLUMNS = ["method", "rank", "id", "answer", "score", "min_score", "answered",
                  "words", "settled", "support", "overlap"]
# what each kind of match score is, in one line (the pages' captions and verdicts)
SCORE_WHY = {
    "words": "the query's cosine with the memory's best cue × word coverage",
    "cue": "the query's cosine with the memory's best cue",
    "hebbian": "support × overlap of the query's code in W",
}
WORDS_LINE = ("Hopfield and cosine score a question by **word match**: its cosine with the "
              "memory's best cue × *word coverage* (every content word of that cue must find "
              "a counterpart among the question's words, so “capital of Italy” does not "
              "match a stored “capital of France” as well as its cosine says); one threshold "
              "serves both.")


def answers(mem: HybridMemory, query: str, noise_std: float, k: int = 3, seed: int = 0
            ) -> pd.DataFrame:
    """Each method's top-k memories for one (noisy) query, *before* the answer threshold,
    in the method's order: score (the match score), min_score (the method's threshold now),
    answered (score >= min_score: an answer; else only the nearest memory, not an answer),
    words (the score is the word-match score: hopfield and cosine with
    ``MemoryConfig.word_match``, a memory with texts), settled (hopfield: the settled state's
    self-similarity, not a confidence), support and overlap (hebbian: the score's two
    factors). The query goes to the engine as text, so word match applies."""
    recs = []
    for method in METHODS:
        r = mem.recall_details([query], k=k, method=method, noise_std=noise_std, seed=seed)
        words = mem.word_match_applies(method)
        kept = set(int(i) for i in r.ids[0] if i >= 0)
        for rank, (score, mid) in enumerate(zip(r.best_scores[0], r.best_ids[0]), start=1):
            if mid < 0:
                continue
            j = rank - 1
            scored = words and bool(mem.get(int(mid))["cue"])   # vector memories: the cosine
            recs.append({"method": method, "rank": rank, "id": int(mid),
                         "answer": memory_rows.answer_text(mem, int(mid)),
                         "score": float(score),
                         "min_score": float(mem.text_min_score(method) if scored
                                            else mem.config.min_score(method)),
                         "answered": int(mid) in kept, "words": scored,
                         "settled": float(r.settled[0, j]) if r.settled is not None else None,
                         "support": float(r.support[0, j]) if r.support is not None else None,
                         "overlap": float(r.overlap[0, j]) if r.overlap is not None else None})
    return pd.DataFrame(recs, columns=ANSWER_COLUMNS)


def verdict(rows: pd.DataFrame, method: str) -> tuple[bool, str, str]:
    """One method's result as the page says it: (answered, headline, evidence). ``rows``:
    that method's :func:`answers` rows. The headline is the answer or "No memory matches";
    the evidence gives the match score beside its threshold, and what the score is (and the
    nearest memory, marked as not an answer, when it abstains)."""
    if rows.empty:
        return False, "No memory matches", (f"{method} recalls nothing for this query "
                                            f"(no memory shares enough of its code).")
    got = rows[rows.answered]
    top = got.iloc[0] if len(got) else rows.iloc[0]
    why = SCORE_WHY["hebbian" if method == "hebbian" else "words" if top.words else "cue"]
    min_score = float(top.min_score)
    if len(got):
        text = (f"Confidence: match {top.score:.2f} ≥ threshold {min_score:.2f} ({why}).")
        if method == "hopfield" and top.settled is not None:
            text += (f" The settled state's self-similarity is {top.settled:.3f}: that says "
                     f"settling converged, not that the answer is right.")
        if method == "hebbian":
            text += f" Support {top.support:.2f} × overlap {top.overlap:.2f}."
        return True, str(top.answer), text
    return False, "No memory matches", (
        f"Not an answer: the nearest memory, \u201c{_short(top.answer)}\u201d, matches "
        f"only {top.score:.2f}, below the threshold {min_score:.2f} ({why}).")


def _short(text: str, width: int = 60) -> str:
    text = str(text)
    return text if len(text) <= width else text[:width - 1] + "…"


def settle_frames(mem: HybridMemory, query: str, noise_std: float, seed: int = 0):
    """(attention df: step, candidate, weight; energy df: step, energy; the trace: noisy
    cosine, settled_id, match_score, settled_similarity, answer_id, min_score)."""
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
    return pd.DataFrame(att, columns=["step", "candidate", "weight"]), en, tr


ENERGY_FLAT = charts.ENERGY_FLAT   # relative change an energy chart shows as flat


def energy_sentence(en: pd.DataFrame, beta: float) -> str:
    """What the energy chart shows, from its data: where E starts and ends and how much it
    fell (changes below ENERGY_FLAT × |E| are float rounding, called flat)."""
    if en.empty:
        return "No energy to show: nothing is stored."
    e0, e1 = float(en.energy.iloc[0]), float(en.energy.iloc[-1])
    steps = len(en) - 1
    drop = e0 - e1
    scale = max(1.0, abs(e0), abs(e1))
    if abs(drop) < ENERGY_FLAT * scale:
        how = (f"stays at {e1:.3f} over {steps} step{'s' * (steps != 1)} (changes below "
               f"{ENERGY_FLAT * scale:.0e} are float rounding): the query already sat in the "
               f"minimum")
    else:
        how = (f"falls from {e0:.3f} to {e1:.3f} in {steps} step{'s' * (steps != 1)} "
               f"(−{drop:.3f})")
    return (f"E(ξ) = −(1/β)·log Σᵢ exp(β xᵢᵀξ) + ½‖ξ‖² over the top-K stored cues xᵢ "
            f"(β = {beta:g}): low where ξ is close to one stored cue. Here it {how}.")


def noise_sweep(mem: HybridMemory, levels, max_memories: int = 60, seed: int = 0,
                progress: Progress = None, seeds: int = 1) -> pd.DataFrame:
    """recall@1 of each method when every stored cue (up to ``max_memories``) is recalled
    with noise σ, once per noise draw (``seeds`` draws: seed, seed + 1, …); one row per
    (σ, method, seed). What the store holds: recalled without the answer threshold."""
    ids = text_memories(mem, max_memories)
    if not ids:
        raise ValueError("the workspace has no text memories to test; add some first")
    vecs = mem.encoder([mem.get(i)["cue"] for i in ids])
    truth = np.asarray(ids)
    recs = []
    levels = [float(x) for x in levels]
    draws = list(range(seed, seed + int(seeds)))
    for n, sigma in enumerate(levels):
        for s in draws:
            cos = float((perturb(vecs, sigma, s) * torch.from_numpy(vecs)).sum(1).mean())
            for method in METHODS:
                _, got = mem.recall_vectors(vecs, k=1, method=method, noise_std=sigma, seed=s,
                                            min_score=NO_ABSTENTION)  # storage, not answers
                recs.append({"noise_std": sigma, "cosine": cos, "method": method, "seed": s,
                             "recall_at_1": float((got[:, 0] == truth).mean()),
                             "n": len(ids)})
        _tell(progress, (n + 1) / len(levels), f"noise σ = {sigma:.3f}")
    return pd.DataFrame(recs)


def noise_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per (σ, method): mean recall@1 over the noise draws with its 95 % t-interval
    (``nuonuo_core.experiments.summarize``; one draw: the interval is the mean itself),
    the mean cue cosine and n (draws) and memories."""
    from nuonuo_core.experiments import summarize

    d = df.rename(columns={"method": "path"})      # summarize adds a column of its own
    s = summarize(d, "recall_at_1", by=["noise_std", "path"])
    out = pd.DataFrame({"noise_std": s.noise_std, "method": s.path,
                        "recall_at_1": s["mean"].astype(float),
                        "ci_low": s.ci_low.astype(float), "ci_high": s.ci_high.astype(float),
                        "draws": s.n.astype(int)})
    one = out.draws < 2
    out.loc[one, "ci_low"] = out.loc[one, "recall_at_1"]
    out.loc[one, "ci_high"] = out.loc[one, "recall_at_1"]
    out["ci_low"] = out.ci_low.clip(0, 1)
    out["ci_high"] = out.ci_high.clip(0, 1)
    cos = df.groupby("noise_std").cosine.mean()
    out["cosine"] = out.noise_std.map(cos).astype(float)
    out["memories"] = int(df.n.iloc[0]) if len(df) else 0
    return out


def band_note(summary: pd.DataFrame) -> str:
    """The sentence under a noise chart saying what its band means."""
    if summary.empty:
        return ""
    draws, n = int(summary.draws.max()), int(summary.memories.iloc[0])
    if draws < 2:
        return (f"One noise draw over {n} memories: no interval (run several draws to see "
                f"the spread).")
    return (f"Lines: mean recall@1 over {draws} noise draws (seeds), {n} stored cues each; "
            f"bands: 95 % t-interval of that mean (between draws; the memories are the same "
            f"in every draw).")


STOPS = {"hops": "it took every hop asked for",
         "nothing": "W recalled no memory from the last code",
         "no_link": "the next memory has no stored link from the last one",
         "revisit": "the next memory is one the chain already visited"}


def chain_frame(mem: HybridMemory, start_id: int, hops: int,
                min_support: float | None = None) -> tuple[pd.DataFrame, object]:
    """(one row per hop that counts, hop 0 the start: hop, id, label, recalled, cosine
    (decoded code cosine), support (the share of stored links from the previous memory);
    the engine's ChainResult: why the chain stopped and the hop it refused)."""
    res = mem.chain_details(int(start_id), hops=int(hops), min_support=min_support)
    start = mem.get(int(start_id))["cue"]
    recs = [{"hop": 0, "id": int(start_id), "label": start[:24], "recalled": start,
             "cosine": 1.0, "support": 1.0}]
    for h, (mid, cos, support) in enumerate(res.hops, start=1):
        text = memory_rows.answer_text(mem, mid)
        recs.append({"hop": h, "id": int(mid), "label": text[:24], "recalled": text,
                     "cosine": float(cos), "support": float(support)})
    return pd.DataFrame(recs), res


def refused_frame(mem: HybridMemory, res, hops_taken: int) -> pd.DataFrame:
    """The hop a chain refused (no stored link, or a revisit) as one row like
    :func:`chain_frame`'s, for the chart (empty when it stopped otherwise)."""
    hop = getattr(res, "refused", None)
    if hop is None:
        return pd.DataFrame(columns=["hop", "id", "label", "recalled", "cosine", "support"])
    text = memory_rows.answer_text(mem, hop.memory_id)
    return pd.DataFrame([{"hop": hops_taken + 1, "id": int(hop.memory_id),
                          "label": text[:24], "recalled": text,
                          "cosine": float(hop.cosine), "support": float(hop.support)}])


def chain_stop(mem: HybridMemory, res, asked: int) -> str:
    """Why the chain ended, in words, with the numbers (support of the refused hop against
    the required support)."""
    n = len(res.hops)
    walked = f"The chain walked {n} hop{'s' * (n != 1)} of {asked}"
    if res.stop == "hops":
        return f"{walked}: every hop had a stored link (support ≥ {res.min_support:.2f})."
    if res.stop == "nothing":
        return (f"{walked} and stopped: {STOPS['nothing']} (no memory shares enough of the "
                f"recalled code).")
    hop = res.refused
    name = _short(memory_rows.answer_text(mem, hop.memory_id), 40)
    if res.stop == "no_link":
        return (f"{walked} and stopped: {STOPS['no_link']}. W's next code decodes to "
                f"\u201c{name}\u201d (code cosine {hop.cosine:.2f}), but only "
                f"{hop.support:.0%} of the k × k links it needs are stored (support "
                f"{hop.support:.2f} < {res.min_support:.2f}): cross-talk, not a link.")
    return (f"{walked} and stopped: {STOPS['revisit']} (\u201c{name}\u201d, support "
            f"{hop.support:.2f}); going on would only loop.")


# --- when to answer: the thresholds' trade-off on the hand-written calibration questions ---
_TRADEOFF: dict = {}
_TRADEOFF_LOCK = threading.Lock()


def tradeoff(encoder, word_match: bool = True) -> pd.DataFrame | None:
    """For every method and threshold 0.00, 0.01, … 1.00: the share of the paraphrased
    questions answered right / wrong / not at all, and of the unheld questions abstained on,
    over the hand-written calibration questions of the demo sets (README, "When to answer":
    each set in a default memory). None when the calibration file is not there. Computed once
    per process (shipped texts only, never a visitor's). ``word_match``: hopfield and cosine
    scored by word match (the engine's default) or by the cue cosine alone."""
    from nuonuo_core.bench import calibration

    with _TRADEOFF_LOCK:
        if word_match not in _TRADEOFF:
            if not calibration.DATA.is_file():
                return None
            recs = calibration.score(calibration.load(), encoder, config=MemoryConfig(
                device="cpu", word_match=word_match))
            grid = (NO_ABSTENTION,) + tuple(calibration.GRID)
            rows = [calibration.rates(recs, m, t) for m in METHODS for t in grid]
            df = pd.DataFrame(rows)[["method", "threshold", "right", "wrong", "abstained",
                                     "unheld_abstained", "n_held", "n_unheld"]]
            _TRADEOFF[word_match] = df
        return _TRADEOFF[word_match]


def tradeoff_at(df: pd.DataFrame, method: str, threshold: float) -> dict:
    """The trade-off row of ``method`` at ``threshold`` (the grid point at or just below
    it; the grid holds -1, which answers everything, then 0.00, 0.01, … 1.00)."""
    d = df[df.method == method].sort_values("threshold")
    below = d[d.threshold <= threshold + 1e-9]
    return (below.iloc[-1] if len(below) else d.iloc[0]).to_dict()


def tradeoff_sentence(df: pd.DataFrame, method: str, threshold: float) -> str:
    r = tradeoff_at(df, method, threshold)
    return (f"{method} at {threshold:.2f}: answers {r['right']:.0%} of the "
            f"{int(r['n_held'])} paraphrased questions right ({r['wrong']:.0%} wrong, "
            f"{r['abstained']:.0%} unanswered) and stays silent on {r['unheld_abstained']:.0%} "
            f"of the {int(r['n_unheld'])} questions the sets do not hold.")


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
