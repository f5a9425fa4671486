"""The guided tour: four findings in four charts (noise, chains, nights here; the corrupted
letter in :mod:`lab.patterns.view`), each measured on a fresh memory (never the workspace), and
the sentence beside each chart *computed from that chart's data*, so no sentence can claim
what its curve does not show. Pure: no Streamlit."""
from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd

from nuonuo_core import HybridMemory, MemoryConfig

from lab import analysis
from lab.nights import player
from lab.workspace import demos, memory_rows

Progress = analysis.Progress


NOISE_DRAWS = 3       # noise draws per level in step 1 (the chart's band is their interval)
CHAIN_HOPS = 6        # step 2 asks for more hops than the chain has links: it shows the stop


def run(encoder, progress: Progress = None) -> dict:
    """{"noise": the noise sweep's summary (mean and 95 % interval over NOISE_DRAWS draws),
    "noise_records", "chain", "forgetting": DataFrames, "chain_stop": why the chain ended,
    "night_params": the nights' settings}."""
    tell = analysis._tell
    cfg = MemoryConfig(seed=0, device="cpu")
    tell(progress, 0.05, "1/3 noise tolerance")
    mem = HybridMemory(cfg, encoder=encoder)
    memory_rows.add_rows(mem, demos.load("teaching"))
    noise = analysis.noise_sweep(mem, np.linspace(0, 0.2, 9), seeds=NOISE_DRAWS)
    tell(progress, 0.4, "2/3 multi-hop")
    mem = HybridMemory(cfg, encoder=encoder)
    memory_rows.add_rows(mem, demos.load("chains"))
    chain, res = analysis.chain_frame(mem, mem.ids()[0], CHAIN_HOPS)
    stop = {"stop": res.stop, "asked": CHAIN_HOPS, "min_support": res.min_support,
            "refused": None if res.refused is None else
            memory_rows.answer_text(mem, res.refused.memory_id),
            "refused_support": None if res.refused is None else res.refused.support,
            "refused_cosine": None if res.refused is None else res.refused.cosine}
    refused = analysis.refused_frame(mem, res, len(chain) - 1)
    tell(progress, 0.6, "3/3 nights of consolidation")
    params = player.NightParams()
    lab = player.NightLab(demos.split_days(demos.load("teaching"), 8), encoder)
    for i in range(5):
        lab.step(params)
        tell(progress, 0.6 + 0.08 * (i + 1), f"3/3 night {i + 1}")
    return {"noise": analysis.noise_summary(noise), "noise_records": noise, "chain": chain,
            "chain_stop": stop, "chain_refused": refused, "forgetting": lab.forgetting_frame(),
            "night_params": asdict(params)}


def pct(x: float) -> str:
    return f"{100 * float(x):.0f}%"


def noise_sentence(df: pd.DataFrame) -> str:
    """df: noise_std, cosine, method, recall_at_1 (one row per level and method: the means
    over the noise draws, with ci_low / ci_high / draws when there are several) -> what the
    strongest noise level shows, which lines lie on top of each other, what the band is."""
    top = df[df.noise_std == df.noise_std.max()]
    r = {m: float(top[top.method == m].recall_at_1.iloc[0]) for m in top.method}
    sigma, cos = float(top.noise_std.iloc[0]), float(top.cosine.iloc[0])
    draws = int(df.draws.max()) if "draws" in df else 1

    def said(m: str) -> str:
        if draws < 2:
            return pct(r[m])
        row = top[top.method == m].iloc[0]
        return f"{pct(r[m])} (95 % interval {pct(row.ci_low)}–{pct(row.ci_high)})"

    text = (f"At the strongest noise tried (σ = {sigma:.3f}, the cue keeps cosine {cos:.2f} "
            f"to the clean one) Hopfield recalls {said('hopfield')} of the memories, the "
            f"Hebbian code path {said('hebbian')}, plain cosine search {said('cosine')}"
            + (f", means over {draws} noise draws (the bands)." if draws > 1 else "."))
    gap = r["hopfield"] - r["hebbian"]
    if gap > 0.05:
        text += " Settling keeps memories the Hebbian path has lost"
        text += (", and plain cosine search holds as well on a set this small: settling adds "
                 "nothing over the nearest stored cue here (nor, in the single_hop_value "
                 "experiment, anywhere a method still recalls 2 % of its queries)."
                 if r["cosine"] >= r["hopfield"] - 0.05 else ".")
    elif gap < -0.05:
        text += " Here the Hebbian path does better than Hopfield settling."
    else:
        text += " Hopfield and the Hebbian path are level here."
    same = _same_lines(df)
    if same:
        text += (" " + " and ".join(f"{a} and {b}" for a, b in same) + " lie on top of each "
                 "other at every σ (solid under dashed or dotted).")
    return text


