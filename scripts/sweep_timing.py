"""Measure one 16-task sweep on local x1, local x2 and Ray (2 CPUs); print a Markdown table.

    PYTHONPATH=. .venv/bin/python scripts/sweep_timing.py [--rounds 2]

Each configuration runs as the real command (``python -m nuonuo_core.sweep ...``) into a fresh
output file; rounds are interleaved so that load on a shared machine hits every configuration
alike. "command" is the whole process (imports, worker start-up, Ray start-up and shutdown);
"sweep" is the runner's own wall time. The outputs of every run must be identical.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRID = ["noise", "--n_memories", "1500", "--n_queries", "150", "--code_dim", "4096,8192",
        "--noise_stds", "0,0.05,0.1,0.15", "--seeds", "0,1"]
CONFIGS = [("local", 1), ("local", 2), ("ray", 2)]


def run(backend: str, workers: int, out: Path) -> tuple[float, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_USAGE_STATS_ENABLED": "0"}
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "nuonuo_core.sweep", *GRID, "--backend",
                           backend, "--workers", str(workers), "--out", str(out), "--quiet"],
                          env=env, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    m = re.search(r"16 of 16 tasks done \(16 run now, 0 resumed\) in (?:(\d+)m)?([\d.]+)s",
                  proc.stderr)
    if not m:
        raise SystemExit(f"unexpected output:\n{proc.stderr}")
    return wall, 60 * int(m.group(1) or 0) + float(m.group(2))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2, choices=range(1, 6))
    rounds = ap.parse_args().rounds
    times: dict = {c: [] for c in CONFIGS}
    texts = set()
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            for backend, workers in CONFIGS:
                out = Path(tmp) / f"{backend}{workers}_{r}.csv"
                times[(backend, workers)].append(run(backend, workers, out))
                texts.add(out.read_text())
                print(f"round {r + 1}: {backend} x{workers}: {times[(backend, workers)][-1]}",
                      file=sys.stderr)
    print(f"grid: python -m nuonuo_core.sweep {' '.join(GRID)}  (16 tasks)")
    print(f"identical outputs across all {rounds * len(CONFIGS)} runs: {len(texts) == 1}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    print("| backend | workers | sweep wall (s), median | command wall (s), median | "
          "speed-up vs local x1 (sweep) |")
    print("|---|---|---|---|---|")
    base = statistics.median(s for _, s in times[("local", 1)])
    for (backend, workers), ts in times.items():
        sweep = statistics.median(s for _, s in ts)
        cmd = statistics.median(w for w, _ in ts)
        print(f"| {backend} | {workers} | {sweep:.1f} | {cmd:.1f} | {base / sweep:.2f}x |")


if __name__ == "__main__":
    main()
