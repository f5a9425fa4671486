"""What a closed session leaves behind: one shared projection, a janitor that reaps."""
import gc

from lab.server import janitor
from nuonuo_core import HybridMemory, MemoryConfig
from nuonuo_core.separation import _SHARED


def test_memories_of_one_shape_share_one_projection_freed_with_the_last():
    gc.collect()
    before = len(_SHARED)
    a = HybridMemory(MemoryConfig(code_dim=2048, seed=123, device="cpu"))
    b = HybridMemory(MemoryConfig(code_dim=2048, seed=123, device="cpu"))
    c = HybridMemory(MemoryConfig(code_dim=2048, seed=124, device="cpu"))
    assert a._sep.projection is b._sep.projection
    assert c._sep.projection is not a._sep.projection
    assert len(_SHARED) == before + 2
    del a, b, c
    gc.collect()
    assert len(_SHARED) == before


def test_janitor_is_harmless_outside_a_server_and_starts_once():
    assert janitor.reap_expired() == 0
    janitor.sweep()
    first = janitor.start(period=3600)
    assert janitor.start(period=3600) is False
    assert first in (True, False)      # another test may have started it already


def test_frozen_garbage_is_collected_by_the_janitor_pass():
    """Streamlit's per-rerun gc.collect(2) skips frozen objects (that is the point: it walked
    ~500,000 start-up objects every rerun); a closed session's cycles frozen while it was alive
    must still go at the janitor's next pass.

    A janitor thread started by an earlier test may run a pass at any moment (and, once,
    collected the cycle between this test's steps); here a second janitor runs passes back to
    back the whole time. Holding ``janitor.LOCK`` keeps every other pass out of the sequence,
    so each assert is about this test's own steps."""
    import gc
    import threading
    import weakref

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a                      # a reference cycle
    alive = weakref.ref(a)
    stop, started = threading.Event(), threading.Event()
    passes = []

    def busy():                                  # a janitor that never rests
        started.set()
        while not stop.is_set():
            janitor.sweep()
            passes.append(1)

    other = threading.Thread(target=busy, daemon=True)
    try:
        with janitor.LOCK:
            other.start()
            assert started.wait(30)
            janitor.freeze()
            assert gc.get_freeze_count() > 0
            del a, b
            gc.collect()
            assert alive() is not None           # frozen: the ordinary collection skips it
            janitor.sweep()
            assert alive() is None               # the janitor's pass collects it
            assert gc.get_freeze_count() > 0     # and freezes the survivors again
            assert not passes                    # no other pass ran inside the sequence
    finally:
        stop.set()
        other.join(timeout=60)
        gc.unfreeze()
    assert passes and not other.is_alive()       # the other janitor ran once let in
