"""CLI: ``python -m nuonuo_core.experiments list``,
``python -m nuonuo_core.experiments NAME [--preset seed|quick] [--PARAM VALUE ...] [--seed S]
[--out results.csv]`` and
``python -m nuonuo_core.experiments summarize FILE.csv --metric M [--by a,b] [--method t]``.

The options of every experiment are built from its config dataclass (``NAME --help`` lists
them with their types, defaults and choices): tuple parameters take comma-separated values
(``--noise_stds 0,0.05,0.1``); ``-`` and ``_`` are interchangeable in names; old names (``--k``
for ``--wta_k``) are still read. ``--preset seed`` runs with the seed code's own settings,
``--preset quick`` a short run (at most a minute a seed on two cores); any ``--PARAM`` given
as well overrides the preset, and the records' ``changed`` column says so. ``--seed 0,1,2``
runs several seeds into one table.
"""
from __future__ import annotations

import argparse
import sys

from . import EXPERIMENTS, OURS, run_experiment
from .values import parse_seeds
from .registry import add_arguments, given, presets_text
from .summary import METHODS, summarize, table_text


def _seeds(text: str) -> list[int]:
    """--seed 0,1,2: the sweep's parser (the table's seed range, distinct, at most
    MAX_SEEDS)."""
    try:
        return list(parse_seeds(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m nuonuo_core.experiments",
        description="Run a reproducible experiment, list them, or summarise a result file.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("list", help="the experiments, their presets and reported figures")
    s = sub.add_parser("summarize", help="mean ± 95 %% CI over seeds of a result file",
                       description="Mean, 95 %% confidence interval and n of a metric over "
                                   "the seed column, per group (see "
                                   "nuonuo_core.experiments.summary).")
    s.add_argument("file", help="a result CSV (with a seed column)")
    s.add_argument("--metric", required=True, help="the column to summarise, e.g. recall_at_1")
    s.add_argument("--by", default="", help="comma list of columns to group by")
    s.add_argument("--method", default="t", choices=METHODS,
                   help="t: Student's t interval (default; right for few seeds); "
                        "bootstrap: percentile bootstrap (10 000 resamples)")
    s.add_argument("--digits", type=int, default=3, choices=range(1, 9), metavar="1..8")
    for name, exp in EXPERIMENTS.items():
        p = sub.add_parser(name, help=exp.title.replace("%", "%%"),
                           description=f"{exp.title}\ndata: {exp.data}\n"
                                       f"reported: {exp.reported}\n"
                                       f"{presets_text(exp)}",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("--preset", choices=sorted(exp.presets) + [OURS], default=None,
                       help="named settings (default: ours); given parameters override them")
        p.add_argument("--seed", type=_seeds, default=[0],
                       help="seed, or a comma list of seeds run into one table (default 0)")
        p.add_argument("--out", default=None, help="write the records to this CSV")
        p.add_argument("--quiet", action="store_true", help="do not print the records")
        add_arguments(p, exp.config_cls)
    return parser


def main(argv: list[str] | None = None) -> int:
    import pandas as pd

    args = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        ns = parser.parse_args(args or ["list"])
    except SystemExit as exc:           # --help (0) or a refused argument (2)
        return int(exc.code or 0)
    if ns.command in (None, "list"):
        for name, exp in EXPERIMENTS.items():
            presets = ", ".join(sorted(exp.presets)) or "none"
            print(f"{name:20s} {exp.title}\n{'':20s} data: {exp.data or '—'}\n"
                  f"{'':20s} reported: {exp.reported}; presets: {presets}")
        return 0
    if ns.command == "summarize":
        try:
            s = summarize(ns.file, ns.metric, ns.by, method=ns.method)
        except (OSError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(table_text(s, ns.metric, ns.digits))
        return 0
    exp = EXPERIMENTS[ns.command]
    params = given(ns, exp.config_cls)
    try:
        frames = [run_experiment(exp.name, seed=s, preset=ns.preset, **params)
                  for s in ns.seed]
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    df = pd.concat(frames, ignore_index=True)
    if not ns.quiet:
        with pd.option_context("display.max_rows", 500, "display.max_columns", 50,
                               "display.width", 200):
            print(df.drop(columns=["experiment"]).to_string(index=False))
    if ns.out:
        from nuonuo_core.atomic import atomic_write
        atomic_write(ns.out, df.to_csv(index=False).encode("utf-8"))
        print(f"wrote {len(df)} rows to {ns.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
