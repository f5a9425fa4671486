"""Run torch's small query kernels on one thread.

On a 2-core laptop torch's two-thread kernels stall whenever the other core is busy (a
tenfold slow-down was measured here) and single queries are too small to gain from them.
numpy's BLAS keeps its threads: its matrix-vector product (the stage-1 scan, the projection)
measured 5× faster on two threads than on one on an idle machine.
Nested and concurrent users are counted so the first entrant's settings come back last.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

import torch

_lock = threading.Lock()
_depth = 0
_saved: int | None = None


@contextmanager
def single_thread(enabled: bool = True):
    """Limit torch to one thread inside the block (no-op when not ``enabled``)."""
    global _depth, _saved
    if not enabled:
        yield
        return
    with _lock:
        if _depth == 0:
            _saved = torch.get_num_threads()
            torch.set_num_threads(1)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                torch.set_num_threads(_saved)
                _saved = None
