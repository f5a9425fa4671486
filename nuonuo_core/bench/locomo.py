"""``python -m nuonuo_core.bench locomo --data DIR``: turn retrieval on LoCoMo.

Each conversation becomes one :class:`~nuonuo_core.retrieval.ConversationMemory`; each method
(table row) is one :class:`~nuonuo_core.retrieval.RetrievalConfig` of
:data:`~nuonuo_core.retrieval.PRESETS`. Prints recall@k per method (overall and per QA
category) and optionally writes the records ``{"method", "metric", "category", "at_k",
"value", "n"}`` as JSON (``--out``); ``at_k`` is the recall cutoff (older files call it ``k``).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from nuonuo_core.bench.conversation_eval import METHODS, evaluate_locomo

DEFAULT_DATA = "../shared/data/locomo"
CATEGORY_ORDER = ["overall", "multi-hop", "temporal", "open-domain", "single-hop", "adversarial"]


def parse_list(text: str, kind=str) -> list:
    """"a,b" -> ["a", "b"] (converted by ``kind``); ValueError quoting bad items."""
    items = [x.strip() for x in text.split(",") if x.strip()]
    try:
        return [kind(x) for x in items]
    except ValueError:
        raise ValueError(f"cannot parse {text!r} as a comma-separated list of {kind.__name__}"
                         ) from None


def at_k(record: dict):
    """A record's recall cutoff: ``at_k`` (``k`` in result files written before the rename)."""
    return record["at_k"] if "at_k" in record else record.get("k")


def format_table(records: list[dict], metric: str, category: str) -> str:
    """Methods (rows, in first-seen order) x recall cutoffs (columns) for one metric and
    category."""
    rows = [r for r in records if r["metric"] == metric and r["category"] == category]
    if not rows:
        return ""
    cutoffs = sorted({at_k(r) for r in rows}, key=lambda k: (k is None, k or 0))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    val = {(r["method"], at_k(r)): r for r in rows}
    n = rows[0]["n"]
    head = f"{metric} [{category}, n={n}]"
    lines = [f"{head:<34}" + "".join(f"{('@' + str(k)) if k else 'value':>8}" for k in cutoffs)]
    for m in methods:
        lines.append(f"{m:<34}" + "".join(
            f"{val[(m, k)]['value']:8.3f}" if (m, k) in val else f"{'-':>8}" for k in cutoffs))
    return "\n".join(lines)


def parse_methods_cutoffs(args) -> tuple[list[str], list[int]]:
    """--methods and --at-k of either benchmark CLI; ValueError quoting a bad value."""
    from nuonuo_core.retrieval import preset
    from nuonuo_core.retrieval.limits import limit
    methods, cutoffs = parse_list(args.methods), parse_list(args.at_k, int)
    if not cutoffs or min(cutoffs) < 1 or max(cutoffs) > limit("at_k"):
        raise ValueError(f"--at-k needs integers in [1, {limit('at_k')}], got {args.at_k!r}")
    for m in methods:
        preset(m)
    return methods, cutoffs


def write_records(records: list[dict], path: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(records, indent=1), encoding="utf-8")


def progress_printer(quiet: bool):
    t0 = time.time()

    def show(i: int, n: int, msg: str) -> None:
        if not quiet:
            print(f"[{i}/{n} {time.time() - t0:6.1f}s] {msg}", file=sys.stderr, flush=True)
    return show


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m nuonuo_core.bench locomo", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=DEFAULT_DATA,
                   help="folder of conv-*.json files or locomo10.json (default %(default)s)")
    p.add_argument("--methods", default=",".join(METHODS), help="comma list from: " +
                   ", ".join(METHODS))
    add_at_k(p, "1,5,10,25,50")
    p.add_argument("--convs", default="", help="only these sample ids, e.g. conv-26,conv-30")
    add_output_args(p)
    return p


def add_at_k(p: argparse.ArgumentParser, default: str) -> None:
    """--at-k: recall cutoffs (turns read); --k is its old name, kept as an alias."""
    p.add_argument("--at-k", "--k", dest="at_k", default=default,
                   help="comma list of recall cutoffs k (default %(default)s)")


def add_output_args(p: argparse.ArgumentParser) -> None:
    """--out, --cache-dir and --quiet, shared by both benchmark CLIs."""
    p.add_argument("--out", default="", help="write the records as JSON here")
    p.add_argument("--cache-dir", default=None, help="embedding cache (default "
                   "$NUONUO_CACHE_DIR or ~/.cache/nuonuo/embeddings)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from nuonuo_core.datasets.locomo import load_locomo
    from nuonuo_core.embed_cache import cached_minilm
    try:
        methods, cutoffs = parse_methods_cutoffs(args)
        convs = load_locomo(args.data)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.convs:
        want = set(parse_list(args.convs))
        missing = want - {c.sample_id for c in convs}
        if missing:
            print(f"error: unknown --convs {sorted(missing)!r}", file=sys.stderr)
            return 2
        convs = [c for c in convs if c.sample_id in want]
    n_q = sum(len(c.questions) for c in convs)
    n_skip = sum(1 for c in convs for q in c.questions if not q.evidence)
    n_drop = sum(c.dropped_evidence for c in convs)
    print(f"LoCoMo: {len(convs)} conversations ({', '.join(c.sample_id for c in convs)}), "
          f"{sum(len(c.turns) for c in convs)} turns, {n_q} questions; {n_drop} evidence ids "
          f"naming no turn dropped; {n_skip} questions left without evidence skipped")
    enc = cached_minilm(args.cache_dir)
    try:
        records = evaluate_locomo(convs, methods, cutoffs, enc, progress_printer(args.quiet))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    present = {r["category"] for r in records}
    for cat in [c for c in CATEGORY_ORDER if c in present] + sorted(present - set(CATEGORY_ORDER)):
        print()
        print(format_table(records, "recall", cat))
    if args.out:
        write_records(records, args.out)
        print(f"\nwrote {len(records)} records to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
