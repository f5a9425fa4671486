"""threads.map_chunks (large work on the caller's threads, one OpenMP thread a worker) and
the codes it makes: the same codes as one serial pass over the whole product, in order,
errors raised, and no thread setting changed."""
import threading

import pytest
import torch

from nuonuo_core import threads
from nuonuo_core.functional import kwta_indices
from nuonuo_core.separation import PatternSeparator
from nuonuo_core.threads import LARGE_WORK, engine_threads, map_chunks


def test_map_chunks_keeps_order_and_uses_workers(monkeypatch):
    monkeypatch.setattr(threads, "caller_thread_count", lambda: 3)
    names, counts = set(), set()

    def f(i):
        names.add(threading.current_thread().name)
        counts.add(torch.get_num_threads())
        return i * i

    assert map_chunks(f, range(40), 2 * LARGE_WORK) == [i * i for i in range(40)]
    assert names and all(n.startswith("nuonuo") for n in names)
    assert counts == {1}                              # one OpenMP thread in each worker
    names.clear()
    assert map_chunks(f, range(5), 2 * LARGE_WORK - 1) == [0, 1, 4, 9, 16]   # small: here
    assert names == {threading.current_thread().name}


def test_map_chunks_raises_the_first_error(monkeypatch):
    monkeypatch.setattr(threads, "caller_thread_count", lambda: 2)

    def f(i):
        if i == 7:
            raise ValueError("item 7")
        return i

    with pytest.raises(ValueError, match="item 7"):
        map_chunks(f, range(20), 4 * LARGE_WORK)


def test_caller_thread_count_is_the_callers_not_the_engines():
    before = torch.get_num_threads()
    with engine_threads():
        assert torch.get_num_threads() == 1
        assert threads.caller_thread_count() == before
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_codes_equal_one_serial_pass(monkeypatch, workers):
    monkeypatch.setattr(threads, "caller_thread_count", lambda: workers)
    g = torch.Generator().manual_seed(5)
    x = torch.nn.functional.normalize(torch.randn(700, 384, generator=g), dim=1)
    x[300] = x[10]                                   # a duplicate row
    x[301] = torch.nn.functional.normalize(torch.ones(384), dim=0)
    sep = PatternSeparator(384, 16384, 20, seed=0)
    want = kwta_indices(x @ sep.projection.T, 20).to(torch.int32)
    with engine_threads():
        got = sep.codes(x)
    assert torch.equal(got, want)
    assert torch.equal(got[300], got[10])
    assert torch.equal(sep.codes(x[:1]), want[:1])
    assert torch.equal(sep.codes(x[:300]), want[:300])           # one worker, two chunks
    assert sep.codes(x[:0]).shape == (0, 20)


def test_codes_workers_stay_within_the_buffer_budget(monkeypatch):
    """A machine with 64 threads gets no more workers than BUFFER_BUDGET holds (8 at D 16384),
    and the codes do not change."""
    from nuonuo_core import separation

    monkeypatch.setattr(threads, "caller_thread_count", lambda: 64)
    seen = set()
    real = separation.kwta_indices

    def spy(h, k):
        seen.add(threading.current_thread().name)
        return real(h, k)

    monkeypatch.setattr(separation, "kwta_indices", spy)
    g = torch.Generator().manual_seed(6)
    x = torch.nn.functional.normalize(torch.randn(256 * 12, 384, generator=g), dim=1)
    sep = PatternSeparator(384, 16384, 20, seed=0)
    with engine_threads():
        got = sep.codes(x)
    assert 2 <= len(seen) <= separation.BUFFER_BUDGET // (256 * 16384 * 4) == 8
    assert torch.equal(got, real(x @ sep.projection.T, 20).to(torch.int32))
