"""LoCoMo recall@10 with 95 % intervals over questions: the README's headline numbers.

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python scripts/locomo_intervals.py \
        [--data ../shared/data/locomo] [--methods cosine,hybrid+lists] [--at-k 10]

The table of docs/retrieval.md gives means only (fixed data and model: rerunning gives the
same number). Its spread is over questions: this prints each method's mean recall@k with a
percentile bootstrap interval (2,000 resamples of the questions, seed 0) on all seven
conversations, on the three tuning ones (conv-26, conv-30, conv-41) and on the four held out,
and the paired difference of each method from the first.
"""
from __future__ import annotations

import argparse

import numpy as np

from nuonuo_core.bench.conversation_eval import locomo_questions, locomo_turns
from nuonuo_core.datasets.locomo import load_locomo
from nuonuo_core.retrieval import ConversationMemory, preset
from nuonuo_core.retrieval.evaluate import recall_at

TUNING = {"conv-26", "conv-30", "conv-41"}


def interval(values: np.ndarray, rng: np.random.Generator, n_boot: int = 2000) -> tuple:
    """Mean and the 2.5 / 97.5 percentiles of the bootstrap means (questions resampled)."""
    idx = rng.integers(0, len(values), size=(n_boot, len(values)))
    means = values[idx].mean(axis=1)
    return values.mean(), np.percentile(means, 2.5), np.percentile(means, 97.5)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="../shared/data/locomo")
    ap.add_argument("--methods", default="cosine,hybrid+lists")
    ap.add_argument("--at-k", type=int, default=10)
    args = ap.parse_args(argv)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    per: dict[str, list[tuple[str, str, float]]] = {m: [] for m in methods}
    for conv in load_locomo(args.data):
        qs = locomo_questions(conv)
        if not qs:
            continue
        mem = ConversationMemory()
        mem.add_turns(locomo_turns(conv))
        for m in methods:
            for q, ranked in zip(qs, mem.ranking([q.question for q in qs], preset(m), args.at_k)):
                per[m].append((conv.sample_id, q.category, recall_at(ranked, q.evidence,
                                                                     args.at_k)))
    for split, keep in (("all", lambda c: True), ("tuning", lambda c: c in TUNING),
                        ("held-out", lambda c: c not in TUNING)):
        for cat in ("overall", "multi-hop"):
            rows = {m: np.array([v for c, k, v in per[m] if keep(c)
                                 and (cat == "overall" or k == cat)]) for m in methods}
            n = len(rows[methods[0]])
            for m in methods:
                mean, lo, hi = interval(rows[m], np.random.default_rng(0))
                line = (f"{split:<9} {cat:<10} n={n:<5} {m:<16} recall@{args.at_k} {mean:.3f} "
                        f"[{lo:.3f}, {hi:.3f}]")
                if m != methods[0]:
                    d, dlo, dhi = interval(rows[m] - rows[methods[0]], np.random.default_rng(0))
                    line += f"   vs {methods[0]}: {d:+.3f} [{dlo:+.3f}, {dhi:+.3f}]"
                print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
