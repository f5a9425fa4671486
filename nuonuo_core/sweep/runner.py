"""Run a Grid on a backend: stream results as tasks finish, retry a failed task once, report
it if it fails again (the others still finish and are written), resume from ``out``, and stop
cleanly on cancel (an Event) or Ctrl-C."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import pandas as pd

from .backends import check_backend, make_backend
from .grid import Grid, Task
from .output import OutputFile, frame

ATTEMPTS = 2          # a failed task is retried once
POLL_S = 0.2


@dataclass
class Progress:
    """What a progress callback sees after each finished (or failed) task."""

    done: int                 # tasks finished (including resumed ones)
    failed: int
    total: int
    executed: int             # tasks run in this call (resumed ones excluded)
    elapsed_s: float
    eta_s: float | None       # from this call's pace; None until one task finished
    task: Task | None = None
    error: str | None = None  # the last attempt's error when ``task`` failed for good
    retrying: bool = False    # ``task`` failed once and was resubmitted


@dataclass
class SweepResult:
    grid: Grid
    records: pd.DataFrame                  # task order, ``task`` column last
    failed: dict[int, str] = field(default_factory=dict)   # task index -> error text
    executed: int = 0
    resumed: int = 0
    cancelled: bool = False
    wall_s: float = 0.0

    @property
    def complete(self) -> bool:
        return not self.failed and not self.cancelled


def run_sweep(grid: Grid, backend: str = "local", workers: int | None = None,
              address: str | None = None, out=None,
              progress: Callable[[Progress], None] | None = None,
              cancel: threading.Event | None = None) -> SweepResult:
    """Run every task of ``grid`` not already finished in ``out``; see the module doc.

    A KeyboardInterrupt (Ctrl-C) cancels like ``cancel.set()`` and is re-raised after the
    workers are stopped and the output is written.
    """
    t0 = time.perf_counter()
    workers = check_backend(backend, workers, address)   # refuse before writing anything
    tasks = grid.tasks()
    store = OutputFile(out, tasks, grid) if out is not None else None
    results = store.load_done() if store else {}
    resumed = len(results)
    if store:
        store.start(results)                  # OUT now holds exactly the reusable tasks
    todo = [t for t in tasks if t.index not in results]
    failed: dict[int, str] = {}
    attempts: dict[int, int] = {}
    executed, cancelled, interrupted, finished = 0, False, False, False
    run = None

    def report(task=None, error=None, retrying=False):
        if progress is None:
            return
        elapsed = time.perf_counter() - t0
        left = len(tasks) - len(results) - len(failed)
        eta = elapsed / executed * left if executed else None
        progress(Progress(len(results), len(failed), len(tasks), executed, elapsed, eta,
                          task, error, retrying))

    try:
        run = make_backend(backend, grid, workers, address) if todo else None
        pending = list(reversed(todo))         # pop() takes them in task order
        in_flight = 0
        limit = 2 * getattr(run, "workers", 1) + 2 if run else 0
        while pending or in_flight:
            if cancel is not None and cancel.is_set():
                cancelled = True
                break
            while pending and in_flight < limit:
                task = pending.pop()
                attempts[task.index] = attempts.get(task.index, 0) + 1
                run.submit(task)
                in_flight += 1
            for task, records, error in run.wait(POLL_S):
                in_flight -= 1
                if error is None:
                    executed += 1
                    results[task.index] = records
                    if store:
                        store.append(task, records, results)
                    report(task)
                elif attempts[task.index] < ATTEMPTS:
                    pending.append(task)
                    report(task, error, retrying=True)
                else:
                    executed += 1
                    failed[task.index] = error
                    report(task, error)
        finished = not cancelled
    except KeyboardInterrupt:
        cancelled = interrupted = True
    finally:
        if run is not None:
            if not finished:               # cancelled, Ctrl-C, or an error: stop workers
                run.cancel()
            run.close()
        if store:
            store.write_csv(results)
    result = SweepResult(grid, frame(results), failed, executed, resumed, cancelled,
                         time.perf_counter() - t0)
    if interrupted:
        raise SweepInterrupted(result)
    return result


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep; ``.result`` holds what finished (already written)."""

    def __init__(self, result: SweepResult):
        super().__init__("sweep interrupted")
        self.result = result
