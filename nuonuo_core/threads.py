"""Run small query kernels on one thread.

On a 2-core laptop a two-thread kernel stalls whenever the other core is busy (a tenfold
slow-down was measured here); single queries are too small to gain from two threads anyway.
Nested and concurrent users are counted so the first entrant's settings come back last.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

import torch

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, object] | None = None


def _blas_controller():
    try:
        from threadpoolctl import ThreadpoolController
        return ThreadpoolController()
    except Exception:  # pragma: no cover - threadpoolctl missing or unable to inspect
        return None


_CONTROLLER = _blas_controller()


@contextmanager
def single_thread(enabled: bool = True):
    """Limit torch and BLAS to one thread inside the block (no-op when not ``enabled``)."""
    global _depth, _saved
    if not enabled:
        yield
        return
    with _lock:
        if _depth == 0:
            limit = _CONTROLLER.limit(limits=1, user_api="blas") if _CONTROLLER else None
            _saved = (torch.get_num_threads(), limit)
            torch.set_num_threads(1)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                threads, limit = _saved
                torch.set_num_threads(threads)
                if limit is not None:
                    limit.restore_original_limits()
                _saved = None
