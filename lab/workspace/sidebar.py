"""The workspace sidebar: save (asks before overwriting), open, download, upload, start empty
(asks before discarding) and an explicit share link; everything is private to the owner."""
from __future__ import annotations

import streamlit as st

from lab import limits
from lab.ui import HELP, ask, confirmed, count, download, error, plain

from . import files, state


def header_text(mem, name: str) -> str:
    """The sidebar's workspace line (the name is validated: letters, digits, space _ - .)."""
    return (f"**Workspace** `{name}`  \n{count(len(mem))} · day {mem.day} · "
            f"D = {mem.config.code_dim}, k = {mem.config.k}")


def workspace_sidebar() -> None:
    mem = state.memory()
    sb = st.sidebar
    line = sb.empty()     # redrawn in place after a change further down the run

    def redraw() -> None:
        line.markdown(header_text(state.memory(), state.name()))

    st.session_state[state.HEADER_KEY] = redraw
    redraw()
    sb.caption("Autosaved for this browser's link; a reload brings it back.")
    with sb.expander("Save, open, download, upload"):
        _save(mem)
        _open()
        _download(mem)
        _upload()
    with sb.expander("New empty workspace"):
        _new_empty(mem)
    with sb.expander("Share link"):
        _share()


def _save(mem) -> None:
    save_name = st.text_input("Save as", value=state.name(), key="ws_save_name",
                              help="Letters, digits, space, _ - . (max 64). Only you (this "
                                   "browser's link) can see your saved workspaces.")
    if st.button("💾 Save workspace", key="ws_save"):
        try:
            name = files.check_name(save_name)
            if files.exists(name, state.owner()):
                ask("overwrite", name)
            _store(mem, name, overwrite=False)
        except (ValueError, OSError) as exc:
            error(exc)
    name = confirmed("overwrite", lambda n: f"A workspace named '{n}' already exists. "
                                            f"Overwrite it?", yes="Overwrite")
    if name is not None:
        try:
            _store(mem, name, overwrite=True)
        except (ValueError, OSError) as exc:
            error(exc)


def _store(mem, name: str, overwrite: bool) -> None:
    files.save(mem, name, owner=state.owner(), overwrite=overwrite)
    state.set_memory(mem, name)
    state.autosave()            # the page does not rerun after a save: write the name now
    st.success(plain(f"Saved workspace '{name}'."))


def _download(mem) -> None:
    """The workspace file is built on request (it can be MBs) and kept until the next edit."""
    ready = st.session_state.get("ws_file")
    if ready is not None and ready[0] != state.signature(mem):
        st.session_state.pop("ws_file")
        st.session_state.pop("dl_cache_ws_download", None)
        ready = None
    if ready is None:
        try:
            limits.check_file(mem)
        except ValueError as exc:
            error(exc)
            return
        if st.button("📦 Prepare workspace file", key="ws_prepare",
                     help="Packs this workspace into one .nuonuo file to download."):
            st.session_state["ws_file"] = (state.signature(mem),)
            st.rerun()
        return
    download("⬇ Download workspace file", mem.to_bytes, f"{state.name()}.nuonuo",
             "application/octet-stream", "ws_download", ready[0])


def _open() -> None:
    names = files.list_names(state.owner())
    pick = st.selectbox("Saved workspaces", names, index=None, key="ws_pick",
                        placeholder="none saved yet" if not names else "choose one")
    if st.button("📂 Open", key="ws_open", disabled=pick is None):
        try:
            new = files.open_named(pick, state.encoder(), owner=state.owner())
        except (ValueError, OSError) as exc:
            error(exc)
            return
        state.set_memory(new, pick)
        state.flash("success", f"Opened workspace '{pick}' ({count(len(new))}).")
        state.changed()
        st.rerun()


def _upload() -> None:
    up = st.file_uploader("Upload a workspace file (.nuonuo)", type=["nuonuo"],
                          max_upload_size=files.UPLOAD_LIMIT // 2**20, key="ws_upload")
    if st.button("📤 Open uploaded file", key="ws_open_upload", disabled=up is None):
        try:
            new = files.from_bytes(up.getvalue(), state.encoder(),
                                   source=f"uploaded file {up.name[:80]!r}",
                                   limit=files.UPLOAD_LIMIT)
        except (ValueError, OSError) as exc:
            error(exc)
            return
        try:
            stem = files.check_name(up.name.rsplit(".", 1)[0])
        except ValueError:
            stem = "uploaded"
        state.set_memory(new, stem)
        state.flash("success", f"Opened {up.name[:80]} ({count(len(new))}).")
        state.changed()
        st.rerun()


def _new_empty(mem) -> None:
    code_dim = st.selectbox("code_dim D", [16384, 4096, 1024, 256], key="ws_new_dim",
                            help=HELP["code_dim"])
    k = st.number_input("k (winners)", value=state.DEFAULT_K, step=1, key="ws_new_k",
                        help=HELP["k"] + " " + limits.FORMS["k"].help() + " At most D.")
    if st.button("🆕 Start empty workspace", key="ws_new"):
        try:
            k = limits.number("k", k, limits.K_RANGE[0], min(limits.K_RANGE[1], code_dim),
                              integer=True)
        except ValueError as exc:
            error(exc)
            return
        if len(mem):
            ask("discard", (int(code_dim), k))
        _start_empty(int(code_dim), k)
    choice = confirmed("discard", f"This replaces the current workspace ({count(len(mem))}, "
                                  f"autosaved) with an empty one. Save it by name first to "
                                  f"keep it. Discard it?", yes="Discard and start empty")
    if choice is not None:
        _start_empty(*choice)


def _start_empty(code_dim: int, k: int) -> None:
    try:
        state.set_memory(state.new_memory(code_dim, k), "untitled")
    except ValueError as exc:
        error(exc)
        return
    state.flash("success", f"Started an empty workspace (D = {code_dim}, k = {k}).")
    state.changed()
    st.rerun()


def _share() -> None:
    st.caption("Your workspaces live behind this browser's private link.")
    if st.button("🔗 Show my link", key="ws_share"):
        base = (st.context.url or "http://localhost:8501/").split("?")[0]
        st.code(f"{base}?owner={state.owner()}", language="text", wrap_lines=True)
        st.warning("Whoever has this link sees, changes and can delete your workspaces. "
                   "Share it only with people you trust.")
