"""Once-per-process set-up of the lab's server (``app.py`` runs on every rerun of every page,
so everything here is guarded to happen once).

Threads: sessions run concurrently, so each kernel gets one thread, torch's and numpy's BLAS
alike (``NUONUO_TORCH_THREADS``, default 1, at most 16; 2 suits a one-person lab). Two-thread
kernels spun against each other on a 2-core laptop, and OpenBLAS workers busy-wait after each
call (the night player used 7.9 s of CPU for 4.4 s of wall time). Asking threadpoolctl to
limit the BLAS scans the loaded libraries: ~0.1 s, too slow for every rerun.
"""
from __future__ import annotations

import os
import threading

from . import janitor

MAX_THREADS = 16
_once = threading.Lock()
_done = False


def threads_from_env(value: str | None) -> int:
    """``NUONUO_TORCH_THREADS`` -> threads per kernel: an integer in [1, 16], else 1."""
    value = (value or "1").strip()
    return min(int(value), MAX_THREADS) if value.isdigit() and int(value) > 0 else 1


def start() -> bool:
    """Set the thread limits and start the janitor, once per process; True on the first
    call."""
    global _done
    with _once:
        if _done:
            return False
        import torch
        from threadpoolctl import threadpool_limits

        n = threads_from_env(os.environ.get("NUONUO_TORCH_THREADS"))
        torch.set_num_threads(n)
        threadpool_limits(n)
        janitor.start()
        _done = True
        return True
