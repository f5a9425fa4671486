"""The Sweep page's logic: bounded grids from form text, background sweep jobs, an on-disk cache.

A sweep runs as ``python -m nuonuo_core.sweep ... --out CACHE/<experiment>-<signature>/
results.csv`` in a child process (Ray, when chosen, lives there and never in the server). The
signature hashes (experiment, grid, seeds, code version), so reopening a finished grid is
instant, and a cancelled one resumes where it stopped. At most ``MAX_RUNNING`` sweeps run at a
time on this server; a visitor asking for a grid that is already running joins it.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from nuonuo_core.experiments import field_specs, get_experiment
from nuonuo_core.sweep import Grid, build_grid, cpu_count, sidecar_path

from lab import limits

ROOT = Path(__file__).resolve().parents[2]
PAGE_MAX_TASKS = 256
MAX_AXES = 2
SIZE_FACTOR = 4        # an integer parameter may be at most 4x its default (time, memory)
MAX_CACHED = 200
MAX_RUNNING = 1


def cache_root() -> Path:
    return Path(os.environ.get("NUONUO_SWEEPS", "sweeps"))


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    is_tuple: bool
    default: str
    axis: bool            # a comma list makes it a grid axis (scalar, or split tuple)
    locked: bool = False  # a file path: the lab never lets a visitor change it


def params(experiment: str) -> list[Param]:
    """The experiment's parameters, as the form shows them."""
    cls = get_experiment(experiment).config_cls
    split = set(getattr(cls, "sweep_split", ()))
    out = []
    for spec in field_specs(cls).values():
        kind, is_tuple = spec.kind_name, spec.is_tuple
        text = spec.default_text() if spec.default is not None else ""
        locked = kind == "str" and ("/" in text or os.sep in text)
        out.append(Param(spec.name, kind, is_tuple, text, (not is_tuple or spec.name in split)
                         and not locked, locked))
    return out


MAX_VALUES = 1000       # values in one field (the grid allows far fewer per axis)


def _values(p: Param, text: str) -> list:
    """The field's comma-separated values, each parsed by the lab's one number parser
    (``limits.parse``: "1_000_000", "+4e7", " 40 " are the numbers they denote), then
    bounded: an integer size at most SIZE_FACTOR x its default. Text fields pass as text.
    Returns the parsed values, which go on to the grid as they are (never the text)."""
    items = [v.strip() for v in text.split(",", MAX_VALUES)]
    if len(items) > MAX_VALUES:
        raise ValueError(f"{p.name}: at most {MAX_VALUES} values")
    if p.kind not in ("int", "float"):
        return items
    integer = p.kind == "int"
    values = [limits.parse(v, p.name, integer) if v else v for v in items]
    if integer:
        defaults = [limits.parse(v, p.name, True) for v in p.default.split(",") if v.strip()]
        cap = max(100, SIZE_FACTOR * max(defaults, default=0))
        for v in values:
            if v != "" and v > cap:
                raise ValueError(f"{p.name} = {v} is too large for the lab: at most {cap} "
                                 f"({SIZE_FACTOR}x its default); use the command line for "
                                 f"more")
    return values


def page_grid(experiment: str, vary: dict[str, str], fixed: dict[str, str],
              seeds: str) -> Grid:
    """A grid from the form: at most MAX_AXES varied parameters (2+ values each), at most
    PAGE_MAX_TASKS tasks, integer sizes at most SIZE_FACTOR x their default."""
    spec = {p.name: p for p in params(experiment)}
    if len(vary) > MAX_AXES:
        raise ValueError(f"vary at most {MAX_AXES} parameters at once, got {len(vary)}")
    chosen = {}
    for name, text in {**fixed, **vary}.items():
        if name not in spec:
            raise ValueError(f"unknown parameter {name!r} for {experiment!r}")
        text = str(text).strip()
        if spec[name].locked and text != spec[name].default:
            raise ValueError(f"{name} is a file path, fixed in the lab to its default; use the "
                             "command line to change it")
        if name in vary:
            if not spec[name].axis:
                raise ValueError(f"{name} is a list passed whole; it cannot be varied")
            if len([v for v in text.split(",") if v.strip()]) < 2:
                raise ValueError(f"{name}: give at least two values to vary, got {text!r}")
        elif spec[name].axis and "," in text:
            raise ValueError(f"{name} = {text!r}: one value only (add {name} to the varied "
                             "parameters to sweep it)")
        values = _values(spec[name], text)
        if "" in values:
            raise ValueError(f"{name}: empty value in {text!r} (write values as v1,v2,...)")
        chosen[name] = values
    seed_list = [limits.parse(v, "seeds", True) for v in str(seeds).split(",", MAX_VALUES)
                 if v.strip()][:MAX_VALUES]
    return build_grid(experiment, chosen, seed_list or seeds, max_tasks=PAGE_MAX_TASKS)


def folder(grid: Grid) -> Path:
    return cache_root() / f"{grid.experiment}-{grid.signature()}"


def cached(grid: Grid) -> pd.DataFrame | None:
    """The records of a finished run of exactly this grid (and code version), if any."""
    out = folder(grid) / "results.csv"
    side = sidecar_path(out)
    if not (out.exists() and side.exists()):
        return None
    if len(side.read_text(encoding="utf-8").splitlines()) != grid.n_tasks:
        return None
    return pd.read_csv(out, keep_default_na=False, na_values=[""])