def _same_lines(df: pd.DataFrame, tol: float = 0.005) -> list[tuple[str, str]]:
    """Pairs of methods whose curves coincide at every noise level."""
    piv = df.pivot_table(index="noise_std", columns="method", values="recall_at_1")
    names = {"hopfield": "Hopfield", "hebbian": "Hebbian", "cosine": "cosine"}
    methods = [m for m in names if m in piv.columns]
    return [(names[a], names[b]) for i, a in enumerate(methods) for b in methods[i + 1:]
            if (piv[a] - piv[b]).abs().max() <= tol]


def chain_sentence(df: pd.DataFrame, stop: dict | None = None) -> str:
    """df: hop, id, label, cosine, support (hop 0 is the start; the hops that count) and
    ``stop`` (why the chain ended: stop, asked, min_support, refused, refused_support) ->
    how far the chain walks and where and why it stops."""
    hops = df[(df.hop >= 1) & (df.id >= 0)]
    path = " → ".join(df[df.hop <= (hops.hop.max() if len(hops) else 0)].label)
    if not len(hops):
        return f"W recalls nothing from the first cue ({path}): there is no chain to walk."
    lo, hi = float(hops.cosine.min()), float(hops.cosine.max())
    cos = (f"code cosine {hi:.2f} at every hop" if np.isclose(lo, hi)
           else f"code cosine between {lo:.2f} and {hi:.2f}")
    text = (f"Feeding each recalled code back into W walks {len(hops)} hop"
            f"{'s' if len(hops) != 1 else ''} ({path}) with {cos}")
    if "support" in hops:
        s_lo = float(hops.support.min())
        text += (f", each over a stored link (support {s_lo:.2f})" if np.isclose(s_lo, 1.0)
                 else f", support at least {s_lo:.2f}")
    why = (stop or {}).get("stop")
    if why == "no_link":
        text += (f"; then W's code decodes to {stop['refused']} (cosine "
                 f"{stop['refused_cosine']:.2f}) with support only "
                 f"{stop['refused_support']:.2f} (< {stop['min_support']:.2f}): no stored link, "
                 f"so the chain stops there instead of wandering into cross-talk")
    elif why == "revisit":
        text += f"; the next memory, {stop['refused']}, was already visited: the chain stops"
    elif why == "nothing" or (stop is None and (df.id < 0).any()):
        text += f"; at hop {len(hops) + 1} W recalls nothing and the chain stops"
    elif why == "hops":
        text += f", all {stop['asked']} hops asked for"
    return text + "."


def forgetting_sentence(df: pd.DataFrame, params: dict) -> str:
    """df: age, run ("with replay" / "without replay"), recall -> what the two curves do."""
    setting = (f"(homeostasis h = {params['homeostasis']:g}, prune threshold "
               f"θ = {params['prune_threshold']:g}, {params['epochs']} epochs a night)")
    parts = []
    for run in ("with replay", "without replay"):
        d = df[df.run == run].sort_values("age")
        first, last, age = float(d.recall.iloc[0]), float(d.recall.iloc[-1]), int(d.age.iloc[-1])
        if last >= first - 0.02:
            how = f"stays at {pct(last)} up to {age} nights old"
        else:
            how = f"falls from {pct(first)} to {pct(last)} by {age} nights old"
        gone = d[d.recall == 0]
        if len(gone) and last == 0:
            how += f" (none left from {int(gone.age.min())} nights on)"
        parts.append(f"{run} recall {how}")
    wr = df[df.run == "with replay"].sort_values("age").recall.iloc[-1]
    nr = df[df.run == "without replay"].sort_values("age").recall.iloc[-1]
    verdict = ("replay keeps more old memories than no replay" if wr > nr + 0.02 else
               "replay makes no difference here" if abs(wr - nr) <= 0.02 else
               "the twin without replay keeps more old memories than the one with it")
    return (f"Each night W shrinks (×h each epoch) and weights below θ are pruned {setting}: "
            f"{parts[0]}; {parts[1]}. At the oldest age, {verdict}. "
            + seed_note(params, int(df.age.max()) if len(df) else 0))


SEED_NIGHT = {"homeostasis": 0.95, "prune_threshold": 1e-3}   # the seed's Experiment 3


def seed_note(params: dict, nights: int) -> str:
    """Whether the seed's own h and θ would prune anything in as many nights: an unreplayed
    link of weight 1 keeps h^(epochs · nights)."""
    h, thr = SEED_NIGHT["homeostasis"], SEED_NIGHT["prune_threshold"]
    left = h ** (params["epochs"] * nights)
    if params["homeostasis"] == h and params["prune_threshold"] == thr:
        return ""
    verdict = ("still above θ, so pruning would remove nothing" if left >= thr else
               "below θ, so it would be pruned too")
    return (f"These are teaching settings, harsher than the seed's (h = {h:g}, θ = {thr:g}): "
            f"there an unreplayed link of weight 1 would keep {left:.2f} after {nights} "
            f"nights of {params['epochs']} epochs, {verdict}.")


def sentences(res: dict) -> dict[str, str]:
    """The three tour sentences, each from the data of its chart."""
    return {"noise": noise_sentence(res["noise"]),
            "chain": chain_sentence(res["chain"], res.get("chain_stop")),
            "forgetting": forgetting_sentence(res["forgetting"], res["night_params"])}
