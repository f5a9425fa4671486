"""Give a closed browser session's memory back.

Streamlit keeps a disconnected session (its ``st.session_state``: here a workspace, a night
player with two twin memories, sweeps …) for ``server.disconnectedSessionTTL`` seconds so a
brief network blip can resume it. Its store reaps expired sessions only when it is written
to, i.e. when another session connects or closes: after the last visitor leaves, every
closed session stayed in memory for good. One daemon thread per server process reaps expired
sessions every ``PERIOD`` seconds, collects garbage and hands freed heap pages back to the
operating system (glibc ``malloc_trim``), so the server's RSS returns to its resting size.

Garbage collection cost: Streamlit runs a full ``gc.collect(2)`` after every script run
(``runner.postScriptGC``). With torch, transformers, pandas and plotly loaded that walks
~500,000 objects: 0.25-0.5 s of CPU per rerun, under the GIL, for every session, which was
most of a rerun's server time. :func:`freeze` moves everything alive into the permanent
generation, so the per-run collection only walks what the run itself created (microseconds);
the janitor's pass unfreezes, collects everything (cycles from closed sessions included) and
freezes again, so nothing leaks: a full collection happens once per ``PERIOD`` instead of once
per rerun.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import threading

PERIOD = 20.0
_started = threading.Event()
# One pass at a time: the janitor thread's and any other caller's. A caller that needs the
# collector's state to hold still (a test asserting what a pass collects) holds it too.
LOCK = threading.RLock()


def _trim() -> bool:
    """Return free heap pages to the OS (glibc only; elsewhere a no-op)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.malloc_trim(0))
    except (OSError, AttributeError):
        return False


def reap_expired() -> int:
    """Drop disconnected sessions whose reconnect window has passed; returns how many the
    session store held before (0 when not running under a Streamlit server)."""
    try:
        from streamlit import runtime
        if not runtime.exists():
            return 0
        storage = runtime.get_instance()._session_mgr._session_storage
        cache = getattr(storage, "_cache", None)
    except (AttributeError, RuntimeError, ImportError):
        return 0
    held = len(storage.list()) if hasattr(storage, "list") else 0
    if hasattr(cache, "expire"):
        cache.expire()
    return held


def freeze() -> None:
    """Collect now, then move every surviving object to the permanent generation (what is
    alive after start-up is the code and the shared model: walking it each rerun is waste)."""
    gc.collect()
    gc.freeze()


def sweep() -> None:
    """One pass: reap expired sessions, collect every generation (frozen objects included:
    a closed session may have been frozen while alive), trim the heap, freeze again. Passes
    are serialised by :data:`LOCK`."""
    with LOCK:
        reap_expired()
        gc.unfreeze()
        freeze()
        _trim()


def start(period: float = PERIOD) -> bool:
    """Start the janitor thread once per process; True if this call started it."""
    if _started.is_set():
        return False
    _started.set()

    def loop():
        while True:
            threading.Event().wait(period)
            try:
                sweep()
            except Exception:  # noqa: BLE001 - the janitor must never take the server down
                pass

    threading.Thread(target=loop, name="nuonuo-janitor", daemon=True).start()
    return True
