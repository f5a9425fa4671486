"""The sweep's output: records appended to ``OUT`` as tasks finish, a sidecar that makes a rerun
resume, and a final atomic rewrite in task order.

``OUT`` (CSV) holds the records plus a ``task`` column (the task's index in grid order).
``OUT.sweep.jsonl`` holds one line per finished task, ``{"task", "key", "rows"}``, written
after that task's rows are flushed, so a line always means "these rows are complete". A key
hashes (experiment, parameters, seed, code version): a rerun reuses exactly the tasks whose
keys it still has and runs the rest. A file that holds other results is never overwritten.
"""
from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pandas as pd

from ..atomic import atomic_write
from .grid import Task

MAX_SIDECAR_BYTES = 64 * 2**20


def sidecar_path(out: Path) -> Path:
    return out.with_name(out.name + ".sweep.jsonl")


def _atomic_write(path: Path, text: str) -> None:
    atomic_write(path, text.encode("utf-8"))


def frame(results: dict[int, list[dict]]) -> pd.DataFrame:
    """Records of finished tasks in task order, with the ``task`` column last."""
    rows = [{**r, "task": i} for i in sorted(results) for r in results[i]]
    return pd.DataFrame(rows)


class OutputFile:
    """Owner of one sweep's output CSV and its sidecar."""

    def __init__(self, path: str | os.PathLike, tasks: list[Task]):
        self.path = Path(path)
        self.side = sidecar_path(self.path)
        self.tasks = tasks
        self._columns: list[str] | None = None

    def load_done(self) -> dict[int, list[dict]]:
        """Finished tasks of an earlier run with the same output (task index -> records)."""
        if not self.path.exists():
            if self.side.exists():
                self.side.unlink()       # a sidecar without its CSV describes nothing
            return {}
        if not self.side.exists():
            raise ValueError(f"{self.path} exists and is not a sweep output (no "
                             f"{self.side.name}); choose another --out or remove it")
        if self.side.stat().st_size > MAX_SIDECAR_BYTES:
            raise ValueError(f"{self.side} is larger than {MAX_SIDECAR_BYTES} bytes")
        entries = {}
        for line in self.side.read_text(encoding="utf-8").splitlines():
            try:
                e = json.loads(line)
                entries[int(e["task"])] = (str(e["key"]), int(e["rows"]))
            except (ValueError, KeyError, TypeError):
                continue                 # a torn last line: that task simply reruns
        by_key = {t.key: t.index for t in self.tasks}
        foreign = [k for k, _ in entries.values() if k not in by_key]
        if foreign:
            raise ValueError(
                f"{self.path} holds {len(foreign)} finished task(s) that are not in this sweep "
                "(other parameters, seeds or code version); choose another --out or remove "
                f"{self.path.name} and {self.side.name}")
        old = self._read_rows({i for i in entries})
        done = {}
        for i, (key, n) in entries.items():
            rows = old.get(i, [])
            if len(rows) == n:
                done[by_key[key]] = rows
        return done

    def _read_rows(self, wanted: set[int]) -> dict[int, list[dict]]:
        text = self.path.read_text(encoding="utf-8")
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if not header or "task" not in header:
            raise ValueError(f"{self.path} has no 'task' column; not a sweep output")
        col = header.index("task")
        keep = io.StringIO()
        w = csv.writer(keep, lineterminator="\n")
        w.writerow(header)
        for row in reader:      # complete rows of wanted tasks only (a torn row is dropped)
            if len(row) == len(header) and row[col].isdigit() and int(row[col]) in wanted:
                w.writerow(row)
        df = pd.read_csv(io.StringIO(keep.getvalue()), keep_default_na=False,
                         na_values=[""])
        out: dict[int, list[dict]] = {}
        for rec in df.to_dict("records"):
            out.setdefault(int(rec.pop("task")), []).append(rec)
        return out

    def write_all(self, results: dict[int, list[dict]]) -> None:
        """Atomically replace OUT and its sidecar with ``results`` in task order."""
        df = frame(results)
        self._columns = list(df.columns) if len(df) else None
        _atomic_write(self.path, df.to_csv(index=False) if len(df) else "task\n")
        lines = [json.dumps({"task": i, "key": self.tasks[i].key, "rows": len(results[i])})
                 for i in sorted(results)]
        _atomic_write(self.side, "".join(line + "\n" for line in lines))

    def append(self, task: Task, records: list[dict], results: dict[int, list[dict]]) -> None:
        """Add one finished task (``results`` already holds it): append its rows, then its
        sidecar line; a task whose columns differ from the file's rewrites the file."""
        df = frame({task.index: records})
        if self._columns is None or list(df.columns) != self._columns:
            self.write_all(results)
            return
        with open(self.path, "a", encoding="utf-8", newline="") as fh:
            fh.write(df.to_csv(index=False, header=False))
            fh.flush()
            os.fsync(fh.fileno())
        with open(self.side, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"task": task.index, "key": task.key,
                                 "rows": len(records)}) + "\n")
            fh.flush()
