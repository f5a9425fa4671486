"""Speed under load (issue 19): every measurement beside a busy core, ratios in one run.

A process spins on one core for the whole run (a browser, a second student, a sweep: the
lab's normal life on a 2-core laptop), and each measurement runs in a fresh worker process
that sets no thread limits unless the measurement says so, as a researcher's script would:

* ``night``: the night player's engine work (two twin memories, D 16384, k 20; 250 memories
  learnt over 32 days, 35 nights of replay, homeostasis 0.7, pruning 0.1, clearing to a half;
  each night every memory is probed by its stored cue), once with the default threads and once
  in a process limited to one thread (``OMP/MKL/OPENBLAS_NUM_THREADS=1`` and
  ``torch.set_num_threads(1)``, what the lab's ``app.py`` does). Target: default ÷ one ≤ 1.3.
* ``add``: adding N (100K) clustered memories, against the one dense projection it needs
  (N × 384 @ 384 × 16384 in numpy float32, in blocks, same process); and the memory's bytes
  per memory (``stats()["bytes"]``). Targets: add ÷ projection ≤ 1.5; ≤ 1,600 bytes.
* ``scan``: single-query hopfield and hebbian recall at 20K memories against a numpy top-20
  scan of the same rows (float32, one BLAS thread; with numpy's default threads beside a
  busy core the scan is ~5-20× slower, which would flatter the engine), interleaved in
  blocks of 10 queries a method. Target: engine ≤ 1.5 × scan + 0.2 ms. The default-threads
  scan is timed afterwards, on its own: its two BLAS threads keep spinning after each call
  and, interleaved, slowed whichever method came next (the engine's hopfield block ~2×).

``--engine PATH`` (repeatable) runs the same workers against another checkout of the engine
(e.g. ``git archive main | tar -x -C /tmp/main``): its "before" numbers in the same run. The
workers use only the public API, so any engine version answers them. Rounds interleave the
engines and the thread settings; medians over rounds are reported, with the load average.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from typing import Callable

TARGETS = {"night_default_over_one": 1.3, "add_over_projection": 1.5,
           "bytes_per_memory": 1600.0}
BLOCK = 10   # queries timed in a row per method (work_scan)
ONE_THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


# --- workers (run in fresh processes; public API only) -------------------------------------
def _clustered(n: int, d: int = 384, seed: int = 0, size: int = 50):
    import numpy as np

    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((max(1, n // size), d)).astype(np.float32) / np.sqrt(d)
    out = np.empty((n, d), dtype=np.float32)
    for s in range(0, n, 100_000):
        m = min(100_000, n - s)
        x = centers[rng.integers(0, centers.shape[0], m)]
        x += 0.8 * rng.standard_normal((m, d)).astype(np.float32) / np.sqrt(d)
        out[s:s + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def work_night(memories: int = 250, days: int = 32, extra_nights: int = 3) -> dict:
    """The night player's engine calls (lab/nights/player.py, ``NightLab.step``)."""
    import numpy as np

    from nuonuo_core import HybridMemory, MemoryConfig

    x = _clustered(2 * memories, seed=7, size=5)
    cfg = MemoryConfig(code_dim=16384, k=20, seed=0, device="cpu")
    t0 = time.perf_counter()
    mems = {run: HybridMemory(cfg) for run in ("with replay", "without replay")}
    plan = np.array_split(np.arange(memories), days)
    ids: list[int] = []
    for night in range(days + extra_nights):
        if night < days:
            day = plan[night]
            for mem in mems.values():
                got = mem.add_vectors(x[day], targets=x[memories + day])
            ids += got
        for run, mem in mems.items():
            mem.consolidate(epochs=3, homeostasis=0.7, prune_threshold=0.1,
                            replay=run == "with replay", seed=night)
            if run == "with replay":
                mem.clear_replay(0.5, "priority")
            mem.stats()
        for mem in mems.values():
            mem.recall_stored(ids, k=1)
            mem.codes(ids)
    return {"night_s": time.perf_counter() - t0}


