"""Per-session state: each browser session owns one workspace (a HybridMemory) in
``st.session_state``; only the read-only embedding model is shared (``st.cache_resource``).

Owner: every browser gets a random owner key kept in the URL (``?owner=<key>``), so a reload
or a bookmark comes back to the same private folder ``$NUONUO_WORKSPACES/<key>/``. The
session's workspace is autosaved there (debounced) and restored on the next visit with the key.
"""
from __future__ import annotations

import time

import streamlit as st

from nuonuo_core import HybridMemory, MemoryConfig, get_minilm_encoder

from lab.server import janitor
from lab.ui import plain

from . import demos, files, uistate
from .encoding import KnownTexts

MEM_KEY = "nuonuo_workspace"
NAME_KEY = "nuonuo_workspace_name"
OWNER_KEY = "nuonuo_owner"
FLASH_KEY = "nuonuo_flash"
SAVED_KEY = "nuonuo_autosaved"        # (signature, monotonic time) of the last autosave
UI_KEY = "nuonuo_ui"                  # this session's saved page settings (uistate.SCHEMA)
DEFAULT_CODE_DIM = 16384
DEFAULT_K = 20
AUTOSAVE_SECONDS = 2.0                # at most one autosave per this many seconds per session


@st.cache_resource(show_spinner="Loading the shared embedding model (all-MiniLM-L6-v2)…")
def encoder():
    """The one MiniLM encoder every session shares (thread-safe, read-only), with the demo
    sets' embeddings computed once (lab/workspace/encoding.py). Once it is loaded the
    start-up objects are frozen out of the per-rerun garbage collection
    (lab/server/janitor.py)."""
    enc = KnownTexts(get_minilm_encoder(), demos.texts())
    janitor.freeze()
    return enc


def new_memory(code_dim: int = DEFAULT_CODE_DIM, k: int = DEFAULT_K, seed: int = 0,
               beta: float = 16.0) -> HybridMemory:
    cfg = MemoryConfig(code_dim=int(code_dim), k=int(k), top_k=20, beta=float(beta),
                       seed=int(seed), device="auto")
    return HybridMemory(cfg, encoder=encoder())


def owner() -> str:
    """This browser's owner key: from ``?owner=`` when valid, else a new random one; it is
    written back to the URL on every run so that a reload keeps it."""
    key = st.session_state.get(OWNER_KEY)
    if key is None:
        raw = st.query_params.get("owner")
        if raw is not None:
            try:
                key = files.check_owner(raw)
            except ValueError:
                flash("warning", "The owner key in this link is not valid, so this browser "
                                 "got a new private key (its workspaces start empty).")
        st.session_state[OWNER_KEY] = key = key or files.new_owner()
    if st.query_params.get("owner") != key:
        st.query_params["owner"] = key
    return key


def memory() -> HybridMemory:
    """This session's workspace: the owner's autosave when there is one, else empty."""
    if MEM_KEY not in st.session_state:
        restored = None
        try:
            restored = files.restore(encoder(), owner())
        except (ValueError, OSError) as exc:
            flash("warning", f"The autosaved workspace could not be restored ({exc}); "
                             f"starting empty.")
        mem, label = restored or (new_memory(), "untitled")
        if restored:
            n = len(mem)
            flash("info", f"Restored your autosaved workspace ({n} "
                          f"{'memory' if n == 1 else 'memories'}).")
        set_memory(mem, label)
        st.session_state[SAVED_KEY] = ((signature(mem), label), time.monotonic())
    return st.session_state[MEM_KEY]


def name() -> str:
    memory()
    return st.session_state[NAME_KEY]


def set_memory(mem: HybridMemory, workspace_name: str) -> None:
    st.session_state[MEM_KEY] = mem
    st.session_state[NAME_KEY] = workspace_name
    refresh_sidebar()


HEADER_KEY = "nuonuo_sidebar_header"   # this run's redraw of the sidebar's workspace line


def refresh_sidebar() -> None:
    """Redraw the sidebar's workspace line (name, memories, day) in place, so an edit made
    further down the page (a night slept, a save) shows at once, not one rerun later."""
    redraw = st.session_state.get(HEADER_KEY)
    if redraw is not None and MEM_KEY in st.session_state:
        redraw()


