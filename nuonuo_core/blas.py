"""numpy's BLAS on one thread for small kernels (experiments, teaching views, benchmarks).

The matrix products of the sleep experiments, the pattern-completion kernels and the speed
benchmark are small; on a busy 2-core machine oversubscribed two-thread BLAS made them 5-15x
slower (measured: four sleep_phase runs 33 s vs 2.2 s wall; the capacity chart 4.6 s vs
0.8 s). The limit is process-wide (threadpoolctl has no per-thread limit), so it is counted:
nested and concurrent users share one limit and the last one out restores the original.
torch's thread count is never changed here (``torch.set_num_threads`` is inherited by threads
started later; see docs/engine.md, "Device").
"""
from __future__ import annotations

import functools
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator, TypeVar, cast

F = TypeVar("F", bound=Callable[..., Any])

_lock = threading.Lock()
_depth = 0
_limit: Any = None      # the threadpoolctl limit while anyone holds it


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with numpy's BLAS on one thread (no-op without threadpoolctl)."""
    global _depth, _limit
    with _lock:
        if _depth == 0:
            try:
                from threadpoolctl import threadpool_limits
                _limit = threadpool_limits(1)
            except ImportError:  # pragma: no cover - threadpoolctl is pinned in requirements
                _limit = None
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _limit is not None:
                _limit.restore_original_limits()
                _limit = None


def with_one_blas_thread(func: F) -> F:
    """Decorator form of :func:`one_blas_thread`."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with one_blas_thread():
            return func(*args, **kwargs)
    return cast(F, wrapper)
