"""Compute time of the night player: 250 own memories, 8 a day -> 35 nights ("Play all").

    PYTHONPATH=. .venv/bin/python scripts/night_player_time.py [--memories 250] [--repeat 3]

Runs the lab's own NightLab (lab/nights/player.py) with the hashing encoder, as the issue asks, and,
in the same interleaved run, the same lab measured one query at a time (each memory recalled
alone from its cue embedding: the way nights were measured before). Prints CPU and wall
seconds per full run; compare the ratio, the machine is shared.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from lab.nights import player  # noqa: E402
from lab.workspace import demos, memory_rows  # noqa: E402
from nuonuo_core import NO_ABSTENTION  # noqa: E402
from nuonuo_core.encoders import HashingEncoder  # noqa: E402


class OneAtATime(player.NightLab):
    """The reference: every memory recalled alone (one recall_vectors + recall_codes each)."""

    def _measure(self, noise: float) -> None:
        import pandas as pd
        ids = np.concatenate([np.asarray(d, dtype=np.int64) for d in self.day_ids])
        day = np.concatenate([np.full(len(d), i) for i, d in enumerate(self.day_ids, 1)])
        cues = np.concatenate(self.cues)
        for run, mem in self.mems.items():
            hit, cos = [], []
            for v, i in zip(cues, ids):
                _, got = mem.recall_vectors(v[None], k=1, method="hebbian",
                                            min_score=NO_ABSTENTION)  # as NightLab
                hit.append(got[0, 0] == i)
                cos.append(player.code_cosine(mem.recall_codes(v[None]), mem.codes([i])[1])[0])
            self._chunks.append(pd.DataFrame({
                "night": self.nights, "run": run, "learn_day": day, "age": self.nights - day,
                "id": ids, "recalled": hit, "code_cos": cos}))
        self._log = None


def play(cls, rows, per_day: int) -> tuple[float, float, player.NightLab]:
    c0, t0 = time.process_time(), time.perf_counter()
    lab = cls(demos.split_days(rows, per_day), HashingEncoder())
    while not lab.done:
        lab.step(player.NightParams())
    for f in (lab.survival_frame, lab.forgetting_frame, lab.priority_frame):
        f(), f("code_cos")
    lab.metrics_frame(), lab.memories_frame()
    return time.process_time() - c0, time.perf_counter() - t0, lab


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--memories", type=int, default=250)
    ap.add_argument("--per-day", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-reference", action="store_true", help="skip the slow reference")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch and BLAS threads, as the lab sets them (app.py, "
                         "NUONUO_TORCH_THREADS)")
    args = ap.parse_args()
    if not 1 <= args.threads <= 16:
        sys.exit("--threads in [1, 16]")
    import torch
    from threadpoolctl import threadpool_limits
    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)          # numpy's BLAS too, as app.py sets both
    if not 1 <= args.memories <= 5000 or not 1 <= args.per_day <= 50 or \
            not 1 <= args.repeat <= 10:
        sys.exit("--memories in [1, 5000], --per-day in [1, 50], --repeat in [1, 10]")
    rows = [memory_rows.make_row(f"memory {i} about topic {i % 17} and item {i * 7 % 101}",
                        f"answer {i} is {i * 13 % 97}", importance=2.0 if i % 5 == 0 else 1.0)
            for i in range(args.memories)]
    kinds = [("batched (NightLab)", player.NightLab)]
    if not args.no_reference:
        kinds.append(("one query at a time", OneAtATime))
    got: dict[str, list] = {k: [] for k, _ in kinds}
    for _ in range(args.repeat):
        for name, cls in kinds:
            cpu, wall, lab = play(cls, rows, args.per_day)
            got[name].append((cpu, wall))
            logs = got.setdefault("_logs", {})
            logs[name] = lab.log()
    print(f"{args.memories} memories, {lab.nights} nights; median of {args.repeat}")
    print("| evaluation | CPU s | wall s |")
    print("|---|---|---|")
    for name, _ in kinds:
        cpu = statistics.median(c for c, _ in got[name])
        wall = statistics.median(w for _, w in got[name])
        print(f"| {name} | {cpu:.2f} | {wall:.2f} |")
    if len(kinds) == 2:
        a, b = (got["_logs"][k] for k, _ in kinds)
        same = a.recalled.equals(b.recalled) and np.allclose(a.code_cos, b.code_cos)
        print(f"same records: {same}")


if __name__ == "__main__":
    main()