@dataclass
class Job:
    """One sweep child process; its files live in ``folder``."""

    grid: Grid
    backend: str
    workers: int
    folder: Path
    proc: subprocess.Popen
    started: float = field(default_factory=time.time)
    cancelled: bool = False

    def progress(self) -> dict:
        side = sidecar_path(self.folder / "results.csv")
        done = len(side.read_text(encoding="utf-8").splitlines()) if side.exists() else 0
        rc = self.proc.poll()
        elapsed = time.time() - self.started
        eta = elapsed / done * (self.grid.n_tasks - done) if done and rc is None else None
        return {"done": min(done, self.grid.n_tasks), "total": self.grid.n_tasks,
                "running": rc is None, "rc": rc, "elapsed": elapsed, "eta": eta}

    def cancel(self) -> None:
        if self.proc.poll() is None:
            self.cancelled = True
            self.proc.send_signal(signal.SIGINT)     # the CLI stops its workers and saves



_LOCK = threading.Lock()
_JOBS: dict[str, Job] = {}


def running() -> list[Job]:
    """The sweeps still running; a finished one leaves its exit code in status.json."""
    with _LOCK:
        for sig in [s for s, j in _JOBS.items() if j.proc.poll() is not None]:
            job = _JOBS.pop(sig)
            (job.folder / "status.json").write_text(json.dumps({"rc": job.proc.returncode}))
        return list(_JOBS.values())


def job(grid: Grid) -> Job | None:
    running()
    return _JOBS.get(grid.signature())


def start(grid: Grid, backend: str = "local", workers: int | None = None) -> Job:
    """Start (or join) the sweep of ``grid``; refuses while MAX_RUNNING others run."""
    workers = cpu_count() if workers is None else int(workers)
    if not 1 <= workers <= cpu_count():
        raise ValueError(f"workers must be in [1, {cpu_count()}], got {workers}")
    if backend not in ("local", "ray"):
        raise ValueError(f"backend must be 'local' or 'ray', got {backend!r}")
    sig = grid.signature()
    active = running()
    with _LOCK:
        if sig in _JOBS:
            return _JOBS[sig]
        if len(active) >= MAX_RUNNING:
            raise ValueError(f"{len(active)} sweep(s) already running on this server (at most "
                             f"{MAX_RUNNING}); try again when it finishes")
        _prune(keep=sig)
        path = folder(grid)
        path.mkdir(parents=True, exist_ok=True)
        (path / "grid.json").write_text(json.dumps({"args": grid.cli_args()}))
        cmd = [sys.executable, "-m", "nuonuo_core.sweep", *grid.cli_args(), "--backend",
               backend, "--workers", str(workers), "--out", str(path / "results.csv")]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_USAGE_STATS_ENABLED": "0"}
        with open(path / "log.txt", "w", encoding="utf-8") as log:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=log,
                                    stdin=subprocess.DEVNULL)
        _JOBS[sig] = Job(grid, backend, workers, path, proc)
        return _JOBS[sig]


def _prune(keep: str) -> None:
    root = cache_root()
    if not root.is_dir():
        return
    dirs = sorted((d for d in root.iterdir() if d.is_dir() and not d.name.endswith(keep)),
                  key=lambda d: d.stat().st_mtime)
    for d in dirs[:max(0, len(dirs) - MAX_CACHED + 1)]:
        shutil.rmtree(d, ignore_errors=True)


def fmt_seconds(s: float | None) -> str:
    if s is None or not math.isfinite(s):
        return "…"
    return f"{s:.0f} s" if s < 90 else f"{s / 60:.1f} min"


# Form defaults: a quick, meaningful first sweep for experiments that have one. The noise
# sweep answers "how does recall degrade with cue noise for Hopfield vs Hebbian at D 4096 vs
# 16384, with error bars?" (2 x 5 x 3 seeds = 30 tasks of about a second each).
START = {"noise": {"n_memories": "300", "n_queries": "100"}}
DEFAULT_VARY = {"noise": {"code_dim": "4096,16384", "noise_stds": "0.0,0.05,0.1,0.15,0.2"}}
DEFAULT_SEEDS = "0,1,2"     # at least 3 seeds: an interval worth reading


def start_value(experiment: str, p: Param) -> str:
    """A parameter's first value in the form when it is not varied: a list the experiment
    splits into tasks (noise_stds) starts at its first value, since a comma list there would
    make it a varied parameter."""
    value = START.get(experiment, {}).get(p.name, p.default)
    return value.split(",")[0].strip() if p.is_tuple and p.axis else value


def vary_value(experiment: str, p: Param) -> str:
    return DEFAULT_VARY.get(experiment, {}).get(p.name, p.default)


def results(grid: Grid) -> tuple[pd.DataFrame | None, bool]:
    """(records so far or None, whether every task finished): partial after a cancel."""
    full = cached(grid)
    if full is not None:
        return full, True
    out = folder(grid) / "results.csv"
    if not out.exists():
        return None, False
    df = pd.read_csv(out, keep_default_na=False, na_values=[""])
    return (df if len(df) else None), False


def failures(grid: Grid, n: int = 8) -> list[str]:
    """The last run's failed tasks and errors, from its log (empty while it runs)."""
    log = folder(grid) / "log.txt"
    if job(grid) is not None or not log.exists():
        return []
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    out = [line[:300] for line in lines if line.startswith(("task ", "error"))][-n:]
    try:
        rc = json.loads((folder(grid) / "status.json").read_text())["rc"]
    except (OSError, ValueError, KeyError, TypeError):
        rc = None
    if rc not in (None, 0, 1, 2, 130):
        last = lines[-1][:300] if lines else ""
        out.append(f"the sweep stopped unexpectedly (exit code {rc}): {last}")
    return out
