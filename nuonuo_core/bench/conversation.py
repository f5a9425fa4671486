"""``python -m nuonuo_core.bench conversation``: speed of conversation memory.

Two numbers, each the way a user meets them: adding N turns to a new memory with a cold
embedding cache (a fresh cache folder; the model already loaded), including the first
search (which builds BM25, the token index and the engine's Hebbian links), and the time of
one question at a time over a memory of M turns (questions never seen before, so their
vectors are computed). CPU seconds (all threads of this process) are printed beside the
wall-clock times: on a shared machine they say how much work there was. Turns come from
LoCoMo when its folder is there, else from the shipped example conversation (its texts
numbered to make N distinct turns). ``--spinner`` runs a busy
process beside the measurement (the machine's other core is often busy). Prints the load
average before and after. ``--configs``: the searches of several configurations (the
default and named rows of ``PRESETS``), interleaved question by question, so that their
times are comparable on a shared machine.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time

DEFAULT_DATA = "../shared/data/locomo"


def _spin(stop) -> None:  # pragma: no cover - runs in a child process
    while not stop.is_set():
        pass


def turn_pool(data: str, n: int) -> tuple[list[dict], list[str], str]:
    """n distinct turns (in conversation order) and questions about them, with their source:
    the LoCoMo conversation closest in size when one has at least n turns, else LoCoMo's
    conversations one after another, else the example conversation, numbered."""
    from pathlib import Path

    from nuonuo_core.bench.conversation_eval import locomo_questions, locomo_turns
    from nuonuo_core.retrieval import load_example
    if Path(data).is_dir() and any(Path(data).glob("*.json")):
        from nuonuo_core.datasets.locomo import load_locomo
        convs = load_locomo(data)
        big = [c for c in convs if len(c.turns) >= n]
        if big:
            c = min(big, key=lambda c: len(c.turns))
            return (locomo_turns(c)[:n], [q.question for q in locomo_questions(c)],
                    f"LoCoMo {c.sample_id} ({len(c.turns)} turns)")
        turns, qs = [], []
        for c in convs:
            turns += [dict(t, id=f"{c.sample_id}/{t['id']}", session=f"{c.sample_id}/"
                           f"{t['session']}") for t in locomo_turns(c)]
            qs += [q.question for q in locomo_questions(c)]
        if len(turns) >= n:
            return turns[:n], qs, f"LoCoMo ({', '.join(c.sample_id for c in convs)})"
    ex = load_example()
    turns = [dict(t, id=f"{r}/{t['id']}", session=f"{r}/{t['session']}",
                  text=f"{t['text']} ({r})") for r in range(n // len(ex.turns) + 1)
             for t in ex.turns][:n]
    return turns, [q.question for q in ex.questions], "the example conversation, numbered"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m nuonuo_core.bench conversation",
                                description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=DEFAULT_DATA, help="LoCoMo folder (default %(default)s)")
    p.add_argument("--add", type=int, default=1000, help="turns added cold (default 1000)")
    p.add_argument("--turns", type=int, default=600, help="turns searched (default 600)")
    p.add_argument("--questions", type=int, default=50, help="questions timed (default 50)")
    p.add_argument("--spinner", action="store_true", help="a busy process beside the run")
    p.add_argument("--configs", default="default", help="configurations searched, "
                   "interleaved: 'default' and/or PRESETS names, comma list (default %(default)s)")
    args = p.parse_args(argv)
    from nuonuo_core.retrieval.limits import limit
    for name, v, hi in (("--add", args.add, limit("chat_turns")), ("--turns", args.turns,
                                                             limit("chat_turns")),
                        ("--questions", args.questions, 10_000)):
        if not 1 <= v <= hi:
            print(f"error: {name} must be in [1, {hi}], got {v}", file=sys.stderr)
            return 2
    from nuonuo_core.embed_cache import cached_minilm
    from nuonuo_core.encoders import get_minilm_encoder
    from nuonuo_core.retrieval import ConversationMemory, RetrievalConfig, preset
    try:
        names = [c.strip() for c in args.configs.split(",") if c.strip()]
        configs = {n: RetrievalConfig() if n == "default" else preset(n) for n in names}
        if not configs:
            raise ValueError("--configs names no configuration")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    to_add, _, add_source = turn_pool(args.data, args.add)
    turns, questions, source = turn_pool(args.data, args.turns)
    get_minilm_encoder()(["load the model first"])
    stop = mp.Event()
    spinner = mp.Process(target=_spin, args=(stop,), daemon=True) if args.spinner else None
    if spinner:
        spinner.start()
    load0 = os.getloadavg()
    try:
        with tempfile.TemporaryDirectory() as cold:
            mem = ConversationMemory(encoder=cached_minilm(cold))
            t0, c0 = time.perf_counter(), time.process_time()
            mem.add_turns(to_add)
            t_add, c_add = time.perf_counter() - t0, time.process_time() - c0
            mem.search("what did they talk about?")
            t_first, c_first = time.perf_counter() - t0, time.process_time() - c0
        mem = ConversationMemory(encoder=cached_minilm())
        mem.add_turns(turns)
        times: dict[str, list[float]] = {n: [] for n in configs}
        for cfg in configs.values():
            mem.search("warm up the derived state", config=cfg)
        for i in range(args.questions):
            for n, cfg in configs.items():
                q = f"{questions[i % len(questions)]} ({n} {i})"   # never seen: computed
                t0 = time.perf_counter()
                mem.search(q, k=10, config=cfg)
                times[n].append(time.perf_counter() - t0)
    finally:
        if spinner:
            stop.set()
            spinner.join(5)
    load1 = os.getloadavg()
    print(f"added: {add_source}; searched: {source}; {os.cpu_count()} CPUs; spinner: "
          f"{'yes' if spinner else 'no'}; load average {load0[0]:.1f} before, "
          f"{load1[0]:.1f} after")
    print(f"add {args.add} turns, cold cache:            {t_add:7.2f} s  (CPU {c_add:6.1f} s)")
    print(f"  ... and the first search:              {t_first:7.2f} s  (CPU {c_first:6.1f} s)")
    for n, ts in times.items():
        ts.sort()
        median, p90 = statistics.median(ts), ts[int(0.9 * (len(ts) - 1))]
        print(f"search, one question, {args.turns} turns:  median {1000 * median:6.1f} ms, "
              f"p90 {1000 * p90:6.1f} ms ({len(ts)} questions, {n})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
