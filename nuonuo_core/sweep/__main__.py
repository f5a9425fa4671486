"""CLI: ``python -m nuonuo_core.sweep EXPERIMENT [--PARAM v1,v2 ...] [--seeds 0,1,...]
[--backend local|ray] [--address ADDR] [--workers N] [--out FILE.csv] [--quiet]``.

A comma list given to a scalar parameter is a grid axis; a tuple parameter passes through
whole (unless the experiment splits it into one task per value, as noise does noise_stds).
``EXPERIMENT --help`` lists the parameters. Progress goes to stderr; with ``--out`` the records
are written there as they arrive, and rerunning the same command resumes. Exit status: 0 all
tasks done, 1 some failed (after one retry), 2 bad arguments, 130 interrupted.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..experiments import EXPERIMENTS
from ..experiments.registry import FieldSpec, add_arguments, given
from ..limits import LIMITS
from . import BACKENDS, build_grid, run_sweep
from .backends import MAX_WORKERS
from .runner import Progress, SweepInterrupted


def _fmt_s(s: float | None) -> str:
    if s is None:
        return "?"
    return f"{s:.1f}s" if s < 60 else f"{int(s // 60)}m{int(s % 60):02d}s"


def _workers(text: str) -> int:
    """--workers: parsed, then bounded by the table's workers row (refused before anything
    is written)."""
    try:
        return LIMITS["workers"].parse(text, "--workers")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _out(text: str) -> str:
    if Path(text).is_dir() or not Path(text).resolve().parent.is_dir():
        raise argparse.ArgumentTypeError(f"--out {text!r} must be a file in an existing folder")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m nuonuo_core.sweep",
                                     description=__doc__.split("\n\n")[0].replace("%", "%%"))
    sub = parser.add_subparsers(dest="experiment", metavar="EXPERIMENT")
    sub.add_parser("list", help="the experiments a sweep can run")
    for name, exp in EXPERIMENTS.items():
        split = set(getattr(exp.config_cls, "sweep_split", ()))

        def how(spec: FieldSpec, split=split) -> str:
            if not spec.is_tuple:
                return "a comma list is a grid axis"
            return ("a comma list: one task per value" if spec.name in split
                    else "passed whole to every task")
        p = sub.add_parser(name, help=exp.title.replace("%", "%%"), description=exp.title)
        p.add_argument("--seeds", "--seed", default="0",
                       help="comma list of seeds, one task each (default 0)")
        p.add_argument("--backend", default="local", choices=BACKENDS)
        p.add_argument("--address", default=None,
                       help="ray only: the cluster to join, HOST:PORT or ray://HOST:PORT")
        p.add_argument("--workers", type=_workers, default=None,
                       help=f"parallel tasks, 1..{MAX_WORKERS} (default: the CPU count)")
        p.add_argument("--out", type=_out, default=None,
                       help="CSV for the records; rerunning the same command resumes")
        p.add_argument("--quiet", action="store_true", help="no progress lines")
        add_arguments(p, exp.config_cls, as_text=True, how=how)
    return parser


def _printer(grid, quiet: bool):
    def show(p: Progress) -> None:
        if quiet or p.task is None:
            return
        state = "retrying" if p.retrying else ("FAILED" if p.error else "ok")
        line = (f"[{p.done + p.failed:>{len(str(p.total))}}/{p.total}] {state:8s} "
                f"{p.task.label(grid.axis_names)}  elapsed {_fmt_s(p.elapsed_s)}, "
                f"ETA {_fmt_s(p.eta_s)}")
        if p.error:
            line += f"\n    {p.error}"
        print(line, file=sys.stderr, flush=True)
    return show


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not args or args[0] in ("-h", "--help", "list"):
        print(__doc__)
        print("experiments: " + ", ".join(EXPERIMENTS))
        return 0
    if args[0] not in EXPERIMENTS:
        print(f"error: unknown experiment {args[0]!r}; known: {', '.join(EXPERIMENTS)}",
              file=sys.stderr)
        return 2
    try:
        ns = parser.parse_args(args)
    except SystemExit as exc:          # --help (0) or a refused option (2): nothing written
        return int(exc.code or 0)
    name = ns.experiment
    params = given(ns, EXPERIMENTS[name].config_cls)
    opts = {"quiet": ns.quiet}
    out, backend, workers = ns.out, ns.backend, ns.workers
    try:
        grid = build_grid(name, params, ns.seeds)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not opts["quiet"]:
        shape = " x ".join(f"{len(v)} {a}" for a, v in grid.axes)
        shape = f"{shape} x {len(grid.seeds)} seeds" if shape else f"{len(grid.seeds)} seeds"
        print(f"{name}: {grid.n_tasks} tasks ({shape}) on {backend}", file=sys.stderr,
              flush=True)
    try:
        res = run_sweep(grid, backend, workers, ns.address, out,
                        progress=_printer(grid, opts["quiet"]))
    except SweepInterrupted as exc:
        n = len(set(exc.result.records["task"])) if len(exc.result.records) else 0
        hint = f", kept in {out}; rerun the same command to resume" if out else ""
        print(f"cancelled: {n} of {grid.n_tasks} tasks done{hint}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:          # before any task ran (e.g. while Ray was starting)
        print("cancelled before any task finished", file=sys.stderr)
        return 130
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    n_done = grid.n_tasks - len(res.failed)
    print(f"{n_done} of {grid.n_tasks} tasks done ({res.executed} run now, {res.resumed} "
          f"resumed) in {_fmt_s(res.wall_s)}", file=sys.stderr)
    for i, err in sorted(res.failed.items()):
        print(f"task {i} failed twice: {err}", file=sys.stderr)
    if out:
        print(f"wrote {len(res.records)} rows to {out}", file=sys.stderr)
    else:
        print(res.records.to_string(index=False))
    return 1 if res.failed else 0


def run_cli(argv: list[str] | None = None) -> None:
    """Run :func:`main` as a program. After a Ctrl-C the results are already written, so
    the process ends at once (``os._exit``): a cancelled process pool can leave its manager
    thread waiting on terminated workers, and interpreter exit would join it (a hang seen
    once under load)."""
    code = main(argv)
    if code == 130:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    raise SystemExit(code)


if __name__ == "__main__":
    run_cli()