def signature(mem: HybridMemory) -> tuple:
    """Cheap fingerprint that changes with every edit the lab makes (add, delete, sleep,
    recall settings, a new or opened workspace)."""
    ids = mem.ids()
    return (id(mem), len(ids), ids[-1] if ids else -1, sum(ids), mem.day, mem.config)


def autosave(force: bool = True) -> bool:
    """Save the workspace to the owner's autosave slot if it changed since the last save.
    ``force=False`` (right after an edit) skips it when the last save is under
    AUTOSAVE_SECONDS old; the start of the next run (``force=True``) then catches up."""
    mem = st.session_state.get(MEM_KEY)
    if mem is None:
        return False
    sig = (signature(mem), name())          # a rename (save as) is a change too
    last_sig, last_t = st.session_state.get(SAVED_KEY, (None, 0.0))
    now = time.monotonic()
    if sig == last_sig or (not force and now - last_t < AUTOSAVE_SECONDS):
        return False
    try:
        files.autosave(mem, name(), owner())
    except (ValueError, OSError) as exc:
        st.warning(f"Autosave failed: {exc}")
        return False
    st.session_state[SAVED_KEY] = (sig, now)
    return True


def changed() -> None:
    """Call after an edit of the workspace: autosave now unless one just happened; the
    sidebar's workspace line is redrawn."""
    autosave(force=False)
    refresh_sidebar()


def flash(kind: str, message: str) -> None:
    """Queue a message to show after the next rerun (kind: success, info, warning, error)."""
    st.session_state.setdefault(FLASH_KEY, []).append((kind, message))


def show_flash() -> None:
    for kind, message in st.session_state.pop(FLASH_KEY, []):
        getattr(st, kind)(plain(message))   # messages may quote user text: keep it inert


# --- page settings that survive a reload (lab/workspace/uistate.py) -----------------------------
def _ui() -> dict:
    """This session's page settings, read from the owner's file on the session's first run
    (a refused or partly reset file says so and starts from what is valid)."""
    ui = st.session_state.get(UI_KEY)
    if ui is None:
        try:
            ui, reset = uistate.read(owner())
        except (ValueError, OSError) as exc:
            ui, reset = {}, []
            flash("warning", f"Your saved page settings could not be read ({exc}); the pages "
                             f"start from their defaults.")
        if reset:
            flash("warning", "Some saved page settings were not valid and start from their "
                             "defaults: " + ", ".join(sorted(reset)) + ".")
        st.session_state[UI_KEY] = ui
    return ui


def _write_ui(ui: dict) -> None:
    try:
        uistate.write(owner(), ui)
    except (ValueError, OSError) as exc:
        st.warning(plain(f"Your page settings could not be saved: {exc}"))


def ui_sync() -> None:
    """At the start of every run (before any widget): remember the values of the saved
    widgets this session holds now (what the visitor set in the last run), and give back
    those it lost (a fresh session after a reload, or a page left and Streamlit forgot its
    widgets); the owner's file is written when something changed."""
    ui = _ui()
    changed = False
    for key in uistate.WIDGETS:
        if key in st.session_state:
            value = uistate.jsonable(st.session_state[key])
            try:
                value = uistate.SCHEMA[key].check(value)
            except (ValueError, TypeError):
                continue
            if ui.get(key) != value:
                ui[key] = value
                changed = True
        elif key in ui:
            st.session_state[key] = ui[key]
    if changed:
        _write_ui(ui)


def ui_default(key: str, value) -> None:
    """Give a saved widget its default before it is drawn (the widget itself gets no
    ``value=``, so Streamlit never sees two sources for it)."""
    if key not in st.session_state:
        st.session_state[key] = value


def ui_keep_choice(key: str, options) -> None:
    """Forget a saved choice that is not among ``options`` now (a deleted memory, …)."""
    if key in st.session_state and st.session_state[key] not in list(options):
        del st.session_state[key]
        _ui().pop(key, None)


def ui_get(key: str, default=None):
    """A saved setting that is no widget (a plan, drawings, the canvas)."""
    return _ui().get(key, default)


def ui_put(key: str, value) -> None:
    """Save a setting that is no widget now (checked by its schema entry; None forgets it)."""
    ui = _ui()
    if value is None:
        if ui.pop(key, None) is None:
            return
    else:
        value = uistate.SCHEMA[key].check(uistate.jsonable(value))
        if ui.get(key) == value:
            return
        ui[key] = value
    _write_ui(ui)
