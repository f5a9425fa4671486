"""Seconds each lab page takes to rerun on a 1,000-memory workspace (Streamlit AppTest).

    PYTHONPATH=. .venv/bin/python scripts/rerun_times.py [--memories 1000] [--repeat 3]

Builds a workspace of N text memories (the demo sets' cues and targets, numbered so every
text differs; cached in a scratch file between calls), opens every page once, then reruns
it ``--repeat`` times and prints the median rerun time and the page's process CPU time.
Explicit long runs (noise sweep, Play all, benchmarks) are not part of a rerun.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from streamlit.testing.v1 import AppTest  # noqa: E402

from lab.workspace import demos, memory_rows, state  # noqa: E402
from nuonuo_core import HybridMemory, MemoryConfig, get_minilm_encoder  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def workspace(n: int) -> HybridMemory:
    cache = Path(tempfile.gettempdir()) / f"nuonuo_rerun_{n}.nuonuo"
    enc = get_minilm_encoder()
    if cache.exists():
        try:
            return HybridMemory.from_bytes(cache.read_bytes(), encoder=enc)
        except ValueError:          # written by another engine version: build it again
            cache.unlink()
    base = [r for key in ("teaching", "assistant", "chains") for r in demos.load(key)]
    rows = [memory_rows.make_row(f"{r.cue} (note {i})", f"{r.target or r.cue} [{i}]",
                        importance=r.importance)
            for i, r in ((i, base[i % len(base)]) for i in range(n))]
    mem = HybridMemory(MemoryConfig(device="cpu"), encoder=enc)
    memory_rows.add_rows(mem, rows)
    cache.write_bytes(mem.to_bytes())
    return mem


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--memories", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pages", nargs="*", default=None, help="page file prefixes, e.g. 3_ 5_")
    args = ap.parse_args()
    if not 1 <= args.memories <= 20000 or not 1 <= args.repeat <= 20:
        sys.exit("--memories must be in [1, 20000] and --repeat in [1, 20]")
    mem = workspace(args.memories)
    files = sorted((ROOT / "pages").glob("*.py"))
    if args.pages:
        files = [f for f in files if any(f.name.startswith(p) for p in args.pages)]
    print(f"{len(mem)} memories; median of {args.repeat} reruns")
    print("| page | rerun s (wall) | rerun s (CPU) | first run s |")
    print("|---|---|---|---|")
    for f in files:
        at = AppTest.from_file(str(f), default_timeout=300)
        at.session_state[state.MEM_KEY] = mem
        at.session_state[state.NAME_KEY] = "rerun-test"
        t0 = time.perf_counter()
        at.run()
        first = time.perf_counter() - t0
        name = f.stem
        if f.name.startswith("4_"):       # the night player on the workspace, 3 nights in
            at.selectbox(key="night_source").set_value("my workspace").run()
            for _ in range(3):
                at.button(key="step").click().run()
            name += " (my workspace, night 3)"
        if at.exception:
            print(f"| {name} | exception: {at.exception[0].value[:80]} | | |")
            continue
        wall, cpu = [], []
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            at.run()
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        print(f"| {name} | {statistics.median(wall):.2f} | {statistics.median(cpu):.2f} | "
              f"{first:.2f} |", flush=True)


if __name__ == "__main__":
    main()
