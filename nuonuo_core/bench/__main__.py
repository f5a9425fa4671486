"""Dispatch ``python -m nuonuo_core.bench NAME [args]`` to ``nuonuo_core.bench.NAME.main``."""
from __future__ import annotations

import importlib
import sys

COMMANDS = {"speed": "recall latency, add time and state size for N memories",
            "load": "issue 19's ratios beside a busy core (threads, add, bytes, recall)",
            "locomo": "turn retrieval on LoCoMo conversations",
            "longmemeval": "session/turn retrieval on a LongMemEval JSON file",
            "conversation": "conversation memory speed: add turns (cold cache), one search",
            "calibration": "answer thresholds: held vs unheld questions on the demo sets",
            "ideas": "LoCoMo: ideas tried for a higher ceiling (tuning vs held-out split)"}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print("usage: python -m nuonuo_core.bench {%s} [options]\n" % ",".join(COMMANDS))
        for name, text in COMMANDS.items():
            print(f"  {name:12s} {text}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module = importlib.import_module(f"nuonuo_core.bench.{argv[0]}")
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
