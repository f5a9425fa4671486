"""The day/night stepper: two twin memories learn the same days; one replays at night.

Each step learns the next day's memories into both twins, then sleeps both with the same
homeostasis and pruning; only the "with replay" twin replays its buffer, which is then
cleared to ``keep_fraction`` (priority memories stay longest). Recall is measured on the
Hebbian path (cue code → W → k-WTA → nearest target code), the part consolidation changes,
by two metrics (:data:`METRICS`): the strict criterion (a hit only when the top-1 memory is
the expected one; "none" (-1) is a miss) and the seed's code cosine. Each night is measured
in one batch per twin (:func:`evaluate`), not one query at a time.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from nuonuo_core import NO_ABSTENTION, HybridMemory, MemoryConfig, Night, perturb

from lab.workspace import memory_rows
from lab.workspace.encoding import KnownTexts

RUNS = ("with replay", "without replay")
PLAN_FIELDS = ("epochs", "homeostasis", "prune_threshold", "replay_noise", "keep_fraction")
#: frame column -> how charts name it
METRICS = {"recall": "recall@1, strict (top-1 is the memory; none = miss)",
           "code_cos": "code cosine (the seed's metric)"}
LOG_COLUMNS = ["night", "run", "learn_day", "age", "id", "recalled", "code_cos"]
METRIC_COLUMNS = ["night", "run", "w_norm", "w_sparsity", "w_nnz", "pruned", "replay_buffer",
                  "w_norm_before", "replay_added", "homeostasis_removed", "pruning_removed"]


@dataclass(frozen=True)
class NightParams(Night):
    """The player's night: the engine's :class:`~nuonuo_core.Night` (its fields and range
    checks, with the player's teaching defaults) plus what the player does around it."""

    epochs: int = 3
    homeostasis: float = 0.7
    prune_threshold: float = 0.1
    keep_fraction: float = 0.5
    policy: str = "priority"
    probe_noise: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        self.check()

    def check(self) -> "NightParams":
        """Every number inside the lab's night ranges (``limits.NIGHT``, inside the
        engine's), whatever a client sent; ValueError naming the value and the range."""
        from lab import limits

        for name, value in asdict(self).items():
            if name in limits.NIGHT:
                limits.NIGHT[name].parse(value)
        return self


def norm_budget(before: float, recs: list[dict]) -> dict:
    """How one night moved ‖W‖, step by step, from ``consolidate``'s epoch records: each epoch
    homeostasis scales W (‖W‖ falls by (1 − h)·‖W‖), replay adds the replayed links, pruning
    cuts the cells below θ. The three sums add up: before − homeostasis + replay − pruning
    = after (‖·‖ is no sum of parts, so each is the change of ‖W‖ at its own step)."""
    homeo = replay = prune = 0.0
    prev = float(before)
    for r in recs:
        homeo += prev - r["w_norm_scaled"]
        replay += r["w_norm_replayed"] - r["w_norm_scaled"]
        prune += r["w_norm_replayed"] - r["w_norm"]
        prev = r["w_norm"]
    return {"before": float(before), "after": prev, "homeostasis_removed": homeo,
            "replay_added": replay, "pruning_removed": prune,
            "pruned_cells": sum(int(r["pruned"]) for r in recs)}


def budget_text(b: dict) -> str:
    """'‖W‖ 191.0 → 377.0: replay added +250.0, homeostasis removed −60.0, pruning −4.0
    (1,234 cells)', the parts computed by :func:`norm_budget`."""
    def part(x: float) -> str:
        return f"{max(float(x), 0.0):.1f}"     # each part is >= 0 but for float rounding
    return (f"‖W‖ {b['before']:.1f} → {b['after']:.1f}: replay added +{part(b['replay_added'])}, "
            f"homeostasis removed −{part(b['homeostasis_removed'])}, pruning removed "
            f"−{part(b['pruning_removed'])} ({b['pruned_cells']:,} cells)")


def code_cosine(recalled: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Cosine of binary codes: recalled (m, k) unit indices, -1 for dead units; target (m, k).
    overlap / sqrt(k · live units); 0 where no unit is live."""
    rec = np.asarray(recalled)
    live = (rec >= 0).sum(1)
    overlap = ((rec[:, :, None] == target[:, None, :]).any(2) & (rec >= 0)).sum(1)
    denom = np.sqrt(target.shape[1] * np.maximum(live, 1))
    return np.where(live > 0, overlap / denom, 0.0)


def evaluate(mem: HybridMemory, cues: np.ndarray, ids, noise: float = 0.0, seed: int = 0):
    """Recall every memory in one batch on the Hebbian path -> (hit (m,) bool by the strict
    criterion, code cosine (m,) of the recalled code to the memory's target code). Without
    probe noise the probe is each memory's stored cue code (``cues`` unused); with noise,
    the noisy cue embeddings (m, d) are coded afresh."""
    ids = np.asarray(ids, dtype=np.int64)
    if noise:
        q = perturb(cues, noise, seed).numpy()
        _, got = mem.recall_vectors(q, k=1, method="hebbian", min_score=NO_ABSTENTION)
        recalled = mem.recall_codes(q)
    else:
        _, got, recalled = mem.recall_stored(ids, k=1)
    return got[:, 0] == ids, code_cosine(recalled, mem.codes(ids)[1])


class NightLab:
    def __init__(self, days: list[list[memory_rows.MemoryRow]], encoder, code_dim: int = 16384,
                 k: int = 20, seed: int = 0):
        if not days or not any(days):
            raise ValueError("the day plan is empty: choose a demo set or add memories")
        self.days = days
        # both twins learn the same texts and the probes re-use the cues: embed each once
        self._encoder = KnownTexts(encoder, remember=True)
        cfg = MemoryConfig(code_dim=code_dim, k=k, seed=seed, device="cpu")
        self.mems = {run: HybridMemory(cfg, encoder=self._encoder) for run in RUNS}
        self.day_ids: list[list[int]] = []
        self.cues: list[np.ndarray] = []
        self.metrics: list[dict] = []
        self._chunks: list[pd.DataFrame] = []
        self._log: pd.DataFrame | None = None
        self.nights = 0
        self.history: list[tuple] = []     # each night's settings (PLAN_FIELDS), in order

    @property
    def done(self) -> bool:
        return self.nights >= len(self.days) + 3

    def step(self, p: NightParams) -> None:
        """Learn the next day (if any is left), then one night for both twins."""
        p.check()
        if self.nights < len(self.days):
            rows = self.days[self.nights]
            for mem in self.mems.values():
                ids = memory_rows.add_rows(mem, rows)
            self.day_ids.append(ids)
            self.cues.append(self._encoder([r.cue for r in rows]))
        for run, mem in self.mems.items():
            before = mem.stats()["w_norm"]
            recs = mem.consolidate(p.night(), replay=run == "with replay", seed=self.nights)
            if run == "with replay":
                mem.clear_replay(p.keep_fraction, p.policy)
            stats = mem.stats()
            b = norm_budget(before, recs)
            self.metrics.append({"night": self.nights + 1, "run": run, "w_norm": stats["w_norm"],
                                 "w_sparsity": stats["w_sparsity"], "w_nnz": stats["w_nnz"],
                                 "pruned": sum(r["pruned"] for r in recs),
                                 "replay_buffer": stats["replay_size"],
                                 "w_norm_before": before,
                                 "replay_added": b["replay_added"],
                                 "homeostasis_removed": b["homeostasis_removed"],
                                 "pruning_removed": b["pruning_removed"]})
        self.nights += 1
        self.history.append(tuple(getattr(p, f) for f in PLAN_FIELDS))
        self._measure(p.probe_noise)

    def plan(self) -> list[list]:
        """The nights slept, as runs of equal settings: [[count, *PLAN_FIELDS values], …]
        (small enough to save; :meth:`replay` steps a fresh player through it again)."""
        out: list[list] = []
        for values in self.history:
            if out and tuple(out[-1][1:]) == values:
                out[-1][0] += 1
            else:
                out.append([1, *values])
        return out

    def replay(self, plan: list[list], progress=None) -> int:
        """Step this (fresh) player through a saved :meth:`plan`; the player is
        deterministic, so it ends where the saved one was. At most the nights a Play all
        takes (days + 3). Returns the nights slept."""
        total = min(sum(int(seg[0]) for seg in plan), len(self.days) + 3)
        done = 0
        for seg in plan:
            p = NightParams(**dict(zip(PLAN_FIELDS, seg[1:])))
            for _ in range(int(seg[0])):
                if done >= total:
                    return done
                self.step(p)
                done += 1
                if progress is not None:
                    progress(done / max(total, 1), f"night {done} of {total}")
        return done

    def _measure(self, noise: float) -> None:
        ids = np.concatenate([np.asarray(d, dtype=np.int64) for d in self.day_ids])
        learn_day = np.concatenate([np.full(len(d), i) for i, d in
                                    enumerate(self.day_ids, start=1)])
        cues = np.concatenate(self.cues)
        for run, mem in self.mems.items():
            hit, cos = evaluate(mem, cues, ids, noise, seed=self.nights)
            self._chunks.append(pd.DataFrame({
                "night": self.nights, "run": run, "learn_day": learn_day,
                "age": self.nights - learn_day, "id": ids, "recalled": hit, "code_cos": cos}))
        self._log = None

    # --- tables for the charts ----------------------------------------------------------
    def log(self) -> pd.DataFrame:
        """One row per (night, run, memory): recalled (strict) and code_cos."""
        if self._log is None:
            self._log = (pd.concat(self._chunks, ignore_index=True) if self._chunks
                         else pd.DataFrame(columns=LOG_COLUMNS))
        return self._log

    def metrics_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.metrics, columns=METRIC_COLUMNS)

    def budget_sentence(self) -> str:
        """The last night of each twin: what replay added and homeostasis and pruning took
        from ‖W‖ (the day's learning happens before the night: ‖W‖ before the night
        includes it)."""
        if not self.metrics:
            return ""
        last = [m for m in self.metrics if m["night"] == self.nights]
        parts = []
        for m in last:
            b = {"before": m["w_norm_before"], "after": m["w_norm"],
                 "replay_added": m["replay_added"],
                 "homeostasis_removed": m["homeostasis_removed"],
                 "pruning_removed": m["pruning_removed"], "pruned_cells": m["pruned"]}
            parts.append(f"{m['run']}: {budget_text(b)}")
        return f"Night {self.nights}, " + "; ".join(parts) + "."

    def _mean(self, log: pd.DataFrame, by: list[str], metric: str) -> pd.DataFrame:
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {sorted(METRICS)}, got {metric!r}")
        src = "recalled" if metric == "recall" else "code_cos"
        if log.empty:
            return pd.DataFrame(columns=by + [metric])
        out = log.groupby(by, as_index=False)[src].mean().rename(columns={src: metric})
        out[metric] = out[metric].astype(float)
        return out

    def survival_frame(self, metric: str = "recall") -> pd.DataFrame:
        """Each learning day's mean score after the latest night."""
        log = self.log()
        return self._mean(log[log.night == self.nights], ["learn_day", "run"], metric)

    def forgetting_frame(self, metric: str = "recall") -> pd.DataFrame:
        return self._mean(self.log(), ["age", "run"], metric)

    def priority_frame(self, metric: str = "recall") -> pd.DataFrame:
        """Score after each night of priority (★, importance > 1) vs ordinary memories."""
        log = self.log()
        if log.empty:
            return pd.DataFrame(columns=["night", "run", "group", metric])
        imp = {g["id"]: g["importance"] for g in self.mems["with replay"].records()}
        log = log.assign(group=np.where(log.id.map(imp) > 1, "★ priority", "ordinary"))
        return self._mean(log, ["night", "run", "group"], metric)

    def memories_frame(self) -> pd.DataFrame:
        log = self.log()
        recs = pd.DataFrame(self.mems["with replay"].records())
        if recs.empty:
            return pd.DataFrame(columns=["day", "priority", "cue", "importance",
                                         "in_replay_buffer"])
        day = {mid: d for d, ids in enumerate(self.day_ids, start=1) for mid in ids}
        out = pd.DataFrame({"day": recs.id.map(day),
                            "priority": np.where(recs.importance > 1, "★", ""),
                            "cue": recs.cue, "importance": recs.importance,
                            "in_replay_buffer": recs.in_replay})
        now = log[log.night == self.nights]
        for run in RUNS:
            hit = now[now.run == run].set_index("id").recalled
            out[f"recalled ({run})"] = recs.id.map(hit).astype(object)
        return out


def sleep_workspace(mem: HybridMemory, p: NightParams, progress=None) -> str:
    """One night for a user's own workspace with the page's settings; returns a summary."""
    p.check()
    if len(mem) == 0:
        raise ValueError("the workspace is empty: there is nothing to consolidate")
    from lab import limits

    limits.check_room(mem, limits.night_growth(mem, p.epochs, p.replay_noise), "this night")
    before = mem.stats()
    recs = mem.consolidate(p.night(), progress=progress)
    kept = mem.clear_replay(p.keep_fraction, p.policy)
    after = mem.stats()
    b = norm_budget(before["w_norm"], recs)
    return (f"Night {mem.day} done: {budget_text(b)}; non-zeros {before['w_nnz']:,} → "
            f"{after['w_nnz']:,}; {kept} memories stay in the replay buffer. Replay adds "
            f"lr · importance · c_target c_cueᵀ for every buffered memory each epoch, so a "
            f"night can raise ‖W‖ although homeostasis scales it down.")
