"""``python -m nuonuo_core.bench longmemeval --data FILE``: retrieval on LongMemEval.

Per question, a memory is built from the user turns of its haystack and the turns are ranked
for the question. Metrics follow the official ``src/retrieval`` scripts: recall_any@k,
recall_all@k, ndcg_any@k at turn level and (by turn2session) session level, abstention
(``_abs``) questions excluded; MRR at both levels is added (``at_k`` null in the records;
``at_k`` is the recall cutoff, called ``k`` in older files). The default methods leave out the
speaker and entity rows: one anonymous user.
"""
from __future__ import annotations

import argparse
import sys

from nuonuo_core.bench.conversation_eval import METHODS, evaluate_longmemeval, lme_turns
from nuonuo_core.bench.locomo import (add_at_k, add_output_args, format_table, parse_list,
                                      parse_methods_cutoffs, progress_printer, write_records)

# The speaker and cross-session entity channels need named participants; LongMemEval has one
# anonymous user, so the default leaves them out (they equal their predecessors there).
DEFAULT_METHODS = ("cosine", "hopfield", "cosine+links", "bm25", "cue", "+bm25", "+tokens",
                   "+context", "+prior", "hybrid", "hybrid+time", "hybrid+session",
                   "hybrid+lists")
SHOWN = ("session_recall_any", "session_recall_all", "session_ndcg_any", "turn_recall_any",
         "turn_recall_all", "turn_ndcg_any")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m nuonuo_core.bench longmemeval",
                                description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True,
                   help="longmemeval_s.json, longmemeval_m.json or longmemeval_oracle.json")
    p.add_argument("--methods", default=",".join(DEFAULT_METHODS),
                   help="comma list from: " + ", ".join(METHODS))
    add_at_k(p, "1,3,5,10,30,50")
    p.add_argument("--limit", type=int, default=0, help="only the first N questions (0 = all)")
    p.add_argument("--types", default="", help="only these question_type values (comma list)")
    p.add_argument("--by-type", action="store_true", help="also print tables per question type")
    add_output_args(p)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from nuonuo_core.datasets.longmemeval import load_longmemeval
    from nuonuo_core.embed_cache import cached_minilm
    try:
        methods, cutoffs = parse_methods_cutoffs(args)
        if args.limit < 0:
            raise ValueError(f"--limit must be >= 0, got {args.limit!r}")
        questions = load_longmemeval(args.data)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.types:
        questions = [q for q in questions if q.question_type in set(parse_list(args.types))]
    if args.limit:
        questions = questions[: args.limit]
    n_abs = sum(q.is_abstention for q in questions)
    n_noev = sum(1 for q in questions if not q.is_abstention and not q.relevant_turn_ids())
    n_cut = sum(lme_turns(q)[1] for q in questions if not q.is_abstention)
    print(f"LongMemEval: {len(questions)} questions from {args.data}; {n_abs} abstention "
          f"(_abs) excluded; {n_noev} without evidence turns excluded; {n_cut} turn texts cut "
          f"to the turn limit")
    enc = cached_minilm(args.cache_dir)
    try:
        # token vectors are not kept on disk here: a real haystack would need tens of GB
        records = evaluate_longmemeval(questions, methods, cutoffs, enc,
                                       progress_printer(args.quiet))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cats = ["overall"]
    if args.by_type:
        cats += sorted({r["category"] for r in records} - {"overall"})
    for cat in cats:
        for metric in SHOWN + ("session_mrr", "turn_mrr"):
            table = format_table(records, metric, cat)
            if table:
                print()
                print(table)
    if args.out:
        write_records(records, args.out)
        print(f"\nwrote {len(records)} records to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
