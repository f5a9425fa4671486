"""Record the engine's answers on the fixed scenarios of tests/engine_scenarios.py.

Run once with main's engine before the representation of issue 19 replaced it (a copy of
main's tree, e.g. ``git archive main | tar -x -C /tmp/main``):

    PYTHONPATH=/tmp/main .venv/bin/python scripts/record_engine_outputs.py --out tests/fixtures

It writes ``engine_outputs_main.json`` (every scenario's recalls, chains, nights, W
statistics) and ``format2_main.nuonuo`` (a memory file in main's format 2, with the answers
it gave recorded in the JSON), the references that tests/test_core_old_vs_new.py compares
today's engine with.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(HERE.parent / "tests" / "fixtures"))
    args = ap.parse_args()
    sys.path.insert(1, str(HERE.parent / "tests"))
    import nuonuo_core
    from nuonuo_core import HybridMemory, MemoryConfig

    import engine_scenarios as sc

    root = Path(nuonuo_core.__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                                text=True).stdout.strip()
    except OSError:
        commit = ""
    if not commit and (root / "MAIN_COMMIT").exists():
        commit = (root / "MAIN_COMMIT").read_text().strip()
    out = Path(args.out)
    record = {"engine": str(root), "commit": commit, "scenarios": sc.run_all(HybridMemory,
                                                                               MemoryConfig)}
    mem, q = sc.format2_memory(HybridMemory, MemoryConfig)
    mem.save(out / "format2_main.nuonuo")
    record["format2"] = sc.snapshot(mem, q, [0, 20, 25])
    (out / "engine_outputs_main.json").write_text(json.dumps(record))
    print(f"engine {root} at {commit or '?'}: wrote {out}/engine_outputs_main.json and "
          f"format2_main.nuonuo")


if __name__ == "__main__":
    main()
