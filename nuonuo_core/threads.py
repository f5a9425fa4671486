"""How many threads the engine's kernels use: one, in the calling thread only, unless the
work is large. Fast without being told, and nothing global changes behind the caller's back.

A library user sets no thread limits, and the machine's other core is often busy (a
browser, a second student, a sweep). Then every small parallel kernel waits for a thread
that the scheduler gives to the busy process: measured beside one spinning process on 2
cores, a 20K × 384 matrix-vector product took 25 ms with numpy's two BLAS threads and 1.1 ms
on one; the 250-memory night player 46 s with default threads against 5 s on one.

So the engine's public calls run inside :func:`engine_threads`: the OpenMP runtimes of torch
(its kernels and its MKL products) and of faiss get one thread *for the calling thread only*
(``omp_set_num_threads`` sets the calling thread's ICV, per the OpenMP specification), and
the previous value is put back when the call returns. Other threads of the caller, threads it
starts later and every global setting (``torch.set_num_threads``, numpy's BLAS pool, the
environment) are untouched. Work that is large enough to gain from threads
(:data:`LARGE_WORK` multiply-adds) gets the caller's own thread count back: a large scan runs
inside :func:`caller_threads`, and chunked work (the projection and k-WTA of an add) runs on a
pool of that many Python threads, each with one OpenMP thread (:func:`map_chunks`).

numpy's BLAS (OpenBLAS) has only a process-wide thread count (``openblas_set_num_threads``
and threadpoolctl change it for every thread), so the engine's products of any size go
through torch, whose MKL honours the per-thread setting; numpy does what has no BLAS in it
(sorting, counting, searching), which is single-threaded anyway.
"""
from __future__ import annotations

import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator, TypeVar, cast

import torch

F = TypeVar("F", bound=Callable[..., Any])

#: multiply-adds from which a product runs with the caller's threads (~2.4e8 is a 20K × 384
#: scan by 32 queries; the projection of 256 memories is 1.6e9)
LARGE_WORK = 1 << 30

_lock = threading.Lock()
_runtimes: list[tuple[Any, Any]] | None = None   # (omp_get_max_threads, omp_set_num_threads)
_local = threading.local()


def _find_runtimes() -> list[tuple[Any, Any]]:
    """The OpenMP runtimes loaded in this process (torch's libgomp, faiss's own copy):
    their get/set functions, found once (threadpoolctl lists the loaded libraries)."""
    global _runtimes
    with _lock:
        if _runtimes is None:
            found: list[tuple[Any, Any]] = []
            try:
                import faiss  # noqa: F401  (loads faiss's runtime so that it is found too)
            except ImportError:  # pragma: no cover - faiss is a dependency
                pass
            try:
                from threadpoolctl import ThreadpoolController

                for lib in ThreadpoolController().select(user_api="openmp").lib_controllers:
                    dyn = getattr(lib, "dynlib", None)
                    if dyn is not None and hasattr(dyn, "omp_set_num_threads"):
                        found.append((dyn.omp_get_max_threads, dyn.omp_set_num_threads))
            except Exception:  # pragma: no cover - no threadpoolctl: threads stay as they are
                found = []
            _runtimes = found
        return _runtimes


def _stack() -> list[list[int]]:
    s = getattr(_local, "saved", None)
    if s is None:
        s = _local.saved = []
    return s


@contextmanager
def engine_threads() -> Iterator[None]:
    """Run the block with one OpenMP thread in the calling thread (torch and faiss kernels,
    torch's MKL products); the caller's values come back afterwards. Nests."""
    runtimes = _find_runtimes()
    caller = torch.get_num_threads()  # also sets this thread's runtime up (first use): now
    before = [get() for get, _ in runtimes]
    stack = _stack()
    if not stack:
        _local.caller = caller
    stack.append(before)
    for _, set_ in runtimes:
        set_(1)
    try:
        yield
    finally:
        stack.pop()
        for (_, set_), n in zip(runtimes, before):
            set_(n)


@contextmanager
def caller_threads() -> Iterator[None]:
    """Inside :func:`engine_threads`: the caller's own thread counts for this block (large
    products); outside it, nothing changes."""
    stack = _stack()
    if not stack:
        yield
        return
    runtimes = _find_runtimes()
    outer = stack[0]
    for (_, set_), n in zip(runtimes, outer):
        set_(n)
    try:
        yield
    finally:
        for _, set_ in runtimes:
            set_(1)


def caller_thread_count() -> int:
    """The threads the caller gives to large work: its torch thread count (which follows
    ``torch.set_num_threads`` and ``OMP_NUM_THREADS``), read before the engine's one-thread
    block began; outside that block, the current count."""
    if _stack():
        return max(1, int(getattr(_local, "caller", 1)))
    return max(1, torch.get_num_threads())


def chunk_workers(items: int, work: int, limit: int | None = None) -> int:
    """How many threads :func:`map_chunks` uses for ``items`` items of ``work`` multiply-adds
    in all: 1 below ``2 ×`` :data:`LARGE_WORK`, else the caller's thread count, never more
    than there are items or than ``limit`` (e.g. what a memory budget allows)."""
    if work < 2 * LARGE_WORK:
        return 1
    return max(1, min(caller_thread_count(), items, items if limit is None else limit))


def map_chunks(func: Callable[[Any], Any], items: Iterable[Any], work: int,
               limit: int | None = None) -> list:
    """``[func(item) for item in items]``, on the caller's threads when ``work`` (multiply-adds
    in all) reaches ``2 ×`` :data:`LARGE_WORK`: a pool of :func:`caller_thread_count` Python
    threads, each running whole items with one OpenMP thread (:func:`engine_threads`), results
    in order, the first error raised. Each worker does an item's product *and* what follows
    it (k-WTA), so beside a busy core no thread waits at a barrier for a descheduled partner
    (numpy's two BLAS threads did, and spun on after each call while the one-thread k-WTA
    ran: adding 100K memories took 2× its projection; with a worker per thread it takes
    about the projection's time). Small work, or a caller limited to one thread: in order,
    in the calling thread. The process's thread settings are not touched; the pool's threads
    end with the call."""
    items = list(items)
    workers = chunk_workers(len(items), work, limit)
    if workers <= 1:
        return [func(item) for item in items]

    def run(item: Any) -> Any:
        with engine_threads():
            return func(item)

    with ThreadPoolExecutor(workers, thread_name_prefix="nuonuo") as pool:
        return list(pool.map(run, items))


def one_thread(func: F) -> F:
    """Decorator form of :func:`engine_threads`."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with engine_threads():
            return func(*args, **kwargs)
    return cast(F, wrapper)
