"""CLI: ``python -m nuonuo_core.sweep EXPERIMENT [--PARAM v1,v2 ...] [--seeds 0,1,...]
[--backend local|ray] [--address ADDR] [--workers N] [--out FILE.csv] [--quiet]``.

A comma list given to a scalar parameter is a grid axis; a tuple parameter passes through
whole (unless the experiment splits it into one task per value, as noise does noise_stds).
``EXPERIMENT --help`` lists the parameters. Progress goes to stderr; with ``--out`` the records
are written there as they arrive, and rerunning the same command resumes. Exit status: 0 all
tasks done, 1 some failed (after one retry), 2 bad arguments, 130 interrupted.
"""
from __future__ import annotations

import os
import sys
from dataclasses import MISSING, fields
from pathlib import Path

from ..experiments import EXPERIMENTS, field_kind, get_experiment
from . import BACKENDS, build_grid, run_sweep
from .runner import Progress, SweepInterrupted

OPTIONS = ("seeds", "backend", "address", "workers", "out")


def _fmt_s(s: float | None) -> str:
    if s is None:
        return "?"
    return f"{s:.1f}s" if s < 60 else f"{int(s // 60)}m{int(s % 60):02d}s"


def _help(name: str) -> None:
    exp = get_experiment(name)
    split = set(getattr(exp.config_cls, "sweep_split", ()))
    print(f"{name}: {exp.title}\nparameters (default; how a comma list is used):")
    for f in fields(exp.config_cls):
        kind, is_tuple = field_kind(f.type)
        default = f.default if f.default is not MISSING else None
        if isinstance(default, tuple):
            default = ",".join(map(str, default))
        how = ("one task per value" if f.name in split else "passed whole") if is_tuple \
            else "grid axis"
        print(f"  --{f.name} {default}  ({kind}{' list' if is_tuple else ''}; {how})")
    print(f"  --seeds 0\n  --backend local ({'|'.join(BACKENDS)})\n  --address (ray only)\n"
          "  --workers (CPU count)\n  --out FILE.csv\n  --quiet")


def _parse(rest: list[str]) -> tuple[dict, dict]:
    params, opts, i = {}, {"quiet": False}, 0
    while i < len(rest):
        arg = rest[i]
        if arg == "--quiet":
            opts["quiet"] = True
            i += 1
            continue
        if not arg.startswith("--") or i + 1 >= len(rest):
            raise ValueError(f"expected --param value pairs, got {' '.join(rest[i:])!r}")
        key, value = arg[2:].replace("-", "_"), rest[i + 1]
        key = "seeds" if key == "seed" else key
        if key in params or key in opts:
            raise ValueError(f"--{key} is given twice")
        (opts if key in OPTIONS else params)[key] = value
        i += 2
    return params, opts


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
    if not args or args[0] in ("-h", "--help", "list"):
        print(__doc__)
        print("experiments: " + ", ".join(EXPERIMENTS))
        return 0
    name, rest = args[0], args[1:]
    if name not in EXPERIMENTS:
        print(f"error: unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}",
              file=sys.stderr)
        return 2
    if "-h" in rest or "--help" in rest:
        _help(name)
        return 0
    try:
        params, opts = _parse(rest)
        grid = build_grid(name, params, opts.get("seeds", "0"))
        workers = opts.get("workers")
        if workers is not None:
            if not (workers.isdigit() and len(workers) <= 4):
                raise ValueError(f"--workers must be a positive integer, got {workers!r}")
            workers = int(workers)
        out = opts.get("out")
        if out is not None and (Path(out).is_dir() or not Path(out).resolve().parent.is_dir()):
            raise ValueError(f"--out {out!r} must be a file in an existing folder")
        backend = opts.get("backend", "local")
        if backend not in BACKENDS:
            raise ValueError(f"--backend must be one of {BACKENDS}, got {backend!r}")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not opts["quiet"]:
        shape = " x ".join(f"{len(v)} {a}" for a, v in grid.axes)
        shape = f"{shape} x {len(grid.seeds)} seeds" if shape else f"{len(grid.seeds)} seeds"
        print(f"{name}: {grid.n_tasks} tasks ({shape}) on {backend}", file=sys.stderr,
              flush=True)
    try:
        res = run_sweep(grid, backend, workers, opts.get("address"), out,
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
