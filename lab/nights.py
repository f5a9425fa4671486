"""The day/night stepper: two twin memories learn the same days; one replays at night.

Each step learns the next day's memories into both twins, then sleeps both with the same
homeostasis and pruning; only the "with replay" twin replays its buffer, which is then
cleared to ``keep_fraction`` (priority memories stay longest). Recall is measured on the
Hebbian path (cue code → W → k-WTA → nearest target code), the part consolidation changes.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from nuonuo_core import HybridMemory, MemoryConfig

from . import io

RUNS = ("with replay", "without replay")


@dataclass(frozen=True)
class NightParams:
    epochs: int = 3
    replay_noise: float = 0.0
    homeostasis: float = 0.7
    prune_threshold: float = 0.1
    keep_fraction: float = 0.5
    policy: str = "priority"
    probe_noise: float = 0.0

    def check(self) -> "NightParams":
        for name, value in asdict(self).items():
            if isinstance(value, float) and not np.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        if not 0 <= self.keep_fraction <= 1:
            raise ValueError(f"keep_fraction must be in [0, 1], got {self.keep_fraction}")
        return self


class NightLab:
    def __init__(self, days: list[list[io.MemoryRow]], encoder, code_dim: int = 16384,
                 k: int = 20, seed: int = 0):
        if not days or not any(days):
            raise ValueError("the day plan is empty: choose a demo set or add memories")
        self.days = days
        cfg = MemoryConfig(code_dim=code_dim, k=k, seed=seed, device="cpu")
        self.mems = {run: HybridMemory(cfg, encoder=encoder) for run in RUNS}
        self.day_ids: list[list[int]] = []
        self.cues: list[np.ndarray] = []
        self.metrics: list[dict] = []
        self.recall_log: list[dict] = []
        self.nights = 0
        self._encoder = encoder

    @property
    def done(self) -> bool:
        return self.nights >= len(self.days) + 3

    def step(self, p: NightParams) -> None:
        """Learn the next day (if any is left), then one night for both twins."""
        p.check()
        if self.nights < len(self.days):
            rows = self.days[self.nights]
            for mem in self.mems.values():
                ids = io.add_rows(mem, rows)
            self.day_ids.append(ids)
            self.cues.append(self._encoder([r.cue for r in rows]))
        for run, mem in self.mems.items():
            recs = mem.consolidate(epochs=p.epochs, replay_noise=p.replay_noise,
                                   homeostasis=p.homeostasis, prune_threshold=p.prune_threshold,
                                   replay=run == "with replay", seed=self.nights)
            if run == "with replay":
                mem.clear_replay(p.keep_fraction, p.policy)
            st = mem.stats()
            self.metrics.append({"night": self.nights + 1, "run": run, "w_norm": st["w_norm"],
                                 "w_sparsity": st["w_sparsity"], "w_nnz": st["w_nnz"],
                                 "pruned": sum(r["pruned"] for r in recs),
                                 "replay_buffer": st["replay_size"]})
        self.nights += 1
        self._measure(p.probe_noise)

    def _measure(self, noise: float) -> None:
        for run, mem in self.mems.items():
            for day, (ids, cues) in enumerate(zip(self.day_ids, self.cues), start=1):
                _, got = mem.recall_vectors(cues, k=1, method="hebbian", noise_std=noise)
                ok = got[:, 0] == np.asarray(ids)
                for mid, hit in zip(ids, ok):
                    self.recall_log.append({"night": self.nights, "run": run, "learn_day": day,
                                            "age": self.nights - day, "id": mid,
                                            "recalled": bool(hit)})

    # --- tables for the charts ----------------------------------------------------------
    def metrics_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.metrics, columns=["night", "run", "w_norm", "w_sparsity",
                                                   "w_nnz", "pruned", "replay_buffer"])

    def survival_frame(self) -> pd.DataFrame:
        log = pd.DataFrame(self.recall_log)
        if log.empty:
            return pd.DataFrame(columns=["learn_day", "run", "recall"])
        now = log[log.night == self.nights]
        return (now.groupby(["learn_day", "run"], as_index=False)["recalled"].mean()
                .rename(columns={"recalled": "recall"}))

    def forgetting_frame(self) -> pd.DataFrame:
        log = pd.DataFrame(self.recall_log)
        if log.empty:
            return pd.DataFrame(columns=["age", "run", "recall"])
        return (log.groupby(["age", "run"], as_index=False)["recalled"].mean()
                .rename(columns={"recalled": "recall"}))

    def priority_frame(self) -> pd.DataFrame:
        """Recall after each night of priority (★, importance > 1) vs ordinary memories."""
        log = pd.DataFrame(self.recall_log)
        if log.empty:
            return pd.DataFrame(columns=["night", "run", "group", "recall"])
        imp = {mid: self.mems["with replay"].get(mid)["importance"] for ids in self.day_ids
               for mid in ids}
        log["group"] = ["★ priority" if imp[i] > 1 else "ordinary" for i in log.id]
        return (log.groupby(["night", "run", "group"], as_index=False)["recalled"].mean()
                .rename(columns={"recalled": "recall"}))

    def memories_frame(self) -> pd.DataFrame:
        mem = self.mems["with replay"]
        log = pd.DataFrame(self.recall_log)
        recs = []
        for day, ids in enumerate(self.day_ids, start=1):
            for mid in ids:
                g = mem.get(mid)
                now = log[(log.night == self.nights) & (log.id == mid)]
                rec = {"day": day, "priority": "★" if g["importance"] > 1 else "",
                       "cue": g["cue"], "importance": g["importance"],
                       "in_replay_buffer": g["in_replay"]}
                for run in RUNS:
                    hit = now[now.run == run].recalled
                    rec[f"recalled ({run})"] = bool(hit.iloc[0]) if len(hit) else None
                recs.append(rec)
        return pd.DataFrame(recs)


def sleep_workspace(mem: HybridMemory, p: NightParams, progress=None) -> str:
    """One night for a user's own workspace with the page's settings; returns a summary."""
    p.check()
    if len(mem) == 0:
        raise ValueError("the workspace is empty: there is nothing to consolidate")
    before = mem.stats()
    recs = mem.consolidate(epochs=p.epochs, replay_noise=p.replay_noise,
                           homeostasis=p.homeostasis, prune_threshold=p.prune_threshold,
                           progress=progress)
    kept = mem.clear_replay(p.keep_fraction, p.policy)
    after = mem.stats()
    return (f"Night {mem.day} done: ‖W‖ {before['w_norm']:.1f} → {after['w_norm']:.1f}, "
            f"non-zeros {before['w_nnz']:,} → {after['w_nnz']:,} "
            f"({sum(r['pruned'] for r in recs):,} pruned); {kept} memories stay in the replay "
            f"buffer.")
