"""The guided tour: four findings in four charts (noise, chains, nights here; the corrupted
letter in :mod:`lab.pattern_ui`), each measured on a fresh memory (never the workspace), and
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


def run(encoder, progress: Progress = None) -> dict:
    """{"noise", "chain", "forgetting": DataFrames, "night_params": the nights' settings}."""
    tell = analysis._tell
    cfg = MemoryConfig(seed=0, device="cpu")
    tell(progress, 0.05, "1/3 noise tolerance")
    mem = HybridMemory(cfg, encoder=encoder)
    memory_rows.add_rows(mem, demos.load("teaching"))
    noise = analysis.noise_sweep(mem, np.linspace(0, 0.2, 9))
    tell(progress, 0.4, "2/3 multi-hop")
    mem = HybridMemory(cfg, encoder=encoder)
    memory_rows.add_rows(mem, demos.load("chains"))
    chain = analysis.chain_frame(mem, mem.ids()[0], 4)
    tell(progress, 0.6, "3/3 nights of consolidation")
    params = player.NightParams()
    lab = player.NightLab(demos.split_days(demos.load("teaching"), 8), encoder)
    for i in range(5):
        lab.step(params)
        tell(progress, 0.6 + 0.08 * (i + 1), f"3/3 night {i + 1}")
    return {"noise": noise, "chain": chain, "forgetting": lab.forgetting_frame(),
            "night_params": asdict(params)}


def pct(x: float) -> str:
    return f"{100 * float(x):.0f}%"


def noise_sentence(df: pd.DataFrame) -> str:
    """df: noise_std, cosine, method, recall_at_1 -> what the strongest noise level shows."""
    top = df[df.noise_std == df.noise_std.max()]
    r = {m: float(top[top.method == m].recall_at_1.iloc[0]) for m in top.method}
    sigma, cos = float(top.noise_std.iloc[0]), float(top.cosine.iloc[0])
    text = (f"At the strongest noise tried (σ = {sigma:.3f}, the cue keeps cosine {cos:.2f} "
            f"to the clean one) Hopfield recalls {pct(r['hopfield'])} of the memories, the "
            f"Hebbian code path {pct(r['hebbian'])}, plain cosine search {pct(r['cosine'])}.")
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
    return text


def chain_sentence(df: pd.DataFrame) -> str:
    """df: hop, id, label, cosine (hop 0 is the start) -> how far the chain walks."""
    hops = df[df.hop >= 1]
    alive = hops[hops.id >= 0]
    stop = hops[hops.id < 0]
    path = " → ".join(df[df.hop <= (alive.hop.max() if len(alive) else 0)].label)
    if not len(alive):
        return f"W recalls nothing from the first cue ({path}): there is no chain to walk."
    lo, hi = float(alive.cosine.min()), float(alive.cosine.max())
    cos = (f"code cosine {hi:.2f} at every hop" if np.isclose(lo, hi)
           else f"code cosine between {lo:.2f} and {hi:.2f}")
    text = (f"Feeding each recalled code back into W walks {len(alive)} hop"
            f"{'s' if len(alive) != 1 else ''} ({path}) with {cos}")
    if len(stop):
        text += f"; at hop {int(stop.hop.min())} W recalls nothing and the chain stops"
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
    return {"noise": noise_sentence(res["noise"]), "chain": chain_sentence(res["chain"]),
            "forgetting": forgetting_sentence(res["forgetting"], res["night_params"])}
