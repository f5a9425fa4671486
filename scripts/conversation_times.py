"""Seconds the Conversation memory page takes (Streamlit AppTest, as the page runs).

    PYTHONPATH=. .venv/bin/python scripts/conversation_times.py [--repeat 3] [--locomo conv-41]

1. The example conversation's memory: built with a cold embedding cache (a fresh cache
   folder: a fresh clone) and with a warm one (the next visitor), as ``sources.build`` does
   it on the page (148 turns, the W links included).
2. The page: its first run on the example (model already loaded), then one rerun per
   question for every labelled question of the example (a new question each time: search,
   settling, charts), ``--repeat`` rounds; median and 90th percentile of the wall time.
3. With ``--locomo ID``: the same LoCoMo conversation built cold and warm (needs the data).
Prints the load average before and after: the machine is shared, compare ratios.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from streamlit.testing.v1 import AppTest  # noqa: E402

from lab.conversation import sources  # noqa: E402
from nuonuo_core.encoders import get_minilm_encoder  # noqa: E402
from nuonuo_core.retrieval import load_example  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def build_times(make) -> tuple[float, float]:
    """(cold, warm) seconds to build a source's memory: a fresh cache folder, then again."""
    out = []
    with tempfile.TemporaryDirectory() as cache:
        os.environ["NUONUO_CACHE_DIR"] = cache
        for _ in range(2):
            src = make()
            t = time.perf_counter()
            sources.build(src)
            out.append(time.perf_counter() - t)
    os.environ.pop("NUONUO_CACHE_DIR")
    return out[0], out[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--locomo", default=None, help="a LoCoMo sample id, e.g. conv-41")
    args = ap.parse_args()
    if not 1 <= args.repeat <= 20:
        sys.exit("--repeat must be in [1, 20]")
    print(f"load average {os.getloadavg()[0]:.1f}")
    get_minilm_encoder()(["warm up"])            # the model, as the lab's shared one is
    cold, warm = build_times(sources.example)
    print(f"example memory (148 turns): cold cache {cold:.2f} s, warm {warm:.2f} s")
    if args.locomo:
        lc, lw = build_times(lambda: sources.locomo(args.locomo))
        print(f"{args.locomo} memory: cold cache {lc:.2f} s, warm {lw:.2f} s")
    at = AppTest.from_file(str(ROOT / "pages" / "11_Conversation_memory.py"),
                           default_timeout=300)
    t = time.perf_counter()
    at.run()
    print(f"page, first run on the example: {time.perf_counter() - t:.2f} s")
    questions = [q.question for q in load_example().questions]
    times, qtimes = [], []
    for r in range(args.repeat):
        for q in questions:
            t = time.perf_counter()
            at.run()                                        # a rerun, nothing changed
            times.append(time.perf_counter() - t)
            box = at.text_input(key="cm_question").set_value(q + "?" * (r + 1))  # never seen
            t = time.perf_counter()
            box.run()
            qtimes.append(time.perf_counter() - t)
            assert not at.exception and at.table, q
    for name, v in (("rerun, same question", times), ("rerun with a new question", qtimes)):
        v = sorted(v)
        print(f"page {name}: median {statistics.median(v):.3f} s, p90 "
              f"{v[int(0.9 * (len(v) - 1))]:.3f} s over {len(v)}")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