def work_add(n: int = 100_000) -> dict:
    """Add n memories; the projection matmul it needs, numpy, same process; bytes."""
    import numpy as np
    import torch

    from nuonuo_core import HybridMemory, MemoryConfig

    x = _clustered(n, seed=0)
    proj = torch.randn(16384, 384, generator=torch.Generator().manual_seed(0)).numpy()
    proj_t = np.ascontiguousarray(proj.T)
    t0 = time.perf_counter()
    for s in range(0, n, 5_000):
        np.dot(x[s:s + 5_000], proj_t)
    proj_s = time.perf_counter() - t0
    del proj, proj_t
    mem = HybridMemory(MemoryConfig(device="cpu"))
    t0 = time.perf_counter()
    for s in range(0, n, 50_000):
        mem.add_vectors(x[s:s + 50_000])
    add_s = time.perf_counter() - t0
    stats = mem.stats()
    return {"n": n, "add_s": add_s, "projection_s": proj_s, "bytes": int(stats["bytes"]),
            "bytes_by_part": {part: int(v) for part, v in stats.get("bytes_by_part",
                                                                    {}).items()}}


def work_scan(n: int = 20_000, queries: int = 200) -> dict:
    """Single-query hopfield / hebbian recall vs a numpy top-20 scan, interleaved."""
    import numpy as np
    from threadpoolctl import ThreadpoolController

    from nuonuo_core import HybridMemory, MemoryConfig

    blas = ThreadpoolController().select(user_api="blas")   # found once: limit() is cheap
    x = _clustered(n, seed=0)
    rng = np.random.default_rng(1)
    pick = rng.choice(n, queries, replace=False)
    q = x[pick] + 0.75 * rng.standard_normal((queries, x.shape[1])).astype(np.float32) \
        / np.sqrt(x.shape[1])
    q = (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)
    mem = HybridMemory(MemoryConfig(device="cpu"))
    mem.add_vectors(x)
    for method in ("hopfield", "hebbian"):          # warm up
        mem.recall_vectors(q[:1], 5, method)

    def scan(i: int):
        return np.argpartition(-(x @ q[i]), 20)[:20]

    times: dict[str, list[float]] = {"hopfield": [], "hebbian": [], "scan_1thread": []}
    # interleaved in blocks of BLOCK queries: machine noise hits every method alike, and each
    # method runs on its own warm caches (one query at a time, method by method, would time
    # each one right after another had streamed its own 25-30 MB through the cache)
    for a in range(0, queries, BLOCK):
        for name in times:
            for i in range(a, min(a + BLOCK, queries)):
                t = time.perf_counter()
                if name == "scan_1thread":
                    with blas.limit(limits=1):
                        scan(i)
                else:
                    mem.recall_vectors(q[i:i + 1], 5, name)
                times[name].append(time.perf_counter() - t)
    # numpy's default threads last and apart: its BLAS threads spin on after each call and
    # would slow whichever method was timed next
    times["scan_default"] = []
    for i in range(queries):
        t = time.perf_counter()
        scan(i)
        times["scan_default"].append(time.perf_counter() - t)
    out: dict = {"n": n}
    for name, ts in times.items():
        out[f"{name}_ms"] = float(np.median(ts) * 1e3)
    return out


WORKERS: dict[str, Callable[..., dict]] = {"night": work_night, "add": work_add,
                                           "scan": work_scan}


