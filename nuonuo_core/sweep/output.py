"""The sweep's output: one journal that is the record of finished tasks *and* their results,
and the CSV written from it.

``OUT.sweep.jsonl`` (the journal) holds one line per finished task: its key, experiment,
function, code version, parameters, seed and its records, appended (and fsync'ed) as one
line when the task finishes. One line is one atomic unit: a crash leaves at most a torn last
line, and that task simply reruns. On a rerun every line is checked before any of it is
reused: its key must be the hash of its own (experiment, function, parameters, seed, code
version) (a line whose key was edited or swapped is refused), the key must be a task of this
grid (a file of other results is refused, never overwritten), and every record must carry
the line's experiment and seed. Tasks are matched by key, never by position, so a grown grid
cannot pair one task's rows with another.

``OUT`` (CSV) holds the records plus a ``task`` column (the task's index in grid order). It is
derived: appended as tasks finish (for watching), rewritten from the journal in task order at
the start and the end of every run, so a crash between the two files' updates can leave the
CSV stale but never wrong for long; the journal decides.

Records written before the ``k`` column became ``wta_k`` (and their parameters) are read
under the new names.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..atomic import atomic_write
from ..experiments import canonical_params
from ..experiments.summary import RENAMED
from .grid import Task, task_key

MAX_SIDECAR_BYTES = 256 * 2**20
FORMAT = 2


def sidecar_path(out: Path) -> Path:
    return out.with_name(out.name + ".sweep.jsonl")


def frame(results: dict[int, list[dict]]) -> pd.DataFrame:
    """Records of finished tasks in task order, with the ``task`` column last."""
    rows = [{**r, "task": i} for i in sorted(results) for r in results[i]]
    return pd.DataFrame(rows)


def _plain(value: Any) -> Any:
    """numpy scalars and tuples as JSON values (json.dumps ``default``)."""
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, (tuple, set)):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in a sweep journal")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


class OutputFile:
    """Owner of one sweep's journal and the CSV written from it."""

    def __init__(self, path: str | os.PathLike, tasks: list[Task], grid=None):
        self.path = Path(path)
        self.side = sidecar_path(self.path)
        self.tasks = tasks
        self.grid = grid
        self._columns: list[str] | None = None

    # --- reading --------------------------------------------------------------------------
    def load_done(self) -> dict[int, list[dict]]:
        """Finished tasks of an earlier run with the same output (task index -> records);
        ValueError for a file that is not this sweep's output or whose journal was edited."""
        if not self.side.exists():
            if self.path.exists():
                raise ValueError(f"{self.path} exists and is not a sweep output (no "
                                 f"{self.side.name}); choose another --out or remove it")
            return {}
        if self.side.stat().st_size > MAX_SIDECAR_BYTES:
            raise ValueError(f"{self.side} is larger than {MAX_SIDECAR_BYTES} bytes")
        by_key = {t.key: t for t in self.tasks}
        done: dict[int, list[dict]] = {}
        foreign = 0
        text = self.side.read_text(encoding="utf-8")
        for n, line in enumerate(text.splitlines(), start=1):
            entry = self._parse(line)
            if entry is None:
                continue                       # a torn line: that task reruns
            key = self._check_line(entry, n)
            if key is None:
                continue                       # an older format: that task reruns
            if key not in by_key:
                foreign += 1
                continue
            task = by_key[key]
            if task.index not in done:
                done[task.index] = self._rows(entry, task, n)
        if foreign:
            raise ValueError(
                f"{self.path} holds {foreign} finished task(s) that are not in this sweep "
                "(other parameters, seeds or code version); choose another --out or remove "
                f"{self.path.name} and {self.side.name}")
        return done

    @staticmethod
    def _parse(line: str) -> dict | None:
        try:
            entry = json.loads(line)
        except ValueError:
            return None
        return entry if isinstance(entry, dict) else None

    def _check_line(self, entry: dict, n: int) -> str | None:
        """The key of this grid the line's task has (its parameters under today's names),
        after checking the line's own key against its contents; None for an old format."""
        if entry.get("v") != FORMAT:
            if isinstance(entry.get("key"), str) and entry["key"] not in \
                    {t.key for t in self.tasks}:
                return entry["key"]            # counted as foreign by the caller
            return None
        try:
            exp, func, code = str(entry["experiment"]), str(entry["func"]), str(entry["code"])
            params, seed, key = dict(entry["params"]), int(entry["seed"]), str(entry["key"])
            if not isinstance(entry["rows"], list):
                raise TypeError("rows")
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{self.side}: line {n} is not a sweep task record; remove "
                             f"{self.path.name} and {self.side.name} or choose another "
                             "--out") from None
        if task_key(exp, func, params, seed, code) != key:
            raise ValueError(f"{self.side}: line {n}'s key does not match its experiment, "
                             "parameters and seed (the file was edited or mixed); its results "
                             f"cannot be trusted: remove {self.path.name} and {self.side.name}")
        if self.grid is not None and exp == self.grid.experiment:
            cls = self.grid.config_cls()
            try:
                params = canonical_params(cls, params) if cls is not None else params
            except ValueError:
                return key
            return task_key(exp, func, params, seed, code)
        return key

    def _rows(self, entry: dict, task: Task, n: int) -> list[dict]:
        rows = []
        for row in entry["rows"]:
            if not isinstance(row, dict):
                raise ValueError(f"{self.side}: line {n} holds a record that is not a table "
                                 "row")
            ren = {o: w for o, w in RENAMED.items() if o in row and w not in row}
            row = {ren.get(k, k): v for k, v in row.items()}
            if not (_same(row.get("seed"), task.seed)
                    and row.get("experiment") == entry["experiment"]):
                raise ValueError(f"{self.side}: line {n} holds a record of another task "
                                 f"(seed {row.get('seed')!r}, experiment "
                                 f"{row.get('experiment')!r}); remove {self.path.name} and "
                                 f"{self.side.name}")
            rows.append(row)
        return rows

    # --- writing --------------------------------------------------------------------------
    def _line(self, task: Task, records: list[dict]) -> str:
        g = self.grid
        entry = {"v": FORMAT, "key": task.key, "experiment": g.experiment if g else "",
                 "func": g.func_ref if g else "", "code": g.version if g else "",
                 "params": task.params, "seed": task.seed, "rows": records}
        return json.dumps(entry, default=_plain, allow_nan=True) + "\n"

    def start(self, results: dict[int, list[dict]]) -> None:
        """Before running: the journal keeps exactly the reusable tasks (torn or stale lines
        dropped, one rename), then the CSV is written from it (a second rename; a crash
        between them only leaves a CSV the next start rewrites)."""
        atomic_write(self.side, "".join(self._line(self.tasks[i], results[i])
                                        for i in sorted(results)).encode("utf-8"))
        self.write_csv(results)

    def write_csv(self, results: dict[int, list[dict]]) -> None:
        """Atomically replace OUT with ``results`` in task order."""
        df = frame(results)
        self._columns = list(df.columns) if len(df) else None
        atomic_write(self.path, (df.to_csv(index=False) if len(df) else "task\n")
                     .encode("utf-8"))

    def append(self, task: Task, records: list[dict], results: dict[int, list[dict]]) -> None:
        """Add one finished task (``results`` already holds it): its journal line first (one
        write, fsync'ed), then its rows to the CSV (a task whose columns differ from the
        file's rewrites the CSV)."""
        with open(self.side, "a", encoding="utf-8") as fh:
            fh.write(self._line(task, records))
            fh.flush()
            os.fsync(fh.fileno())
        df = frame({task.index: records})
        if self._columns is None or list(df.columns) != self._columns:
            self.write_csv(results)
            return
        with open(self.path, "a", encoding="utf-8", newline="") as fh:
            fh.write(df.to_csv(index=False, header=False))
            fh.flush()