# --- the parent: spinner, rounds, table ---------------------------------------------------
def spin() -> subprocess.Popen:
    """A process that keeps one core busy until it is killed."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def run_worker(engine: str, name: str, kwargs: dict, one_thread: bool = False) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ONE_THREAD_ENV}
    env["PYTHONPATH"] = engine
    env.setdefault("HF_HUB_OFFLINE", "1")
    if one_thread:
        env.update({k: "1" for k in ONE_THREAD_ENV})
    spec = json.dumps({"name": name, "kwargs": kwargs, "one_thread": one_thread})
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker", spec],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=3600)
    finally:                 # interrupted (Ctrl-C, SIGTERM): the worker goes too
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"worker {name} ({engine}) failed:\n{err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1])


def _terminate(signum, frame) -> None:
    raise SystemExit(f"stopped by signal {signum}")


def _median(values: list[float]) -> float:
    v = sorted(values)
    h = len(v) // 2
    return v[h] if len(v) % 2 else 0.5 * (v[h - 1] + v[h])


def measure(engines: dict[str, str], rounds: int = 3, add_n: int = 100_000,
            add_rounds: int = 1, scan_n: int = 20_000, queries: int = 200,
            spinner: bool = True, say=print) -> dict:
    """Run every measurement for every engine, interleaved, beside a spinner -> records."""
    proc = spin() if spinner else None
    signal.signal(signal.SIGTERM, _terminate)    # a killed run takes its spinner with it
    load: list[float] = []
    raw: dict[str, dict[str, list]] = {e: {"night_default": [], "night_one": [], "add": [],
                                           "scan": []} for e in engines}
    try:
        time.sleep(0.5)
        for r in range(rounds):
            for label, path in engines.items():
                for one in (False, True):
                    got = run_worker(path, "night", {}, one)
                    raw[label]["night_one" if one else "night_default"].append(got["night_s"])
                    say(f"round {r + 1} {label}: night ({'one thread' if one else 'default'})"
                        f" {got['night_s']:.2f} s")
                got = run_worker(path, "scan", {"n": scan_n, "queries": queries})
                raw[label]["scan"].append(got)
                say(f"round {r + 1} {label}: scan {json.dumps(got)}")
                load.append(os.getloadavg()[0])
        for r in range(add_rounds):
            for label, path in engines.items():
                got = run_worker(path, "add", {"n": add_n})
                raw[label]["add"].append(got)
                say(f"add round {r + 1} {label}: {json.dumps(got)}")
                load.append(os.getloadavg()[0])
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
    records = {}
    for label, m in raw.items():
        rec: dict = {"engine": label, "path": engines[label]}
        rec["night_default_s"] = _median(m["night_default"])
        rec["night_one_s"] = _median(m["night_one"])
        rec["night_default_over_one"] = _median([a / b for a, b in zip(m["night_default"],
                                                                        m["night_one"])])
        for key in ("hopfield_ms", "hebbian_ms", "scan_1thread_ms", "scan_default_ms"):
            rec[key] = _median([s[key] for s in m["scan"]])
        for meth in ("hopfield", "hebbian"):
            rec[f"{meth}_over_scan"] = _median([s[f"{meth}_ms"] / s["scan_1thread_ms"]
                                                for s in m["scan"]])
            rec[f"{meth}_target_ms"] = 1.5 * rec["scan_1thread_ms"] + 0.2
        rec["add_s"] = _median([a["add_s"] for a in m["add"]])
        rec["projection_s"] = _median([a["projection_s"] for a in m["add"]])
        rec["add_over_projection"] = _median([a["add_s"] / a["projection_s"] for a in m["add"]])
        rec["bytes_per_memory"] = _median([a["bytes"] / a["n"] for a in m["add"]])
        rec["bytes_by_part_per_memory"] = {k: v / m["add"][-1]["n"] for k, v in
                                           m["add"][-1]["bytes_by_part"].items()}
        records[label] = rec
    return {"records": records, "rounds": rounds, "add_rounds": add_rounds, "add_n": add_n,
            "scan_n": scan_n, "queries": queries, "spinner": spinner,
            "load_avg_1min": {"min": min(load), "median": _median(load), "max": max(load)},
            "cpus": os.cpu_count()}


def _ok(value: float, target: float) -> str:
    return "yes" if value <= target else "NO"


def format_table(res: dict) -> str:
    rows = [("NightLab workload, default threads ÷ one thread", "≤ 1.3",
             lambda r: f"{r['night_default_over_one']:.2f} ({r['night_default_s']:.1f} s / "
                       f"{r['night_one_s']:.1f} s)",
             lambda r: _ok(r["night_default_over_one"], 1.3)),
            (f"add {res['add_n']:,} ÷ its projection matmul", "≤ 1.5",
             lambda r: f"{r['add_over_projection']:.2f} ({r['add_s']:.1f} s / "
                       f"{r['projection_s']:.1f} s)",
             lambda r: _ok(r["add_over_projection"], 1.5)),
            (f"bytes a memory at {res['add_n']:,}", "≤ 1,600",
             lambda r: f"{r['bytes_per_memory']:,.0f}",
             lambda r: _ok(r["bytes_per_memory"], 1600)),
            (f"hopfield ÷ numpy top-20 scan at {res['scan_n']:,}", "≤ 1.5× + 0.2 ms",
             lambda r: f"{r['hopfield_over_scan']:.2f} ({r['hopfield_ms']:.2f} ms / "
                       f"{r['scan_1thread_ms']:.2f} ms)",
             lambda r: _ok(r["hopfield_ms"], r["hopfield_target_ms"])),
            (f"hebbian ÷ numpy top-20 scan at {res['scan_n']:,}", "≤ 1.5× + 0.2 ms",
             lambda r: f"{r['hebbian_over_scan']:.2f} ({r['hebbian_ms']:.2f} ms / "
                       f"{r['scan_1thread_ms']:.2f} ms)",
             lambda r: _ok(r["hebbian_ms"], r["hebbian_target_ms"]))]
    labels = list(res["records"])
    head = "| measurement | target | " + " | ".join(f"{lab} | met" for lab in labels) + " |"
    sep = "|---|---|" + "|".join("---:|:---:" for _ in labels) + "|"
    lines = [head, sep]
    for name, target, val, ok in rows:
        cells = " | ".join(f"{val(res['records'][lab])} | {ok(res['records'][lab])}"
                           for lab in labels)
        lines.append(f"| {name} | {target} | {cells} |")
    la = res["load_avg_1min"]
    lines.append("")
    lines.append(f"{'beside one spinning process, ' if res['spinner'] else ''}"
                 f"{res['cpus']} CPUs, 1-min load average {la['min']:.1f}–{la['max']:.1f} "
                 f"(median {la['median']:.1f}); medians of {res['rounds']} rounds "
                 f"({res['add_rounds']} for the add); numpy scan at one BLAS thread (default "
                 f"threads: " + ", ".join(f"{lab} {res['records'][lab]['scan_default_ms']:.2f} "
                                          f"ms" for lab in labels) + ")")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m nuonuo_core.bench load",
                                description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--engine", action="append", default=[], metavar="LABEL=PATH",
                   help="another engine checkout to measure in the same run (its root, the "
                        "folder holding nuonuo_core), e.g. before=/tmp/main")
    p.add_argument("--rounds", type=int, default=3, help="rounds of night and scan runs")
    p.add_argument("--add-n", type=int, default=100_000, help="memories added (default 100K)")
    p.add_argument("--add-rounds", type=int, default=1)
    p.add_argument("--scan-n", type=int, default=20_000)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--no-spinner", action="store_true", help="measure without the busy core")
    p.add_argument("--out", help="write the results as JSON to this file")
    a = p.parse_args(argv)
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    engines = {}
    for spec in a.engine:
        label, sep, path = spec.partition("=")
        if not sep or not os.path.isdir(os.path.join(path, "nuonuo_core")):
            p.error(f"--engine must be LABEL=PATH to a folder holding nuonuo_core, got {spec!r}")
        engines[label] = os.path.abspath(path)
    engines["this"] = here
    if min(a.rounds, a.add_rounds, a.add_n, a.scan_n, a.queries) < 1:
        p.error("rounds, sizes and queries must be >= 1")
    res = measure(engines, a.rounds, a.add_n, a.add_rounds, a.scan_n, a.queries,
                  not a.no_spinner, say=lambda msg: print(msg, flush=True))
    print(format_table(res))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(res, f, indent=1)
    return 0


def _worker(spec: str) -> None:
    sys.path.pop(0)          # the script's folder: the engine comes from PYTHONPATH
    job = json.loads(spec)
    if job["one_thread"]:
        import torch

        torch.set_num_threads(1)
    print(json.dumps(WORKERS[job["name"]](**job["kwargs"])))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        _worker(sys.argv[2])
    else:
        sys.exit(main())
